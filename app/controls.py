"""The desk's left column: which model, on which device, the answer, and the canvas.

:class:`DeskControls` follows the one live model (``app.live.Live``) and nothing else:
the pickers show what is live (and go back to it when a request fails), the headline
shows the answer — B's and A's under compare — and the model's title, "xo-toy
(edited)" while features are edited.

The canvas's size must change only when the window does: a headline whose text width
pushed the column wider resized the canvas in the middle of a stroke. So the headline
ignores its text's width (it elides instead) and has a fixed height of two lines.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.canvas import Canvas
from app.live import Live
from app.notices import plain, plain_tip
from app.numbers import percent_text
from engine import list_models, model_spec


class Headline(QLabel):
    """The answer in large type: elided to the column's width, never widening it."""

    def __init__(self) -> None:
        super().__init__("loading model…")
        self.setObjectName("prediction")
        plain(self)  # class names from a file are text
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setToolTip("The network's answer and how sure it is")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setWordWrap(False)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self.setFixedHeight(int(self.fontMetrics().lineSpacing() * 2.2))


class DeskControls(QWidget):
    """Pickers, headline, canvas and Clear, following ``live``.

    ``model_chosen(name)`` / ``device_chosen(device)`` when the user picks one.
    """

    model_chosen = Signal(str)
    device_chosen = Signal(str)

    def __init__(self, live: Live, canvas: Canvas, first_model: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.live = live
        self.canvas = canvas
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.pickers = QWidget()
        grid = QGridLayout(self.pickers)
        grid.setContentsMargins(0, 0, 0, 0)
        self.model_picker = QComboBox()
        self.model_picker.setObjectName("model_picker")
        self.model_picker.setToolTip("Which network looks at the drawing")
        for name in list_models():
            self.model_picker.addItem(f"{name} — {model_spec(name).title}", name)
        self.add_model_entry(first_model, model_spec(first_model).title)
        self.model_picker.setCurrentIndex(self.model_picker.findData(first_model))
        self.model_picker.currentIndexChanged.connect(
            lambda i: self.model_chosen.emit(self.model_picker.itemData(i) or ""))
        self.device_picker = QComboBox()
        self.device_picker.setObjectName("device_picker")
        self.device_picker.setToolTip("Where the network runs (CPU or a GPU)")
        self.device_picker.addItem("cpu — CPU", "cpu")  # always there, whatever else is
        self.device_picker.activated.connect(
            lambda i: self.device_chosen.emit(self.device_picker.itemData(i) or ""))
        self.device_label = QLabel("device: …")
        self.device_label.setObjectName("device_label")
        grid.addWidget(QLabel("Model"), 0, 0)
        grid.addWidget(self.model_picker, 0, 1)
        grid.addWidget(QLabel("Device"), 1, 0)
        grid.addWidget(self.device_picker, 1, 1)
        grid.addWidget(self.device_label, 2, 1)
        # What was read from an opened network's file (its "card"): shown when one is live.
        self.model_info = plain(QLabel(""))
        self.model_info.setObjectName("model_info")
        self.model_info.setWordWrap(True)
        self.model_info.hide()
        grid.addWidget(self.model_info, 4, 1)
        # How often the views catch up with the pen (View ▸ Show the update rate).
        self.rate_label = QLabel("")
        self.rate_label.setObjectName("rate_label")
        self.rate_label.setToolTip("How many times a second the panels (or the stage) show "
                                   "the newest drawing, and the network's time per drawing")
        self.rate_label.hide()
        grid.addWidget(self.rate_label, 3, 1)
        grid.setColumnStretch(1, 1)
        # Long model titles must not widen the column past its share.
        for picker in (self.model_picker, self.device_picker):
            picker.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            picker.setMinimumContentsLength(12)
        column.addWidget(self.pickers)
        self.prediction = Headline()
        column.addWidget(self.prediction)
        column.addWidget(canvas, 1)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clear_button")
        column.addWidget(self.clear_button)

        live.model_changed.connect(self._on_model)
        live.loading.connect(self._on_loading)
        live.reverted.connect(self._on_reverted)
        live.devices.connect(self._fill_devices)
        live.shown.connect(lambda _t, _b: self.show_answer())
        live.compare_changed.connect(lambda _m: self.show_answer())

    # ----- pickers -----------------------------------------------------------------------
    def add_model_entry(self, name: str, title: str) -> None:
        """Offer a model (a saved one, an opened file: ``name`` is its path) in the picker."""
        if self.model_picker.findData(name) < 0:
            with QSignalBlocker(self.model_picker):
                self.model_picker.addItem(title, name)

    def _on_model(self, model, _probe) -> None:
        self.add_model_entry(model.name, model.spec.title)
        self._sync(model.name, self.live.device)
        self.device_label.setText(f"running on: {model.device_name}")
        self.device_label.setToolTip(f"torch device {model.device}")
        summary = network_summary(model)
        self.model_info.setVisible(bool(summary))
        if summary:
            self.model_info.setText(summary[0])
            self.model_info.setToolTip(plain_tip(summary[1]))

    def _on_loading(self, name: str, device: str) -> None:
        self.prediction.setText("loading model…")
        self.prediction.setToolTip(f"loading {name} on {device}…")

    def _on_reverted(self, name: str, device: str) -> None:
        if not name:
            self.prediction.setText("no model — pick another")
            return
        self._sync(name, device)
        self.show_answer()

    def _sync(self, name: str, device: str) -> None:
        with QSignalBlocker(self.model_picker):
            i = self.model_picker.findData(name)
            if i >= 0:
                self.model_picker.setCurrentIndex(i)
        with QSignalBlocker(self.device_picker):
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

    # ----- the answer --------------------------------------------------------------------
    def show_answer(self) -> None:
        """The headline: the answer and how sure, both answers under compare, and which
        model when it is not the one its card describes ("xo-toy (edited)")."""
        model, last = self.live.model, self.live.last_b
        if model is None or last is None:
            return
        trace, blank = last
        # An edited model, or a network opened from a file, is named in the headline, on
        # a line of its own below the answer (the headline has room for two), elided so
        # the answer itself is never cut.
        named = model.edited or bool(model.card.get("file"))
        fm = self.prediction.fontMetrics()
        edited = fm.elidedText(model.title, Qt.TextElideMode.ElideRight,
                               max(self.prediction.width(), fm.horizontalAdvance("M" * 10))
                               ) if named else ""
        if blank:
            self.prediction.setText(edited)
            self.prediction.setToolTip("Nothing drawn yet: no answer")
            return
        text = f"{trace.prediction}   {percent_text(float(np.max(trace.probabilities)))}"
        a = self.live.a_trace() if self.live.compare.mode else None
        if a is not None:  # both answers, B (the live drawing) first
            text = (f"B: {text}\nA: {a.prediction}   "
                    f"{percent_text(float(np.max(a.probabilities)))}")
        self.prediction.setText(text + ("  · " if "\n" in text else "\n") + edited
                                if edited else text)
        self.prediction.setToolTip(", ".join(
            f"{c}: {v * 100:.1f}%" for c, v in zip(trace.classes, trace.probabilities)))


def network_summary(model) -> tuple[str, str] | None:
    """For a network opened from a file: one line of what was read (its format, layers,
    weights, input and classes) and the whole layer list for its tooltip; else None."""
    card = model.card
    if not card.get("file"):
        return None
    layers = card.get("layers") or []
    h, w = (card.get("input_size") or [0, 0])[:2]
    classes = model.classes
    named = ", ".join(classes) if len(classes) <= 4 else f"{classes[0]} … {classes[-1]}"
    line = (f"{card.get('format', '?')} · {len(layers)} layers · "
            f"{int(card.get('parameters', 0)):,} weights · {h}×{w} in → {len(classes)} "
            f"classes ({named})")
    rows = [f"{lay.get('name')}: {lay.get('kind')} from {lay.get('from')}, "
            f"{'×'.join(str(d) for d in lay.get('output_shape') or [])}" for lay in layers]
    left = card.get("left_out") or []
    tip = "\n".join([f"{card['file']} — what ConvPad read:", *rows]
                    + ([f"left out (identity at inference): {', '.join(map(str, left))}"]
                       if left else []))
    return line, tip
