"""Presenter keys: a clicker drives the stage whatever widget has the focus.

Presenter clickers send PageDown/PageUp (and "B" or "." for their black-screen
button). Those keys must move the stage even when the model picker, a spin box or a
panel has the keyboard focus — a combo box would otherwise swallow PageDown and change
the model. An application-wide event filter sees every key press before the focused
widget does; while the window presents, it turns the presenter keys into stage steps
and consumes them. Keys with Ctrl/Alt/Meta held are left alone, so every shortcut
(Ctrl+Z, Ctrl+1…3, Alt+arrows) keeps working on the stage.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

K = Qt.Key
# The keys a presenter uses; the window's ``presenter_key(key)`` says what each does on
# what is showing (the stage, the step-through, a training's checkpoints).
PRESENTER_KEYS = frozenset({
    K.Key_PageDown, K.Key_Right, K.Key_Down, K.Key_Space, K.Key_PageUp, K.Key_Left,
    K.Key_Up, K.Key_Home, K.Key_End, K.Key_B, K.Key_Period, K.Key_Escape, K.Key_S,
    K.Key_Plus, K.Key_Minus, K.Key_Equal,
})
_HELD = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
         | Qt.KeyboardModifier.MetaModifier)


class PresenterKeys(QObject):
    """On the application while the window presents (:meth:`install`, :meth:`remove`).

    Installed only on the stage: an application-wide filter sees every event of the
    process, hundreds of thousands in a session at the desk.
    """

    def __init__(self, window: QObject, active: Callable[[], bool]) -> None:
        super().__init__(window)
        self._window = window
        self._active = active

    def install(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)  # never twice
            app.installEventFilter(self)

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
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # ours: no shortcut or widget may take it first
            return True
        self._window.presenter_key(key)
        return True

    def remove(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
