"""The right of the window: the desk's layer panels, the stage, or the stage's step-through.

:class:`ViewStack` shows one of three views of the live model and keeps whichever is
on screen following it: each new model rebuilds what depends on it, each traced frame
updates the visible view only (the dashboard's dozen panels are not re-rendered for
nobody while the stage shows), and a view that comes on screen first draws the latest
frame — so no view ever shows a model or a drawing that is no longer live.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QSizePolicy, QStackedWidget, QWidget

from app.live import Live
from app.panels import PanelDeck
from app.stage import Stage
from app.stepper.panel import StepperPanel

#: While the pen moves, the panels' work comes in slices of at most this many ms, between
#: which the pen's queued events are handled; 0: one panel a slice. One panel a slice,
#: each in the gap before the pen's next move, kept the ink's p95 within 1.2× of its
#: floor at 1080p and 4K, where 2–4 ms slices doubled it (benchmarks/ui_bench.py --ink).
SLICE_MS = float(os.environ.get("CONVPAD_SLICE_MS", "0"))


class ViewStack(QStackedWidget):
    """The deck, the stage and the stage's step-through, following ``live``.

    ``rate(text)``: how many times a second the panels (or the stage) caught up with
    the pen lately, and the network's time per drawing (the window's optional readout;
    :meth:`show_rate` also shows it on the stage, where the pickers are hidden)."""

    rate = Signal(str)

    def __init__(self, live: Live, parent: QWidget | None = None, pen=None) -> None:
        super().__init__(parent)
        self.live = live
        # The pen (the canvas): the views work in the gaps between its moves, after its ink.
        pen_gap = pen.pen_gap_ms if pen is not None else (lambda: float("inf"))
        ink_pending = (lambda: pen.ink_pending) if pen is not None else (lambda: False)
        self.pen_gap = pen_gap
        self.deck = PanelDeck()
        self.deck.pen_gap = pen_gap
        self.deck.ink_pending = ink_pending
        self.deck.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.stage = Stage()
        self.stage.view.pen_gap = pen_gap
        self.stage.view.ink_pending = ink_pending
        self.stage.view.tracing = lambda: live.tracing
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
        self.deck.round_done.connect(
            lambda n: self.rate.emit(f"panels {n:.0f}/s · network {live.trace_ms:.1f} ms"))
        self._rate_on = False
        self.stage.view.caught_up.connect(self._stage_rate)

    def show_rate(self, on: bool) -> None:
        """The update-rate readout on the stage too (View ▸ Show the update rate)."""
        self._rate_on = on
        if not on:
            self.stage.set_rate_text(None)

    def _stage_rate(self, n: float) -> None:
        text = f"stage {n:.0f}/s · network {self.live.trace_ms:.1f} ms"
        self.rate.emit(text)
        if self._rate_on:
            self.stage.set_rate_text(text)

    def _on_model(self, model, probe) -> None:
        self.deck.close_zooms()
        self.deck.show_model(model.name, *probe)
        self.stage_stepper.set_model(model, probe)

    def _on_shown(self, trace, blank: bool) -> None:
        view = self.currentWidget()
        # The pen is moving: ink first (issue #24). With the pen up (a preset, a clear,
        # the end of a stroke) there is no ink to protect: every view updates at once.
        paced = self.live.delivering_async and self.pen_gap() != float("inf")
        if view is self.deck:
            self.deck.show_trace(trace, blank, SLICE_MS if paced else None)
        elif view is self.stage:
            view.set_trace(trace, blank, paced)
        else:
            view.set_trace(trace, blank)

    def show_view(self, view: QWidget) -> None:
        """Put ``view`` on screen, drawing the latest frame on it at once."""
        self.setCurrentWidget(view)
        if self.live.latest is not None:
            self._on_shown(*self.live.latest)
