"""Explain the vote: which ink made the network say what it says (issue #22).

A feature installed through the :class:`~app.host.WindowHost`, like the others:

- **Explain ▸ Explain the vote (X)** lays a heat map over the drawing: red where ink
  pushed the vote toward the class, blue where it pushed away
  (:func:`engine.explain.explain`, Captum underneath). The map is computed in a
  :class:`~app.workers.Worker` ("latest") once a stroke ends, so no method ever holds
  up the pen; a new stroke drops the running one and takes the stale map off the ink.
- The **Explain panel** (a dock) picks the method and the class ("the answer", or any
  other: "why not 1?"), says what the map shows and how long it took, and for the
  lecture's X/O toy shows the closed-form occlusion (:func:`engine.explain.toy
  .toy_occlusion`) beside Captum's: the two must agree, and a student can check it.
- The stage's **Explain** step, after the answer, shows the same map at the stage's
  sizes; showing that step asks for a map even with the overlay off.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from app.experiments.state import state_for
from app.explain.panel import ExplainPanel
from app.host import WindowHost
from app.workers import Worker
from engine import ConvPadError
from engine.explain import METHODS, explain, heat_rgba

__all__ = ["Explainer", "install"]


def _run(job, model, raster: np.ndarray, method: str, target: int | None, mode: str):
    """The worker's job: one explanation, timed (the panel shows the cost)."""
    start = time.perf_counter()
    e = explain(model, raster, method=method, target=target, input=mode)
    seconds = time.perf_counter() - start
    toy = None
    if e.target is not None:
        from engine.explain import toy_occlusion

        try:  # the lecture's toy, or an edited copy: its exact answer, to set beside
            toy = toy_occlusion(model, e.network_input)
        except ConvPadError:
            toy = None  # not the toy's shape of network
    return e, raster, seconds, toy


class Explainer(QObject):
    """The Explain feature's state and wiring (see the module docstring)."""

    def __init__(self, host: WindowHost) -> None:
        super().__init__(host.canvas)
        self.setObjectName("explainer")
        self.host = host
        self.worker = Worker("convpad-explain", "latest", nice=10)
        host.live.destroyed.connect(lambda *_: self.worker.close())
        host.add_close_guard(lambda: self.worker.close(1.0) or True)
        self.worker.done.connect(self._done)
        self.worker.failed.connect(self._failed)
        self.panel = ExplainPanel()
        self.dock = host.add_panel_dock(self.panel, "Explain the vote", "dock_explain")
        self.latest: Any = None  # the last Explanation shown (tests and the stage read it)
        self._asked = 0
        self._drawing: np.ndarray | None = None  # the raster the running job explains

        self.action = QAction("Explain the vote", host.canvas)
        self.action.setObjectName("act_explain")
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(Qt.Key.Key_X))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setToolTip("Lay a heat map over the drawing: red = ink that pushed the "
                               "vote toward the class, blue = away (X)")
        self.action.toggled.connect(self._toggled)
        menu = host.menu("E&xplain", "explain_menu")
        menu.addAction(self.action)
        menu.addAction(self.dock.toggleViewAction())

        state = state_for(host)
        state.settled.connect(self.refresh)
        state.stroke_began.connect(self._stroke_began)
        state.input_mode_changed.connect(self.refresh)
        host.live.model_changed.connect(self._model_changed)
        self.panel.choice_changed.connect(self.refresh)
        self.dock.visibilityChanged.connect(lambda shown: shown and self.refresh())
        stage = host.stage
        stage.stage_changed.connect(lambda *_: stage.showing_explain and self.refresh())
        if host.live.model is not None:
            self._model_changed(host.live.model, None)

    # ----- what is wanted ---------------------------------------------------------------
    @property
    def on(self) -> bool:
        return self.action.isChecked()

    def wanted(self) -> bool:
        """A map is wanted: the overlay is on, the panel or the stage's step shows."""
        return self.on or self.dock.isVisible() or self.host.stage.showing_explain

    def refresh(self, *_: object) -> None:
        """Explain the drawing now on the canvas, in the worker, if anyone will see it."""
        if not self.wanted():
            return
        model = self.host.live.model
        raster = self.host.canvas.raster()
        if model is None or model.is_blank(raster):
            self.worker.cancel()
            self._show(None, None)
            self.panel.show_blank()
            return
        if self.panel.method not in METHODS:
            return
        self._drawing = raster
        self.panel.show_busy()
        self._asked = self.worker.submit(_run, model, raster, self.panel.method,
                                         self.panel.target, self.host.live.input_mode)

    # ----- events -----------------------------------------------------------------------
    def _toggled(self, on: bool) -> None:
        if on:
            self.refresh()
        else:
            self.host.canvas.set_overlay(None)

    def _stroke_began(self) -> None:
        # The drawing is about to change: a map of it as it was is stale, and a run in
        # progress would share the two cores with the pen.
        self.worker.cancel()
        self._show(None, None)

    def _model_changed(self, model, _probe) -> None:
        self.panel.set_classes(list(model.classes))
        self._show(None, None)
        self.refresh()

    def _done(self, job: int, result) -> None:
        if job != self._asked:
            return  # a newer drawing or choice superseded it
        e, raster, seconds, toy = result
        if not np.array_equal(raster, self.host.canvas.raster()):
            return  # the drawing changed since (an undo between strokes)
        self._show(e, raster)
        self.panel.show_explanation(e, seconds, toy)

    def _failed(self, job: int, message: str) -> None:
        if job == self._asked:
            self._show(None, None)
            self.panel.show_failure(message)
            self.host.show_notice(f"Cannot explain: {message}")

    def _show(self, e, raster) -> None:
        self.latest = e
        self.host.stage.set_explanation(e, raster)
        if e is None or e.target is None or not self.on:
            self.host.canvas.set_overlay(None)
        else:
            self.host.canvas.set_overlay(heat_rgba(e.image_map))


def install(host: WindowHost) -> Explainer:
    """Add Explain (menu, X key, panel, stage step) to the window behind ``host``."""
    return Explainer(host)
