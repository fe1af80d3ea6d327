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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from app import look as app_look

if TYPE_CHECKING:
    from app.stepper.grid import Grid
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
