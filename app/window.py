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

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QKeySequence, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import experiments, look, settings, stepper, teach
from app.actions import build_actions
from app.canvas import BRUSH_RANGE, Canvas
from app.commands import Commands
from app.controls import DeskControls
from app.gui_gc import collect_in_gui_thread
from app.live import Live
from app.notices import install_excepthooks, notices
from app.presentation import Presentation
from app.views import ViewStack
from engine import PRESETS, ConvPadError, model_spec


class _FlatToolBar(QToolBar):
    """A toolbar with a plain background: Fusion's gradient cost 1.3 ms per full repaint
    at 1080p (a tenth of the window's paint); a flat fill looks the same on a projector."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        painter.end()


class MainWindow(Commands, QMainWindow):
    """ConvPad's window. ``model_changed(name)`` fires when a model is live."""

    model_changed = Signal(str)
    trace_shown = Signal()
    notice_shown = Signal(str)

    def __init__(self, model: str | None = None, device: str = "auto",
                 weights: dict[str, Path] | None = None, input_mode: str | None = None
                 ) -> None:
        super().__init__()
        self.setObjectName("main_window")
        install_excepthooks()
        collect_in_gui_thread()
        self._close_guards: list = []
        self.remembered, problems = settings.load()
        if model is None:
            model = self.remembered.get("model", "digits")
        self.canvas = Canvas()
        self.live = Live(self.canvas.raster, weights, self)
        self.live.input_mode = input_mode or self.remembered.get("input", "centred")
        self.controls = DeskControls(self.live, self.canvas, model_spec(model).name)
        self.views = ViewStack(self.live)
        self._build_body()
        self.actions_ = build_actions(self)
        self._build_menus_and_toolbar()
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
        # Features install themselves through the WindowHost surface.
        self.stepper_panel, self.stepper_dock = stepper.install(self)
        self.teach = teach.install(self)
        self.experiments = experiments.install(self)
        live.request(model_spec(model).name, device)

    # ===== building ======================================================================
    def _build_body(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        self.setCentralWidget(central)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 6)
        self.notice_bar = QFrame()
        bar = QHBoxLayout(self.notice_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setAutoFillBackground(True)
        pal = self.notice.palette()
        pal.setColor(pal.ColorRole.Window, QColor(look.NOTICE_BG))
        pal.setColor(pal.ColorRole.WindowText, QColor(look.NOTICE_TEXT))
        self.notice.setPalette(pal)
        self.notice.setMargin(6)
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dismiss = QPushButton("Dismiss")
        dismiss.setToolTip("Hide this message")
        dismiss.clicked.connect(self.notice_bar.hide)
        bar.addWidget(self.notice, 1)
        bar.addWidget(dismiss)
        self.notice_bar.hide()
        outer.addWidget(self.notice_bar)
        self.body = QHBoxLayout()
        outer.addLayout(self.body, 1)
        self.body.addWidget(self.controls, 2)
        self.body.addWidget(self.views, 5)

    def _build_menus_and_toolbar(self) -> None:
        act = self.actions_
        stack = self.canvas.undo_stack
        act["act_undo"].setEnabled(stack.canUndo())
        act["act_redo"].setEnabled(stack.canRedo())
        stack.canUndoChanged.connect(act["act_undo"].setEnabled)
        stack.canRedoChanged.connect(act["act_redo"].setEnabled)
        self.controls.clear_button.clicked.connect(act["act_clear"].trigger)
        self.controls.clear_button.setToolTip(act["act_clear"].toolTip())
        self.brush_size = QSpinBox()
        self.brush_size.setObjectName("brush_size")
        self.brush_size.setRange(*BRUSH_RANGE)
        self.brush_size.setSingleStep(4)
        self.brush_size.setValue(self.remembered.get("pen", int(self.canvas.brush)))
        self.canvas.brush = float(self.brush_size.value())
        self.brush_size.setSuffix(" px pen")
        self.brush_size.setToolTip("Pen thickness, in canvas pixels ([ and ] change it)")
        self.brush_size.valueChanged.connect(lambda v: setattr(self.canvas, "brush", float(v)))
        self.brush_size.valueChanged.connect(lambda v: settings.save(pen=v))
        self.preset_actions = []
        for i, name in enumerate(PRESETS, start=1):
            preset = QAction(name, self)
            preset.setObjectName(f"act_preset_{i}")
            preset.setShortcut(QKeySequence(f"Ctrl+{i}"))
            preset.setToolTip(f"Put the lecture's 9×9 {name} on the canvas (Ctrl+{i})")
            preset.triggered.connect(lambda _=False, n=name: self.load_preset(n))
            self.addAction(preset)
            self.preset_actions.append(preset)
        for title, name, names in (
            ("&File", "file_menu", ("act_open", "act_open_model", "act_save_window",
                                    "act_save_panel", "act_quit")),
            ("&Edit", "edit_menu", ("act_undo", "act_redo", "act_clear", "act_eraser",
                                    "act_thinner", "act_thicker")),
            ("&Presets", "presets_menu", ()),
            ("&Compare", "compare_menu", ("act_pin", "act_unpin", "act_compare_diff",
                                          "act_compare_a")),
            ("&View", "view_menu", ("act_present",)),
        ):
            menu = self.menu(title, name)
            for key in names:
                menu.addAction(act[key])
        for preset in self.preset_actions:
            self.menu("&Presets", "presets_menu").addAction(preset)
        self.panels_menu = self.menu("&View", "view_menu").addMenu("Panels")
        self.toolbar = _FlatToolBar("Tools")
        self.toolbar.setObjectName("toolbar")
        self.toolbar.setMovable(False)
        self.addToolBar(self.toolbar)
        for key in ("act_clear", "act_undo", "act_redo", "act_eraser"):
            self.toolbar.addAction(act[key])
        self.toolbar.addWidget(self.brush_size)
        self.toolbar.addSeparator()
        # The three presets behind one button: a row of three long names overflowed
        # the toolbar at 1280×720.
        presets = QToolButton()
        presets.setObjectName("presets_button")
        presets.setText("Lecture pictures")
        presets.setToolTip("The lecture's X, trickier X and O (Ctrl+1…3)")
        presets.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        presets.setMenu(self.menu("&Presets", "presets_menu"))
        self.toolbar.addWidget(presets)
        for key in ("act_open", None, "act_save_window", "act_present"):
            self.toolbar.addAction(act[key]) if key else self.toolbar.addSeparator()

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
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(scroll)
        others = self.docks()
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        if others:
            self.tabifyDockWidget(others[-1], dock)
        dock.hide()  # the dashboard keeps the room until a panel is asked for
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def docks(self) -> list[QDockWidget]:
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
        self.notice.setText(message)
        self.notice_bar.show()
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
    def _on_model(self, model, _probe) -> None:
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
