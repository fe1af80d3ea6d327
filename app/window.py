"""The main window: canvas and pickers on the left, the network's layers on the right.

The window assembles; it does not run things (house style 15). :class:`LiveTrace`
(``app/live.py``) owns the model cache, load requests and the frame throttle and emits
``traced`` once per display frame; :class:`PanelDeck` (``app/panel_deck.py``) holds a
page of layer panels per model; the commands are rows of ``app/actions.py``. Data flows
one way: the canvas says it changed → ``LiveTrace`` traces the newest drawing at the
next frame → the deck and the headline show it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import experiments, settings, stepper, teach, theme
from app.actions import build_actions
from app.canvas import Canvas
from app.errors import install_excepthooks, notices
from app.gui_gc import collect_in_gui_thread
from app.live import LiveTrace
from app.panel_deck import PanelDeck
from app.panels import LayerPanel, ZoomView
from app.presenter import PresenterKeys
from app.stage import Stage
from app.stepper.panel import StepperPanel
from engine import PRESETS, list_models, model_spec

BRUSH_RANGE = (2, 80)


class _FlatToolBar(QToolBar):
    """A toolbar with a plain background.

    Fusion paints the toolbar with a gradient that costs 1.3 ms per full repaint at
    1080p (a tenth of the whole window's paint); a flat fill looks the same on a
    projector and costs nothing.
    """

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        painter.end()


class MainWindow(QMainWindow):
    """ConvPad's window. ``model_changed(name)`` fires when a model is live."""

    model_changed = Signal(str)
    trace_shown = Signal()

    def __init__(self, model: str | None = None, device: str = "auto",
                 weights: dict[str, Path] | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("ConvPad — draw, and watch a ConvNet see")
        install_excepthooks()
        collect_in_gui_thread()
        self.trace = None  # the last Trace shown (None for an empty canvas)
        self._shown: tuple[object, bool] | None = None  # the last (trace, blank) shown
        # Compare A/B: a pinned drawing ("A") and how the views show it beside the live
        # drawing ("B"): None (B alone), "diff" (B − A) or "A" (A alone, to flip to).
        self._pin: np.ndarray | None = None
        self._pin_trace = None
        self.compare: str | None = None
        self._docks_open: list[QDockWidget] = []  # feature panels hidden by the stage
        self.presenting = False
        self._zooms: dict[tuple[str, int], ZoomView] = {}
        self._spare_zooms: list[ZoomView] = []
        self._desk_font = QApplication.font()
        self.remembered = settings.load()
        self._stage_to_restore: int | None = self.remembered.get("stage")
        if model is None:
            model = self.remembered.get("model", "digits")
            try:
                model_spec(model)
            except ValueError:  # a user model since deleted or moved
                model = "digits"

        self._build_widgets(model_spec(model).name)
        self.actions_ = build_actions(self)
        for name, act in self.actions_.items():
            setattr(self, name, act)
        self._build_presets()
        self._build_menus_and_toolbar()
        self._apply_look(theme.DESK)
        notices().message.connect(self.show_notice)

        self.live = LiveTrace(self.canvas.raster, weights, self)
        self.live.model_changed.connect(self._on_model)
        self.live.traced.connect(self._show_trace)
        self.live.loading.connect(self._on_loading)
        self.live.notice.connect(self.show_notice)
        self.live.reverted.connect(self._on_reverted)
        self.live.devices.connect(self._fill_devices)
        self.canvas.changed.connect(self.live.schedule)
        self.presenter = PresenterKeys(self, lambda: self.presenting and self.isVisible())
        # Features install themselves through the window's public surface.
        self.stepper_panel, self.stepper_dock = stepper.install(self)
        self.teach = teach.install(self)
        self.teach.model_found.connect(self.add_model_entry)
        self.teach.model_ready.connect(self.add_model)
        self.teach.checkpoint_chosen.connect(self.live.use_model)
        self.experiments = experiments.install(self)
        self.live.request(model_spec(model).name, device)

    # ===== building ======================================================================
    def _build_widgets(self, model: str) -> None:
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
        pal.setColor(pal.ColorRole.Window, QColor(theme.NOTICE_BG))
        pal.setColor(pal.ColorRole.WindowText, QColor(theme.NOTICE_TEXT))
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

        body = QHBoxLayout()
        outer.addLayout(body, 1)
        self._body = body

        left = QVBoxLayout()
        body.addLayout(left, 2)
        self.pickers = QWidget()
        pickers = QGridLayout(self.pickers)
        pickers.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.pickers)
        self.model_picker = QComboBox()
        self.model_picker.setObjectName("model_picker")
        self.model_picker.setToolTip("Which network looks at the drawing")
        for name in list_models():
            self.model_picker.addItem(f"{name} — {model_spec(name).title}", name)
        if self.model_picker.findData(model) < 0:  # a model the user trained
            self.model_picker.addItem(model_spec(model).title, model)
        self.model_picker.setCurrentIndex(self.model_picker.findData(model))
        self.model_picker.currentIndexChanged.connect(
            lambda i: self.select_model(self.model_picker.itemData(i)))
        self.device_picker = QComboBox()
        self.device_picker.setObjectName("device_picker")
        self.device_picker.setToolTip("Where the network runs (CPU or a GPU)")
        self.device_picker.addItem("cpu — CPU", "cpu")  # always there, whatever else is
        self.device_picker.activated.connect(
            lambda i: self.select_device(self.device_picker.itemData(i)))
        self.device_label = QLabel("device: …")
        self.device_label.setObjectName("device_label")
        pickers.addWidget(QLabel("Model"), 0, 0)
        pickers.addWidget(self.model_picker, 0, 1)
        pickers.addWidget(QLabel("Device"), 1, 0)
        pickers.addWidget(self.device_picker, 1, 1)
        pickers.addWidget(self.device_label, 2, 1)
        pickers.setColumnStretch(1, 1)
        # Long model titles must not widen the left column past its share.
        for picker in (self.model_picker, self.device_picker):
            picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            picker.setMinimumContentsLength(12)

        self.prediction = QLabel("loading model…")
        self.prediction.setObjectName("prediction")
        self.prediction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prediction.setToolTip("The network's answer and how sure it is")
        self.prediction.setMinimumHeight(60)
        left.addWidget(self.prediction)

        self.canvas = Canvas()
        left.addWidget(self.canvas, 1)

        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clear_button")
        left.addWidget(self.clear_button)

        # Right: the desk's dashboard of every layer, or the classroom stage (F11).
        self.deck = PanelDeck()
        self.deck.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.deck.cell_hovered.connect(self.deck.outline_input)
        self.deck.tile_clicked.connect(self.open_zoom)
        self.stage = Stage()
        self.stage.stage_changed.connect(lambda i: settings.save(stage=i))
        # The step-through, full size, for the stage (S); the desk has a docked one.
        self.stage_stepper = StepperPanel(compact=False)
        # It is shown full screen only: its projector-sized minimum must not widen the
        # desk window (a stack takes the largest minimum of its pages).
        for full_screen_only in (self.stage, self.stage_stepper):
            full_screen_only.setSizePolicy(QSizePolicy.Policy.Ignored,
                                           QSizePolicy.Policy.Ignored)
            full_screen_only.setMinimumSize(0, 0)
        self.stage_stepper.model_edited.connect(lambda m: self.live.use_model(m))
        self.right = QStackedWidget()
        self.right.addWidget(self.deck)
        self.right.addWidget(self.stage)
        self.right.addWidget(self.stage_stepper)
        body.addWidget(self.right, 5)

    def _build_presets(self) -> None:
        from PySide6.QtGui import QAction, QKeySequence

        self.preset_actions: list[QAction] = []
        for i, name in enumerate(PRESETS, start=1):
            act = QAction(name, self)
            act.setObjectName(f"act_preset_{i}")
            act.setShortcut(QKeySequence(f"Ctrl+{i}"))
            act.setToolTip(f"Put the lecture's 9×9 {name} on the canvas (Ctrl+{i})")
            act.triggered.connect(lambda _=False, n=name: self.load_preset(n))
            self.addAction(act)
            self.preset_actions.append(act)

    def _build_menus_and_toolbar(self) -> None:
        stack = self.canvas.undo_stack
        self.act_undo.setEnabled(stack.canUndo())
        self.act_redo.setEnabled(stack.canRedo())
        stack.canUndoChanged.connect(self.act_undo.setEnabled)
        stack.canRedoChanged.connect(self.act_redo.setEnabled)
        self.clear_button.clicked.connect(self.act_clear.trigger)
        self.clear_button.setToolTip(self.act_clear.toolTip())

        self.brush_size = QSpinBox()
        self.brush_size.setObjectName("brush_size")
        self.brush_size.setRange(*BRUSH_RANGE)
        self.brush_size.setSingleStep(4)
        self.brush_size.setValue(int(self.canvas.brush))
        self.brush_size.setSuffix(" px pen")
        self.brush_size.setToolTip("Pen thickness, in canvas pixels ([ and ] change it)")
        self.brush_size.valueChanged.connect(lambda v: setattr(self.canvas, "brush", float(v)))
        if "pen" in self.remembered:
            self.brush_size.setValue(self.remembered["pen"])
        self.brush_size.valueChanged.connect(lambda v: settings.save(pen=v))

        menus = self.menuBar()
        m = menus.addMenu("&File")
        for act in (self.act_open, self.act_save_window, self.act_save_panel, self.act_quit):
            m.addAction(act)
        m = menus.addMenu("&Edit")
        for act in (self.act_undo, self.act_redo, self.act_clear, self.act_eraser,
                    self.act_thinner, self.act_thicker):
            m.addAction(act)
        self.presets_menu = menus.addMenu("&Presets")
        for act in self.preset_actions:
            self.presets_menu.addAction(act)
        m = menus.addMenu("&Compare")
        for act in (self.act_pin, self.act_compare_diff, self.act_compare_a):
            m.addAction(act)
        m = menus.addMenu("&View")
        m.addAction(self.act_present)
        self.panels_menu = m.addMenu("Panels")

        self.toolbar = _FlatToolBar("Tools")
        self.toolbar.setObjectName("toolbar")
        self.toolbar.setMovable(False)
        self.addToolBar(self.toolbar)
        for act in (self.act_clear, self.act_undo, self.act_redo, self.act_eraser):
            self.toolbar.addAction(act)
        self.toolbar.addWidget(self.brush_size)
        self.toolbar.addSeparator()
        # The three presets behind one button: a row of three long names overflowed
        # the toolbar at 1280×720.
        presets = QToolButton()
        presets.setObjectName("presets_button")
        presets.setText("Lecture pictures")
        presets.setToolTip("The lecture's X, trickier X and O (Ctrl+1…3)")
        presets.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(presets)
        for act in self.preset_actions:
            menu.addAction(act)
        presets.setMenu(menu)
        self.toolbar.addWidget(presets)
        self.toolbar.addAction(self.act_open)
        self.toolbar.addSeparator()
        for act in (self.act_save_window, self.act_present):
            self.toolbar.addAction(act)

    # ===== models =======================================================================
    @property
    def model(self):
        """The live engine ``Model`` (None until one has loaded)."""
        return self.live.model

    def add_model_entry(self, name: str, title: str) -> None:
        """Offer a model the user trained in the model picker (``name``: its card path)."""
        if self.model_picker.findData(name) < 0:
            self.model_picker.addItem(title, name)

    def add_model(self, model) -> None:
        """A freshly trained model joins the picker and becomes live."""
        self.add_model_entry(model.name, model.spec.title)
        self.live.adopt(model)

    def select_model(self, name: str) -> None:
        """Switch network; the drawing stays and is run through the new one."""
        if name:
            self.live.request(name, self.live.wanted[1] if self.live.wanted else "auto")

    def select_device(self, device: str) -> None:
        """Run the current network on another device (reloads it there)."""
        name = self.model_picker.currentData()
        if device and name:
            self.live.request(name, device)

    def _on_loading(self, name: str, device: str) -> None:
        self.prediction.setText("loading model…")
        self.prediction.setToolTip(f"loading {name} on {device}…")

    def _on_model(self, model, probe) -> None:
        self._close_zooms()
        self._sync_pickers(model.name, self.live.device)
        self.device_label.setText(f"running on: {model.device_name}")
        self.device_label.setToolTip(f"torch device {model.device}")
        self.deck.show_model(model.name, *probe)
        self.stage_stepper.set_model(model, probe)
        settings.save(model=model.name)
        self.model_changed.emit(model.name)

    def _on_reverted(self, name: str, device: str) -> None:
        if not name:
            self.prediction.setText("no model — pick another")
            return
        self._sync_pickers(name, device)
        self._show_answer()

    def _sync_pickers(self, name: str, device: str) -> None:
        with QSignalBlocker(self.model_picker):
            i = self.model_picker.findData(name)
            if i >= 0:
                self.model_picker.setCurrentIndex(i)
        i = self.device_picker.findData(device)
        if i >= 0:
            self.device_picker.setCurrentIndex(i)

    def _fill_devices(self, devices: list) -> None:
        with QSignalBlocker(self.device_picker):
            self.device_picker.clear()
            self.device_picker.addItem("auto (best available)", "auto")
            for dev, human in devices:
                self.device_picker.addItem(f"{dev} — {human}", dev)
            if self.device_picker.findData("cpu") < 0:
                self.device_picker.addItem("cpu — CPU", "cpu")
            want = self.live.wanted[1] if self.live.wanted else "auto"
            self.device_picker.setCurrentIndex(max(self.device_picker.findData(want), 0))

    def panels(self) -> list[LayerPanel]:
        """The live panels, in data-flow order."""
        return self.deck.panels()

    def panel(self, name: str) -> LayerPanel:
        """The panel called ``name`` (a layer name, or ``conv1.filters``)."""
        return self.deck.panel(name)

    # ===== the per-frame path ===========================================================
    def run_network_now(self) -> None:
        """Trace the latest drawing and update the panels now (benchmarks and tests)."""
        self.live.run_now()

    def _show_trace(self, trace, blank: bool) -> None:
        self.trace = None if blank else trace
        trace, blank = self._compared(trace, blank)
        self._shown = (trace, blank)
        # Only the visible view is updated: on the stage, the dashboard's dozen panels
        # would be re-rendered for nobody.
        if self.presenting and self.right.currentWidget() is self.stage_stepper:
            self.stage_stepper.set_trace(trace, blank)
        elif self.presenting:
            self.stage.set_trace(trace, blank)
            if self._stage_to_restore is not None:  # where the teacher stopped last time
                self.stage.go(self._stage_to_restore)
                self._stage_to_restore = None
        else:
            self.deck.show_trace(trace, blank)
        self._show_answer()
        for (pname, tile), view in list(self._zooms.items()):
            self._refresh_zoom(pname, tile, view)
        self.trace_shown.emit()

    def _show_answer(self) -> None:
        t = self.trace
        if self.model is None:
            return
        if t is None:
            self.prediction.setText("")
            self.prediction.setToolTip("Nothing drawn yet: no answer")
            return
        p = float(np.max(t.probabilities))
        text = f"{t.prediction}   {p * 100:.0f}%"
        a = self._pin_trace if self.compare else None
        if a is not None:  # both answers, B (the live drawing) first
            text = f"B: {text}\nA: {a.prediction}   {float(np.max(a.probabilities)) * 100:.0f}%"
        self.prediction.setText(text)
        self.prediction.setToolTip(", ".join(
            f"{c}: {v * 100:.1f}%" for c, v in zip(t.classes, t.probabilities)))

    # ===== compare A/B ==================================================================
    def pin_as_a(self) -> None:
        """Keep the current drawing as "A"; the live drawing is "B" from now on."""
        if self.canvas.is_empty():
            self.show_notice("Draw something first: an empty canvas cannot be pinned as A.")
            return
        self._pin = self.canvas.raster()
        self._pin_trace = self._trace_pin()
        if self.compare is None:
            self.set_compare("diff")
        else:
            self.live.schedule()

    def compare_diff(self, on: bool) -> None:
        self.set_compare("diff" if on else None)

    def compare_a(self, on: bool) -> None:
        self.set_compare("A" if on else None)

    def set_compare(self, mode: str | None) -> None:
        """Show B alone (None), B − A ("diff") or A alone ("A") on every panel and stage."""
        if mode is not None and self._pin is None:
            self.show_notice("Pin a drawing as A first (Experiments ▸ Pin as A).")
            mode = None
        self.compare = mode
        for act, m in ((self.act_compare_diff, "diff"), (self.act_compare_a, "A")):
            with QSignalBlocker(act):
                act.setChecked(mode == m)
        self.live.refresh()

    def _trace_pin(self):
        """A through the live model and input mode (re-done when either changes)."""
        model = self.model
        if self._pin is None or model is None:
            return None
        ink = self._pin.astype(np.float32) / 255.0
        return model.trace(model.preprocess(ink, invert=False, input=self.live.input_mode))

    def _compared(self, trace, blank: bool):
        """What the views show for live ``trace``: B, B − A or A (see :meth:`set_compare`)."""
        if self.compare is None or self._pin is None:
            return trace, blank
        a = self._trace_pin()  # cheap (a millisecond); follows model and input mode
        self._pin_trace = a
        if a is None:
            return trace, blank
        if self.compare == "A":
            return a, False
        if blank:
            return trace, blank
        from engine import difference

        return difference(trace, a), False

    # ===== zoom =========================================================================
    def open_zoom(self, panel_name: str, tile: int) -> ZoomView:
        """Enlarge one tile of a panel, with a colour bar; it stays live.

        Closed views are kept and reused rather than deleted: a pyqtgraph view is
        costly to build, and one per click grew the process by gigabytes in a fuzz.
        """
        key = (panel_name, tile)
        view = self._zooms.get(key)
        if view is None:
            panel = self.panel(panel_name)
            view = self._spare_zooms.pop() if self._spare_zooms else ZoomView("", self)
            view.retitle(panel.tile_title(tile))
            self._zooms[key] = view
            view.finished.connect(lambda _=0, k=key, v=view: self._release_zoom(k, v))
        self._refresh_zoom(panel_name, tile, view)
        view.show()
        view.raise_()
        return view

    def _release_zoom(self, key: tuple[str, int], view: ZoomView) -> None:
        if self._zooms.get(key) is view:
            del self._zooms[key]
        view.finished.disconnect()
        if view not in self._spare_zooms:
            self._spare_zooms.append(view)

    def _refresh_zoom(self, panel_name: str, tile: int, view: ZoomView) -> None:
        panel = self.panel(panel_name)
        values = panel.tile_values(tile)
        if values is not None:
            view.show_values(values, panel.levels())

    def _close_zooms(self) -> None:
        for view in list(self._zooms.values()):
            view.close()

    # ===== commands =====================================================================
    def clear(self) -> None:
        self.canvas.clear()

    def undo(self) -> None:
        self.canvas.undo()

    def redo(self) -> None:
        self.canvas.redo()

    def set_eraser(self, on: bool) -> None:
        self.canvas.eraser = on

    def thinner_pen(self) -> None:
        self.brush_size.stepDown()

    def thicker_pen(self) -> None:
        self.brush_size.stepUp()

    def load_preset(self, name: str) -> None:
        """Paint one of the lecture's 9×9 pictures as blocks (exact for the X/O toy)."""
        self.canvas.set_grid(PRESETS[name])

    def open_image(self, path: str | Path) -> bool:
        """Put an image file on the canvas; a bad file is a notice, the drawing stays."""
        from engine import ImageError, read_image

        try:
            ink = read_image(path)
        except ImageError as exc:
            self.show_notice(f"Could not open the image — {exc}")
            return False
        self.canvas.set_ink(ink)
        return True

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp);;All files (*)")
        if path:
            self.open_image(path)

    def save_window_png(self, path: str | Path) -> bool:
        """Write a picture of the whole window."""
        return self.grab().save(str(path), "PNG")

    def save_panel_png(self, name: str, path: str | Path) -> bool:
        """Write a picture of one panel (see :meth:`panel` for names)."""
        return self.panel(name).save_png(str(path))

    def save_window_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save window", "convpad.png", "PNG (*.png)")
        if path and not self.save_window_png(path):
            self.show_notice(f"Could not write {path}: is the folder writable?")

    def save_panel_dialog(self) -> None:
        names = [p.name for p in self.panels()]
        if not names:
            return
        name, ok = QInputDialog.getItem(self, "Save panel", "Panel:", names, 0, False)
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save panel", f"{name}.png", "PNG (*.png)")
        if path and not self.save_panel_png(name, path):
            self.show_notice(f"Could not write {path}: is the folder writable?")

    def add_panel_dock(self, widget: QWidget, title: str, name: str) -> QDockWidget:
        """Dock a feature's panel (sweeps, teach, step-through) beside the layers.

        Features install themselves through the window's public surface — ``live``
        (models and traces), ``canvas``, ``menuBar()``, ``show_notice`` and this — so
        the window does not grow a method per feature.
        """
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()  # the dashboard keeps the room until a panel is asked for
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def show_notice(self, message: str) -> None:
        """Show a message in the banner above the window (non-modal; the app goes on)."""
        self.notice.setText(message)
        self.notice_bar.show()

    # ===== presentation =================================================================
    def set_presentation(self, on: bool) -> None:
        """The classroom stage, full screen, large type, thick pen — or back to the desk.

        On the stage the network is shown one step at a time (``app/stage``) and the
        presenter keys drive it (``app/presenter.py``); the toolbar, menus and pickers
        make room, and every shortcut keeps working.
        """
        if on == self.presenting:
            return
        self.presenting = on
        settings.save(presenting=on)
        if self.act_present.isChecked() != on:
            self.act_present.setChecked(on)
        self._apply_look(theme.PRESENTATION if on else theme.DESK)
        self.brush_size.setValue(max(self.brush_size.value(), 34) if on else 22)
        for widget in (self.toolbar, self.menuBar(), self.pickers, self.device_label,
                       self.clear_button):
            widget.setVisible(not on)
        # Open feature panels make way for the stage and come back on the desk.
        if on:
            self._docks_open = [d for d in self.findChildren(QDockWidget) if d.isVisible()]
            for dock in self._docks_open:
                dock.hide()
        else:
            for dock in self._docks_open:
                dock.show()
        self._body.setStretch(1, 7 if on else 5)  # the stage takes more of the width
        self.right.setCurrentWidget(self.stage if on else self.deck)
        (self.presenter.install if on else self.presenter.remove)()
        if on:
            self.stage.set_blanked(False)
        if self._shown is not None:
            trace, blank = self._shown
            (self.stage.set_trace if on else self.deck.show_trace)(trace, blank)
        if on:
            # Without a window manager (Xvfb, a kiosk) full screen does not resize: do it.
            screen = self.screen() or QApplication.primaryScreen()
            self.setGeometry(screen.geometry())
            self.showFullScreen()
        else:
            self.showNormal()

    def _apply_look(self, look: dict) -> None:
        if look is theme.PRESENTATION:
            # Readable from the back of the room on any projector: type grows with the
            # screen's logical height (a 4K screen without HiDPI scaling gets 2×).
            screen = self.screen() or QApplication.primaryScreen()
            k = max(1.0, screen.geometry().height() / 1080) if screen else 1.0
            look = {key: round(v * k) if key.endswith("_pt") else v for key, v in look.items()}
        self._look = look
        font = QFont(self._desk_font)
        font.setPointSize(look["base_pt"])
        self.setFont(font)
        self.menuBar().setFont(font)
        self.toolbar.setFont(font)
        self.setPalette(theme.palette(look))
        bold = QFont(font)
        bold.setBold(True)
        bold.setPointSize(look["headline_pt"])
        self.prediction.setFont(bold)
        self.canvas.margin = look["window"]
        self.canvas.update()
        title = QFont(font)
        title.setPointSize(look["title_pt"])
        title.setBold(True)
        self.deck.apply_look(look, title)
        self.stage.set_look(look)

    # ----- what the presenter keys do (app/presenter.py) -------------------------------
    def presenter_key(self, key: Qt.Key) -> None:
        """One presenter key, on whatever the stage shows.

        Esc leaves, B or "." blanks the screen, S swaps the network's stages for the
        step-through (convolution cell by cell, the lecture's pages) and back. On the
        step-through every key is its own (→ one step, Space play …); while a training's
        checkpoints are open (the Teach panel), PageDown/PageUp step through the epochs;
        otherwise they step through the stages.
        """
        K = Qt.Key
        if key == K.Key_Escape:
            self.set_presentation(False)
        elif key in (K.Key_B, K.Key_Period):
            self.stage.set_blanked(not self.stage.blanked)
        elif key == K.Key_S:
            stepping = self.right.currentWidget() is self.stage_stepper
            self.right.setCurrentWidget(self.stage if stepping else self.stage_stepper)
            if not stepping and self._shown is not None:
                self.stage_stepper.set_trace(*self._shown)
        elif self.right.currentWidget() is self.stage_stepper:
            self.stage_stepper.handle_key(key)
        elif key in (K.Key_PageDown, K.Key_PageUp) and self._teaching() \
                and self.teach.scrub.isEnabled():
            self.teach.step_epoch(+1 if key == K.Key_PageDown else -1)
        elif key in (K.Key_PageDown, K.Key_Right, K.Key_Down, K.Key_Space):
            self.stage.next_stage()
        elif key in (K.Key_PageUp, K.Key_Left, K.Key_Up):
            self.stage.previous_stage()
        elif key == K.Key_Home:
            self.stage.first_stage()

    def _teaching(self) -> bool:
        """The Teach panel is open (on the stage: it was open when the stage began)."""
        teach_dock = self.teach.parentWidget()
        return self.teach.isVisible() or teach_dock in self._docks_open

    def showEvent(self, event) -> None:
        super().showEvent(event)
        handle = self.windowHandle()
        if handle is not None and not getattr(self, "_screen_hooked", False):
            # Laptop → projector: type and layout follow the new screen's size and DPR.
            handle.screenChanged.connect(lambda _s: self._apply_look(
                theme.PRESENTATION if self.presenting else theme.DESK))
            self._screen_hooked = True

    def closeEvent(self, event: QCloseEvent) -> None:
        self.presenter.remove()
        self.live.close()
        self._close_zooms()
        super().closeEvent(event)
