"""From a traced network to the steps of one of its layers, by kind and receptive field.

A step-through shows any layer of any network the engine traces: the layer's kind says
which steps (:mod:`engine.lecture.steps`, :mod:`engine.lecture.vector_steps`), and the
receptive fields of its input and output say its window, stride and padding, so no
``nn.Module`` is read and no model is asked for by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import ConvPadError
from engine.lecture.steps import (
    ConvSteps,
    NormSteps,
    PoolSteps,
    ReluSteps,
    matching_divisor,
    output_size,
)
from engine.lecture.vector_steps import DenseSteps, VoteSteps

if TYPE_CHECKING:
    from engine.tracing import Layer, ReceptiveField, Trace

# The kinds a step-through can show; the others (input, flatten, softmax) only reshape
# or are shown by the probabilities.
STEPPABLE = ("conv", "pool", "relu", "norm", "votes", "dense")


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
        raise ConvPadError(f"{name!r} is the input: nothing feeds it")
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
        raise ConvPadError(
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
                    ) -> ConvSteps | PoolSteps | ReluSteps | NormSteps | VoteSteps | DenseSteps:
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
    if layer.kind == "norm":
        if layer.weights is None or layer.bias is None:
            raise ConvPadError(f"{name} normalises each batch by itself (no running "
                               "statistics): no fixed scale and shift to step through")
        if x.ndim == 3:
            return NormSteps(x[channel], layer.weights[channel], layer.bias[channel])
        return NormSteps(x, layer.weights, layer.bias)
    if layer.kind == "votes":
        return VoteSteps(x, layer.weights)
    if layer.kind == "dense":
        return DenseSteps(x, layer.weights, layer.bias, unit=unit,
                          relu=_next_kind(trace, name) == "relu")
    raise ConvPadError(
        f"{name} is a {layer.kind!r} layer; a step-through shows {', '.join(STEPPABLE)}")


def steppable_layers(trace: Trace) -> list[str]:
    """The names of the layers a step-through can show, in data-flow order.

    A conv or pool layer is shown only if its steps give what was traced: the steps
    are a max pool and an evenly padded convolution, and a network opened from a Keras
    or ONNX file may hold an average or global pool, or a convolution padded more at
    the bottom/right. Such a layer is traced and drawn, but not stepped through.
    """
    return [lay.name for lay in trace.layers
            if lay.kind in STEPPABLE and _steps_give_the_trace(trace, lay)]


def _steps_give_the_trace(trace: Trace, layer: Layer) -> bool:
    if layer.kind not in ("conv", "pool", "norm"):
        return True
    try:
        got = steps_for_layer(trace, layer.name, channel=0).output()
    except (ConvPadError, ValueError, IndexError):  # no window turns its input into it
        return False
    want = layer.output[0] if layer.output.ndim == 3 else (
        layer.output if layer.kind == "norm" else None)
    return want is not None and got.shape == want.shape and bool(
        np.allclose(got, want, rtol=1e-3, atol=1e-4))
