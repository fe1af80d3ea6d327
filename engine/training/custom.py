"""Teach a new model from a few drawings: the classroom's own classes, trained in seconds.

:func:`train_model` takes raw drawings (any size, ink 1 on 0) and their labels and
returns an ordinary :class:`engine.Model` — ``classes``, ``predict``, ``trace``, ``save``
— so everything that shows a shipped model shows this one. The network is the shipped
``xo``/``digits`` family (:class:`engine.architectures.ConvNet`) at widths sized to the
number of classes (:func:`config_for`), and it differs from the shipped ones only by
its spec. It trains in the one loop (:func:`engine.training.loop.fit`).

What makes a few dozen drawings enough:

- every drawing goes through the canvas' own preprocessing (``Model.preprocess``), so
  the network learns on exactly what it will see live;
- each epoch shows every drawing several times, each a fresh random deformation
  (:func:`engine.training.augment.augment`, the recipe the shipped models trained with);
- conv1 (and conv2) start from a trained network's learned filters (transfer learning,
  by default the shipped ``digits``): stroke and edge detectors are already there on
  epoch 0. ``transfer=False`` starts from random weights.

Part of the drawings (a fifth of each class, at least one) is held out: it is never
trained on, and the checkpoint kept is the one that does best on it.
"""

from __future__ import annotations

import copy
import math
import platform
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.architectures import ConvNetConfig, build_module
from engine.devices import resolve_device
from engine.errors import ConvPadError, LimitError
from engine.model import Model
from engine.spec import ModelSpec, check_classes
from engine.training.loop import Settings, fit

HELD_OUT = 0.2  # share of each class kept aside to pick the best epoch
EPOCH_VIEWS = 256  # an epoch shows at least this many augmented views (few-shot sets)
TARGET_VIEWS = 4096  # epochs=None: about this many views in all, within EPOCHS_RANGE
EPOCHS_RANGE = (4, 24)
MAX_EPOCHS = 1000
MAX_CLASSES = 10
BATCH = 32
LR = 3e-3
TRANSFER_FROM = "digits"
# Batches of 32 28×28 images are too small to share between cores: on this project's
# shared 2-core machine one thread took 37 ms a step, two took 1.1 s (they wait for each
# other whenever another process holds a core), and one leaves a core to the GUI.
THREADS = 1

Progress = Callable[[int, dict[str, Any]], None]


def config_for(n_classes: int) -> dict[str, int]:
    """The widths for ``n_classes`` classes: ``xo``'s 8/16/64 for two, growing with each.

    Two classes of bold strokes need little capacity (the shipped ``xo`` proves it);
    every further class adds two first-layer filters, four second-layer ones and 16
    dense units, so ten classes get 24/48/192 — still small enough to train in seconds
    and to read as mosaics on a projector.
    """
    extra = max(0, n_classes - 2)
    return {"conv1": 8 + 2 * extra, "conv2": 16 + 4 * extra, "dense": 64 + 16 * extra,
            "classes": n_classes}


def user_spec(classes: Sequence[str], title: str | None = None,
              widths: dict[str, int] | None = None) -> ModelSpec:
    """The spec of a model taught ``classes``: the conv family at :func:`config_for` widths
    (or ``widths``: any of ``conv1``, ``conv2``, ``dense``, checked before anything is built)."""
    classes = tuple(classes)
    title = title or "my " + "/".join(classes)
    config = config_for(len(classes))
    if widths:
        unknown = sorted(set(widths) - {"conv1", "conv2", "dense"})
        if unknown:
            raise ConvPadError(f"widths: unknown layer(s) {unknown}; use conv1, conv2, dense")
        config |= dict(widths)
    ConvNetConfig(**config)  # refuses absurd widths with the parameter's name
    return ModelSpec(name=title, title=title, classes=classes, input_shape=(1, 28, 28),
                     architecture="convnet", preprocessing="mnist", head="softmax",
                     config=config)


