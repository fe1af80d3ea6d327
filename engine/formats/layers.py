"""The torch modules a Keras or ONNX network is rebuilt from, where torch's own differ.

TensorFlow and ONNX pad "same" convolutions and pools with more at the bottom/right
than at the top/left when the total is odd; Keras flattens and reshapes channels-last;
TensorFlow's average pool leaves its padding out of the average. Each such layer is a
subclass of the torch module it resembles (so the tracer's ``isinstance`` checks and
the receptive-field walk see a conv as a conv), with ``padding`` the padding at the
TOP/LEFT. :data:`KINDS` says how each type is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

Pads = tuple[int, int, int, int]  # top, bottom, left, right


def same_pads(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
              lower: bool = False) -> Pads:
    """TensorFlow's "same" padding for an input of ``size``: the output is
    ``ceil(size / stride)`` and an odd total goes to the bottom/right (to the top/left
    with ``lower``, ONNX's SAME_LOWER)."""
    pads: list[int] = []
    for n, k, s in zip(size, kernel, stride):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        small = total // 2
        pads += [total - small, small] if lower else [small, total - small]
    return pads[0], pads[1], pads[2], pads[3]


def pooled_size(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                pads: Pads) -> tuple[int, int]:
    """The output size of a convolution or pool with explicit padding (floor mode)."""
    h = (size[0] + pads[0] + pads[1] - kernel[0]) // stride[0] + 1
    w = (size[1] + pads[2] + pads[3] - kernel[1]) // stride[1] + 1
    return h, w


def _symmetric(pads: Pads) -> bool:
    return pads[0] == pads[1] and pads[2] == pads[3]


def _torch_pad(pads: Pads) -> tuple[int, int, int, int]:
    return pads[2], pads[3], pads[0], pads[1]  # F.pad wants left, right, top, bottom


class PaddedConv2d(nn.Conv2d):
    """A convolution padded unevenly: ``pads`` = (top, bottom, left, right) zeros."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: tuple[int, int],
                 stride: tuple[int, int], pads: Pads, groups: int = 1, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, groups=groups,
                         bias=bias)
        self.pads = pads
        self.padding = (pads[0], pads[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, _torch_pad(self.pads)), self.weight, self.bias, self.stride,
                        0, self.dilation, self.groups)


class PaddedMaxPool2d(nn.MaxPool2d):
    """A max pool padded unevenly; the padding never wins the max (it is −∞)."""

    def __init__(self, kernel_size: tuple[int, int], stride: tuple[int, int], pads: Pads):
        super().__init__(kernel_size, stride, 0)
        self.pads = pads
        self.padding = (pads[0], pads[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, _torch_pad(self.pads), value=float("-inf"))
        return F.max_pool2d(x, self.kernel_size, self.stride, 0)


class PaddedAvgPool2d(nn.AvgPool2d):
    """An average pool padded unevenly. With ``count_include_pad=False`` (TensorFlow's
    "same", ONNX's default) each window averages only the input cells it covers."""

    def __init__(self, kernel_size: tuple[int, int], stride: tuple[int, int], pads: Pads,
                 count_include_pad: bool = False):
        super().__init__(kernel_size, stride, 0, count_include_pad=count_include_pad)
        self.pads = pads
        self.padding = (pads[0], pads[2])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = _torch_pad(self.pads)
        out = F.avg_pool2d(F.pad(x, pad), self.kernel_size, self.stride, 0)
        if self.count_include_pad:
            return out
        # The share of each window that is input, not padding (1 inside the map).
        ones = x.new_ones((1, 1, *x.shape[-2:]))
        return out / F.avg_pool2d(F.pad(ones, pad), self.kernel_size, self.stride, 0)


class GlobalPool2d(nn.Module):
    """Average or max over each whole map: ``(N, C, H, W)`` → ``(N, C)`` (or
    ``(N, C, 1, 1)`` with ``keepdims``). ``kernel_size`` is the map's size, so the
    receptive-field walk sees one window over everything."""

    def __init__(self, mode: str, size: tuple[int, int], keepdims: bool = False):
        super().__init__()
        if mode not in ("avg", "max"):
            raise ValueError(f"global pool mode must be 'avg' or 'max', not {mode!r}")
        self.mode = mode
        self.keepdims = keepdims
        self.kernel_size = size
        self.stride = size
        self.padding = (0, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "avg":
            return x.mean(dim=(2, 3), keepdim=self.keepdims)
        return x.amax(dim=(2, 3), keepdim=self.keepdims)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, keepdims={self.keepdims}"


class ChannelsLastFlatten(nn.Flatten):
    """Keras's Flatten: maps ``(N, C, H, W)`` flatten in (H, W, C) order, as the Dense
    layer after them was trained on."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        return x.flatten(1)


class Reshape(nn.Module):
    """Reshape each sample to ``shape`` (the batch axis is kept).

    ``channels_last`` (Keras): a map is read and written in (H, W, C) order, and a 2-D
    target ``(a, b)`` becomes a one-channel map ``(1, a, b)``, as ConvPad shows Keras's
    channel-less images. Otherwise (ONNX) this is a plain channels-first reshape.
    """

    def __init__(self, shape: Sequence[int], channels_last: bool):
        super().__init__()
        self.shape = tuple(int(n) for n in shape)
        self.channels_last = channels_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.channels_last:
            return x.reshape(x.shape[0], *self.shape)
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        y = x.reshape(x.shape[0], *self.shape)
        if y.dim() == 4:
            return y.permute(0, 3, 1, 2).contiguous()
        return y.unsqueeze(1) if y.dim() == 3 else y

    def extra_repr(self) -> str:
        return f"shape={self.shape}, channels_last={self.channels_last}"


class Scale(nn.Module):
    """``x · scale + offset`` with constants that broadcast over a sample: Keras's
    Rescaling, or the Sub/Div of an exported ``Normalize``."""

    def __init__(self, scale: torch.Tensor | float, offset: torch.Tensor | float):
        super().__init__()
        # Copies: a constant may be a view of read-only bytes from the file.
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32).clone())
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset

    def extra_repr(self) -> str:
        def show(t: torch.Tensor) -> str:
            return f"{t.item():.6g}" if t.numel() == 1 else f"tensor{tuple(t.shape)}"

        return f"scale={show(self.scale)}, offset={show(self.offset)}"


# Element-wise functions by the name an Activation shows (leaky_relu takes its slope).
FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "silu": F.silu,
    "gelu": F.gelu,
    "exponential": torch.exp,
}


class Activation(nn.Module):
    """An element-wise function other than ReLU, named by ``name_of_function``
    ("sigmoid", "tanh", "leaky_relu" …)."""

    def __init__(self, name_of_function: str, negative_slope: float = 0.01):
        super().__init__()
        if name_of_function != "leaky_relu" and name_of_function not in FUNCTIONS:
            raise ValueError(f"unknown activation {name_of_function!r}")
        self.name_of_function = name_of_function
        self.negative_slope = float(negative_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.name_of_function == "leaky_relu":
            return F.leaky_relu(x, self.negative_slope)
        return FUNCTIONS[self.name_of_function](x)

    def extra_repr(self) -> str:
        if self.name_of_function == "leaky_relu":
            return f"leaky_relu, negative_slope={self.negative_slope:g}"
        return self.name_of_function


def conv2d(in_channels: int, out_channels: int, kernel: tuple[int, int],
           stride: tuple[int, int], pads: Pads, groups: int = 1, bias: bool = True
           ) -> nn.Conv2d:
    """torch's Conv2d where the padding is even, else a :class:`PaddedConv2d`."""
    if _symmetric(pads):
        return nn.Conv2d(in_channels, out_channels, kernel, stride, (pads[0], pads[2]),
                         groups=groups, bias=bias)
    return PaddedConv2d(in_channels, out_channels, kernel, stride, pads, groups, bias)


def max_pool2d(kernel: tuple[int, int], stride: tuple[int, int], pads: Pads,
               ceil_mode: bool = False) -> nn.MaxPool2d:
    """torch's MaxPool2d where it can pad this way, else a :class:`PaddedMaxPool2d`."""
    if _symmetric(pads) and 2 * pads[0] <= kernel[0] and 2 * pads[2] <= kernel[1]:
        return nn.MaxPool2d(kernel, stride, (pads[0], pads[2]), ceil_mode=ceil_mode)
    return PaddedMaxPool2d(kernel, stride, pads)


def avg_pool2d(kernel: tuple[int, int], stride: tuple[int, int], pads: Pads,
               count_include_pad: bool, ceil_mode: bool = False) -> nn.AvgPool2d:
    """torch's AvgPool2d where it can pad this way, else a :class:`PaddedAvgPool2d`."""
    if _symmetric(pads) and 2 * pads[0] <= kernel[0] and 2 * pads[2] <= kernel[1]:
        return nn.AvgPool2d(kernel, stride, (pads[0], pads[2]), ceil_mode=ceil_mode,
                            count_include_pad=count_include_pad)
    return PaddedAvgPool2d(kernel, stride, pads, count_include_pad)


# How each module a reader builds is shown (merge into engine.tracing.KINDS). Subclasses
# come first: the tracer takes the first ``isinstance`` match.
KINDS: dict[type[nn.Module], str] = {
    nn.Conv2d: "conv",  # PaddedConv2d too
    nn.ReLU: "relu",
    Activation: "activation",
    nn.MaxPool2d: "pool",  # PaddedMaxPool2d too
    nn.AvgPool2d: "pool",  # PaddedAvgPool2d too
    GlobalPool2d: "pool",
    nn.BatchNorm2d: "norm",
    nn.BatchNorm1d: "norm",
    nn.Flatten: "flatten",  # ChannelsLastFlatten too
    Reshape: "reshape",
    nn.Linear: "dense",
    nn.Softmax: "softmax",
    nn.LogSoftmax: "log_softmax",
    Scale: "scale",
}
