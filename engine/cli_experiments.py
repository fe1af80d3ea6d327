"""The experiment commands: ``convpad sweep`` and ``convpad classify`` on a recorded
experiment folder. :mod:`engine.cli` registers them and hands over the parsed arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.preprocessing import INPUT_MODES
from engine.registry import list_models

if TYPE_CHECKING:
    from engine.model import Model


def add_sweep(sub: argparse._SubParsersAction) -> None:
    """Add ``convpad sweep`` to the command line."""
    p = sub.add_parser(
        "sweep",
        help="probability of each class as one drawing is rotated, scaled and shifted",
        description="Rotate the drawing in IMAGE through -180°…175° (72 angles), scale it "
        "0.3×…2× (26 factors) and shift it -8…8 input pixels each way (a 17×17 map) on an "
        "unbounded plane, and print every class's probability at each. The 0°, 1× and "
        "(0, 0) points are what `convpad classify` gives for the same image and --input.",
    )
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("--model", default="digits", choices=list_models())
    p.add_argument("--input", default="centred", choices=INPUT_MODES,
                   help="centred (crop and re-centre, the default) or as-drawn (the whole "
                   "canvas: where you drew is where the network sees it)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--json", action="store_true",
                   help='print one object: {"model", "input", "classes", "rotation", '
                   '"scale", "shift"}')


def run_sweep(args: argparse.Namespace) -> int:
    from engine import ImageError, load_model, read_image
    from engine.sweep import sweep

    try:
        ink = read_image(args.image)
    except ImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    model = load_model(args.model, device=args.device)
    if model.is_blank(ink):
        print(f"error: {args.image}: no ink, nothing to sweep", file=sys.stderr)
        return 1
    s = sweep(model, ink, input=args.input, invert=False)
    if args.json:
        print(json.dumps(s.to_json()))
        return 0
    w = s.winner
    name = s.classes[w]
    print(f"{args.image}: {model.name}, {s.input}: {name} ({s.probabilities[w]:.1%}) as drawn")
    print(f"P({name}) by rotation (anticlockwise):")
    every_15 = zip(s.degrees[::3], s.rotation[::3, w])
    print("  " + "  ".join(f"{d:+.0f}°:{_p(p)}" for d, p in every_15))
    print(f"P({name}) by scale:")
    print("  " + "  ".join(f"×{f:.2f}:{_p(p)}" for f, p in zip(s.factors, s.scale[:, w])))
    print(f"P({name}) by shift in input pixels (tenths; dx -8…8 across, dy -8…8 down; "
          "'.' = no ink in view):")
    for dy, row in zip(s.shifts, s.shift[:, :, w]):
        cells = "".join("." if np.isnan(p) else str(min(9, int(p * 10))) for p in row)
        print(f"  {dy:+3d} {cells}")
    if s.input == "centred":
        print("  (centred: the drawing is cropped and re-centred before the network sees "
              "it, so every shift gives the same input; use --input as-drawn)")
    return 0


def _p(p: float) -> str:
    return "-" if np.isnan(p) else f"{p:.2f}"


def classify_folder(model: Model, folder: Path, input: str | None, as_json: bool) -> int:
    """``convpad classify`` on a recorded experiment: every row through ``model``.

    Each row is run in ``input`` mode, or in the mode it was recorded in when None.
    Skipped rows are reported on stderr (exit status 1).
    """
    from engine.experiment import open_experiment, replay

    exp = open_experiment(folder)
    done, unreadable = replay(exp, model, input=input)
    for message in [*exp.skipped, *unreadable]:
        print(f"{folder}: {message}", file=sys.stderr)
    right = labelled = 0
    for r in done:
        path = folder / r.row.png
        if r.prediction is None:
            result = {"image": str(path), "class": None, "probabilities": None}
            line = f"{path}: no ink, no prediction"
        else:
            result = {
                "image": str(path),
                "class": r.prediction,
                "probabilities": {c: round(float(p), 6) for c, p in zip(r.classes,
                                                                        r.probabilities)},
            }
            line = f"{path}: {r.prediction} ({r.confidence:.1%})"
        result |= {"input": r.input, "label": r.row.label}
        if r.correct is not None:
            labelled += 1
            right += r.correct
            line += f"  label {r.row.label}: {'right' if r.correct else 'WRONG'}"
        print(json.dumps(result) if as_json else line)
    if labelled and not as_json:
        print(f"{folder}: {right} of {labelled} labelled drawings right "
              f"({right / labelled:.1%}) with {model.name}")
    return 1 if exp.skipped or unreadable else 0
