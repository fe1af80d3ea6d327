"""What the experiment widgets share: the input mode, and when the drawing settles.

One :class:`ExperimentState` per window (:func:`state_for` finds or makes it, as a Qt
child of the window, so the window needs no attribute for it). It watches the canvas:

- ``settled`` fires once a stroke ends, and after any change made outside a stroke
  (undo, redo, a transform, a preset, clear). Sweeps and recording run then, never in
  the per-frame path while the pen moves; bursts of changes in one event coalesce.
- ``stroke_began`` fires as the pen goes down: the drawing is about to change, so work
  on the drawing as it was (a sweep still running) is stale and gives the pen its CPU.
- :meth:`steps` reads which transforms made the current drawing off the canvas's undo
  stack, so undo and redo keep the readout and the record right with no bookkeeping.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from app.canvas import Canvas

# Undo entries that keep the transforms applied before them (drawing more on a rotated
# drawing leaves it rotated); anything else (clear, a preset, an image) starts afresh.
KEEPS_STEPS = ("stroke",)

_PRESS = {QEvent.Type.MouseButtonPress, QEvent.Type.TabletPress}
_RELEASE = {QEvent.Type.MouseButtonRelease, QEvent.Type.TabletRelease}


class ExperimentState(QObject):
    """The input mode (``"centred"`` or ``"as-drawn"``) and the ``settled`` signal."""

    input_mode_changed = Signal(str)
    settled = Signal()
    stroke_began = Signal()

    def __init__(self, canvas: Canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("experiment_state")
        self.canvas = canvas
        self._mode = "centred"
        self._pen_down = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.settled)
        canvas.installEventFilter(self)
        canvas.changed.connect(self._on_changed)

    @property
    def input_mode(self) -> str:
        return self._mode

    def set_input_mode(self, mode: str) -> None:
        if mode not in ("centred", "as-drawn"):
            raise ValueError(f"unknown input mode {mode!r}; choose centred or as-drawn")
        if mode != self._mode:
            self._mode = mode
            self.input_mode_changed.emit(mode)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _PRESS:
            self._pen_down = True
            self._timer.stop()  # a change just before the press settles with the stroke
            self.stroke_began.emit()
        elif kind in _RELEASE:
            self._pen_down = False
            self._timer.start()  # the canvas ends the stroke while handling this event
        return False

    def _on_changed(self) -> None:
        if not self._pen_down:
            self._timer.start()

    def steps(self) -> list[dict[str, Any]]:
        """The transforms applied to the drawing now on the canvas, oldest first."""
        stack = self.canvas.undo_stack
        found = []
        for i in range(stack.index() - 1, -1, -1):
            cmd = stack.command(i)
            step = getattr(cmd, "step", None)
            if step is not None:
                found.append(step)
            elif cmd.text() not in KEEPS_STEPS:
                break
        return found[::-1]


def state_for(host: Any) -> ExperimentState:
    """The window's experiment state, made on first use (a Qt child of its canvas)."""
    state = host.canvas.findChild(ExperimentState, "experiment_state")
    if state is None:
        state = ExperimentState(host.canvas, host.canvas)
    return state
