"""The command line: one module per subcommand, sharing one ``--help`` and one error rule.

``main.py`` builds the parser from :func:`add_subcommands` and hands the parsed
arguments to :func:`run`. Every subcommand that takes a model takes what the window
takes — a shipped name, a saved model's card or folder, a Keras or ONNX file —
through the one :func:`add_common` option set, with ``--classes FILE`` to name its
classes. Bad input (a :class:`~engine.errors.ConvPadError`, or a file the system
refuses) is one line on standard error and exit status 2; anything else is a bug and
keeps its traceback. Everything here uses the engine's public API, so a script can do
the same.
"""

from __future__ import annotations

import argparse
import sys

from engine.catalog import list_models
from engine.cli import classify, evaluate, explain, sweep, train
from engine.errors import ConvPadError
from engine.preprocessing import INPUT_MODES
from engine.storage.class_lists import class_names_arg

COMMANDS = {"classify": classify, "evaluate": evaluate, "train": train, "sweep": sweep,
            "explain": explain}

MODEL_HELP = ("a shipped model ({}), or a model you saved (its model.json or its folder), "
              "or a Keras (.keras, .h5) or ONNX (.onnx) file")


def add_common(p: argparse.ArgumentParser, *, model_required: bool = False,
               input_mode: bool = True, input_default: str | None = "centred",
               input_help: str | None = None) -> None:
    """The options every model-taking subcommand shares: --model, --input, --device,
    --classes."""
    names = ",".join(list_models())
    p.add_argument("--model", required=model_required, default=None if model_required
                   else "digits", metavar="{" + names + "} or PATH",
                   help=MODEL_HELP.format(names) + ("" if model_required
                                                    else " (default: digits)"))
    if input_mode:
        p.add_argument("--input", default=input_default, choices=INPUT_MODES,
                       help=input_help or "centred (crop and re-centre, the default) or "
                       "as-drawn (the whole canvas: where you drew is where the network "
                       "sees it)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    p.add_argument("--classes", type=class_names_arg, default=None, metavar="FILE|A,B,C",
                   help="the class names in the order of the model's outputs: a text file, "
                   "one per line, or the names separated by commas (default: the model's "
                   "own; for a Keras or ONNX file, the classes.txt beside it, else 0, 1, 2 …)")


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add the engine's subcommands to ``main.py``'s parser."""
    for module in COMMANDS.values():
        module.add_parser(sub, add_common)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand in ``args``; returns the process exit status."""
    try:
        return COMMANDS[args.command].run(args)
    except (ConvPadError, OSError) as exc:  # bad input, or a file the system refuses
        print(f"error: {classify.shown(exc)}", file=sys.stderr)
        return 2
