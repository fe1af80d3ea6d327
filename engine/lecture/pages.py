"""The lecture's convolution pages, as data: what each page convolves, in the lecture's order.

Before its X/O case study the lecture builds convolution up in small steps: a 1-D
case, a 2-D case on a 5×5 grid, padding, a 4×4 filter shifted by 2, a colour image
whose three channels meet three kernel channels, and the size of the output volume.
Each :class:`ConvLesson` holds one page's input, kernel, bias, stride and padding, and
gives its :class:`~engine.lecture.steps.ConvSteps`; the GUI edits copies of these
(every cell is editable) and never changes the lecture's originals. No Qt here.

What the seed text gives and what it does not:

- **5×5 grid and 3×3 kernel.** The slide prints the kernel as small superscripts in
  the cells under the window, which the seed's text garbles into a cell's value followed
  by its weight ("o ¹" = value 0, weight 1; "11" = value 1, weight 1; "o"/"О" = 0). All
  five frames in the seed (window at rows 0–2 × cols 0–2, 0–2 × 1–3, 0–2 × 2–4, 1–3 ×
  0–2, 1–3 × 1–3) decode to the same grid, ``0 0 1 0 1 / 2 1 0 1 0 / 0 0 1 0 1 /
  0 1 2 1 0 / 2 1 0 1 0``, and the same kernel ``1 0 1 / 0 0 0 / 1 0 1``: the reading in
  the issue is right. ``tests/test_steps.py`` decodes the frames, copied from the seed,
  and checks them against :data:`TWO_D`. The seed does not print the output; ours
  (``2 0 4 / 4 4 2 / 3 2 2``) is checked against ``torch.nn.functional.conv2d``.
- **1-D case, padding and stride.** The seed shows these only as pictures (no numbers)
  and words ("Filter of size 4x4 … shift by 2 pixels"); the numbers here are ours.
- **Colour image.** The seed prints the three zero-padded 5×5 input channels (the
  last padded row and column are cut off in the text), kernel channel #1
  (``-1 -1 1 / 0 1 -1 / 0 1 1``) and an output cell of -25; kernel channels #2 and #3
  and the bias are lost (pictures). This is the widely reproduced figure of a 5×5×3
  image and a 3×3×3 kernel; its other two kernel channels are ``1 0 0 / 1 -1 -1 /
  1 0 -1`` and ``0 1 1 / 0 1 0 / 1 -1 1`` with bias 1. We checked that they fit the
  seed: the first output cell is 308 + (−498) + 164 + 1 = −25, the seed's number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from engine.errors import ConvPadError, LimitError
from engine.lecture.steps import ConvSteps, output_size
from engine.spec import MAX_ABS_WEIGHT

LIMIT = MAX_ABS_WEIGHT  # the largest magnitude a typed cell value may have (one limit)


def parse_value(text: str) -> float:
    """A typed cell value → float; :class:`~engine.errors.ConvPadError` saying why it is refused.

    Refused: empty text, anything that is not a number, NaN, ±inf, and magnitudes above
    1e4, the one limit on any value that enters a network. The typographic minus "−" is accepted,
    as slides print it.
    """
    t = (text or "").strip().replace("−", "-").replace(",", ".")
    if not t:
        raise ConvPadError("type a number")
    try:
        v = float(t)
    except ValueError:
        raise ConvPadError(f"{text.strip()!r} is not a number") from None
    if math.isnan(v):
        raise ConvPadError("NaN is not a number a cell can hold")
    if math.isinf(v) or abs(v) > LIMIT:
        raise LimitError(f"{text.strip()} is too large: keep it within ±{LIMIT:,.0f}")
    return v


def _rows(text: str) -> np.ndarray:
    return np.array([[float(v) for v in row.split()] for row in text.strip().split("/")])


@dataclass(frozen=True)
class ConvLesson:
    """One lecture page: ``x`` (C, H, W) convolved with ``w`` (C, kh, kw), + ``bias``.

    ``words`` is what the lecture says on that slide; ``note`` what the page shows.
    ``channel_names`` label the input channels (R, G, B).
    """

    key: str
    title: str
    words: str
    note: str
    x: np.ndarray
    w: np.ndarray
    bias: float = 0.0
    stride: int = 1
    padding: int = 0
    channel_names: tuple[str, ...] = ()

    def steps(self) -> ConvSteps:
        return ConvSteps(self.x, self.w, bias=self.bias, stride=self.stride, padding=self.padding)

    def output(self) -> np.ndarray:
        return self.steps().output()

    def with_cell(self, which: str, channel: int, row: int, col: int, value: float) -> ConvLesson:
        """A copy with one cell of ``which`` ("x" or "w") set to ``value``."""
        a = np.array(getattr(self, which), np.float64)
        a[channel, row, col] = value
        return replace(self, **{which: a})

    @property
    def size_text(self) -> str:
        """The lecture's formula for this page's output size, filled in."""
        W, F, P, S = self.x.shape[-1], self.w.shape[-1], self.padding, self.stride
        return f"({W} − {F} + 2·{P}) / {S} + 1 = {output_size(W, F, P, S)}"


ONE_D = ConvLesson(
    key="1d",
    title="1-D convolution",
    words="Let's try to understand the concept of convolution with a simple "
          "1-dimensional case first.",
    note="The kernel slides along the signal; each output is the sum of the products.",
    x=np.array([[[0, 0, 1, 3, 3, 3, 1, 0, 0]]], np.float64),
    w=np.array([[[-1, 0, 1]]], np.float64),
)

TWO_D = ConvLesson(
    key="2d",
    title="2-D convolution",
    words="Then let's try a 2-dimensional case.",
    note="The lecture's 5×5 grid and 3×3 kernel: multiply cell by cell, add up.",
    x=_rows("0 0 1 0 1 / 2 1 0 1 0 / 0 0 1 0 1 / 0 1 2 1 0 / 2 1 0 1 0")[None],
    w=_rows("1 0 1 / 0 0 0 / 1 0 1")[None],
)

PADDING = replace(
    TWO_D,
    key="padding",
    title="Convolution with padding",
    words="Convolution with Padding",
    note="A border of zeros lets the window centre on every cell: 5×5 in, 5×5 out.",
    padding=1,
)

STRIDE = ConvLesson(
    key="stride",
    title="Stride: a 4×4 filter shifted by 2",
    words="Filter of size 4x4: 16 different weights. Apply this same filter to 4x4 "
          "patches in input. Shift by 2 pixels for next patch.",
    note="Stride 2: the window jumps two cells, so 8×8 becomes 3×3.",
    x=_rows(
        "1 0 0 0 0 0 0 0 / 0 1 0 0 0 0 0 0 / 0 0 1 0 0 0 0 1 / 0 0 0 1 0 0 1 0 /"
        "0 0 0 0 1 1 0 0 / 0 0 0 0 1 1 0 0 / 0 0 0 1 0 0 1 0 / 0 0 1 0 0 0 0 1"
    )[None],
    w=np.eye(4)[None],
    stride=2,
)

CHANNELS = ConvLesson(
    key="channels",
    title="A colour image: three channels",
    words="Multiple Filters Colored Image",
    note="Each kernel channel meets its colour channel; the three sums and the bias "
         "add up to one output cell.",
    x=np.stack([
        _rows("156 155 156 158 158 / 153 154 157 159 159 / 149 151 155 158 159 /"
              "146 146 149 153 158 / 145 143 143 148 158"),
        _rows("167 166 167 169 169 / 164 165 168 170 170 / 160 162 166 169 170 /"
              "156 156 159 163 168 / 155 153 153 158 168"),
        _rows("163 162 163 165 165 / 160 161 164 166 166 / 156 158 162 165 166 /"
              "155 155 158 162 167 / 154 152 152 157 167"),
    ]),
    w=np.stack([
        _rows("-1 -1 1 / 0 1 -1 / 0 1 1"),  # printed in the seed
        _rows("1 0 0 / 1 -1 -1 / 1 0 -1"),  # lost in the seed; see the module docstring
        _rows("0 1 1 / 0 1 0 / 1 -1 1"),  # lost in the seed
    ]),
    bias=1.0,
    padding=1,
    channel_names=("R", "G", "B"),
)

CONV_LESSONS: tuple[ConvLesson, ...] = (ONE_D, TWO_D, PADDING, STRIDE, CHANNELS)


@dataclass(frozen=True)
class SizeLesson:
    """The output-size page: ``(W − F + 2P)/S + 1`` with a slider for each letter."""

    key: str = "size"
    title: str = "The size of the output"
    words: str = "CNNs: Spatial Arrangement of Output Volume"
    note: str = "Input width W, filter F, padding P, stride S."
    W: int = 7
    F: int = 3
    P: int = 0
    S: int = 2
    ranges: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"W": (1, 16), "F": (1, 7), "P": (0, 3), "S": (1, 4)}
    )


SIZE = SizeLesson()

# Every page in the lecture's order, before the X/O case study.
LESSONS: tuple[ConvLesson | SizeLesson, ...] = (*CONV_LESSONS, SIZE)


def size_text(W: int, F: int, P: int, S: int) -> str:
    """``(W − F + 2P)/S + 1`` filled in, with what PyTorch does when it is not whole."""
    span = W - F + 2 * P
    if span < 0:
        return f"({W} − {F} + 2·{P}) < 0: the filter does not fit"
    n = output_size(W, F, P, S)
    if span % S == 0:
        return f"({W} − {F} + 2·{P}) / {S} + 1 = {n}"
    return (f"({W} − {F} + 2·{P}) / {S} + 1 = {span / S + 1:g} → {n} "
            "(the last partial window is dropped)")
