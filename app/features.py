"""The window's features, installed once the window is on screen (issue #24's launch).

The window's own parts — canvas, controls, views, menus — are built in its constructor
and shown; the features (step-through, Teach, experiments, Explain, class mode) and
the model load come after the canvas's first paint, or after 200 ms for a window never
shown. So the window is up in a fraction of a second, and torch's import (most of a
second) runs in the model loader while the person already looks at the pad.

:class:`Start` does the waiting; :func:`install` the installing, through the
:class:`~app.host.WindowHost` surface like any feature would be.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

#: The window attributes :func:`install` sets (a script may ask for one before).
FEATURES = ("stepper_panel", "stepper_dock", "teach", "experiments", "explainer",
            "classmode")


def install(window, model: tuple[str, str]) -> None:
    """Ask for ``model`` (name, device), then install every feature on ``window``."""
    from app import classmode, experiments, explain, stepper, teach

    # Building a feature's panel (a top-level widget until it is docked) makes Qt drop
    # the window's activation, or never give it: its keys and shortcuts would go
    # nowhere. It is asked for again once the features are in.
    focus = QApplication.focusWidget()
    window.live.request(*model)  # first: torch imports in the loader meanwhile
    window.stepper_panel, window.stepper_dock = stepper.install(window)
    window.teach = teach.install(window)
    window.experiments = experiments.install(window)
    window.explainer = explain.install(window)
    window.classmode = classmode.install(
        window, collect=lambda drawings: teach.collect(window.teach, drawings))
    if window.isVisible() and QApplication.activeWindow() in (None, window):
        window.activateWindow()
        if focus is not None:
            focus.setFocus()


class Start(QObject):
    """Installs the features on ``window`` after its canvas's first paint (``painted``
    then), or after 200 ms, or when :meth:`now` is called — whichever comes first."""

    painted = Signal()

    def __init__(self, window, model: tuple[str, str]) -> None:
        super().__init__(window)
        self.window, self.model, self.done = window, model, False
        window.canvas.installEventFilter(self)
        QTimer.singleShot(200, self.now)

    def now(self) -> None:
        if not self.done:
            self.done = True
            install(self.window, self.model)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and watched is self.window.canvas:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.now)
            self.painted.emit()
        return False
