"""ONNX networks (``.onnx``), rebuilt node by node as torch modules.

The graph is read with the ONNX protobuf messages (:mod:`engine.formats.onnx_proto`),
never run through a runtime: ConvPad must show every intermediate tensor. It is walked
in its stored, topological order. Nodes on the data path must form a single chain from
the one input to the one output; each becomes a child module (see
:mod:`engine.formats.onnx_ops`). Nodes that only compute constants — the
``Shape → Gather → Unsqueeze → Concat`` that ``torch.onnx.export`` writes before a
``Reshape``, ``Constant``, ``Cast`` … — are folded here with numpy, the input's batch
axis taken as 1.

Weights may sit in a file beside the model (``NAME.onnx.data``, as current
``torch.onnx.export`` writes): they are read only from a plain file name in the same
folder, never from a path the model names ("../x", "/etc/x", "sub/x").
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.formats.network import (
    MAX_ACTIVATION,
    MAX_FILE_BYTES,
    Builder,
    ForeignNetwork,
    Refused,
    image_input,
    shown,
)
from engine.formats.onnx_ops import CONVERTERS, IDENTITIES
from engine.formats.onnx_proto import (
    NP_DTYPES,
    ModelProto,
    NodeProto,
    TensorProto,
    ValueInfoProto,
    attribute_value,
    from_bytes,
    parse_model,
    to_array,
    type_name,
)

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"


def read(path: Path) -> ForeignNetwork:
    """The ONNX network in ``path``."""
    data = path.read_bytes()
    if data.startswith(HDF5_MAGIC):
        raise Refused("is an HDF5 file (a Keras .h5?), not ONNX: rename it to .h5")
    if data.startswith(ZIP_MAGIC):
        raise Refused("is a zip archive (a .keras or PyTorch file?), not ONNX")
    try:
        model = parse_model(data)
    except RecursionError:
        raise Refused("its graph is nested too deeply to be a network") from None
    except Exception as exc:  # protobuf's DecodeError and kin: the bytes are not a model
        raise Refused(f"is not an ONNX model: truncated or another kind of file "
                      f"({type(exc).__name__})") from None
    if not model.HasField("graph") or not model.graph.node or model.ir_version <= 0:
        raise Refused("is not an ONNX model: it holds no graph (truncated or another kind "
                      "of file)")
    return Graph(model, path).build()


class Graph:
    """One walk over an ONNX graph: the constants known so far and the chain's head."""

    def __init__(self, model: ModelProto, path: Path):
        self.model, self.path = model, path
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                          0)
        graph = model.graph
        if graph.sparse_initializer:
            raise Refused("holds sparse weights, which ConvPad cannot read")
        self.initializers = {t.name: t for t in graph.initializer}
        self.consts: dict[str, np.ndarray] = {}
        self.external: list[str] = []
        self._external_bytes = 0
        inputs = [i for i in graph.input if i.name not in self.initializers]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise Refused(f"the graph has {len(inputs)} inputs and {len(graph.output)} "
                          "outputs; ConvPad reads networks with one of each")
        self.input_name = inputs[0].name
        self.b = Builder(image_input(_input_dims(inputs[0]), "chw"))
        self.dynamic = {self.input_name: self.b.x}
        self.head = self.input_name
        self.skip_next = False
        self.next_node: NodeProto | None = None
        self.uses: dict[str, int] = {}
        for node in graph.node:
            for name in node.input:
                self.uses[name] = self.uses.get(name, 0) + 1
        for out in graph.output:
            self.uses[out.name] = self.uses.get(out.name, 0) + 1

    def build(self) -> ForeignNetwork:
        nodes = list(self.model.graph.node)
        for i, node in enumerate(nodes):
            if self.skip_next:
                self.skip_next = False
                continue
            self.next_node = nodes[i + 1] if i + 1 < len(nodes) else None
            self._node(node)
        output = self.model.graph.output[0].name
        if output != self.head:
            raise Refused(f"the graph's output {shown(output)} is not the end of its chain "
                          "of layers")
        about = {"opset": self.opset, "ir_version": self.model.ir_version,
                 "producer": f"{self.model.producer_name} {self.model.producer_version}".strip(),
                 "external_data": sorted(set(self.external))}
        return self.b.finish(self.path, "onnx", about)

    def _node(self, node: NodeProto) -> None:
        op = node.op_type
        if node.domain not in ("", "ai.onnx"):
            raise Refused(f"node {shown(node.name or op)} is the operator "
                          f"{shown(node.domain + '.' + op)}, which ConvPad cannot show")
        data_in = [name for name in node.input if name in self.dynamic]
        if not data_in:
            self._fold(node)
        elif op == "Shape":
            self._set_const(node.output[0],
                            _shape(tuple(self.dynamic[data_in[0]].shape), self.attrs(node)))
        elif op in IDENTITIES:
            self._chain_input(node, data_in)
            self.b.leave_out(self.label(node), op)
            self._move_head(node.output[0])
        elif op in CONVERTERS:
            self._chain_input(node, data_in)
            try:
                end = CONVERTERS[op](self, node)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                raise Refused(f"node {shown(node.name or op)} ({op}) is malformed "
                              f"({type(exc).__name__}: {exc})") from None
            self._move_head(end or node.output[0])
        else:
            raise Refused(f"node {shown(node.name or op)} is the operator {shown(op)}, which "
                          f"ConvPad cannot show; it reads {', '.join(sorted(CONVERTERS))}")

    def _chain_input(self, node: NodeProto, data_in: list[str]) -> None:
        if len(data_in) != 1 or data_in[0] != self.head or (node.input[0] != self.head \
                and node.op_type not in ("Add", "Mul", "Sub", "Div")):
            raise Refused(f"node {shown(node.name or node.op_type)} ({node.op_type}) does not "
                          "read the previous layer's output alone: the network is not a "
                          "single chain")
        for extra in node.output[1:]:
            if extra and self.uses.get(extra):
                raise Refused(f"node {shown(node.name or node.op_type)} ({node.op_type}) has "
                              "a second output in use, which ConvPad cannot show")

    def _move_head(self, name: str) -> None:
        self.dynamic[name] = self.b.x
        self.head = name

    def label(self, node: NodeProto) -> str:
        """A readable child name: torch's "/conv1/Conv" → "conv1", "/Relu_1" → "relu_1"."""
        parts = [p for p in node.name.split("/") if p]
        if len(parts) > 1 and parts[-1].split("_")[0] == node.op_type:
            parts.pop()
        return parts[-1].lower() if parts else node.op_type.lower()

    @staticmethod
    def attrs(node: NodeProto) -> dict[str, Any]:
        """The node's attributes as Python values (strings decoded)."""
        out = {}
        for a in node.attribute:
            value = attribute_value(a)
            out[a.name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        return out

    def const(self, name: str, what: str) -> np.ndarray:
        """The constant value ``name`` (an initializer or a folded result)."""
        if name in self.consts:
            return self.consts[name]
        if name in self.initializers:
            self.consts[name] = self._tensor(self.initializers[name])
            return self.consts[name]
        if name in self.dynamic:
            raise Refused(f"{what} depends on the input image; ConvPad reads it only as a "
                          "constant")
        raise Refused(f"{what} ({shown(name)}) is missing from the file")

    def optional(self, node: NodeProto, i: int, what: str) -> np.ndarray | None:
        """Input ``i`` of ``node`` as a constant, or None when it is left out."""
        if len(node.input) <= i or not node.input[i]:
            return None
        return self.const(node.input[i], what)

    def _set_const(self, name: str, value: np.ndarray) -> None:
        if value.size > MAX_ACTIVATION:
            raise Refused(f"constant {shown(name)} would hold {value.size:,} values")
        self.consts[name] = value

    def _tensor(self, t: TensorProto) -> np.ndarray:
        if t.data_location == TensorProto.EXTERNAL:
            return self._external_tensor(t)
        try:
            return to_array(t)
        except KeyError:
            raise Refused(f"tensor {shown(t.name)} holds {type_name(t.data_type)} values, "
                          "which ConvPad cannot read") from None
        except Exception as exc:  # a damaged tensor: wrong byte count, unknown type …
            raise Refused(f"tensor {shown(t.name)} cannot be read ({type(exc).__name__}): the "
                          "file is truncated or damaged") from None

    def _external_tensor(self, t: TensorProto) -> np.ndarray:
        info = {e.key: e.value for e in t.external_data}
        location = info.get("location", "")
        if not _plain_name(location):
            raise Refused(f"tensor {shown(t.name)} keeps its values in {shown(location)}; "
                          "ConvPad reads external data only from a plain file name in the "
                          "model's own folder")
        file = self.path.parent / location
        if not file.is_file():
            raise Refused(f"tensor {shown(t.name)} keeps its values in {shown(location)}, "
                          "which is not beside the model")
        if file.is_symlink() and file.resolve().parent != self.path.resolve().parent:
            # A plain name that is a link out of the folder is a path all the same.
            raise Refused(f"tensor {shown(t.name)} keeps its values in {shown(location)}, "
                          "a link to a file outside the model's folder; ConvPad reads "
                          "external data only from the model's own folder")
        if t.data_type not in NP_DTYPES and t.data_type != TensorProto.BFLOAT16:
            raise Refused(f"tensor {shown(t.name)} holds {type_name(t.data_type)} values, "
                          "which ConvPad cannot read")
        itemsize = 2 if t.data_type == TensorProto.BFLOAT16 else NP_DTYPES[t.data_type].itemsize
        nbytes = math.prod(t.dims) * itemsize
        offset = int(info.get("offset", 0))
        length = int(info.get("length", nbytes))
        self._external_bytes += nbytes
        if length != nbytes or offset < 0 or offset + nbytes > file.stat().st_size:
            raise Refused(f"tensor {shown(t.name)}: {location} is shorter than the model says "
                          "(truncated or damaged)")
        if self._external_bytes > MAX_FILE_BYTES:
            raise Refused(f"its external data is over {MAX_FILE_BYTES // 2**20} MB")
        with open(file, "rb") as f:
            f.seek(offset)
            data = f.read(nbytes)
        self.external.append(location)
        return from_bytes(data, t.data_type, tuple(t.dims))

    def _fold(self, node: NodeProto) -> None:
        """Compute a node whose inputs are all constants, with numpy."""
        op = node.op_type
        if op not in FOLDS:
            raise Refused(f"node {shown(node.name or op)} is the operator {shown(op)} on "
                          "constants, which ConvPad cannot work out")
        args = [self.optional(node, i, f"input {i} of node {shown(node.name or op)}")
                for i in range(len(node.input))]
        try:
            value = FOLDS[op](args, self.attrs(node), self)
        except Refused:
            raise
        except Exception as exc:  # numpy refusing a malformed shape or index
            raise Refused(f"node {shown(node.name or op)} ({op}) cannot be worked out "
                          f"({type(exc).__name__}: {exc})") from None
        self._set_const(node.output[0], np.asarray(value))


def _input_dims(value: ValueInfoProto) -> tuple[Any, ...]:
    t = value.type.tensor_type
    if not value.type.HasField("tensor_type") or t.elem_type not in (
            TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE):
        raise Refused(f"the input {shown(value.name)} is not a tensor of floats")
    dims = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
    if len(dims) != 4:
        raise Refused(f"the input has {len(dims)} axes; ConvPad reads images as "
                      "(batch, 1, height, width)")
    return dims[1:]


def _plain_name(location: str) -> bool:
    """True for "x.onnx.data"; False for folders, "..", absolute or drive paths."""
    return bool(location) and not any(c in location for c in "/\\:\0") \
        and location not in (".", "..") and Path(location).name == location


def _shape(dims: tuple[int, ...], attrs: dict[str, Any]) -> np.ndarray:
    shape = np.array(dims, np.int64)
    return shape[attrs.get("start", 0):attrs.get("end", len(shape))]


def _unsqueeze(args: list[Any], attrs: dict[str, Any], g: Graph) -> np.ndarray:
    axes = attrs["axes"] if "axes" in attrs else args[1].tolist()
    x = args[0]
    for axis in sorted(a + x.ndim + len(axes) if a < 0 else a for a in axes):
        x = np.expand_dims(x, axis)
    return x


def _squeeze(args: list[Any], attrs: dict[str, Any], g: Graph) -> np.ndarray:
    axes = attrs.get("axes", args[1].tolist() if len(args) > 1 and args[1] is not None
                     else None)
    return np.squeeze(args[0], axis=None if axes is None else tuple(axes))


def _slice(args: list[Any], attrs: dict[str, Any], g: Graph) -> np.ndarray:
    x = args[0]
    if "starts" in attrs:  # opset < 10
        starts, ends, axes, steps = attrs["starts"], attrs["ends"], attrs.get("axes"), None
    else:
        starts, ends = args[1].tolist(), args[2].tolist()
        axes = args[3].tolist() if len(args) > 3 and args[3] is not None else None
        steps = args[4].tolist() if len(args) > 4 and args[4] is not None else None
    index = [slice(None)] * x.ndim
    for i, axis in enumerate(axes if axes is not None else range(len(starts))):
        index[axis] = slice(starts[i], ends[i], steps[i] if steps else 1)
    return x[tuple(index)]


def _arith(fn: Any) -> Any:
    def fold(args: list[Any], attrs: dict[str, Any], g: Graph) -> np.ndarray:
        shape = np.broadcast_shapes(args[0].shape, args[1].shape)
        if math.prod(shape) > MAX_ACTIVATION:
            raise Refused(f"a constant of shape {shape} is too large")
        return fn(args[0], args[1])

    return fold


def _constant(args: list[Any], attrs: dict[str, Any], g: Graph) -> np.ndarray:
    if "value" in attrs:
        return g._tensor(attrs["value"])
    for key in ("value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            return np.array(attrs[key], np.float32 if "float" in key else np.int64)
    raise Refused("a Constant node holds a kind of value ConvPad cannot read")


def _reshape(args: list[Any], attrs: dict[str, Any], g: Graph) -> np.ndarray:
    shape = [int(n) for n in args[1]]
    shape = [args[0].shape[i] if n == 0 and not attrs.get("allowzero") else n
             for i, n in enumerate(shape)]
    return args[0].reshape(shape)


FOLDS: dict[str, Any] = {
    "Constant": _constant,
    "Identity": lambda args, attrs, g: args[0],
    "Cast": lambda args, attrs, g: args[0].astype(NP_DTYPES[attrs["to"]]),
    "Shape": lambda args, attrs, g: _shape(args[0].shape, attrs),
    "Gather": lambda args, attrs, g: np.take(args[0], args[1], axis=attrs.get("axis", 0)),
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": lambda args, attrs, g: np.concatenate([np.atleast_1d(a) for a in args],
                                                    axis=attrs.get("axis", 0)),
    "Slice": _slice,
    "Reshape": _reshape,
    "Add": _arith(np.add),
    "Sub": _arith(np.subtract),
    "Mul": _arith(np.multiply),
    "Div": _arith(lambda a, b: a // b if a.dtype.kind in "iu" else a / b),
}
