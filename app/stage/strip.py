"""The pipeline strip: every stage as a box, arrows for the data flow, the current one lit.

Clicking a box asks for that stage (``clicked``). Each box is as wide as its own label
needs and the spare width is shared out, so "fc1" does not take as much room as
"ReLU+pool". A box's second line (the data's shape there) is secondary and gives way
first; then a long name breaks onto two lines at its "+"; only on a strip too narrow
for any of that do names give way to stage numbers — never to overlapping or cut text.
A bare "1 … 9" beside a digit headline reads as digits, so numbers are the last resort.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from app.look import DARK, Look, Type, line_height, text_width
from app.stage.ink import Ink, Shown


def split_name(name: str) -> tuple[str, ...]:
    """A long step name on two lines: "ReLU+pool" → ("ReLU", "+pool"); short ones stay whole."""
    if "+" in name:
        head, tail = name.split("+", 1)
        return head, "+" + tail
    return (name,)


class PipelineStrip(QWidget):
    """A row of stage boxes with arrows between them; ``clicked(i)`` when one is clicked."""

    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stage_strip")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The network, step by step: click a step to show it")
        self._items: list[tuple[str, str]] = []
        self._current = 0
        self._look = DARK
        self._type = Type(1280, 720)
        self.boxes: list[QRectF] = []
        self.shown: list[Shown] = []
        self._mode = "full"
        self._pad = 0.0  # each box's room around its label (see _relayout)
        self._arrow = 0.0  # the gap between boxes; too short for an arrowhead: a gap
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # it paints every pixel

    @staticmethod
    def height_for(t: Type) -> int:
        """The strip's height for a stage of type ``t`` (two lines unless compact)."""
        lines = line_height(t.min_px) * (1 if t.compact else 2)
        return int(lines + 3 * t.gap)

    def set_items(self, items: list[tuple[str, str]]) -> None:
        """The boxes: one (name, shape) per stage. A shape that is a bare count ("10")
        says what it counts: beside a digit headline a bare number reads as a digit."""
        self._items = [(name, f"{shape} values" if shape.replace(",", "").isdigit() else shape)
                       for name, shape in items]
        self._relayout()
        self.update()

    def set_current(self, i: int) -> None:
        self._current = i
        self.update()

    def set_style(self, look: Look, t: Type) -> None:
        self._look, self._type = look, t
        self._relayout()
        self.update()

    def resizeEvent(self, event) -> None:
        self._relayout()
        super().resizeEvent(event)

    def _relayout(self) -> None:
        t, n = self._type, len(self._items)
        self.boxes = []
        if not n:
            return
        g, px = t.gap, t.min_px
        names = [text_width(name, px) for name, _ in self._items]
        shapes = [text_width(s, px) for _, s in self._items]
        halves = [max(text_width(h, px) for h in split_name(name)) for name, _ in self._items]
        ways = [("full", [max(a, b) for a, b in zip(names, shapes)]), ("names", names),
                ("wrapped", halves)]
        if t.compact:
            ways = [ways[1]]
        # Each way with long arrows, then short ones, then (tight) short arrows and half
        # the padding, before a name gives way to a number.
        spacing = [(max(2 * g, 1.2 * px), g), (g, g), (g / 2, g / 2)]
        tries = [(mode, widths, arrow, pad) for mode, widths in ways for arrow, pad in spacing]
        arrow, pad = g, g
        self._mode, need = "numbers", [text_width(str(n), px)] * n
        for mode, widths, length, padding in tries:
            if sum(widths) + n * padding <= self.width() - 2 * g - (n - 1) * length:
                self._mode, need, arrow, pad = mode, widths, length, padding
                break
        self._pad, self._arrow = pad, arrow
        room = self.width() - 2 * g - (n - 1) * arrow
        spare = max(0.0, (room - sum(need) - n * pad) / n)
        x, h = g, self.height() - 2 * g
        for width in need:
            w = width + pad + spare
            self.boxes.append(QRectF(x, g, w, h))
            x += w + arrow

    @property
    def mode(self) -> str:
        """How the labels fit: "full", "names", "wrapped" or (last resort) "numbers"."""
        return self._mode

    def box_at(self, pos: QPointF) -> int:
        for i, box in enumerate(self.boxes):
            if box.contains(pos):
                return i
        return -1

    def mousePressEvent(self, event: QMouseEvent) -> None:
        i = self.box_at(event.position())
        if i >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(i)
            event.accept()
            return
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        look, t = self._look, self._type
        p.fillRect(self.rect(), QColor(look.background))
        ink = Ink(p, look, t)
        px = t.min_px
        lh = line_height(px)
        for i, box in enumerate(self.boxes):
            lit = i == self._current
            if lit:
                p.fillRect(box, QColor(look.accent))
            pen = QPen(QColor(look.accent if lit else look.line))
            pen.setWidthF(t.pen * 2)
            p.setPen(pen)
            p.drawRect(box)
            name, shape = self._items[i]
            color = look.on_accent if lit else look.text
            inner = box.adjusted(self._pad / 2, 0, -self._pad / 2, 0)
            if self._mode == "full" and shape:
                mid = box.center().y()
                ink.text(QRectF(inner.left(), mid - lh, inner.width(), lh), name, px,
                         color=color)
                ink.text(QRectF(inner.left(), mid, inner.width(), lh), shape, px, bold=False,
                         color=look.on_accent if lit else look.dim)
            elif self._mode == "wrapped" and len(split_name(name)) == 2:
                mid = box.center().y()
                for k, half in enumerate(split_name(name)):
                    ink.text(QRectF(inner.left(), mid - lh + k * lh, inner.width(), lh), half,
                             px, color=color)
            else:
                ink.text(inner, str(i + 1) if self._mode == "numbers" else name, px, color=color)
            if i + 1 < len(self.boxes) and self._arrow >= t.gap:
                y = box.center().y()
                ink.arrow(QPointF(box.right() + 2, y), QPointF(self.boxes[i + 1].left() - 2, y),
                          look.text)
        self.shown = ink.shown
        p.end()
