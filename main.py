"""ConvPad: draw, and watch a convolutional network see.

``python main.py`` opens the drawing pad; ``python main.py classify|evaluate|train|sweep``
runs the engine from the command line. ``python main.py --help`` lists them all.
"""

from __future__ import annotations

import argparse
import ctypes.util
import os
import sys

from engine.catalog import list_models
from engine.cli import add_subcommands
from engine.cli import run as run_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convpad",
        description="ConvPad: draw an X, an O or a digit and watch every layer of a CNN "
        "respond live. With no subcommand, opens the drawing pad.",
    )
    parser.add_argument(
        "--model",
        default=None,
        type=model_argument,
        metavar="{" + ",".join(list_models()) + "} or PATH",
        help="model to open the pad with: a shipped one, or a model you trained, by its "
        "card (model.json) or its folder (default: the one used last time, else digits)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    parser.add_argument(
        "--presentation",
        action="store_true",
        help="start full screen with large type (classroom projector)",
    )
    sub = parser.add_subparsers(dest="command", metavar="{classify,evaluate,train,sweep}")
    add_subcommands(sub)
    return parser


def model_argument(value: str) -> str:
    """``--model``: a shipped model's name, or a user model's card or folder, checked now.

    A card that disagrees with its weights is refused here, with its reason, before any
    window opens (reading a card needs no torch).
    """
    from engine.catalog import model_spec

    try:
        return model_spec(value).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def display_problem() -> str | None:
    """Why a Qt window cannot open here, in one sentence — or None if it can.

    Qt's own failure is an abort with a page of plugin diagnostics; a person who ran
    the app over SSH, or in a container, needs the fix instead.
    """
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform not in ("", "xcb", "wayland"):
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return (
            "ConvPad needs a display to open its window: run it on a desktop session "
            "(or under Xvfb with DISPLAY set); for tests set QT_QPA_PLATFORM=offscreen."
        )
    if not os.environ.get("WAYLAND_DISPLAY") and ctypes.util.find_library("xcb-cursor") is None:
        return (
            "Qt's X11 plugin needs libxcb-cursor0, which is missing: install it with "
            "`sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1`."
        )
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command:
        return run_command(args)
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    import app

    return app.run(model=args.model, device=args.device, presentation=args.presentation)


def cli() -> None:
    """Console-script entry point (``convpad``): same as ``python main.py``."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
