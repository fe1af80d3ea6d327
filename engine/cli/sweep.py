"""``convpad sweep``: how each class's probability changes as one drawing is rotated,
scaled and shifted (:func:`engine.experiments.sweeps.sweep`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from engine.cli.classify import shown


def add_parser(sub: argparse._SubParsersAction, common) -> None:
    """Add ``convpad sweep`` (``common`` adds the shared --model/--input/--device)."""
    p = sub.add_parser(
        "sweep",
        help="probability of each class as one drawing is rotated, scaled and shifted",
        description="Rotate the drawing in IMAGE through -180°…175° (72 angles), scale it "
        "0.3×…2× (26 factors) and shift it -8…8 input pixels each way (a 17×17 map) on an "
        "unbounded plane, and print every class's probability at each. The 0°, 1× and "
        "(0, 0) points are what `convpad classify` gives for the same image and --input.",
    )
    p.add_argument("image", type=Path, metavar="IMAGE")
    common(p)
    p.add_argument("--json", action="store_true",
                   help='print one object: {"model", "input", "classes", "rotation", '
                   '"scale", "shift"}')


def run(args: argparse.Namespace) -> int:
    from engine.errors import ImageError
    from engine.experiments.sweeps import sweep
    from engine.model import load_model
    from engine.storage.images import read_image

    try:
        ink = read_image(args.image)
    except ImageError as exc:
        print(f"error: {shown(exc)}", file=sys.stderr)
        return 1
    model = load_model(args.model, device=args.device, classes=args.classes)
    if model.is_blank(ink):
        print(f"error: {shown(args.image)}: no ink, nothing to sweep", file=sys.stderr)
        return 1
    s = sweep(model, ink, input=args.input, invert=False)
    if args.json:
        print(json.dumps(s.to_json()))
        return 0
    w = s.winner
    name = s.classes[w]
    print(f"{shown(args.image)}: {model.title}, {s.input}: {name} "
          f"({s.probabilities[w]:.1%}) untransformed")  # "as drawn" is an input mode
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
