"""The step-through's pages: the lecture's convolution pages, and one page per traced layer.

A :class:`Page` is a title, the lecture's words, a picture (a
:class:`~app.stepper.view.StepView`) and its own :class:`~app.stepper.player.StepPlayer`,
so each page remembers where it was. :class:`ConvLessonPage` and :class:`SizePage` show
:mod:`engine.lessons` with every input and kernel cell editable; :class:`LayerPage`
shows a layer of the live trace, chosen by its kind.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.look import give_room
from app.numbers import value_text as number_text
from app.stepper.conv_view import ConvShow, ConvView
from app.stepper.player import StepPlayer
from app.stepper.size_view import SizeView
from app.stepper.view import StepView
from engine import ConvPadError
from engine.lecture import (
    LIMIT,
    ConvLesson,
    ConvSteps,
    SizeLesson,
    parse_value,
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
                if not isinstance(item, QLabel):
                    give_room(item, px)

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
        """Set the cell to ``text``; a value that is not a number, NaN, inf or beyond ±1e4
        (the one limit on any value a network takes) is refused here, on the page, and
        the cell keeps its value."""
        target = self._target(key, r, c)
        if target is None:
            self.view.close_editor()
            return False
        which, ch, rr, cc = target
        old = getattr(self.lesson, which)[ch, rr, cc]
        try:
            value = parse_value(text)
        except ConvPadError as exc:
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
        if abs(value) <= LIMIT:
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
