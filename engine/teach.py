"""Teach a new model from a few drawings: the classroom's own classes, trained in seconds.

:func:`train_model` takes raw drawings (any size, ink 1 on 0) and their labels and
returns an ordinary :class:`engine.Model` — ``classes``, ``predict``, ``trace``, ``save``
— so everything that shows a shipped model shows this one. The network is the shipped
``xo``/``digits`` family (:class:`engine.models.ConvNet`) at widths sized to the number
of classes (:func:`config_for`), and it differs from the shipped ones only by its spec.

What makes a few dozen drawings enough:

- every drawing goes through the canvas' own preprocessing (``Model.preprocess``), so
  the network learns on exactly what it will see live;
- each epoch shows every drawing several times, each a fresh random deformation
  (:func:`engine.training._augment`, the recipe the shipped models trained with);
- conv1 (and conv2) start from the shipped ``digits`` network's learned filters
  (transfer learning): stroke and edge detectors are already there on epoch 0, and the
  stage can show which of them moved. ``transfer=False`` starts from random weights.

Part of the drawings (a fifth of each class, at least one) is held out: it is never
trained on, and the checkpoint kept is the one that does best on it.
:func:`save_model` writes the result as safetensors plus a JSON card
(:mod:`engine.cards`), atomically.
"""

from __future__ import annotations

import copy
import math
import os
import platform
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.cards import (
    CARD_FILE,
    CARD_FORMAT,
    CARD_VERSION,
    MAX_CLASSES,
    read_card_strict,
    sha256_file,
    spec_from_card,
)
from engine.devices import resolve_device
from engine.files import (
    WriteError,
    discard,
    fsync_dir,
    fsync_file,
    remove_stale,
    temp_path,
    why,
)
from engine.model import Model, build_module
from engine.registry import ModelSpec, Recipe, model_spec
from engine.training import _augment, optimise
from engine.weights import save_weights, write_card

# Shown on every card: what the epochs did to each drawing.
AUGMENTATION = "random rotation ±11°, shear, scale 0.9-1.1, shift, elastic wobble (per view)"
HELD_OUT = 0.2  # share of each class kept aside to pick the best epoch
EPOCH_VIEWS = 256  # an epoch shows at least this many augmented views (few-shot sets)
TARGET_VIEWS = 4096  # epochs=None: about this many views in all, within EPOCHS_RANGE
EPOCHS_RANGE = (4, 24)
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
    return {
        "conv1": 8 + 2 * extra,
        "conv2": 16 + 4 * extra,
        "dense": 64 + 16 * extra,
        "classes": n_classes,
    }


def user_spec(classes: Sequence[str], title: str | None = None) -> ModelSpec:
    """The spec of a model taught ``classes``: the conv family at :func:`config_for` widths."""
    classes = tuple(classes)
    title = title or "my " + "/".join(classes)
    return ModelSpec(
        name=title,
        title=title,
        classes=classes,
        input_shape=(1, 28, 28),
        architecture="convnet",
        preprocessing="mnist",  # the canvas' crop, scale and centre, as the shipped models
        head="softmax",
        recipe=Recipe(stroke_kind=""),  # made from the user's data set, not a recipe
        config=config_for(len(classes)),
    )


def check_data(labels: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Per-class sample counts; ``ValueError`` naming what is missing when training can't start.

    A model needs at least two classes, each with at least two drawings (one to train
    on, one held out to check it).
    """
    classes = list(classes)
    if len(classes) < 2:
        only = f" ({classes[0]!r})" if classes else ""
        raise ValueError(f"only {len(classes)} class{only}: teach at least two classes")
    if len(classes) > MAX_CLASSES:
        raise ValueError(f"{len(classes)} classes: a model learns at most {MAX_CLASSES}")
    if len(set(classes)) != len(classes) or not all(isinstance(c, str) and c for c in classes):
        raise ValueError(f"classes {classes!r} must be distinct, non-empty names")
    labels = np.asarray(labels)
    if labels.ndim != 1 or (len(labels) and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f"labels must be a 1-D array of class indices, got {labels.dtype} "
                         f"{labels.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
        raise ValueError(f"labels must index the {len(classes)} classes {classes}")
    counts = np.bincount(labels.astype(np.int64), minlength=len(classes))
    short = [f"{c!r} has {n}" for c, n in zip(classes, counts) if n < 2]
    if short:
        raise ValueError(
            f"not enough drawings: class {', class '.join(short)}; each class needs at "
            "least 2 (one to learn from, one held out to check it)"
        )
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
    that keeps the variety of the digits network's edge and stroke detectors.
    """
    flat = w.reshape(len(w), -1)
    unit = flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-8)
    chosen = [int(flat.norm(dim=1).argmax())]
    while len(chosen) < min(k, len(w)):
        likeness = (unit @ unit[chosen].T).abs().max(dim=1).values
        likeness[chosen] = math.inf
        chosen.append(int(likeness.argmin()))
    return chosen


