"""Tile a stack of maps into one 2-D image, so a whole layer is a single ImageItem.

One ``ImageItem`` per map costs a QGraphicsItem, a paint call and a LUT pass each: with
a couple of hundred maps that is ~22 ms per update at 1080p. One mosaic per layer is
a single numpy copy and one paint (~5 ms for the whole window). The tiles are laid out
with numpy reshape/transpose — no Python loop per map — into a buffer that is reused
frame after frame; the 1-pixel gutters are NaN, which pyqtgraph draws transparent.
"""

from __future__ import annotations

import math

import numpy as np


class Mosaic:
    """A fixed layout of ``count`` tiles of ``height``×``width`` in a grid of ``cols``.

    ``image(maps)`` fills the tiles from ``maps`` (``(count, height, width)``) and returns
    the 2-D mosaic; ``locate(x, y)`` turns a mosaic pixel back into (tile, row, col).
    """

    def __init__(self, count: int, height: int, width: int, cols: int | None = None,
                 gap: int = 1) -> None:
        self.count, self.height, self.width, self.gap = count, height, width, gap
        if cols is None:
            # A handful of maps (the toy's three) side by side; many, roughly square.
            cols = count if count <= 4 else math.ceil(math.sqrt(count * height / max(width, 1)))
        self.cols = min(cols, count)
        self.rows = math.ceil(count / self.cols)
        self._tiles = np.full(
            (self.rows * self.cols, height + gap, width + gap), np.nan, np.float32
        )

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the mosaic image in pixels."""
        return (
            self.rows * (self.height + self.gap) - self.gap,
            self.cols * (self.width + self.gap) - self.gap,
        )

    def image(self, maps: np.ndarray) -> np.ndarray:
        """The mosaic of ``maps``, ``(count, height, width)``: one copy, no per-map loop."""
        h, w, g = self.height, self.width, self.gap
        self._tiles[: self.count, :h, :w] = maps.reshape(self.count, h, w)
        tiled = self._tiles.reshape(self.rows, self.cols, h + g, w + g).transpose(0, 2, 1, 3)
        full = tiled.reshape(self.rows * (h + g), self.cols * (w + g))
        return full[: full.shape[0] - g, : full.shape[1] - g] if g else full

    def origin(self, tile: int) -> tuple[int, int]:
        """Mosaic (x, y) of the top-left pixel of ``tile``."""
        r, c = divmod(tile, self.cols)
        return c * (self.width + self.gap), r * (self.height + self.gap)

    def locate(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(tile, row, col) under mosaic pixel (x, y), or None over a gutter or outside."""
        if x < 0 or y < 0:
            return None
        ix, iy = int(x), int(y)
        c, col = divmod(ix, self.width + self.gap)
        r, row = divmod(iy, self.height + self.gap)
        tile = r * self.cols + c
        if c >= self.cols or col >= self.width or row >= self.height or tile >= self.count:
            return None
        return tile, row, col
