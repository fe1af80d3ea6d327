"""Keras networks: ``.keras`` archives (Keras 3) and ``.h5`` files (Keras 2 or 3).

The architecture comes from the file's JSON config — ``config.json`` in a ``.keras``
zip, the ``model_config`` attribute of an ``.h5`` file — and is rebuilt layer by layer
from :data:`~engine.formats.keras_layers.CONVERTERS`; Keras itself is never imported and
nothing in the file is run. Weights are read with h5py:

- ``.h5`` (Keras 2 and 3): ``model_weights/<layer>`` lists its arrays in the
  ``weight_names`` attribute (``conv2d/kernel:0`` in Keras 2, ``sequential/conv2d/kernel``
  in Keras 3), paths relative to that group;
- ``.keras``: ``model.weights.h5`` holds ``layers/<path>/vars/0, 1 …`` in the layer's
  variable order; the ``vars`` group's ``name`` attribute names the layer.

Optimizer state is never read. Only hard links inside the file are followed: an
HDF5 external link, external storage or virtual dataset would read another file.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from engine.formats import hdf5_check
from engine.formats.keras_layers import CONVERTERS, LEFT_OUT, KerasLayer
from engine.formats.keras_model import chain_of_layers, input_shape_of
from engine.formats.network import (
    Builder,
    ForeignNetwork,
    Refused,
    image_input,
    one_line,
    shown,
)

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
# No member of a .keras archive may be over this, uncompressed (issue #21: 4 million
# weights, three times the lecture's network), nor inflate more than MAX_RATIO times (a
# zip bomb does). Keras stores its members uncompressed.
MAX_MEMBER = 16 * 2**20
MAX_RATIO = 100
MAX_CONFIG_BYTES = 16 * 2**20

# Layers that only change values one by one (or leave them alone): the only ones that
# may act on a channel-less (H, W) Keras image, whose last axis is a width, not channels.
ELEMENTWISE = {"Activation", "ReLU", "LeakyReLU", "Flatten", "Reshape"} | LEFT_OUT


def read(path: Path) -> ForeignNetwork:
    """The Keras network in ``path`` (``.keras`` archive or ``.h5`` file)."""
    with open(path, "rb") as f:
        head = f.read(8)
    if path.suffix.lower() == ".keras":
        if head.startswith(HDF5_MAGIC):
            raise Refused("is an HDF5 file, not a .keras archive: rename it to .h5")
        if not head.startswith(ZIP_MAGIC):
            raise Refused("is not a .keras archive (no zip header): truncated or another "
                          "kind of file")
        return _read_archive(path)
    if head.startswith(ZIP_MAGIC):
        raise Refused("is a zip archive (a .keras file?), not HDF5: rename it to .keras")
    if not head.startswith(HDF5_MAGIC):
        raise Refused("is not an HDF5 file: truncated or another kind of file")
    data = path.read_bytes()  # once: the child's check and the reading see the same bytes
    with _open_h5(data) as h5, _damaged_hdf5():
        config = _json(_attr_text(h5, "model_config"), "model_config attribute")
        if config is None:
            raise Refused("holds weights only (no model_config): save the whole model with "
                          "model.save(), not save_weights()")
        about = {"keras_version": _attr_text(h5, "keras_version"),
                 "backend": _attr_text(h5, "backend")}
        store = _LegacyWeights(_child(h5, "model_weights", "the model_weights group"))
        return _build(path, config, store, about)


def _read_archive(path: Path) -> ForeignNetwork:
    try:
        with zipfile.ZipFile(path) as z:
            members = {info.filename: info for info in z.infolist()}
            for info in members.values():
                _check_member(info)
            if "config.json" not in members:
                raise Refused("is a zip archive without config.json: not a Keras 3 model")
            config = _json(_member(z, members["config.json"], MAX_CONFIG_BYTES), "config.json")
            about: dict[str, Any] = {}
            if "metadata.json" in members:
                meta = _json(_member(z, members["metadata.json"], MAX_CONFIG_BYTES),
                             "metadata.json")
                if isinstance(meta, dict):
                    about["keras_version"] = meta.get("keras_version")
            if "model.weights.h5" not in members:
                raise Refused("has no model.weights.h5: ConvPad reads single-file Keras 3 "
                              "archives (model.save('name.keras'))")
            weights = _member(z, members["model.weights.h5"], members["model.weights.h5"]
                              .file_size)
    except zipfile.BadZipFile as exc:
        raise Refused(f"is a damaged zip archive ({exc})") from None
    if not weights.startswith(HDF5_MAGIC):
        raise Refused("holds a model.weights.h5 that is not HDF5")
    with _open_h5(weights) as h5, _damaged_hdf5():
        return _build(path, config, _ArchiveWeights(h5), about)


@contextmanager
def _damaged_hdf5() -> Iterator[None]:
    """Any error raised inside h5py while reading an opened file, as a refusal: on a
    damaged file h5py raises OSError, KeyError, TypeError, UnicodeDecodeError,
    OverflowError … Errors raised by ConvPad's own code still surface as bugs."""
    try:
        yield
    except Exception as exc:
        if not _raised_by_h5py(exc):
            raise
        raise Refused(f"is damaged: HDF5 cannot read it ({type(exc).__name__}: "
                      f"{one_line(exc)[:120]})") from None


