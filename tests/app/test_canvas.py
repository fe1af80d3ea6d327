"""The drawing pad keeps a fast stroke's shape: what a student drew is what the network gets.

When the GUI thread is busy, Qt merges pen moves, so a quick stroke arrives as a few
far-apart points. The canvas draws a smooth curve through them; these tests compare it
with the straight lines it used to draw, against the same stroke sent densely.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from app.canvas import SIZE, Canvas


@pytest.fixture
def canvas(qtbot):
    pad = Canvas()
    qtbot.addWidget(pad)
    pad.resize(SIZE, SIZE)  # one widget pixel per raster pixel
    pad.show()
    qtbot.waitExposed(pad)
    return pad


def circle(n: int, radius: float = 100.0) -> list[QPoint]:
    """``n`` points around a circle, the first repeated at the end (a closed "0")."""
    c = SIZE / 2
    return [QPoint(round(c + radius * math.cos(2 * math.pi * k / n)),
                   round(c + radius * math.sin(2 * math.pi * k / n))) for k in range(n + 1)]


def draw(qtbot, canvas: Canvas, points: list[QPoint]) -> np.ndarray:
    canvas.clear()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=points[-1])
    return canvas.raster()


def straight_lines(canvas: Canvas, points: list[QPoint]) -> np.ndarray:
    """The same points joined by straight lines with the canvas's pen: the old drawing."""
    raster = np.zeros((SIZE, SIZE), np.uint8)
    image = QImage(raster.data, SIZE, SIZE, SIZE, QImage.Format.Format_Grayscale8)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(255, 255, 255), canvas.brush)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    for a, b in itertools.pairwise(points):
        painter.drawLine(QPointF(a), QPointF(b))
    painter.end()
    return raster


def wrong_pixels(a: np.ndarray, b: np.ndarray) -> int:
    """Pixels inked in one raster and not the other (ink: over half intensity)."""
    return int(np.count_nonzero((a > 127) ^ (b > 127)))


def test_a_fast_circle_stays_round(qtbot, canvas) -> None:
    true = draw(qtbot, canvas, circle(360))  # a slow stroke: every move arrives
    fast = circle(9)  # the same stroke with most moves merged away
    curve = draw(qtbot, canvas, fast)
    lines = straight_lines(canvas, fast)
    assert wrong_pixels(lines, true) > 1000  # the polygon a fast "0" used to become
    assert wrong_pixels(curve, true) < wrong_pixels(lines, true) / 3


def test_the_ink_passes_through_every_point_and_ends_where_the_pen_lifted(qtbot, canvas
                                                                            ) -> None:
    zigzag = [QPoint(40, 60), QPoint(120, 260), QPoint(200, 70), QPoint(290, 250)]
    raster = draw(qtbot, canvas, zigzag)
    for p in zigzag:
        assert raster[p.y(), p.x()] == 255, f"no ink at {p}"
    canvas.undo()  # one stroke, its last piece included, is one undoable step
    assert not canvas.raster().any()


def test_a_tap_is_a_dot_and_a_two_point_stroke_a_line(qtbot, canvas) -> None:
    dot = draw(qtbot, canvas, [QPoint(100, 100)])
    assert dot[100, 100] == 255 and np.count_nonzero(dot > 127) < 30 * 30
    line = draw(qtbot, canvas, [QPoint(60, 160), QPoint(260, 160)])
    assert (line[160, 60:261] == 255).all()
    rows = np.nonzero((line > 127).any(axis=1))[0]
    assert rows.min() >= 160 - canvas.brush / 2 - 1 and rows.max() <= 160 + canvas.brush / 2 + 1
