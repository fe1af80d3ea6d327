"""What the room watches while a model learns: the curves, and conv1 forming.

:class:`Curves` plots loss and accuracy per epoch, on the training views and on the
held-out drawings, as the epochs arrive; a vertical line marks the epoch the checkpoint
slider shows. :class:`FirstLayer` shows conv1's filters and one drawing's conv1 feature
maps as two mosaics (one ``ImageItem`` each, house style 7), redrawn once per epoch.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.look import DIVERGING_LUT, GREY_LUT
from app.panels.mosaic import Mosaic

TRAIN_PEN = pg.mkPen("#4d7fbf", width=2)
HELD_PEN = pg.mkPen("#d9480f", width=2, style=pg.QtCore.Qt.PenStyle.DashLine)


class Curves(QWidget):
    """Loss and accuracy per epoch, training and held out, drawn as epochs arrive."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teach_curves")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.lines: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.marks: dict[str, pg.InfiniteLine] = {}
        for what, label in (("loss", "loss"), ("accuracy", "accuracy")):
            plot = pg.PlotWidget(background="w")
            plot.setObjectName(f"teach_{what}_plot")
            plot.setTitle(label, color="#111111")
            plot.setLabel("bottom", "epoch")
            plot.showGrid(y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            legend = plot.addLegend(offset=(-4, 4) if what == "loss" else (-4, -4))
            for part, pen, name in (("train", TRAIN_PEN, "training"),
                                    ("held_out", HELD_PEN, "held out")):
                self.lines[(what, part)] = plot.plot([], [], pen=pen, name=name)
            mark = pg.InfiniteLine(angle=90, pen=pg.mkPen("#888888", width=1))
            mark.hide()
            plot.addItem(mark)
            self.marks[what] = mark
            # Ranges are set, never auto-fitted, and the axes and legend are cached as
            # pixmaps: a new epoch then repaints two lines, not the axes' text (on two
            # busy cores, repainting both plots' axes per epoch took ~100 ms of the GUI
            # thread, which the UI heartbeat showed as stalls).
            plot.disableAutoRange()
            for item in (*(plot.getAxis(a) for a in ("left", "bottom")), legend):
                item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plots[what] = plot
            layout.addWidget(plot)
        self.history: list[dict] = []
        self._range: tuple[float, float] | None = None
        self._redraw()

    def clear(self) -> None:
        self.history = []
        self._redraw()

    def add(self, metrics: dict) -> None:
        """One more epoch's metrics (engine.train_model's keys)."""
        self.history.append(metrics)
        self._redraw()

    def set_history(self, history: list[dict]) -> None:
        """All epochs at once (a reloaded model's card)."""
        self.history = list(history)
        self._redraw()

    def mark(self, epoch: int | None) -> None:
        """Show a vertical line at ``epoch`` (the slider's), or none."""
        for line in self.marks.values():
            line.setVisible(epoch is not None)
            if epoch is not None:
                line.setValue(epoch)

    def _redraw(self) -> None:
        x = np.array([h["epoch"] for h in self.history], float)
        top = 0.0
        for what in ("loss", "accuracy"):
            for part in ("train", "held_out"):
                key = what if part == "train" else f"held_out_{what}"
                y = np.array([h.get(key, np.nan) for h in self.history], float)
                self.lines[(what, part)].setData(x, y)
                if what == "loss" and np.isfinite(y).any():
                    top = max(top, float(np.nanmax(y)))
        last = max([h.get("epochs", 0) for h in self.history] + [len(x) - 1, 1])
        self._set_range(last, top)

    def _set_range(self, last_epoch: float, top_loss: float) -> None:
        """Fixed ranges, changed only when the data outgrow them (rarely, cheaply)."""
        want = (last_epoch, _nice(top_loss * 1.05) if top_loss > 0 else 1.0)
        if want == self._range:
            return
        self._range = want
        for what, plot in self.plots.items():
            plot.setXRange(0, want[0], padding=0.02)
            plot.setYRange(0, want[1] if what == "loss" else 1.0, padding=0.02)

    def values(self, what: str, part: str) -> np.ndarray:
        """The y values drawn for ``what`` ("loss"/"accuracy") and ``part`` (tests)."""
        _x, y = self.lines[(what, part)].getData()
        return np.array([] if y is None else y)


def _nice(v: float) -> float:
    """The next of 1, 2, 5 × 10ⁿ at or above ``v``: a loss axis that changes rarely."""
    scale = 10.0 ** np.floor(np.log10(v))
    return float(next(k * scale for k in (1, 2, 5, 10) if k * scale >= v))


class _Mosaic(pg.GraphicsLayoutWidget):
    """One mosaic of maps in a locked, axis-free view."""

    def __init__(self, name: str, lut: np.ndarray, signed: bool) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setBackground("w")
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self._lut, self._signed = lut, signed
        self._mosaic: Mosaic | None = None
        self.shown: np.ndarray | None = None

    def show_maps(self, maps: np.ndarray | None) -> None:
        if maps is None:
            self.image.clear()
            self.shown = None
            return
        maps = np.asarray(maps, np.float32).reshape(-1, *maps.shape[-2:])
        n, h, w = maps.shape
        if self._mosaic is None or (self._mosaic.count, self._mosaic.height,
                                    self._mosaic.width) != (n, h, w):
            self._mosaic = Mosaic(n, h, w, cols=int(np.ceil(np.sqrt(n * 1.5))))
            self.view.setRange(xRange=(0, self._mosaic.shape[1]),
                               yRange=(0, self._mosaic.shape[0]), padding=0.02)
        limit = float(np.abs(maps).max()) or 1.0
        levels = (-limit, limit) if self._signed else (0.0, limit)
        self.shown = self._mosaic.image(maps)
        self.image.setImage(self.shown, autoLevels=False, levels=levels, lut=self._lut)


class FirstLayer(QWidget):
    """conv1's filters and one drawing's conv1 feature maps, for the epoch on show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.filters = _Mosaic("teach_filters", DIVERGING_LUT, signed=True)
        self.maps = _Mosaic("teach_maps", GREY_LUT, signed=False)
        for view, title, tip in (
            (self.filters, "conv1 filters", "What each first-layer filter looks for. "
             "Red: positive weight, blue: negative."),
            (self.maps, "their feature maps on one drawing", "Where each filter fires on "
             "the drawing that was on the canvas (or the class's first sample) when "
             "training began, after ReLU."),
        ):
            box = QVBoxLayout()
            label = QLabel(title)
            label.setToolTip(tip)
            view.setToolTip(tip)
            box.addWidget(label)
            box.addWidget(view, 1)
            layout.addLayout(box, 1)

    def show_epoch(self, filters: np.ndarray | None, maps: np.ndarray | None) -> None:
        self.filters.show_maps(None if filters is None else filters[:, 0])
        self.maps.show_maps(maps)
