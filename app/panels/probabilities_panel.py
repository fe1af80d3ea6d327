"""The network's answer: one labelled bar per class, the winner highlighted."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.look import ACCENT, BAR
from app.numbers import MINUS
from app.panels.base import LayerPanel
from app.panels.items import fit_labels

PERCENT_TICKS = [[(v, f"{int(v * 100)}%") for v in (0, 0.5, 1)]]
#: Between two class names under the bars: a visible gap, or "0123456789" reads as one number.
CLASS_GAP_PX = 3
#: B − A in percentage points, −100 … +100 around the zero line.
POINT_TICKS = [[(-1.0, f"{MINUS}100"), (-0.5, f"{MINUS}50"), (0.0, "0"), (0.5, "+50"),
                (1.0, "+100")]]


class ProbabilitiesPanel(LayerPanel):
    """Class probabilities (the softmax layer) as a bar chart on a fixed 0–100 % axis.

    With Compare's B − A showing, the bars are changes in percentage points on a signed
    −100…+100 axis around a zero line: on the 0–100 % axis a negative bar disappears.
    """

    def __init__(self, layer, classes: list[str], parent=None) -> None:
        super().__init__(layer.name, "the answer, as probabilities", parent)
        self.classes = list(classes)
        self.plot = pg.PlotItem(enableMenu=False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.view.setCentralItem(self.plot)
        n = len(self.classes)
        self.bars = pg.BarGraphItem(x=np.arange(n), height=np.zeros(n), width=0.75, brush=BAR)
        self.plot.addItem(self.bars)
        self.plot.setYRange(0, 1.1, padding=0)  # room for the 100% label
        self.plot.setXRange(-0.6, n - 0.4, padding=0)
        self.plot.getAxis("bottom").setTicks([list(enumerate(self.classes))])
        self.plot.getAxis("left").setTicks(PERCENT_TICKS)
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False,
                                         pen=pg.mkPen("#888888", width=2))
        self.zero_line.setVisible(False)
        self.plot.addItem(self.zero_line)
        self.signed = False
        # The plot's own size decides how many class names fit under it (the panel's
        # resize comes before the plot has laid itself out).
        self.plot.getViewBox().sigResized.connect(self._thin_labels)
        self.values = np.zeros(n, np.float32)
        self._bar, self._winner = pg.mkBrush(BAR), pg.mkBrush(ACCENT)  # made once, not per frame
        self.set_help("How sure the network is of each class (they add up to 100 %).")
        self.set_fonts(10)

    def apply_look(self, look: dict, title_font) -> None:
        super().apply_look(look, title_font)
        self.set_fonts(look["title_pt"])

    def set_fonts(self, points: int) -> None:
        """Axis labels follow the window's type size (presentation mode)."""
        self._points = points
        self._font_pt = None
        for axis in ("bottom", "left"):
            ax = self.plot.getAxis(axis)
            ax.setTextPen(pg.mkPen(self.palette().windowText().color()))
        self._thin_labels()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._thin_labels()

    def _left_width(self, font) -> int:
        """The percent axis's width in ``font``: its widest label exactly (pyqtgraph drops
        a tick label wider than its axis; any wider and the class names lose room)."""
        fm = pg.QtGui.QFontMetrics(font)
        ticks = POINT_TICKS if self.signed else PERCENT_TICKS
        return max(fm.horizontalAdvance(t) for _, t in ticks[0]) + max(3, font.pointSize() // 2) + 8

    def _thin_labels(self, *_: object) -> None:
        """Every class named under its bar, both axes at the window's type size or
        smaller to fit (fit_labels); every k-th name only when names are too long for any
        readable size.

        pyqtgraph draws tick labels where they fall, so ten labels in a narrow panel
        ran together ("12356B"); at 1280×720 half of them were thinned away. The room
        for a name is the plot's width less the percent axis at the same size, so the
        choice does not change the room it was made for.
        """
        points = getattr(self, "_points", None)
        if points is None:
            return
        n = len(self.classes)
        width = max(self.plot.width(), 1.0)
        font, step = fit_labels(self.classes, points,
                                lambda f: (width - self._left_width(f) - 2) / n,
                                gap=CLASS_GAP_PX)
        if font.pointSize() != self._font_pt:
            self._font_pt = font.pointSize()
            offset = max(3, font.pointSize() // 2)
            for axis in ("bottom", "left"):
                self.plot.getAxis(axis).setStyle(tickFont=font, tickTextOffset=offset,
                                                 tickLength=-4)
            self.plot.getAxis("left").setWidth(self._left_width(font))
            self.plot.getAxis("bottom").setHeight(int(font.pointSize() * 2.8))
        self.plot.getAxis("bottom").setTicks(
            [[(i, c) for i, c in enumerate(self.classes) if i % step == 0]])

    def set_difference(self, on: bool) -> None:
        if on == self.signed:
            return
        self.signed = on
        self.plot.setYRange(-1.1 if on else 0, 1.1, padding=0)
        self.plot.getAxis("left").setTicks(POINT_TICKS if on else PERCENT_TICKS)
        self._font_pt = None  # the axis's labels changed width
        self._thin_labels()
        self.zero_line.setVisible(on)
        self.set_help("B − A: how many percentage points each class gained (up) or lost "
                      "(down) from the pinned drawing A." if on else
                      "How sure the network is of each class (they add up to 100 %).")

    def show_layer(self, layer, previous=None) -> None:
        self.show_probabilities(np.asarray(layer.output, np.float32))

    def show_empty(self, layer) -> None:
        self.show_probabilities(None)

    def show_probabilities(self, p: np.ndarray | None) -> None:
        """Draw ``p`` (or empty bars for None: an empty canvas has no answer)."""
        n = len(self.classes)
        self.values = np.zeros(n, np.float32) if p is None else np.asarray(p, np.float32)
        brushes = [self._bar] * n
        if p is not None:
            pick = np.abs(self.values) if self.signed else self.values
            brushes[int(np.argmax(pick))] = self._winner
        self.bars.setOpts(height=self.values, brushes=brushes)
        self.frames += 1

    def tile_values(self, tile: int) -> np.ndarray | None:
        return self.values.reshape(1, -1).copy()

    def levels(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    @staticmethod
    def accepts(layer) -> bool:
        return layer.kind == "softmax"
