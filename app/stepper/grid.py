"""A step-through's grid of numbers: a map, a patch, a kernel, cells coloured by value.

The one block that needs more than a few lines to paint: it colours its cells from the
shared diverging map, writes each value when it is readable, marks the window and the
current cell, and reports clicks by cell.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from app.numbers import value_text as number_text
from app.stepper.paint import (
    CELL_H,
    PAD,
    TITLE_H,
    Block,
    Look,
    Metrics,
    colours,
    font_at,
    text_on,
)

_IMAGES: OrderedDict[tuple, QImage] = OrderedDict()  # Grid._numbers_image's cache


@dataclass
class Grid:
    """A matrix shown as coloured cells, with its numbers when ``numbered``.

    ``values`` (H, W), NaN = a cell with no value (drawn empty); ``hide`` masks cells not
    filled in yet (drawn empty too, but the grid's picture is cached once with all its
    values, so an output map filling in costs no re-rendering of numbers). ``dim`` marks
    padding cells (drawn grey). ``boxes`` are outlines in cell coordinates
    ``(r0, r1, c0, c1)`` (stop exclusive), ``marks`` cells filled with the accent
    colour (the picked max, the current cell). ``template`` is the widest text the
    grid may ever hold, so cells keep their width while the numbers change.
    """

    values: np.ndarray
    title: str
    limit: float
    decimals: int = 2
    numbered: bool = True
    dim: np.ndarray | None = None
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)
    template: str | None = None
    image_side: float = 11.0  # units of f, when not numbered
    key: str = ""
    labels: list[str] | None = None  # under each column (class names)
    hide: np.ndarray | None = None

    def cell_size(self, m: Metrics) -> tuple[float, float]:
        H, W = self.values.shape
        if not self.numbered:
            side = self.image_side / max(H, W)
            return side, side
        tpl = self.template or widest(self.values, self.decimals)
        return max(m.width(tpl) + PAD, CELL_H), CELL_H

    def block(self, m: Metrics, look: Look, base: QFont) -> Block:
        H, W = self.values.shape
        cw, ch = self.cell_size(m)
        w = max(W * cw, m.width(self.title, bold=True) + 0.2)
        label_h = CELL_H if self.labels else 0.0
        return Block(w, TITLE_H + H * ch + label_h,
                     lambda p, r, f: self.draw(p, r, f, m, look, base), self.key)

    def cell_rect(self, rect: QRectF, f: float, m: Metrics, r: int, c: int) -> QRectF:
        _H, W = self.values.shape
        cw, ch = self.cell_size(m)
        x0 = rect.left() + (rect.width() - W * cw * f) / 2
        return QRectF(x0 + c * cw * f, rect.top() + TITLE_H * f + r * ch * f, cw * f, ch * f)

    def hit(self, rect: QRectF, f: float, m: Metrics, pos: QPointF) -> tuple[int, int] | None:
        H, W = self.values.shape
        first, last = self.cell_rect(rect, f, m, 0, 0), self.cell_rect(rect, f, m, H - 1, W - 1)
        area = QRectF(first.topLeft(), last.bottomRight())
        if not area.contains(pos):
            return None
        cw, ch = self.cell_size(m)
        return (min(H - 1, int((pos.y() - area.top()) / (ch * f))),
                min(W - 1, int((pos.x() - area.left()) / (cw * f))))

    def draw(self, p: QPainter, rect: QRectF, f: float, m: Metrics, look: Look,
             base: QFont) -> None:
        H, W = self.values.shape
        p.setFont(font_at(base, f, bold=True))
        p.setPen(look.text)
        p.drawText(QRectF(rect.left(), rect.top(), rect.width(), TITLE_H * f),
                   Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, self.title)
        top_left = self.cell_rect(rect, f, m, 0, 0)
        cw, ch = top_left.width(), top_left.height()
        area = QRectF(top_left.left(), top_left.top(), W * cw, H * ch)
        if self.numbered:
            p.drawImage(area.topLeft(), self._numbers_image(p, f, cw, ch, look, base))
        else:
            p.drawImage(area.topLeft(), self._colour_image(area.size().toSize(), look))
        if self.hide is not None and self.hide.any():
            self._blank_hidden(p, area, cw, ch, look)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for r, c in self.marks:
            p.setPen(QPen(look.accent, max(2.0, f * 0.16)))
            p.drawRect(self.cell_rect(rect, f, m, r, c).adjusted(2, 2, -2, -2))
        for r0, r1, c0, c1 in self.boxes:
            r0, c0 = max(r0, 0), max(c0, 0)
            r1, c1 = min(r1, H), min(c1, W)
            if r1 <= r0 or c1 <= c0:
                continue
            a = self.cell_rect(rect, f, m, r0, c0)
            b = self.cell_rect(rect, f, m, r1 - 1, c1 - 1)
            p.setPen(QPen(look.accent, max(3.0, f * 0.22)))
            p.drawRect(QRectF(a.topLeft(), b.bottomRight()))
        if self.labels:
            p.setFont(font_at(base, f))
            p.setPen(look.text)
            for c, label in enumerate(self.labels[:W]):
                cell = self.cell_rect(rect, f, m, H - 1, c)
                p.drawText(QRectF(cell.left(), cell.bottom(), cell.width(), CELL_H * f),
                           Qt.AlignmentFlag.AlignCenter, label)

    def _numbers_image(self, painter: QPainter, f: float, cw: float, ch: float, look: Look,
                       base: QFont) -> QImage:
        """The cells and their numbers as one picture, cached: a grid whose values did not
        change since the last frame (the input, the kernel, a map filling in) is one
        image draw, not a text draw per cell — what keeps an animation tick cheap."""
        dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0
        key = (self.values.tobytes(), self.values.shape,
               None if self.dim is None else self.dim.tobytes(), self.decimals, self.limit,
               round(f, 3), round(cw, 3), round(ch, 3), dpr, look.background.rgb(),
               look.line.rgb(), look.dim.rgb(), base.family())
        img = _IMAGES.get(key)
        if img is not None:
            _IMAGES.move_to_end(key)
            return img
        H, W = self.values.shape
        img = QImage(max(1, int(np.ceil(W * cw * dpr)) + 1), max(1, int(np.ceil(H * ch * dpr)) + 1),
                     QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(dpr)
        img.fill(Qt.GlobalColor.transparent)
        q = QPainter(img)
        q.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self._draw_numbers(q, f, cw, ch, look, base, colours(self.values, self.limit))
        q.end()
        _IMAGES[key] = img
        while len(_IMAGES) > 96:
            _IMAGES.popitem(last=False)
        return img

    def _draw_numbers(self, p, f, cw, ch, look, base, rgb) -> None:
        H, W = self.values.shape
        p.setFont(font_at(base, f))
        grid_pen = QPen(look.line, 1)
        for r in range(H):
            for c in range(W):
                cell = QRectF(c * cw, r * ch, cw, ch)
                v = self.values[r, c]
                dim = self.dim is not None and bool(self.dim[r, c])
                if np.isnan(v):
                    p.fillRect(cell, look.background)
                    colour = None
                elif dim:
                    p.fillRect(cell, QColor("#3a3a3a") if look.background.lightness() < 128
                               else QColor("#d8d8d8"))
                    colour = look.dim
                else:
                    fill = tuple(int(x) for x in rgb[r, c])
                    p.fillRect(cell, QColor(*fill))
                    colour = text_on(fill)
                p.setPen(grid_pen)
                p.drawRect(cell)
                if colour is not None:
                    p.setPen(colour)
                    p.drawText(cell, Qt.AlignmentFlag.AlignCenter, number_text(v, self.decimals))

    def _blank_hidden(self, p: QPainter, area: QRectF, cw: float, ch: float, look: Look) -> None:
        """Empty the cells not filled in yet: one rectangle per run of them in a row, then
        the cell borders again (a map filling in is a suffix: at most one run a row)."""
        H, W = self.hide.shape
        for r in range(H):
            row = self.hide[r]
            if not row.any():
                continue
            edges = np.flatnonzero(np.diff(np.r_[0, row.astype(np.int8), 0]))
            for c0, c1 in zip(edges[::2], edges[1::2], strict=True):
                p.fillRect(QRectF(area.left() + c0 * cw, area.top() + r * ch, (c1 - c0) * cw, ch),
                           look.background)
        p.setPen(QPen(look.line, 1))
        if min(cw, ch) >= 8 or self.numbered:
            p.drawLines([QLineF(area.left() + c * cw, area.top(), area.left() + c * cw,
                                area.bottom()) for c in range(1, W)]
                        + [QLineF(area.left(), area.top() + r * ch, area.right(),
                                  area.top() + r * ch) for r in range(1, H)])
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(area)

    def _colour_image(self, size, look: Look) -> QImage:
        """The grid as coloured cells without numbers, scaled to ``size`` px, cached like
        :meth:`_numbers_image` (a 40×40 map rebuilt and rescaled every tick costs ms)."""
        key = ("colour", self.values.tobytes(), self.values.shape,
               None if self.dim is None else self.dim.tobytes(), self.limit,
               size.width(), size.height(), look.background.rgb(), look.line.rgb())
        img = _IMAGES.get(key)
        if img is not None:
            _IMAGES.move_to_end(key)
            return img
        rgb = colours(self.values, self.limit)
        H, W = rgb.shape[:2]
        argb = np.empty((H, W, 4), np.uint8)
        blank = rgb[..., 0] < 0
        bg = look.background
        argb[..., 0] = np.where(blank, bg.blue(), rgb[..., 2])
        argb[..., 1] = np.where(blank, bg.green(), rgb[..., 1])
        argb[..., 2] = np.where(blank, bg.red(), rgb[..., 0])
        argb[..., 3] = 255
        if self.dim is not None:
            argb[self.dim.astype(bool), :3] = 90
        # RGB32 scaled without smoothing: hard cell edges, and the painter's fast path.
        small = QImage(argb.data, W, H, W * 4, QImage.Format.Format_RGB32)
        img = small.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                           Qt.TransformationMode.FastTransformation)
        q = QPainter(img)
        q.setPen(QPen(look.line, 1))
        cw, ch = size.width() / W, size.height() / H
        if min(cw, ch) >= 8:  # cells big enough to count: draw their borders
            q.drawLines([QLineF(c * cw, 0, c * cw, size.height()) for c in range(1, W)]
                        + [QLineF(0, r * ch, size.width(), r * ch) for r in range(1, H)])
        q.drawRect(0, 0, size.width() - 1, size.height() - 1)
        q.end()
        _IMAGES[key] = img
        while len(_IMAGES) > 96:
            _IMAGES.popitem(last=False)
        return img


def widest(values: np.ndarray, decimals: int) -> str:
    """The widest text among ``values`` (the longest of the min and max, signs included)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "0"
    return max((number_text(float(v.min()), decimals), number_text(float(v.max()), decimals)),
               key=len)
