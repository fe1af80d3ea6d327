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
- :class:`VoteSteps`: each feature value × its weight added to every class's total,
  then the shares (the X/O toy's probabilities).
- :class:`DenseSteps`: one unit's weighted sum, input by input, then + bias.

:func:`steps_for_layer` builds the right one for a traced :class:`~engine.tracing.Layer`
from its kind and the receptive fields, never from a model's name. The module also
holds the two helpers behind "your own features": :func:`with_conv_weights` (a model
copy with edited conv weights) and :func:`save_edited_model` (a new safetensors + card
pair, never over a shipped model).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.registry import RESOURCES, list_models

if TYPE_CHECKING:
    from engine.model import Model
    from engine.tracing import Layer, ReceptiveField, Trace

# The kinds a step-through can show; the others (input, flatten, softmax) only reshape
# or are shown by the probabilities.
STEPPABLE = ("conv", "pool", "relu", "votes", "dense")


# ----- sizes ------------------------------------------------------------------------------
def output_size(W: int, F: int, P: int = 0, S: int = 1, ceil_mode: bool = False) -> int:
    """The lecture's output size ``(W − F + 2P)/S + 1``, rounded as PyTorch does.

    When ``S`` does not divide ``W − F + 2P`` the last partial window is dropped (floor),
    or kept with ``ceil_mode`` (the toy's pooling, 7 → 4). ``ValueError`` names what is
    wrong when no window fits at all.
    """
    W, F, P, S = int(W), int(F), int(P), int(S)
    if W < 1 or F < 1 or P < 0 or S < 1:
        raise ValueError(
            f"output_size needs W ≥ 1, F ≥ 1, P ≥ 0, S ≥ 1; got W={W} F={F} P={P} S={S}")
    span = W - F + 2 * P
    if span < 0:
        raise ValueError(f"a {F}×{F} filter does not fit in {W} + 2·{P} = {W + 2 * P} cells")
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


def number_text(v: float, decimals: int = 2) -> str:
    """A value as the step-through writes it: cut (not rounded) to ``decimals``, as the
    lecture prints 7/9 as 0.77, with no "-0"; integers need ``decimals=0``.

    The tiny nudge before cutting keeps a float32 0.78 (0.77999997) from showing as 0.77.
    """
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    scale = 10**decimals
    cut = math.trunc(v * scale + math.copysign(1e-3, v)) / scale
    text = f"{cut:.{decimals}f}"
    return text[1:] if text.lstrip("-").strip("0.") == "" and text.startswith("-") else text


def decimals_for(values: np.ndarray) -> int:
    """How many decimals make ``values`` readable: 0 for whole numbers, 3 for small ones."""
    a = np.asarray(values, np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0 or np.allclose(a, np.round(a), atol=1e-6):
        return 0
    nonzero = np.abs(a[np.abs(a) > 1e-9])
    return 3 if nonzero.size and float(np.median(nonzero)) < 0.1 else 2


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _as_maps(x: np.ndarray) -> np.ndarray:
    """1-D → (1, 1, L), 2-D → (1, H, W), 3-D unchanged: every input as channel maps."""
    x = np.asarray(x, np.float64)
    while x.ndim < 3:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"expected a 1-D, 2-D or (C, H, W) array, got shape {x.shape}")
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
            raise ValueError(f"kernel has {self.w.shape[0]} channels, input has {self.x.shape[0]}")
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


def conv_steps(x: np.ndarray, w: np.ndarray, bias: float | None = None,
               stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
               divide: int | None = None, relu: bool = False) -> ConvSteps:
    """The steps of convolving ``x`` with one kernel ``w``; see :class:`ConvSteps`."""
    return ConvSteps(x, w, bias=bias, stride=stride, padding=padding, divide=divide, relu=relu)


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
            raise ValueError(f"pool_steps takes one (H, W) map, got shape {self.x.shape}")
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


def pool_steps(x: np.ndarray, size: int = 2, stride: int | None = None, padding: int = 0,
               ceil_mode: bool = False) -> PoolSteps:
    """The steps of max-pooling one map; see :class:`PoolSteps`."""
    return PoolSteps(x, size=size, stride=stride, padding=padding, ceil_mode=ceil_mode)


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


def relu_steps(x: np.ndarray) -> ReluSteps:
    """The steps of a ReLU on ``x``; see :class:`ReluSteps`."""
    return ReluSteps(x)


# ----- votes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class VoteStep:
    """Value ``i`` casting its votes, or (``i is None``) the final shares.

    ``products[k] = value × weights[k]`` is added to class ``k``; ``totals`` are the
    running totals after this step. On the final step ``shares`` holds each class's
    share of all votes: the toy's probabilities.
    """

    index: int
    i: int | None
    value: float
    weights: np.ndarray
    products: np.ndarray
    totals: np.ndarray
    shares: np.ndarray | None = None


def vote_shares(totals: np.ndarray) -> np.ndarray:
    """Each class's share of all votes; no votes at all is a tie (as ``Model`` does)."""
    t = np.asarray(totals, np.float64)
    s = float(t.sum())
    return np.full(len(t), 1.0 / len(t)) if s <= 0 else t / s


class VoteSteps(Sequence[VoteStep]):
    """Votes of ``values`` (N,) with ``weights`` (K, N): one step per value, then the shares.

    ``skip_zero`` leaves out values of 0 (after a ReLU, many), which add nothing.
    """

    def __init__(self, values: np.ndarray, weights: np.ndarray, skip_zero: bool = False) -> None:
        self.values = np.asarray(values, np.float64).ravel()
        self.weights = np.asarray(weights, np.float64)
        if self.weights.shape[1:] != self.values.shape:
            raise ValueError(
                f"vote weights {self.weights.shape} do not fit {self.values.shape[0]} values")
        idx = np.arange(self.values.size)
        self.order = idx[self.values != 0] if skip_zero else idx
        contrib = self.values[self.order][:, None] * self.weights[:, self.order].T
        self._running = np.cumsum(contrib, axis=0) if len(self.order) else contrib
        self.totals = self.weights @ self.values

    def __len__(self) -> int:
        return len(self.order) + 1

    def __getitem__(self, index: int) -> VoteStep:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"step {index} of {len(self)}")
        index %= len(self)
        if index == len(self.order):
            return VoteStep(index, None, 0.0, np.zeros(len(self.weights)),
                            np.zeros(len(self.weights)), self.totals, vote_shares(self.totals))
        i = int(self.order[index])
        w = self.weights[:, i]
        return VoteStep(index, i, float(self.values[i]), w, self.values[i] * w,
                        self._running[index])


