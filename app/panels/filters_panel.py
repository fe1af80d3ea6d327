"""A conv layer's filters: every kernel of the first layer, or one filter's kernels deeper.

For the first layer (one input channel) that is one tile per filter, all at once. A
deeper layer's filter is a stack of kernels, one per map it reads: conv2's 64 filters of
32 kernels each, all at once, were a strip of 2,048 specks nobody could read. So, as the
stage does, the panel shows the chosen filter's kernels large, with a picker, and
clicking one of the layer's maps picks its filter.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QSpinBox

from app.look import DIVERGING_LUT
from app.numbers import matching_words
from app.panels.base import LayerPanel
from app.panels.mosaic import Mosaic
from engine.lecture import matching_divisor


class FiltersPanel(LayerPanel):
    """Static picture of ``layer.weights`` ``(out, in, kh, kw)``; redrawn per model, per
    picked filter, and when other weights come — never per pen stroke."""

    def __init__(self, layer, parent=None) -> None:
        out, inp, kh, kw = layer.weights.shape
        # The toy's weights are the lecture's ±1 features, the match divided by 9: say
        # both forms once in the title, then show the ±1 the slides show in every cell.
        self.divisor = matching_divisor(layer.weights)
        if self.divisor is not None:
            words = f"{out} features of {matching_words(self.divisor)}"
        elif inp == 1:
            words = f"{out} filters of {kh}×{kw} weights"
        else:
            words = f"{out} filters, each {inp} kernels of {kh}×{kw}"
        super().__init__(f"{layer.name}.filters", words, parent)
        self.shape = (out, inp, kh, kw)
        self.filter = 0  # the filter shown, when a filter has several kernels
        self.picker: QSpinBox | None = None
        if inp > 1:
            self.picker = QSpinBox()
            self.picker.setObjectName("filter_picker")
            self.picker.setRange(1, out)
            self.picker.setPrefix("filter ")
            self.picker.setSuffix(f" of {out}")
            self.picker.setToolTip("Which filter's kernels to show (or click one of "
                                   f"{layer.name}'s maps)")
            self.picker.valueChanged.connect(lambda v: self.pick(v - 1))
            self.layout().insertWidget(1, self.picker)
            self.set_mosaic(Mosaic(inp, kh, kw))
        else:
            self.set_mosaic(Mosaic(out, kh, kw))
        self._integer = False
        self.limit = float(np.abs(self._shown(layer.weights)).max()) or 1.0
        self._integer = self._shown(layer.weights) is not layer.weights
        self._weights = layer.weights
        self._draw(layer.weights)
        self.set_help("Filter weights. Red: positive, blue: negative. Click one to enlarge."
                      + ("" if inp == 1 else f" One filter at a time: its {inp} kernels, "
                         "one per input map, in order."))

    def pick(self, f: int) -> None:
        """Show filter ``f``'s kernels (a deeper layer; the first shows all at once)."""
        f = min(max(int(f), 0), self.shape[0] - 1)
        if self.picker is None or f == self.filter:
            return
        self.filter = f
        if self.picker.value() != f + 1:
            self.picker.setValue(f + 1)
        self._draw(self._weights)
        self.frames -= 1  # a pick is not a frame of the drawing

    def show_layer(self, layer, previous=None) -> None:
        """Weights do not change while drawing: redrawn only when other weights come
        (features a student edited, a training checkpoint)."""
        self.frames += 1
        if layer.weights is self._weights:
            return
        self._weights = layer.weights
        self._draw(layer.weights)
        self.frames -= 1  # draw_tiles counted it too

    def _shown(self, weights: np.ndarray) -> np.ndarray:
        """The weights as printed: ±1 for the lecture's features, else as they are."""
        if self.divisor is not None and matching_divisor(weights) == self.divisor:
            return np.round(weights * self.divisor)
        return weights

    def _draw(self, weights: np.ndarray) -> None:
        kh, kw = self.shape[2:]
        shown = self._shown(weights)
        integer = shown is not weights
        if integer != self._integer:  # trained away from ±1/n, or back
            self.limit = float(np.abs(shown).max()) or 1.0
        self._integer = integer
        tiles = shown[:, 0] if self.picker is None else shown[self.filter]
        fmt = "{:.0f}" if integer else "{:.2f}"
        self.draw_tiles(np.ascontiguousarray(tiles).reshape(-1, kh, kw),
                        (-self.limit, self.limit), DIVERGING_LUT, fmt=fmt)

    def show_empty(self, layer) -> None:
        self.show_layer(layer)  # the filters are the network, not its response

    def channels(self) -> int:
        return self.shape[0]

    def channel_of(self, tile: int) -> int | None:
        return self._split(tile)[0]

    def highlight_channel(self, channel: int | None) -> None:
        """A followed channel is a filter: outline its tile, or (deeper) show its kernels."""
        if self.picker is None:
            super().highlight_channel(channel)
        elif channel is not None:
            self.pick(channel)

    def _split(self, tile: int) -> tuple[int, int]:
        """(filter, input map) of a tile."""
        return (tile, 0) if self.picker is None else (self.filter, tile)

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        weight = f"{value:+.0f} (÷ {self.divisor})" if self._integer else f"{value:+.3f}"
        return f"{self.tile_title(tile)}, row {row + 1}, col {col + 1}: weight {weight}"

    def tile_title(self, tile: int) -> str:
        f, i = self._split(tile)
        return f"{self.name}: filter {f + 1}" + (f", input map {i + 1}" if self.picker else "")

    def channel_rect(self, channel: int) -> QRectF | None:
        return super().channel_rect(channel) if self.picker is None else None

    @staticmethod
    def accepts(layer) -> bool:
        return layer.kind == "conv" and layer.weights is not None and layer.weights.ndim == 4
