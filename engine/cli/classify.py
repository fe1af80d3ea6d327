"""``convpad classify``: class and probabilities for image files and recorded experiments.

One bad file — unreadable, not an image, a folder that is not a recorded experiment, a
damaged row of an experiment — is reported on standard error by name (printed escaped)
and skipped; the others are still classified, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from engine.errors import ConvPadError


def add_parser(sub: argparse._SubParsersAction, common) -> None:
    """Add ``convpad classify`` (``common`` adds the shared --model/--input/--device)."""
    p = sub.add_parser(
        "classify",
        help="classify image files (PNG/JPG/BMP) and print class and probabilities",
        description="Classify drawings in image files. Dark-on-light and light-on-dark "
        "images are both accepted (the border decides which is ink). A file that cannot "
        "be read is reported and skipped; the exit status is then 1.",
    )
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE",
                   help="image files, or recorded experiment folders (every row is classified)")
    common(p, input_default=None,
           input_help="centred (crop and re-centre, the default) or as-drawn (the whole "
           "canvas); an experiment's rows default to the mode they were recorded in")
    p.add_argument("--json", action="store_true", help="print one JSON object per image")


def shown(path: object) -> str:
    """A file name as a terminal should print it: newlines and escapes made visible."""
    text = str(path)
    return text if text.isprintable() else repr(text)[1:-1]


def result(image: str, classes: list[str], probs: np.ndarray) -> dict:
    """What ``classify --json`` prints for one drawing (``explain --json`` reuses it)."""
    if np.isnan(probs).any():
        return {"image": image, "class": None, "probabilities": None}
    best = int(np.argmax(probs))
    return {"image": image, "class": classes[best],
            "probabilities": {c: round(float(p), 6) for c, p in zip(classes, probs)}}


def run(args: argparse.Namespace) -> int:
    from engine.model import load_model
    from engine.storage.images import read_image

    model = load_model(args.model, device=args.device, classes=args.classes)
    status = 0
    for path in args.images:
        if path.is_dir():  # a recorded experiment
            status = max(status, classify_folder(model, path, args.input, args.json))
            continue
        try:
            ink = read_image(path)
            probs = model.predict(ink[None], invert=False, input=args.input or "centred")[0]
        except ConvPadError as exc:
            print(f"error: {shown(exc)}", file=sys.stderr)
            status = 1
            continue
        out = result(str(path), model.classes, probs)
        if out["class"] is None:
            line = f"{shown(path)}: no ink, no prediction"
        else:
            best = model.classes.index(out["class"])
            top = "  ".join(f"{c}:{p:.3f}" for c, p in zip(model.classes, probs))
            line = f"{shown(path)}: {out['class']} ({probs[best]:.1%})  {top}"
        print(json.dumps(out) if args.json else line)
    return status


def classify_folder(model, folder: Path, input: str | None, as_json: bool) -> int:
    """``convpad classify`` on a recorded experiment: every row through ``model``.

    Each row is run in ``input`` mode, or in the mode it was recorded in when None.
    A folder that is not an experiment, and each damaged row, are reported on stderr
    and skipped (exit status 1); the rest are classified.
    """
    from engine.experiments.records import open_experiment, replay

    try:
        exp = open_experiment(folder)
    except ConvPadError as exc:
        print(f"error: {shown(exc)}; skipped", file=sys.stderr)
        return 1
    done, unreadable = replay(exp, model, input=input)
    for message in [*exp.skipped, *unreadable]:
        print(f"{shown(folder)}: {shown(message)}", file=sys.stderr)
    right = labelled = 0
    for r in done:
        path = folder / r.row.png
        out = result(str(path), r.classes, r.probabilities)
        line = (f"{shown(path)}: no ink, no prediction" if r.prediction is None
                else f"{shown(path)}: {r.prediction} ({r.confidence:.1%})")
        out |= {"input": r.input, "label": r.row.label}
        if r.correct is not None:
            labelled += 1
            right += r.correct
            line += f"  label {shown(r.row.label)}: {'right' if r.correct else 'WRONG'}"
        print(json.dumps(out) if as_json else line)
    if labelled and not as_json:
        print(f"{shown(folder)}: {right} of {labelled} labelled drawings right "
              f"({right / labelled:.1%}) with {model.title}")
    return 1 if exp.skipped or unreadable else 0
