"""Class mode (issue #23): every student's phone draws into the projected ConvPad.

:class:`ClassServer` serves a drawing page on the local network and answers each
drawing with the live model; :func:`load` reads a class's saved drawings back;
:mod:`.address` gives the join URL's QR code. Nothing here imports Qt: the window's
bridge turns ``on_drawing`` calls into signals.

    server = ClassServer(classifier(lambda: window_model), store_dir, on_drawing=cb)
    url = server.start()            # http://192.168.1.20:41234/?k=…
    server.prompt = "draw a 7"
    server.stop()
"""

from importlib import import_module
from typing import Any

# Where each public name lives. Loaded on first use: the server brings aiohttp (0.2 s),
# which a window that never opens its class should not pay for at start-up.
_HOME = {
    "join_url": "address", "lan_address": "address", "qr_png": "address", "qr_svg": "address",
    "Answer": "protocol", "RequestError": "protocol", "answer_from": "protocol",
    "classifier": "protocol", "ClassServer": "server", "Drawing": "store", "Loaded": "store",
    "load": "store",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"app.class_server.{_HOME[name]}"), name)
    raise AttributeError(f"module 'app.class_server' has no attribute {name!r}")


__all__ = [
    "Answer",
    "ClassServer",
    "Drawing",
    "Loaded",
    "RequestError",
    "answer_from",
    "classifier",
    "join_url",
    "lan_address",
    "load",
    "qr_png",
    "qr_svg",
]
