"""The ONNX file format's messages, without importing the ``onnx`` package.

``import onnx`` takes about 0.6 s, nearly all of it ``ml_dtypes`` registering its
numpy types (``python -X importtime``), and ConvPad needs none of it: a network is
read with the protobuf classes alone. ``onnx/onnx_ml_pb2.py``, the module protoc
generated from ``onnx-ml.proto``, imports nothing but protobuf and loads in about
20 ms, so it is loaded here from the installed package's folder without running the
package's ``__init__``. Its classes are the ones ``onnx`` itself uses (protobuf keeps
one class per message type), so a program that also imports ``onnx`` gets the same
``ModelProto``. If that file cannot be loaded on its own (another onnx layout), the
whole package is imported as usual.

What ConvPad used from ``onnx.helper`` and ``onnx.numpy_helper`` is rewritten for the
tensor types a network's weights and shapes come in: :func:`to_array`,
:func:`from_bytes`, :func:`attribute_value` and :data:`NP_DTYPES`.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np


def _protobuf_module() -> ModuleType:
    """``onnx.onnx_ml_pb2``, loaded without the ``onnx`` package where it can be."""
    if "onnx.onnx_ml_pb2" in sys.modules:
        return sys.modules["onnx.onnx_ml_pb2"]
    spec = importlib.util.find_spec("onnx")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("No module named 'onnx'", name="onnx")
    path = Path(next(iter(spec.submodule_search_locations))) / "onnx_ml_pb2.py"
    try:
        file_spec = importlib.util.spec_from_file_location("engine.formats._onnx_ml_pb2", path)
        module = importlib.util.module_from_spec(file_spec)
        file_spec.loader.exec_module(module)
        if not hasattr(module, "ModelProto"):
            raise AttributeError("not the generated onnx_ml_pb2")
        return module
    except ImportError:
        raise ImportError("No module named 'google.protobuf'", name="onnx") from None
    except Exception:  # not the generated module this reader knows: the usual way
        import onnx.onnx_ml_pb2

        return onnx.onnx_ml_pb2


_pb = _protobuf_module()
AttributeProto = _pb.AttributeProto
ModelProto = _pb.ModelProto
NodeProto = _pb.NodeProto
TensorProto = _pb.TensorProto
ValueInfoProto = _pb.ValueInfoProto

# TensorProto.DataType → numpy dtype (little-endian, as ONNX stores raw data), and the
# repeated field that holds the values when a tensor has no raw_data.
_T = TensorProto
NP_DTYPES: dict[int, np.dtype] = {
    _T.FLOAT: np.dtype("<f4"), _T.DOUBLE: np.dtype("<f8"), _T.FLOAT16: np.dtype("<f2"),
    _T.INT8: np.dtype("i1"), _T.UINT8: np.dtype("u1"), _T.INT16: np.dtype("<i2"),
    _T.UINT16: np.dtype("<u2"), _T.INT32: np.dtype("<i4"), _T.UINT32: np.dtype("<u4"),
    _T.INT64: np.dtype("<i8"), _T.UINT64: np.dtype("<u8"), _T.BOOL: np.dtype("?"),
}
_FIELDS = {
    _T.FLOAT: "float_data", _T.DOUBLE: "double_data", _T.INT64: "int64_data",
    _T.UINT32: "uint64_data", _T.UINT64: "uint64_data",
    # 16-bit values are stored as their bits, one per int32.
    _T.FLOAT16: "int32_data", _T.BFLOAT16: "int32_data", _T.INT16: "int32_data",
    _T.UINT16: "int32_data", _T.INT8: "int32_data", _T.UINT8: "int32_data",
    _T.INT32: "int32_data", _T.BOOL: "int32_data",
}
_BITS16 = {_T.FLOAT16, _T.BFLOAT16, _T.INT16, _T.UINT16}


def type_name(data_type: int) -> str:
    """The ONNX name of a tensor type ("FLOAT", "BFLOAT16" …), for a message."""
    try:
        return TensorProto.DataType.Name(data_type)
    except ValueError:
        return f"type {data_type}"


def parse_model(data: bytes) -> Any:
    """The ``ModelProto`` in ``data``; protobuf's ``DecodeError`` if it is not one."""
    model = ModelProto()
    used = model.ParseFromString(data)
    if used is not None and used != len(data):
        from google.protobuf.message import DecodeError

        raise DecodeError(f"read {used} of {len(data)} bytes")
    return model


def from_bytes(data: bytes, data_type: int, dims: tuple[int, ...]) -> np.ndarray:
    """A tensor's values from its raw little-endian bytes (raw_data, or external data).

    bfloat16 becomes float32, exactly (its bits are a float32's upper half).
    """
    if data_type == _T.BFLOAT16:
        bits = np.frombuffer(data, np.dtype("<u2")).astype(np.uint32) << 16
        return bits.view(np.float32).reshape(dims)
    dtype = NP_DTYPES[data_type]
    if len(data) != math.prod(dims) * dtype.itemsize:
        raise ValueError(f"{len(data)} bytes for {math.prod(dims)} values of {dtype}")
    return np.frombuffer(data, dtype).reshape(dims).astype(dtype.newbyteorder("="),
                                                          copy=False)


def to_array(t: Any) -> np.ndarray:
    """The values of an in-file ``TensorProto`` (``onnx.numpy_helper.to_array`` for the
    types above); ``KeyError``/``ValueError`` for any other type or a damaged tensor."""
    if t.HasField("segment"):
        raise ValueError("a segmented tensor")
    dims = tuple(int(d) for d in t.dims)
    if t.data_type not in NP_DTYPES and t.data_type != _T.BFLOAT16:
        raise KeyError(f"{type_name(t.data_type)} values")
    if t.HasField("raw_data"):
        return from_bytes(t.raw_data, t.data_type, dims)
    values = getattr(t, _FIELDS[t.data_type])
    if t.data_type in _BITS16:
        bits = np.array(values, np.int32).view(np.uint32).astype(np.uint16).tobytes()
        return from_bytes(bits, t.data_type, dims)
    return np.array(values).astype(NP_DTYPES[t.data_type]).reshape(dims)


def attribute_value(a: Any) -> Any:
    """A node attribute as a Python value (``onnx.helper.get_attribute_value``)."""
    if a.ref_attr_name:
        raise ValueError(f"attribute {a.name!r} refers to a function's attribute")
    kinds = AttributeProto
    single = {kinds.FLOAT: "f", kinds.INT: "i", kinds.STRING: "s", kinds.TENSOR: "t",
              kinds.GRAPH: "g", kinds.SPARSE_TENSOR: "sparse_tensor", kinds.TYPE_PROTO: "tp"}
    many = {kinds.FLOATS: "floats", kinds.INTS: "ints", kinds.STRINGS: "strings",
            kinds.TENSORS: "tensors", kinds.GRAPHS: "graphs",
            kinds.SPARSE_TENSORS: "sparse_tensors", kinds.TYPE_PROTOS: "type_protos"}
    if a.type in single:
        return getattr(a, single[a.type])
    if a.type in many:
        return list(getattr(a, many[a.type]))
    if a.type == kinds.UNDEFINED:
        return None
    raise ValueError(f"attribute {a.name!r} has an unknown type {a.type}")
