"""The stage's painting helpers that keep its busiest step inside a gap between two pen
moves (issue #24): a thumbnail grid drawn from cached source rects with its records
kept as one batch, and outlines drawn as filled bars instead of a stroked pen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from app.look import DARK, Type
from app.stage.ink import Ink, painted_from


def _canvas() -> QImage:
    img = QImage(200, 160, QImage.Format.Format_RGB32)
    img.fill(QColor("black"))
    return img


@pytest.mark.parametrize("width", [1.0, 2.0, 3.0, 4.0])
def test_outline_bars_cover_the_pixels_a_mitred_pen_covers(qtbot, width):
    rects = [QRectF(10, 10, 40, 30), QRectF(70, 20, 55, 55), QRectF(20, 90, 100, 40)]
    by_pen, by_bars = _canvas(), _canvas()
    p = QPainter(by_pen)
    pen = QPen(QColor("white"))
    pen.setWidthF(width)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    p.setPen(pen)
    p.drawRects(rects)
    p.end()
    p = QPainter(by_bars)
    Ink(p, DARK, Type(1280, 720)).outlines(rects, "white", width)
    p.end()
    a = np.array([[by_pen.pixel(x, y) & 0xFF for x in range(200)] for y in range(160)])
    b = np.array([[by_bars.pixel(x, y) & 0xFF for x in range(200)] for y in range(160)])
    assert (a > 0).sum() > 0
    np.testing.assert_array_equal(a > 0, b > 0)


def test_a_grid_outside_the_repainted_part_is_recorded_not_drawn(qtbot):
    sheet_values = np.linspace(-1, 1, 4 * 3 * 3, dtype=np.float32).reshape(4, 3, 3)
    rects = [QRectF(10 + 30 * i, 10, 25, 25) for i in range(4)]
    img = _canvas()
    p = QPainter(img)
    ink = Ink(p, DARK, Type(1280, 720), clip=QRectF(0, 100, 200, 60))
    assert not ink.visible(QRectF(10, 10, 115, 25)) and ink.visible(QRectF(0, 90, 10, 20))
    ink.thumbs(rects, None, 3, 3, label=lambda i: f"conv[{i}]")
    p.end()
    assert {img.pixel(x, 20) & 0xFFFFFF for x in range(10, 125)} == {0}
    painted = painted_from(ink.painted, ink.batches)
    assert [a.label for a in painted] == ["conv[0]", "conv[1]", "conv[2]", "conv[3]"]
    assert [a.rect for a in painted] == rects and {a.role for a in painted} == {"activity"}

    img = _canvas()
    p = QPainter(img)
    ink = Ink(p, DARK, Type(1280, 720))
    sheet = ink.sheet(sheet_values, -1, 1)
    ink.thumbs(rects, sheet, 3, 3, "weight", label=lambda i: f"w[{i}]")
    p.end()
    # map i of the sheet lands in rect i: the first map is the most negative (blue side),
    # the last the most positive (red side)
    first, last = QColor(img.pixel(12, 12)), QColor(img.pixel(10 + 90 + 23, 33))
    assert first.blue() > first.red() and last.red() > last.blue()
    assert [a.role for a in painted_from(ink.painted, ink.batches)] == ["weight"] * 4
