"""ConvPad: draw, and watch a convolutional network see.

``python main.py`` opens the drawing pad; ``python main.py classify|evaluate|train|sweep``
runs the engine from the command line. ``python main.py --help`` lists them all.
"""

from __future__ import annotations

import argparse
import ctypes.util
import os
import sys
from pathlib import Path

from engine.catalog import list_models
from engine.cli import add_subcommands
from engine.cli import run as run_command
from engine.preprocessing import INPUT_MODES
from engine.storage.class_lists import class_names_arg


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convpad",
        description="ConvPad: draw an X, an O or a digit and watch every layer of a CNN "
        "respond live. With no subcommand, opens the drawing pad.",
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="{" + ",".join(list_models()) + "} or PATH",
        help="model to open the pad with: a shipped one, a model you saved (its model.json "
        "or its folder), or a Keras (.keras, .h5) or ONNX (.onnx) file (default: the one "
        "used last time, else digits)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default: auto)")
    parser.add_argument("--classes", type=class_names_arg, default=None, metavar="FILE|A,B,C",
                        help="with --model: the model's class names in the order of its "
                        "outputs, a text file of them (one per line) or the names separated "
                        "by commas (a Keras/ONNX file's default: classes.txt beside it, else "
                        "0, 1, 2 …)")
    parser.add_argument("--input", default=None, choices=INPUT_MODES,
                        help="centred (crop and re-centre) or as-drawn (the whole canvas) "
                        "(default: the one used last time, else centred)")
    parser.add_argument(
        "--presentation",
        action="store_true",
        help="start full screen with large type (classroom projector)",
    )
    parser.add_argument("--class", dest="class_mode", action="store_true",
                        help="open the class: students draw into the app from their phones "
                        "(prints one line, 'class: URL', to open or scan)")
    parser.add_argument("--host", default=None, metavar="ADDR",
                        help="with --class: the address to serve on (default: this "
                        "machine's address on its local network)")
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="with --class: the port to serve on (default: any free one)")
    sub = parser.add_subparsers(dest="command", metavar="{classify,evaluate,train,sweep,explain}")
    add_subcommands(sub)
    return parser


def model_problem(value: str, classes: str | Path | tuple[str, ...] | None = None
                  ) -> str | None:
    """Why ``--model VALUE`` cannot be opened, in one line — or None if it can.

    A card that disagrees with its weights, a network file that cannot be read, an
    unknown name: refused here, with the reason, before any window opens.
    """
    from engine.catalog import model_spec
    from engine.cli.classify import shown
    from engine.errors import ConvPadError

    try:
        spec = model_spec(value)
        if classes is not None:
            from engine.catalog import renamed

            renamed(spec, classes)
    except ConvPadError as exc:
        return f"error: {shown(exc)}"
    return None


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
    if not os.environ.get("WAYLAND_DISPLAY") and not x_server_answers():
        return (
            f"ConvPad could not open the display {os.environ.get('DISPLAY')!r}: no X server "
            "answers there; start one (or Xvfb), or fix DISPLAY."
        )
    return None


def x_server_answers() -> bool:
    """Whether the X server that ``DISPLAY`` names accepts a connection (asked of libxcb
    itself, before Qt would abort the process with a core dump when it does not)."""
    name = ctypes.util.find_library("xcb")
    if name is None:
        return True  # Qt will say what is missing
    xcb = ctypes.CDLL(name)
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(None, None)
    try:
        return conn is not None and xcb.xcb_connection_has_error(conn) == 0
    finally:
        if conn is not None:
            xcb.xcb_disconnect(conn)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command:
        return run_command(args)
    problem = (model_problem(args.model, args.classes) if args.model else None) or (
        "error: --classes needs --model" if args.classes and not args.model else None) or \
        display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    import app

    if not 0 <= args.port <= 65535:
        print(f"error: --port {args.port} is not a port (0…65535; 0: any free one)",
              file=sys.stderr)
        return 2
    return app.run(model=args.model, device=args.device, presentation=args.presentation,
                   input_mode=args.input, class_mode=args.class_mode, host=args.host,
                   port=args.port, classes=args.classes)


def cli() -> None:
    """Console-script entry point (``convpad``): same as ``python main.py``."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
