"""One forward pass, one plain record of every layer.

:func:`trace_module` runs a model once, child layer by child layer, and the caller wraps
the result in a :class:`Trace`: a list of :class:`Layer` dataclasses holding numpy
arrays. The GUI renders those records and never touches ``nn.Module`` internals, so a
panel does not know (or care) which model produced a layer.

On a GPU everything captured is concatenated and copied to the host in a single transfer
per call: one synchronising copy costs about as much as one small kernel, and a dozen
separate ``.cpu()`` calls per frame would dominate a live trace. On the CPU the outputs
are handed over as numpy views, with no copy at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from engine.errors import ConvPadError, WeightsError
from engine.formats.layers import KINDS as NETWORK_FILE_KINDS
from engine.formats.layers import GlobalPool2d, Reshape

# How each layer type is shown: ConvPad's own layers, then those a Keras or ONNX network
# is rebuilt from (engine.formats.layers: "activation", "norm", "reshape", "scale",
# "log_softmax" …). The tracer takes the first isinstance match, so a subclass must come
# before its base class (PaddedConv2d is an nn.Conv2d and is shown as one). Anything
# else in a model is a bug in the model file.
KINDS: dict[type[nn.Module], str] = {
    nn.Conv2d: "conv",
    nn.ReLU: "relu",
    nn.MaxPool2d: "pool",
    nn.Flatten: "flatten",
    nn.Linear: "dense",
    nn.Softmax: "softmax",
    **NETWORK_FILE_KINDS,
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
    #: True for B − A (:func:`difference`): its probabilities are signed changes, and a
    #: view draws them around a zero line rather than on a 0–100 % axis.
    difference: bool = False

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


def difference(b: Trace, a: Trace) -> Trace:
    """``b − a`` layer by layer: what changed between two drawings, for the same model.

    Weights are the model's (the same in both); every output, the input included, is
    B's minus A's, and so are the probabilities. A student pins an X as A, shifts it by
    three pixels, and sees the conv maps change where the pooled maps barely do.
    """
    if [(la.name, la.output.shape) for la in a.layers] != [
            (lb.name, lb.output.shape) for lb in b.layers]:
        raise ConvPadError("cannot subtract traces of different networks: pin A again")
    layers = [Layer(lb.name, lb.kind, lb.output - la.output, lb.weights, lb.bias,
                    lb.receptive_field) for la, lb in zip(a.layers, b.layers, strict=True)]
    return Trace(layers, b.probabilities - a.probabilities, list(b.classes), difference=True)


def layer_kind(module: nn.Module) -> str:
    """The :class:`Layer` kind of a child module (``TypeError`` for an unknown type)."""
    for cls, kind in KINDS.items():
        if isinstance(module, cls):
            return kind
    raise TypeError(f"cannot trace a {type(module).__name__}: add it to engine.tracing.KINDS")


def receptive_fields(module: nn.Module) -> dict[str, ReceptiveField | None]:
    """The receptive field of each spatial child layer, walking the children in order.

    Convolutions and max/average pools grow it by their kernel, stride and padding (the
    top/left padding of an unevenly padded one). A global pool sees every cell of its
    maps, so its field is the union of theirs — the whole input, clipped — and no layer
    after it has one. Layers that act on each value alone (ReLU, activations, batch
    norm, scale) keep it; a flatten, a reshape or a dense layer ends it (None).
    """
    rf: ReceptiveField | None = ReceptiveField(size=1, jump=1, offset=0)
    out: dict[str, ReceptiveField | None] = {}
    for name, child in module.named_children():
        if rf is None:
            pass
        elif isinstance(child, GlobalPool2d):
            k = max(child.kernel_size)
            out[name] = ReceptiveField(size=rf.size + (k - 1) * rf.jump, jump=rf.jump * k,
                                       offset=rf.offset)
            rf = None
            continue
        elif isinstance(child, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p = (_first(getattr(child, a)) for a in ("kernel_size", "stride", "padding"))
            rf = ReceptiveField(
                size=rf.size + (k - 1) * rf.jump, jump=rf.jump * s, offset=rf.offset - p * rf.jump
            )
        elif isinstance(child, (nn.Flatten, nn.Linear, Reshape)):
            rf = None
        out[name] = rf
    return out


def _first(v: int | tuple[int, ...]) -> int:
    return v[0] if isinstance(v, tuple) else int(v)


# ModelSpec.head → the Layer kind shown for a last plain dense layer: the X/O toy's
# votes are their own kind (their shares are the probabilities, see probabilities_from).
# Every head an opened Keras or ONNX network can have is here (engine.formats.opening).
HEAD_KINDS = {"softmax": "dense", "votes": "votes", "logits": "dense", "log-softmax": "dense",
              "scores": "dense"}


def probabilities_from(out: np.ndarray, head: str) -> np.ndarray:
    """One image's last-layer output → its class probabilities, as the spec's head says.

    ``"softmax"``: the output is the probabilities. ``"votes"``: each class's share of
    all votes (the toy's votes are non-negative; no votes at all is a tie). ``"logits"``:
    a softmax ConvPad adds; ``"log-softmax"``: their exponential. ``"scores"`` (a
    network file whose last layer is a sigmoid, a ReLU …): each class's share of the
    scores' sum, a negative score counting as none — a sigmoid's independent yes/no
    answers are not probabilities over the classes, and a softmax of values in [0, 1]
    would make every answer look nearly uniform. Plain Python on a two-element vote
    vector: numpy's per-call overhead would cost more than the toy network's whole
    forward pass, which is traced on every frame.
    """
    if head == "votes":
        values = [float(v) for v in out]
        total = sum(values)
        if total <= 0:
            return np.full(len(values), 1.0 / len(values), np.float32)
        return np.array([v / total for v in values], np.float32)
    a = np.asarray(out, np.float64)
    if head == "scores":
        a = np.clip(a, 0.0, None)
        total = a.sum()
        if not total > 0:
            return np.full(len(a), 1.0 / len(a), np.float32)
        return (a / total).astype(np.float32)
    if head == "logits":
        e = np.exp(a - a.max())
        return (e / e.sum()).astype(np.float32)
    if head == "log-softmax":
        return np.exp(a).astype(np.float32)
    return np.array(out, np.float32)


def sequential_children(module: nn.Module, head: str = "softmax"
                        ) -> list[tuple[str, nn.Module, str]]:
    """The module's children as (name, module, kind), to be run in order by the tracer.

    ``head`` (a :class:`~engine.spec.ModelSpec` head) decides the kind of the last layer
    when it is a plain dense layer ("votes" for the X/O toy). Kinds are worked out here,
    once per model, not per frame.

    Tracing walks the children one after another instead of hooking ``forward``: a
    hook costs a registration, a removal and a Python call per layer per frame, which
    more than doubles the time of a 0.1 ms network. The walk is only right for models
    whose ``forward`` calls each child once, in definition order (ours do, by design:
    see :mod:`engine.architectures`); :func:`check_sequential` verifies that once per model.
    """
    children = [(name, child, layer_kind(child)) for name, child in module.named_children()]
    if children and children[-1][2] == "dense":
        children[-1] = (*children[-1][:2], HEAD_KINDS.get(head, "dense"))
    return children


def check_sequential(
    module: nn.Module,
    children: list[tuple[str, nn.Module, str]],
    input_shape: tuple[int, ...],
    device: torch.device,
) -> None:
    """Raise ``TypeError`` if walking ``children`` in order does not reproduce ``forward``.

    Raises ``ValueError`` first if ``forward`` gives NaN or infinite outputs: that is a
    fault of the weights, not of the model's shape, and NaN never equals NaN, so the
    comparison below would blame the wrong thing.
    """
    x = torch.randn(2, *input_shape, generator=torch.Generator().manual_seed(0)).to(device)
    with torch.inference_mode():
        want = module(x)
        got = x
        for _, child, _ in children:
            got = child(got)
    if not torch.isfinite(want).all():
        raise WeightsError(
            f"{type(module).__name__} gives NaN or infinite outputs on a test input: its "
            "weights are unusable (overflowing or corrupt); restore the weight file or "
            "rebuild it with `convpad train`"
        )
    if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-4, atol=1e-5):
        raise TypeError(
            f"{type(module).__name__}.forward is not its children called in order; "
            "engine.tracing cannot trace it (see engine/architectures.py)"
        )


def _frozen(t: torch.Tensor) -> np.ndarray:
    a = t.detach().float().cpu().numpy().copy()
    a.flags.writeable = False
    return a


def layer_weights(module: nn.Module) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Each child's ``(weight, bias)`` as read-only numpy arrays, by child name: a conv's
    or dense layer's own, and a batch norm's per-channel ``scale`` and ``shift`` — what
    it does to a value at inference, ``x × scale + shift``, with ``scale = γ ÷ √(var +
    ε)`` and ``shift = β − mean × scale`` from its running statistics (a step-through
    shows that arithmetic). A batch norm without running statistics normalises each
    batch by itself, which no fixed pair says: it gets none."""
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for name, child in module.named_children():
        w, b = getattr(child, "weight", None), getattr(child, "bias", None)
        if isinstance(child, (nn.Conv2d, nn.Linear)) and isinstance(w, torch.Tensor):
            out[name] = (_frozen(w), _frozen(b) if isinstance(b, torch.Tensor) else None)
        elif (isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))
              and child.running_mean is not None and child.running_var is not None):
            with torch.no_grad():
                scale = torch.rsqrt(child.running_var.double() + child.eps)
                if isinstance(w, torch.Tensor):
                    scale = scale * w.double()
                shift = -child.running_mean.double() * scale
                if isinstance(b, torch.Tensor):
                    shift = shift + b.double()
            out[name] = (_frozen(scale), _frozen(shift))
    return out


