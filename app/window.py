"""The main window: canvas and pickers on the left, one panel per layer on the right.

Data flows one way: the canvas says it changed → the window marks itself dirty and
arms a single-shot timer → once per display frame :meth:`MainWindow.run_network_now`
reads the latest canvas, runs ``preprocess`` and ``trace`` and hands each panel its
layer. Pen events are never queued behind the network: however fast they come, the
network runs at most once per frame, always on the newest drawing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QFont,
    QKeySequence,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.canvas import SIZE, Canvas
from app.errors import install_excepthooks, notices
from app.loader import ModelLoader
from app.panels import LayerPanel, ProbabilitiesPanel, VotesPanel, ZoomView, panels_for
from engine import PRESETS, list_models, model_spec

FRAME_MS = 16  # one display frame at 60 Hz: the most often the network runs
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

    def __init__(self, model: str = "digits", device: str = "auto",
                 weights: dict[str, Path] | None = None) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.setWindowTitle("ConvPad — draw, and watch a ConvNet see")
        install_excepthooks()
        self.model = None  # the live engine Model, once loaded
        self.trace = None  # the last Trace shown
        self.presenting = False
        self._models: dict[tuple[str, str], object] = {}
        self._wanted = (model_spec(model).name, device)
        self._request = 0
        self._dirty = False
        self._since_run = QElapsedTimer()
        self._since_run.start()
        self._panels: list[tuple[LayerPanel, str]] = []
        self._zooms: dict[tuple[str, int], ZoomView] = {}
        self._desk_font = QApplication.font()

        self._frame_timer = QTimer(self)
        self._frame_timer.setSingleShot(True)
        self._frame_timer.timeout.connect(self.run_network_now)

        self._build_widgets()
        self._build_actions()
        self._apply_look(theme.DESK)
        notices().message.connect(self.show_notice)

        self._loader = ModelLoader(weights, self)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self._load(*self._wanted)

    # ===== building ======================================================================
    def _build_widgets(self) -> None:
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

        left = QVBoxLayout()
        body.addLayout(left, 2)
        pickers = QGridLayout()
        left.addLayout(pickers)
        self.model_picker = QComboBox()
        self.model_picker.setObjectName("model_picker")
        self.model_picker.setToolTip("Which network looks at the drawing")
        for name in list_models():
            self.model_picker.addItem(f"{name} — {model_spec(name).title}", name)
        self.model_picker.setCurrentIndex(list_models().index(self._wanted[0]))
        self.model_picker.currentIndexChanged.connect(
            lambda i: self.select_model(self.model_picker.itemData(i)))
        self.device_picker = QComboBox()
        self.device_picker.setObjectName("device_picker")
        self.device_picker.setToolTip("Where the network runs (CPU or a GPU)")
        self.device_picker.addItem(f"{self._wanted[1]} (finding devices…)", self._wanted[1])
        self.device_picker.activated.connect(
            lambda i: self.select_device(self.device_picker.itemData(i)))
        self.device_label = QLabel("device: …")
        self.device_label.setObjectName("device_label")
        pickers.addWidget(QLabel("Model"), 0, 0)
        pickers.addWidget(self.model_picker, 0, 1)
        pickers.addWidget(QLabel("Device"), 1, 0)
        pickers.addWidget(self.device_picker, 1, 1)
        pickers.addWidget(self.device_label, 2, 1)

        self.prediction = QLabel("loading model…")
        self.prediction.setObjectName("prediction")
        self.prediction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prediction.setToolTip("The network's answer and how sure it is")
        self.prediction.setMinimumHeight(60)
        left.addWidget(self.prediction)

        self.canvas = Canvas()
        self.canvas.changed.connect(self.schedule_run)
        left.addWidget(self.canvas, 1)

        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clear_button")
        left.addWidget(self.clear_button)

        self.panel_area = QWidget()
        self.panel_area.setObjectName("panel_area")
        self.panel_area.setSizePolicy(QSizePolicy.Policy.Expanding,
                                      QSizePolicy.Policy.Expanding)
        self.panel_grid = QGridLayout(self.panel_area)
        self.panel_grid.setContentsMargins(0, 0, 0, 0)
        self.panel_grid.setSpacing(6)
        body.addWidget(self.panel_area, 5)

    def _action(self, text: str, tip: str, shortcut: QKeySequence | str | None,
                slot, name: str, checkable: bool = False) -> QAction:
        act = QAction(text, self)
        act.setObjectName(name)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)]
            act.setShortcuts(keys)
            tip = f"{tip} ({act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.setCheckable(checkable)
        (act.toggled if checkable else act.triggered).connect(slot)
        self.addAction(act)  # shortcuts work even with the toolbar hidden
        return act

    def _build_actions(self) -> None:
        a = self._action
        self.act_clear = a("Clear", "Wipe the drawing", "Delete", self.canvas.clear, "act_clear")
        self.act_clear.setShortcuts([QKeySequence("Delete"), QKeySequence("Backspace")])
        self.clear_button.clicked.connect(self.act_clear.trigger)
        self.clear_button.setToolTip(self.act_clear.toolTip())
        self.act_undo = a("Undo", "Take back the last stroke", QKeySequence.StandardKey.Undo,
                          self.canvas.undo, "act_undo")
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_redo = a("Redo", "Put back what Undo took", "Ctrl+Shift+Z",
                          self.canvas.redo, "act_redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_eraser = a("Eraser", "Rub out instead of drawing", "E", self._set_eraser,
                            "act_eraser", checkable=True)
        self.act_thinner = a("Thinner pen", "Make the pen thinner", "[",
                             lambda: self.brush_size.stepDown(), "act_thinner")
        self.act_thicker = a("Thicker pen", "Make the pen thicker", "]",
                             lambda: self.brush_size.stepUp(), "act_thicker")
        self.act_open = a("Open image…", "Put a PNG, JPG or BMP file on the canvas",
                          QKeySequence.StandardKey.Open, self.open_image_dialog, "act_open")
        self.act_open.setShortcut(QKeySequence("Ctrl+O"))
        self.preset_actions = []
        for i, name in enumerate(PRESETS, start=1):
            act = a(name, f"Put the lecture's 9×9 {name} on the canvas", f"Ctrl+{i}",
                    lambda _=False, n=name: self.load_preset(n), f"act_preset_{i}")
            self.preset_actions.append(act)
        self.act_save_window = a("Save window as PNG…", "Save a picture of the whole window",
                                 "Ctrl+S", self.save_window_dialog, "act_save_window")
        self.act_save_panel = a("Save panel as PNG…", "Save a picture of one panel",
                                "Ctrl+Shift+S", self.save_panel_dialog, "act_save_panel")
        self.act_present = a("Presentation", "Full screen, large type, thick pen, high "
                             "contrast — for a projector", "F11", self.set_presentation,
                             "act_present", checkable=True)
        self.act_quit = a("Quit", "Close ConvPad", "Ctrl+Q", self.close, "act_quit")

        self.brush_size = QSpinBox()
        self.brush_size.setObjectName("brush_size")
        self.brush_size.setRange(*BRUSH_RANGE)
        self.brush_size.setSingleStep(4)
        self.brush_size.setValue(int(self.canvas.brush))
        self.brush_size.setSuffix(" px pen")
        self.brush_size.setToolTip("Pen thickness, in canvas pixels ([ and ] change it)")
        self.brush_size.valueChanged.connect(lambda v: setattr(self.canvas, "brush", float(v)))

        menus = self.menuBar()
        m = menus.addMenu("&File")
        for act in (self.act_open, self.act_save_window, self.act_save_panel, self.act_quit):
            m.addAction(act)
        m = menus.addMenu("&Edit")
        for act in (self.act_undo, self.act_redo, self.act_clear, self.act_eraser,
                    self.act_thinner, self.act_thicker):
            m.addAction(act)
        m = menus.addMenu("&Presets")
        for act in self.preset_actions:
            m.addAction(act)
        m = menus.addMenu("&View")
        m.addAction(self.act_present)
        self.model_menu = menus.addMenu("&Model")
        group = QActionGroup(self)
        for i, name in enumerate(list_models()):
            act = a(name, model_spec(name).title, f"Alt+{i + 1}",
                    lambda _=False, n=name: self.model_picker.setCurrentIndex(
                        list_models().index(n)), f"act_model_{name}")
            act.setCheckable(False)
            group.addAction(act)
            self.model_menu.addAction(act)

        self.toolbar = _FlatToolBar("Tools")
        self.toolbar.setObjectName("toolbar")
        self.toolbar.setMovable(False)
        self.addToolBar(self.toolbar)
        for act in (self.act_clear, self.act_undo, self.act_redo, self.act_eraser):
            self.toolbar.addAction(act)
        self.toolbar.addWidget(self.brush_size)
        self.toolbar.addSeparator()
        for act in (*self.preset_actions, self.act_open):
            self.toolbar.addAction(act)
        self.toolbar.addSeparator()
        for act in (self.act_save_window, self.act_save_panel, self.act_present):
            self.toolbar.addAction(act)

    # ===== models =======================================================================
    def select_model(self, name: str) -> None:
        """Switch network; the drawing stays and is run through the new one."""
        if name and name != (self.model.name if self.model else None):
            self._load(name, self._wanted[1])

    def select_device(self, device: str) -> None:
        """Run the current network on another device (reloads it there)."""
        if device:
            self._load(self._wanted[0], device)

    def _load(self, name: str, device: str) -> None:
        self._wanted = (name, device)
        cached = self._models.get(self._wanted)
        if cached is not None:
            self._install(cached)
            return
        self.prediction.setText("loading model…")
        self.prediction.setToolTip(f"loading {name} on {device}…")
        self._request = self._loader.load(name, device)

    def _on_loaded(self, request: int, model, devices: list) -> None:
        self._models[(model.name, self._wanted[1] if request == self._request else
                      str(model.device))] = model
        self._fill_devices(devices)
        if request == self._request:
            self._install(model)

    def _on_failed(self, request: int, message: str) -> None:
        self.show_notice(message)
        if request != self._request:
            return
        if self.model is None:
            self.prediction.setText("no model — pick another")
        else:
            # Keep working with the model that is loaded; say so in the pickers.
            self._wanted = (self.model.name, self._wanted[1])
            self._sync_model_picker(self.model.name)
            self._show_answer()

    def _sync_model_picker(self, name: str) -> None:
        self.model_picker.blockSignals(True)
        self.model_picker.setCurrentIndex(list_models().index(name))
        self.model_picker.blockSignals(False)

    def _fill_devices(self, devices: list) -> None:
        self.device_picker.blockSignals(True)
        self.device_picker.clear()
        self.device_picker.addItem("auto (best available)", "auto")
        for dev, human in devices:
            self.device_picker.addItem(f"{dev} — {human}", dev)
        i = self.device_picker.findData(self._wanted[1])
        self.device_picker.setCurrentIndex(max(i, 0))
        self.device_picker.blockSignals(False)

    def _install(self, model) -> None:
        """Make ``model`` live: new panels for its layers, then run the current drawing."""
        self.model = model
        self._sync_model_picker(model.name)
        self.device_label.setText(f"running on: {model.device_name}")
        self.device_label.setToolTip(f"torch device {model.device}")
        self._close_zooms()
        blank = model.trace(model.preprocess(np.zeros((SIZE, SIZE), np.float32), invert=False))
        self._build_panels(blank)
        # Calibrate each panel's fixed colour levels on the lecture's X, so the first
        # strokes are not drawn at a level set by an almost empty canvas.
        example = np.kron((PRESETS["X (lecture)"] > 0).astype(np.float32),
                          np.ones((SIZE // 9, SIZE // 9), np.float32))
        self._show_trace(model.trace(model.preprocess(example, invert=False)))
        self._dirty = True
        self.run_network_now()
        self.model_changed.emit(model.name)

    def _build_panels(self, trace) -> None:
        for panel, _ in self._panels:
            self.panel_grid.removeWidget(panel)
            panel.deleteLater()
        self._panels = panels_for(trace, self.panel_area)
        n = len(self._panels)
        cols = 5 if n > 8 else 2  # the toy's few small maps get wide panels: numbers fit
        for i, (panel, _) in enumerate(self._panels):
            self.panel_grid.addWidget(panel, i // cols, i % cols)
            panel.cell_hovered.connect(self._outline_input)
            panel.tile_clicked.connect(self.open_zoom)
        for c in range(5):
            self.panel_grid.setColumnStretch(c, 1 if c < cols else 0)
        for r in range(6):
            self.panel_grid.setRowStretch(r, 1 if r < -(-n // cols) else 0)
        self._style_panels()

    def panels(self) -> list[LayerPanel]:
        """The live panels, in data-flow order."""
        return [p for p, _ in self._panels]

    def panel(self, name: str) -> LayerPanel:
        """The panel called ``name`` (a layer name, or ``conv1.filters``)."""
        for p, _ in self._panels:
            if p.name == name:
                return p
        raise KeyError(f"no panel {name!r}; panels are {[p.name for p, _ in self._panels]}")

    # ===== the per-frame path ===========================================================
    def schedule_run(self) -> None:
        """The canvas changed: run the network at the next frame boundary (coalesced)."""
        self._dirty = True
        if not self._frame_timer.isActive():
            wait = max(0, FRAME_MS - int(self._since_run.elapsed()))
            self._frame_timer.start(wait)

    def run_network_now(self) -> None:
        """Trace the latest drawing and update every panel (what the frame timer calls).

        Benchmarks and tests call it directly after sending pen events, to process one
        update synchronously instead of waiting for the timer.
        """
        self._frame_timer.stop()
        if not self._dirty or self.model is None:
            return
        self._dirty = False
        self._since_run.restart()
        model = self.model
        ink = self.canvas.ink()
        blank = model.is_blank(ink)
        self._show_trace(model.trace(model.preprocess(ink, invert=False)), blank=blank)

    def _show_trace(self, trace, blank: bool = False) -> None:
        self.trace = None if blank else trace
        layers = trace.layers
        index = {layer.name: i for i, layer in enumerate(layers)}
        for panel, name in self._panels:
            i = index[name]
            previous = layers[i - 1] if i else None
            if blank and isinstance(panel, ProbabilitiesPanel):
                panel.show_probabilities(None)
            elif blank and isinstance(panel, VotesPanel):
                panel.show_layer(layers[i], None)
            else:
                panel.show_layer(layers[i], previous)
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
        self.prediction.setText(f"{t.prediction}   {p * 100:.0f}%")
        self.prediction.setToolTip(", ".join(
            f"{c}: {v * 100:.1f}%" for c, v in zip(t.classes, t.probabilities)))

    def _outline_input(self, window) -> None:
        for panel, _ in self._panels:
            if hasattr(panel, "show_window"):
                panel.show_window(window)

    # ===== zoom =========================================================================
    def open_zoom(self, panel_name: str, tile: int) -> ZoomView:
        """Enlarge one tile of a panel, with a colour bar; it stays live."""
        key = (panel_name, tile)
        view = self._zooms.get(key)
        if view is None:
            panel = self.panel(panel_name)
            view = ZoomView(panel.tile_title(tile), self)
            view.finished.connect(lambda _=0, k=key: self._zooms.pop(k, None))
            self._zooms[key] = view
        self._refresh_zoom(panel_name, tile, view)
        view.show()
        view.raise_()
        return view

    def _refresh_zoom(self, panel_name: str, tile: int, view: ZoomView) -> None:
        panel = self.panel(panel_name)
        values = panel.tile_values(tile)
        if values is not None:
            view.show_values(values, panel.levels())

    def _close_zooms(self) -> None:
        for view in list(self._zooms.values()):
            view.close()
        self._zooms.clear()

    # ===== commands =====================================================================
    def _set_eraser(self, on: bool) -> None:
        self.canvas.eraser = on

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

    def show_notice(self, message: str) -> None:
        """Show a message in the banner above the window (non-modal; the app goes on)."""
        self.notice.setText(message)
        self.notice_bar.show()

    # ===== presentation =================================================================
    def set_presentation(self, on: bool) -> None:
        """Full screen, large type, thick pen and high contrast — or back to the desk."""
        if on == self.presenting:
            return
        self.presenting = on
        if self.act_present.isChecked() != on:
            self.act_present.setChecked(on)
        self._apply_look(theme.PRESENTATION if on else theme.DESK)
        self.brush_size.setValue(max(self.brush_size.value(), 34) if on else 22)
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
        self._style_panels()

    def _style_panels(self) -> None:
        look = getattr(self, "_look", theme.DESK)
        title = QFont(self.font())
        title.setPointSize(look["title_pt"])
        title.setBold(True)
        for panel in self.panels():
            panel.set_look(look["panel"], title)
            if isinstance(panel, ProbabilitiesPanel):
                panel.set_fonts(look["title_pt"])
            if isinstance(panel, VotesPanel):
                panel.set_label_style(look["text"], look["title_pt"])

    def closeEvent(self, event: QCloseEvent) -> None:
        self._frame_timer.stop()
        self._close_zooms()
        self._loader.wait(5.0)
        super().closeEvent(event)