def transfer_filters(module: nn.Module, source: str = TRANSFER_FROM) -> str:
    """Start ``module``'s conv1 and conv2 from ``source``'s learned filters; returns what was done.

    ``source`` is a shipped model of the same family; when it is wider, a varied subset
    of its filters is taken (:func:`_spread`), and conv2 keeps only the kernels that
    read the conv1 maps kept. Layers whose shapes cannot be matched keep their random
    start. Nothing is changed when the weight file is missing or does not load.
    """
    from safetensors.torch import load_file

    spec = model_spec(source)
    try:
        src = load_file(str(spec.weights_path), device="cpu")
    except Exception as exc:  # a missing or broken file: train from scratch, say so
        return f"none ({spec.weights_path.name} unreadable: {exc})"
    done = []
    with torch.no_grad():
        c1, c2 = getattr(module, "conv1", None), getattr(module, "conv2", None)
        w1 = src.get("conv1.weight")
        if not isinstance(c1, nn.Conv2d) or w1 is None or w1.shape[1:] != c1.weight.shape[1:]:
            return "none (no matching conv1)"
        keep1 = _spread(w1, c1.out_channels)
        if len(keep1) < c1.out_channels:
            return "none (the source has fewer conv1 filters)"
        c1.weight.copy_(w1[keep1])
        c1.bias.copy_(src["conv1.bias"][keep1])
        done.append(f"conv1 ({len(keep1)} of {len(w1)} filters)")
        w2 = src.get("conv2.weight")
        if isinstance(c2, nn.Conv2d) and w2 is not None and w2.shape[2:] == c2.weight.shape[2:]:
            w2 = w2[:, keep1]
            keep2 = _spread(w2, c2.out_channels)
            if len(keep2) == c2.out_channels:
                c2.weight.copy_(w2[keep2])
                c2.bias.copy_(src["conv2.bias"][keep2])
                done.append(f"conv2 ({len(keep2)} of {len(w2)} filters)")
    return f"{' and '.join(done)} from {source}"


def _snapshot(spec: ModelSpec, module: nn.Module) -> Model:
    """An independent CPU :class:`Model` holding ``module``'s weights as they are now."""
    net = copy.deepcopy(module).to("cpu")
    net.softmax = nn.Softmax(dim=1)
    return Model(spec, net, torch.device("cpu"))


def _epochs_for(per_epoch: int) -> int:
    lo, hi = EPOCHS_RANGE
    return int(np.clip(math.ceil(TARGET_VIEWS / per_epoch), lo, hi))


def _evaluate(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean loss, accuracy) of ``module`` (log-softmax head) on ``x``, no augmentation."""
    module.eval()
    with torch.no_grad():
        logp = module(x)
        loss = F.nll_loss(logp, y).item()
        acc = (logp.argmax(1) == y).float().mean().item()
    return loss, acc


def train_model(
    images: np.ndarray | Sequence[np.ndarray],
    labels: np.ndarray | Sequence[int],
    classes: Sequence[str],
    epochs: int | None = None,
    device: str = "auto",
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    *,
    transfer: bool = True,
    seed: int = 0,
    lr: float = LR,
    data_name: str = "",
    title: str | None = None,
    threads: int | None = THREADS,
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
    it are kept. Raises ``ValueError`` naming the class that needs more drawings.

    ``threads`` caps torch's CPU threads for this call, in the calling thread only
    (``None``: torch's default). ``transfer``, ``seed``, ``lr``, ``data_name`` (for the
    card) and ``title`` (what a picker shows) are the knobs beyond the issue's API.
    """
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)  # per calling thread: the GUI thread keeps its own
    try:
        return _train(images, labels, classes, epochs, device, progress, stop, transfer,
                      seed, lr, data_name, title)
    finally:
        torch.set_num_threads(previous)


