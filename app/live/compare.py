"""Compare A/B: a pinned drawing "A" beside the live drawing "B", outside any widget.

A student pins the lecture's X as A, nudges it three pixels, and every view shows what
changed (B − A: the conv maps move, the pooled maps barely do), or A itself to flip back
and forth. A is traced through the *live* model in the live input mode, and traced
again whenever either changes, so A and B are always seen by the same network.
"""

from __future__ import annotations

import numpy as np

from engine import ConvPadError

MODES = (None, "diff", "A")  # B alone, B − A, A alone


class Compare:
    """The pinned drawing and how the views show it (see the module docstring)."""

    def __init__(self) -> None:
        self.pin_raster: np.ndarray | None = None
        self.mode: str | None = None
        self._a: tuple[tuple[int, str], object] | None = None  # ((model id, input), trace)

    @property
    def pinned(self) -> bool:
        return self.pin_raster is not None

    def pin(self, raster: np.ndarray) -> None:
        """Keep ``raster`` (uint8, the canvas's) as A; the live drawing is B from now on."""
        self.pin_raster = np.array(raster, copy=True)
        self._a = None
        if self.mode is None:
            self.mode = "diff"

    def unpin(self) -> None:
        """Forget A: the views show the live drawing alone again."""
        self.pin_raster, self.mode, self._a = None, None, None

    def set_mode(self, mode: str | None) -> None:
        """None (B alone), "diff" (B − A) or "A"; refused without a pin."""
        if mode not in MODES:
            raise ValueError(f"unknown compare mode {mode!r}")
        if mode is not None and not self.pinned:
            raise ConvPadError("pin a drawing as A first (Compare ▸ Pin as A)")
        self.mode = mode

    def a_trace(self, model, input_mode: str):
        """A traced through ``model`` in ``input_mode`` (cached until either changes)."""
        if self.pin_raster is None or model is None:
            return None
        key = (id(model), input_mode)
        if self._a is None or self._a[0] != key:
            ink = self.pin_raster.astype(np.float32) / 255.0
            self._a = (key, model.trace(model.preprocess(ink, invert=False, input=input_mode)))
        return self._a[1]

    def view(self, trace, blank: bool, model, input_mode: str):
        """What the views show for live ``trace``: ``(trace, blank)`` of B, B − A or A."""
        if self.mode is None:
            return trace, blank
        a = self.a_trace(model, input_mode)
        if a is None:
            return trace, blank
        if self.mode == "A":
            return a, False
        if blank:
            return trace, blank
        from engine import difference  # engine's tracing imports torch: not at start-up

        return difference(trace, a), False
