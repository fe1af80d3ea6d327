"""The window's features, installed once the window is on screen (issue #24's launch).

The window's own parts — canvas, controls, views, menus — are built in its constructor
and shown; the model load starts after the canvas's first paint (or after 200 ms for a
window never shown), and the features (step-through, Teach, experiments, Explain, class
mode) are installed once the first answer is on screen (or after
:data:`FEATURES_AFTER_MS`). So the window is up in a fraction of a second, torch's
import (most of a second) runs in the model loader while the person already looks at
the pad, and building the features' panels — a third of a second of Python, which
shares one interpreter lock with that import — does not hold up the first answer.
Anything that asks for a feature before (a script, ``--class``) installs them at once.

:class:`Start` does the waiting; :func:`install` the installing, through the
:class:`~app.host.WindowHost` surface like any feature would be.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.panels.page import warm_up

#: The window attributes :func:`install` sets (a script may ask for one before).
FEATURES = ("stepper_panel", "stepper_dock", "teach", "experiments", "explainer",
            "classmode")


#: The longest the features wait for the first answer before they are installed anyway.
FEATURES_AFTER_MS = 3000


def install(window) -> None:
    """Install every feature on ``window``."""
    from app import classmode, experiments, explain, stepper, teach

    # Building a feature's panel (a top-level widget until it is docked) makes Qt drop
    # the window's activation, or never give it: its keys and shortcuts would go
    # nowhere. It is asked for again once the features are in.
    focus = QApplication.focusWidget()
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
    """Asks for the model after the canvas's first paint (``painted`` then) or after
    200 ms, and installs the features once the first trace is shown or after
    :data:`FEATURES_AFTER_MS`; :meth:`now` does whatever is left at once."""

    painted = Signal()

    def __init__(self, window, model: tuple[str, str]) -> None:
        super().__init__(window)
        self.window, self.model = window, model
        self.requested = self.done = False
        window.canvas.installEventFilter(self)
        QTimer.singleShot(200, self.request)

    def request(self) -> None:
        """Ask for the model (torch imports in the loader meanwhile); the features
        follow the first answer."""
        if self.requested:
            return
        self.requested = True
        self.window.live.request(*self.model)
        warm_up()  # the panels' imports beside torch's
        self.window.trace_shown.connect(self._first_trace)
        QTimer.singleShot(FEATURES_AFTER_MS, self, self.now)

    def _first_trace(self) -> None:
        self.window.trace_shown.disconnect(self._first_trace)
        QTimer.singleShot(0, self, self.now)  # after the answer's repaint

    def now(self) -> None:
        self.request()
        if not self.done:
            self.done = True
            install(self.window)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and watched is self.window.canvas:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.request)
            self.painted.emit()
        return False
