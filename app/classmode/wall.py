"""The gallery wall on the desk: join code, the prompt, the drawings, the summary.

A plain widget: :class:`~app.classmode.ClassMode` feeds it entries and reacts to its
signals. Students' names are shown as plain text (``QListWidgetItem`` text and
``Qt.PlainText`` labels), never as markup.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.classmode.sorting import Prompt, Summary
from app.notices import plain, plain_tip
from app.numbers import percent_text
from app.stage.wall import STATUS_COLOURS

THUMB = 96


class WallPanel(QWidget):
    """Signals: ``open_wanted``/``close_wanted``, ``ask(Prompt | None)``, ``chosen(index)``
    (a drawing clicked: put it on the canvas), ``collect(indices)``."""

    open_wanted = Signal()
    close_wanted = Signal()
    ask = Signal(object)
    chosen = Signal(int)
    collect = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("class_wall")
        self.classes: list[str] = []
        self._parsed = ""  # the prompt's words last read into the pickers
        self.url = plain(QLabel("The class is closed."))
        self.url.setObjectName("class_url")
        self.url.setWordWrap(True)
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.url.font()
        font.setBold(True)
        self.url.setFont(font)
        self.qr = QLabel()
        self.qr.setObjectName("class_qr")
        self.open_button = QPushButton("Open the class")
        self.open_button.clicked.connect(self.open_wanted)
        self.close_button = QPushButton("Close the class")
        self.close_button.clicked.connect(self.close_wanted)

        self.prompt = QLineEdit()
        self.prompt.setObjectName("class_prompt")
        self.prompt.setPlaceholderText("Ask the class: “draw a 7”, “fool it: a 3 it reads as an 8”")
        self.prompt.returnPressed.connect(self._ask)
        self.asked = QComboBox()
        self.asked.setObjectName("class_asked")
        self.fool = QCheckBox("fool it, read as")
        self.fooled_as = QComboBox()
        ask = QPushButton("Ask")
        ask.clicked.connect(self._ask)
        stop = QPushButton("Stop asking")
        stop.clicked.connect(lambda: self.ask.emit(None))

        self.list = QListWidget()
        self.list.setObjectName("class_list")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(True)
        self._fit_grid()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemClicked.connect(
            lambda item: self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.summary = plain(QLabel(""))
        self.summary.setObjectName("class_summary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setObjectName("class_confusion")
        self.table.setToolTip("Rows: what was asked. Columns: what the network said.")
        self.table.hide()
        collect_prompt = QPushButton("To Teach: the prompt's")
        collect_prompt.setToolTip("Collect for Teach: add every drawing sent under the open "
                                  "prompt to the Teach data set, as the class it asked for")
        collect_prompt.clicked.connect(lambda: self.collect.emit([]))
        collect_selected = QPushButton("To Teach: the selected")
        collect_selected.setToolTip("Collect for Teach: add the selected drawings")
        collect_selected.clicked.connect(lambda: self.collect.emit(self.selected()))

        # One column, each row narrow: the dock may be a quarter of a 1280 px screen.
        buttons = QVBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.qr)
        top.addLayout(buttons)
        top.addStretch(1)
        which = QHBoxLayout()
        which.addWidget(QLabel("asked"))
        which.addWidget(self.asked)
        which.addWidget(self.fool)
        which.addWidget(self.fooled_as)
        which.addStretch(1)
        asking = QHBoxLayout()
        asking.addWidget(ask)
        asking.addWidget(stop)
        asking.addStretch(1)
        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addWidget(self.url)
        box.addWidget(self.prompt)
        box.addLayout(which)
        box.addLayout(asking)
        box.addWidget(self.list, 1)
        box.addWidget(self.summary)
        box.addWidget(self.table)
        box.addWidget(collect_prompt)
        box.addWidget(collect_selected)
        self.set_open(None, None)

    # ----- state ------------------------------------------------------------------------
    def set_open(self, url: str | None, qr_png: bytes | None) -> None:
        # The key on a line of its own: a label wraps at spaces only, and the whole
        # address is what a student types.
        self.url.setText(url.replace("?k=", "\n?k=") if url else
                         "The class is closed: open it to let students draw in.")
        if qr_png:
            pix = QPixmap()
            pix.loadFromData(qr_png)
            self.qr.setPixmap(pix.scaled(150, 150, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.FastTransformation))
        else:
            self.qr.clear()
        self.open_button.setEnabled(url is None)
        self.close_button.setEnabled(url is not None)

    def _fit_grid(self) -> None:
        """Every cell of the wall the same size: the thumbnail over three lines (name;
        answer; status), a longer name elided. With cells of their own sizes, each new
        drawing made the list lay out every drawing again, text and all, 2–3 ms of the
        GUI thread with 300 on the wall, growing with each."""
        fm = self.list.fontMetrics()
        width = max(THUMB, fm.horizontalAdvance("0" * 12)) + 12
        self._cell = QSize(width - 4, THUMB + 3 * fm.lineSpacing() + 8)
        self.list.setGridSize(QSize(width, THUMB + 3 * fm.lineSpacing() + 12))
        for i in range(self.list.count()):
            self.list.item(i).setSizeHint(self._cell)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_grid()

    def set_classes(self, classes: list[str]) -> None:
        self.classes = list(classes)
        for box in (self.asked, self.fooled_as):
            box.clear()
            box.addItem("(none)", None)
            for c in self.classes:
                box.addItem(c, c)

    def show_prompt(self, prompt: Prompt | None) -> None:
        """Reflect the prompt in force (the teacher's words, as parsed or corrected)."""
        if prompt is None:
            return
        self.prompt.setText(prompt.text)
        self.asked.setCurrentIndex(max(0, self.asked.findData(prompt.asked)))
        self.fool.setChecked(prompt.fool)
        self.fooled_as.setCurrentIndex(max(0, self.fooled_as.findData(prompt.fooled_as)))

    def _ask(self) -> None:
        """Ask what the field says. New words are read for the asked class (and a fool
        prompt's target); the pickers then hold it, and a correction made there wins."""
        from app.classmode.sorting import parse_prompt

        text = " ".join(self.prompt.text().split())
        if not text:
            self.ask.emit(None)
            return
        if text != self._parsed:
            self._parsed = text
            self.show_prompt(parse_prompt(text, self.classes))
        fool = self.fool.isChecked()
        self.ask.emit(Prompt(text, self.asked.currentData(), fool,
                             self.fooled_as.currentData() if fool else None))

    # ----- drawings ---------------------------------------------------------------------
    def add(self, index: int, raster: np.ndarray, name: str, answer: str, p: float,
            status: str) -> None:
        """One more drawing, at the top of the wall."""
        a = np.ascontiguousarray(raster, np.uint8)
        image = QImage(a.data, a.shape[1], a.shape[0], a.shape[1],
                       QImage.Format.Format_Grayscale8).scaled(
            THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation)
        # One line for the name (the tooltip has it whole): a cell holds three lines.
        shown = self.list.fontMetrics().elidedText(name or "—", Qt.TextElideMode.ElideRight,
                                                   self._cell.width() - 8)
        words = f"{shown}\n{answer} {percent_text(p)}" + (f"\n{status}" if status else "")
        item = QListWidgetItem(QIcon(QPixmap.fromImage(image)), words)
        item.setData(Qt.ItemDataRole.UserRole, index)
        item.setSizeHint(self._cell)
        item.setToolTip(plain_tip(
            f"{name or 'no name'}: the network says {answer} ({percent_text(p)})"
            + (f" — {status}" if status else "") + ". Click: put it on the canvas."))
        if status in STATUS_COLOURS:
            item.setForeground(QBrush(QColor(STATUS_COLOURS[status])))
        self.list.insertItem(0, item)

    def clear_drawings(self) -> None:
        self.list.clear()

    def selected(self) -> list[int]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def show_summary(self, summary: Summary) -> None:
        lines = [summary.line()]
        right = summary.right_per_class()
        if right:
            lines.append("read as asked: " + ", ".join(f"{c} {a}/{n}" for c, (a, n) in
                                                       right.items()))
        self.summary.setText("\n".join(lines) if summary.total else "")
        asked, said, counts = summary.confusion()
        self.table.setVisible(bool(asked))
        self.table.setRowCount(len(asked))
        self.table.setColumnCount(len(said))
        self.table.setVerticalHeaderLabels([f"asked {a}" for a in asked])
        self.table.setHorizontalHeaderLabels([f"said {s}" for s in said])
        for r, row in enumerate(counts):
            for c, n in enumerate(row):
                cell = QTableWidgetItem(str(n) if n else "")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(r, c, cell)
        self.table.resizeColumnsToContents()
        self.table.setMaximumHeight(self.table.verticalHeader().length()
                                    + self.table.horizontalHeader().height() + 4)
