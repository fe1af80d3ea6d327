"""Cost of one full invariance sweep (72 rotations + 26 scales + 17×17 shifts).

The sweep panel recomputes after every stroke, in a worker thread; the target is
≤ 150 ms per digits sweep on a 2-core CPU. Each run times the whole :func:`engine.sweep.
sweep` and, interleaved with it so the machine's noise hits both alike, its floor: one
forward pass of the same number of ready-made inputs (387 as drawn; centred needs 99,
since every shift gives the same input). What the sweep adds to its floor is the
rendering of rotated and scaled drawings and the shift windows.

    python benchmarks/sweep_bench.py [--models digits] [--runs 9] [--threads N] [--json]

The load average is printed too: on a shared machine it explains most of the spread.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import load_model
from engine.experiments.sweeps import DEGREES, FACTORS, SHIFTS, sweep
from engine.training.strokes import stroke_drawings

CANVAS = 324


def canvas_drawing(kind: str) -> np.ndarray:
    """The first drawing of the shipped stroke test set, on a canvas-sized raster."""
    img = stroke_drawings(kind, 1, seed=10_001)[0][0]
    return np.asarray(Image.fromarray(img, mode="F").resize((CANVAS, CANVAS)), np.float32)


def measure(name: str, mode: str, runs: int) -> dict[str, float | int | str]:
    m = load_model(name, device="cpu")
    img = canvas_drawing("digits" if len(m.classes) == 10 else "xo")
    n_rows = len(DEGREES) + len(FACTORS) + (len(SHIFTS) ** 2 if mode == "as-drawn" else 1)
    x = np.repeat(m.preprocess(img, input=mode)[None], n_rows, axis=0)
    for _ in range(2):  # warm-up: the channels-last copy, allocator, caches
        sweep(m, img, input=mode)
        m.forward(x)
    t_sweep, t_floor = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        sweep(m, img, input=mode)
        t_sweep.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        m.forward(x)
        t_floor.append(time.perf_counter() - t0)
    med = float(np.median(t_sweep)) * 1e3
    floor = float(np.median(t_floor)) * 1e3
    return {
        "model": name,
        "input": mode,
        "images": n_rows,
        "sweep_ms_median": round(med, 1),
        "sweep_ms_min": round(float(np.min(t_sweep)) * 1e3, 1),
        "forward_ms_median": round(floor, 1),
        "ratio": round(med / floor, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["digits"])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    rows = [measure(n, mode, args.runs) for n in args.models for mode in ("centred", "as-drawn")]
    info = {
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "results": rows,
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['cpus']} CPUs, torch threads {info['torch_threads']}, "
          f"load average {info['load_average'][0]} → {info['load_average'][1]}")
    print(f"{'model':8} {'input':9} {'images':>6} {'sweep p50':>10} {'min':>7} "
          f"{'forward p50':>12} {'ratio':>6}")
    for r in rows:
        print(f"{r['model']:8} {r['input']:9} {r['images']:>6} {r['sweep_ms_median']:>8.1f}ms "
              f"{r['sweep_ms_min']:>5.1f}ms {r['forward_ms_median']:>10.1f}ms {r['ratio']:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
