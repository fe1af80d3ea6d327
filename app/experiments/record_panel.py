"""Record, replay and the contact sheet: the experiment log in the window.

- **Record** (a toggle): every time a stroke ends — or a transform is applied — a row
  goes to the experiment folder (:class:`engine.experiment.Recorder`), written in a
  worker thread so a slow drive never stalls the pen. A folder that cannot be written
  (missing, read-only, full, removed) stops the recording with a notice; the drawing
  and the rows already written stay as they are.
- **Open experiment**: step through recorded drawings with PageDown / PageUp; each is put
  on the canvas, so the live model — any model — answers for it.
- **Contact sheet**: every drawing of the experiment through the live model, with its
  answer and confidence, wrong ones marked where a label was given, as one PNG.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.actions import ActionSpec, build_actions
from app.canvas import SIZE, Canvas
from app.experiments.state import ExperimentState
from app.notices import one_line, plain
from app.workers import Worker
from engine import ExperimentError
from engine.experiments import (
    Experiment,
    Recorder,
    contact_sheet,
    open_experiment,
    replay,
    save_contact_sheet,
)

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("act_record", "Record", "Add a row to the experiment log every time a stroke "
               "ends: drawing, model, answer and label", ("Ctrl+R",), "set_recording",
               checkable=True),
    ActionSpec("act_record_folder", "Record to…", "Choose the folder the experiment log is "
               "written to", (), "choose_folder_dialog"),
    ActionSpec("act_open_experiment", "Open experiment…", "Step through a recorded "
               "experiment's drawings (PageDown / PageUp) with the live model",
               ("Ctrl+Shift+O",), "open_experiment_dialog"),
    ActionSpec("act_next_row", "Next drawing", "The next recorded drawing", ("PgDown",),
               "next_row"),
    ActionSpec("act_prev_row", "Previous drawing", "The previous recorded drawing", ("PgUp",),
               "prev_row"),
    ActionSpec("act_contact_sheet", "Contact sheet…", "Save every drawing of the experiment "
               "with the live model's answer as one PNG", ("Ctrl+Shift+K",),
               "contact_sheet_dialog"),
)


class RecordControls(QWidget):
    """The record toggle, the label field, replay stepping and the contact sheet.

    ``model()`` gives the live model (None while none is loaded); ``folder`` is where
    the next recording goes. ``notice(message)`` carries anything the user must read;
    ``recorded(row)`` fires once a row is safely on disk.
    """

    notice = Signal(str)
    recorded = Signal(object)

    def __init__(self, canvas: Canvas, state: ExperimentState,
                 model: Callable[[], Any], folder: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("record_controls")
        self.canvas, self.state, self.model = canvas, state, model
        self.folder = Path(folder)
        self.recorder: Recorder | None = None
        self.experiment: Experiment | None = None
        self.row_index = -1
        self._placed: np.ndarray | None = None  # the replayed drawing, never re-recorded
        self._writer = Worker("convpad-record", "queue")  # rows are written in the order drawn
        self._writer.done.connect(lambda _job, row: self._on_written(row))
        self._writer.failed.connect(lambda _job, message: self._on_write_failed(message))
        self.actions_ = build_actions(self, ACTIONS)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        grid = QGridLayout()
        layout.addLayout(grid)
        for i, name in enumerate(ACTIONS):
            button = QToolButton()
            button.setObjectName(name.name.replace("act_", "button_"))
            button.setDefaultAction(self.actions_[name.name])
            # Never narrower than its text, whatever the font: the dock grows instead.
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            grid.addWidget(button, i // 2, i % 2)  # two a row: they fit a 720p dock
        self.label = QLineEdit()
        self.label.setObjectName("record_label")
        self.label.setPlaceholderText("label (optional): what it should be, e.g. 7")
        self.label.setToolTip("Saved with each recorded row; the contact sheet marks answers "
                              "that disagree with it")
        layout.addWidget(self.label)
        self.status = plain(QLabel())
        self.status.setObjectName("record_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.replay_info = plain(QLabel())
        self.replay_info.setObjectName("replay_info")
        self.replay_info.setWordWrap(True)
        # Names come from files (folders, labels, models): text, never markup (plain).
        layout.addWidget(self.replay_info)

        state.settled.connect(self._on_settled)
        self._show_status()

    # ----- recording ------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self.recorder is not None

    def set_recording(self, on: bool) -> None:
        """Start or stop recording to :attr:`folder` (a notice if it cannot be written)."""
        act = self.actions_["act_record"]
        if on and self.recorder is None:
            try:
                self.recorder = Recorder(self.folder)
            except ExperimentError as exc:
                self.notice.emit(f"Recording is off: {exc}")
                on = False
        elif not on:
            self.recorder = None
        if act.isChecked() != on:
            act.setChecked(on)
        self._show_status()

    def choose_folder(self, folder: str | Path) -> None:
        """Record to ``folder`` from now on (a running recording moves there)."""
        self.folder = Path(folder)
        if self.recording:
            self.recorder = None
            self.set_recording(True)
        self._show_status()

    def choose_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Record the experiment to",
                                                str(self.folder.parent))
        if path:
            self.choose_folder(path)

    def _on_settled(self) -> None:
        if self.recorder is None or self.canvas.is_empty():
            return
        raster = self.canvas.raster()
        if self._placed is not None and np.array_equal(raster, self._placed):
            return  # a replayed drawing, not a new one
        model = self.model()
        if model is None:
            return
        job = (self.recorder, raster, model, self.state.input_mode, self.state.steps(),
               self.label.text().strip() or None)
        self._writer.submit(_write, *job)

    def _on_written(self, row) -> None:
        self._show_status()
        self.recorded.emit(row)

    def _on_write_failed(self, message: str) -> None:
        self.set_recording(False)
        self.notice.emit(f"Recording stopped: {message}. The drawing and the rows already "
                         "written are kept.")

    def wait(self, timeout: float = 5.0) -> None:
        """Block until rows submitted so far are written (tests; closing the window)."""
        self._writer.wait(timeout)

    def _show_status(self) -> None:
        if self.recorder is not None:
            self.status.setText(f"Recording to {self.folder} — {len(self.recorder)} rows")
        else:
            self.status.setText(f"Not recording. Next recording goes to {self.folder}")

    # ----- replay ---------------------------------------------------------------------
    def open_experiment(self, folder: str | Path) -> bool:
        """Load an experiment and put its first drawing on the canvas."""
        try:
            exp = open_experiment(folder)
        except ExperimentError as exc:
            self.notice.emit(str(exc))
            return False
        self.set_recording(False)  # replayed drawings are not new rows
        self.experiment = exp
        if exp.skipped:
            self.notice.emit(f"{folder}: {len(exp.skipped)} rows skipped — "
                             + "; ".join(exp.skipped))
        if not exp.rows:
            self.replay_info.setText(f"{one_line(folder)}: no drawings to replay")
            return True
        self.show_row(0)
        return True

    def open_experiment_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open an experiment folder",
                                                str(self.folder.parent))
        if path:
            self.open_experiment(path)

    def show_row(self, i: int, step: int = 1) -> None:
        """Put recorded drawing ``i`` on the canvas (one undoable step). A row whose
        drawing cannot be read is reported by its line and skipped, going on in the
        direction ``step``: one damaged row never stops a replay."""
        exp = self.experiment
        if exp is None or not exp.rows:
            return
        i = int(np.clip(i, 0, len(exp.rows) - 1))
        while True:
            row = exp.rows[i]
            try:
                img = exp.image(row)
                break
            except ExperimentError as exc:
                self.notice.emit(f"Replay: line {row.line}: {exc}; skipped")
                if not 0 <= i + step < len(exp.rows):
                    return
                i += step
        self.row_index = i
        if img.shape == (SIZE, SIZE):
            self._placed = img
            self.canvas.replace(img, f"replay {i + 1}/{len(exp.rows)}")
        else:
            self.canvas.set_ink(img.astype(np.float32) / 255.0)
            self._placed = self.canvas.raster()
        answer = (f"{one_line(row.prediction)} {row.confidence:.0%}"
                  if row.prediction is not None else "no answer")
        label = f", label {one_line(row.label)}" if row.label is not None else ""
        self.replay_info.setText(
            f"Drawing {i + 1} of {len(exp.rows)} from {one_line(exp.folder.name)}: recorded "
            f"with {one_line(row.model)} ({one_line(row.input)}) → {answer}{label}. The "
            "live model answers above.")

    def next_row(self) -> None:
        self.show_row(self.row_index + 1)

    def prev_row(self) -> None:
        self.show_row(self.row_index - 1, step=-1)

    # ----- contact sheet --------------------------------------------------------------
    def contact_sheet(self, path: str | Path) -> Path | None:
        """Every drawing of the open (or else the recording) experiment through the live
        model, in the current input mode, saved as a PNG at ``path``."""
        model = self.model()
        if model is None:
            self.notice.emit("No model is loaded yet: wait for it, then try again")
            return None
        try:
            exp = self.experiment or open_experiment(self.folder)
            done, skipped = replay(exp, model, input=self.state.input_mode)
            if not done:
                self.notice.emit(f"{exp.folder}: no drawings to put on a contact sheet")
                return None
            out = save_contact_sheet(contact_sheet(done), path)
        except ExperimentError as exc:
            self.notice.emit(str(exc))
            return None
        extra = f" ({len(skipped)} unreadable drawings left out)" if skipped else ""
        self.notice.emit(f"Contact sheet of {len(done)} drawings saved to {out}{extra}")
        return out

    def contact_sheet_dialog(self) -> None:
        start = (self.experiment.folder if self.experiment else self.folder) / "contact-sheet.png"
        path, _ = QFileDialog.getSaveFileName(self, "Save the contact sheet", str(start),
                                              "PNG (*.png)")
        if path:
            self.contact_sheet(path)

    def close(self) -> bool:
        self._writer.wait(5.0)  # rows already drawn are written, then nothing more
        self._writer.close()
        return super().close()


def default_folder(base: Path) -> Path:
    """A fresh experiment folder name under ``base``, by date and time."""
    return base / datetime.now().strftime("%Y-%m-%d %H.%M.%S")


def _write(job, recorder: Recorder, raster, model, mode, steps, label):
    """In the worker: one row (an ExperimentError, or a bug, fails the job visibly)."""
    return recorder.record(raster, model, input=mode, transforms=steps, label=label)
