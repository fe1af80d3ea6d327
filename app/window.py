"""The main window: it builds the rooms and wires them; it runs nothing and holds no
feature's state (STYLE §15, §19).

- :class:`~app.live.Live` — the one live model, loads, compare A/B, a trace per frame;
- :class:`~app.controls.DeskControls` — pickers, headline, canvas (left);
- :class:`~app.views.ViewStack` — the desk's panels, the stage, the stage's step-through;
- :class:`~app.presentation.Presentation` — F11, presenter keys, blackout;
- :mod:`app.commands` — what each action does; :mod:`app.actions` — the actions table;
- features (step-through, Teach, experiments, class mode) install themselves through
  the :class:`~app.host.WindowHost` surface: ``live``, ``canvas``, ``show_notice``,
  ``add_panel_dock``, ``menu``, ``presenting``.

Data flows one way: the canvas says it changed → ``Live`` traces the newest drawing at
the next frame → the views and the headline show it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from app import gui_gc, settings
from app.actions import build_actions
from app.canvas import Canvas
from app.commands import Commands
from app.controls import DeskControls
from app.dock_scroll import DockScroll
from app.features import FEATURES, Start
from app.gui_gc import collect_in_gui_thread
from app.live import Live
from app.menus import build_menus_and_toolbar
from app.notices import NoticeBar, install_excepthooks, notices
from app.presentation import Presentation
from app.views import ViewStack
from engine import ConvPadError, model_spec


class MainWindow(Commands, QMainWindow):
    """ConvPad's window. ``model_changed(name)`` fires when a model is live."""

    model_changed = Signal(str)
    trace_shown = Signal()
    notice_shown = Signal(str)

    def __init__(self, model: str | None = None, device: str = "auto",
                 weights: dict[str, Path] | None = None, input_mode: str | None = None,
                 classes: str | Path | tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        install_excepthooks()
        collect_in_gui_thread()
        self._close_guards: list = []
        self.remembered, problems = settings.load()
        if model is None:
            model = self.remembered.get("model", "digits")
        self.canvas = Canvas()
        gui_gc.defer_while(self.pen_down)
        self.live = Live(self.canvas.raster, weights, self,
                         {model_spec(model).name: Path(classes) if isinstance(classes, str)
                          else classes} if classes else None,
                         pen=self.canvas)
        self.live.input_mode = input_mode or self.remembered.get("input", "centred")
        self.controls = DeskControls(self.live, self.canvas, model_spec(model).name)
        self.views = ViewStack(self.live, pen=self.canvas)
        self.views.rate.connect(self.controls.rate_label.setText)
        self._build_body()
        self.actions_ = build_actions(self)
        build_menus_and_toolbar(self)
        self.presentation = Presentation(self, self.remembered.get("stage"))
        self.presentation.apply_look()
        notices().message.connect(self.show_notice)
        for problem in problems:
            self.show_notice(f"Settings: {problem}.")

        live = self.live
        live.notice.connect(self.show_notice)
        live.model_changed.connect(self._on_model)
        live.shown.connect(lambda *_: self.trace_shown.emit())
        live.compare_changed.connect(self._on_compare)
        self.canvas.changed.connect(live.schedule)
        self.controls.model_chosen.connect(self.select_model)
        self.controls.device_chosen.connect(self.select_device)
        # The features and the model come after the first paint (app/features.py).
        self.start = Start(self, (model_spec(model).name, device))
        self.first_painted = self.start.painted

    def finish_start(self) -> None:
        """Install the features and ask for the model now, if not yet done."""
        self.start.now()

    def __getattr__(self, name: str):
        # A feature asked for before the first paint (a script, a test): install now.
        if name in FEATURES and "start" in self.__dict__ and not self.start.done:
            self.start.now()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ===== building ======================================================================
    def _build_body(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        self.notice_bar = NoticeBar()
        self.notice = self.notice_bar.label
        outer.addWidget(self.notice_bar)
        self.body = QHBoxLayout()
        outer.addLayout(self.body, 1)
        self.body.addWidget(self.controls, 2)
        self.body.addWidget(self.views, 5)

    # ===== the WindowHost surface (app/host.py) ===========================================
    def menu(self, title: str, name: str) -> QMenu:
        """The menu-bar menu called ``name``, made with ``title`` if it is new."""
        found = self.menuBar().findChild(QMenu, name)
        if found is None:
            found = self.menuBar().addMenu(title)
            found.setObjectName(name)
        return found

    def add_panel_dock(self, widget: QWidget, title: str, name: str) -> QDockWidget:
        """Dock a feature's panel beside the layers, hidden until asked for.

        Docks share one area as tabs and scroll their contents, so opening several never
        grows the window past its screen.
        """
        # As wide as the panel needs (no control is cut off), but never more than a
        # quarter of the screen: the docks open as tabs and scroll, so with the layers
        # beside them (the digits deck needs half of an 800 px screen) any number fits.
        scroll = DockScroll(widget)
        others = self.docks()  # before the new one is made: it is a child at once
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        if others:
            self.tabifyDockWidget(others[-1], dock)
        dock.hide()  # the dashboard keeps the room until a panel is asked for
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def docks(self) -> list[QDockWidget]:
        """Every feature's dock (installing the features now, if not yet done)."""
        self.finish_start()
        return self.findChildren(QDockWidget)

    def offer_model(self, name: str, title: str) -> None:
        """Offer a saved model in the model picker (``name``: its card's path)."""
        self.controls.add_model_entry(name, title)

    def add_close_guard(self, guard) -> None:
        """``guard()`` is asked before the window closes; False keeps it open."""
        self._close_guards.append(guard)

    def add_presenter_keys(self, handler) -> None:
        """``handler(key) -> bool`` is asked first for presenter keys on the stage."""
        self.presentation.add_key_handler(handler)

    def show_notice(self, message: str) -> None:
        """Show a message in the banner above the window (non-modal; the app goes on)."""
        self.notice_bar.show_message(message)
        self.notice_shown.emit(message)

    @property
    def presenting(self) -> bool:
        return self.presentation.on

    # ===== what tests, benchmarks and features read ======================================
    @property
    def model(self):
        """The live engine ``Model`` (None until one has loaded)."""
        return self.live.model

    @property
    def trace(self):
        """The live drawing's last Trace (None for an empty canvas)."""
        last = self.live.last_b
        return None if last is None or last[1] else last[0]

    @property
    def prediction(self) -> QLabel:
        return self.controls.prediction

    @property
    def model_picker(self):
        return self.controls.model_picker

    @property
    def device_picker(self):
        return self.controls.device_picker

    @property
    def clear_button(self):
        return self.controls.clear_button

    @property
    def stage(self):
        return self.views.stage

    @property
    def stage_stepper(self):
        return self.views.stage_stepper

    @property
    def deck(self):
        return self.views.deck

    def action(self, name: str) -> QAction:
        """The window's action called ``name`` (``act_clear``, ``act_pin`` …)."""
        return self.actions_[name]

    def panels(self):
        """The live panels, in data-flow order."""
        return self.deck.panels()

    def panel(self, name: str):
        """The panel called ``name`` (a layer name, or ``conv1.filters``)."""
        return self.deck.panel(name)

    def open_zoom(self, panel_name: str, tile: int):
        return self.deck.open_zoom(panel_name, tile)

    def run_network_now(self) -> None:
        """Trace the latest drawing and update the views now (benchmarks and tests)."""
        self.live.run_now()

    # ===== reactions =====================================================================
    def pen_down(self) -> bool:
        """A stroke is going on: work that can wait (collections, the class) waits.
        (A plain attribute of the pen's clock: safe from any thread, and after the
        window's C++ side is gone.)"""
        return self.canvas.clock.down

    def _settle(self) -> None:
        """Freeze the heap once the window is up (``app.gui_gc``), with the pen up."""
        if self.pen_down():
            QTimer.singleShot(1000, self, self._settle)
        else:
            gui_gc.settle()

    def _on_model(self, model, _probe) -> None:
        if not gui_gc.settled():  # the window is up: freeze what lives as long as it
            QTimer.singleShot(1000, self, self._settle)
        self.setWindowTitle(f"ConvPad — {model.title}")
        settings.save(model=model.name)
        self.model_changed.emit(model.name)

    def _on_compare(self, mode) -> None:
        for name, m in (("act_compare_diff", "diff"), ("act_compare_a", "A")):
            act = self.actions_[name]
            act.blockSignals(True)
            act.setChecked(mode == m)
            act.blockSignals(False)
        self.actions_["act_unpin"].setEnabled(self.live.compare.pinned)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        handle = self.windowHandle()
        if handle is not None and not getattr(self, "_screen_hooked", False):
            # Laptop → projector: type and layout follow the new screen's size and DPR.
            handle.screenChanged.connect(lambda _s: self.presentation.apply_look())
            self._screen_hooked = True
        screen = self.screen() or QApplication.primaryScreen()
        if screen is not None:  # docks and panels never push the window past its screen
            self.setMaximumSize(screen.availableGeometry().size()
                                if not self.presenting else screen.geometry().size())

    def closeEvent(self, event: QCloseEvent) -> None:
        if not all(guard() for guard in self._close_guards):
            event.ignore()  # the window stays open (a training goes on)
            return
        self.presentation.keys.remove()
        self.live.close()
        self.deck.close_zooms()
        super().closeEvent(event)


__all__ = ["ConvPadError", "MainWindow"]
