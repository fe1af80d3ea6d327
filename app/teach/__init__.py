"""Teach it yourself: draw your own classes, train in seconds, watch the filters learn.

``install(host)`` adds the Teach panel as a dock and a Teach menu through the window's
:class:`~app.host.WindowHost` surface, and wires it to the one live model: a trained
model joins the picker and becomes live, a checkpoint on the slider is shown in every
view, a training asks before the window closes, and PageDown/PageUp step through the
epochs on the stage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from app.host import WindowHost
from app.teach.panel import TeachPanel
from engine import ConvPadError
from engine.storage import user_data_folder

__all__ = ["TeachPanel", "collect", "default_folder", "install"]


def default_folder() -> Path:
    """The user data folder ConvPad keeps data sets and models in (per user, per OS)."""
    return user_data_folder()


def install(host: WindowHost, folder: str | Path | None = None) -> TeachPanel:
    """Add the Teach panel (dock ``teach_dock``) and menu through ``host``; returns it.

    ``folder`` is the user data folder (default :func:`default_folder`); data sets go in
    ``folder/datasets``, trained models in ``folder/models``. A trained model joins the
    picker and becomes live; a checkpoint on the slider becomes live only while the live
    model is the one it is a checkpoint of (``Live.use_model`` refuses any other).
    """
    live = host.live

    def device() -> str:
        return live.wanted[1] if live.wanted else live.device

    panel = TeachPanel(folder or default_folder(), host.canvas, device=device,
                       notify=host.show_notice)
    dock = host.add_panel_dock(panel, "Teach", "teach_dock")
    menu = host.menu("&Teach", "teach_menu")
    menu.addAction(panel.act_add)
    menu.addAction(panel.act_previous_epoch)
    menu.addAction(panel.act_next_epoch)
    menu.addSeparator()
    show = dock.toggleViewAction()
    show.setText("Show the Teach panel")
    menu.addAction(show)
    panel.model_found.connect(host.offer_model)
    panel.model_ready.connect(lambda model: (host.offer_model(model.name, model.spec.title),
                                             live.adopt(model)))
    panel.checkpoint_chosen.connect(live.use_model)
    host.add_close_guard(lambda: not panel.training or (panel.ask_stop() and
                                                        (panel.shutdown() or True)))

    def epochs_on_stage(key) -> bool:
        """PageDown/PageUp step through a training's epochs while Teach is open."""
        if key not in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp) or not panel.scrub.isEnabled():
            return False
        if not (panel.isVisible() or dock.property("open_before_stage")):
            return False
        panel.step_epoch(+1 if key == Qt.Key.Key_PageDown else -1)
        return True

    host.add_presenter_keys(epochs_on_stage)
    return panel


def collect(panel: TeachPanel, drawings: list[tuple[np.ndarray, str | None]]) -> str:
    """Add drawings (canvas rasters, uint8 ink 255 on 0) to the open Teach data set.

    Each goes into the class its label names (made if the set lacks it), or the
    selected class when it has none. Returns one sentence saying what was added and what
    was not (class mode's *Collect for Teach* shows it as a notice).
    """
    if panel.dataset is None:
        return "Open or make a Teach data set first (Teach ▸ Show the Teach panel)."
    added: dict[str, int] = {}
    problems: list[str] = []
    for raster, label in drawings:
        name = label or panel.current_class
        if name is None:
            problems.append("a drawing with no asked class (select a Teach class for it)")
            continue
        try:
            if name not in panel.dataset.classes:
                panel.dataset.add_class(name)
            panel.dataset.add(name, np.asarray(raster, np.float32) / 255.0)
        except ConvPadError as exc:
            problems.append(str(exc))
            continue
        added[name] = added.get(name, 0) + 1
    panel._refresh_classes()
    n = sum(added.values())
    said = (f"Added {n} drawing{'s' if n != 1 else ''} to Teach's {panel.dataset.name!r}: "
            + ", ".join(f"{c} ({k})" for c, k in sorted(added.items())) if n else
            "No drawing was added to Teach")
    return said + (f"; not added: {problems[0]}" + (f" and {len(problems) - 1} more"
                                                   if len(problems) > 1 else "")
                   if problems else "") + "."
