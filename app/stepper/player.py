"""Play, pause, step and speed: a QTimer moving an index, and the bar of buttons that drives it.

:class:`StepPlayer` knows nothing of what is stepped: it moves an index in
``[0, count)`` and says so with ``moved``. Each tick does one small step (the views
compute only the step shown and schedule a repaint, which Qt coalesces), so playing at
full speed never holds the GUI thread for long and the live canvas keeps drawing.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.look import give_room

# Steps per second the speed slider offers; past 60 a tick advances several steps.
SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 240.0)
FRAME_MS = 16


class StepPlayer(QObject):
    """An index that steps forward on a timer. ``moved(index)``, ``playing_changed(bool)``."""

    moved = Signal(int)
    playing_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.count = 0
        self.index = 0
        self.speed = 2.0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def set_count(self, count: int) -> None:
        """A new sequence length; the index is kept where it still exists."""
        self.count = max(0, int(count))
        if self.count == 0:
            self.pause()
        self.seek(min(self.index, max(self.count - 1, 0)), force=True)

    def seek(self, index: int, force: bool = False) -> None:
        index = max(0, min(int(index), max(self.count - 1, 0)))
        if index != self.index or force:
            self.index = index
            self.moved.emit(index)

    def step(self, n: int = 1) -> None:
        self.seek(self.index + n)

    def play(self) -> None:
        if self.count <= 1:
            return
        if self.index >= self.count - 1:
            self.seek(0)
        self._timer.start(self._interval())
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, steps_per_s: float) -> None:
        self.speed = float(steps_per_s)
        if self.playing:
            self._timer.setInterval(self._interval())

    def _interval(self) -> int:
        return max(FRAME_MS, int(1000 / self.speed))

    def _tick(self) -> None:
        n = max(1, round(self.speed * self._timer.interval() / 1000))
        if self.index + n >= self.count - 1:
            self.seek(self.count - 1)
            self.pause()
        else:
            self.seek(self.index + n)


class PlayerBar(QWidget):
    """Restart, back, play/pause, step, next cell, to the end, speed, and where we are.

    Buttons never take the keyboard focus: the presenter keys go to the step-through
    whatever was clicked last.
    """

    def __init__(self, parent: QWidget | None = None, compact: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("stepper_player")
        # Compact (a dock beside the desk): the buttons in two rows of three and the
        # speed and the step count on a row of their own, so the bar fits a dock a
        # quarter of the screen wide (in one row of six, the dock cut off "To the end"
        # and half of the page at 1080p) and never forces the window wider than the screen.
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        row = QGridLayout() if compact else QHBoxLayout()
        rows.addLayout(row)
        self._rows = [rows, row]
        second = QHBoxLayout() if compact else row
        if compact:
            rows.addLayout(second)
            self._rows.append(second)
        self.buttons: dict[str, QPushButton] = {}
        for key, text, tip in (
            ("restart", "Restart", "Back to the first step (Home)"),
            ("back", "Back", "One step back (←)"),
            ("play", "Play", "Play or pause (Space)"),
            ("step", "Step", "One step forward (→)"),
            ("cell", "Next cell", "Finish this cell and go to the next (↓)"),
            ("end", "To the end", "Fast-forward: fill in everything (End)"),
        ):
            b = QPushButton(text)
            b.setObjectName(f"stepper_{key}")
            b.setToolTip(tip)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            if compact:
                row.addWidget(b, *divmod(len(self.buttons), 3))
            else:
                row.addWidget(b)
            self.buttons[key] = b
        if not compact:
            row.addSpacing(12)
        row = second
        self.speed_label = QLabel()
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setObjectName("stepper_speed")
        self.speed.setToolTip("How many steps a second when playing (+ and − keys)")
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.setMinimumWidth(80)
        row.addWidget(QLabel("Speed"))
        row.addWidget(self.speed, 1)
        row.addWidget(self.speed_label)
        row.addSpacing(12)
        self.where = QLabel()
        self.where.setObjectName("stepper_where")
        row.addWidget(self.where)
        self._player: StepPlayer | None = None
        self.speed.valueChanged.connect(self._speed_changed)
        self.speed.setValue(SPEEDS.index(2.0))
        self._speed_changed(self.speed.value())

    def set_room(self, px: float) -> None:
        """Room for type ``px`` high: a projector's 48 px labels in buttons sized for 12
        px ran into one another ("RestartBackPlay"), so padding and gaps grow with it."""
        gap = max(4, round(px * 0.5))
        for layout in self._rows:
            layout.setSpacing(gap)
        for key, b in self.buttons.items():
            give_room(b, px, ("Play", "Pause") if key == "play" else ())
        self.speed.setMinimumWidth(max(80, round(px * 5)))

    def _speed_changed(self, i: int) -> None:
        v = SPEEDS[i]
        self.speed_label.setText(f"{v:g} steps/s")
        if self._player is not None:
            self._player.set_speed(v)

    def show_playing(self, playing: bool) -> None:
        self.buttons["play"].setText("Pause" if playing else "Play")

    def set_player(self, player: StepPlayer | None) -> None:
        """Drive ``player`` (the current page's); ``None`` greys the bar out."""
        self._player = player
        self.setEnabled(player is not None and player.count > 0)
        if player is not None:
            player.set_speed(SPEEDS[self.speed.value()])
            self.show_playing(player.playing)
