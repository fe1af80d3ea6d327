"""Teach's training side: train, watch each epoch, go back through the checkpoints.

A mixin of :class:`~app.teach.panel.TeachPanel` (the data side lives there): it builds
the training half of the panel — curves, filters, maps, the checkpoint slider — and
runs a training in the one worker, showing each epoch as it ends.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.teach.views import Curves, FirstLayer
from app.teach.worker import Epoch

STOP_WAIT_S = 2.0


class TrainingSide:
    """Training, epochs and checkpoints (mixed into TeachPanel)."""

    def _build_train_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        grid = QGridLayout()
        self.epochs_box = QSpinBox()
        self.epochs_box.setObjectName("teach_epochs")
        self.epochs_box.setRange(0, 200)
        self.epochs_box.setSpecialValueText("auto")
        self.epochs_box.setToolTip("How many epochs (auto: picked for the number of drawings)")
        self.transfer_box = QCheckBox("start from the digits network's filters")
        self.transfer_box.setObjectName("teach_transfer")
        self.transfer_box.setToolTip(
            "Off: every weight starts random, and you can watch stroke detectors form. "
            "On: conv1 and conv2 start from the shipped digits network's learned filters "
            "(transfer learning), which needs fewer epochs.")
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("teach_train")
        self.train_button.setToolTip("Train a new model on this data set's drawings")
        self.train_button.clicked.connect(self.train)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("teach_cancel")
        self.cancel_button.setToolTip("Stop training; the best epoch so far is kept")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        grid.addWidget(QLabel("Epochs"), 0, 0)
        grid.addWidget(self.epochs_box, 0, 1)
        grid.addWidget(self.train_button, 0, 2)
        grid.addWidget(self.cancel_button, 0, 3)
        grid.addWidget(self.transfer_box, 1, 0, 1, 4)
        layout.addLayout(grid)
        self.progress = QProgressBar()
        self.progress.setObjectName("teach_progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("not training")
        layout.addWidget(self.progress)

        self.curves = Curves()
        layout.addWidget(self.curves, 2)
        self.first_layer = FirstLayer()
        layout.addWidget(self.first_layer, 2)

        row = QHBoxLayout()
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setObjectName("teach_scrub")
        self.scrub.setToolTip("Go back through the epochs of the last training: the live "
                              "panels show the network as it was (0: before training)")
        self.scrub.setRange(0, 0)
        self.scrub.setEnabled(False)
        self.scrub.setPageStep(1)
        self.scrub.valueChanged.connect(self.show_epoch)
        self.act_next_epoch = QAction("Next checkpoint", self)
        self.act_next_epoch.setObjectName("act_teach_next_epoch")
        self.act_next_epoch.setToolTip("Show the network one epoch later")
        self.act_next_epoch.triggered.connect(lambda: self.step_epoch(+1))
        self.act_previous_epoch = QAction("Previous checkpoint", self)
        self.act_previous_epoch.setObjectName("act_teach_previous_epoch")
        self.act_previous_epoch.setToolTip("Show the network one epoch earlier")
        self.act_previous_epoch.triggered.connect(lambda: self.step_epoch(-1))
        self.scrub_label = QLabel("epoch –")
        self.scrub_label.setObjectName("teach_scrub_label")
        row.addWidget(QLabel("Checkpoint"))
        row.addWidget(self.scrub, 1)
        row.addWidget(self.scrub_label)
        layout.addLayout(row)
        return page

    # ===== training =====================================================================
    @property
    def training(self) -> bool:
        return self.worker.running

    def train(self) -> bool:
        """Start training on this data set's drawings (in a worker thread)."""
        if self.training or self.dataset is None:
            return False
        counts = self.dataset.counts()
        if not sum(counts.values()):
            self.say("Cannot train yet: draw a few examples of each class first.")
            return False
        self.epochs = []
        self.curves.clear()
        self._reset_scrub()
        # Training allocates fast, so the GUI-thread collector (app/gui_gc.py) runs full
        # collections every few seconds; each walked every object torch, Qt and numpy
        # ever made (50-160 ms on two busy cores: the longest UI stalls measured).
        # Freezing what is alive now takes those long-lived objects out of every
        # later collection; what training makes is still collected as before.
        gc.freeze()
        self._started = time.perf_counter()
        self.worker.start(
            self.dataset.arrays, self.model_folder,
            sample=None if self.canvas.is_empty() else self.canvas.ink(),
            epochs=self.epochs_box.value() or None, device=self._device(),
            transfer=self.transfer_box.isChecked(), data_name=self.dataset.name)
        self._set_busy(True)
        self.progress.setRange(0, 0)  # busy until the first epoch says how many
        self.progress.setFormat("starting…")
        self.status.setText(f"Training on {sum(counts.values())} drawings of {len(counts)} "
                            "classes…")
        return True

    def cancel(self) -> None:
        """Stop training within a step; the best epoch so far is kept and saved."""
        if self.training:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.progress.setFormat("stopping…")

    def _set_busy(self, busy: bool) -> None:
        self.train_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.set_picker.setEnabled(not busy)
        self.training_changed.emit(busy)

    def _on_epoch(self, epoch: Epoch) -> None:
        self.epochs.append(epoch)
        m = epoch.metrics
        self.curves.add(m)
        total = m["epochs"]
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(epoch.epoch)
        if epoch.epoch:
            first = self.epochs[0].metrics["seconds"]
            per = (m["seconds"] - first) / epoch.epoch
            left = per * (total - epoch.epoch)
            self.progress.setFormat(f"epoch {epoch.epoch} of {total} — about {left:.0f} s left")
        else:
            self.progress.setFormat(f"epoch 0 of {total}")
        with QSignalBlocker(self.scrub):
            follow = self.scrub.value() == self.scrub.maximum()
            self.scrub.setRange(0, len(self.epochs) - 1)
            if follow:
                self.scrub.setValue(len(self.epochs) - 1)
        self.scrub.setEnabled(True)
        if self.scrub.value() == len(self.epochs) - 1:
            self._draw_epoch(len(self.epochs) - 1)

    def _on_finished(self, model, card: str, message: str) -> None:
        self._set_busy(False)
        self.model = model
        best = model.card.get("best_epoch", 0)
        held = model.card.get("held_out", {}).get("accuracy", float("nan"))
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("done" if not message else "stopped")
        text = (f"Trained: {model.spec.title}, best at epoch {best}, {held:.0%} of the "
                f"held-out drawings right ({time.perf_counter() - self._started:.1f} s).")
        if message:
            self.say(f"{text} {message[0].upper()}{message[1:]}.")
        else:
            self.status.setText(text)
        if card:
            self.model_ready.emit(model)

    def _on_failed(self, message: str) -> None:
        self._set_busy(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("not trained")
        self.say(message)

    # ===== checkpoints ==================================================================
    def _reset_scrub(self) -> None:
        with QSignalBlocker(self.scrub):
            self.scrub.setRange(0, 0)
            self.scrub.setValue(0)
        self.scrub.setEnabled(False)
        self.scrub_label.setText("epoch –")
        self.curves.mark(None)

    def _draw_epoch(self, index: int) -> None:
        e = self.epochs[index]
        self.first_layer.show_epoch(e.filters, e.maps)
        self.curves.mark(e.epoch)
        held = e.metrics["held_out_accuracy"]
        self.scrub_label.setText(f"epoch {e.epoch}: {held:.0%} held out")

    def step_epoch(self, delta: int) -> None:
        """Show the next (``+1``) or previous (``-1``) checkpoint: the stage's PageDown/Up."""
        if self.scrub.isEnabled():
            self.scrub.setValue(self.scrub.value() + delta)

    def show_epoch(self, index: int) -> None:
        """Show epoch ``index`` of the last training here, and in the live panels."""
        if not 0 <= index < len(self.epochs):
            return
        self._draw_epoch(index)
        self.checkpoint_chosen.emit(self.epochs[index].model)

    # ===== messages and closing =========================================================
    def say(self, message: str) -> None:
        """A sentence for the user: in the panel's status line and the window's notice."""
        self.status.setText(message)
        self.notify(message)

    def ask_stop(self) -> bool:
        """Ask whether to stop a running training (closing the window)."""
        answer = QMessageBox.question(
            self, "Training is running",
            "A model is training. Stop it and close? The best epoch so far is kept.")
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self, wait: float = STOP_WAIT_S) -> bool:
        """Cancel any training and wait for its thread (closing); True when none is left."""
        self.worker.cancel()
        done = self.worker.wait(wait)
        self.worker.close()
        return done
