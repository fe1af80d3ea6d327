"""``convpad explain``: attribution maps of image files, as JSON rows or PNG overlays.

:func:`run` returns the exit status (0; 1 when a file was unreadable and skipped; 2 for
a bad model, class, layer or option). Building the parser imports neither torch nor
Captum.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.cli.classify import shown
from engine.errors import ConvPadError
from engine.explain.choices import METHODS
from engine.storage import write_bytes_atomic

if TYPE_CHECKING:
    from engine.explain import Explanation


def add_parser(subparsers: argparse._SubParsersAction, common) -> argparse.ArgumentParser:
    """Add ``explain`` to a parser's subcommands (``common`` adds --model/--input/--device,
    as every model-taking subcommand has them); returns its parser."""
    p = subparsers.add_parser(
        "explain",
        help="show which ink pushed the answer up (red) or down (blue): attribution maps",
        description="Explain a model's answer for each image: which pixels of the drawing "
        "pushed the class's probability (or the X/O toy's vote) up, and which pushed it "
        "down. Maps are on each file's own pixel grid: positive toward the class, "
        "negative away, 0 outside the ink's box. A file that cannot be read is reported "
        "and skipped; the exit status is then 1. A bad model, class, layer or option "
        "exits with status 2.",
    )
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                   help="image files (PNG/JPG/BMP), ink on either background")
    p.add_argument("--method", default="occlusion", choices=METHODS,
                   help="occlusion (3×3 windows set to background; the toy: each pixel), "
                   "integrated-gradients (32 steps from a blank input), saliency (the "
                   "signed gradient), grad-cam (on --layer) (default: occlusion)")
    p.add_argument("--target", default=None, metavar="CLASS",
                   help="the class to explain, by name, e.g. 7 or X (default: the answer)")
    p.add_argument("--layer", default=None, metavar="NAME",
                   help="grad-cam only: the layer to look at (default: the last conv "
                   "layer, after its ReLU)")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object per image: {"image", "model", "method", '
                   '"target", "class", "probabilities", "attribution"}; "class" and '
                   '"probabilities" are what `classify --json` prints, "attribution" is '
                   "the map as rows of the file's height × width")
    p.add_argument("--out", type=Path, default=None, metavar="PNG",
                   help="write the map over the drawing as a PNG (red toward the class, "
                   "blue away). With one image, OUT is the PNG file (or an existing "
                   "folder); with several, OUT is a folder (created if needed) that gets "
                   "IMAGE-NAME.METHOD.png for each image")
    common(p)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``explain`` with parsed ``args``; returns the process exit status."""
    try:
        return _explain(args)
    except (ConvPadError, OSError) as exc:  # bad input; OSError names its file
        print(f"error: {shown(exc)}", file=sys.stderr)
        return 2


def _explain(args: argparse.Namespace) -> int:
    from engine import load_model, read_image
    from engine.explain import explain
    from engine.explain.geometry import attribution_on_file, to_file
    from engine.explain.methods import pick_layer
    from engine.explain.overlay import overlay_png

    if args.layer is not None and args.method != "grad-cam":
        raise ConvPadError(f"--layer is for --method grad-cam, not {args.method}")
    model = load_model(args.model, device=args.device, classes=args.classes)
    target = _class_index(model.classes, args.target)
    if args.method == "grad-cam":
        pick_layer(model.module, args.layer)  # a bad layer name: exit 2 before any file
    outs = _out_paths(args.out, args.images, args.method)
    status = 0
    for path in args.images:
        # One bad file is reported by name and skipped; the others are still explained.
        try:
            ink = read_image(path)
            e = explain(model, ink, args.method, target, args.input, args.layer)
            file_map = attribution_on_file(e.image_map, path)
        except ConvPadError as exc:  # a bad file (ImageError …); a bug is not one
            message = str(exc)
            print(f"error: {message if str(path) in message else f'{path}: {message}'}",
                  file=sys.stderr)
            status = 1
            continue
        answer = e.answer
        written = None
        if outs is not None:
            written = outs[path]
            write_bytes_atomic(written, overlay_png(file_map, to_file(ink, path)))
        if args.json:
            print(json.dumps({
                "image": str(path),
                "model": args.model,
                "method": args.method,
                "target": None if e.target is None else model.classes[e.target],
                "class": None if answer is None else model.classes[answer],
                "probabilities": None if answer is None else {
                    c: round(float(p), 6) for c, p in zip(model.classes, e.probabilities)},
                "attribution": [[float(f"{v:.6g}") for v in row] for row in file_map.tolist()],
            }))
        else:
            print(_line(path, model.classes, e, file_map, written))
    return status


def _class_index(classes: list[str], name: str | None) -> int | None:
    if name is None:
        return None
    if name in classes:
        return classes.index(name)
    raise ConvPadError(f"unknown class {name!r}; the model's classes are: {', '.join(classes)}")


def _out_paths(out: Path | None, images: list[Path], method: str) -> dict[Path, Path] | None:
    """Where each image's overlay goes (see --out's help); None without --out."""
    if out is None:
        return None
    if len(images) == 1 and not out.is_dir():
        return {images[0]: out}
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[Path, Path] = {}
    taken: set[str] = set()
    for image in images:
        name, n = f"{image.stem}.{method}.png", 1
        while name in taken:  # two images with one name, from two folders
            n += 1
            name = f"{image.stem}-{n}.{method}.png"
        taken.add(name)
        paths[image] = out / name
    return paths


def _line(path: Path, classes: list[str], e: Explanation, file_map: np.ndarray,
          written: Path | None) -> str:
    """One line per image: the answer, and the map's strongest push each way."""
    answer = e.answer
    line = (f"{path}: no ink, no prediction" if answer is None
            else f"{path}: {classes[answer]} ({e.probabilities[answer]:.1%})")
    if e.target is not None and answer is not None:
        toward, away = max(float(file_map.max()), 0.0), min(float(file_map.min()), 0.0)
        line += (f"  {e.method} for {classes[e.target]}: strongest toward {toward:.3g}, "
                 f"away {away:.3g}")
    return line + (f"  → {written}" if written else "")