def vote_steps(values: np.ndarray, weights: np.ndarray, skip_zero: bool = False) -> VoteSteps:
    """The steps of the toy's vote; see :class:`VoteSteps`."""
    return VoteSteps(values, weights, skip_zero=skip_zero)


# ----- dense ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DenseStep:
    """Input ``i`` (value ``x``) times weight ``w`` added to unit ``unit``'s ``running`` sum;
    the final step (``i is None``) adds the bias: ``value`` (and ``relu`` if one follows)."""

    index: int
    unit: int
    i: int | None
    x: float
    w: float
    product: float
    running: float
    bias: float | None = None
    value: float | None = None
    relu: float | None = None


class DenseSteps(Sequence[DenseStep]):
    """One unit of a dense layer: Σ xᵢ·wᵢ over its inputs, then + bias.

    ``skip_zero`` (default) steps only over inputs that are not 0 — after a ReLU most
    are, and they add nothing; :attr:`skipped` says how many were left out.
    """

    def __init__(self, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None,
                 unit: int = 0, skip_zero: bool = True, relu: bool = False) -> None:
        self.x = np.asarray(x, np.float64).ravel()
        self.w = np.asarray(w, np.float64)
        if self.w.ndim != 2 or self.w.shape[1] != self.x.size:
            raise ValueError(f"dense weights {self.w.shape} do not fit {self.x.size} inputs")
        if not 0 <= unit < self.w.shape[0]:
            raise ValueError(f"unit {unit} of {self.w.shape[0]}")
        self.unit, self.relu = int(unit), relu
        self.row = self.w[self.unit]
        self.bias = None if bias is None else float(np.asarray(bias).ravel()[self.unit])
        idx = np.arange(self.x.size)
        self.order = idx[self.x != 0] if skip_zero else idx
        self.skipped = self.x.size - len(self.order)
        self._running = np.cumsum(self.x[self.order] * self.row[self.order])
        self.total = float(self._running[-1]) if len(self.order) else 0.0
        self.value = self.total + (self.bias or 0.0)

    def __len__(self) -> int:
        return len(self.order) + 1

    def __getitem__(self, index: int) -> DenseStep:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"step {index} of {len(self)}")
        index %= len(self)
        if index == len(self.order):
            return DenseStep(index, self.unit, None, 0.0, 0.0, 0.0, self.total, self.bias,
                             self.value, max(self.value, 0.0) if self.relu else None)
        i = int(self.order[index])
        return DenseStep(index, self.unit, i, float(self.x[i]), float(self.row[i]),
                         float(self.x[i] * self.row[i]), float(self._running[index]))


