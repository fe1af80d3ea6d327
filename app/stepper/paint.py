"""Number grids and arithmetic drawn with QPainter, sized so a projector can show them.

Every step-through screen is a few rows of *blocks* — a grid of numbers with a title,
an operator ("×", "="), a few lines of arithmetic, a pair of bars — whose sizes are in
units of ``f``, the number font's pixel size. :func:`fit` finds the largest ``f`` at
which the rows fit the widget, so numbers grow with the screen (16 px at 720p full
screen, 48 px at 4K) and nothing is clipped or overlaps. A grid whose numbers cannot be
read at the legible size drops its numbers and shows colours only (the views decide,
with :func:`choose_numbered`): what cannot be read is not shown as text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from app import look as app_look
from app.numbers import value_text as number_text

REF_PX = 100.0  # text is measured once at this pixel size and scaled: widths are linear in f
GAP = 1.0  # between blocks, in units of f
ROW_GAP = 0.8
TITLE_H = 1.45  # a grid title's line
CELL_H = 1.6
PAD = 0.7  # a cell's width beyond its widest number


@dataclass
class Look:
    """The colours of :mod:`app.look` as QColors, on the widget's own background."""

    background: QColor
    text: QColor
    dim: QColor
    line: QColor
    accent: QColor
    good: QColor = field(default_factory=lambda: QColor("#2e9e5b"))

    @classmethod
    def of(cls, widget) -> Look:
        pal = widget.palette()
        bg = pal.window().color()
        base = app_look.DARK if bg.lightness() < 128 else app_look.LIGHT
        return cls(bg, pal.windowText().color(), QColor(base.dim), QColor(base.line),
                   QColor(base.accent))


class Metrics:
    """Text widths in units of ``f`` for one font family (cached: a grid measures its numbers
    once per paint)."""

    def __init__(self, family: QFont) -> None:
        self.font = QFont(family)
        self.font.setPixelSize(int(REF_PX))
        self.bold = QFont(self.font)
        self.bold.setBold(True)
        self._fm = QFontMetricsF(self.font)
        self._fmb = QFontMetricsF(self.bold)
        self._cache: dict[tuple[str, bool], float] = {}

    def width(self, text: str, bold: bool = False) -> float:
        key = (text, bold)
        w = self._cache.get(key)
        if w is None:
            w = (self._fmb if bold else self._fm).horizontalAdvance(text) / REF_PX
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = w
        return w


def font_at(base: QFont, px: float, bold: bool = False, scale: float = 1.0) -> QFont:
    f = QFont(base)
    f.setPixelSize(max(1, int(px * scale)))
    f.setBold(bold)
    return f


# ----- blocks ----------------------------------------------------------------------------------
@dataclass
class Block:
    """A rectangle ``w × h`` (units of f) that paints itself into a pixel rect."""

    w: float
    h: float
    draw: Callable[[QPainter, QRectF, float], None]
    key: str = ""  # grids: the name clicks report


@dataclass
class Placed:
    block: Block
    rect: QRectF


def fit(rows: list[list[Block]], width: float, height: float, max_px: float) -> float:
    """The largest f (px) at which ``rows`` fit ``width × height``, at most ``max_px``."""
    need_w = max((sum(b.w for b in row) + GAP * (len(row) - 1) for row in rows if row), default=1)
    need_h = sum(max(b.h for b in row) for row in rows if row) + ROW_GAP * (len(rows) - 1)
    return max(1.0, min(width / max(need_w, 1e-6), height / max(need_h, 1e-6), max_px))


def place(rows: list[list[Block]], rect: QRectF, f: float) -> list[Placed]:
    """Rows centred horizontally, stacked from the top, each block top-aligned."""
    out = []
    heights = [max((b.h for b in row), default=0) * f for row in rows]
    total_h = sum(heights) + ROW_GAP * f * (len(rows) - 1)
    y = rect.top() + max(0.0, (rect.height() - total_h) / 2)
    for row, h in zip(rows, heights, strict=True):
        w = sum(b.w for b in row) * f + GAP * f * (len(row) - 1)
        x = rect.left() + max(0.0, (rect.width() - w) / 2)
        for b in row:
            out.append(Placed(b, QRectF(x, y + (h - b.h * f) / 2 if b.h < 2.5 else y,
                                        b.w * f, b.h * f)))
            x += (b.w + GAP) * f
        y += h + ROW_GAP * f
    return out


# ----- colours ---------------------------------------------------------------------------------
_LUT = app_look.DIVERGING_LUT  # (256, 3) uint8, blue → white → red
_IMAGES: OrderedDict[tuple, QImage] = OrderedDict()  # Grid._numbers_image's cache


def colours(values: np.ndarray, limit: float) -> np.ndarray:
    """(…, 3) uint8 cell colours: the app's diverging map, ends trimmed so text stays readable.

    NaN (a cell not filled in yet) comes back as -1 in every channel.
    """
    v = np.asarray(values, np.float64)
    t = np.clip(v / max(limit, 1e-9), -1, 1) * 0.36 + 0.5  # 0.14 … 0.86 of the map
    idx = np.nan_to_num(t * 255, nan=0).astype(int)
    rgb = _LUT[idx].astype(np.int16)
    rgb[np.isnan(v)] = -1
    return rgb


