"""A dense layer (or the ReLU after it): N units as a near-square grid of cells."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from app.look import DIVERGING_LUT
from app.panels.base import LayerPanel
from app.panels.items import fit_labels
from app.panels.mosaic import Mosaic


class VectorPanel(LayerPanel):
    """Shows an ``(N,)`` vector; small ones (the logits) as one row with numbers."""

    def __init__(self, layer, classes: list[str] | None = None, parent=None) -> None:
        n = int(layer.output.shape[0])
        # The last dense layer before the softmax: one score per class, labelled.
        self.classes = list(classes) if classes and len(classes) == n else None
        if self.classes:
            words = "a score per class (logits); softmax turns them into probabilities"
        elif layer.kind == "dense":
            words = f"fully connected, {n:,} units"
        else:
            words = f"{layer.kind.upper() if layer.kind == 'relu' else layer.kind}, {n:,} units"
        super().__init__(layer.name, words.replace("RELU", "ReLU"), parent)
        cols = n if n <= 16 else math.ceil(math.sqrt(n))
        self.set_mosaic(Mosaic(n, 1, 1, cols=cols, gap=0))
        self.labels: list[pg.TextItem] = []
        if self.classes:
            self.box.setRange(QRectF(0, 0, n, 1.8), padding=0.02)
            for i, c in enumerate(self.classes):
                label = pg.TextItem(c, anchor=(0.5, 0), color=(128, 128, 128))
                label.setPos(i + 0.5, 1.05)
                self.box.addItem(label)
                self.labels.append(label)
            self.box.sigResized.connect(self._thin_labels)
        self.set_help("One cell per unit. Red: positive, blue: negative, white: zero.")

    _label_pt = 10

    def apply_look(self, look: dict, title_font) -> None:
        """The class names under the scores take the titles' size, as the probability
        panel's axis does (a default-sized label was a dot at 4K from the back row)."""
        super().apply_look(look, title_font)
        self._label_pt = look["title_pt"]
        self._thin_labels()

    def _thin_labels(self, *_: object) -> None:
        """Every class named under its cell, in the titles' size or smaller to fit (ten
        names at 1280×720); only names too long for any readable size are thinned to
        every k-th (:func:`~app.panels.items.fit_labels`): never overlapping."""
        if not self.labels:
            return
        one = self.box.mapViewToDevice(QRectF(0, 0, 1, 1)).boundingRect().width()
        font, step = fit_labels(self.classes, self._label_pt, one)
        for i, label in enumerate(self.labels):
            label.setFont(font)
            label.setVisible(i % step == 0)

    def show_layer(self, layer, previous=None) -> None:
        lim = self.grow_limit(layer.output)
        tiles = layer.output.reshape(-1, 1, 1)
        self.draw_tiles(tiles, (-lim, lim), DIVERGING_LUT, fmt="{:.1f}")

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        if self.classes:
            return f"{self.name}, score for {self.classes[tile]}: {value:+.3f}"
        return f"{self.name}, unit {tile + 1}: {value:+.3f}"

    def tile_values(self, tile: int) -> np.ndarray | None:
        """A unit alone is one number: enlarge the whole layer instead."""
        if self._current is None or self.mosaic is None:
            return None
        return self.mosaic.image(self._current).copy()

    def tile_title(self, tile: int) -> str:
        return f"{self.name}, all units"

    @staticmethod
    def accepts(layer) -> bool:
        return np.ndim(layer.output) == 1 and layer.kind in (
            "dense", "relu", "norm", "activation", "scale")
