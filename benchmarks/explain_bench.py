"""Attribution maps: are they faithful, and what do they cost? Prints figures, asserts nothing.

Faithfulness (the deletion test): 100 synthetic digits drawn by the engine's stroke
generator (seeds the digits model never trained on) are saved as 280×280 white-on-black
8-bit PNGs. For each file and method, the 10 % of its ink pixels (above 50 % grey) with
the highest attribution for the answer are erased (set to black in the file), and the
erased file is classified as ``convpad classify`` does (read_image + Model.predict,
centred). The answer's probability should drop (a) at least 2× as much as when a random
10 % of the ink is erased and (b) at least 1.5× as much as when a random *patch* of as
many ink pixels (those nearest a random ink pixel) is erased; both baselines are
averaged over ``--draws`` draws per image.

Sanity (Adebayo et al., 2018): Spearman correlation of |map| between the digits model
and the same network with re-initialised weights, on the file's ink and at the input.

Cost: each method on a 28×28 input, 1 and 2 torch threads (the app runs 1), median of
``--runs`` runs over different digits, next to its floor (one forward pass); then
explain() on a 280 px file and the overlay on a 560 px canvas.

    python benchmarks/explain_bench.py [--n 100] [--runs 25]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import load_model, read_image
from engine.explain import METHODS, explain
from engine.explain.geometry import to_file
from engine.explain.methods import attribute
from engine.explain.overlay import overlay_rgba

try:
    from engine.training.strokes import STROKE_KINDS, render
except ImportError:  # before the engine was reorganised into rooms
    from engine.data import STROKE_KINDS, render

REQUIRED = {"occlusion", "integrated-gradients"}


def make_digits(folder: Path, n: int, seed: int) -> list[Path]:
    """``n`` drawn digits (labels 0–9 in turn), each a 280×280 white-on-black PNG."""
    paths = []
    for i in range(n):
        rng = np.random.default_rng(seed + i)
        canvas = render(STROKE_KINDS["digits"].strokes(i % 10, rng), rng, "digits")
        im = Image.fromarray(np.clip(canvas, 0.0, 1.0).astype(np.float32))
        im = im.resize((280, 280), Image.Resampling.BILINEAR)
        pixels = np.round(np.clip(np.asarray(im), 0.0, 1.0) * 255).astype(np.uint8)
        paths.append(folder / f"digit{i:03d}_{i % 10}.png")
        Image.fromarray(pixels).save(paths[-1])
    return paths


def answer_after_erasing(model, pixels: np.ndarray, erased: list[np.ndarray], answer: int,
                         folder: Path) -> np.ndarray:
    """The answer's probability for each erased copy of the file, via real PNG files."""
    inks = []
    for j, flat in enumerate(erased):
        copy = pixels.copy()
        copy.ravel()[flat] = 0
        path = folder / f"erased{j}.png"
        Image.fromarray(copy).save(path)
        inks.append(read_image(path))
    return model.predict(np.stack(inks), invert=False, input="centred")[:, answer]


def faithfulness(model, paths: list[Path], draws: int, folder: Path) -> None:
    rng = np.random.default_rng(0)
    drops = {m: [] for m in METHODS}
    random_drops, patch_drops, seconds = [], [], dict.fromkeys(METHODS, 0.0)
    for path in paths:
        pixels = np.asarray(Image.open(path))
        ink = read_image(path)
        p0 = model.predict(ink[None], invert=False, input="centred")[0]
        answer = int(np.argmax(p0))
        where = np.flatnonzero(pixels.ravel() > 127)
        k = max(1, round(0.1 * len(where)))
        ys, xs = np.unravel_index(where, pixels.shape)
        baselines = [rng.choice(where, k, replace=False) for _ in range(draws)]
        for _ in range(draws):
            j = rng.integers(len(where))
            near = np.argsort((ys - ys[j]) ** 2 + (xs - xs[j]) ** 2, kind="stable")[:k]
            baselines.append(where[near])
        p = answer_after_erasing(model, pixels, baselines, answer, folder)
        random_drops.append(p0[answer] - p[:draws].mean())
        patch_drops.append(p0[answer] - p[draws:].mean())
        tops = []
        for method in METHODS:
            t = time.perf_counter()
            e = explain(model, ink, method)
            file_map = to_file(e.image_map, path)
            seconds[method] += time.perf_counter() - t
            order = np.argsort(-file_map.ravel()[where], kind="stable")
            tops.append(where[order[:k]])
        p = answer_after_erasing(model, pixels, tops, answer, folder)
        for method, pm in zip(METHODS, p):
            drops[method].append(p0[answer] - pm)
    rand, patch = float(np.mean(random_drops)), float(np.mean(patch_drops))
    print(f"\nFaithfulness (deletion test): {len(paths)} digits, erase 10 % of the ink; "
          f"mean drop of the answer's probability")
    print(f"  random 10 % of the ink ({draws} draws each): {rand:.4f}")
    print(f"  random patch of 10 % ({draws} draws each):   {patch:.4f}")
    print(f"  {'method':22} {'drop':>7} {'÷random':>8} {'÷patch':>7}  "
          f"{'need':>13}  {'explain/img':>11}")
    for method in METHODS:
        d = float(np.mean(drops[method]))
        a, b = d / max(rand, 1e-12), d / max(patch, 1e-12)
        verdict = ("ok" if a >= 2 and b >= 1.5 else "MISSES") if method in REQUIRED else "(report)"
        print(f"  {method:22} {d:7.4f} {a:8.1f} {b:7.2f}  ≥2, ≥1.5 {verdict:>4}  "
              f"{seconds[method] / len(paths) * 1000:8.1f} ms")


