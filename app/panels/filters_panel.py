"""A conv layer's filters: every kernel of every output and input channel, one mosaic.

For the first layer (one input channel) that is one tile per filter. For a deeper
layer, columns are output filters and rows input channels, so conv2's 64×32 kernels
are all visible at once: a column is "what filter k looks for in each of the maps it
reads".
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF

from app.look import DIVERGING_LUT
from app.panels.base import LayerPanel
from app.panels.mosaic import Mosaic


class FiltersPanel(LayerPanel):
    """Static picture of ``layer.weights`` ``(out, in, kh, kw)``; redrawn per model only."""

    def __init__(self, layer, parent=None) -> None:
        out, inp, kh, kw = layer.weights.shape
        words = (f"{out} filters of {kh}×{kw} weights" if inp == 1 else
                 f"{out} filters, each {inp} kernels of {kh}×{kw}")
        super().__init__(f"{layer.name}.filters", words, parent)
        self.shape = (out, inp, kh, kw)
        tiles = np.ascontiguousarray(layer.weights.transpose(1, 0, 2, 3)).reshape(-1, kh, kw)
        self.set_mosaic(Mosaic(out * inp, kh, kw, cols=out if inp > 1 else None))
        self.limit = float(np.abs(layer.weights).max()) or 1.0
        self._weights = layer.weights
        self.draw_tiles(tiles, (-self.limit, self.limit), DIVERGING_LUT)
        self.set_help("Filter weights. Red: positive, blue: negative. Click one to enlarge."
                        + ("" if inp == 1 else " Column: output filter; row: the input map "
                           "it is applied to."))

    def show_layer(self, layer, previous=None) -> None:
        """Weights do not change while drawing: redrawn only when other weights come
        (features a student edited, a training checkpoint)."""
        self.frames += 1
        if layer.weights is self._weights:
            return
        self._weights = layer.weights
        kh, kw = self.shape[2:]
        tiles = np.ascontiguousarray(layer.weights.transpose(1, 0, 2, 3)).reshape(-1, kh, kw)
        self.draw_tiles(tiles, (-self.limit, self.limit), DIVERGING_LUT)
        self.frames -= 1  # draw_tiles counted it too

    def show_empty(self, layer) -> None:
        self.show_layer(layer)  # the filters are the network, not its response

    def channels(self) -> int:
        return self.shape[0]

    def channel_of(self, tile: int) -> int | None:
        return self._split(tile)[0]

    def channel_rect(self, channel: int):
        """A filter is a tile (first layer) or a column of kernels (one per input map)."""
        if not 0 <= channel < self.shape[0] or self.mosaic is None:
            return None
        x, y = self.mosaic.origin(channel)
        rows = self.shape[1] if self.shape[1] > 1 else 1
        height = rows * (self.mosaic.height + self.mosaic.gap) - self.mosaic.gap
        return QRectF(x - 0.3, y - 0.3, self.mosaic.width + 0.6, height + 0.6)

    def _split(self, tile: int) -> tuple[int, int]:
        out = self.shape[0]
        return tile % out, tile // out  # (filter, input channel)

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        f, i = self._split(tile)
        where = f"filter {f}" + (f", input map {i}" if self.shape[1] > 1 else "")
        return f"{self.name}: {where}, row {row}, col {col}: weight {value:+.3f}"

    def tile_title(self, tile: int) -> str:
        f, i = self._split(tile)
        return f"{self.name}: filter {f}" + (f", input map {i}" if self.shape[1] > 1 else "")

    @staticmethod
    def accepts(layer) -> bool:
        return layer.kind == "conv" and layer.weights is not None and layer.weights.ndim == 4
