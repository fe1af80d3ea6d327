"""What a network file from another tool becomes, and the checks every reader shares.

A reader walks the file's layers in order and hands each one, as a torch module, to a
:class:`Builder`, which runs it once on a zero image so that every layer's output shape
is known (and a layer that cannot take its input is refused by name), checks every
weight array (shape, NaN, size), names the children and finally makes the
:class:`ForeignNetwork`. Readers raise :class:`Refused` with a reason; ``read_network``
adds the file's name and turns it into a one-line :class:`~engine.errors.ModelFileError`.
"""

from __future__ import annotations

import keyword
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.formats.layers import KINDS

# No network ConvPad shows needs more: the lecture's digits net is 6.5 MB of weights,
# and a file of 512 MB is already far beyond what can be traced live on a laptop.
MAX_FILE_BYTES = 512 * 2**20
# A weight this large is a corrupt or overflowed file, not a trained network.
MAX_ABS_WEIGHT = 1e4
# A batch-norm variance is a statistic of the inputs, not a weight: pixels in 0..255
# give variances near 1.6e4, so it gets a looser bound.
MAX_VARIANCE = 1e8
# The largest input side and the most values one layer may output (256 MB of floats):
# beyond these a file would exhaust memory before anything could be shown.
MAX_SIDE = 2048
MAX_ACTIVATION = 2**26

# Names a child cannot take: nn.Module attributes, and the tracer's own input layer.
_RESERVED = {"input"} | {name for name in dir(nn.Sequential) if not name.startswith("__")}


class Refused(Exception):
    """A reader cannot build the network; ``str()`` is the reason, without the file."""


@dataclass
class ForeignNetwork:
    """A Keras or ONNX network rebuilt as a torch module ConvPad can trace.

    ``module``'s named children, called one after another, are the network;
    ``kinds`` holds each child's kind (see :data:`engine.formats.layers.KINDS`).
    ``output`` is "probabilities" (a last softmax), "log-probabilities" (log-softmax),
    "logits" (a last linear layer) or "scores" (any other last activation, such as a
    sigmoid). ``summary`` is plain data for a card: layers, shapes, parameter count,
    what was left out and the file's version information.
    """

    module: nn.Module
    kinds: list[str]
    input_shape: tuple[int, int, int]
    output: str
    n_outputs: int
    format: str
    path: Path
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The children's names, in order."""
        return [name for name, _ in self.module.named_children()]


def shown(name: Any) -> str:
    """A name read from a file, quoted and short enough for a one-line message."""
    text = str(name)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def one_line(text: str) -> str:
    """``text`` with every line break and run of spaces made one space."""
    return " ".join(str(text).split())


def identifier(name: str, used: set[str]) -> str:
    """``name`` as a readable, unique Python identifier ("conv2d", "dense_1" …)."""
    base = re.sub(r"\W+", "_", str(name), flags=re.ASCII).strip("_")[:64] or "layer"
    if base[0].isdigit():
        base = f"layer_{base}"
    if keyword.iskeyword(base) or base in _RESERVED:
        base += "_"
    unique, n = base, 1
    while unique in used:
        n += 1
        unique = f"{base}_{n}"
    used.add(unique)
    return unique


