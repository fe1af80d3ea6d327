"""Input-mode honesty: digits accuracy centred vs as drawn, for drawings shifted on the canvas.

The centred recipe (crop, scale, re-centre) hides a shift from the network; "as drawn"
lets it through. This prints the digits model's accuracy on the shipped stroke test set
(``engine.data.stroke_drawings("digits", 1000, seed=10_001)``, the drawings the model
card's held-out figure uses) in both modes, with every drawing moved 0, 4 and 8 input
pixels (1 input pixel = canvas side / 28) on its canvas: left, right, up or down, a
seeded random choice among the directions with room for the whole drawing (the
stroke test set places drawings anywhere, often near an edge). Where no direction has
room, the one losing least ink is taken: that ink is lost in both modes, and the share
of drawings that lost some is printed too.

A second table starts from the same drawings placed the way MNIST places digits — the
ink's box scaled to 20/28 of a 280 px canvas, centred by mass (``mnist_style`` drawn
large) — so at no shift both modes see the same input, and then moves them.

    python benchmarks/input_modes.py [--n 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import load_model
from engine import transforms as T
from engine.preprocessing import mnist_style
from engine.training.strokes import stroke_drawings

SHIFTS = (0, 4, 8)
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def measure(model, drawings: list[np.ndarray], labels: np.ndarray) -> dict:
    """Accuracy per input mode and shift, and the share of drawings that lost ink."""
    rng = np.random.default_rng(0)
    results: dict[str, dict[int, float]] = {"centred": {}, "as-drawn": {}}
    lost: dict[int, float] = {}
    for k in SHIFTS:
        moved, clipped = [], 0
        for img in drawings:
            out = img
            if k:
                options = []
                for ux, uy in DIRECTIONS:
                    try:
                        options.append(T.shift(img, ux * k, uy * k, input_size=28))
                    except ValueError:  # all the ink pushed off
                        options.append(np.zeros_like(img))
                kept = np.array([o.sum() for o in options])
                best = np.flatnonzero(kept >= kept.max() - 1e-3)
                out = options[int(rng.choice(best))]
                clipped += bool(out.sum() < img.sum() - 1e-3)
            moved.append(out)
        lost[k] = clipped / len(drawings)
        for mode in results:
            probs = np.concatenate([model.predict(m, invert=False, input=mode) for m in moved])
            guess = np.where(np.isnan(probs).any(axis=1), -1, np.nan_to_num(probs).argmax(axis=1))
            results[mode][k] = float((guess == labels).mean())
    return {"accuracy": results, "ink_lost": lost}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    model = load_model("digits", device="cpu")
    drawings, labels = stroke_drawings("digits", args.n, seed=10_001)
    placed = [
        np.asarray(Image.fromarray(mnist_style(img), mode="F").resize((280, 280)), np.float32)
        for img in drawings
    ]
    tables = {
        "as in the test set": measure(model, drawings, labels),
        "placed as MNIST does": measure(model, placed, labels),
    }
    if args.json:
        print(json.dumps({"n": len(drawings), "tables": tables}, indent=2))
        return 0
    print(f"digits model, {len(drawings)} shipped test drawings (seed 10001): accuracy")
    for title, t in tables.items():
        print(f"\ndrawings {title}")
        print(f"{'input mode':12}" + "".join(f"{f'shift {k} px':>12}" for k in SHIFTS))
        for mode, row in t["accuracy"].items():
            print(f"{mode:12}" + "".join(f"{row[k]:>12.1%}" for k in SHIFTS))
        print(f"{'ink lost':12}" + "".join(f"{t['ink_lost'][k]:>12.1%}" for k in SHIFTS)
              + "   (drawings with some ink pushed off the canvas)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
