"""Feature maps of a conv, ReLU or pooling layer: all channels as one mosaic."""

from __future__ import annotations

import numpy as np

from app.look import DIVERGING_LUT
from app.panels.base import LayerPanel, Window
from app.panels.mosaic import Mosaic

WHAT = {
    "conv": "{c} feature maps, {h}×{w}",
    "relu": "ReLU, negatives become 0",
    "pool": "pooling, {c} maps shrink to {h}×{w}",
    "norm": "batch norm: each of {c} maps shifted and rescaled",
    "activation": "activation, {c} maps",
    "scale": "scaled, {c} maps",
}
#: The kinds of layer whose (C, H, W) output is a stack of maps.
MAP_KINDS = tuple(WHAT)


class MapsPanel(LayerPanel):
    """Shows ``(C, H, W)`` maps; hovering a cell outlines its receptive field."""

    def __init__(self, layer, parent=None) -> None:
        c, h, w = layer.output.shape
        super().__init__(layer.name, WHAT.get(layer.kind, layer.kind).format(c=c, h=h, w=w),
                         parent)
        self.set_mosaic(Mosaic(c, h, w))
        self.field = layer.receptive_field
        self.set_help(
            "Each tile is one channel. Red: positive, blue: negative, white: zero. "
            "Hover a cell to see what it looks at; click a tile to enlarge it."
        )

    def show_layer(self, layer, previous=None) -> None:
        lim = self.grow_limit(layer.output)
        self.draw_tiles(layer.output, (-lim, lim), DIVERGING_LUT)

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        return f"{self.name}, map {tile + 1}, row {row + 1}, col {col + 1}: {value:+.3f}"

    def tile_title(self, tile: int) -> str:
        return f"{self.name}, map {tile + 1}"

    def input_window(self, tile: int, row: int, col: int) -> Window | None:
        if self.field is None:
            return None
        return self.field.window(row), self.field.window(col)

    def channels(self) -> int:
        return self.mosaic.count if self.mosaic is not None else 0

    def levels(self) -> tuple[float, float]:
        return (-self.limit, self.limit)

    @staticmethod
    def accepts(layer) -> bool:
        return layer.kind in MAP_KINDS and np.ndim(layer.output) == 3
