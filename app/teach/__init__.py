"""Teach it yourself: draw your own classes, train in seconds, watch the filters learn.

``install(window)`` adds the Teach panel as a dock and a Teach menu, using only the
window's public surface (``menuBar()``, ``add_panel_dock``, ``canvas``, ``live``,
``show_notice``) and an event filter that asks before the window closes mid-training.
The window wires the panel's signals into the live view::

    teach = app.teach.install(window)
    teach.model_ready.connect(...)        # a trained, saved Model: add it to the picker
    teach.checkpoint_chosen.connect(...)  # a Model of one epoch: show it in the panels
    teach.model_found.connect(...)        # (card path, title) saved in a past session
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QStandardPaths

from app.teach.panel import TeachPanel

__all__ = ["TeachPanel", "default_folder", "install"]


def default_folder() -> Path:
    """The user data folder ConvPad keeps data sets and models in (per user, per OS)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".convpad")


class _CloseGuard(QObject):
    """Asks before the window closes while a model trains, then stops it cleanly."""

    def __init__(self, panel: TeachPanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close and self.panel.training:
            if not self.panel.ask_stop():
                event.ignore()
                return True  # the window stays open, training goes on
            self.panel.shutdown()
        return False


def install(window, folder: str | Path | None = None) -> TeachPanel:
    """Add the Teach panel (dock ``teach_dock``) and menu to ``window``; returns the panel.

    ``folder`` is the user data folder (default :func:`default_folder`); data sets go in
    ``folder/datasets``, trained models in ``folder/models``.
    """
    live = window.live

    def device() -> str:
        wanted = getattr(live, "wanted", None)
        return wanted[1] if wanted else getattr(live, "device", "auto")

    panel = TeachPanel(folder or default_folder(), window.canvas, device=device,
                       notify=window.show_notice)
    dock = window.add_panel_dock(panel, "Teach", "teach_dock")
    menu = window.menuBar().addMenu("&Teach")
    menu.setObjectName("teach_menu")
    menu.addAction(panel.act_add)
    menu.addAction(panel.act_previous_epoch)
    menu.addAction(panel.act_next_epoch)
    menu.addSeparator()
    show = dock.toggleViewAction()
    show.setText("Show the Teach panel")
    menu.addAction(show)
    guard = _CloseGuard(panel)
    window.installEventFilter(guard)
    panel.close_guard = guard
    return panel
