"""One forward pass, one plain record of every layer.

:func:`trace_module` runs a model once with a forward hook on each of its named child
layers and returns a :class:`Trace`: a list of :class:`Layer` dataclasses holding numpy
arrays. The GUI renders those records and never touches ``nn.Module`` internals, so a
panel does not know (or care) which model produced a layer.

Everything captured on the device is concatenated and copied to the host in a single
transfer per call: on CUDA one synchronising copy costs about as much as one small
kernel, and a dozen separate ``.cpu()`` calls per frame would dominate a live trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

# How each layer type is shown. Anything else in a model is a bug in the model file.
KINDS: dict[type[nn.Module], str] = {
    nn.Conv2d: "conv",
    nn.ReLU: "relu",
    nn.MaxPool2d: "pool",
    nn.Flatten: "flatten",
    nn.Linear: "dense",
    nn.Softmax: "softmax",
}


@dataclass(frozen=True)
class ReceptiveField:
    """Where an output cell looks in the input: rows/cols ``[offset + i·jump, … + size)``.

    Clip to the input when drawing it: padding and partial pooling windows can reach
    past the edge.
    """

    size: int
    jump: int
    offset: int

    def window(self, i: int) -> tuple[int, int]:
        """Input index range ``[start, stop)`` seen by output index ``i`` (unclipped)."""
        start = self.offset + i * self.jump
        return start, start + self.size


@dataclass
class Layer:
    """One layer's output for one image, plus the weights that produced it.

    ``output`` drops the batch axis: ``(C, H, W)`` for maps, ``(N,)`` for vectors.
    ``weights`` is ``(out, in, kh, kw)`` for a conv, ``(out, in)`` for a dense or
    votes layer, ``None`` otherwise; it is shared and read-only, not a copy.
    """

    name: str
    kind: str
    output: np.ndarray
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    receptive_field: ReceptiveField | None = None


@dataclass
class Trace:
    """Every layer of one forward pass, in data-flow order, and the class probabilities."""

    layers: list[Layer]
    probabilities: np.ndarray
    classes: list[str] = field(default_factory=list)

    @property
    def prediction(self) -> str:
        """The most probable class."""
        return self.classes[int(np.argmax(self.probabilities))]

    def layer(self, name: str) -> Layer:
        """The layer called ``name``; ``KeyError`` naming the choices otherwise."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer {name!r}; layers are {[lay.name for lay in self.layers]}")


def layer_kind(module: nn.Module) -> str:
    """The :class:`Layer` kind of a child module (``TypeError`` for an unknown type)."""
    for cls, kind in KINDS.items():
        if isinstance(module, cls):
            return kind
    raise TypeError(f"cannot trace a {type(module).__name__}: add it to engine.tracing.KINDS")


def receptive_fields(module: nn.Module, input_size: int) -> dict[str, ReceptiveField | None]:
    """The receptive field of each spatial child layer, walking the children in order."""
    rf: ReceptiveField | None = ReceptiveField(size=1, jump=1, offset=0)
    out: dict[str, ReceptiveField | None] = {}
    for name, child in module.named_children():
        if isinstance(child, (nn.Conv2d, nn.MaxPool2d)) and rf is not None:
            k, s, p = (_first(getattr(child, a)) for a in ("kernel_size", "stride", "padding"))
            rf = ReceptiveField(
                size=rf.size + (k - 1) * rf.jump, jump=rf.jump * s, offset=rf.offset - p * rf.jump
            )
        elif isinstance(child, (nn.Flatten, nn.Linear)):
            rf = None
        out[name] = rf
    return out


def _first(v: int | tuple[int, ...]) -> int:
    return v[0] if isinstance(v, tuple) else int(v)


def trace_module(
    module: nn.Module,
    x: torch.Tensor,
    weights: dict[str, tuple[np.ndarray | None, np.ndarray | None]],
    fields: dict[str, ReceptiveField | None],
    head: str,
) -> list[Layer]:
    """Run ``module`` once on ``x`` (batch of one) and record every child's output.

    ``weights`` maps child name → (weight, bias) numpy arrays cached by the caller;
    ``head`` is the kind given to the last layer when it is not a softmax ("votes" for
    the X/O toy). Returns the layers, input first; the last one is the model's output.
    """
    captured: list[tuple[str, nn.Module, torch.Tensor]] = []

    def hook(mod: nn.Module, _inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        captured.append((names[mod], mod, out))

    names = {child: name for name, child in module.named_children()}
    handles = [child.register_forward_hook(hook) for child in names]
    try:
        with torch.inference_mode():
            module(x)
    finally:
        for h in handles:
            h.remove()

    # One host transfer for everything: flatten, concatenate, copy, split in numpy.
    tensors = [x] + [out for _, _, out in captured]
    flat = torch.cat([t.reshape(-1).float() for t in tensors]).cpu().numpy()
    pieces = np.split(flat, np.cumsum([t.numel() for t in tensors])[:-1])
    shapes = [tuple(t.shape[1:]) for t in tensors]

    layers = [Layer("input", "input", pieces[0].reshape(shapes[0]))]
    last = len(captured) - 1
    for i, ((name, mod, _), piece, shape) in enumerate(zip(captured, pieces[1:], shapes[1:])):
        kind = layer_kind(mod)
        if i == last and kind == "dense" and head != "dense":
            kind = head
        w, b = weights.get(name, (None, None))
        layers.append(Layer(name, kind, piece.reshape(shape), w, b, fields.get(name)))
    return layers
