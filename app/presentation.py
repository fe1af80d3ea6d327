"""The classroom stage (F11): full screen, large type, presenter keys, a true blackout.

:class:`Presentation` turns the window into a stage for a projector and back: the
toolbar, menus and pickers make room, open feature docks step aside (and come back),
the look grows with the screen, and :class:`PresenterKeys` lets a clicker drive the
stage whatever has the keyboard focus. B (or ".") blacks the whole screen out — the
drawing and the headline too — and brings back exactly what was there.

Features that want presenter keys (Teach's epochs) register a handler with
:meth:`Presentation.add_key_handler`; the presentation never reaches into them.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app import look, settings

K = Qt.Key
# The keys a presenter uses; what each does depends on what is showing (the stage, the
# step-through, a feature's handler such as Teach's epochs).
PRESENTER_KEYS = frozenset({
    K.Key_PageDown, K.Key_Right, K.Key_Down, K.Key_Space, K.Key_PageUp, K.Key_Left,
    K.Key_Up, K.Key_Home, K.Key_End, K.Key_B, K.Key_Period, K.Key_Escape, K.Key_S,
    K.Key_Plus, K.Key_Minus, K.Key_Equal,
})
# What a clicker sends that never types anything: it works even while a field is edited.
CLICKER_ONLY = frozenset({K.Key_PageDown, K.Key_PageUp})
_HELD = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
         | Qt.KeyboardModifier.MetaModifier)


def typing_into(widget: QWidget | None) -> bool:
    """Whether ``widget`` takes typed characters (a text field, a spin box, an editable
    combo box): letters, digits, arrows and Space are then the field's, not the stage's."""
    if isinstance(widget, QLineEdit):
        return not widget.isReadOnly()
    if isinstance(widget, (QTextEdit, QPlainTextEdit)):
        return not widget.isReadOnly()
    if isinstance(widget, QAbstractSpinBox):
        return not widget.isReadOnly()
    return isinstance(widget, QComboBox) and widget.isEditable()


class PresenterKeys(QObject):
    """An application-wide key filter, installed only while the window presents.

    Presenter clickers send PageDown/PageUp (and "B" or "." for their black-screen
    button). Those keys must move the stage even when the model picker or a panel has
    the keyboard focus — a combo box would otherwise swallow PageDown and change the
    model — so the filter sees every key press before the focused widget does. Keys with
    Ctrl/Alt/Meta held are left alone (every shortcut keeps working on the stage), and
    while a text field is being typed into only PageDown/PageUp are taken from it.
    """

    def __init__(self, parent: QObject, active: Callable[[], bool],
                 handle: Callable[[Qt.Key], None]) -> None:
        super().__init__(parent)
        self._active, self._handle = active, handle

    def install(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)  # never twice
            app.installEventFilter(self)

    def remove(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        if not self._active() or not isinstance(event, QKeyEvent):
            return False
        if event.modifiers() & _HELD:
            return False
        key = Qt.Key(event.key())
        if key not in PRESENTER_KEYS:
            return False
        if key not in CLICKER_ONLY and typing_into(QApplication.focusWidget()):
            return False  # "hbar-toy" is typed as "hbar-toy", not as a blackout and a step
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # ours: no shortcut or widget may take it first
            return True
        self._handle(key)
        return True


class Blackout(QWidget):
    """The presenter's black screen: covers the whole window, paints nothing but black."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("blackout")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.hide()
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.parent() and event.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(self.parentWidget().rect())
        return False

    def set_on(self, on: bool) -> None:
        if on:
            self.setGeometry(self.parentWidget().rect())
            self.raise_()
        self.setVisible(on)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        p.end()


def type_scale(lines: int) -> float:
    """The type's scale for ``lines`` of height: 1 up to 1080, then in proportion, in
    steps of a quarter (2160 → 2)."""
    return max(1.0, round(lines / 1080 * 4) / 4)