def _rank(a: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(a))
    ranks[np.argsort(a, kind="stable")] = np.arange(len(a))
    return ranks


def sanity(model, paths: list[Path]) -> None:
    random_net = load_model("digits", device="cpu")
    torch.manual_seed(0)
    with torch.no_grad():
        for child in random_net.module.children():
            if hasattr(child, "reset_parameters"):
                child.reset_parameters()
    print(f"\nSanity (Adebayo et al. 2018): Spearman of |map|, trained vs randomised "
          f"weights, {len(paths)} digits (< 0.5 wanted)")
    print(f"  {'method':22} {'file ink':>9} {'input ink':>10}")
    for method in METHODS:
        on_file, on_input = [], []
        for path in paths:
            ink = read_image(path)
            a, b = explain(model, ink, method), None
            b = explain(random_net, ink, method, target=a.target)
            file_ink = ink > 0.5
            input_ink = a.network_input > 0
            on_file.append(np.corrcoef(_rank(np.abs(a.image_map[file_ink])),
                                       _rank(np.abs(b.image_map[file_ink])))[0, 1])
            on_input.append(np.corrcoef(_rank(np.abs(a.input_map[input_ink])),
                                        _rank(np.abs(b.input_map[input_ink])))[0, 1])
        print(f"  {method:22} {np.mean(on_file):9.2f} {np.mean(on_input):10.2f}")


def _median_ms(fn, inputs: list, runs: int) -> float:
    times = []
    for i in range(runs):
        t = time.perf_counter()
        fn(inputs[i % len(inputs)])
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1000


def cost(model, paths: list[Path], runs: int) -> None:
    inks = [read_image(p) for p in paths[:runs]]
    xs = [model.preprocess(ink, invert=False) for ink in inks]
    answers = [int(np.argmax(model.predict(ink[None], invert=False)[0])) for ink in inks]
    pairs = list(zip(xs, answers))
    cases = {
        "one forward pass (floor)": lambda xa: model.module(torch.from_numpy(xa[0][None])),
        "occlusion 3×3 (ink's windows)": lambda xa: attribute(model, xa[0], "occlusion", xa[1]),
        "occlusion 1×1 (ink's windows)": lambda xa: attribute(
            model, xa[0], "occlusion", xa[1], window=1),
        "integrated gradients, 32 steps": lambda xa: attribute(
            model, xa[0], "integrated-gradients", xa[1]),
        "saliency": lambda xa: attribute(model, xa[0], "saliency", xa[1]),
        "grad-cam (relu2)": lambda xa: attribute(model, xa[0], "grad-cam", xa[1]),
    }
    print(f"\nCost on a 28×28 input: median of {runs} runs over {len(pairs)} digits (ms)")
    print(f"  {'':32} {'1 thread':>9} {'2 threads':>10}")
    results = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, fn in cases.items():
            fn(pairs[0])  # warm up
            results[(name, threads)] = _median_ms(fn, pairs, runs)
    for name in cases:
        print(f"  {name:32} {results[(name, 1)]:9.1f} {results[(name, 2)]:10.1f}")
    torch.set_num_threads(1)
    print("  (limits: occlusion ≤ 150 ms, integrated gradients ≤ 100 ms)")
    canvas = np.zeros((560, 560), np.uint8)
    canvas[140:420, 140:420] = np.asarray(Image.open(paths[0]))
    e = explain(model, canvas)
    print("\nEnd to end, 1 thread (ms)")
    for method in METHODS:
        ms = _median_ms(lambda ink, m=method: explain(model, ink, m), inks, runs)
        print(f"  explain(), {method:22} on a 280 px file {ms:7.1f}")
    ms = _median_ms(lambda c: overlay_rgba(e.image_map, c), [canvas], runs)
    print(f"  overlay_rgba on a 560×560 canvas             {ms:7.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="digits for the deletion test")
    parser.add_argument("--seed", type=int, default=777_000)
    parser.add_argument("--draws", type=int, default=5, help="random erasures per baseline")
    parser.add_argument("--runs", type=int, default=25, help="timed runs per figure (≥ 20)")
    parser.add_argument("--sanity", type=int, default=20, help="digits for the sanity check")
    parser.add_argument("--skip", nargs="*", default=[], choices=["faithfulness", "sanity", "cost"])
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="captum")
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} CPUs; digits from seed {args.seed}")
    model = load_model("digits", device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_digits(folder, args.n, args.seed)
        scratch = folder / "erased"
        scratch.mkdir()
        if "faithfulness" not in args.skip:
            faithfulness(model, paths, args.draws, scratch)
        if "sanity" not in args.skip:
            sanity(model, paths[: args.sanity])
        if "cost" not in args.skip:
            cost(model, paths, args.runs)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
