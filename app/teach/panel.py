"""The Teach panel: name classes, draw samples, train, watch it learn, scrub the epochs.

It talks to the rest of the window only through what it is given — the canvas (read
the drawing, clear it), a ``device()`` callable, ``notify(str)`` — and through its
signals, which carry values (house style 5):

- ``model_ready(model)``: a trained model, saved; its ``name`` is its card's path, so
  ``engine.load_model(model.name)`` reopens it next session;
- ``checkpoint_chosen(model)``: the slider moved; ``model`` holds that epoch's weights;
- ``model_found(card, title)``: a model saved in an earlier session, for the picker;
- ``training_changed(bool)``.

Data sets live under ``<folder>/datasets/<set>/`` (:mod:`engine.datasets`), models under
``<folder>/models/<set>/`` (:func:`engine.teach.save_model`), so a model folder is never
mistaken for a class.
"""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.teach.gallery import Gallery
from app.teach.views import Curves, FirstLayer
from app.teach.worker import Epoch, TrainWorker
from engine import DataSet, DataStore, model_spec

DEFAULT_SET = "classroom"
DEFAULT_CLASSES = ("X", "O")
ADD_KEY = "A"
STOP_WAIT_S = 2.0



def _button_row(specs) -> QHBoxLayout:
    """A row of push buttons from ``(text, objectName, tooltip, slot)``."""
    row = QHBoxLayout()
    for text, name, tip, slot in specs:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        row.addWidget(button)
    return row

