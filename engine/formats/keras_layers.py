"""Each built-in Keras layer ConvPad can show, rebuilt as torch children.

:data:`CONVERTERS` maps a Keras ``class_name`` to a function that reads the layer's
config and weights and appends its children to a :class:`~engine.formats.network.Builder`.
A layer's own activation (``Conv2D(…, activation="relu")``) becomes a child of its own
after it, so the logits before a softmax are visible. Keras is channels-last: kernels
are transposed to torch's channels-first, and Flatten/Reshape keep Keras's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.formats.layers import (
    Activation,
    ChannelsLastFlatten,
    GlobalPool2d,
    Reshape,
    Scale,
    avg_pool2d,
    conv2d,
    max_pool2d,
    same_pads,
)
from engine.formats.network import MAX_VARIANCE, Builder, Refused, shown


@dataclass
class KerasLayer:
    """One layer of the file's config: its name, class and config dict."""

    name: str
    class_name: str
    config: dict[str, Any]


# Weights(names of the variables the layer needs, in Keras's order) → the arrays.
Weights = Callable[[list[str]], list[Any]]

# Layers that are the identity at inference: left out of the module, listed in the card.
LEFT_OUT = {"Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
            "AlphaDropout", "ActivityRegularization"}

# Keras activation name → the function ConvPad shows (None: linear, nothing to add).
ACTIVATIONS: dict[str, str | None] = {
    "linear": None, "relu": "relu", "softmax": "softmax", "log_softmax": "log_softmax",
    "sigmoid": "sigmoid", "tanh": "tanh", "elu": "elu", "selu": "selu",
    "softplus": "softplus", "softsign": "softsign", "swish": "silu", "silu": "silu",
    "gelu": "gelu", "exponential": "exponential", "leaky_relu": "leaky_relu",
}


def activation_of(layer: KerasLayer, value: Any) -> str | None:
    """The function named by an ``activation`` config value; custom ones are refused."""
    if value is None:
        return None
    if isinstance(value, dict):
        module = str(value.get("module") or "")
        inner = value.get("config")
        if value.get("class_name") == "function" and module.startswith("keras") and \
                isinstance(inner, str):
            value = inner
        else:
            named = inner if isinstance(inner, str) else value.get("class_name")
            raise Refused(f"layer {shown(layer.name)} uses a custom activation ({shown(named)}"
                          f"{f' from {shown(module)}' if module else ''}): ConvPad never runs "
                          "code from a file")
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise Refused(f"layer {shown(layer.name)} uses the activation {shown(value)}, which "
                      f"ConvPad does not know; it knows {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[value]


def add_activation(b: Builder, name: str, function: str | None, source: str,
                   slope: float = 0.2, axis: int = 1) -> None:
    """Append the child for ``function`` (nothing for linear)."""
    if function is None:
        return
    if function == "relu":
        b.add(name, nn.ReLU(), "relu", source)
    elif function == "softmax":
        b.add(name, nn.Softmax(dim=axis), "softmax", source)
    elif function == "log_softmax":
        b.add(name, nn.LogSoftmax(dim=axis), "log_softmax", source)
    else:
        b.add(name, Activation(function, slope), "activation", source)


def _pair(value: Any) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(n, int) and n >= 1 for n in pair):
        raise ValueError(f"expected a positive integer or pair, got {value!r}")
    return int(pair[0]), int(pair[1])


def _channels_last(layer: KerasLayer) -> None:
    fmt = layer.config.get("data_format")
    if fmt not in (None, "channels_last"):
        raise Refused(f"layer {shown(layer.name)} is {shown(fmt)}; ConvPad reads "
                      "channels_last Keras networks (the default)")


def _pads(layer: KerasLayer, size: tuple[int, int], kernel: tuple[int, int],
          stride: tuple[int, int]) -> tuple[int, int, int, int]:
    padding = str(layer.config.get("padding", "valid")).lower()
    if padding == "same":
        return same_pads(size, kernel, stride)
    if padding == "valid":
        return 0, 0, 0, 0
    raise Refused(f"layer {shown(layer.name)} has padding {shown(padding)}; ConvPad reads "
                  "'valid' and 'same'")


