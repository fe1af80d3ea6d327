"""Every operation of a ConvNet as a sequence of steps, with the engine's own numbers.

A step-through shows a layer one output at a time: where the window is, what it holds,
what it is multiplied by, the products, their sum and the value it gives. This module is
that arithmetic and nothing else (no Qt): each ``*Steps`` class is a lazy sequence —
``len()`` is the number of steps, ``steps[i]`` computes step ``i`` on demand — so a
player can jump to any cell of a 26×26 map and each animation tick does one small numpy
computation, never the whole layer.

- :class:`ConvSteps`: per output cell, the patch under the window, the kernel, the
  element-wise products and their sum, then the lecture's ÷9 (the toy's normalised
  matching) or + bias (and the ReLU when one follows). A multi-channel input takes one
  step per input channel, each adding its channel's sum, so no screen shows more than
  one patch at a time.
- :class:`PoolSteps`: the pooling window and the value it picks.
- :class:`ReluSteps`: each negative value turning to 0.

The vector layers' steps (votes, dense) are in :mod:`engine.lecture.vector_steps`, and
:mod:`engine.lecture.walk` picks the right steps for a traced layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import ConvPadError


# ----- sizes ------------------------------------------------------------------------------
def output_size(W: int, F: int, P: int = 0, S: int = 1, ceil_mode: bool = False) -> int:
    """The lecture's output size ``(W − F + 2P)/S + 1``, rounded as PyTorch does.

    When ``S`` does not divide ``W − F + 2P`` the last partial window is dropped (floor),
    or kept with ``ceil_mode`` (the toy's pooling, 7 → 4). ``ValueError`` names what is
    wrong when no window fits at all.
    """
    W, F, P, S = int(W), int(F), int(P), int(S)
    if W < 1 or F < 1 or P < 0 or S < 1:
        raise ConvPadError(
            f"output_size needs W ≥ 1, F ≥ 1, P ≥ 0, S ≥ 1; got W={W} F={F} P={P} S={S}")
    span = W - F + 2 * P
    if span < 0:
        raise ConvPadError(f"a {F}×{F} filter does not fit in {W} + 2·{P} = {W + 2 * P} cells")
    n = (-(-span // S) if ceil_mode else span // S) + 1
    if ceil_mode and (n - 1) * S >= W + P:
        n -= 1  # PyTorch: the last window must start inside the input or the left padding
    return n


def fits_evenly(W: int, F: int, P: int = 0, S: int = 1) -> bool:
    """True when the windows tile ``W + 2P`` exactly (``S`` divides ``W − F + 2P``)."""
    return (W - F + 2 * P) >= 0 and (W - F + 2 * P) % S == 0


def matching_divisor(weights: np.ndarray, largest: int = 100) -> int | None:
    """``n`` when every weight is ±1/n (the lecture's normalised matching), else ``None``.

    The toy's features are ±1 divided by 9; a step-through then shows the ±1 feature,
    integer products and the sum, and the ÷9 as its own step, as the slides do.
    """
    w = np.abs(np.asarray(weights, np.float64)).ravel()
    if w.size == 0 or not np.all(w > 0):
        return None
    n = round(1.0 / float(w[0]))
    if not 1 <= n <= largest:
        return None
    return n if np.allclose(w * n, 1.0, atol=1e-4) else None


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _as_maps(x: np.ndarray) -> np.ndarray:
    """1-D → (1, 1, L), 2-D → (1, H, W), 3-D unchanged: every input as channel maps."""
    x = np.asarray(x, np.float64)
    while x.ndim < 3:
        x = x[None]
    if x.ndim != 3:
        raise ConvPadError(f"expected a 1-D, 2-D or (C, H, W) array, got shape {x.shape}")
    return x


# ----- convolution ------------------------------------------------------------------------
@dataclass(frozen=True)
class ConvStep:
    """One step of a convolution: output cell ``(row, col)``, input channel ``channel``.

    ``rows``/``cols`` are the window's input range ``[start, stop)`` in unpadded input
    coordinates (negative or past the edge where it lies on the padding). ``patch``,
    ``kernel`` and ``products`` are ``(C, kh, kw)``; ``kernel`` is as shown (× ``divide``
    for normalised matching). ``partial`` sums the channels up to ``channel``; when
    ``complete`` (the last channel), ``value`` is the output cell: ``total / divide`` or
    ``total + bias``, and ``relu`` is ``max(value, 0)`` if a ReLU follows, else ``None``.
    """

    index: int
    row: int
    col: int
    channel: int
    channels: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    patch: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    channel_sums: np.ndarray
    partial: float
    total: float
    divide: int | None
    bias: float | None
    value: float
    relu: float | None

    @property
    def complete(self) -> bool:
        return self.channel == self.channels - 1


class ConvSteps(Sequence[ConvStep]):
    """A convolution of ``x`` with one kernel ``w``, one step per output cell and channel.

    ``x`` is ``(C, H, W)`` (or 2-D, or a 1-D signal), ``w`` is ``(C, kh, kw)`` (or 2-D,
    or 1-D): the single output channel being stepped through. ``divide``: the weights
    are ±k/divide and are shown multiplied by ``divide``, the sum divided by it
    (:func:`matching_divisor`). ``relu``: a ReLU follows, show it.
    """

    def __init__(self, x: np.ndarray, w: np.ndarray, bias: float | None = None,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 divide: int | None = None, relu: bool = False) -> None:
        self.x = _as_maps(x)
        self.w = _as_maps(w)
        if self.w.shape[0] != self.x.shape[0]:
            raise ConvPadError(
                f"kernel has {self.w.shape[0]} channels, input has {self.x.shape[0]}")
        self.stride, self.padding = _pair(stride), _pair(padding)
        self.divide, self.relu = divide, relu
        self.bias = None if bias is None else float(bias)
        C, H, W = self.x.shape
        _, kh, kw = self.w.shape
        self.channels = C
        self.shape = (
            output_size(H, kh, self.padding[0], self.stride[0]),
            output_size(W, kw, self.padding[1], self.stride[1]),
        )
        py, px = self.padding
        self.padded = np.pad(self.x, ((0, 0), (py, py), (px, px)))
        # As shown: ±1 features stay whole numbers instead of 0.1111.
        self.kernel = np.round(self.w * divide) if divide else self.w

    def __len__(self) -> int:
        return self.shape[0] * self.shape[1] * self.channels

    def cell_index(self, row: int, col: int) -> int:
        """The first step of output cell ``(row, col)`` (its first channel)."""
        return (row * self.shape[1] + col) * self.channels

    def cell_of(self, index: int) -> tuple[int, int]:
        cell = index // self.channels
        return divmod(cell, self.shape[1])

    def window(self, row: int, col: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """The input rows and cols ``[start, stop)`` of output cell ``(row, col)``."""
        (sy, sx), (py, px) = self.stride, self.padding
        _, kh, kw = self.w.shape
        r0, c0 = row * sy - py, col * sx - px
        return (r0, r0 + kh), (c0, c0 + kw)

    def __getitem__(self, index: int) -> ConvStep:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"step {index} of {len(self)}")
        index %= len(self)
        row, col = self.cell_of(index)
        channel = index % self.channels
        (r0, r1), (c0, c1) = self.window(row, col)
        py, px = self.padding
        patch = self.padded[:, r0 + py : r1 + py, c0 + px : c1 + px]
        products = patch * self.kernel
        sums = products.sum(axis=(1, 2))
        total = float(sums.sum())
        value = total / self.divide if self.divide else total + (self.bias or 0.0)
        return ConvStep(
            index=index, row=row, col=col, channel=channel, channels=self.channels,
            rows=(r0, r1), cols=(c0, c1), patch=patch, kernel=self.kernel,
            products=products, channel_sums=sums, partial=float(sums[: channel + 1].sum()),
            total=total, divide=self.divide, bias=self.bias, value=value,
            relu=max(value, 0.0) if self.relu else None,
        )

    def output(self) -> np.ndarray:
        """The whole output map at once (vectorised), for filling in cells already passed."""
        _, kh, kw = self.w.shape
        sy, sx = self.stride
        windows = np.lib.stride_tricks.sliding_window_view(self.padded, (kh, kw), axis=(1, 2))
        windows = windows[:, ::sy, ::sx][:, : self.shape[0], : self.shape[1]]
        total = np.einsum("chwij,cij->hw", windows, self.kernel)
        return total / self.divide if self.divide else total + (self.bias or 0.0)


# ----- pooling ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolStep:
    """One pooling window: output cell ``(row, col)`` reads input ``rows``×``cols``
    (clipped to the map), whose values are ``window``; ``pick`` is the input cell holding
    the max, ``value`` the max itself."""

    index: int
    row: int
    col: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    window: np.ndarray
    pick: tuple[int, int]
    value: float


class PoolSteps(Sequence[PoolStep]):
    """Max pooling of one map ``x`` (H, W): one step per output cell.

    ``ceil_mode`` keeps the partial windows on the right and bottom edges, as the toy
    does to turn 7×7 into 4×4.
    """

    def __init__(self, x: np.ndarray, size: int = 2, stride: int | None = None,
                 padding: int = 0, ceil_mode: bool = False) -> None:
        self.x = np.asarray(x, np.float64)
        if self.x.ndim != 2:
            raise ConvPadError(f"pool_steps takes one (H, W) map, got shape {self.x.shape}")
        self.size, self.stride = int(size), int(stride or size)
        self.padding, self.ceil_mode = int(padding), ceil_mode
        H, W = self.x.shape
        self.shape = (
            output_size(H, self.size, self.padding, self.stride, ceil_mode),
            output_size(W, self.size, self.padding, self.stride, ceil_mode),
        )

    def __len__(self) -> int:
        return self.shape[0] * self.shape[1]

    def cell_index(self, row: int, col: int) -> int:
        return row * self.shape[1] + col

    def cell_of(self, index: int) -> tuple[int, int]:
        return divmod(index, self.shape[1])

    def window(self, row: int, col: int) -> tuple[tuple[int, int], tuple[int, int]]:
        H, W = self.x.shape
        r0, c0 = row * self.stride - self.padding, col * self.stride - self.padding
        return ((max(r0, 0), min(r0 + self.size, H)), (max(c0, 0), min(c0 + self.size, W)))

    def __getitem__(self, index: int) -> PoolStep:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"step {index} of {len(self)}")
        index %= len(self)
        row, col = self.cell_of(index)
        (r0, r1), (c0, c1) = self.window(row, col)
        window = self.x[r0:r1, c0:c1]
        i, j = np.unravel_index(int(np.argmax(window)), window.shape)
        return PoolStep(index, row, col, (r0, r1), (c0, c1), window,
                        (r0 + int(i), c0 + int(j)), float(window[i, j]))

    def output(self) -> np.ndarray:
        out = np.empty(self.shape)
        for r in range(self.shape[0]):
            for c in range(self.shape[1]):
                (r0, r1), (c0, c1) = self.window(r, c)
                out[r, c] = self.x[r0:r1, c0:c1].max()
        return out


# ----- ReLU -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReluStep:
    """One negative value at ``position`` turning into ``after`` (0)."""

    index: int
    position: tuple[int, ...]
    before: float
    after: float


class ReluSteps(Sequence[ReluStep]):
    """ReLU on ``x`` (any shape): one step per negative value, in reading order.

    Positive values pass unchanged and take no step; with no negatives there are no
    steps and the layer changes nothing, which is worth saying.
    """

    def __init__(self, x: np.ndarray) -> None:
        self.x = np.asarray(x, np.float64)
        self.negatives = [tuple(int(i) for i in p) for p in np.argwhere(self.x < 0)]

    def __len__(self) -> int:
        return len(self.negatives)

    def __getitem__(self, index: int) -> ReluStep:  # type: ignore[override]
        pos = self.negatives[index]
        return ReluStep(index % len(self), pos, float(self.x[pos]), 0.0)

    def output(self) -> np.ndarray:
        return np.maximum(self.x, 0.0)


# ----- batch norm -------------------------------------------------------------------------
@dataclass(frozen=True)
class NormStep:
    """The value at ``position`` scaled and shifted: ``before × scale + shift = after``."""

    index: int
    position: tuple[int, ...]
    before: float
    scale: float
    shift: float
    after: float


class NormSteps(Sequence[NormStep]):
    """A batch norm at inference on ``x`` (a map, or a vector): one step per value, in
    reading order, each ``x × scale + shift``.

    ``scale`` and ``shift`` are the layer's per-channel numbers (one pair for a map, one
    per value for a vector: :func:`engine.tracing.layer_weights` makes them from γ, β
    and the running mean and variance), so every value of a map moves the same way and
    the map's pattern stays; only its level and contrast change.
    """

    def __init__(self, x: np.ndarray, scale: float | np.ndarray,
                 shift: float | np.ndarray) -> None:
        self.x = np.asarray(x, np.float64)
        self.scale = np.broadcast_to(np.asarray(scale, np.float64), self.x.shape)
        self.shift = np.broadcast_to(np.asarray(shift, np.float64), self.x.shape)

    def __len__(self) -> int:
        return self.x.size

    def __getitem__(self, index: int) -> NormStep:  # type: ignore[override]
        i = index % len(self)
        pos = tuple(int(p) for p in np.unravel_index(i, self.x.shape))
        a, s, b = float(self.x[pos]), float(self.scale[pos]), float(self.shift[pos])
        return NormStep(i, pos, a, s, b, a * s + b)

    def output(self) -> np.ndarray:
        return self.x * self.scale + self.shift
