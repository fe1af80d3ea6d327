"""ConvPad's window: PySide6 + pyqtgraph on top of ``engine``'s public API.

``create_main_window()`` builds the window (not shown) and starts loading the model in
a background thread; ``run()`` is the whole application, as ``main.py`` starts it.
Importing this package does not import torch.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

__all__ = ["create_main_window", "run"]


def create_main_window(model: str | None = None, device: str = "auto",
                       weights: dict[str, Path] | None = None, input_mode: str | None = None,
                       classes: str | Path | tuple[str, ...] | None = None):
    """The main window, not yet shown; the model loads in the background.

    ``model`` None opens the model used last time (``digits`` the first time).
    ``weights`` maps a model name to a weight file to use instead of the shipped one
    (development and tests). ``input_mode`` is "centred" or "as-drawn" (None: the one
    used last time). Needs a ``QApplication``.
    """
    from app.window import MainWindow

    return MainWindow(model=model, device=device, weights=weights, input_mode=input_mode,
                      classes=classes)


def run(model: str | None = None, device: str = "auto", presentation: bool = False,
        input_mode: str | None = None, class_mode: bool = False, host: str | None = None,
        port: int = 0, classes: str | Path | tuple[str, ...] | None = None) -> int:
    """Create the application, show the window, run it; returns the exit status.

    ``class_mode`` opens the class (issue #23) on ``host``/``port`` (default: this
    machine's LAN address, any free port) before the window shows, and prints the one
    line ``class: URL`` on standard output; a server that cannot listen is one line on
    standard error and exit status 2.

    With ``CONVPAD_STARTUP_T0`` set to a ``time.time()`` taken before launch, it puts the
    lecture's X on the canvas, prints how long the window and the first prediction took
    from that moment, and quits (``benchmarks/ui_bench.py --startup`` uses it).
    """
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    qapp.setApplicationName("ConvPad")
    window = create_main_window(model=model, device=device, input_mode=input_mode,
                                classes=classes)
    if class_mode:
        try:
            url = window.classmode.open(host=host, port=port)
        except OSError as exc:
            print(f"error: cannot open the class on {host or 'this machine'}:{port}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"class: {url}", flush=True)
    t0 = os.environ.get("CONVPAD_STARTUP_T0")
    if t0:
        _time_startup(window, float(t0))
    if presentation or window.remembered.get("presenting"):
        window.set_presentation(True)
    else:
        # Without a window manager (Xvfb, kiosk) showMaximized does nothing: size it first.
        window.resize(qapp.primaryScreen().availableGeometry().size())
        window.showMaximized()
    return qapp.exec()


def _time_startup(window, t0: float) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    shown: dict[str, float] = {}

    def window_up() -> None:
        if "window" in shown:
            return
        shown["window"] = time.time() - t0
        window.load_preset("X (lecture)")

    def first_answer() -> None:
        if "answer" in shown or window.trace is None or "window" not in shown:
            return
        QApplication.processEvents()
        shown["answer"] = time.time() - t0
        print(f"startup: window {shown['window'] * 1000:.0f} ms, "
              f"first prediction {shown['answer'] * 1000:.0f} ms", flush=True)
        QTimer.singleShot(0, QApplication.quit)

    def failed(message: str) -> None:
        print(f"startup: failed: {message}", flush=True)
        QTimer.singleShot(0, lambda: QApplication.exit(1))

    from app.notices import notices

    window.first_painted.connect(window_up)
    window.trace_shown.connect(first_answer)
    notices().message.connect(failed)
    window.live.reverted.connect(
        lambda name, _device: None if name else failed(window.notice.text()))
