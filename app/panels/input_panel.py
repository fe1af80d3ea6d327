"""What the network sees: the preprocessed input, with a receptive field outlined."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF

from app.look import GREY_LUT
from app.numbers import value_text
from app.panels.base import LayerPanel, Window
from app.panels.mosaic import Mosaic


class InputPanel(LayerPanel):
    """The network's input (28×28 in [0, 1], or the toy's 9×9 grid of ±1)."""

    def __init__(self, layer, parent=None) -> None:
        _, h, w = layer.output.shape
        super().__init__(layer.name, f"what the network sees, {h}×{w}", parent)
        self.size = (h, w)
        self.set_mosaic(Mosaic(1, h, w, gap=0))
        # The toy's grid is ±1 (background -1); the MNIST-style input is [0, 1].
        self.signed = bool(layer.output.min() < 0)
        self.outline = self.add_outline(width=4, z=10)  # what a hovered cell looks at
        self.set_help("The drawing as the network receives it: cropped, scaled, centred.")

    def show_layer(self, layer, previous=None) -> None:
        levels = (-1.0, 1.0) if self.signed else (0.0, 1.0)
        self.draw_tiles(layer.output, levels, GREY_LUT, fmt="{:.0f}")

    def show_empty(self, layer) -> None:
        self.show_layer(layer)  # what the network is given: nothing, shown as such

    def levels(self) -> tuple[float, float]:
        return (-1.0, 1.0) if self.signed else (0.0, 1.0)

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        return f"input pixel row {row + 1}, col {col + 1}: {value_text(value)}"

    def show_window(self, window: Window | None) -> None:
        """Outline the input cells a hovered map cell looks at (clipped to the input)."""
        if window is None:
            self.outline.hide()
            return
        (r0, r1), (c0, c1) = window
        h, w = self.size
        r0, r1 = int(np.clip(r0, 0, h)), int(np.clip(r1, 0, h))
        c0, c1 = int(np.clip(c0, 0, w)), int(np.clip(c1, 0, w))
        self.outline.setRect(QRectF(c0, r0, c1 - c0, r1 - r0))
        self.outline.show()

    @staticmethod
    def accepts(layer) -> bool:
        return layer.kind == "input"