def check_size(path: Path) -> int:
    """The file's size, or :class:`Refused` when it is too big to be a network ConvPad shows."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise Refused(
            f"the file is {size / 2**20:,.0f} MB; ConvPad opens network files up to "
            f"{MAX_FILE_BYTES // 2**20} MB"
        )
    return size


def image_input(shape: tuple[Any, ...], order: str) -> tuple[int, int, int]:
    """``(1, H, W)`` from a per-sample input shape in ``order`` ("hwc" or "chw")."""
    shape = tuple(shape)
    if len(shape) == 2 and order == "hwc":
        shape = (*shape, 1)  # Keras's channel-less (H, W) image
    if len(shape) != 3:
        raise Refused(f"the network takes input of shape {_dims(shape)}, not an image; "
                      "ConvPad needs one-channel images (H, W, 1)")
    h, w, c = shape if order == "hwc" else (shape[1], shape[2], shape[0])
    if c == 3:
        raise Refused("the network takes 3-channel (colour) images; ConvPad draws "
                      "one-channel (grey) images")
    if c != 1:
        raise Refused(f"the network takes {c}-channel input; ConvPad draws one-channel images")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (h, w)):
        raise Refused(f"the network's input size is not fixed ({_dims((h, w))}); ConvPad "
                      "needs a fixed size such as 28×28")
    if not (1 <= h <= MAX_SIDE and 1 <= w <= MAX_SIDE):
        raise Refused(f"the network's input is {h}×{w}; ConvPad takes images up to "
                      f"{MAX_SIDE}×{MAX_SIDE}")
    return 1, h, w


def _dims(shape: tuple[Any, ...]) -> str:
    return "(" + ", ".join("?" if n is None else str(n) for n in shape) + ")"


class Builder:
    """Collects a network's children in order, checking each as it comes."""

    def __init__(self, input_shape: tuple[int, int, int]):
        self.input_shape = input_shape
        self.x = torch.zeros(1, *input_shape)
        self.children: OrderedDict[str, nn.Module] = OrderedDict()
        self.kinds: list[str] = []
        self.layers: list[dict[str, Any]] = []
        self.left_out: list[dict[str, str]] = []
        self.values = 0
        self._used: set[str] = set()

    @property
    def shape(self) -> tuple[int, ...]:
        """The per-sample shape of the last child's output (channels first)."""
        return tuple(self.x.shape[1:])

    def map_shape(self, name: str, what: str) -> tuple[int, int, int]:
        """``(C, H, W)`` of the current output, or :class:`Refused` if it is not a map."""
        if len(self.shape) != 3:
            raise Refused(f"layer {shown(name)} ({what}) needs feature maps, but the layer "
                          f"before it gives a vector of {_dims(self.shape)}")
        c, h, w = self.shape
        return c, h, w

    def vector_size(self, name: str, what: str) -> int:
        """The length of the current output, or :class:`Refused` if it is a map."""
        if len(self.shape) != 1:
            raise Refused(f"layer {shown(name)} ({what}) needs a vector, but the layer before "
                          f"it gives maps of shape {_dims(self.shape)}; add a Flatten")
        return self.shape[0]

    def check_activation(self, name: str, values: int) -> None:
        """Refuse a layer whose output would hold more than :data:`MAX_ACTIVATION` values."""
        if values > MAX_ACTIVATION:
            raise Refused(f"layer {shown(name)} would output {values:,} values per image; "
                          f"ConvPad shows layers of up to {MAX_ACTIVATION:,}")

    def check_padded(self, name: str, pads: tuple[int, int, int, int]) -> None:
        """Refuse padding that would make the padded maps larger than :data:`MAX_ACTIVATION`
        (a window of 10⁹ pixels "same"-padded), before anything is allocated."""
        c, h, w = self.map_shape(name, "padding")
        self.check_activation(name, c * (h + pads[0] + pads[1]) * (w + pads[2] + pads[3]))

    def array(self, layer: str, what: str, a: Any, shape: tuple[int, ...],
              bound: float = MAX_ABS_WEIGHT) -> torch.Tensor:
        """A checked weight: the right shape, finite and within ``±bound``, as float32.

        ``a`` may be lazy (an h5py dataset): its shape is checked before it is read.
        """
        found = getattr(a, "shape", None)
        if found is None or tuple(found) != tuple(shape):
            raise Refused(f"layer {shown(layer)}: {what} has shape "
                          f"{None if found is None else tuple(found)}, but the network's "
                          f"configuration needs {tuple(shape)}")
        # An HDF5 array can claim any shape and hold nothing: bound what is read.
        if (self.values + math.prod(shape)) * 4 > MAX_FILE_BYTES:
            raise Refused(f"layer {shown(layer)}: the network needs over "
                          f"{MAX_FILE_BYTES // 2**20} MB of weights")
        try:
            a = np.array(a, dtype=np.float32)
        except (OSError, KeyError, RuntimeError, ValueError, TypeError):
            raise Refused(f"layer {shown(layer)}: {what} cannot be read: the file is "
                          "truncated or damaged") from None
        if not np.isfinite(a).all():
            raise Refused(f"layer {shown(layer)}: {what} holds NaN or infinite values")
        if a.size and float(np.abs(a).max()) > bound:
            raise Refused(f"layer {shown(layer)}: {what} holds values up to "
                          f"{float(np.abs(a).max()):.3g}, beyond ±{bound:g}: the file is "
                          "corrupt or was saved from a diverged training")
        self.values += a.size
        return torch.from_numpy(a)

    def add(self, name: str, module: nn.Module, kind: str, source: str) -> str:
        """Append ``module`` as child ``name`` (made unique) of ``kind``; returns the name."""
        module.eval()
        try:
            with torch.no_grad():
                y = module(self.x)
        except (RuntimeError, ValueError, IndexError) as exc:  # torch's shape errors
            raise Refused(f"layer {shown(name)} ({source}) cannot take the previous layer's "
                          f"output of shape {_dims(self.shape)}: {one_line(exc)[:200]}"
                          ) from None
        self.check_activation(name, int(y[0].numel()))
        child = identifier(name, self._used)
        self.children[child] = module
        self.kinds.append(kind)
        self.layers.append({"name": child, "kind": kind, "from": source,
                            "output_shape": list(y.shape[1:])})
        self.x = y
        return child

    def leave_out(self, name: str, source: str) -> None:
        """Record a layer that is the identity at inference (Dropout …) and is not built."""
        self.left_out.append({"name": str(name), "type": source})

    def finish(self, path: Path, fmt: str, about: dict[str, Any]) -> ForeignNetwork:
        """The network, once its output is known to be a vector of class scores."""
        if len(self.shape) != 1:
            raise Refused(f"the network's output has shape {_dims(self.shape)}, not a vector "
                          "of class scores")
        module = nn.Sequential(self.children).eval()
        for child in module.children():
            if not any(isinstance(child, cls) for cls in KINDS):
                raise TypeError(f"reader built an untraceable {type(child).__name__}")
        # The test input engine.tracing.check_sequential runs every model on.
        x = torch.randn(2, *self.input_shape, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            if not torch.isfinite(module(x)).all():
                raise Refused("the network gives NaN or infinite outputs on a test image: "
                              "its weights are unusable (overflowing or corrupt)")
        last = self.kinds[-1]
        output = {"softmax": "probabilities", "log_softmax": "log-probabilities",
                  "relu": "scores", "activation": "scores"}.get(last, "logits")
        n_outputs = int(self.shape[0])
        summary = {
            "format": fmt,
            "file": path.name,
            **about,
            "input_size": list(self.input_shape[1:]),
            "parameters": self.values,
            "layers": self.layers,
            "left_out": self.left_out,
            "output": output,
            "n_outputs": n_outputs,
        }
        return ForeignNetwork(module, list(self.kinds), self.input_shape, output, n_outputs,
                              fmt, path, summary)