def check_data(labels: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Per-class sample counts; ``ConvPadError`` naming what is missing when training
    can't start. A model needs 2–10 classes named by the one rule for class names
    (:func:`engine.spec.check_classes`), each with at least two drawings (one to train
    on, one held out to check it)."""
    classes = list(classes)
    if len(classes) < 2:
        only = f" ({classes[0]!r})" if classes else ""
        raise ConvPadError(f"only {len(classes)} class{only}: teach at least two classes")
    classes = list(check_classes(classes))
    if len(classes) > MAX_CLASSES:
        raise ConvPadError(f"{len(classes)} classes: a model learns at most {MAX_CLASSES}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or (len(labels) and not np.issubdtype(labels.dtype, np.integer)):
        raise ConvPadError(f"labels must be a 1-D array of class indices, got {labels.dtype} "
                           f"{labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ConvPadError(f"labels must index the {len(classes)} classes {classes}")
    counts = np.bincount(labels.astype(np.int64), minlength=len(classes))
    short = [f"{c!r} has {n}" for c, n in zip(classes, counts) if n < 2]
    if short:
        raise ConvPadError(
            f"not enough drawings: class {', class '.join(short)}; each class needs at "
            "least 2 (one to learn from, one held out to check it)")
    return counts


def _split(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held out): ``HELD_OUT`` of each class, at least one, never all."""
    train, held = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        k = min(len(idx) - 1, max(1, round(HELD_OUT * len(idx))))
        held.append(idx[:k])
        train.append(idx[k:])
    return np.concatenate(train), np.concatenate(held)


def _spread(w: torch.Tensor, k: int) -> list[int]:
    """``k`` of the filters ``w`` (out, …), as unlike each other as possible.

    Greedy farthest point on the normalised filters, from the strongest one: a subset
    that keeps the variety of the source network's edge and stroke detectors.
    """
    flat = w.reshape(len(w), -1)
    unit = flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-8)
    chosen = [int(flat.norm(dim=1).argmax())]
    while len(chosen) < min(k, len(w)):
        likeness = (unit @ unit[chosen].T).abs().max(dim=1).values
        likeness[chosen] = math.inf
        chosen.append(int(likeness.argmin()))
    return chosen


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    return [c for c in module.children() if isinstance(c, nn.Conv2d)]


def transfer_filters(module: nn.Module, source: str | Model = TRANSFER_FROM) -> str:
    """Start ``module``'s first two conv layers from ``source``'s; returns what was done.

    ``source`` is a model (any ConvPad can open: shipped, saved, an opened network
    file) or its name. When it is wider, a varied subset of its filters is taken
    (:func:`_spread`), and the second layer keeps only the kernels that read the maps
    kept. Layers whose shapes cannot be matched keep their random start; nothing
    changes when the source cannot be loaded.
    """
    try:
        src = source if isinstance(source, Model) else _load_source(source)
    except ConvPadError as exc:  # a missing or broken file: train from scratch, say so
        return f"none ({source} unusable: {exc})"
    name = src.title
    ours, theirs = _convs(module), _convs(src.module)
    done = []
    with torch.no_grad():
        if not ours or not theirs or theirs[0].weight.shape[1:] != ours[0].weight.shape[1:]:
            return "none (no matching first conv layer)"
        w1 = theirs[0].weight.detach().cpu()
        keep1 = _spread(w1, ours[0].out_channels)
        if len(keep1) < ours[0].out_channels:
            return "none (the source has fewer first-layer filters)"
        ours[0].weight.copy_(w1[keep1])
        if ours[0].bias is not None and theirs[0].bias is not None:
            ours[0].bias.copy_(theirs[0].bias.detach().cpu()[keep1])
        done.append(f"conv1 ({len(keep1)} of {len(w1)} filters)")
        if len(ours) > 1 and len(theirs) > 1 and (
                theirs[1].weight.shape[2:] == ours[1].weight.shape[2:]
                and theirs[1].weight.shape[1] == len(w1)):
            w2 = theirs[1].weight.detach().cpu()[:, keep1]
            keep2 = _spread(w2, ours[1].out_channels)
            if len(keep2) == ours[1].out_channels:
                ours[1].weight.copy_(w2[keep2])
                if ours[1].bias is not None and theirs[1].bias is not None:
                    ours[1].bias.copy_(theirs[1].bias.detach().cpu()[keep2])
                done.append(f"conv2 ({len(keep2)} of {len(w2)} filters)")
    return f"{' and '.join(done)} from {name}"


def _load_source(name: str) -> Model:
    from engine.model import load_model

    return load_model(name, device="cpu")


def _epochs_for(per_epoch: int) -> int:
    lo, hi = EPOCHS_RANGE
    return int(np.clip(math.ceil(TARGET_VIEWS / per_epoch), lo, hi))


def train_model(
    images: np.ndarray | Sequence[np.ndarray],
    labels: np.ndarray | Sequence[int],
    classes: Sequence[str],
    epochs: int | None = None,
    device: str = "auto",
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    *,
    transfer: bool | str | Model = True,
    seed: int = 0,
    lr: float = LR,
    data_name: str = "",
    title: str | None = None,
    threads: int | None = THREADS,
    widths: dict[str, int] | None = None,
) -> Model:
    """Train a new model on ``images`` (N drawings, ink 1 on 0, any size) labelled ``labels``.

    ``epochs=None`` picks a number for the data size (few-shot sets get more). After
    each epoch — and once before the first, for the starting weights, as epoch 0 —
    ``progress(epoch, metrics)`` gets ``epochs``, ``loss``/``accuracy`` on the training
    views, ``held_out_loss``/``held_out_accuracy``, ``best_epoch``, ``seconds`` and
    ``model``, a CPU :class:`Model` of that epoch's weights (for a live view or a
    checkpoint slider). Setting ``stop`` ends training within one step (milliseconds).

    Returns the checkpoint that did best on the held-out drawings (ties: lower loss).
    A loss that becomes NaN or infinite stops training; ``model.stopped`` then says so
    (it is ``""`` after a full run, or why it ended early), and the best weights before
    it are kept. Raises :class:`~engine.errors.ConvPadError` naming the class that needs
    more drawings, and :class:`~engine.errors.LimitError` naming a width or an epoch
    count out of range, before anything is allocated.

    ``transfer``: True starts conv1/conv2 from the shipped digits network, a model (or
    a model's name or path) from that one, False from random weights. ``threads`` caps
    torch's CPU threads for this call, in the calling thread only (``None``: torch's
    default). ``widths`` overrides :func:`config_for` (``conv1``, ``conv2``, ``dense``).
    """
    labels = np.asarray(labels)
    counts = check_data(labels, classes)
    if len(images) != len(labels):
        raise ConvPadError(f"{len(images)} images but {len(labels)} labels")
    if epochs is not None and not 0 <= epochs <= MAX_EPOCHS:
        raise LimitError(f"epochs must be 0 to {MAX_EPOCHS}, got {epochs}")
    spec = user_spec(classes, title, widths)
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)  # per calling thread: the GUI thread keeps its own
    try:
        return _train(spec, images, labels, counts, epochs, device, progress, stop,
                      transfer, seed, lr, data_name)
    finally:
        torch.set_num_threads(previous)


