"""The right of the window: the desk's layer panels, the stage, or the stage's step-through.

:class:`ViewStack` shows one of three views of the live model and keeps whichever is
on screen following it: each new model rebuilds what depends on it, each traced frame
updates the visible view only (the dashboard's dozen panels are not re-rendered for
nobody while the stage shows), and a view that comes on screen first draws the latest
frame — so no view ever shows a model or a drawing that is no longer live.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSizePolicy, QStackedWidget, QWidget

from app.live import Live
from app.panels import PanelDeck
from app.stage import Stage
from app.stepper.panel import StepperPanel


class ViewStack(QStackedWidget):
    """The deck, the stage and the stage's step-through, following ``live``."""

    def __init__(self, live: Live, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.live = live
        self.deck = PanelDeck()
        self.deck.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.stage = Stage()
        self.stage_stepper = StepperPanel(compact=False)
        # Shown full screen only: their projector-sized minimums must not widen the desk
        # window (a stack takes the largest minimum of its pages).
        for full_screen_only in (self.stage, self.stage_stepper):
            full_screen_only.setSizePolicy(QSizePolicy.Policy.Ignored,
                                           QSizePolicy.Policy.Ignored)
            full_screen_only.setMinimumSize(0, 0)
        self.stage_stepper.model_edited.connect(live.use_model)
        for view in (self.deck, self.stage, self.stage_stepper):
            self.addWidget(view)
        live.model_changed.connect(self._on_model)
        live.shown.connect(self._on_shown)

    def _on_model(self, model, probe) -> None:
        self.deck.close_zooms()
        self.deck.show_model(model.name, *probe)
        self.stage_stepper.set_model(model, probe)

    def _on_shown(self, trace, blank: bool) -> None:
        view = self.currentWidget()
        if view is self.deck:
            self.deck.show_trace(trace, blank)
        else:
            view.set_trace(trace, blank)

    def show_view(self, view: QWidget) -> None:
        """Put ``view`` on screen, drawing the latest frame on it at once."""
        self.setCurrentWidget(view)
        if self.live.latest is not None:
            self._on_shown(*self.live.latest)
