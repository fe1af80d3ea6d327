"""Painting that remembers what it painted: text, number grids and colour images.

Every string the stage draws goes through :meth:`Ink.text`, which draws it and records
a :class:`Shown` (the text, its box, the box it had to fit, its pixel size, and for a
number what it is). Tests and the screenshot script read those records, so what they
check is what was painted, not a model of it. Grids and images are numpy → one
``QImage`` → one scaled ``drawImage`` each; numbers are drawn at a baseline point
(no per-string text layout), which keeps a stage with ~150 numbers well inside a frame.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap

from app.look import (
    DIVERGING_LUT,
    GREY_LUT,
    Look,
    Type,
    fit_px,
    font,
    line_height,
    metrics,
    text_width,
)
from app.numbers import value_text


def _table(lut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rgb = lut[:, :3].astype(np.uint32)
    argb = (0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).astype(np.uint32)
    # black or white text, whichever contrasts more with the cell (WCAG luminance)
    c = rgb / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    lum = lin @ np.array([0.2126, 0.7152, 0.0722])
    light = (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05)  # True: dark text reads better
    return argb, light


DIVERGING_ARGB, DIVERGING_LIGHT = _table(DIVERGING_LUT)
GREY_ARGB, GREY_LIGHT = _table(GREY_LUT)


def slide(v: float) -> str:
    """A value of a slide's table: the one rule (:func:`app.numbers.value_text`)."""
    return value_text(v, 2)


@dataclass(frozen=True)
class Shown:
    """One string as painted: its box ``rect`` must lie inside ``cell``.

    ``role`` is "number" (a value of the network: ``label`` says which, e.g.
    ``conv[0,3,4]``, and ``value`` holds it), "weight" (a number that is a weight),
    or "label"/"title" for words.
    """

    text: str
    rect: QRectF
    cell: QRectF
    px: int
    role: str = "label"
    label: str = ""
    value: float = math.nan


@dataclass(frozen=True)
class Painted:
    """One colour image or grid as painted; ``role`` is "activity" or "weight"."""

    rect: QRectF
    role: str
    label: str = ""


_GLYPHS: OrderedDict[tuple, QPixmap] = OrderedDict()
_GLYPH_BYTES = [0]
GLYPH_BUDGET = 24 * 2**20  # bytes of pre-rendered text kept; the least used go first


def glyphs(text: str, px: int, bold: bool, rgb: int, dpr: float) -> QPixmap:
    """``text`` pre-rendered once per size and colour: a pixmap blit is about twice as
    fast as laying out and rasterising the string again on every frame.

    The cache holds at most :data:`GLYPH_BUDGET` bytes, least recently used out first:
    every value a stage paints is a new text, and at 4K one is tens of kilobytes — a
    cache bounded by count (20,000) could hold half a gigabyte."""
    key = (text, px, bold, rgb, dpr)
    pm = _GLYPHS.get(key)
    if pm is not None:
        _GLYPHS.move_to_end(key)
    else:
        w, h = text_width(text, px, bold), line_height(px, bold)
        pm = QPixmap(max(1, math.ceil(w * dpr) + 2), max(1, math.ceil(h * dpr)))
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        q = QPainter(pm)
        q.setFont(font(px, bold))
        q.setPen(QColor.fromRgba(rgb))
        q.drawText(QPointF(0, metrics(px, bold).ascent()), text)
        q.end()
        _GLYPHS[key] = pm
        _GLYPH_BYTES[0] += pm.width() * pm.height() * 4
        while _GLYPH_BYTES[0] > GLYPH_BUDGET and len(_GLYPHS) > 1:
            _, old = _GLYPHS.popitem(last=False)
            _GLYPH_BYTES[0] -= old.width() * old.height() * 4
    return pm