def _train(spec: ModelSpec, images, labels, counts, epochs, device, progress, stop,
           transfer, seed, lr, data_name) -> Model:
    dev = resolve_device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_module(spec)
    if transfer is False:
        how = "none (random start)"
    else:
        how = transfer_filters(net, TRANSFER_FROM if transfer is True else transfer)
    # The canvas' preprocessing, through the same Model method the live view calls.
    reader = Model(spec, net, torch.device("cpu"))
    x_all = np.stack([reader.preprocess(np.asarray(im), invert=False) for im in images])
    train_idx, held_idx = _split(labels, rng)

    def tensor(a: np.ndarray, kind=torch.float32) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(dev, kind)

    x, y = tensor(x_all[train_idx]), tensor(labels[train_idx], torch.int64)
    held = (tensor(x_all[held_idx]), tensor(labels[held_idx], torch.int64))
    repeats = math.ceil(EPOCH_VIEWS / len(x))
    pool = torch.arange(len(x)).repeat(repeats)
    epochs = _epochs_for(len(pool)) if epochs is None else epochs
    settings = Settings(epochs=epochs, batch=BATCH, lr=lr, warmup=0.15)

    def on_epoch(epoch: int, metrics: dict[str, Any]) -> None:
        if progress is not None:
            snapshot = copy.deepcopy(net).to("cpu", memory_format=torch.contiguous_format)
            metrics["model"] = Model(spec, snapshot, torch.device("cpu"))
            progress(epoch, metrics)

    fitted = fit(net, x, y, pool, settings, gen, held_out=held, on_epoch=on_epoch, stop=stop)
    model = Model(spec, net, dev)
    model.stopped, model.history = fitted.stopped, fitted.history
    model.card = {
        "title": spec.title,
        "data": {"name": data_name, "size": len(labels),
                 "per_class": {c: int(n) for c, n in zip(spec.classes, counts)},
                 "held_out": len(held_idx)},
        "epochs": len(fitted.history) - 1,
        "best_epoch": fitted.best_epoch,
        "held_out": {"n": len(held_idx), "accuracy": round(fitted.best[0], 4),
                     "loss": round(fitted.best[1], 4)},
        "transfer": how,
        "augmentation": settings.augment.describe(),
        "train_seconds": round(fitted.history[-1]["seconds"], 2) if fitted.history else 0.0,
        "stopped": fitted.stopped,
        "device": str(dev),
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "history": [{k: round(v, 4) if isinstance(v, float) else v for k, v in h.items()
                     if k != "epochs"} for h in fitted.history],
    }
    return model


# The few-shot task of the benchmark and the tests: (stroke kind, label) per class.
EXAMPLE_CLASSES: dict[str, tuple[str, int]] = {
    "X": ("xo", 0), "O": ("xo", 1), "4": ("digits", 4), "7": ("digits", 7),
}


def example_drawings(per_class: int, seed: int, classes: Sequence[str] = tuple(EXAMPLE_CLASSES)
                     ) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """``per_class`` synthetic drawings of each of ``classes`` (X, O, 4, 7 by default).

    Drawn by :mod:`engine.training.strokes` (the hand that made the shipped models'
    training strokes), each class from its own stream of ``seed``, in random order: raw
    canvases of varying size, ink 1 on 0. Returns (drawings, labels, classes).
    """
    from engine.training import strokes

    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(len(classes)), per_class))
    streams = [np.random.default_rng([seed, k]) for k in range(len(classes))]
    images = []
    for y in labels:
        kind, label = EXAMPLE_CLASSES[classes[y]]
        hand = streams[y]
        images.append(strokes.render(strokes.STROKE_KINDS[kind].strokes(label, hand), hand,
                                     kind))
    return images, labels.astype(np.int64), list(classes)
