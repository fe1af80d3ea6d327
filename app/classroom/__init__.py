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

from app.classroom.address import join_url, lan_address, qr_png, qr_svg
from app.classroom.protocol import Answer, RequestError, answer_from, classifier
from app.classroom.server import ClassServer
from app.classroom.store import Drawing, Loaded, load

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
