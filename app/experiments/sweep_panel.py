"""The invariance sweep panel: each class's probability as the drawing turns, grows and
moves, recomputed in a worker thread once a stroke ends.

Three plots of one :class:`engine.experiments.Sweep`: a curve per class against rotation, a
curve per class against scale, and a heat map of the winning class's probability over
shifts. Clicking a point asks for that transform (``transform_requested``), which the
transform controls apply to the canvas. In centred mode the heat map is flat, and the
panel says why.

The sweep (387 images through the network) never runs in the per-frame path: a
:class:`SweepRunner` thread takes the newest request only, and a request made while one
runs makes the running one give up at its next stage and its result be dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.look import CLASS_COLOURS_ON_DARK
from app.numbers import percent_text
from app.panels.items import FastImageItem
from app.workers import Worker
from engine.experiments import Sweep, sweep

CENTRED_NOTE = (
    "Centred input: the drawing is cropped, scaled and re-centred before the network "
    "sees it, so every shift gives it the same picture and the shift map is flat. "
    "Switch to “as drawn” (I) to let shifts through."
)
AS_DRAWN_NOTE = "As drawn: the network sees the canvas whole, so a shift moves its input."

PLOT_BACKGROUND = "#000000"
LABEL_ROOM = 0.16  # of each curve plot's width, right of the last point: the class labels
WORKER_NICE = 10
# Python hands the GIL between threads every 5 ms by default: with a sweep running,
# the GUI thread could wait that long at each of the many points a pen event takes the
# GIL back from numpy or torch. 0.5 ms keeps the pen's worst case near its usual time.
GIL_SWITCH_S = 0.0005


class SweepRunner(Worker):
    """The sweep worker: :func:`engine.experiments.sweep` on the newest request only
    (a ``"latest"`` :class:`~app.workers.Worker`, below the GUI thread's priority).

    ``done(job, sweep)`` and ``failed(job, message)`` arrive in the GUI thread; a result
    superseded by a newer request, or by :meth:`cancel`, is never emitted.
    """

    def __init__(self) -> None:
        super().__init__("convpad-sweep", "latest", nice=WORKER_NICE)
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))

    def request(self, model: Any, raster: np.ndarray, mode: str) -> int:
        """Sweep ``raster`` with ``model`` in ``mode``, superseding any earlier request."""
        return self.submit(_sweep, model, np.array(raster, copy=True), mode)


def _sweep(job, model, raster: np.ndarray, mode: str):
    return sweep(model, raster, input=mode, invert=False, stop=job.stale)


def spread(targets: np.ndarray, gap: float, lo: float, hi: float) -> np.ndarray:
    """Positions as near ``targets`` as can be with at least ``gap`` between neighbours,
    inside ``[lo, hi]`` (squeezed evenly when they cannot all fit): labels that would
    sit on one another are pushed apart, keeping their order."""
    order = np.argsort(targets, kind="stable")
    t = np.clip(targets[order].astype(np.float64), lo, hi)
    n = len(t)
    gap = min(gap, (hi - lo) / max(n - 1, 1))
    p = t.copy()
    for k in range(1, n):  # push down
        p[k] = max(p[k], p[k - 1] + gap)
    if n and p[-1] > hi:  # then back up from the bottom
        p[-1] = hi
        for k in range(n - 2, -1, -1):
            p[k] = min(p[k], p[k + 1] - gap)
    out = np.empty(n)
    out[order] = p
    return out


def _plot(title: str, bottom: str) -> pg.PlotItem:
    plot = pg.PlotItem(enableMenu=False, title=title)
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    plot.setLabel("bottom", bottom)
    return plot


class SweepPanel(QWidget):
    """Rotation and scale curves per class, and the shift heat map of the winner.

    Call :meth:`schedule` with the live model, the canvas raster and the input mode
    whenever the drawing settles; while the panel is hidden nothing runs, and the
    newest request runs when it is shown again.
    """

    transform_requested = Signal(dict)
    notice = Signal(str)
    shown_sweep = Signal(object)  # a Sweep, once it is on screen

    def __init__(self, runner: SweepRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep_panel")
        self.runner = runner or SweepRunner()
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.sweep: Sweep | None = None
        self._wanted: tuple[Any, np.ndarray, str] | None = None
        self._dirty = False
        self._asked = 0

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.status = QLabel("Draw something to see how turning, resizing and moving it "
                             "changes the answer.")
        self.status.setObjectName("sweep_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.note = QLabel(CENTRED_NOTE)
        self.note.setObjectName("sweep_note")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(PLOT_BACKGROUND)
        self.view.setObjectName("sweep_plots")
        self.view.setMinimumHeight(420)
        layout.addWidget(self.view, 1)

        self.rotation = _plot("probability vs rotation (click: turn the drawing)", "degrees")
        self.rotation.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0, 0.5, 1)]])
        self.scale = _plot("probability vs scale (click: resize)", "× size")
        # Each curve is labelled where it ends, in a margin right of the last point.
        for plot, (lo, hi), ticks in ((self.rotation, (-180, 180), (-180, -90, 0, 90, 180)),
                                      (self.scale, (0.3, 2.0), (0.5, 1, 1.5, 2))):
            plot.setXRange(lo, hi + LABEL_ROOM * (hi - lo), padding=0.02)
            plot.getAxis("bottom").setTicks([[(v, f"{v:g}") for v in ticks]])  # none in it
            plot.setYRange(0, 1, padding=0.04)
            plot.vb.sigResized.connect(self._place_labels)
        self.shift = _plot("winner's probability vs shift (click: move)", "dx (input pixels)")
        self.shift.setLabel("left", "dy")
        self.shift.invertY(True)  # +dy is down, as on the canvas
        self.view.addItem(self.rotation, row=0, col=0)
        self.view.addItem(self.scale, row=1, col=0)
        self.view.addItem(self.shift, row=2, col=0)
        dashed = pg.mkPen("#999999", style=Qt.PenStyle.DashLine)
        for plot, x in ((self.rotation, 0.0), (self.scale, 1.0)):  # the drawing as it is
            plot.addItem(pg.InfiniteLine(x, angle=90, pen=dashed))
        # The fast item: pyqtgraph's own converts the map's colours again on every draw
        # (0.7 ms of each repaint of this panel, measured).
        self.heat = FastImageItem(axisOrder="row-major")
        self.heat.setLookupTable(pg.colormap.get("viridis").getLookupTable(0, 1, 256))
        self.shift.addItem(self.heat)
        self.origin = pg.ScatterPlotItem([0], [0], symbol="+", size=14,
                                         pen=pg.mkPen("w", width=2), brush=None)
        self.shift.addItem(self.origin)
        self.rotation_curves: list[pg.PlotDataItem] = []
        self.scale_curves: list[pg.PlotDataItem] = []
        self.labels: dict[str, list[pg.TextItem]] = {"rotation": [], "scale": []}
        self.view.scene().sigMouseClicked.connect(self._on_click)
        self.set_mode("centred")

    # ----- requests -------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """Show the note for ``mode`` (the next :meth:`schedule` sweeps in it)."""
        self.note.setText(CENTRED_NOTE if mode == "centred" else AS_DRAWN_NOTE)

    def schedule(self, model: Any, raster: np.ndarray, mode: str) -> None:
        """Sweep this drawing now if the panel is visible, else once it is shown."""
        self.set_mode(mode)
        if model is None:
            return
        if model.is_blank(raster):
            self.runner.cancel()
            self._wanted, self._dirty = None, False
            self.clear("Draw something to see how turning, resizing and moving it "
                       "changes the answer.")
            return
        self._wanted = (model, np.array(raster, copy=True), mode)
        self._dirty = True
        if self.isVisible():
            self._run()

    def _run(self) -> None:
        if self._wanted is None:
            return
        self._dirty = False
        self._asked = self.runner.request(*self._wanted)
        self.status.setText("Sweeping…")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self._run()

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self._asked:
            message = f"The sweep failed: {message}"
            self.status.setText(message)
            self.notice.emit(message)

    def _on_done(self, generation: int, result: Sweep) -> None:
        if generation != self._asked:
            return  # a newer drawing superseded it
        self.show_sweep(result)

    # ----- drawing --------------------------------------------------------------------
    def clear(self, text: str) -> None:
        self.sweep = None
        for curve in (*self.rotation_curves, *self.scale_curves):
            curve.setData([], [])
        for label in (*self.labels["rotation"], *self.labels["scale"]):
            label.setVisible(False)
        self.heat.clear()
        self.status.setText(text)

    def _curves(self, n: int) -> None:
        if len(self.rotation_curves) == n:
            return
        for curve in self.rotation_curves:
            self.rotation.removeItem(curve)
        for curve in self.scale_curves:
            self.scale.removeItem(curve)
        for plot, key in ((self.rotation, "rotation"), (self.scale, "scale")):
            for label in self.labels[key]:
                plot.removeItem(label)
            self.labels[key] = [pg.TextItem(anchor=(0, 0.5)) for _ in range(n)]
            font = QFont(self.font())
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.15)
            for label in self.labels[key]:
                label.setFont(font)
                plot.addItem(label, ignoreBounds=True)
        self.rotation_curves = [self.rotation.plot(connect="finite") for _ in range(n)]
        self.scale_curves = [self.scale.plot(connect="finite") for _ in range(n)]

    def show_sweep(self, s: Sweep) -> None:
        """Draw ``s``: curves per class, the winner thick, the winner's shift map."""
        self.sweep = s
        n = len(s.classes)
        self._curves(n)
        w = s.winner
        for i, name in enumerate(s.classes):
            # One-pixel lines for the losers: Qt draws those on its fast path, while
            # every wider line goes through its stroker (1.5 px lines cost 1.1 ms of each
            # repaint of this panel); the winner stays thick.
            colour = self.colour(i)
            dashed = i >= len(CLASS_COLOURS_ON_DARK)
            pen = pg.mkPen(colour, width=3 if i == w else 1,
                           style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            self.rotation_curves[i].setData(s.degrees, s.rotation[:, i], pen=pen)
            self.scale_curves[i].setData(s.factors, s.scale[:, i], pen=pen)
            for key in ("rotation", "scale"):
                label = self.labels[key][i]
                label.setText(name, color=colour)
                label.setVisible(True)
        self._place_labels()
        self.heat.setImage(np.nan_to_num(s.shift[:, :, w]), autoLevels=False, levels=(0, 1))
        lo, hi = float(s.shifts.min()), float(s.shifts.max())
        self.heat.setRect(QRectF(lo - 0.5, lo - 0.5, hi - lo + 1, hi - lo + 1))
        self.shift.setRange(xRange=(lo - 0.5, hi + 0.5), yRange=(lo - 0.5, hi + 0.5), padding=0)
        self.shift.setTitle(f"P({s.classes[w]}) vs shift (click: move)")
        self.set_mode(s.input)
        p = s.probabilities[w]
        self.status.setText(
            f"{Path(s.model).name}, {s.input}: {s.classes[w]} {percent_text(p)} untransformed. "
            "Thick line: "
            f"{s.classes[w]}; each curve is named where it ends.")
        self.shown_sweep.emit(s)

    @staticmethod
    def colour(i: int) -> str:
        """Class ``i``'s curve colour (see :data:`app.look.CLASS_COLOURS_ON_DARK`)."""
        return CLASS_COLOURS_ON_DARK[i % len(CLASS_COLOURS_ON_DARK)]

    def _place_labels(self, *_: object) -> None:
        """Put each class's name just right of its curve's last point, nudged apart
        vertically (in screen pixels) so that no two names overlap."""
        s = self.sweep
        if s is None:
            return
        for key, plot, x, ys in (("rotation", self.rotation, s.degrees, s.rotation),
                                 ("scale", self.scale, s.factors, s.scale)):
            labels = self.labels[key]
            if not labels or not len(x):
                continue
            vb = plot.vb
            ends = np.nan_to_num(ys[-1].astype(np.float64))
            pixels = np.array([vb.mapViewToScene(QPointF(float(x[-1]), float(v))).y()
                               for v in ends])
            height = max(label.boundingRect().height() for label in labels) * 0.8
            width = max(label.boundingRect().width() for label in labels)
            box = vb.sceneBoundingRect()
            lo, hi = box.top() + height / 2, box.bottom() - height / 2
            # Names that cannot all stand in one column (ten digits in a short plot)
            # take more, side by side, each still spread apart.
            cols = max(1, int(np.ceil(len(labels) * height / max(hi - lo + height, 1.0))))
            order = np.argsort(pixels, kind="stable")
            per_px = vb.mapSceneToView(QPointF(1, 0)).x() - vb.mapSceneToView(QPointF(0, 0)).x()
            for j in range(cols):
                mine = order[j::cols]
                placed = spread(pixels[mine], height, lo, hi)
                for k, py in zip(mine, placed, strict=True):
                    y = vb.mapSceneToView(QPointF(0, float(py))).y()
                    labels[k].setPos(float(x[-1]) + (6 + j * (width + 2)) * per_px, y)

    # ----- clicks ---------------------------------------------------------------------
    def step_at(self, plot: pg.PlotItem, x: float, y: float) -> dict[str, Any] | None:
        """The transform a click at view point ``(x, y)`` of ``plot`` asks for."""
        s = self.sweep
        if s is None:
            return None
        if plot is self.rotation:
            deg = float(s.degrees[np.argmin(np.abs(s.degrees - x))])
            return {"op": "rotate", "degrees": deg} if deg else None
        if plot is self.scale:
            f = float(s.factors[np.argmin(np.abs(s.factors - x))])
            return {"op": "scale", "factor": f} if f != 1 else None
        if plot is self.shift:
            lo, hi = int(s.shifts.min()), int(s.shifts.max())
            dx, dy = (int(np.clip(round(v), lo, hi)) for v in (x, y))
            return {"op": "shift", "dx": dx, "dy": dy} if (dx, dy) != (0, 0) else None
        return None

    def scene_point(self, plot: pg.PlotItem, x: float, y: float) -> QPointF:
        """Where view point ``(x, y)`` of ``plot`` is in the scene (for tests and tips)."""
        return plot.vb.mapViewToScene(QPointF(x, y))

    def _on_click(self, event) -> None:
        pos = event.scenePos()
        for plot in (self.rotation, self.scale, self.shift):
            if plot.vb.sceneBoundingRect().contains(pos):
                p = plot.vb.mapSceneToView(pos)
                step = self.step_at(plot, p.x(), p.y())
                if step is not None:
                    self.transform_requested.emit(step)
                return