class TeachPanel(QWidget):
    """Classes, samples and training of one data set at a time (see the module docstring)."""

    model_ready = Signal(object)
    checkpoint_chosen = Signal(object)
    model_found = Signal(str, str)
    training_changed = Signal(bool)

    def __init__(self, folder: str | Path, canvas, device=lambda: "auto",
                 notify=lambda message: None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teach_panel")
        self.folder = Path(folder)
        self.store = DataStore(self.folder / "datasets")
        self.canvas = canvas
        self._device = device
        self.notify = notify
        self.dataset: DataSet | None = None
        self.epochs: list[Epoch] = []
        self.model = None  # the last trained or saved model of this data set
        self._started = 0.0
        self.worker = TrainWorker()
        self.worker.epoch_done.connect(self._on_epoch)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)

        self._build()
        self._open_first_set()
        QTimer.singleShot(0, self.announce_saved_models)

    # ===== building =====================================================================
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.set_picker = QComboBox()
        self.set_picker.setObjectName("teach_dataset")
        self.set_picker.setToolTip("The data set you are teaching (one folder of drawings)")
        self.set_picker.activated.connect(lambda i: self.open_set(self.set_picker.itemText(i)))
        new_set = QPushButton("New set…")
        new_set.setObjectName("teach_new_set")
        new_set.setToolTip("Start a new data set with its own classes")
        new_set.clicked.connect(self._ask_new_set)
        top.addWidget(QLabel("Data set"))
        top.addWidget(self.set_picker, 1)
        top.addWidget(new_set)
        outer.addLayout(top)

        # Both halves always shown: the room watches training while the drawings stay in
        # view, and the plots are painted once at start-up, not when training begins.
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setObjectName("teach_split")
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self._build_data_tab())
        self.split.addWidget(self._build_train_tab())
        self.split.setStretchFactor(0, 2)
        self.split.setStretchFactor(1, 3)
        outer.addWidget(self.split, 1)

        self.status = QLabel("")
        self.status.setObjectName("teach_status")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)

    def _build_data_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.class_list = QListWidget()
        self.class_list.setObjectName("teach_classes")
        self.class_list.setToolTip(f"The classes. Pick one, draw, press {ADD_KEY} to add "
                                   "the drawing to it.")
        self.class_list.setMaximumHeight(150)
        self.class_list.currentRowChanged.connect(lambda _row: self._show_gallery())
        layout.addWidget(self.class_list)
        layout.addLayout(_button_row((
            ("Add class…", "teach_add_class", "Name a new class (2 to 10)", self._ask_add_class),
            ("Rename…", "teach_rename_class", "Rename the selected class", self._ask_rename),
            ("Remove…", "teach_remove_class", "Delete the selected class and its drawings",
             self._ask_remove),
        )))

        self.act_add = QAction(f"Add drawing to class ({ADD_KEY})", self)
        self.act_add.setObjectName("act_teach_add")
        self.act_add.setShortcut(QKeySequence(ADD_KEY))
        self.act_add.setToolTip("Save the canvas as a drawing of the selected class, then "
                                f"clear it for the next one ({ADD_KEY})")
        self.act_add.triggered.connect(self.add_canvas)
        self.add_button = QPushButton(self.act_add.text())
        self.add_button.setObjectName("teach_add")
        self.add_button.setToolTip(self.act_add.toolTip())
        self.add_button.clicked.connect(self.act_add.trigger)
        layout.addWidget(self.add_button)

        self.gallery = Gallery()
        self.gallery.changed.connect(self._refresh_counts)
        self.gallery.problem.connect(self.say)
        layout.addWidget(self.gallery, 1)
        layout.addLayout(_button_row((
            ("Delete", "teach_delete", "Delete the selected drawings",
             self.gallery.delete_selected),
            ("Enlarge", "teach_enlarge", "Show the selected drawing large",
             lambda: self.gallery.enlarge()),
            ("Import folder…", "teach_import", "Import a folder with one sub-folder of "
             "images per class", self._ask_import),
        )))
        return page

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

    # ===== data sets ====================================================================
    def _open_first_set(self) -> None:
        names = self.store.names()
        if not names:
            try:
                self.store.create(DEFAULT_SET, DEFAULT_CLASSES)
            except (OSError, ValueError) as exc:
                self.say(f"Cannot create a data set in {self.store.root}: {exc}")
                self._fill_sets()
                return
            names = self.store.names()
        self._fill_sets()
        self.open_set(names[0])

    def _fill_sets(self) -> None:
        with QSignalBlocker(self.set_picker):
            self.set_picker.clear()
            self.set_picker.addItems(self.store.names())
            if self.dataset is not None:
                self.set_picker.setCurrentText(self.dataset.name)

    def open_set(self, name: str) -> None:
        """Show data set ``name``: its classes, its drawings, its saved model's curves."""
        if self.training:
            self.say("Wait for the training to finish (or cancel it) to change data sets.")
            self._fill_sets()
            return
        try:
            self.dataset = self.store.open(name)
        except (OSError, ValueError) as exc:
            self.say(str(exc))
            return
        self._fill_sets()
        self.epochs = []
        self.model = None
        self._reset_scrub()
        self.first_layer.show_epoch(None, None)
        self._refresh_classes(select=0)
        self._show_saved_curves()

    def _ask_new_set(self) -> None:
        name, ok = QInputDialog.getText(self, "New data set", "Name of the new data set:")
        if ok and name:
            self.new_set(name)

    def new_set(self, name: str, classes: tuple[str, ...] = ("A", "B")) -> bool:
        try:
            ds = self.store.create(name, classes)
        except (OSError, ValueError) as exc:
            self.say(str(exc))
            return False
        self.open_set(ds.name)
        return True

    @property
    def model_folder(self) -> Path:
        """Where this data set's model is saved (outside the data set: not a class)."""
        assert self.dataset is not None
        return self.folder / "models" / self.dataset.name

    def saved_models(self) -> list[tuple[str, str]]:
        """(card path, title) of every model saved next to a data set, read without torch."""
        found = []
        for name in self.store.names():
            card = self.folder / "models" / name / "model.json"
            if card.is_file():
                try:
                    spec = model_spec(card)
                except ValueError as exc:
                    self.say(f"Model of {name!r} not offered: {exc}")
                    continue
                found.append((spec.name, spec.title))
        return found

    def announce_saved_models(self) -> None:
        """Emit ``model_found`` for each model saved in an earlier session."""
        for card, title in self.saved_models():
            self.model_found.emit(card, title)

    def _show_saved_curves(self) -> None:
        self.curves.clear()
        card = self.model_folder / "model.json"
        if not card.is_file():
            return
        try:
            model_spec(card)  # the card is checked against its weights first
            data = json.loads(card.read_text(encoding="utf-8"))
        except ValueError as exc:
            self.say(str(exc))
            return
        self.curves.set_history(list(data.get("history", [])))
        held = data.get("held_out", {}).get("accuracy")
        if held is not None:
            self.say(f"Saved model: {data.get('title', '')}, {held:.0%} on held-out drawings "
                     f"({data.get('date', '')}).")

    # ===== classes ======================================================================
    @property
    def current_class(self) -> str | None:
        row = self.class_list.currentRow()
        if self.dataset is None or not 0 <= row < len(self.dataset.classes):
            return None
        return self.dataset.classes[row]

    def select_class(self, name: str) -> None:
        assert self.dataset is not None
        self.class_list.setCurrentRow(self.dataset.classes.index(name))

    def _refresh_classes(self, select: int | None = None) -> None:
        row = self.class_list.currentRow() if select is None else select
        with QSignalBlocker(self.class_list):
            self.class_list.clear()
            if self.dataset is not None:
                for name, n in self.dataset.counts().items():
                    self.class_list.addItem(f"{name}   ({n} drawing{'s' * (n != 1)})")
            if self.class_list.count():
                self.class_list.setCurrentRow(min(max(row, 0), self.class_list.count() - 1))
        self._show_gallery()

    def _refresh_counts(self) -> None:
        self._refresh_classes()

    def _show_gallery(self) -> None:
        self.gallery.show_class(self.dataset, self.current_class)

    def add_class(self, name: str) -> bool:
        try:
            name = self.dataset.add_class(name)
        except (OSError, ValueError) as exc:
            self.say(str(exc))
            return False
        self._refresh_classes(select=self.dataset.classes.index(name))
        return True

    def _ask_add_class(self) -> None:
        if self.dataset is None:
            return
        name, ok = QInputDialog.getText(self, "Add class", "Name of the new class:")
        if ok and name:
            self.add_class(name)

    def _ask_rename(self) -> None:
        old = self.current_class
        if old is None:
            return
        new, ok = QInputDialog.getText(self, "Rename class", f"New name for {old!r}:", text=old)
        if ok and new:
            self._change_classes(self.dataset.rename_class, old, new)

    def _ask_remove(self) -> None:
        name = self.current_class
        if name is None:
            return
        n = len(self.dataset.samples(name))
        answer = QMessageBox.question(self, "Remove class",
                                      f"Delete class {name!r} and its {n} drawings?")
        if answer == QMessageBox.StandardButton.Yes:
            self._change_classes(self.dataset.remove_class, name)

    def _change_classes(self, change, *args) -> None:
        """Change the classes on disk (say why when it fails), then show them as they are."""
        try:
            change(*args)
        except (OSError, ValueError) as exc:
            self.say(str(exc))
        self._refresh_classes()

    # ===== samples ======================================================================
    def add_canvas(self) -> bool:
        """Save the canvas as a drawing of the selected class and clear the canvas."""
        name = self.current_class
        if name is None:
            self.say("Pick a class first (or add one).")
            return False
        if self.canvas.is_empty():
            self.say(f"Draw something first, then press {ADD_KEY} to add it to {name!r}.")
            return False
        try:
            self.dataset.add(name, self.canvas.ink())
        except (OSError, ValueError) as exc:
            self.say(f"The drawing was not saved — {exc}")
            return False
        self.canvas.clear()
        self._refresh_classes()
        self.status.setText(f"Added to {name!r}.")
        return True

    def _ask_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Import a folder with one sub-folder of images per class")
        if folder:
            self.import_folder(folder)

    def import_folder(self, folder: str | Path) -> None:
        """Import an ImageFolder tree into this data set; a notice lists what was skipped."""
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            report = self.dataset.import_folder(folder)
        except (OSError, ValueError) as exc:
            self.say(f"Import stopped — {exc}")
            self._refresh_classes()
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._refresh_classes()
        self.say(report.summary())

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
