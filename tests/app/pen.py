"""One pen stroke on a canvas with real mouse events, for the app tests."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt


def stroke(qtbot, canvas, points: list[tuple[float, float]]) -> None:
    """Press, move and release through ``points`` (fractions of the canvas's drawing
    square) with pytest-qt's mouse events."""
    side = min(canvas.width(), canvas.height())
    x0, y0 = (canvas.width() - side) / 2, (canvas.height() - side) / 2

    def at(p: tuple[float, float]) -> QPoint:
        return QPoint(int(x0 + p[0] * side), int(y0 + p[1] * side))

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(points[0]))
    for p in points[1:]:
        qtbot.mouseMove(canvas, at(p))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(points[-1]))