def trace_module(
    children: list[tuple[str, nn.Module, str]],
    x: torch.Tensor,
    weights: dict[str, tuple[np.ndarray | None, np.ndarray | None]],
    fields: dict[str, ReceptiveField | None],
) -> list[Layer]:
    """Run ``x`` (a batch of one) through ``children`` in order, recording every output.

    ``children`` comes from :func:`sequential_children`; ``weights`` maps child name →
    (weight, bias) numpy arrays cached by the caller. Returns the layers, input first;
    the last one is the model's output.
    """
    outs = [x]
    with torch.inference_mode():
        h = x
        for _, child, _ in children:
            h = child(h)
            outs.append(h)
    if x.device.type == "cpu":
        # CPU tensors share memory with numpy: no copy at all. Every output is a fresh
        # tensor (no in-place layers), so these views stay valid.
        arrays = [t.numpy()[0] for t in outs]
    else:
        # One host transfer for everything: flatten, concatenate, copy, split in numpy.
        flat = torch.cat([t.reshape(-1).float() for t in outs]).cpu().numpy()
        pieces = np.split(flat, np.cumsum([t.numel() for t in outs])[:-1])
        arrays = [piece.reshape(t.shape[1:]) for piece, t in zip(pieces, outs, strict=False)]

    layers = [Layer("input", "input", arrays[0])]
    for (name, _, kind), out in zip(children, arrays[1:], strict=False):
        w, b = weights.get(name, (None, None))
        layers.append(Layer(name, kind, out, w, b, fields.get(name)))
    return layers
