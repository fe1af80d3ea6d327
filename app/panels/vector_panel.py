"""A dense layer (or the ReLU after it): N units as a near-square grid of cells."""

from __future__ import annotations

import math

import numpy as np

from app.mosaic import Mosaic
from app.panels.base import LayerPanel
from app.theme import DIVERGING_LUT


class VectorPanel(LayerPanel):
    """Shows an ``(N,)`` vector; small ones (the logits) as one row with numbers."""

    def __init__(self, layer, parent=None) -> None:
        n = int(layer.output.shape[0])
        what = "units (dense)" if layer.kind == "dense" else f"units ({layer.kind})"
        super().__init__(layer.name, f"{layer.name} — {n} {what}", parent)
        cols = n if n <= 16 else math.ceil(math.sqrt(n))
        self.set_mosaic(Mosaic(n, 1, 1, cols=cols, gap=0))
        self.numbers_on = n <= 16
        self.set_help("One cell per unit. Red: positive, blue: negative, white: zero.")

    def show_layer(self, layer, previous=None) -> None:
        lim = self.grow_limit(layer.output)
        tiles = layer.output.reshape(-1, 1, 1)
        self.draw_tiles(tiles, (-lim, lim), DIVERGING_LUT, numbers=self.numbers_on, fmt="{:.1f}")

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        return f"{self.name}, unit {tile}: {value:+.3f}"

    def tile_values(self, tile: int) -> np.ndarray | None:
        """A unit alone is one number: enlarge the whole layer instead."""
        if self._current is None or self.mosaic is None:
            return None
        return self.mosaic.image(self._current).copy()

    def tile_title(self, tile: int) -> str:
        return f"{self.name}, all units"

    @staticmethod
    def accepts(layer) -> bool:
        return np.ndim(layer.output) == 1 and layer.kind in ("dense", "relu")
