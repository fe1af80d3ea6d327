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

import json
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.notices import cannot, one_line, plain
from app.teach.gallery import Gallery
from app.teach.runs import TrainingSide
from app.teach.worker import Epoch, TrainWorker
from engine import ConvPadError, DataSet, DataStore, model_spec

DEFAULT_SET = "classroom"
DEFAULT_CLASSES = ("X", "O")
ADD_KEY = "A"



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

class TeachPanel(TrainingSide, QWidget):
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

        self.status = plain(QLabel(""))
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

    # ===== data sets ====================================================================
    def _open_first_set(self) -> None:
        names = self.store.names()
        if not names:
            try:
                self.store.create(DEFAULT_SET, DEFAULT_CLASSES)
            except ConvPadError as exc:
                self.say(cannot(f"create a data set in {self.store.root}", exc))
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
        except ConvPadError as exc:  # a damaged or foreign folder: say so, keep the window
            self.say(cannot(f"open the data set {one_line(name)!r}", exc))
            return
        for problem in self.dataset.problems:
            self.say(f"Data set {one_line(name)!r}: {problem}.")
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
        except ConvPadError as exc:
            self.say(cannot("create the data set", exc))
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
                except ConvPadError as exc:
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
        except ConvPadError as exc:
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
        except ConvPadError as exc:
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
        except ConvPadError as exc:
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
        except ConvPadError as exc:
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
        except ConvPadError as exc:
            self.say(f"Import stopped — {exc}")
            self._refresh_classes()
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._refresh_classes()
        self.say(report.summary())