class Ink:
    """A QPainter wrapper for one paint pass that records every text and colour area.

    The records are kept as plain tuples while painting (a frame draws ~150 numbers and
    must stay well inside 5 ms) and turned into :class:`Shown` only when asked for.
    """

    def __init__(self, painter: QPainter, look: Look, type_: Type,
                 clip: QRectF | None = None) -> None:
        self.p = painter
        self.clip = clip  # only this part is being repainted (None: all of it)
        self.look = look
        self.type = type_
        self.records: list[tuple] = []
        self.painted: list[Painted] = []
        # thumbnail grids as painted: (rects, role, label of index i), made into
        # Painted only when read (:func:`painted_from`) — a grid paints ~100 per frame
        self.batches: list[tuple[list[QRectF], str, Callable[[int], str]]] = []
        self._text_rgb = QColor(look.text).rgba()
        self.dpr = painter.device().devicePixelRatioF() if painter.device() else 1.0

    @property
    def shown(self) -> list[Shown]:
        return shown_from(self.records)

    def visible(self, rect: QRectF) -> bool:
        """Whether ``rect`` is in the part being repainted: work for what is not (a
        thumbnail sheet's colours) can be left out; its records are kept all the same."""
        return self.clip is None or self.clip.intersects(rect)

    # ----- text -----------------------------------------------------------------------
    def text(self, cell: QRectF, text: str, px: int, *, align: str = "center",
             valign: str = "center", color: QColor | str | None = None, bold: bool = True,
             role: str = "label", label: str = "", value: float = math.nan) -> QRectF:
        """Draw ``text`` in ``cell`` (aligned "left"/"center"/"right") and record it."""
        if not text:
            return QRectF()
        w, h = text_width(text, px, bold), line_height(px, bold)
        if role in ("number", "weight") and w > cell.width() > 0:
            # an unexpectedly wide value: smaller type rather than a number cut off
            px = fit_px(text, cell.width(), max(cell.height(), h), px, bold)
            w, h = text_width(text, px, bold), line_height(px, bold)
        if align == "left":
            x = cell.left()
        elif align == "right":
            x = cell.right() - w
        else:
            x = cell.center().x() - w / 2
        if valign == "top":
            y = cell.top()
        elif valign == "bottom":
            y = cell.bottom() - h
        else:
            y = cell.center().y() - h / 2
        rgb = QColor(color).rgba() if color is not None else self._text_rgb
        self.p.drawPixmap(QPointF(x, y), glyphs(text, px, bold, rgb, self.dpr))
        self.records.append((text, x, y, w, h, cell.x(), cell.y(), cell.width(),
                             cell.height(), px, role, label, value))
        return QRectF(x, y, w, h)

    def fit_text(self, cell: QRectF, variants: tuple[str, ...] | list[str], px: int,
                 **kw) -> QRectF:
        """Draw the first of ``variants`` that fits ``cell``; none fits, nothing is drawn.

        How secondary labels give way on a small stage instead of overlapping.
        """
        for text in variants:
            if text_width(text, px) <= cell.width() + 0.01 and line_height(px) <= (
                    cell.height() + 0.01):
                return self.text(cell, text, px, **kw)
        return QRectF()

    # ----- colour ---------------------------------------------------------------------
    @staticmethod
    def indices(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        idx = (np.asarray(values, np.float32) - lo) * scale
        np.fmax(idx, 0, out=idx)  # fmax/fmin, not clip: they also turn NaN into 0
        np.fmin(idx, 255, out=idx)
        return idx.astype(np.uint8)

    def image(self, rect: QRectF, values: np.ndarray, lo: float, hi: float,
              table: np.ndarray = DIVERGING_ARGB, role: str = "activity",
              label: str = "", source: QRectF | None = None) -> np.ndarray:
        """Fill ``rect`` with ``values`` (2-D) through a colour ``table``; returns indices."""
        idx = self.indices(values, lo, hi)
        self.draw_indexed(rect, idx, table, role, label, source)
        return idx

    def draw_indexed(self, rect: QRectF, idx: np.ndarray, table: np.ndarray,
                     role: str = "activity", label: str = "",
                     source: QRectF | None = None) -> None:
        argb = np.ascontiguousarray(np.take(table, idx))
        h, w = argb.shape
        img = QImage(argb.data, w, h, 4 * w, QImage.Format.Format_RGB32)
        if source is None:
            self.p.drawImage(rect, img)
        else:
            self.p.drawImage(rect, img, source)
        self.painted.append(Painted(QRectF(rect), role, label))

    def sheet(self, maps: np.ndarray, lo: float, hi: float,
              table: np.ndarray = DIVERGING_ARGB) -> QImage:
        """``maps`` (n, h, w) stacked into one image (n·h × w), for many thumbnails."""
        n, h, w = maps.shape
        argb = np.ascontiguousarray(np.take(table, self.indices(maps.reshape(n * h, w), lo, hi)))
        img = QImage(argb.data, w, n * h, 4 * w, QImage.Format.Format_RGB32)
        return img.copy()  # own the pixels: the numpy buffer dies with this call

    def thumbs(self, rects: list[QRectF], sheet: QImage | None, h: int, w: int,
               role: str = "activity", label: Callable[[int], str] = str) -> None:
        """Map ``i`` of ``sheet`` (see :meth:`sheet`) into ``rects[i]``, for every rect
        (``sheet`` None: recorded, not drawn — the grid is outside the part repainted).

        A grid of a hundred thumbnails is on the pen's path on the stage (issue #24): one
        loop over cached source rects, the records kept as one batch, costs a fifth of a
        drawImage and a record per map (0.4 against 2 ms for conv2's 160 at 1080p)."""
        if sheet is not None:
            draw = self.p.drawImage
            for r, src in zip(rects, _sources(len(rects), h, w)):
                draw(r, sheet, src)
        self.batches.append((rects, role, label))

    # ----- lines ----------------------------------------------------------------------
    def outline(self, rect: QRectF, color: str | None = None, width: float | None = None) -> None:
        pen = QPen(QColor(color or self.look.line))
        pen.setWidthF(width or self.type.pen)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        self.p.setPen(pen)
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        self.p.drawRect(rect)

    def outlines(self, rects: list[QRectF], color: str | None = None,
                 width: float | None = None) -> None:
        """Many outlines in one call (a thumbnail grid's frames).

        Drawn as four filled bars per rect, the pixels a mitred pen of that width would
        cover: filling rects skips the stroker, three times faster for a grid (0.15
        against 0.46 ms for 96 frames). A list kept by the caller (a layout's) keeps its
        bars cached."""
        if not rects:
            return
        self.p.setPen(Qt.PenStyle.NoPen)
        self.p.setBrush(QColor(color or self.look.line))
        self.p.drawRects(_rings(rects, width or self.type.pen))
        self.p.setBrush(Qt.BrushStyle.NoBrush)

    def lines(self, rect: QRectF, rows: int, cols: int, color: str | None = None,
              every: int = 1, width: float | None = None) -> None:
        """Grid lines of a rows×cols grid in ``rect``: every ``every`` cells, and the frame."""
        pen = QPen(QColor(color or self.look.line))
        pen.setWidthF(width or self.type.pen)
        self.p.setPen(pen)
        cw, ch = rect.width() / cols, rect.height() / rows
        segs = [QLineF(rect.left(), rect.top() + r * ch, rect.right(), rect.top() + r * ch)
                for r in range(0, rows + 1, every)]
        segs += [QLineF(rect.left() + c * cw, rect.top(), rect.left() + c * cw, rect.bottom())
                 for c in range(0, cols + 1, every)]
        segs += [QLineF(rect.topRight(), rect.bottomRight()),
                 QLineF(rect.bottomLeft(), rect.bottomRight())]
        self.p.drawLines(segs)

    def arrow(self, a: QPointF, b: QPointF, color: str | None = None) -> None:
        """A line from ``a`` to ``b`` with a head at ``b``."""
        col = QColor(color or self.look.dim)
        pen = QPen(col)
        pen.setWidthF(max(2.0, self.type.pen * 2))
        self.p.setPen(pen)
        self.p.drawLine(a, b)
        d = b - a
        n = math.hypot(d.x(), d.y()) or 1.0
        ux, uy = d.x() / n, d.y() / n
        s = max(6.0, self.type.min_px * 0.45)
        left = QPointF(b.x() - s * ux + s * 0.6 * uy, b.y() - s * uy - s * 0.6 * ux)
        right = QPointF(b.x() - s * ux - s * 0.6 * uy, b.y() - s * uy + s * 0.6 * ux)
        self.p.setBrush(col)
        self.p.drawPolygon([b, left, right])
        self.p.setBrush(Qt.BrushStyle.NoBrush)

    def fill(self, rect: QRectF, color: str) -> None:
        self.p.fillRect(rect, QColor(color))

    # ----- grids with numbers ---------------------------------------------------------
    def grid(self, rect: QRectF, values: np.ndarray | None, rows: int, cols: int, *,
             lo: float = -1.0, hi: float = 1.0, table: np.ndarray = DIVERGING_ARGB,
             light: np.ndarray = DIVERGING_LIGHT, px: int = 0,
             fmt: Callable[[float], str] = slide, name: str = "", role: str = "number",
             every: int = 1) -> None:
        """A rows×cols grid of coloured cells with each value written in its cell.

        ``values`` None draws the empty grid (no colours, no numbers: nothing to show).
        ``px`` 0 leaves the numbers out. ``name`` labels the numbers "name[r,c]".
        ``every`` > 1 draws a heavier line every that many cells (pooling windows).
        """
        if values is not None:
            idx = self.image(rect, values, lo, hi, table,
                             "weight" if role == "weight" else "activity", name)
            if px:
                self.numbers(rect, values, idx, light, px, fmt, name, role)
        self.lines(rect, rows, cols)
        if every > 1:
            # windows as separate blocks: a background-coloured gap between them
            gap = max(3.0, 0.08 * rect.width() / cols)
            self.lines(rect, rows, cols, self.look.background, every, gap)
            self.outline(rect, self.look.text, self.type.pen * 1.5)
        else:
            self.outline(rect, self.look.text, self.type.pen * 1.5)

    def numbers(self, rect: QRectF, values: np.ndarray, idx: np.ndarray, light: np.ndarray,
                px: int, fmt: Callable[[float], str], name: str, role: str) -> None:
        rows, cols = values.shape
        cw, ch = rect.width() / cols, rect.height() / rows
        h = line_height(px)
        x0, y0 = rect.left(), rect.top()
        vals = values.tolist()
        lights = light[idx].tolist()
        dark, white = 0xFF000000, 0xFFFFFFFF
        draw, dpr, records = self.p.drawPixmap, self.dpr, self.records
        for r in range(rows):
            cy = y0 + (r + 0.5) * ch
            for c in range(cols):
                v = vals[r][c]
                text = fmt(v)
                w = text_width(text, px)
                x, y = x0 + (c + 0.5) * cw - w / 2, cy - h / 2
                draw(QPointF(x, y), glyphs(text, px, True, dark if lights[r][c] else white, dpr))
                records.append((text, x, y, w, h, x0 + c * cw, y0 + r * ch, cw, ch, px, role,
                                (name, r, c), v))


_SOURCES: dict[tuple[int, int, int], list[QRectF]] = {}
_RINGS: dict[tuple[int, float], tuple[list[QRectF], list[QRectF]]] = {}


def _sources(n: int, h: int, w: int) -> list[QRectF]:
    """The rects of maps 0…n-1 in a sheet of h×w maps (a handful of shapes per network)."""
    key = (n, h, w)
    src = _SOURCES.get(key)
    if src is None:
        if len(_SOURCES) > 64:
            _SOURCES.clear()
        src = _SOURCES[key] = [QRectF(0, i * h, w, h) for i in range(n)]
    return src


def _rings(rects: list[QRectF], width: float) -> list[QRectF]:
    """Four bars per rect covering [edge − width/2, edge + width/2] on every side."""
    key = (id(rects), width)
    hit = _RINGS.get(key)
    if hit is not None and hit[0] is rects:  # the same list, kept by its layout
        return hit[1]
    bars = []
    half = width / 2
    for r in rects:
        x, y, w, h = r.x() - half, r.y() - half, r.width() + width, r.height() + width
        side = max(h - 2 * width, 0.0)  # a rect thinner than its frame: top and bottom
        bars += [QRectF(x, y, w, width), QRectF(x, y + h - width, w, width),
                 QRectF(x, y + width, width, side), QRectF(x + w - width, y + width, width, side)]
    if len(_RINGS) > 256:
        _RINGS.clear()
    _RINGS[key] = (rects, bars)
    return bars


def painted_from(painted: list[Painted], batches: list[tuple]) -> list[Painted]:
    """Every colour area of a paint: those recorded one by one, then the batches'."""
    out = list(painted)
    for rects, role, label in batches:
        out += [Painted(r, role, label(i)) for i, r in enumerate(rects)]
    return out


def shown_from(records: list[tuple]) -> list[Shown]:
    """Records kept while painting → :class:`Shown` (labels of numbers made here)."""
    out = []
    for text, x, y, w, h, cx, cy, cw, ch, px, role, label, value in records:
        if isinstance(label, tuple):
            label = f"{label[0]}[{label[1]},{label[2]}]"
        out.append(Shown(text, QRectF(x, y, w, h), QRectF(cx, cy, cw, ch), px, role, label,
                         value))
    return out