def _conv(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    cfg = layer.config
    _channels_last(layer)
    c, h, w = b.map_shape(layer.name, "Conv2D")
    filters, groups = int(cfg["filters"]), int(cfg.get("groups") or 1)
    kernel, stride = _pair(cfg["kernel_size"]), _pair(cfg.get("strides", 1))
    if _pair(cfg.get("dilation_rate", 1)) != (1, 1):
        raise Refused(f"layer {shown(layer.name)} is a dilated convolution, which ConvPad "
                      "cannot show yet")
    if filters < 1 or groups < 1 or c % groups or filters % groups:
        raise ValueError(f"{filters} filters in {groups} groups on {c} channels")
    function = activation_of(layer, cfg.get("activation"))
    pads = _pads(layer, (h, w), kernel, stride)
    b.check_activation(layer.name, filters * h * w)
    b.check_padded(layer.name, pads)
    bias = bool(cfg.get("use_bias", True))
    arrays = weights(["kernel", "bias"] if bias else ["kernel"])
    # Weights are checked against the config before any module is allocated.
    kernel_t = b.array(layer.name, "kernel", arrays[0], (*kernel, c // groups, filters))
    bias_t = b.array(layer.name, "bias", arrays[1], (filters,)) if bias else None
    module = conv2d(c, filters, kernel, stride, pads, groups, bias)
    module.weight = nn.Parameter(kernel_t.permute(3, 2, 0, 1).contiguous())
    if bias_t is not None:
        module.bias = nn.Parameter(bias_t)
    b.add(layer.name, module, "conv", "Conv2D")
    add_activation(b, f"{layer.name}_{function}", function, "Conv2D activation")


def _dense(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    cfg = layer.config
    n_in, units = b.vector_size(layer.name, "Dense"), int(cfg["units"])
    if units < 1:
        raise ValueError(f"{units} units")
    function = activation_of(layer, cfg.get("activation"))
    bias = bool(cfg.get("use_bias", True))
    arrays = weights(["kernel", "bias"] if bias else ["kernel"])
    kernel_t = b.array(layer.name, "kernel", arrays[0], (n_in, units))
    bias_t = b.array(layer.name, "bias", arrays[1], (units,)) if bias else None
    module = nn.Linear(n_in, units, bias=bias)
    module.weight = nn.Parameter(kernel_t.T.contiguous())
    if bias_t is not None:
        module.bias = nn.Parameter(bias_t)
    b.add(layer.name, module, "dense", "Dense")
    add_activation(b, f"{layer.name}_{function}", function, "Dense activation")


def _pool(mode: str) -> Callable[[Builder, KerasLayer, Weights], None]:
    source = "MaxPooling2D" if mode == "max" else "AveragePooling2D"

    def convert(b: Builder, layer: KerasLayer, weights: Weights) -> None:
        _channels_last(layer)
        _, h, w = b.map_shape(layer.name, source)
        kernel = _pair(layer.config.get("pool_size", 2))
        stride = _pair(layer.config.get("strides") or kernel)
        pads = _pads(layer, (h, w), kernel, stride)
        b.check_padded(layer.name, pads)
        # TensorFlow's "same" average leaves the padding out (count_include_pad=False).
        module = max_pool2d(kernel, stride, pads) if mode == "max" else \
            avg_pool2d(kernel, stride, pads, count_include_pad=False)
        b.add(layer.name, module, "pool", source)

    return convert


def _global_pool(mode: str) -> Callable[[Builder, KerasLayer, Weights], None]:
    source = "GlobalMaxPooling2D" if mode == "max" else "GlobalAveragePooling2D"

    def convert(b: Builder, layer: KerasLayer, weights: Weights) -> None:
        _channels_last(layer)
        _, h, w = b.map_shape(layer.name, source)
        keep = bool(layer.config.get("keepdims", False))
        b.add(layer.name, GlobalPool2d(mode, (h, w), keep), "pool", source)

    return convert


def _batch_norm(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    cfg = layer.config
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, len(b.shape)) or cfg.get("renorm") or cfg.get("virtual_batch_size"):
        raise Refused(f"layer {shown(layer.name)} normalises axis {shown(axis)} or uses "
                      "renorm/virtual batches; ConvPad reads batch norm over channels")
    n = b.shape[0]
    scale, center = bool(cfg.get("scale", True)), bool(cfg.get("center", True))
    roles = ["gamma"] * scale + ["beta"] * center + ["moving_mean", "moving_variance"]
    arrays = dict(zip(roles, weights(roles)))
    module = (nn.BatchNorm2d if len(b.shape) == 3 else nn.BatchNorm1d)(
        n, eps=float(cfg.get("epsilon", 1e-3)))
    with torch.no_grad():
        if scale:
            module.weight.copy_(b.array(layer.name, "gamma", arrays["gamma"], (n,)))
        if center:
            module.bias.copy_(b.array(layer.name, "beta", arrays["beta"], (n,)))
        module.running_mean.copy_(b.array(layer.name, "moving_mean", arrays["moving_mean"],
                                          (n,)))
        var = b.array(layer.name, "moving_variance", arrays["moving_variance"], (n,),
                      bound=MAX_VARIANCE)
        if (var < 0).any():
            raise Refused(f"layer {shown(layer.name)}: moving_variance is negative")
        module.running_var.copy_(var)
    b.add(layer.name, module, "norm", "BatchNormalization")


def _flatten(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    _channels_last(layer)
    b.add(layer.name, ChannelsLastFlatten(), "flatten", "Flatten")


def _reshape(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    target = [int(n) for n in layer.config["target_shape"]]
    total = int(np.prod(b.shape))
    known = int(np.prod([n for n in target if n != -1]))
    if target.count(-1) == 1 and known > 0 and total % known == 0:
        target[target.index(-1)] = total // known
    if not 1 <= len(target) <= 3 or any(n < 1 for n in target) or np.prod(target) != total:
        raise Refused(f"layer {shown(layer.name)} reshapes {total} values to {tuple(target)}; "
                      "ConvPad reads reshapes to a vector, (H, W) or (H, W, C) of equal size")
    b.add(layer.name, Reshape(target, channels_last=True), "reshape", "Reshape")


def _rescaling(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    consts = []
    for key, default in (("scale", 1.0), ("offset", 0.0)):
        a = np.asarray(layer.config.get(key, default), np.float32)
        if not np.isfinite(a).all() or a.size not in (1, b.shape[0]):
            raise Refused(f"layer {shown(layer.name)}: Rescaling {key} {shown(a.tolist())} is "
                          "not a finite number per channel")
        # Per-channel values broadcast over (C, H, W) maps or (C,) vectors.
        consts.append(torch.from_numpy(a.reshape(-1, *[1] * (len(b.shape) - 1))
                                       if a.size > 1 else a.reshape(())))
    b.add(layer.name, Scale(*consts), "scale", "Rescaling")


def _activation_layer(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    function = activation_of(layer, layer.config.get("activation"))
    if function is None:
        b.leave_out(layer.name, "Activation('linear')")
    add_activation(b, layer.name, function, "Activation")


def _relu(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    cfg = layer.config
    slope = float(cfg.get("negative_slope") or 0.0)
    if cfg.get("max_value") is not None or float(cfg.get("threshold") or 0.0) != 0.0:
        raise Refused(f"layer {shown(layer.name)} is a ReLU with a max_value or threshold, "
                      "which ConvPad cannot show yet")
    add_activation(b, layer.name, "leaky_relu" if slope else "relu", "ReLU", slope)


def _leaky_relu(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    cfg = layer.config
    slope = cfg.get("negative_slope", cfg.get("alpha", 0.3))
    add_activation(b, layer.name, "leaky_relu", "LeakyReLU", float(slope))


def _softmax(b: Builder, layer: KerasLayer, weights: Weights) -> None:
    axis = layer.config.get("axis", -1)
    # Keras's axis counts the batch and is channels-last; ours is channels-first.
    dims = {-1: 1, 1: 1} if len(b.shape) == 1 else {-1: 1, 3: 1, -2: 3, 2: 3, -3: 2, 1: 2}
    if axis not in dims:
        raise Refused(f"layer {shown(layer.name)} is a softmax over axis {shown(axis)}, "
                      "which ConvPad cannot show")
    add_activation(b, layer.name, "softmax", "Softmax", axis=dims[axis])


CONVERTERS: dict[str, Callable[[Builder, KerasLayer, Weights], None]] = {
    "Conv2D": _conv, "Convolution2D": _conv,
    "Dense": _dense,
    "MaxPooling2D": _pool("max"), "MaxPool2D": _pool("max"),
    "AveragePooling2D": _pool("avg"), "AvgPool2D": _pool("avg"),
    "GlobalAveragePooling2D": _global_pool("avg"), "GlobalAvgPool2D": _global_pool("avg"),
    "GlobalMaxPooling2D": _global_pool("max"), "GlobalMaxPool2D": _global_pool("max"),
    "BatchNormalization": _batch_norm,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Rescaling": _rescaling,
    "Activation": _activation_layer,
    "ReLU": _relu,
    "LeakyReLU": _leaky_relu,
    "Softmax": _softmax,
}
