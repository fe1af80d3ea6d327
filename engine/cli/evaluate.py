"""``convpad evaluate``: a model's accuracy and confusion matrix on an .npz of drawings.

The .npz is read with every size it claims checked against the others (and against a
memory limit) before a byte of its arrays is allocated: a file is data from anywhere.
"""

from __future__ import annotations

import argparse
import json
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from engine.errors import ConvPadError


def add_parser(sub: argparse._SubParsersAction, common) -> None:
    """Add ``convpad evaluate`` (``common`` adds the shared --model/--device options)."""
    p = sub.add_parser(
        "evaluate",
        help="accuracy and confusion matrix of a model on an .npz of drawings",
        description="DATA.npz holds `images` uint8 (N, H, W), white ink on black (or "
        "floats in [0, 1]), and `labels` int (N,) indexing the model's classes.",
    )
    p.add_argument("data", type=Path, metavar="DATA.npz")
    common(p, model_required=True, input_mode=False)
    p.add_argument(
        "--json", action="store_true", help='print {"model", "n", "accuracy", "confusion"}'
    )


def run(args: argparse.Namespace) -> int:
    """``convpad evaluate``: accuracy and confusion matrix on an .npz of drawings."""
    from engine.model import load_model

    images, labels = read_npz(args.data)
    model = load_model(args.model, device=args.device, classes=args.classes)
    k = len(model.classes)
    if len(labels) and (labels.min() < 0 or labels.max() >= k):
        raise ConvPadError(f"{args.data}: labels must index the {k} classes {model.classes}")
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
                {"model": model.name, "n": n, "accuracy": accuracy, "confusion": confusion.tolist()}
            )
        )
        return 0
    print(
        f"{model.title} on {args.data}: {accuracy:.2%} of {n} correct"
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


def read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``images`` and ``labels`` from an .npz, checked before a byte of them is allocated.

    Every size comes from the file, so each is checked against the others first — the
    shape in each array's header, the member's size in the zip directory, its compressed
    size, the archive's size on disk — and against :data:`MAX_NPZ_ARRAY_BYTES`.
    """
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise ConvPadError(f"{path}: cannot be read ({exc.strerror})") from None
    if magic == b"\x93NUMPY":
        raise ConvPadError(
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
        raise ConvPadError(f"{path}: not a readable .npz file ({exc})") from None
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ConvPadError(
            f"{path}: expected images (N, H, W) and labels (N,), "
            f"got {images.shape} and {labels.shape}"
        )
    if len(labels) == 0:
        raise ConvPadError(f"{path}: holds no drawings (N = 0); there is nothing to evaluate")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ConvPadError(f"{path}: labels must be integers, got {labels.dtype}")
    _check_pixels(path, images)
    return images, labels.astype(np.int64)


class _Refused(ConvPadError):
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
            raise ConvPadError(f"{path}: images hold NaN or infinite values")
        lo, hi = float(images.min()), float(images.max())
        if lo < 0 or hi > 1:
            raise ConvPadError(
                f"{path}: images are {images.dtype} with values from {lo:g} to {hi:g}, but "
                "float images must lie in [0, 1]; divide them by 255 (if they are 0–255) "
                "or store them as uint8"
            )
        return
    if np.issubdtype(images.dtype, np.integer):
        lo, hi = int(images.min()), int(images.max())
        if lo < 0 or hi > 255:
            raise ConvPadError(
                f"{path}: images are {images.dtype} with values from {lo} to {hi}; "
                "store them as uint8 in 0–255 (white ink on black)"
            )
        return
    raise ConvPadError(
        f"{path}: images are {images.dtype}; store them as uint8 in 0–255 "
        "(or floats in [0, 1])"
    )
