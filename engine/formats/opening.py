"""A Keras or ONNX file as a ConvPad model: its spec, and its network, read once.

:func:`network_spec` makes the :class:`~engine.spec.ModelSpec` that
:func:`engine.catalog.model_spec` returns for a network file, and :func:`load_network`
the module :func:`engine.load_model` wraps. Opening a file asks for both, one after
the other, so the network read for the spec is kept (:data:`KEPT` networks, keyed by
the file's resolved path, modification time and size, and those of any external data
file it read) and the second call takes a copy instead of reading the file again.

What the spec says of an opened network:

- ``name``: the file's absolute path, so ``load_model(spec.name)`` opens it again;
- ``classes``: the lines of a ``classes.txt`` beside the file, one name per output,
  else ``"0"``, ``"1"`` …;
- ``preprocessing``: ``"network"`` — centred, a drawing is cropped to its ink, scaled
  and centred by mass in the network's input size, ink 1 on 0, as MNIST digits are (the
  shipped models' recipe); as drawn, its pixels reach the network unchanged (÷ 255),
  averaged down only where the canvas is not the input's size: no contrast stretch;
- ``head``: from what the last layer gives (:data:`HEADS`). A last softmax gives
  probabilities, a log-softmax their logarithms, a dense layer logits (ConvPad adds the
  softmax); any other last activation (a sigmoid, a ReLU …) gives *scores*, which are
  not probabilities and are not made to look like them by a softmax: ConvPad shows
  each class's share of their sum (see :func:`engine.tracing.probabilities_from`).
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from pathlib import Path

from torch import nn

from engine.errors import ConvPadError, ModelFileError
from engine.formats.network import ForeignNetwork, one_line
from engine.formats.reading import read_network
from engine.spec import ModelSpec

CLASSES_FILE = "classes.txt"
# ModelSpec.architecture of an opened network → the format's name, as a title shows it.
NETWORK_FORMATS = {"keras": "Keras", "onnx": "ONNX"}
# ForeignNetwork.output → ModelSpec.head.
HEADS = {"probabilities": "softmax", "log-probabilities": "log-softmax", "logits": "logits",
         "scores": "scores"}
# Networks kept after a read (the spec's, until load_model takes a copy), and the most
# weight values they may hold together: a few networks of ConvPad's size, not several
# of the 512 MB files read_network accepts.
KEPT = 4
KEPT_VALUES = 64 * 2**20

_kept: OrderedDict[str, tuple[tuple, ForeignNetwork]] = OrderedDict()  # path → (stamps, net)
_lock = threading.Lock()


def network_spec(path: str | Path) -> ModelSpec:
    """The spec of the Keras or ONNX network in ``path`` (see the module docstring).

    Raises :class:`~engine.errors.ModelFileError` naming the file for a network
    ConvPad cannot open, one whose input is not square, one with fewer than two
    outputs, or a ``classes.txt`` beside it that is unreadable, names a class badly or
    names another number of classes than the network has outputs.
    """
    path = Path(path).expanduser()
    net = opened(path)
    _, h, w = net.input_shape
    if h != w:
        raise ModelFileError(f"{path}: the network takes {h}×{w} images; ConvPad draws "
                             "square ones")
    if net.n_outputs < 2:
        raise ModelFileError(f"{path}: the network has {net.n_outputs} output; ConvPad shows "
                             "networks that tell at least two classes apart")
    return ModelSpec(
        name=str(path.resolve()),
        title=f"{path.name} ({NETWORK_FORMATS[net.format]})",
        classes=_classes(path, net.n_outputs),
        input_shape=net.input_shape,
        architecture=net.format,
        preprocessing="network",
        head=HEADS[net.output],
    )


def load_network(spec: ModelSpec) -> nn.Module:
    """A fresh copy of the network of ``spec`` (from :func:`network_spec`): its
    children, called in order, are the network. Read again if the file changed; a file
    that now holds another input size or number of outputs than the spec is refused. A
    network of over a quarter of :data:`KEPT_VALUES` weights is not kept but handed over."""
    net = opened(spec.name)
    if net.input_shape != spec.input_shape or net.n_outputs != len(spec.classes):
        raise ModelFileError(f"{spec.name}: the file changed since it was opened (it now "
                             f"takes {net.input_shape} and gives {net.n_outputs} outputs); "
                             "open it again")
    if net.summary.get("parameters", 0) > KEPT_VALUES // 4:  # a big one: hand it over
        with _lock:
            if _kept.get(spec.name, (None, None))[1] is net:
                del _kept[spec.name]
        return net.module
    return copy.deepcopy(net.module)


def network_summary(spec: ModelSpec) -> dict:
    """What the file says of the network of ``spec``: format, version, layers, what was
    left out … (:attr:`ForeignNetwork.summary`), as plain data for a model's card."""
    return copy.deepcopy(opened(spec.name).summary)


def opened(path: str | Path) -> ForeignNetwork:
    """:func:`~engine.formats.read_network` of ``path``, or the network read from it
    last if neither the file nor its external data has changed since."""
    path = Path(path).expanduser()
    try:
        where = path.resolve()
        before = _stamp([where])
    except (OSError, RuntimeError):  # read_network names what is wrong with it
        return read_network(path)
    key = str(where)
    with _lock:
        hit = _kept.get(key)
    if hit is not None and _unchanged(where, *hit):
        return hit[1]
    net = read_network(path)
    try:
        stamps = (_stamp([where]), _stamp(_external(where, net)))
    except OSError:
        return net
    if stamps[0] != before:  # replaced while it was read: use it, but do not keep it
        return net
    with _lock:
        _kept[key] = (stamps, net)
        _kept.move_to_end(key)
        while len(_kept) > 1 and (len(_kept) > KEPT or sum(
                kept.summary.get("parameters", 0) for _, kept in _kept.values()) > KEPT_VALUES):
            _kept.popitem(last=False)
    return net


def forget() -> None:
    """Drop every kept network: the next open reads its file (benchmarks, tests)."""
    with _lock:
        _kept.clear()


def _external(where: Path, net: ForeignNetwork) -> list[Path]:
    """The external data files ``net`` was read from (ONNX's ``NAME.onnx.data``)."""
    return [where.parent / name for name in net.summary.get("external_data", [])]


def _stamp(files: list[Path]) -> tuple:
    return tuple((s.st_mtime_ns, s.st_size, s.st_ino) for s in (f.stat() for f in files))


def _unchanged(where: Path, stamps: tuple, net: ForeignNetwork) -> bool:
    try:
        return stamps == (_stamp([where]), _stamp(_external(where, net)))
    except OSError:
        return False


def _classes(path: Path, n: int) -> tuple[str, ...]:
    """The class names in ``classes.txt`` beside ``path``, else "0" … "n−1"."""
    from engine.storage.class_lists import read_class_list

    listing = path.parent / CLASSES_FILE
    if not listing.exists():
        return tuple(str(i) for i in range(n))
    try:
        return read_class_list(listing, n, "the network has")
    except ConvPadError as exc:
        raise ModelFileError(one_line(f"{path}: {exc}")) from None
