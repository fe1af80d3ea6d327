"""The two graphics items every panel draws with: a fast image and its numbers.

:class:`FastImageItem` turns a 2-D float array into a premultiplied ARGB32 image in one
numpy pass (what QPainter draws without converting); :class:`NumbersItem` writes each
cell's value in the cell when it can be read there.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import (
    QGraphicsItem,
)

from app.numbers import value_text


class NumbersItem(QGraphicsItem):
    """Writes each cell's value in the cell, when it can be read there.

    One rule decides everywhere (panels, the enlarged view): a number is written when
    its text, sized to fit inside its cell, is at least :data:`MIN_TEXT_PX` tall. So
    the toy's 7×7 maps carry the lecture's numbers as soon as the window is large enough,
    ten logits get theirs when their cells are wide enough for "-16.4", and a 26×26
    map never turns into a grey smear of digits.

    One item paints all numbers in one call (a ``TextItem`` per cell would be a
    hundred items re-laid out per frame).
    """

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._values: np.ndarray | None = None
        self._limit = 1.0
        self._fmt = "{:.2f}"
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)

    def set_values(self, values: np.ndarray | None, limit: float, fmt: str = "{:.2f}") -> None:
        """Cells to label (2-D, NaN for none) and the level at which text turns white."""
        if values is None or self._values is None or values.shape != self._values.shape:
            self.prepareGeometryChange()
        # Kept by reference, not copied: the panels pass the mosaic buffer, which is
        # refilled in place each frame, and the item only reads it when it paints.
        self._values = None if values is None else np.asarray(values, np.float32)
        self._limit, self._fmt = max(limit, 1e-12), fmt
        self.update()

    def boundingRect(self) -> QRectF:
        if self._values is None:
            return QRectF()
        h, w = self._values.shape
        return QRectF(0, 0, w, h)

    def texts(self) -> list[tuple[int, int, str]]:
        """(row, col, text) of every number this item would write."""
        if self._values is None:
            return []
        rows, cols = np.nonzero(np.isfinite(self._values))
        return [(r, c, format_number(float(self._values[r, c]), self._fmt))
                for r, c in zip(rows.tolist(), cols.tolist())]

    def paint(self, painter: QPainter, *_args: object) -> None:
        if self._values is None:
            return
        t = painter.transform()
        cell = min(abs(t.m11()) + abs(t.m21()), abs(t.m22()) + abs(t.m12()))
        if cell * 0.42 < MIN_TEXT_PX:  # too small for any number: skip the formatting
            return
        font = QFont()
        font.setBold(True)
        font.setPixelSize(100)
        metrics = QFontMetricsF(font)
        # The widest text is one of the two extremes' (more digits, or a minus sign):
        # measuring those, not every cell, keeps a skipped panel's paint cheap.
        finite = self._values[np.isfinite(self._values)]
        if not finite.size:
            return
        widest = max(metrics.horizontalAdvance(format_number(float(v), self._fmt))
                     for v in (finite.min(), finite.max()))
        if int(min(cell * 0.42, 100 * 0.86 * cell / max(widest, 1.0))) < MIN_TEXT_PX:
            return
        texts = self.texts()
        widest = max(metrics.horizontalAdvance(text) for _, _, text in texts)
        px = int(min(cell * 0.42, 100 * 0.86 * cell / max(widest, 1.0)))
        if px < MIN_TEXT_PX:
            return
        font.setPixelSize(px)
        painter.save()
        painter.resetTransform()
        painter.setFont(font)
        dark, light = QColor(0, 0, 0), QColor(255, 255, 255)
        for r, c, text in texts:
            v = float(self._values[r, c])
            centre = t.map(QPointF(c + 0.5, r + 0.5))
            painter.setPen(light if abs(v) > 0.55 * self._limit else dark)
            painter.drawText(QRectF(centre.x() - cell / 2, centre.y() - cell / 2, cell, cell),
                             Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


# The smallest number worth writing, in pixels: smaller reads as noise on any screen.
MIN_TEXT_PX = 9


#: Class names under a panel's cells shrink to fit down to this size, never below (a
#: desk at 1280×720 has cells of 9–15 px: 8 pt bold digits fit, and read at arm's length).
MIN_LABEL_PT = 8
LABEL_GAP_PX = 1  # an advance holds its side bearings: the glyphs stay apart


def fit_labels(names: list[str], points: int, room_px: float | Callable[[QFont], float],
               gap: float = LABEL_GAP_PX) -> tuple[QFont, int]:
    """The bold font, at most ``points`` and at least :data:`MIN_LABEL_PT`, in which every
    name fits in ``room_px`` beside its neighbours, and the step at which to name them:
    1 (all) when one fits; else every k-th name at the smallest size (long names a class
    trained). Measured with the font's own advances, not a label item's padded box.
    ``room_px`` may depend on the font (``room_px(font)``: an axis beside the names
    that shrinks with them)."""
    font = QFont()
    font.setBold(True)
    need = room = 0.0
    for pt in range(max(points, MIN_LABEL_PT), MIN_LABEL_PT - 1, -1):
        font.setPointSize(pt)
        room = room_px(font) if callable(room_px) else room_px
        need = max(QFontMetricsF(font).horizontalAdvance(n) for n in names) + gap
        if need <= room:
            return font, 1
    return font, max(1, int(np.ceil(need / max(room, 1e-6))))


def format_number(v: float, fmt: str) -> str:
    """A cell's text by the one rule for printing values (:mod:`app.numbers`): ``fmt`` is
    "{:.2f}", "{:.1f}" or "{:.0f}", the decimals the panel shows."""
    return value_text(v, int(fmt[-3]) if fmt.endswith("f}") else 2)


class FastImageItem(pg.ImageItem):
    """An ImageItem that renders fast.

    ``setImage(data, autoLevels=False, levels=…, lut=…)`` works as in pyqtgraph; only
    the conversion to a QImage is replaced for the one case panels use (2-D float data,
    a uint8 colour table, fixed levels). pyqtgraph produces RGBA8888 or Indexed8 images
    (with a colour table rebuilt in Python per frame), which QPainter converts again on
    every scaled draw; a premultiplied ARGB32 image built by one numpy ``take`` draws
    directly. NaN (the mosaic gutters) stays transparent, as in pyqtgraph.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._table: np.ndarray | None = None
        self._table_of: int | None = None
        self._argb: np.ndarray | None = None
        self._scaled: np.ndarray | None = None

    def render(self) -> None:
        img, lut, levels = self.image, self.lut, self.levels
        if (img is None or img.ndim != 2 or img.dtype.kind != "f"
                or not isinstance(lut, np.ndarray) or lut.dtype != np.uint8
                or levels is None or np.ndim(levels) != 1):
            super().render()
            return
        n = len(lut)
        if self._table_of != id(lut):
            rgb = lut[:, :3].astype(np.uint32)
            table = np.zeros(n + 1, np.uint32)  # the extra last entry: transparent, for NaN
            table[:n] = 0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
            self._table, self._table_of = table, id(lut)
        lo, hi = float(levels[0]), float(levels[1])
        scale = n / (hi - lo) if hi > lo else 0.0
        if self._argb is None or self._argb.shape != img.shape:
            self._scaled = np.empty(img.shape, np.float32)
            self._argb = np.empty(img.shape, np.uint32)
        # In place, no temporaries: 4–5× faster than clip/where/astype on fresh arrays.
        buf = self._scaled
        np.subtract(img, lo, out=buf)
        np.multiply(buf, scale, out=buf)
        np.clip(buf, 0, n - 1, out=buf)
        np.copyto(buf, n, where=np.isnan(buf))
        np.take(self._table, buf.astype(np.uint16), out=self._argb)
        h, w = self._argb.shape
        self.qimage = QImage(self._argb.data, w, h, 4 * w,
                             QImage.Format.Format_ARGB32_Premultiplied)
        self._renderRequired = False
        self._unrenderable = False