def dense_steps(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, unit: int = 0,
                skip_zero: bool = True, relu: bool = False) -> DenseSteps:
    """The steps of one dense unit's weighted sum; see :class:`DenseSteps`."""
    return DenseSteps(x, w, bias, unit=unit, skip_zero=skip_zero, relu=relu)


# ----- from a trace -----------------------------------------------------------------------
@dataclass(frozen=True)
class Geometry:
    """A conv or pool layer's window: ``size``, ``stride``, ``padding`` (square), ``ceil_mode``."""

    size: int
    stride: int
    padding: int
    ceil_mode: bool = False


def _field(layer: Layer) -> ReceptiveField:
    from engine.tracing import ReceptiveField

    return layer.receptive_field or ReceptiveField(size=1, jump=1, offset=0)


def layer_input(trace: Trace, name: str) -> Layer:
    """The layer feeding ``name`` (the trace is in data-flow order)."""
    names = [lay.name for lay in trace.layers]
    i = names.index(name)
    if i == 0:
        raise ValueError(f"{name!r} is the input: nothing feeds it")
    return trace.layers[i - 1]


def _next_kind(trace: Trace, name: str) -> str | None:
    names = [lay.name for lay in trace.layers]
    i = names.index(name)
    return trace.layers[i + 1].kind if i + 1 < len(names) else None


def geometry(trace: Trace, name: str) -> Geometry:
    """Window size, stride, padding and ceil mode of conv/pool ``name``, from receptive fields.

    A layer's field is its input's grown by ``(k − 1)·jump``, its jump multiplied by the
    stride and its offset moved back by ``padding·jump`` (see
    :func:`engine.tracing.receptive_fields`); this inverts that, so no module is read.
    """
    layer = trace.layer(name)
    prev = layer_input(trace, name)
    rf, before = _field(layer), _field(prev)
    size = (rf.size - before.size) // before.jump + 1
    stride = rf.jump // before.jump
    padding = (before.offset - rf.offset) // before.jump
    if layer.weights is not None and layer.weights.ndim == 4:
        size = int(layer.weights.shape[-1])
    H = prev.output.shape[-1]
    floor = output_size(H, size, padding, stride)
    ceil = layer.output.shape[-1] != floor
    if output_size(H, size, padding, stride, ceil_mode=ceil) != layer.output.shape[-1]:
        raise ValueError(
            f"{name}: receptive fields give a {size}×{size} window, stride {stride}, padding "
            f"{padding}, which does not turn {H} into {layer.output.shape[-1]}"
        )
    return Geometry(size, stride, padding, ceil)


def map_shape(trace: Trace, name: str) -> tuple[int, ...] | None:
    """The (C, H, W) a flat vector came from (the last map before ``name``), or ``None``."""
    names = [lay.name for lay in trace.layers]
    for lay in reversed(trace.layers[: names.index(name)]):
        if lay.output.ndim == 3:
            return tuple(lay.output.shape)
        if lay.kind not in ("flatten", "relu"):
            return None
    return None


def steps_for_layer(trace: Trace, name: str, channel: int = 0, unit: int = 0
                    ) -> ConvSteps | PoolSteps | ReluSteps | VoteSteps | DenseSteps:
    """The steps of traced layer ``name``, chosen by its kind.

    ``channel`` is the output map to step through (conv, pool, relu on maps); ``unit``
    the dense unit. Every value these steps compute equals the traced output (the
    tests check it to display precision).
    """
    layer = trace.layer(name)
    x = layer_input(trace, name).output
    if layer.kind == "conv":
        g = geometry(trace, name)
        w = layer.weights[channel]
        divide = matching_divisor(w)
        bias = None if layer.bias is None else float(layer.bias[channel])
        return ConvSteps(x, w, bias=bias, stride=g.stride, padding=g.padding, divide=divide,
                         relu=_next_kind(trace, name) == "relu")
    if layer.kind == "pool":
        g = geometry(trace, name)
        return PoolSteps(x[channel], g.size, g.stride, g.padding, g.ceil_mode)
    if layer.kind == "relu":
        return ReluSteps(x[channel] if x.ndim == 3 else x)
    if layer.kind == "votes":
        return VoteSteps(x, layer.weights)
    if layer.kind == "dense":
        return DenseSteps(x, layer.weights, layer.bias, unit=unit,
                          relu=_next_kind(trace, name) == "relu")
    raise ValueError(
        f"{name} is a {layer.kind!r} layer; a step-through shows {', '.join(STEPPABLE)}")


