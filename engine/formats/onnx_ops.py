"""Each ONNX operator ConvPad can show, rebuilt as a torch child.

:data:`CONVERTERS` maps an ``op_type`` on the data path to a function that reads the
node's attributes and constant inputs and appends a child to the walk's builder.
ONNX is channels-first like torch, so weights keep their layout; padding is
``[top, left, bottom, right]``. A ``MatMul`` followed by the ``Add`` of a bias becomes
one dense layer. :data:`IDENTITIES` (Dropout, Identity) are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from engine.formats.layers import (
    Activation,
    GlobalPool2d,
    Reshape,
    Scale,
    avg_pool2d,
    conv2d,
    max_pool2d,
    same_pads,
)
from engine.formats.network import MAX_ABS_WEIGHT, MAX_VARIANCE, Refused, shown

if TYPE_CHECKING:
    from engine.formats.onnx import Graph
    from engine.formats.onnx_proto import NodeProto

IDENTITIES = {"Dropout", "Identity"}


def _pads(g: Graph, node: NodeProto, kernel: tuple[int, int], stride: tuple[int, int]
          ) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from ``pads`` or ``auto_pad``."""
    a = g.attrs(node)
    auto = a.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        _, h, w = g.b.map_shape(g.label(node), node.op_type)
        return same_pads((h, w), kernel, stride, lower=auto == "SAME_LOWER")
    if auto not in ("NOTSET", "VALID"):
        raise ValueError(f"auto_pad {auto!r}")
    p = [int(n) for n in a.get("pads", [0, 0, 0, 0])] if auto == "NOTSET" else [0, 0, 0, 0]
    if len(p) != 4 or min(p) < 0:
        raise ValueError(f"pads {p}")
    return p[0], p[2], p[1], p[3]


def _pair(values: Any, default: tuple[int, int]) -> tuple[int, int]:
    pair = tuple(int(n) for n in values) if values is not None else default
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"expected two positive numbers, got {values}")
    return pair[0], pair[1]


def _no_dilation(g: Graph, node: NodeProto) -> None:
    if any(int(d) != 1 for d in g.attrs(node).get("dilations", [1, 1])):
        raise Refused(f"node {shown(g.label(node))} is dilated, which ConvPad cannot show yet")


