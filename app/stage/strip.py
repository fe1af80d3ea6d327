"""The pipeline strip: every stage as a box, arrows for the data flow, the current one lit.

Clicking a box asks for that stage (``clicked``). The boxes share the width equally;
a box's second line (the data's shape there) is secondary and gives way first, then
the names give way to stage numbers — never to overlapping or cut text.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from app.look import DARK, Look, Type, line_height, text_width
from app.stage.ink import Ink, Shown


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
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # it paints every pixel

    @staticmethod
    def height_for(t: Type) -> int:
        """The strip's height for a stage of type ``t`` (two lines unless compact)."""
        lines = line_height(t.min_px) * (1 if t.compact else 2)
        return int(lines + 3 * t.gap)

    def set_items(self, items: list[tuple[str, str]]) -> None:
        """The boxes: one (name, shape) per stage."""
        self._items = list(items)
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
        g = t.gap
        arrow = max(2 * g, 1.2 * t.min_px)
        w = (self.width() - 2 * g - (n - 1) * arrow) / n
        h = self.height() - 2 * g
        self.boxes = [QRectF(g + i * (w + arrow), g, w, h) for i in range(n)]
        inner = w - g
        px = t.min_px
        if all(text_width(name, px) <= inner for name, _ in self._items):
            shapes = not t.compact and all(text_width(s, px) <= inner for _, s in self._items)
            self._mode = "full" if shapes else "names"
        else:
            self._mode = "numbers"

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
            inner = box.adjusted(t.gap / 2, 0, -t.gap / 2, 0)
            if self._mode == "full" and shape:
                mid = box.center().y()
                ink.text(QRectF(inner.left(), mid - lh, inner.width(), lh), name, px,
                         color=color)
                ink.text(QRectF(inner.left(), mid, inner.width(), lh), shape, px, bold=False,
                         color=look.on_accent if lit else look.dim)
            else:
                ink.text(inner, str(i + 1) if self._mode == "numbers" else name, px, color=color)
            if i + 1 < len(self.boxes):
                y = box.center().y()
                ink.arrow(QPointF(box.right() + 2, y), QPointF(self.boxes[i + 1].left() - 2, y),
                          look.text)
        self.shown = ink.shown
        p.end()
