"""One class's drawings as thumbnails: enlarge, move to another class, delete.

The gallery shows files of an :class:`engine.datasets.DataSet` and asks the data set to
change them, so what is on screen is always what is on disk. A failed change (a
read-only folder) comes back as a sentence through ``problem``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from app.notices import plain
from engine import ConvPadError

THUMB = 56
LARGE = 420


def _image(path: Path) -> QImage:
    return QImage(str(path))


class SampleView(QDialog):
    """One drawing, enlarged."""

    def __init__(self, path: Path, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teach_sample_view")
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        picture = QLabel()
        picture.setObjectName("teach_sample_picture")
        picture.setPixmap(QPixmap.fromImage(_image(path)).scaled(
            LARGE, LARGE, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))
        layout.addWidget(picture)
        name = plain(QLabel(path.name))
        name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(name)


class Gallery(QListWidget):
    """Thumbnails of one class. ``changed()`` after a delete or move; ``problem(str)``."""

    changed = Signal()
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teach_gallery")
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setToolTip("This class's drawings. Double-click to enlarge; right-click to "
                        "move or delete.")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemDoubleClicked.connect(lambda item: self.enlarge(item))
        self.dataset = None
        self.class_name: str | None = None
        self.views: list[SampleView] = []

    def show_class(self, dataset, name: str | None) -> None:
        """Show ``name``'s samples from ``dataset`` (None: nothing)."""
        self.dataset, self.class_name = dataset, name
        self.clear()
        if dataset is None or name is None or name not in dataset.classes:
            return
        for path in dataset.samples(name):
            img = _image(path)
            icon = QIcon(QPixmap.fromImage(img.scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))) if not img.isNull() else QIcon()
            item = QListWidgetItem(icon, "")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(path.name)
            self.addItem(item)

    def paths(self, selected_only: bool = False) -> list[Path]:
        items = self.selectedItems() if selected_only else [self.item(i)
                                                             for i in range(self.count())]
        return [Path(it.data(Qt.ItemDataRole.UserRole)) for it in items]

    # ----- commands (also what the context menu runs) --------------------------------
    def enlarge(self, item: QListWidgetItem | None = None) -> SampleView | None:
        item = item or self.currentItem()
        if item is None:
            return None
        path = Path(item.data(Qt.ItemDataRole.UserRole))
        view = SampleView(path, f"{self.class_name}: {path.name}", self)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        view.finished.connect(lambda _=0, v=view: self.views.remove(v) if v in self.views
                              else None)
        self.views.append(view)
        view.show()
        return view

    def delete_selected(self) -> int:
        return self._apply(lambda p: self.dataset.delete(p))

    def move_selected(self, target: str) -> int:
        return self._apply(lambda p: self.dataset.move(p, target))

    def _apply(self, change) -> int:
        done = 0
        for path in self.paths(selected_only=True):
            try:
                change(path)
                done += 1
            except ConvPadError as exc:
                self.problem.emit(str(exc))
                break
        if done:
            self.show_class(self.dataset, self.class_name)
            self.changed.emit()
        return done

    def _menu(self, pos) -> None:
        if self.itemAt(pos) is None or self.dataset is None:
            return
        menu = QMenu(self)
        menu.addAction("Enlarge", lambda: self.enlarge())
        move = menu.addMenu("Move to")
        for name in self.dataset.classes:
            if name != self.class_name:
                act = QAction(name, move)
                act.triggered.connect(lambda _=False, n=name: self.move_selected(n))
                move.addAction(act)
        menu.addAction("Delete", self.delete_selected)
        menu.exec(self.viewport().mapToGlobal(pos))