def _train(images, labels, classes, epochs, device, progress, stop, transfer, seed, lr,
           data_name, title) -> Model:
    t0 = time.perf_counter()
    labels = np.asarray(labels)
    counts = check_data(labels, classes)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if epochs is not None and epochs < 0:
        raise ValueError(f"epochs must be 0 or more, got {epochs}")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)

    spec = user_spec(classes, title)
    net = build_module(spec)
    how = transfer_filters(net) if transfer else "none (random start)"
    # The canvas' preprocessing, through the same Model method the live view calls.
    reader = Model(spec, net, torch.device("cpu"))
    x_all = np.stack([reader.preprocess(np.asarray(im), invert=False) for im in images])
    train_idx, held_idx = _split(labels, rng)
    x = torch.from_numpy(x_all[train_idx]).to(dev)
    y = torch.from_numpy(labels[train_idx].astype(np.int64)).to(dev)
    hx = torch.from_numpy(x_all[held_idx]).to(dev)
    hy = torch.from_numpy(labels[held_idx].astype(np.int64)).to(dev)

    net = net.to(dev)
    net.softmax = nn.LogSoftmax(dim=1)  # train on log-probabilities: stable NLL
    repeats = math.ceil(EPOCH_VIEWS / len(x))
    per_epoch = repeats * len(x)
    steps = math.ceil(per_epoch / BATCH)
    epochs = _epochs_for(per_epoch) if epochs is None else epochs
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps,
                                                 pct_start=0.15)
             if epochs else None)

    history: list[dict[str, Any]] = []
    best: tuple[float, float] = (-1.0, math.inf)  # (held-out accuracy, -loss) to beat
    best_state: dict[str, torch.Tensor] = {}
    best_epoch = 0
    stopped = ""

    def finish_epoch(epoch: int, loss: float, acc: float) -> None:
        nonlocal best, best_state, best_epoch
        h_loss, h_acc = _evaluate(net, hx, hy)
        if (h_acc, -h_loss) > (best[0], -best[1]) and math.isfinite(h_loss):
            best, best_epoch = (h_acc, h_loss), epoch
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        metrics = {
            "epoch": epoch, "epochs": epochs, "loss": loss, "accuracy": acc,
            "held_out_loss": h_loss, "held_out_accuracy": h_acc, "best_epoch": best_epoch,
            "seconds": time.perf_counter() - t0,
        }
        history.append(dict(metrics))
        if progress is not None:
            metrics["model"] = _snapshot(spec, net)
            progress(epoch, metrics)

    finish_epoch(0, *_evaluate(net, x, y))
    for epoch in range(1, epochs + 1):
        net.train()
        order = torch.cat([torch.randperm(len(x), generator=gen) for _ in range(repeats)])
        tot_loss, correct, seen = 0.0, 0, 0
        for step in range(steps):
            if stop is not None and stop.is_set():
                stopped = f"stopped at epoch {epoch}"
                break
            idx = order[step * BATCH : (step + 1) * BATCH].to(dev)
            xb, yb = _augment(x[idx], gen, spec.recipe.augment), y[idx]
            logp = net(xb)
            loss = F.nll_loss(logp, yb)
            if not torch.isfinite(loss):
                stopped = (f"the loss became {loss.item()} at epoch {epoch}, step {step + 1} "
                           f"(learning rate {lr:g} too high?)")
                break
            step_loss, step_correct = optimise(opt, sched, loss, logp, yb)
            tot_loss += step_loss
            correct += step_correct
            seen += len(idx)
        if stopped:
            break
        finish_epoch(epoch, tot_loss / seen, correct / seen)
    if stopped:
        stopped += f"; kept the weights of epoch {best_epoch}, the best on held-out drawings"

    net.load_state_dict(best_state or net.state_dict())
    net.softmax = nn.Softmax(dim=1)
    model = Model(spec, net.eval(), dev)
    model.stopped = stopped
    model.history = history
    model.card = {
        "title": spec.title,
        "data": {
            "name": data_name,
            "size": len(labels),
            "per_class": {c: int(n) for c, n in zip(classes, counts)},
            "held_out": len(held_idx),
        },
        "epochs": len(history) - 1,
        "best_epoch": best_epoch,
        "held_out": {"n": len(held_idx), "accuracy": round(best[0], 4),
                     "loss": round(best[1], 4)},
        "transfer": how,
        "augmentation": AUGMENTATION,
        "train_seconds": round(time.perf_counter() - t0, 2),
        "stopped": stopped,
        "device": str(dev),
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
        "history": [{k: round(v, 4) if isinstance(v, float) else v for k, v in h.items()
                     if k != "epochs"} for h in history],
    }
    return model


