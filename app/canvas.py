"""The drawing pad: pen, tablet or touch onto a numpy raster the engine reads.

The raster is a ``SIZE``×``SIZE`` uint8 numpy array wrapped (not copied) by a
``QImage``: QPainter paints the stroke straight into the array, and only the dirty
rectangle of the widget is repainted, so the pen is drawn immediately whatever the
network is doing. ``ink()`` hands the engine a float32 copy (ink 1.0 on 0.0).

The raster has a fixed size whatever the widget's size, so a drawing means the same to
the network on a laptop and on a 4K projector; the widget scales it to fit.
"""

from __future__ import annotations

import time

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QTabletEvent,
    QUndoCommand,
    QUndoStack,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.pen_clock import PenClock

# 9 × 36: the 9×9 lecture grids paint as exact blocks, and 324 px is plenty for MNIST.
SIZE = 324
UNDO_LIMIT = 100
BRUSH_RANGE = (2, 80)  # pen widths, in raster pixels
DEFAULT_BRUSH = 22


class _Edit(QUndoCommand):
    """One change of the drawing (a stroke, a clear, a preset, an image), as two rasters.

    Pushed after the change has been made, so the first ``redo`` — which
    ``QUndoStack.push`` calls — has nothing to do.
    """

    def __init__(self, canvas: Canvas, text: str, before: np.ndarray,
                 step: dict | None = None) -> None:
        super().__init__(text)
        self._canvas = canvas
        self._before, self._after = before, canvas._raster.copy()
        self._done = True
        self.step = step  # the transform that made it (experiments read it), if any

    def undo(self) -> None:
        self._canvas._restore(self._before)

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._canvas._restore(self._after)


