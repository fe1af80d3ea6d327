"""Every window command as one row of a table: text, tip, keys, and the slot it runs.

A ``QAction`` per command makes the menu entry, the toolbar button and the shortcut one
thing (house style 9). The window builds them from :data:`ACTIONS` with
:func:`build_actions`; a command is added by adding a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class ActionSpec:
    """One command: ``slot`` names a method of the window; ``keys`` its shortcuts."""

    name: str
    text: str
    tip: str
    keys: tuple[str, ...]
    slot: str
    checkable: bool = False


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("act_clear", "Clear", "Wipe the drawing", ("Delete", "Backspace"), "clear"),
    ActionSpec("act_undo", "Undo", "Take back the last stroke", ("Ctrl+Z",), "undo"),
    ActionSpec("act_redo", "Redo", "Put back what Undo took", ("Ctrl+Shift+Z", "Ctrl+Y"),
               "redo"),
    ActionSpec("act_eraser", "Eraser", "Rub out instead of drawing", ("E",), "set_eraser",
               checkable=True),
    ActionSpec("act_thinner", "Thinner pen", "Make the pen thinner", ("[",), "thinner_pen"),
    ActionSpec("act_thicker", "Thicker pen", "Make the pen thicker", ("]",), "thicker_pen"),
    ActionSpec("act_open", "Open image…", "Put a PNG, JPG or BMP file on the canvas",
               ("Ctrl+O",), "open_image_dialog"),
    ActionSpec("act_open_model", "Open model…", "Open a model you saved, or a Keras (.keras, "
               ".h5) or ONNX (.onnx) network, and see inside it", ("Ctrl+Shift+M",),
               "open_model_dialog"),
    ActionSpec("act_save_window", "Save window…", "Save a picture of the whole window as PNG",
               ("Ctrl+S",), "save_window_dialog"),
    ActionSpec("act_save_panel", "Save panel…", "Save a picture of one panel as PNG",
               ("Ctrl+Shift+S",), "save_panel_dialog"),
    ActionSpec("act_present", "Present", "Presentation: full screen, the network one step at "
               "a time, large type — for a projector", ("F11",), "set_presentation",
               checkable=True),
    ActionSpec("act_quit", "Quit", "Close ConvPad", ("Ctrl+Q",), "close"),
    ActionSpec("act_pin", "Pin as A", "Keep this drawing as A, then draw B and compare",
               ("Ctrl+Shift+P",), "pin_as_a"),
    ActionSpec("act_unpin", "Unpin A", "Forget A: every panel shows the live drawing alone",
               ("Ctrl+Shift+U",), "unpin_a"),
    ActionSpec("act_compare_diff", "Show B − A", "Every panel shows what changed from A to "
               "the live drawing B", ("Ctrl+Shift+D",), "compare_diff", checkable=True),
    ActionSpec("act_show_rate", "Show the update rate", "A small readout under the pickers "
               "(on the stage, at the right of its subtitle): how many times a second the "
               "panels or the stage catch up with the pen, and what the network costs (a "
               "slow machine shows fewer; the ink never slows)", (),
               "set_show_rate", checkable=True),
    ActionSpec("act_compare_a", "Show A", "Every panel shows the pinned drawing A (flip "
               "back and forth with B)", ("Ctrl+Shift+A",), "compare_a", checkable=True),
)


def build_actions(window: QWidget, specs: tuple[ActionSpec, ...] = ACTIONS,
                  target: object | None = None) -> dict[str, QAction]:
    """A ``QAction`` per spec, added to ``window`` so its shortcut works with no toolbar;
    each runs the method ``spec.slot`` of ``target`` (default: the window)."""
    out: dict[str, QAction] = {}
    for spec in specs:
        act = QAction(spec.text, window)
        act.setObjectName(spec.name)
        act.setShortcuts([QKeySequence(k) for k in spec.keys])
        tip = spec.tip
        if spec.keys:
            native = QKeySequence.SequenceFormat.NativeText
            tip += f" ({QKeySequence(spec.keys[0]).toString(native)})"
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.setCheckable(spec.checkable)
        slot = getattr(target if target is not None else window, spec.slot)
        if spec.checkable:
            act.toggled.connect(slot)
        else:
            act.triggered.connect(lambda _=False, s=slot: s())
        window.addAction(act)
        out[spec.name] = act
    return out