def _raised_by_h5py(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and "h5py" in Path(tb.tb_frame.f_code.co_filename).parts


def _check_member(info: zipfile.ZipInfo) -> None:
    if info.file_size > MAX_MEMBER:
        verb = "is" if info.compress_type == zipfile.ZIP_STORED else "inflates to"
        raise Refused(f"archive member {shown(info.filename)} {verb} "
                      f"{info.file_size / 2**20:,.0f} MB; ConvPad reads members of up to "
                      f"{MAX_MEMBER // 2**20} MB")
    if info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise Refused(f"archive member {shown(info.filename)} is compressed "
                      f"{info.file_size / max(info.compress_size, 1):,.0f}:1, like a zip bomb; "
                      f"ConvPad refuses more than {MAX_RATIO}:1")


def _member(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise Refused(f"archive member {shown(info.filename)} is {info.file_size:,} bytes, "
                      f"over {limit:,}")
    try:
        with z.open(info) as f:
            data = f.read(limit + 1)
    except (RuntimeError, NotImplementedError, EOFError, OSError, zipfile.BadZipFile,
            ValueError) as exc:
        raise Refused(f"archive member {shown(info.filename)} cannot be read "
                      f"({type(exc).__name__}: {exc})") from None
    if len(data) > limit:
        raise Refused(f"archive member {shown(info.filename)} is longer than it says")
    return data


def _open_h5(data: bytes) -> h5py.File:
    """The HDF5 file in ``data``, once a child process has read it all without the HDF5
    library crashing or hanging (see :mod:`engine.formats.hdf5_check`)."""
    crash = hdf5_check.check(data)
    if crash:
        raise Refused(crash)
    try:
        return h5py.File(io.BytesIO(data), "r", locking=False)
    except Exception as exc:
        if not isinstance(exc, OSError | ValueError) and not _raised_by_h5py(exc):
            raise
        reason = re.search(r"\((.*?)\)", str(exc))
        raise Refused("is truncated or damaged: HDF5 cannot open it"
                      + (f" ({reason.group(1)})" if reason else "")) from None


def _json(text: str | bytes | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except RecursionError:
        raise Refused(f"its {what} is nested too deeply to be a network") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(f"its {what} is not valid JSON ({exc})") from None


def _attr_text(obj: h5py.HLObject, name: str) -> str | None:
    try:
        value = obj.attrs.get(name)
    except (OSError, KeyError, TypeError, ValueError):
        raise Refused(f"its {name} attribute cannot be read: the file is damaged") from None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def _attr_strings(group: h5py.Group, name: str) -> list[str]:
    """A list-of-strings attribute, also split into ``name0``, ``name1`` … as Keras 2
    does for attributes over 64 KB."""
    if name in group.attrs:
        chunks = [name]
    else:
        chunks = []
        while f"{name}{len(chunks)}" in group.attrs:
            chunks.append(f"{name}{len(chunks)}")
    values: list[str] = []
    for chunk in chunks:
        for v in np.atleast_1d(group.attrs[chunk]):
            values.append(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
    return values


def _child(group: h5py.Group, name: str, what: str) -> h5py.Group | h5py.Dataset:
    """``group/name`` along hard links only (a link elsewhere would read another file)."""
    obj = group
    for part in name.split("/"):
        if not part:
            continue
        link = obj.get(part, getlink=True) if isinstance(obj, h5py.Group) else None
        if link is None:
            raise Refused(f"{what} is missing from the file")
        if not isinstance(link, h5py.HardLink):
            raise Refused(f"{what} is a link to another place ({type(link).__name__}); "
                          "ConvPad reads only what is inside the file")
        try:
            obj = obj[part]
        except (KeyError, OSError, ValueError):
            raise Refused(f"{what} cannot be read: the file is damaged") from None
    return obj


def _dataset(group: h5py.Group, name: str, what: str) -> h5py.Dataset:
    ds = _child(group, name, what)
    if not isinstance(ds, h5py.Dataset):
        raise Refused(f"{what} is not an array")
    if ds.external or ds.is_virtual:
        raise Refused(f"{what} keeps its values in another file; ConvPad reads only what "
                      "is inside the file")
    if ds.dtype.kind != "f":
        raise Refused(f"{what} holds {ds.dtype} values, not floating-point weights")
    return ds


def _by_role(layer: KerasLayer, found: list[tuple[str, Any]], roles: list[str]) -> list[Any]:
    """The arrays for ``roles``, matched by name where the file names them, else in order."""
    named = {role: a for role, a in found}
    if all(role in named for role in roles) and len(found) == len(roles):
        return [named[role] for role in roles]
    if len(found) != len(roles):
        raise Refused(f"layer {shown(layer.name)} has {len(found)} weight array(s) in the "
                      f"file, but its config needs {len(roles)} ({', '.join(roles)})")
    return [a for _, a in found]


class _LegacyWeights:
    """``.h5`` files: ``model_weights/<layer>`` and its ``weight_names`` attribute."""

    def __init__(self, root: h5py.Group):
        self.root = root

    def arrays(self, layer: KerasLayer, roles: list[str]) -> list[Any]:
        group = _child(self.root, layer.name, f"the weights of layer {shown(layer.name)}")
        found = []
        for name in _attr_strings(group, "weight_names"):
            role = name.rsplit("/", 1)[-1].split(":")[0]
            what = f"layer {shown(layer.name)}: weight {shown(name)}"
            found.append((role, _dataset(group, name, what)))
        return _by_role(layer, found, roles)


class _ArchiveWeights:
    """``.keras`` archives: ``layers/<path>/vars/<i>``, the path found by the vars'
    ``name`` attribute, else as Keras writes it (the class in snake case, ``_1``, ``_2``
    … for repeats, in the model's layer order)."""

    def __init__(self, h5: h5py.File):
        self.layers = _child(h5, "layers", "the layers group of model.weights.h5")
        self.by_name: dict[str, str] = {}
        for key in self.layers:
            link = self.layers.get(key, getlink=True)
            if isinstance(link, h5py.HardLink) and isinstance(self.layers[key], h5py.Group):
                vars_ = self.layers[key].get("vars")
                name = vars_.attrs.get("name") if isinstance(vars_, h5py.Group) else None
                if isinstance(name, bytes):
                    name = name.decode("utf-8", "replace")
                if isinstance(name, str):
                    self.by_name.setdefault(name, key)
        self.paths: dict[str, str] = {}

    def place(self, layers: list[KerasLayer]) -> None:
        """Work out Keras's own path of each layer, in the container's order."""
        used: dict[str, int] = {}
        for layer in layers:
            snake = re.sub(r"\W+", "", layer.class_name)
            snake = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", snake)
            snake = re.sub("([a-z])([A-Z])", r"\1_\2", snake).lower()
            n = used.get(snake)
            used[snake] = 0 if n is None else n + 1
            self.paths[layer.name] = snake if n is None else f"{snake}_{n + 1}"

    def arrays(self, layer: KerasLayer, roles: list[str]) -> list[Any]:
        key = self.by_name.get(layer.name, self.paths.get(layer.name, layer.name))
        what = f"the weights of layer {shown(layer.name)}"
        vars_ = _child(self.layers, f"{key}/vars", what)
        count = len(vars_)
        found = [(str(i), _dataset(vars_, str(i), f"{what} (vars/{i})")) for i in range(count)]
        return _by_role(layer, found, roles)


def _build(path: Path, config: Any, store: Any, about: dict[str, Any]) -> ForeignNetwork:
    try:
        layers, container, kind = chain_of_layers(config)
        shape = input_shape_of(config, layers)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise Refused(f"its model config is malformed ({type(exc).__name__}: {exc})") from None
    if isinstance(store, _ArchiveWeights):
        store.place(container)
    b = Builder(image_input(shape, "hwc"))
    channelless = len(shape) == 2
    for layer in layers:
        if layer.class_name == "InputLayer":
            continue
        if channelless and layer.class_name not in ELEMENTWISE:
            raise Refused(f"layer {shown(layer.name)} ({layer.class_name}) works on an (H, W) "
                          "image without a channel axis; ConvPad reads (H, W, 1) inputs")
        if layer.class_name in LEFT_OUT:
            b.leave_out(layer.name, layer.class_name)
            continue
        convert = CONVERTERS[layer.class_name]
        try:
            convert(b, layer, lambda roles, layer=layer: store.arrays(layer, roles))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise Refused(f"layer {shown(layer.name)} ({layer.class_name}) has a malformed "
                          f"config ({type(exc).__name__}: {exc})") from None
        if layer.class_name in ("Flatten", "Reshape"):
            channelless = len(layer.config.get("target_shape", ())) == 2
    about = {**about, "model": kind, "name": str(_config_of(config).get("name", ""))}
    return b.finish(path, "keras", {k: v for k, v in about.items() if v is not None})


def _config_of(config: Any) -> dict[str, Any]:
    inner = config.get("config") if isinstance(config, dict) else None
    return inner if isinstance(inner, dict) else {}