class Canvas(QWidget):
    """A square drawing surface. Emits ``changed`` on every paint, undo, clear or load."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setToolTip("Draw here with the mouse, a pen or a finger")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.ink_pending = False  # ink drawn on the raster, not yet painted (the stage waits)
        self._raster = np.zeros((SIZE, SIZE), np.uint8)
        self._image = QImage(self._raster.data, SIZE, SIZE, SIZE, QImage.Format.Format_Grayscale8)
        # Undo/redo with enabled state and a limit, from Qt (house style 18).
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self._stroke_before: np.ndarray | None = None  # the raster when the pen went down
        self._points: list[QPointF] = []  # the stroke's last few points (see _begin)
        # The pen's newest point is inked into the raster one move later (its curve
        # needs the point after it); until then the screen shows a straight "tip" to it,
        # so the ink reaches the pen at every move. ``moves_shown`` counts the moves so
        # shown (benchmarks/ui_bench.py --ink times them).
        self._tip: tuple[QPointF, QPointF, float] | None = None
        self.moves_shown = 0
        self.clock = PenClock()  # when the pen's next move is due (the views' gaps)
        self._pressure = 1.0
        self.brush = float(DEFAULT_BRUSH)
        self.eraser = False
        # The raster scaled to the widget, kept up to date patch by patch, so a repaint
        # is a 1:1 blit rather than a smooth rescale of the whole raster (3 ms at 4K).
        # A QImage, not a QPixmap: a QPixmap that outlives the QApplication (a wrapper
        # kept alive until interpreter exit) crashes the process as it is freed.
        self._shown: QImage | None = None
        self.margin = "#f4f4f4"  # around the square raster; the window's look sets it
        self._overlay: QImage | None = None  # a heat map over the ink (Explain), or None
        self._overlay_data: np.ndarray | None = None  # what the QImage's bytes live in

    # ----- what the engine reads ------------------------------------------------------
    def ink(self) -> np.ndarray:
        """The drawing as float32 ``(SIZE, SIZE)``, ink 1.0 on background 0.0."""
        return self._raster.astype(np.float32) * np.float32(1.0 / 255.0)

    def is_empty(self) -> bool:
        """True when nothing is drawn."""
        return not self._raster.any()

    # ----- commands -------------------------------------------------------------------
    def clear(self) -> None:
        """Wipe the drawing (undoable)."""
        if self.is_empty():
            return
        self._replace(np.zeros_like(self._raster), "clear")

    def undo(self) -> None:
        """Go back one stroke, clear, preset or image."""
        self._end()
        self.undo_stack.undo()

    def redo(self) -> None:
        """Re-apply what ``undo`` took back."""
        self._end()
        self.undo_stack.redo()

    def set_ink(self, ink: np.ndarray) -> None:
        """Replace the drawing with ``ink`` (2-D, [0, 1], any size), fitted and centred."""
        a = np.clip(np.nan_to_num(np.asarray(ink, np.float32)), 0.0, 1.0)
        h, w = a.shape
        scale = SIZE / max(h, w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        if (nh, nw) != (h, w):
            a = np.asarray(Image.fromarray(a, mode="F").resize((nw, nh),
                                                               Image.Resampling.BILINEAR))
        out = np.zeros((SIZE, SIZE), np.uint8)
        top, left = (SIZE - nh) // 2, (SIZE - nw) // 2
        out[top : top + nh, left : left + nw] = np.round(np.clip(a, 0, 1) * 255).astype(np.uint8)
        self._replace(out, "open image")

    def set_grid(self, grid: np.ndarray) -> None:
        """Paint a lecture grid (+1 ink, -1 background) as exact square blocks."""
        grid = np.asarray(grid)
        cell = SIZE // grid.shape[0]
        blocks = np.kron((grid > 0).astype(np.uint8) * 255, np.ones((cell, cell), np.uint8))
        out = np.zeros((SIZE, SIZE), np.uint8)
        out[: blocks.shape[0], : blocks.shape[1]] = blocks
        self._replace(out, "lecture picture")

    def raster(self) -> np.ndarray:
        """A copy of the drawing as uint8 ``(SIZE, SIZE)``, ink 255 on 0."""
        return self._raster.copy()

    def replace(self, raster: np.ndarray, text: str, step: dict | None = None) -> None:
        """Make ``raster`` (uint8 ``(SIZE, SIZE)``) the drawing, as one undoable step
        named ``text`` (what Edit ▸ Undo will take back: "rotate 15°", …); ``step`` is
        the transform that made it, kept with the step for whoever reads the history."""
        raster = np.asarray(raster)
        if raster.shape != (SIZE, SIZE) or raster.dtype != np.uint8:
            raise ValueError(f"a canvas raster is uint8 {SIZE}×{SIZE}, got "
                             f"{raster.dtype} {raster.shape}")
        self._replace(raster, text, step)

    def _replace(self, raster: np.ndarray, text: str, step: dict | None = None) -> None:
        """Make ``raster`` the drawing, as one undoable step (the step attached before
        it is pushed: everything that follows the push sees it)."""
        self._end()
        before = self._raster.copy()
        self._raster[:] = raster
        self.undo_stack.push(_Edit(self, text, before, step))
        self._changed_all()

    def _restore(self, raster: np.ndarray) -> None:
        self._raster[:] = raster
        self._changed_all()

    # ----- pen input ------------------------------------------------------------------
    def _to_raster(self, pos: QPointF) -> QPointF:
        r = self._target()
        return QPointF((pos.x() - r.x()) * SIZE / r.width(), (pos.y() - r.y()) * SIZE / r.height())

    # The pen's path is drawn as a smooth curve through the points Qt delivers (a
    # Catmull-Rom spline: each piece leaves a point heading towards the next one, as the
    # pen did). When the GUI thread is busy, Qt merges the moves that arrive meanwhile,
    # so a fast stroke reaches us as a few far-apart points; straight lines between them
    # turned a quick "0" into a polygon. A piece needs the point after it to know its
    # direction, so the ink trails the pen by one move, and the last piece is drawn when
    # the stroke ends.
    def _begin(self, pos: QPointF, pressure: float = 1.0) -> None:
        self._end()
        self._stroke_before = self._raster.copy()
        p = self._to_raster(pos)
        self._points = [p]
        self._pressure = pressure
        self._segment(p, p, pressure)
        self.clock.begin(time.perf_counter())

    def _move(self, pos: QPointF, pressure: float = 1.0) -> None:
        if not self._points:
            return
        p = self._to_raster(pos)
        if p == self._points[-1]:
            return
        self._points = [*self._points[-3:], p]
        self._pressure = pressure
        if len(self._points) >= 3:
            self._piece(pressure)
        self._set_tip((self._points[-2], p, self._width(pressure)))
        self.moves_shown += 1
        self.clock.moved(time.perf_counter())

    def _end(self) -> None:
        """Finish the stroke in progress, if any, as one undoable step."""
        if len(self._points) >= 2:
            self._points.append(self._points[-1])  # the last piece ends at rest
            self._piece(self._pressure)
        self._points = []
        self.clock.end()
        self._set_tip(None)
        if self._stroke_before is not None:
            before, self._stroke_before = self._stroke_before, None
            self.undo_stack.push(_Edit(self, "stroke", before))

    def _piece(self, pressure: float) -> None:
        """Ink the piece between the second- and third-last points (see :meth:`_begin`)."""
        *before, a, b, after = self._points
        before = before[-1] if before else a
        self._segment(a, b, pressure, (a + (b - before) / 6, b - (after - a) / 6))

    def _segment(self, a: QPointF, b: QPointF, pressure: float,
                 controls: tuple[QPointF, QPointF] | None = None) -> None:
        """Ink from ``a`` to ``b``: a line, or the cubic Bézier curve with ``controls``."""
        width = self._width(pressure)
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(0, 0, 0) if self.eraser else QColor(255, 255, 255), width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        corners = [a, b]
        if a == b:
            painter.drawPoint(a)  # a zero-length line paints nothing; a tap is a dot
        elif controls is None:
            painter.drawLine(a, b)
        else:
            path = QPainterPath(a)
            path.cubicTo(*controls, b)
            painter.drawPath(path)
            corners += controls  # the curve stays inside its control points' hull
        painter.end()
        dirty = QRectF(QPointF(min(p.x() for p in corners), min(p.y() for p in corners)),
                       QPointF(max(p.x() for p in corners), max(p.y() for p in corners))
                       ).adjusted(-width, -width, width, width)
        self._refresh_shown(dirty)
        self.update(self._to_widget(dirty))
        self.ink_pending = self.isVisible()
        self.changed.emit()

    def pen_gap_ms(self) -> float:
        """How long until the pen's next move is due, ms: ``inf`` with the pen up or
        resting (:mod:`app.pen_clock`; the views work in these gaps)."""
        return self.clock.gap_ms(time.perf_counter())

    def _width(self, pressure: float) -> float:
        return max(1.0, self.brush * max(0.2, min(pressure, 1.0)))

    def _set_tip(self, tip: tuple[QPointF, QPointF, float] | None) -> None:
        """Show ``tip`` (from, to, width in raster pixels) in place of the old one."""
        for old_or_new in (self._tip, tip):
            if old_or_new is not None:
                a, b, width = old_or_new
                self.update(self._to_widget(QRectF(a, b).normalized().adjusted(
                    -width, -width, width, width)))
        self._tip = tip

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._move(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._move(event.position())
            self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:
        """A pen: pressure thins the stroke. Accepting stops Qt's synthesised mouse copy."""
        kind = event.type()
        pressure = event.pressure() if event.pressure() > 0 else 1.0
        if kind == QTabletEvent.Type.TabletPress:
            self._begin(event.position(), pressure)
        elif kind == QTabletEvent.Type.TabletMove:
            self._move(event.position(), pressure)
        elif kind == QTabletEvent.Type.TabletRelease:
            self._end()
        event.accept()

    # ----- an overlay -------------------------------------------------------------------
    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """Lay ``rgba`` (uint8 ``(h, w, 4)``, any size: it is scaled to the drawing) over
        the ink, or take it away (None). The raster, and so the network, never sees it."""
        data = None if rgba is None else np.ascontiguousarray(rgba, np.uint8)
        if data is not None and (data.ndim != 3 or data.shape[2] != 4):
            raise ValueError(f"an overlay is (height, width, 4) RGBA, not {data.shape}")
        self._overlay_data = data  # the QImage's bytes live in it
        self._overlay = None if data is None else QImage(
            data.data, data.shape[1], data.shape[0], 4 * data.shape[1],
            QImage.Format.Format_RGBA8888)
        self.update()

    @property
    def overlay_shown(self) -> bool:
        return self._overlay is not None

    # ----- display --------------------------------------------------------------------
    def drawing_rect(self) -> QRectF:
        """Where the square drawing is shown inside the widget (the rest is margin)."""
        return self._target()

    def _target(self) -> QRectF:
        """The square of the widget the raster is shown in (centred, as large as fits)."""
        side = max(1, min(self.width(), self.height()))
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def _to_widget(self, r: QRectF) -> QRect:
        t = self._target()
        k = t.width() / SIZE
        return QRectF(t.x() + r.x() * k, t.y() + r.y() * k, r.width() * k, r.height() * k
                      ).toAlignedRect().adjusted(-2, -2, 2, 2)

    def _refresh_shown(self, dirty: QRectF | None = None) -> None:
        """Re-scale the raster into the shown pixmap: all of it, or the ``dirty`` raster rect."""
        side = int(self._target().width())
        if dirty is None or self._shown is None or self._shown.width() != side:
            self._shown = QImage(side, side, QImage.Format.Format_RGB32)
            dirty = None
        k = side / SIZE
        painter = QPainter(self._shown)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if dirty is None:
            painter.drawImage(QRectF(0, 0, side, side), self._image)
        else:
            # Scale a source a little larger than the patch and clip to the patch: the
            # filter then sees the real neighbours at the patch edge, so no seams.
            r = dirty.toAlignedRect().intersected(QRect(0, 0, SIZE, SIZE))
            if not r.isEmpty():
                src = r.adjusted(-2, -2, 2, 2).intersected(QRect(0, 0, SIZE, SIZE))
                painter.setClipRect(QRectF(r.x() * k, r.y() * k, r.width() * k, r.height() * k))
                painter.drawImage(QRectF(src.x() * k, src.y() * k, src.width() * k,
                                         src.height() * k), self._image, QRectF(src))
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._shown = None
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.ink_pending = False
        if self._shown is None or self._shown.width() != int(self._target().width()):
            self._refresh_shown()
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(self.margin))
        painter.drawImage(self._target().topLeft(), self._shown)
        if self._tip is not None:
            a, b, width = self._tip
            t = self._target()
            k = t.width() / SIZE
            painter.setPen(QPen(QColor(0, 0, 0) if self.eraser else QColor(255, 255, 255),
                                width * k, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.drawLine(t.topLeft() + a * k, t.topLeft() + b * k)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if self._overlay is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self._target(), self._overlay)
        painter.setPen(QPen(QColor("#888888"), 1))
        painter.drawRect(self._target().adjusted(0, 0, -1, -1))
        painter.end()

    # ----- helpers --------------------------------------------------------------------
    def _changed_all(self) -> None:
        self._shown = None
        self.update()
        self.changed.emit()
