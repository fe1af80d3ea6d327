"""An enlarged view of one map (or kernel) with a colour bar and, if small, its numbers.

Opened by clicking a tile; it stays open beside the window (non-modal) and the window
keeps it live while the pen moves.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from app.look import _DIVERGING_STOPS, DIVERGING_POSITIONS
from app.panels.items import NumbersItem


class ZoomView(QDialog):
    """A large, labelled copy of one tile."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("zoom_view")
        self.setWindowTitle(title)
        self.setModal(False)
        self.resize(640, 560)
        self.plot_widget = pg.GraphicsLayoutWidget()
        self.plot = self.plot_widget.addPlot(title=title)
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.numbers = NumbersItem()
        self.plot.addItem(self.numbers)
        diverging = pg.ColorMap(DIVERGING_POSITIONS, _DIVERGING_STOPS)
        self.bar = pg.ColorBarItem(values=(-1, 1), colorMap=diverging, interactive=False,
                                   width=20)
        self.bar.setImageItem(self.image, insert_in=self.plot)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot_widget)
        self._shape: tuple[int, ...] | None = None

    def retitle(self, title: str) -> None:
        """Show another tile: a new title, and the next values set the range afresh."""
        self.setWindowTitle(title)
        self.plot.setTitle(title)
        self._shape = None

    def show_values(self, values: np.ndarray, levels: tuple[float, float]) -> None:
        """Draw ``values`` (2-D) with fixed ``levels``."""
        values = np.asarray(values, np.float32)
        lo, hi = levels
        self.bar.setLevels((lo, hi))
        self.image.setImage(values, autoLevels=False, levels=(lo, hi))
        self.numbers.set_values(values, max(abs(lo), abs(hi)))
        if values.shape != self._shape:
            self._shape = values.shape
            h, w = values.shape
            self.plot.setRange(QRectF(0, 0, w, h), padding=0.02)