def steppable_layers(trace: Trace) -> list[str]:
    """The names of the layers a step-through can show, in data-flow order."""
    return [lay.name for lay in trace.layers if lay.kind in STEPPABLE]


# ----- your own features ------------------------------------------------------------------
def with_conv_weights(model: Model, layer_name: str, weights: np.ndarray) -> Model:
    """A copy of ``model`` whose conv layer ``layer_name`` has ``weights``, on the same device.

    The shipped model and its file are untouched; the copy's ``card`` says what was
    edited. ``ValueError`` names the layer when it is not a conv or the shape differs.
    """
    import torch

    from engine.model import Model

    module = copy.deepcopy(model.module)
    child = getattr(module, layer_name, None)
    if not isinstance(child, torch.nn.Conv2d):
        convs = [n for n, c in module.named_children() if isinstance(c, torch.nn.Conv2d)]
        raise ValueError(f"{model.name} has no conv layer {layer_name!r}; its convs are {convs}")
    w = np.asarray(weights, np.float32)
    if w.shape != tuple(child.weight.shape):
        raise ValueError(
            f"{layer_name}: weights of shape {w.shape}, expected {tuple(child.weight.shape)}")
    if not np.isfinite(w).all():
        raise ValueError(f"{layer_name}: weights hold NaN or infinite values")
    with torch.no_grad():
        child.weight.copy_(torch.from_numpy(w).to(child.weight.device, child.weight.dtype))
    # Not the shipped card: its accuracy and hash describe other weights.
    return Model(model.spec, module, model.device,
                 {"edited": sorted({*model.card.get("edited", []), layer_name})})


NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_new_name(name: str, folder: str | Path) -> None:
    """``ValueError`` unless ``name`` in ``folder`` is a fresh place for an edited model:
    not a shipped model's name, not in the shipped resources folder, a plain file name."""
    if not NAME_RULE.match(name or ""):
        raise ValueError(
            f"{name!r} is not a model name: use letters, digits, '-', '_' or '.', up to 64"
        )
    shipped = {m.casefold() for m in list_models()}
    if name.casefold() in shipped:
        raise ValueError(
            f"{name!r} is a shipped model: save the edited features under a new name"
        )
    folder = Path(folder).resolve()
    if folder == RESOURCES.resolve() or RESOURCES.resolve() in folder.parents:
        raise ValueError(f"{folder} holds the shipped models: choose another folder")


def save_edited_model(model: Model, name: str, folder: str | Path) -> tuple[Path, Path]:
    """Save ``model``'s weights as ``folder/name.safetensors`` with a JSON card beside it.

    Refuses (``ValueError``) a shipped model's name and the resources folder, so the
    shipped files are never overwritten. Weights are written first and the card last,
    each through a temp file and a rename; the card names the base model and carries
    the weights' SHA-256. Load it back with ``engine.load_model(card["base"], weights=…)``.
    """
    from engine.weights import save_weights, write_card

    check_new_name(name, folder)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights_path, card_path = folder / f"{name}.safetensors", folder / f"{name}.json"
    save_weights(model.module, weights_path)  # atomic: temp file, fsync, rename
    card = {
        "model": name,
        "base": model.spec.name,
        "architecture": model.spec.architecture,
        "data": f"{model.spec.name}'s weights with hand-edited layers "
                f"{', '.join(model.card.get('edited', [])) or '(none)'} (ConvPad step-through)",
        "edited": list(model.card.get("edited", [])),
        "weights_file": weights_path.name,
    }
    write_card(card_path, weights_path, **card)  # last, atomic, with the weights' SHA-256
    return weights_path, card_path
