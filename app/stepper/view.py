"""The base of every step-through picture: lay blocks out, paint them, map clicks to cells.

A :class:`StepView` subclass says *what* to show for the current step — a list of
:class:`~app.stepper.paint.Grid` and a function building the rows of blocks — and this
class fits it to the widget (:func:`~app.stepper.paint.choose_numbered`), paints it and
turns clicks and wheel turns on a grid into ``cell_clicked`` / ``cell_wheeled``. It
also owns the inline cell editor: ``open_editor`` puts a line edit over a cell and
``edit_committed`` carries what was typed; the page decides whether to accept it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication, QKeyEvent, QPainter
from PySide6.QtWidgets import QLineEdit, QSizePolicy, QWidget

from app.stepper.grid import Grid
from app.stepper.paint import Block, Look, Metrics, Placed, choose_numbered, font_at, place

LEGIBLE_SHARE = 45  # numbers ≥ 1/45 of the screen height (issue #7's rule)


def legible_px(widget: QWidget) -> float:
    """The number size a projector needs for ``widget``'s window, capped by the widget.

    Full screen that is 1/45 of the screen height (16 px at 720p, 24 at 1080p, 48 at 4K),
    the same rule and the same reference as the stage's (its window's height, which full
    screen is the screen's); a small desk dock cannot reach that, and gets 1/32 of its
    own height (≥ 10 px).
    """
    window = widget.window()
    if window is widget or window is None:
        screen = widget.screen() or QGuiApplication.primaryScreen()
        reference = screen.geometry().height() if screen else 1080
    else:
        reference = window.height()
    return max(10.0, min(reference / LEGIBLE_SHARE, widget.height() / 32))


class _Editor(QLineEdit):
    """The inline editor: Enter commits, Esc cancels."""

    cancelled = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancelled.emit()
            return
        super().keyPressEvent(event)


class StepView(QWidget):
    """Fits, paints and hit-tests the blocks of one step; subclasses give :meth:`content`."""

    cell_clicked = Signal(str, int, int)
    cell_wheeled = Signal(str, int, int, int)
    edit_committed = Signal(str, int, int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setAutoFillBackground(False)
        self.number_px = 0.0  # the number font of the last layout (tests read it)
        self.message = ""  # shown instead of the content ("draw something")
        self._shown: list[str] = []
        # Docked on the desk a reader sits at the screen: numbers may go below the
        # projector's 1/45 before a grid gives them up for colours.
        self.desk = False
        self.editable: set[str] = set()  # grid keys whose cells can be typed into
        self._metrics: Metrics | None = None
        self._metrics_family = ""
        self._layout_cache: tuple[float, list[Placed], dict[str, Grid]] | None = None
        self._editing: tuple[str, int, int] | None = None
        self.editor = _Editor(self)
        self.editor.setObjectName("stepper_cell_editor")
        self.editor.hide()
        self.editor.returnPressed.connect(self._commit)
        self.editor.cancelled.connect(self.close_editor)

    # ----- for subclasses --------------------------------------------------------------------
    def content(self) -> tuple[list[Grid], Callable[[], list[list[Block]]]] | None:
        """The grids of the current step and a function building its rows (None: nothing)."""
        return None

    @property
    def shown(self) -> list[str]:
        """The lines of arithmetic on screen now (what a test or a screen reader checks)."""
        self.layout_now()
        return self._shown

    def invalidate(self) -> None:
        """The data changed: lay out again at the next paint."""
        self._layout_cache = None
        self.update()

    # ----- layout ----------------------------------------------------------------------------
    @property
    def metrics(self) -> Metrics:
        family = self.font().family()
        if self._metrics is None or family != self._metrics_family:
            self._metrics, self._metrics_family = Metrics(self.font()), family
        return self._metrics

    def look(self) -> Look:
        return Look.of(self)

    def area(self) -> QRectF:
        m = max(4.0, self.height() * 0.015)
        return QRectF(self.rect()).adjusted(m, m, -m, -m)

    def layout_now(self) -> tuple[float, list[Placed], dict[str, Grid]]:
        if self._layout_cache is not None:
            return self._layout_cache
        self._shown = []
        made = None if self.message else self.content()
        if made is None:
            self._layout_cache = (0.0, [], {})
            return self._layout_cache
        grids, build = made
        area = self.area()
        legible = 11.0 if self.desk else legible_px(self)
        f = choose_numbered(grids, build, area.width(), area.height(), legible,
                            max_px=max(12.0, self.height() / 14))
        rows = build()
        placed = place(rows, area, f)
        self.number_px = f
        self._layout_cache = (f, placed, {g.key: g for g in grids if g.key})
        return self._layout_cache

    def smallest_px(self) -> float:
        """The smallest text this step paints: every title, caption and number is drawn
        at the layout's ``f`` times a scale of at least 1, so it is ``number_px``."""
        return self.number_px

    def resizeEvent(self, event) -> None:
        self._layout_cache = None
        self.close_editor()
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:
        self._layout_cache = None
        super().changeEvent(event)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        look = self.look()
        p.fillRect(self.rect(), look.background)
        if self.message:
            self._paint_message(p, look)
            p.end()
            return
        f, placed, _ = self.layout_now()
        for item in placed:
            item.block.draw(p, item.rect, f)
        p.end()

    def _paint_message(self, p: QPainter, look: Look) -> None:
        px = max(legible_px(self) * 1.3, self.height() / 16)
        p.setFont(font_at(self.font(), px, bold=True))
        p.setPen(look.text)
        p.drawText(self.area(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                   self.message)

    # ----- hits ------------------------------------------------------------------------------
    def cell_at(self, pos: QPointF) -> tuple[str, int, int] | None:
        """The grid key and cell under ``pos`` (widget coordinates), if any."""
        f, placed, grids = self.layout_now()
        for item in placed:
            grid = grids.get(item.block.key)
            if grid is None:
                continue
            hit = grid.hit(item.rect, f, self.metrics, pos)
            if hit is not None:
                return (grid.key, *hit)
        return None

    def cell_rect(self, key: str, r: int, c: int) -> QRectF | None:
        f, placed, grids = self.layout_now()
        for item in placed:
            if item.block.key == key and key in grids:
                return grids[key].cell_rect(item.rect, f, self.metrics, r, c)
        return None

    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cell_clicked.emit(*hit)
            event.accept()
            return
        super().mousePressEvent(event)

    def wheelEvent(self, event) -> None:
        hit = self.cell_at(event.position())
        if hit is not None and hit[0] in self.editable:
            delta = 1 if event.angleDelta().y() > 0 else -1
            self.cell_wheeled.emit(*hit, delta)
            event.accept()
            return
        super().wheelEvent(event)

    # ----- the inline editor -----------------------------------------------------------------
    def open_editor(self, key: str, r: int, c: int, text: str) -> None:
        """Put a line edit over cell ``(r, c)`` of grid ``key``, holding ``text`` selected."""
        rect = self.cell_rect(key, r, c)
        if rect is None:
            return
        self._editing = (key, r, c)
        grow = rect.width() * 0.6
        self.editor.setGeometry(rect.adjusted(-grow / 2, -2, grow / 2, 2).toRect())
        font = QFont(self.font())
        font.setPixelSize(max(10, int(self.number_px)))
        self.editor.setFont(font)
        self.editor.setStyleSheet("")
        self.editor.setText(text)
        self.editor.selectAll()
        self.editor.show()
        self.editor.raise_()
        self.editor.setFocus()

    def refuse(self) -> None:
        """The typed value was refused: keep the editor open, marked, text selected."""
        self.editor.setStyleSheet("border: 3px solid #d62728;")
        self.editor.selectAll()
        self.editor.setFocus()

    def close_editor(self) -> None:
        if self.editor.isVisible():
            self.editor.hide()
            self._editing = None
            if self.parentWidget() is not None:
                self.setFocus()

    @property
    def editing(self) -> tuple[str, int, int] | None:
        return self._editing if self.editor.isVisible() else None

    def _commit(self) -> None:
        if self._editing is not None:
            self.edit_committed.emit(*self._editing, self.editor.text())


class ShowView(StepView):
    """A step view of one operation's steps (a ``*Show``): which show, which step.

    The conv, pool, ReLU, votes and dense views differ only in what they paint.
    """

    def __init__(self, name: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.show_ = None
        self.index = 0

    def set_show(self, show, index: int = 0) -> None:
        self.show_, self.index = show, index
        self.invalidate()

    def set_index(self, index: int) -> None:
        self.index = index
        self.invalidate()

    def current(self):
        """``(show, its steps, the step shown)``, or None while there is nothing to show."""
        show = self.show_
        if show is None or len(show.steps) == 0:
            return None
        s = show.steps
        return show, s, s[min(self.index, len(s) - 1)]
