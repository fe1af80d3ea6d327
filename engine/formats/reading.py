"""Which reader opens a network file, and the one rule for how a reader's refusal reads.

:func:`read_network` picks the reader by the file's suffix, imports it on first use
(h5py for Keras, ONNX's protobuf messages for ONNX), checks the size, and turns every
refusal — a :class:`~engine.formats.network.Refused`, an ``OSError``, a configuration
nested too deeply — into a one-line :class:`~engine.errors.ModelFileError` naming the
file. No library warning is printed while reading.
"""

from __future__ import annotations

import errno
import importlib
import warnings
from pathlib import Path

from engine.errors import ModelFileError
from engine.formats.network import ForeignNetwork, Refused, check_size, one_line

# File suffix → the module that reads it.
READERS = {
    ".keras": "engine.formats.keras",
    ".h5": "engine.formats.keras",
    ".hdf5": "engine.formats.keras",
    ".onnx": "engine.formats.onnx",
}
NETWORK_SUFFIXES = tuple(READERS)


def read_network(path: str | Path) -> ForeignNetwork:
    """The network in a Keras (``.keras``, ``.h5``, ``.hdf5``) or ONNX (``.onnx``) file.

    Raises :class:`~engine.errors.ModelFileError` — one line, naming the file and the
    reason — for a file that is missing, too big, truncated, not what its suffix says,
    holds code or layers ConvPad cannot rebuild, or weights that are unusable.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ModelFileError(one_line(
            f"{path}: ConvPad opens network files ending in {', '.join(NETWORK_SUFFIXES)}"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # h5py, onnx and torch warn about their own affairs
        try:
            reader = importlib.import_module(READERS[suffix])
        except ImportError as exc:  # h5py or onnx not installed
            raise ModelFileError(one_line(
                f"{path}: opening {suffix} files needs the {exc.name or 'missing'} package "
                f"(pip install {exc.name or 'h5py onnx'})")) from None
        try:
            check_size(path)
            return reader.read(path)
        except Refused as exc:
            raise ModelFileError(one_line(f"{path}: {exc}")) from None
        except RecursionError:
            raise ModelFileError(one_line(
                f"{path}: its configuration is nested too deeply to be a network")) from None
        except OSError as exc:
            raise ModelFileError(one_line(f"{path}: {_os_reason(exc)}")) from None


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a network file"
    if isinstance(exc, PermissionError):
        return "permission denied: ConvPad may not read it"
    return f"cannot be read ({exc.strerror or type(exc).__name__})"
