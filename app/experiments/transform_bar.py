"""The input-mode toggle, the transform buttons and the "what was applied" readout.

Every transform is one undoable edit of the canvas (``Canvas.replace``), computed by
:mod:`engine.transforms` on the raster, so transforms combine with each other, with
strokes and with undo. The readout is read back off the undo stack
(:meth:`ExperimentState.steps`), so undo and redo keep it right.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.actions import ActionSpec, build_actions
from app.canvas import Canvas
from app.experiments.state import ExperimentState
from engine import ConvPadError, transforms

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("act_as_drawn", "As drawn",
               "Feed the network the whole canvas as drawn instead of the cropped, "
               "re-centred drawing: where you draw is where it sees it", ("I",),
               "set_as_drawn", checkable=True),
    ActionSpec("act_nudge_left", "←", "Move the drawing one input pixel left",
               ("Alt+Left",), "nudge_left"),
    ActionSpec("act_nudge_right", "→", "Move the drawing one input pixel right",
               ("Alt+Right",), "nudge_right"),
    ActionSpec("act_nudge_up", "↑", "Move the drawing one input pixel up",
               ("Alt+Up",), "nudge_up"),
    ActionSpec("act_nudge_down", "↓", "Move the drawing one input pixel down",
               ("Alt+Down",), "nudge_down"),
    ActionSpec("act_scale_up", "Bigger", "Make the drawing 10 % bigger",
               ("Alt+=", "Alt++"), "scale_up"),
    ActionSpec("act_scale_down", "Smaller", "Make the drawing 10 % smaller",
               ("Alt+-",), "scale_down"),
    ActionSpec("act_rotate_left", "↺ 15°", "Turn the drawing 15° anticlockwise",
               ("Alt+,",), "rotate_left"),
    ActionSpec("act_rotate_right", "↻ 15°", "Turn the drawing 15° clockwise",
               ("Alt+.",), "rotate_right"),
    ActionSpec("act_thicken", "Thicker strokes", "Thicken every stroke",
               ("Alt+]",), "thicken"),
    ActionSpec("act_thin", "Thinner strokes", "Thin every stroke", ("Alt+[",), "thin"),
    ActionSpec("act_deform", "Wobble", "Deform the drawing with a smooth elastic wobble",
               ("Alt+D",), "deform"),
    ActionSpec("act_noise", "Add noise", "Turn random input pixels to ink",
               ("Alt+N",), "add_noise"),
    ActionSpec("act_erase", "Erase pixels", "Clear random inked input pixels",
               ("Alt+Shift+N",), "erase_noise"),
)


def apply_step(canvas: Canvas, step: dict[str, Any], input_size: int) -> None:
    """Apply ``step`` to ``canvas`` as one undoable edit that remembers its step (so the
    readout, the record and undo all see it, however the step was asked for: a button,
    a key, a click on a sweep).

    Raises :class:`~engine.ConvPadError` (with a sentence) when the engine refuses it;
    the canvas is then unchanged.
    """
    out = transforms.apply(canvas.raster(), step, input_size)
    canvas.replace(out, transforms.describe([step]) or step["op"], dict(step))


class TransformControls(QWidget):
    """Buttons for the transforms and the input mode, acting on ``canvas``.

    ``input_size`` says how many input pixels the live model's input has across (the
    unit of a nudge). ``refused(message)`` carries a transform the engine refused
    ("would leave no ink on the canvas") for the window's notice; ``applied(step)``
    each one done.
    """

    applied = Signal(dict)
    refused = Signal(str)

    def __init__(self, canvas: Canvas, state: ExperimentState,
                 input_size: Callable[[], int] = lambda: 28,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transform_controls")
        self.canvas, self.state, self.input_size = canvas, state, input_size
        self._seed = secrets.randbelow(1 << 30)  # each wobble and noise press differs
        self.actions_ = build_actions(self, ACTIONS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        grid = QGridLayout()
        layout.addLayout(grid)
        places = {
            "act_as_drawn": (0, 0, 1, 3),
            "act_nudge_up": (1, 1, 1, 1), "act_nudge_left": (2, 0, 1, 1),
            "act_nudge_right": (2, 2, 1, 1), "act_nudge_down": (3, 1, 1, 1),
            "act_scale_up": (1, 3, 1, 1), "act_scale_down": (1, 4, 1, 1),
            "act_rotate_left": (2, 3, 1, 1), "act_rotate_right": (2, 4, 1, 1),
            "act_thicken": (3, 3, 1, 1), "act_thin": (3, 4, 1, 1),
            "act_deform": (4, 0, 1, 2), "act_noise": (4, 2, 1, 2), "act_erase": (4, 4, 1, 1),
        }
        self.buttons: dict[str, QToolButton] = {}
        for name, (r, c, rs, cs) in places.items():
            button = QToolButton()
            button.setObjectName(name.replace("act_", "button_"))
            button.setDefaultAction(self.actions_[name])
            grid.addWidget(button, r, c, rs, cs)
            self.buttons[name] = button
        self.mode_label = QLabel()
        self.mode_label.setObjectName("input_mode_label")
        self.readout = QLabel()
        self.readout.setObjectName("transform_readout")
        self.readout.setWordWrap(True)
        self.readout.setToolTip("What has been done to the drawing since it was drawn")
        layout.addWidget(self.mode_label)
        layout.addWidget(self.readout)
        layout.addStretch(1)
        state.input_mode_changed.connect(self._show_mode)
        canvas.undo_stack.indexChanged.connect(self._on_index)
        self._show_mode(state.input_mode)
        self.refresh()

    # ----- the input mode -------------------------------------------------------------
    def set_as_drawn(self, on: bool) -> None:
        self.state.set_input_mode("as-drawn" if on else "centred")

    def _show_mode(self, mode: str) -> None:
        act = self.actions_["act_as_drawn"]
        if act.isChecked() != (mode == "as-drawn"):
            act.setChecked(mode == "as-drawn")
        self.mode_label.setText(
            "Input: as drawn — the whole canvas, where you drew it" if mode == "as-drawn"
            else "Input: centred — cropped, scaled and re-centred (MNIST's recipe)")

    # ----- transforms -----------------------------------------------------------------
    def apply(self, step: dict[str, Any]) -> bool:
        """Apply ``step`` to the canvas as one undoable edit; False (and ``refused``)
        when the engine refuses it."""
        try:
            apply_step(self.canvas, step, self.input_size())
        except ConvPadError as exc:
            self.refused.emit(str(exc).capitalize())
            return False
        self.refresh()
        self.applied.emit(dict(step))
        return True

    def _on_index(self, _index: int) -> None:
        if shiboken6.isValid(self.canvas.undo_stack):  # not the stack emptied as it dies
            self.refresh()

    def refresh(self) -> None:
        text = transforms.describe(self.state.steps())
        self.readout.setText(text or "No transforms applied")

    def _next_seed(self) -> int:
        self._seed += 1
        return self._seed

    def nudge_left(self) -> None:
        self.apply({"op": "shift", "dx": -transforms.NUDGE, "dy": 0})

    def nudge_right(self) -> None:
        self.apply({"op": "shift", "dx": transforms.NUDGE, "dy": 0})

    def nudge_up(self) -> None:
        self.apply({"op": "shift", "dx": 0, "dy": -transforms.NUDGE})

    def nudge_down(self) -> None:
        self.apply({"op": "shift", "dx": 0, "dy": transforms.NUDGE})

    def scale_up(self) -> None:
        self.apply({"op": "scale", "factor": transforms.SCALE_STEP})

    def scale_down(self) -> None:
        self.apply({"op": "scale", "factor": 1 / transforms.SCALE_STEP})

    def rotate_left(self) -> None:
        self.apply({"op": "rotate", "degrees": transforms.ROTATE_STEP})

    def rotate_right(self) -> None:
        self.apply({"op": "rotate", "degrees": -transforms.ROTATE_STEP})

    def thicken(self) -> None:
        self.apply({"op": "stroke", "steps": 1})

    def thin(self) -> None:
        self.apply({"op": "stroke", "steps": -1})

    def deform(self) -> None:
        self.apply({"op": "deform", "seed": self._next_seed()})

    def add_noise(self) -> None:
        self.apply({"op": "noise", "seed": self._next_seed()})

    def erase_noise(self) -> None:
        self.apply({"op": "erase", "seed": self._next_seed()})