def save_model(model: Model, folder: str | Path) -> Path:
    """Write ``model`` into ``folder`` as ``model-<hash>.safetensors`` + ``model.json``.

    The database way (house style 16): the weights go to a temporary file, are fsynced,
    hashed and renamed to a name carrying their hash; then the card, naming that file
    and its SHA-256, replaces the old card in one rename; only then are weights no card
    names removed. A ``kill -9`` at any instant leaves the old pair or the new one.
    Afterwards ``model.name`` is the card's path. Raises :class:`engine.files.WriteError`
    (an ``OSError``) naming the folder and the reason when it cannot be written.
    """
    folder = Path(folder).expanduser().resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot write a model to {folder}: {why(exc)}") from None
    remove_stale(folder)
    tmp = temp_path(folder / "model.safetensors")
    try:
        save_weights(model.module, tmp)
        fsync_file(tmp)
        sha = sha256_file(tmp)
        weights = folder / f"model-{sha[:12]}.safetensors"
        os.replace(tmp, weights)
    except OSError as exc:
        discard(tmp)
        raise WriteError(exc.errno, f"cannot write a model to {folder}: {why(exc)}") from None
    except Exception as exc:  # safetensors reports a full disk as its own error
        discard(tmp)
        raise WriteError(None, f"cannot write a model to {folder}: {exc}") from None
    fsync_dir(folder)
    spec = model.spec
    fields: dict[str, Any] = {
        "card": CARD_FORMAT,
        "card_version": CARD_VERSION,
        "title": spec.title,
        "classes": list(spec.classes),
        "input_shape": list(spec.input_shape),
        "architecture": spec.architecture,
        "config": dict(spec.config),
        "preprocessing": spec.preprocessing,
        "head": spec.head,
        "weights_file": weights.name,
    }
    made = {k: v for k, v in (model.card or {}).items() if k not in fields and k not in
            ("card", "card_version", "date", "weights_sha256")}
    try:  # atomic, last, and carrying the weights' SHA-256 (engine.weights.write_card)
        card = write_card(folder / CARD_FILE, weights, **fields, **made)
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot write a model to {folder}: {why(exc)}") from None
    for old in folder.glob("model-*.safetensors"):
        if old != weights:
            old.unlink(missing_ok=True)
    saved = spec_from_card(card)
    model.spec, model.name = saved, saved.name
    model.card = read_card_strict(card)
    return card


# The few-shot task of the benchmark and the tests: (stroke kind, label) per class.
EXAMPLE_CLASSES: dict[str, tuple[str, int]] = {
    "X": ("xo", 0), "O": ("xo", 1), "4": ("digits", 4), "7": ("digits", 7),
}


def example_drawings(per_class: int, seed: int, classes: Sequence[str] = tuple(EXAMPLE_CLASSES)
                     ) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """``per_class`` synthetic drawings of each of ``classes`` (X, O, 4, 7 by default).

    Drawn by :mod:`engine.data`'s stroke generator (the hand that made the shipped
    models' training strokes), each class from its own stream of ``seed``, in random
    order: raw canvases of varying size, ink 1 on 0. Returns (drawings, labels, classes).
    """
    from engine import data

    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(len(classes)), per_class))
    streams = [np.random.default_rng([seed, k]) for k in range(len(classes))]
    images = []
    for y in labels:
        kind, label = EXAMPLE_CLASSES[classes[y]]
        hand = streams[y]
        images.append(data.render(data.STROKE_KINDS[kind].strokes(label, hand), hand, kind))
    return images, labels.astype(np.int64), list(classes)


def train_folder(data: str | Path, epochs: int | None = None, device: str = "auto",
                 out: str | Path | None = None, seed: int = 0) -> int:
    """``convpad train --data FOLDER``: train on an ImageFolder tree, save, print the card.

    Files that cannot be used are listed on stderr and left out; a tqdm bar shows the
    epochs. Returns the exit status (2 when the model cannot be written).
    """
    import json
    import sys

    from tqdm import tqdm

    from engine.datasets import read_folder

    data = Path(data)
    images, labels, classes, skipped = read_folder(data)
    for line in skipped:
        print(f"skipped: {line}", file=sys.stderr)
    out = Path(out) if out is not None else Path.cwd() / f"{data.resolve().name}-model"
    bar = tqdm(total=None, unit="epoch", desc=f"teaching {'/'.join(classes)}")

    def progress(epoch: int, m: dict[str, Any]) -> None:
        if bar.total is None:
            bar.total = m["epochs"]
        bar.update(1 if epoch else 0)
        bar.set_postfix({"loss": f"{m['loss']:.3f}", "held-out": f"{m['held_out_accuracy']:.0%}"},
                        refresh=True)

    try:
        model = train_model(images, labels, classes, epochs=epochs, device=device,
                            progress=progress, seed=seed, data_name=data.resolve().name)
    finally:
        bar.close()
    if model.stopped:
        print(f"note: {model.stopped}", file=sys.stderr)
    try:
        card = model.save(out)
    except WriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = {k: model.card[k] for k in ("title", "classes", "data", "epochs", "best_epoch",
                                          "held_out", "transfer", "date")}
    print(json.dumps({"card": str(card), **summary}, indent=2))
    return 0