def text_on(rgb: tuple[int, int, int]) -> QColor:
    r, g, b = rgb
    return QColor("#000000") if 0.299 * r + 0.587 * g + 0.114 * b > 140 else QColor("#ffffff")


# ----- grids -----------------------------------------------------------------------------------
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


# ----- text ------------------------------------------------------------------------------------
@dataclass
class Lines:
    """A few lines of arithmetic, left-aligned; ``accent`` lines are drawn in the accent colour."""

    lines: list[str]
    bold: set[int] = field(default_factory=set)
    accent: set[int] = field(default_factory=set)
    scale: float = 1.0
    centre: bool = False

    def block(self, m: Metrics, look: Look, base: QFont) -> Block:
        w = max((m.width(t, bold=i in self.bold) for i, t in enumerate(self.lines)), default=0)
        return Block(w * self.scale + 0.2, max(1, len(self.lines)) * 1.45 * self.scale,
                     lambda p, r, f: self.draw(p, r, f, look, base))

    def draw(self, p: QPainter, rect: QRectF, f: float, look: Look, base: QFont) -> None:
        lh = 1.45 * f * self.scale
        align = Qt.AlignmentFlag.AlignHCenter if self.centre else Qt.AlignmentFlag.AlignLeft
        for i, text in enumerate(self.lines):
            p.setFont(font_at(base, f, bold=i in self.bold, scale=self.scale))
            p.setPen(look.accent if i in self.accent else look.text)
            p.drawText(QRectF(rect.left(), rect.top() + i * lh, rect.width(), lh),
                       align | Qt.AlignmentFlag.AlignVCenter, text)


def symbol(text: str, m: Metrics, look: Look, base: QFont, height: float = 4.0) -> Block:
    """An operator between grids ("×", "=", "→"), drawn large, centred on the grids' cells."""
    w = m.width(text, bold=True) * 1.4 + 0.4

    def draw(p: QPainter, rect: QRectF, f: float) -> None:
        p.setFont(font_at(base, f, bold=True, scale=1.4))
        p.setPen(look.text)
        body = QRectF(rect.left(), rect.top() + TITLE_H * f, rect.width(),
                      max(rect.height() - TITLE_H * f, f))
        p.drawText(body, Qt.AlignmentFlag.AlignCenter, text)

    return Block(w, height, draw)


@dataclass
class Bars:
    """One horizontal bar per class, with its name and value: the vote totals growing."""

    names: list[str]
    values: np.ndarray
    limit: float
    decimals: int = 2
    lead: int | None = None  # the bar drawn in the accent colour

    def block(self, m: Metrics, look: Look, base: QFont) -> Block:
        name_w = max(m.width(n, bold=True) for n in self.names) + 0.6
        self._name_w = name_w
        return Block(name_w + 14.0, len(self.names) * 1.9,
                     lambda p, r, f: self.draw(p, r, f, look, base))

    def draw(self, p: QPainter, rect: QRectF, f: float, look: Look, base: QFont) -> None:
        for i, (name, v) in enumerate(zip(self.names, self.values, strict=True)):
            y = rect.top() + i * 1.9 * f
            p.setFont(font_at(base, f, bold=True))
            p.setPen(look.text)
            p.drawText(QRectF(rect.left(), y, self._name_w * f, 1.6 * f),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            x0 = rect.left() + self._name_w * f
            full = rect.right() - x0
            length = full * max(0.0, float(v)) / max(self.limit, 1e-9)
            colour = look.accent if i == self.lead else QColor(app_look.BAR)
            p.fillRect(QRectF(x0, y + 0.1 * f, max(length, 1.0), 1.4 * f), colour)
            text = number_text(float(v), self.decimals)
            p.setFont(font_at(base, f))
            tw = QFontMetricsF(p.font()).horizontalAdvance(text) + 0.4 * f
            inside = length > tw
            p.setPen(QColor("#000000") if inside and colour == look.accent else
                     (QColor("#ffffff") if inside else look.text))
            tx = x0 + (length - tw if inside else length + 0.3 * f)
            p.drawText(QRectF(tx, y, tw, 1.6 * f), Qt.AlignmentFlag.AlignVCenter, text)


def choose_numbered(grids: list[Grid], rows_for: Callable[[], list[list[Block]]],
                    width: float, height: float, legible: float, max_px: float) -> float:
    """Drop numbers from the biggest grids until the rest fit at ``legible`` px; returns f.

    ``rows_for()`` rebuilds the blocks from ``grids`` (whose ``numbered`` flags this
    changes). Grids of 3×3 and smaller always keep their numbers: they are the arithmetic.
    """
    while True:
        f = fit(rows_for(), width, height, max_px)
        if f >= legible:
            return f
        big = [g for g in grids if g.numbered and g.values.size > 9]
        if not big:
            return f
        max(big, key=lambda g: g.values.size).numbered = False
