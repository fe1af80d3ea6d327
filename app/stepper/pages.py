"""The step-through's pages: the lecture's convolution pages, and one page per traced layer.

A :class:`Page` is a title, the lecture's words, a picture (a
:class:`~app.stepper.view.StepView`) and its own :class:`~app.stepper.player.StepPlayer`,
so each page remembers where it was. :class:`ConvLessonPage` and :class:`SizePage` show
:mod:`engine.lessons` with every input and kernel cell editable; :class:`LayerPage`
shows a layer of the live trace, chosen by its kind.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.numbers import value_text as number_text
from app.stepper.conv_view import ConvShow, ConvView
from app.stepper.map_views import PoolShow, PoolView, ReluShow, ReluView
from app.stepper.player import StepPlayer
from app.stepper.size_view import SizeView
from app.stepper.vector_views import DenseShow, DenseView, VoteShow, VoteView
from app.stepper.view import StepView
from engine.lecture import (
    ConvLesson,
    ConvSteps,
    SizeLesson,
    geometry,
    layer_input,
    map_shape,
    parse_value,
    steps_for_layer,
)

ERROR_COLOUR = "#ff6b6b"


def quiet(widget: QWidget) -> QWidget:
    """Controls never take the keyboard focus: the presenter keys stay with the step-through."""
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return widget


class Page(QWidget):
    """Title, words, a view, a row of the page's own controls, and a line for refusals."""

    def __init__(self, key: str, title: str, words: str, view: StepView,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName(f"stepper_page_{key}")
        self.view = view
        self.player = StepPlayer(self)
        self.player.moved.connect(self.show_step)
        self.title = QLabel(title)
        self.title.setObjectName("stepper_title")
        self.title.setWordWrap(True)
        self.words = QLabel(words)
        self.words.setObjectName("stepper_words")
        self.words.setWordWrap(True)
        self.words.setVisible(bool(words))
        # Refusals replace the page's hint in its controls row: the layout does not move
        # (the inline editor stays where it is) and nothing else is covered.
        self.hint = ""
        self.refused = False
        self.error = QLabel()
        self.error.setObjectName("stepper_error")
        self.error.setWordWrap(True)  # a long hint wraps instead of widening the page
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(0, 0, 0, 0)
        self.controls.addWidget(self.error, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(self.title)
        box.addWidget(self.words)
        box.addWidget(view, 1)
        box.addLayout(self.controls)

    @property
    def page_title(self) -> str:
        return self.title.text()

    def show_step(self, index: int) -> None:
        self.view.set_index(index)

    def next_cell(self, index: int) -> int:
        """The first step after the current cell (multi-channel cells take several steps)."""
        return index + 1

    def apply_fonts(self, px: float) -> None:
        """Words and controls ``px`` high, the title half as large again."""
        base = QFont(self.font())
        title = QFont(base)
        title.setPixelSize(int(px * 1.5))
        title.setBold(True)
        self.title.setFont(title)
        words = QFont(base)
        words.setPixelSize(int(px))
        self.words.setFont(words)
        for i in range(self.controls.count()):
            item = self.controls.itemAt(i).widget()
            if item is not None:
                item.setFont(words)

    def set_hint(self, text: str) -> None:
        self.hint = text
        if not self.refused:
            self.error.setText(text)

    def refuse(self, message: str) -> None:
        """Say why an input was refused, in red, where the hint was."""
        self.refused = True
        self.error.setText(message)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR};")

    def clear_refusal(self) -> None:
        self.refused = False
        self.error.setText(self.hint)
        self.error.setStyleSheet("")


# ----- the lecture's pages ----------------------------------------------------------------------
class ConvLessonPage(Page):
    """A lecture convolution page; click a cell of the input, the patch or the kernel to type
    a value (or turn the wheel over it), click an output cell to jump there."""

    def __init__(self, lesson: ConvLesson, parent: QWidget | None = None) -> None:
        super().__init__(lesson.key, lesson.title, "", ConvView(), parent)
        self.original = lesson
        self.lesson = lesson
        self.view.editable = {"input", "patch", "kernel"}
        self.view.cell_clicked.connect(self._clicked)
        self.view.cell_wheeled.connect(self._wheeled)
        self.view.edit_committed.connect(self.commit)
        reset = quiet(QPushButton("Reset page"))
        reset.setObjectName("stepper_reset_page")
        reset.setToolTip("Bring back the lecture's numbers on this page")
        reset.clicked.connect(self.reset)
        self.set_hint("Click a number to change it (or turn the wheel over it).")
        self.controls.addWidget(reset)
        self._rebuild()

    def _rebuild(self) -> None:
        les = self.lesson
        steps = ConvSteps(les.x, les.w, bias=les.bias or None, stride=les.stride,
                          padding=les.padding)
        C = les.x.shape[0]
        if les.channel_names:
            titles = [f"input {n} (channel {c + 1} of {C})"
                      for c, n in enumerate(les.channel_names)]
        else:
            titles = ["input"] * C
        show = ConvShow(steps, steps.output(), titles, "output", "kernel", les.channel_names,
                        decimals={"x": 0, "w": 0, "out": 0, "sum": 0}
                        if _whole(les.x, les.w, les.bias) else {})
        self.view.set_show(show, self.player.index)
        self.words.setText(f"“{les.words}” {les.note}  Output size: {les.size_text}.")
        self.words.show()
        self.player.set_count(len(steps))

    def next_cell(self, index: int) -> int:
        C = self.lesson.x.shape[0]
        return (index // C + 1) * C

    def _input_cell(self, key: str, r: int, c: int) -> tuple[int, int] | None:
        """Grid cell → input (row, col), or None on the padding."""
        show = self.view.show_
        step = show.steps[min(self.player.index, len(show.steps) - 1)]
        py, px = show.steps.padding
        if key == "input":
            r, c = r - py, c - px
        else:  # the patch: offset by the window
            r, c = step.rows[0] + r, step.cols[0] + c
        H, W = self.lesson.x.shape[1:]
        return (r, c) if 0 <= r < H and 0 <= c < W else None

    def _channel(self) -> int:
        show = self.view.show_
        return show.steps[min(self.player.index, len(show.steps) - 1)].channel

    def _clicked(self, key: str, r: int, c: int) -> None:
        self.clear_refusal()
        if key == "output":
            self.player.pause()
            self.player.seek(self.view.show_.steps.cell_index(r, c) + self.lesson.x.shape[0] - 1)
            return
        target = self._target(key, r, c)
        if target is None:
            if key in ("input", "patch"):
                self.refuse("That cell is padding: it is always 0.")
            return
        which, ch, rr, cc = target
        value = getattr(self.lesson, which)[ch, rr, cc]
        self.player.pause()
        self.view.open_editor(key, r, c, number_text(value, 0 if float(value).is_integer() else 2))

    def _target(self, key: str, r: int, c: int) -> tuple[str, int, int, int] | None:
        ch = self._channel()
        if key == "kernel":
            return "w", ch, r, c
        if key in ("input", "patch"):
            cell = self._input_cell(key, r, c)
            return None if cell is None else ("x", ch, *cell)
        return None

    def commit(self, key: str, r: int, c: int, text: str) -> bool:
        """Set the cell to ``text``; a value that is not a number, NaN, inf or beyond ±1e6
        is refused here, on the page, and the cell keeps its value."""
        target = self._target(key, r, c)
        if target is None:
            self.view.close_editor()
            return False
        which, ch, rr, cc = target
        old = getattr(self.lesson, which)[ch, rr, cc]
        try:
            value = parse_value(text)
        except ValueError as exc:
            kept = number_text(old, 0 if float(old).is_integer() else 2)
            self.refuse(f"{exc} — the cell keeps {kept}.")
            self.view.refuse()
            return False
        self.clear_refusal()
        self.view.close_editor()
        self.lesson = self.lesson.with_cell(which, ch, rr, cc, value)
        self._rebuild()
        return True

    def _wheeled(self, key: str, r: int, c: int, delta: int) -> None:
        target = self._target(key, r, c)
        if target is None:
            return
        which, ch, rr, cc = target
        value = float(getattr(self.lesson, which)[ch, rr, cc]) + delta
        if abs(value) <= 1e6:
            self.lesson = self.lesson.with_cell(which, ch, rr, cc, value)
            self._rebuild()

    def reset(self) -> None:
        self.lesson = self.original
        self.clear_refusal()
        self.view.close_editor()
        self._rebuild()


def _whole(*arrays) -> bool:
    return all(np.allclose(np.asarray(a), np.round(a)) for a in arrays)


class SizePage(Page):
    """(W − F + 2P)/S + 1 with a slider per letter; the grid is redrawn as they move."""

    def __init__(self, lesson: SizeLesson, parent: QWidget | None = None) -> None:
        view = SizeView()
        super().__init__(lesson.key, lesson.title, f"“{lesson.words}” {lesson.note}", view, parent)
        self.sliders: dict[str, QSlider] = {}
        self.slider_labels: dict[str, QLabel] = {}
        for letter, value in (("W", lesson.W), ("F", lesson.F), ("P", lesson.P), ("S", lesson.S)):
            lo, hi = lesson.ranges[letter]
            label = QLabel()
            s = quiet(QSlider(Qt.Orientation.Horizontal))
            s.setObjectName(f"stepper_slider_{letter}")
            s.setRange(lo, hi)
            s.setValue(value)
            s.setMinimumWidth(60)
            s.valueChanged.connect(self._changed)
            self.controls.addWidget(label)
            self.controls.addWidget(s, 1)
            self.sliders[letter], self.slider_labels[letter] = s, label
        self._changed()

    def values(self) -> tuple[int, int, int, int]:
        return tuple(self.sliders[k].value() for k in "WFPS")  # type: ignore[return-value]

    def _changed(self, *_args) -> None:
        for k, s in self.sliders.items():
            self.slider_labels[k].setText(f"{k} = {s.value()}")
        W, F, P, S = self.values()
        self.view.set_params(W, F, P, S)
        steps = self.view.steps
        self.player.set_count(len(steps) if steps is not None else 0)


# ----- a layer of the live trace ----------------------------------------------------------------
KIND_WORDS = {
    "conv": "convolution",
    "pool": "max pooling",
    "relu": "ReLU",
    "votes": "every value casts a weighted vote",
    "dense": "fully connected",
}
VIEWS = {"conv": ConvView, "pool": PoolView, "relu": ReluView, "votes": VoteView,
         "dense": DenseView}


class LayerPage(Page):
    """One layer of the live trace, stepped through as its kind says.

    ``set_trace`` takes each new trace (the drawing changed) and keeps the step the
    player is on, so a teacher can hold a cell while a student draws. A map layer has a
    map picker; a dense layer a unit picker (or click a unit in the output row).
    """

    def __init__(self, name: str, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(f"layer_{name}", f"{name}: {KIND_WORDS[kind]}", "", VIEWS[kind](), parent)
        self.name, self.kind = name, kind
        self.trace = None
        self.picker = quiet(QComboBox())
        self.picker.setObjectName("stepper_picker")
        self.picker.setToolTip("Which map (or unit) to step through")
        self.picker.currentIndexChanged.connect(self._picked)
        self.picker_label = QLabel("Show")
        self.controls.insertWidget(0, self.picker_label)
        self.controls.insertWidget(1, self.picker)
        self.view.cell_clicked.connect(self._clicked)
        self.view.message = "Draw something: an empty canvas gives the network nothing to see."

    @property
    def choice(self) -> int:
        return max(0, self.picker.currentIndex())

    def set_trace(self, trace, blank: bool = False) -> None:
        """Show ``trace`` (``blank``: an empty canvas, nothing to show)."""
        self.trace = trace
        if trace is None or blank:
            self.view.message = "Draw something: an empty canvas gives the network nothing to see."
            self.view.invalidate()
            self.player.set_count(0)
            return
        self.view.message = ""
        self._fill_picker(trace)
        self._refresh()

    def _fill_picker(self, trace) -> None:
        layer = trace.layer(self.name)
        if self.kind == "dense":
            labels = _unit_labels(trace, self.name)
            items = [f"class {labels[u]}" if labels else f"unit {u + 1}"
                     for u in range(len(layer.output))]
        elif layer.output.ndim == 3:
            n = layer.output.shape[0]
            items = [f"map {c + 1} of {n}" for c in range(n)]
        else:
            items = []
        if [self.picker.itemText(i) for i in range(self.picker.count())] != items:
            keep = self.picker.currentIndex()
            with QSignalBlocker(self.picker):
                self.picker.clear()
                self.picker.addItems(items)
                self.picker.setCurrentIndex(min(max(keep, 0), len(items) - 1) if items else -1)
        self.picker.setVisible(bool(items))
        self.picker_label.setVisible(bool(items))

    def _picked(self, _i: int) -> None:
        if self.trace is not None:
            self._refresh()

    def _refresh(self) -> None:
        t = self.trace
        layer = t.layer(self.name)
        prev = layer_input(t, self.name)
        ch = self.choice
        steps = steps_for_layer(t, self.name, channel=ch, unit=ch)
        title, words = f"{self.name}: {KIND_WORDS[self.kind]}", ""
        if self.kind == "conv":
            C = prev.output.shape[0]
            in_titles = ([f"{prev.name} ({prev.output.shape[1]}×{prev.output.shape[2]})"]
                         if C == 1 else [f"{prev.name} map {c + 1} of {C}" for c in range(C)])
            if steps.divide:
                title = f"{self.name}: trying every possible match — feature {ch + 1}"
                words = (f"“Trying every possible match.” Each cell: the patch × the ±1 "
                         f"feature, added up, ÷ {steps.divide} "
                         "(the lecture's normalised matching).")
                kname = "feature"
            else:
                words = "Each cell: the patch × the kernel, added up, + bias" + (
                    ", then the ReLU." if steps.relu else ".")
                kname = "kernel"
            show = ConvShow(steps, layer.output[ch], in_titles,
                            f"{self.name} map {ch + 1}", kname)
            self.view.set_show(show, self.player.index)
        elif self.kind == "pool":
            g = geometry(t, self.name)
            H, W = prev.output.shape[1:]
            Ho, Wo = layer.output.shape[1:]
            words = (f"Each {g.size}×{g.size} window keeps its largest value, stride {g.stride}: "
                     f"{H}×{W} becomes {Ho}×{Wo}"
                     + (" (the windows on the edge are partial)." if g.ceil_mode else "."))
            self.view.set_show(PoolShow(steps, layer.output[ch], f"{prev.name} map {ch + 1}",
                                        f"{self.name} map {ch + 1}"), self.player.index)
        elif self.kind == "relu":
            words = ("Rectified linear unit: every negative value becomes 0; "
                     "the rest pass unchanged.")
            suffix = f" map {ch + 1}" if layer.output.ndim == 3 else ""
            self.view.set_show(ReluShow(steps, f"{prev.name}{suffix}", f"{self.name}{suffix}"),
                               self.player.index)
        elif self.kind == "votes":
            shape = map_shape(t, self.name)
            C = shape[0] if shape else 0
            words = ("“Every value gets a vote, depending on how strongly it predicts X or O.” "
                     "Each value × its weight is added to each class's total.")
            self.view.set_show(VoteShow(steps, list(t.classes), shape,
                                        [f"map {c + 1}" for c in range(C)]), self.player.index)
        elif self.kind == "dense":
            labels = _unit_labels(t, self.name)
            unit = f"the unit of class {labels[ch]}" if labels else f"unit {ch + 1}"
            words = (f"Fully connected: {unit} adds up every one of its {prev.output.size} "
                     "inputs × its weight, + bias.")
            wname = f"weights of class {labels[ch]}" if labels else f"weights of unit {ch + 1}"
            self.view.set_show(DenseShow(steps, layer.output, f"{prev.name} ({prev.output.size})",
                                         wname, f"{self.name} outputs", labels),
                               self.player.index)
        self.title.setText(title)
        self.words.setText(words)
        self.words.setVisible(bool(words))
        self.player.set_count(len(steps))

    def next_cell(self, index: int) -> int:
        steps = getattr(self.view.show_, "steps", None)
        C = getattr(steps, "channels", 1)
        return (index // C + 1) * C

    def _clicked(self, key: str, r: int, c: int) -> None:
        show = self.view.show_
        if show is None:
            return
        if key == "output" and self.kind in ("conv", "pool"):
            self.player.pause()
            s = show.steps
            self.player.seek(s.cell_index(r, c) + getattr(s, "channels", 1) - 1)
        elif key == "output" and self.kind == "dense":
            out = np.asarray(show.output).ravel()
            unit = c if out.size <= 16 else r * int(np.ceil(np.sqrt(out.size))) + c
            if 0 <= unit < out.size:
                self.picker.setCurrentIndex(unit)


def _unit_labels(trace, name: str) -> list[str] | None:
    """Class names for the units of the last dense layer (one per class), else None."""
    layer = trace.layer(name)
    names = [lay.name for lay in trace.layers]
    after = [lay.kind for lay in trace.layers[names.index(name) + 1 :]]
    if len(layer.output) == len(trace.classes) and set(after) <= {"softmax"}:
        return list(trace.classes)
    return None