def _conv(g: Graph, node: NodeProto) -> None:
    name, a = g.label(node), g.attrs(node)
    c, h, w = g.b.map_shape(name, "Conv")
    weight = g.const(node.input[1], f"the weights of {shown(name)}")
    bias = g.optional(node, 2, f"the bias of {shown(name)}")
    _no_dilation(g, node)
    groups = int(a.get("group", 1))
    if weight.ndim != 4 or groups < 1 or c % groups or weight.shape[0] % groups:
        raise Refused(f"node {shown(name)}: a Conv of weights {weight.shape} in {groups} "
                      f"groups cannot take {c} channels")
    out, kernel = int(weight.shape[0]), _pair(a.get("kernel_shape"), weight.shape[2:])
    stride = _pair(a.get("strides"), (1, 1))
    pads = _pads(g, node, kernel, stride)
    g.b.check_activation(name, out * h * w)
    g.b.check_padded(name, pads)
    # Weights are checked against the attributes before any module is allocated.
    weight_t = g.b.array(name, "weight", weight, (out, c // groups, *kernel))
    bias_t = None if bias is None else g.b.array(name, "bias", bias, (out,))
    module = conv2d(c, out, kernel, stride, pads, groups, bias is not None)
    module.weight = nn.Parameter(weight_t)
    if bias_t is not None:
        module.bias = nn.Parameter(bias_t)
    g.b.add(name, module, "conv", "Conv")


def _pool(mode: str) -> Callable[[Graph, NodeProto], None]:
    def convert(g: Graph, node: NodeProto) -> None:
        name, a = g.label(node), g.attrs(node)
        g.b.map_shape(name, node.op_type)
        _no_dilation(g, node)
        kernel = _pair(a["kernel_shape"], (1, 1))
        stride = _pair(a.get("strides"), (1, 1))
        pads = _pads(g, node, kernel, stride)
        g.b.check_padded(name, pads)
        ceil = bool(a.get("ceil_mode", 0))
        if max(pads[:2]) >= kernel[0] or max(pads[2:]) >= kernel[1] or (ceil and (
                pads[0] != pads[1] or pads[2] != pads[3] or 2 * max(pads) > min(kernel))):
            raise Refused(f"node {shown(name)} pads {pads} around a {kernel} window"
                          f"{' in ceil mode' if ceil else ''}, which ConvPad cannot show")
        module = max_pool2d(kernel, stride, pads, ceil) if mode == "max" else avg_pool2d(
            kernel, stride, pads, bool(a.get("count_include_pad", 0)), ceil)
        g.b.add(name, module, "pool", node.op_type)

    return convert


def _global_pool(mode: str) -> Callable[[Graph, NodeProto], None]:
    def convert(g: Graph, node: NodeProto) -> None:
        name = g.label(node)
        _, h, w = g.b.map_shape(name, node.op_type)
        g.b.add(name, GlobalPool2d(mode, (h, w), keepdims=True), "pool", node.op_type)

    return convert


def _batch_norm(g: Graph, node: NodeProto) -> None:
    name, a = g.label(node), g.attrs(node)
    if a.get("training_mode", 0):
        raise Refused(f"node {shown(name)} is a batch norm in training mode")
    if len(g.b.shape) not in (1, 3):
        raise Refused(f"node {shown(name)} normalises a tensor of shape {g.b.shape}")
    n = g.b.shape[0]
    module = (nn.BatchNorm2d if len(g.b.shape) == 3 else nn.BatchNorm1d)(
        n, eps=float(a.get("epsilon", 1e-5)))
    parts = [g.const(node.input[i], f"input {i} of {shown(name)}") for i in range(1, 5)]
    with torch.no_grad():
        for target, what, value in zip(
                (module.weight, module.bias, module.running_mean), ("scale", "B", "mean"), parts):
            target.copy_(g.b.array(name, what, value, (n,)))
        var = g.b.array(name, "var", parts[3], (n,), bound=MAX_VARIANCE)
        if (var < 0).any():
            raise Refused(f"node {shown(name)}: its variance is negative")
        module.running_var.copy_(var)
    g.b.add(name, module, "norm", "BatchNormalization")


def _linear(g: Graph, name: str, weight: np.ndarray, bias: np.ndarray | None, source: str
            ) -> None:
    """A dense child from ``weight`` (out, in) and ``bias`` (out,) already checked."""
    module = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    module.weight = nn.Parameter(torch.from_numpy(np.ascontiguousarray(weight, np.float32)))
    if bias is not None:
        module.bias = nn.Parameter(torch.from_numpy(np.ascontiguousarray(bias, np.float32)))
    g.b.add(name, module, "dense", source)


def _bias(g: Graph, name: str, c: np.ndarray | None, out: int) -> np.ndarray | None:
    if c is None:
        return None
    if c.size not in (1, out) or c.ndim > 2:
        raise Refused(f"node {shown(name)}: a bias of shape {c.shape} for {out} outputs")
    return np.broadcast_to(np.asarray(c, np.float32).reshape(-1), (out,))


def _gemm(g: Graph, node: NodeProto) -> None:
    name, a = g.label(node), g.attrs(node)
    n_in = g.b.vector_size(name, "Gemm")
    b = g.const(node.input[1], f"the weights of {shown(name)}")
    if a.get("transA", 0) or b.ndim != 2:
        raise Refused(f"node {shown(name)} is a Gemm ConvPad cannot show (transA, or "
                      f"weights of shape {b.shape})")
    out = b.shape[0] if a.get("transB", 0) else b.shape[1]
    weight = g.b.array(name, "B", b, (out, n_in) if a.get("transB", 0) else (n_in, out))
    weight = weight.numpy() if a.get("transB", 0) else weight.numpy().T
    weight = weight * float(a.get("alpha", 1.0))
    bias = _bias(g, name, g.optional(node, 2, f"the bias of {shown(name)}"), out)
    if bias is not None:
        bias = g.b.array(name, "C", np.array(bias), (out,)).numpy() * float(a.get("beta", 1.0))
    if np.abs(weight).max(initial=0) > MAX_ABS_WEIGHT:
        raise Refused(f"node {shown(name)}: alpha makes its weights absurdly large")
    _linear(g, name, weight, bias, "Gemm")


def _matmul(g: Graph, node: NodeProto) -> str | None:
    name = g.label(node)
    n_in = g.b.vector_size(name, "MatMul")
    w = g.const(node.input[1], f"the weights of {shown(name)}")
    if w.ndim != 2:
        raise Refused(f"node {shown(name)} multiplies by weights of shape {w.shape}")
    weight = g.b.array(name, "weights", w, (n_in, w.shape[1])).numpy().T
    bias, end = None, None
    # torch exports a Linear on a batch as MatMul + Add: the Add's constant is the bias.
    after = g.next_node
    if after is not None and after.op_type == "Add" and g.uses.get(node.output[0]) == 1 \
            and node.output[0] in after.input:
        other = [i for i in after.input if i != node.output[0]]
        if len(other) == 1 and other[0] not in g.dynamic:
            c = g.const(other[0], f"the bias of {shown(name)}")
            if c.size == w.shape[1] and c.ndim <= 2:
                bias = g.b.array(name, "bias", c.reshape(-1), (w.shape[1],)).numpy()
                g.skip_next, end = True, after.output[0]
    _linear(g, name, weight, bias, "MatMul")
    return end


def _arith(g: Graph, node: NodeProto) -> None:
    """Add/Sub/Mul/Div of the chain's tensor and a constant: a ``Scale`` child."""
    name, op = g.label(node), node.op_type
    first = node.input[0] == g.head
    c = np.asarray(g.const(node.input[1] if first else node.input[0],
                           f"the constant of {shown(name)}"), np.float32)
    sample = (1, *g.b.shape)
    if c.ndim > len(sample) or np.broadcast_shapes(c.shape, sample) != sample:
        raise Refused(f"node {shown(name)} ({op}) by a constant of shape {c.shape} changes the "
                      f"shape {g.b.shape}; ConvPad reads per-sample constants")
    if not np.isfinite(c).all() or np.abs(c).max(initial=0) > MAX_ABS_WEIGHT \
            or (op == "Div" and (c == 0).any()):
        raise Refused(f"node {shown(name)} ({op}) by NaN, zero or absurd constants")
    if c.ndim == len(sample):
        c = c[0]  # the batch axis: constants broadcast over one sample
    scale, offset = {
        ("Add", True): (1.0, c), ("Add", False): (1.0, c),
        ("Mul", True): (c, 0.0), ("Mul", False): (c, 0.0),
        ("Sub", True): (1.0, -c), ("Sub", False): (-1.0, c),
        ("Div", True): (1.0 / c, 0.0),
    }.get((op, first), (None, None))
    if scale is None:
        raise Refused(f"node {shown(name)} divides a constant by the image, which ConvPad "
                      "cannot show")
    g.b.add(name, Scale(torch.as_tensor(scale), torch.as_tensor(offset)), "scale", op)


def _flatten(g: Graph, node: NodeProto) -> None:
    axis = int(g.attrs(node).get("axis", 1))
    if axis not in (1, -len(g.b.shape)):
        raise Refused(f"node {shown(g.label(node))} flattens from axis {axis}; ConvPad reads "
                      "Flatten that keeps the batch axis (axis=1)")
    g.b.add(g.label(node), nn.Flatten(), "flatten", "Flatten")


def _reshape(g: Graph, node: NodeProto) -> None:
    name = g.label(node)
    target = [int(n) for n in g.const(node.input[1], f"the shape of {shown(name)}").reshape(-1)]
    # The first axis is the batch, whether written -1, 0 or 1.
    if len(target) < 2 or target[0] not in (-1, 0, 1):
        raise Refused(f"node {shown(name)} reshapes to {target}, changing the batch axis")
    allow_zero = bool(g.attrs(node).get("allowzero", 0))
    per = [g.b.shape[i] if n == 0 and not allow_zero and i < len(g.b.shape) else n
           for i, n in enumerate(target[1:])]
    total, known = int(np.prod(g.b.shape)), int(np.prod([n for n in per if n != -1]))
    if per.count(-1) == 1 and known > 0 and total % known == 0:
        per[per.index(-1)] = total // known
    if len(per) not in (1, 3) or min(per) < 1 or int(np.prod(per)) != total:
        raise Refused(f"node {shown(name)} reshapes {g.b.shape} to {target}; ConvPad reads "
                      "reshapes to (batch, n) or (batch, C, H, W) of the same size")
    g.b.add(name, Reshape(per, channels_last=False), "reshape", "Reshape")


def _softmax(log: bool) -> Callable[[Graph, NodeProto], None]:
    def convert(g: Graph, node: NodeProto) -> None:
        name, rank = g.label(node), len(g.b.shape) + 1
        axis = int(g.attrs(node).get("axis", -1 if g.opset >= 13 else 1))
        axis = axis + rank if axis < 0 else axis
        # Before opset 13 a softmax flattened every axis from ``axis`` on.
        if axis < 1 or axis >= rank or (g.opset < 13 and axis != rank - 1):
            raise Refused(f"node {shown(name)} is a softmax over axis {axis} of a "
                          f"{rank}-axis tensor, which ConvPad cannot show")
        module = nn.LogSoftmax(dim=axis) if log else nn.Softmax(dim=axis)
        g.b.add(name, module, "log_softmax" if log else "softmax", node.op_type)

    return convert


def _relu(g: Graph, node: NodeProto) -> None:
    g.b.add(g.label(node), nn.ReLU(), "relu", "Relu")


def _function(function: str) -> Callable[[Graph, NodeProto], None]:
    def convert(g: Graph, node: NodeProto) -> None:
        a = g.attrs(node)
        if function == "elu" and float(a.get("alpha", 1.0)) != 1.0:
            raise Refused(f"node {shown(g.label(node))} is an Elu with alpha ≠ 1")
        module = Activation(function, float(a.get("alpha", 0.01)))
        g.b.add(g.label(node), module, "activation", node.op_type)

    return convert


# Each converter appends its children; one that also consumed the next node returns
# the name of that node's output (where the chain now ends).
CONVERTERS: dict[str, Callable[[Graph, NodeProto], str | None]] = {
    "Conv": _conv,
    "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"),
    "GlobalAveragePool": _global_pool("avg"),
    "GlobalMaxPool": _global_pool("max"),
    "Relu": _relu,
    "LeakyRelu": _function("leaky_relu"),
    "Sigmoid": _function("sigmoid"),
    "Tanh": _function("tanh"),
    "Elu": _function("elu"),
    "Softplus": _function("softplus"),
    "Softsign": _function("softsign"),
    "BatchNormalization": _batch_norm,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _arith, "Sub": _arith, "Mul": _arith, "Div": _arith,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Softmax": _softmax(log=False),
    "LogSoftmax": _softmax(log=True),
}
