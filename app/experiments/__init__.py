"""Drawing experiments: input mode, transforms, invariance sweeps, record and replay.

Each ``install_*`` function adds one feature to a ConvPad main window through its
:class:`~app.host.WindowHost` surface only — ``live`` (the one live model and its
signals), ``canvas``, ``menu``, ``show_notice`` and ``add_panel_dock`` — and returns its
widget. :func:`install` adds all three. The widgets share one
:class:`~app.experiments.state.ExperimentState` (the input mode, and "the drawing has
settled"), kept as a Qt child of the canvas. The input mode is the live loop's
(``Live.input_mode``): every view traces in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMenu

from app.experiments.record_panel import RecordControls, default_folder
from app.experiments.state import ExperimentState, state_for
from app.experiments.sweep_panel import SweepPanel, SweepRunner
from app.experiments.transform_bar import TransformControls, apply_step
from app.host import WindowHost
from engine import ConvPadError
from engine.storage import user_data_folder

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


def _input_size(host: WindowHost) -> int:
    """Input pixels across the live model's input (28 until one is loaded)."""
    model = host.live.model
    return int(model.input_shape[-1]) if model is not None else 28


def _menu(host: WindowHost) -> QMenu:
    return host.menu("E&xperiments", "experiments_menu")


def install_transforms(host: WindowHost) -> TransformControls:
    """The input-mode toggle (I), transforms (Alt+arrows …) and their readout."""
    state = state_for(host)
    controls = TransformControls(host.canvas, state, lambda: _input_size(host))
    controls.refused.connect(host.show_notice)
    state.input_mode_changed.connect(lambda mode: setattr(host.live, "input_mode", mode))
    menu = _menu(host)
    for act in controls.actions_.values():
        menu.addAction(act)
    menu.addSeparator()
    host.add_panel_dock(controls, "Transform the drawing", "dock_transforms")
    return controls


def install_sweeps(host: WindowHost) -> SweepPanel:
    """The sweep panel, recomputed in a worker whenever the drawing settles."""
    state = state_for(host)
    runner = SweepRunner()
    panel = SweepPanel(runner)
    panel.notice.connect(host.show_notice)
    host.live.destroyed.connect(lambda *_: runner.close())

    def again(*_: object) -> None:
        if panel.isVisible():  # a hidden panel costs nothing; it sweeps when shown
            panel.schedule(host.live.model, host.canvas.raster(), state.input_mode)

    def clicked(step: dict) -> None:
        # Centred, the sweep turned the drawing on an unbounded plane: keep all of its
        # ink on the canvas, as the network saw it. As drawn, what leaves the canvas is
        # what the sweep lost too.
        if state.input_mode == "centred" and step.get("op") in ("rotate", "scale"):
            step = {**step, "fit": True}
        try:
            apply_step(host.canvas, step, _input_size(host))
        except ConvPadError as exc:
            host.show_notice(str(exc).capitalize())

    state.settled.connect(again)
    # A sweep still running when the next stroke begins is of the old drawing, and it
    # would share the two cores with the pen: drop it; the stroke's end sweeps anew.
    state.stroke_began.connect(runner.cancel)
    state.input_mode_changed.connect(again)
    host.live.model_changed.connect(again)
    panel.transform_requested.connect(clicked)
    dock = host.add_panel_dock(panel, "Does the answer hold? (sweeps)", "dock_sweeps")
    dock.visibilityChanged.connect(lambda shown: shown and again())
    return panel


def install_recording(host: WindowHost, folder: str | Path | None = None) -> RecordControls:
    """Record (Ctrl+R), open an experiment (Ctrl+Shift+O, PageDown/PageUp) and the
    contact sheet. ``folder`` defaults to a new one under the user data folder."""
    state = state_for(host)
    if folder is None:
        folder = default_folder(user_data_folder() / "experiments")
    controls = RecordControls(host.canvas, state, lambda: host.live.model, Path(folder))
    controls.notice.connect(host.show_notice)
    menu = _menu(host)
    for act in controls.actions_.values():
        menu.addAction(act)
    host.add_panel_dock(controls, "Record and replay", "dock_record")
    return controls


def install(host: WindowHost) -> dict[str, Any]:
    """All of it: ``{"transforms": …, "sweeps": …, "recording": …}``."""
    return {
        "transforms": install_transforms(host),
        "sweeps": install_sweeps(host),
        "recording": install_recording(host),
    }
