"""Keras and ONNX network files, rebuilt as torch modules ConvPad can trace.

Public API::

    from engine.formats import read_network, NETWORK_SUFFIXES
    net = read_network("mnist.keras")   # or .h5 / .hdf5 / .onnx
    net.module       # nn.Sequential: its children, in order, are the network
    net.kinds        # one kind per child: "conv", "relu", "pool", "dense", "softmax" …
    net.input_shape  # (1, H, W)
    net.output       # "probabilities" | "log-probabilities" | "logits" | "scores"

    spec = network_spec("mnist.onnx")  # a ModelSpec: classes from classes.txt beside it
    module = load_network(spec)        # a copy of its nn.Sequential: one read for both

Nothing from a file is ever run: the architecture is read from the file's JSON
configuration (Keras) or graph (ONNX) and rebuilt from a fixed table of layers; a
Lambda layer, a custom layer or an unknown operator is refused by name. Weights are
read with h5py / zipfile / ONNX's protobuf messages and checked (shape, NaN, size).
Dropout and other layers that are the identity at inference are left out
(``summary["left_out"]``).

Every refusal is a :class:`~engine.errors.ModelFileError` with a one-line message
naming the file and the reason; no library warning is printed while reading. Files
over :data:`MAX_FILE_BYTES` (512 MB) are refused by size before anything is read, and
an HDF5 file is first read whole by a child process (:mod:`engine.formats.hdf5_check`),
since the HDF5 library can crash or hang on a damaged one.

Importing this package imports neither h5py nor onnx: each reader loads on first use
(and the ONNX reader never imports the ``onnx`` package itself, only its protobuf
messages: :mod:`engine.formats.onnx_proto`).
"""

from __future__ import annotations

from engine.formats.network import MAX_FILE_BYTES, ForeignNetwork
from engine.formats.opening import (
    CLASSES_FILE,
    NETWORK_FORMATS,
    load_network,
    network_spec,
    network_summary,
)
from engine.formats.reading import NETWORK_SUFFIXES, read_network

__all__ = ["CLASSES_FILE", "MAX_FILE_BYTES", "NETWORK_FORMATS", "NETWORK_SUFFIXES",
           "ForeignNetwork", "load_network", "network_spec", "network_summary", "read_network"]