class Presentation(QObject):
    """Desk ↔ stage for ``window`` (see the module docstring).

    ``window`` provides ``views`` (:class:`~app.views.ViewStack`), ``controls``
    (:class:`~app.controls.DeskControls`), ``toolbar``, ``brush_size`` and ``body``
    (the layout holding controls and views).
    """

    def __init__(self, window, remembered_stage: int | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.on = False
        self._desk_font = QApplication.font()
        self._docks_open: list[QWidget] = []
        self._handlers: list[Callable[[Qt.Key], bool]] = []
        self._restore_stage = remembered_stage
        self.blackout = Blackout(window)
        self.keys = PresenterKeys(self, lambda: self.on and window.isVisible(), self.key)
        window.views.stage.stage_changed.connect(lambda i: settings.save(stage=i))
        window.live.shown.connect(self._first_frame)
        self.scale = 1.0  # the type's scale now (see apply_look)
        window.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # The desk's type follows the window's height: a resize that changes its scale
        # (in steps of a quarter, so dragging an edge does not re-lay the panels out at
        # every pixel) looks again.
        if (obj is self.window and event.type() == QEvent.Type.Resize and not self.on
                and type_scale(self._lines()) != self.scale):
            self.apply_look()
        return False

    def _lines(self) -> int:
        """The lines the type is sized for: the stage fills its screen; the desk has its
        window's height, at most its screen's."""
        screen_lines = self.screen_lines()
        return screen_lines if self.on else min(self.window.height(), screen_lines)

    def screen_lines(self) -> int:
        """The logical height of the window's screen."""
        screen = self.window.screen() or QApplication.primaryScreen()
        return screen.geometry().height() if screen else 1080

    def add_key_handler(self, handler: Callable[[Qt.Key], bool]) -> None:
        """``handler(key)`` is asked first on the stage; True means it took the key."""
        self._handlers.append(handler)

    @property
    def blanked(self) -> bool:
        return self.blackout.isVisible()

    def set(self, on: bool) -> None:
        """The classroom stage, full screen, large type, thick pen — or back to the desk."""
        if on == self.on:
            return
        w = self.window
        self.on = on
        settings.save(presenting=on)
        self.apply_look()
        w.brush_size.setValue(max(w.brush_size.value(), 34) if on else 22)
        for widget in (w.toolbar, w.menuBar(), w.controls.pickers, w.controls.clear_button):
            widget.setVisible(not on)
        if on:  # open feature docks make way for the stage and come back on the desk
            # The docks there are now: a feature not installed yet (the window opening
            # on the stage) makes its dock hidden. Asking for every dock installed them
            # all first, and the window opened on the stage 1.2 s after launch, not 0.35.
            docks = w.findChildren(QDockWidget)
            self._docks_open = [d for d in docks if d.isVisible()]
            for dock in docks:
                dock.setProperty("open_before_stage", dock in self._docks_open)
            for dock in self._docks_open:
                dock.hide()
        else:
            for dock in self._docks_open:
                dock.show()
        # On the stage the canvas is half the screen's height (the room watches the pen),
        # and the stage takes the rest of the width.
        w.body.setStretch(0, 3 if on else 2)
        w.body.setStretch(1, 7 if on else 5)
        w.views.show_view(w.views.stage if on else w.views.deck)
        (self.keys.install if on else self.keys.remove)()
        self.blackout.set_on(False)
        if on:
            # Without a window manager (Xvfb, a kiosk) full screen does not resize: do it.
            screen = w.screen() or QApplication.primaryScreen()
            w.setGeometry(screen.geometry())
            w.showFullScreen()
        else:
            w.showNormal()

    def _first_frame(self, *_args) -> None:
        stage = self.window.views.stage
        if self._restore_stage is not None and self.on and stage.stages:
            stage.go(self._restore_stage)  # where the teacher stopped last time
            self._restore_stage = None

    def apply_look(self, lines: int | None = None) -> None:
        """The desk's or the stage's look; type grows past 1080 lines (``lines``; by
        default the stage's screen's, the desk window's height at most its screen's): a
        4K screen without HiDPI scaling gets 2×, and a desk projected at 4K reads from
        the back row as one at 1080p does, not at half its size. The desk follows its
        window, not its screen: a 1080-line window on a 4K screen sized by the screen
        got 2× type in the same room, and its panel titles and axes were cut short."""
        w = self.window
        base = look.PRESENTATION if self.on else look.DESK
        lines = self._lines() if lines is None else lines
        # The stage keeps the screen's exact proportion (it never resizes while shown).
        k = self.scale = max(1.0, lines / 1080) if self.on else type_scale(lines)
        chosen = {key: round(v * k) if key.endswith("_pt") else v for key, v in base.items()}
        font = QFont(self._desk_font)
        font.setPointSize(chosen["base_pt"])
        for widget in (w, w.menuBar(), w.toolbar):
            widget.setFont(font)
        w.setPalette(look.palette(chosen))
        bold = QFont(font)
        bold.setBold(True)
        bold.setPointSize(chosen["headline_pt"])
        w.controls.prediction.setFont(bold)
        w.canvas.margin = chosen["window"]
        w.canvas.update()
        title = QFont(font)
        title.setPointSize(chosen["title_pt"])
        title.setBold(True)
        w.views.deck.apply_look(chosen, title)
        w.views.stage.set_look(chosen)

    def key(self, key: Qt.Key) -> None:
        """One presenter key, on whatever the stage shows (see the README's table)."""
        views = self.window.views
        if key == K.Key_Escape:
            if self.blanked:
                self.blackout.set_on(False)
            self.window.set_presentation(False)
        elif key in (K.Key_B, K.Key_Period):
            self.blackout.set_on(not self.blanked)
        elif self.blanked:
            return  # a black screen stays black until B: no step happens unseen
        elif key == K.Key_S:
            stepping = views.currentWidget() is views.stage_stepper
            views.show_view(views.stage if stepping else views.stage_stepper)
        elif views.currentWidget() is views.stage_stepper:
            views.stage_stepper.handle_key(key)
        elif any(handler(key) for handler in self._handlers):
            return
        elif key in (K.Key_PageDown, K.Key_Right, K.Key_Down, K.Key_Space):
            views.stage.next_stage()
        elif key in (K.Key_PageUp, K.Key_Left, K.Key_Up):
            views.stage.previous_stage()
        elif key == K.Key_Home:
            views.stage.first_stage()
