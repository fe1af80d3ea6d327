"""Drawing experiments: input mode, transforms, invariance sweeps, record and replay.

Each ``install_*`` function adds one feature to a ConvPad main window through its
public surface only — ``window.live`` (the live model and its signals),
``window.canvas``, ``window.menuBar()``, ``window.show_notice`` and
``window.add_panel_dock`` — and returns its widget. :func:`install` adds all three.
The widgets share one :class:`~app.experiments.state.ExperimentState` (the input mode,
and "the drawing has settled"), kept as a Qt child of the window.

The input mode reaches the live trace when ``window.live`` has an ``input_mode``
attribute (``LiveTrace.run_now`` passes it to ``Model.preprocess``); it is set, and a
new trace scheduled, each time the mode changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QMenu

from app.experiments.record_panel import RecordControls, default_folder
from app.experiments.state import ExperimentState, state_for
from app.experiments.sweep_panel import SweepPanel, SweepRunner
from app.experiments.transform_bar import TransformControls, apply_step

__all__ = [
    "ExperimentState",
    "RecordControls",
    "SweepPanel",
    "SweepRunner",
    "TransformControls",
    "install",
    "install_recording",
    "install_sweeps",
    "install_transforms",
]


def _input_size(window: Any) -> int:
    """Input pixels across the live model's input (28 until one is loaded)."""
    model = window.live.model
    return int(model.input_shape[-1]) if model is not None else 28


def _menu(window: Any) -> QMenu:
    menu = window.menuBar().findChild(QMenu, "experiments_menu")
    if menu is None:
        menu = window.menuBar().addMenu("E&xperiments")
        menu.setObjectName("experiments_menu")
    return menu


def _follow_mode(window: Any, mode: str) -> None:
    live = window.live
    if hasattr(live, "input_mode"):
        live.input_mode = mode
        live.schedule()


def install_transforms(window: Any) -> TransformControls:
    """The input-mode toggle (I), transforms (Alt+arrows …) and their readout."""
    state = state_for(window)
    controls = TransformControls(window.canvas, state, lambda: _input_size(window))
    controls.refused.connect(window.show_notice)
    state.input_mode_changed.connect(lambda mode: _follow_mode(window, mode))
    menu = _menu(window)
    for act in controls.actions_.values():
        menu.addAction(act)
    menu.addSeparator()
    window.add_panel_dock(controls, "Transform the drawing", "dock_transforms")
    return controls


def install_sweeps(window: Any) -> SweepPanel:
    """The sweep panel, recomputed in a worker whenever the drawing settles."""
    state = state_for(window)
    runner = SweepRunner(window)
    panel = SweepPanel(runner)
    panel.notice.connect(window.show_notice)
    window.destroyed.connect(lambda *_: runner.close(wait=0))

    def again(*_: object) -> None:
        if panel.isVisible():  # a hidden panel costs nothing; it sweeps when shown
            panel.schedule(window.live.model, window.canvas.raster(), state.input_mode)

    def clicked(step: dict) -> None:
        try:
            apply_step(window.canvas, step, _input_size(window))
        except ValueError as exc:
            window.show_notice(str(exc).capitalize())

    state.settled.connect(again)
    # A sweep still running when the next stroke begins is of the old drawing, and it
    # would share the two cores with the pen: drop it; the stroke's end sweeps anew.
    state.stroke_began.connect(runner.cancel)
    state.input_mode_changed.connect(again)
    window.live.model_changed.connect(again)
    panel.transform_requested.connect(clicked)
    dock = window.add_panel_dock(panel, "Does the answer hold? (sweeps)", "dock_sweeps")
    dock.visibilityChanged.connect(lambda shown: shown and again())
    return panel


def install_recording(window: Any, folder: str | Path | None = None) -> RecordControls:
    """Record (Ctrl+R), open an experiment (Ctrl+Shift+O, PageDown/PageUp) and the
    contact sheet. ``folder`` defaults to a new one under the user data folder."""
    state = state_for(window)
    if folder is None:
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
        folder = default_folder(Path(base) / "experiments")
    controls = RecordControls(window.canvas, state, lambda: window.live.model, Path(folder))
    controls.notice.connect(window.show_notice)
    menu = _menu(window)
    for act in controls.actions_.values():
        menu.addAction(act)
    window.add_panel_dock(controls, "Record and replay", "dock_record")
    return controls


def install(window: Any) -> dict[str, Any]:
    """All of it: ``{"transforms": …, "sweeps": …, "recording": …}``."""
    return {
        "transforms": install_transforms(window),
        "sweeps": install_sweeps(window),
        "recording": install_recording(window),
    }
