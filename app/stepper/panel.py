"""The step-through: the lecture's pages, then one page per layer of the live network.

:class:`StepperPanel` is the whole feature as one widget — dock it on the desk
(:func:`app.stepper.install`) or fill a screen with it (:class:`LessonsWindow`). It
takes traces (``set_trace``) and models (``set_model``) and never runs the network
itself. The presenter keys work while it has the focus:

=================  ==========================================
PageDown / PageUp  next / previous page (a clicker's buttons)
→ / ←              one step forward / back (→ pauses first)
Space              play / pause
↓                  finish this cell, go to the next
Home / End         first step / fill in everything
+ / −              faster / slower
=================  ==========================================

It accepts those keys' shortcut-override events, so while the step-through has focus
they reach it before any window-wide shortcut with the same key; elsewhere in the
window they do whatever the window binds them to.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import look
from app.stepper.features import FeaturesPage
from app.stepper.layer_page import LayerPage
from app.stepper.pages import ConvLessonPage, Page, SizePage, quiet
from app.stepper.player import PlayerBar
from app.stepper.view import legible_px
from engine.lecture import CONV_LESSONS, SIZE, steppable_layers

K = Qt.Key
KEYS = {
    K.Key_PageDown, K.Key_PageUp, K.Key_Right, K.Key_Left, K.Key_Space, K.Key_Down,
    K.Key_Home, K.Key_End, K.Key_Plus, K.Key_Equal, K.Key_Minus,
}


class StepperPanel(QWidget):
    """Lecture pages + layer pages + the features page, a player bar, and the presenter keys.

    Signals: ``weights_edited(layer_name, weights)`` and ``model_edited(model)`` when the
    toy's features are edited (a model copy; the shipped one is untouched), ``notice(str)``
    for the window's banner, ``page_changed(int)``.
    """

    weights_edited = Signal(str, object)
    model_edited = Signal(object)
    notice = Signal(str)
    page_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None, compact: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("stepper_panel")
        self.compact = compact  # docked beside the desk, not filling a screen
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.trace = None
        self.blank = True
        self.model = None
        self.pages: list[Page] = []
        self.lesson_pages: list[Page] = [ConvLessonPage(les) for les in CONV_LESSONS]
        self.lesson_pages.append(SizePage(SIZE))
        self.features = FeaturesPage()
        self.features.weights_edited.connect(self.weights_edited)
        self.features.model_edited.connect(self.model_edited)
        self.features.notice.connect(self.notice)

        self.prev_button = quiet(QPushButton("◀ Page"))
        self.prev_button.setToolTip("Previous page (PageUp)")
        self.next_button = quiet(QPushButton("Page ▶"))
        self.next_button.setToolTip("Next page (PageDown)")
        self.page_picker = quiet(QComboBox())
        self.page_picker.setObjectName("stepper_pages")
        self.page_picker.setToolTip("Go to a page")
        self.page_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.page_picker.setMinimumContentsLength(10)
        self.counter = QLabel()
        self.prev_button.clicked.connect(lambda: self.go(self.current - 1))
        self.next_button.clicked.connect(lambda: self.go(self.current + 1))
        self.page_picker.activated.connect(self.go)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.prev_button)
        head.addWidget(self.page_picker, 1)
        head.addWidget(self.counter)
        head.addWidget(self.next_button)
        self.stack = QStackedWidget()
        self.bar = PlayerBar(compact=compact)
        b = self.bar.buttons
        b["restart"].clicked.connect(lambda: self._player_do("restart"))
        b["back"].clicked.connect(lambda: self._player_do("back"))
        b["play"].clicked.connect(lambda: self._player_do("play"))
        b["step"].clicked.connect(lambda: self._player_do("step"))
        b["cell"].clicked.connect(lambda: self._player_do("cell"))
        b["end"].clicked.connect(lambda: self._player_do("end"))
        box = QVBoxLayout(self)
        box.setContentsMargins(8, 6, 8, 6)
        box.addLayout(head)
        box.addWidget(self.stack, 1)
        box.addWidget(self.bar)
        self.current = -1
        self._wired: list[Page] = []
        self._rebuild_pages([])
        self.go(0)

    # ----- pages -----------------------------------------------------------------------------
    def _rebuild_pages(self, layer_pages: list[Page]) -> None:
        keep = self.page.key if 0 <= self.current < len(self.pages) else None
        for page in self.pages:
            if isinstance(page, LayerPage):
                page.player.pause()
                self.stack.removeWidget(page)
                self._wired.remove(page)
                page.deleteLater()
            elif page in (self.features,) or page in self.lesson_pages:
                self.stack.removeWidget(page)
        has_features = self.features.base_model is not None
        self.pages = [*self.lesson_pages, *layer_pages, *([self.features] if has_features else [])]
        with QSignalBlocker(self.page_picker):
            self.page_picker.clear()
            for i, page in enumerate(self.pages):
                self.stack.addWidget(page)
                if page not in self._wired:
                    page.view.setFocusProxy(self)
                    page.player.moved.connect(self._moved)
                    page.player.playing_changed.connect(self.bar.show_playing)
                    self._wired.append(page)
                self.page_picker.addItem(f"{i + 1}. {page.page_title}")
        keys = [p.key for p in self.pages]
        self.current = -1
        self.go(keys.index(keep) if keep in keys else 0)
        self._apply_fonts()

    @property
    def page(self) -> Page:
        return self.pages[self.current]

    def page_keys(self) -> list[str]:
        return [p.key for p in self.pages]

    def go(self, index: int) -> None:
        """Show page ``index`` (clamped); the page left keeps its step but stops playing."""
        index = max(0, min(int(index), len(self.pages) - 1))
        if index == self.current:
            return
        if 0 <= self.current < len(self.pages):
            self.page.player.pause()
            self.page.view.close_editor()
        self.current = index
        page = self.page
        if isinstance(page, (LayerPage, FeaturesPage)) and page.trace is not self.trace:
            page.set_trace(self.trace, self.blank)
        self.stack.setCurrentWidget(page)
        self.page_picker.setCurrentIndex(index)
        self.page_picker.setItemText(index, f"{index + 1}. {page.page_title}")
        self.counter.setText(f"{index + 1} / {len(self.pages)}")
        self.bar.set_player(page.player)
        self._moved(page.player.index)
        self.page_changed.emit(index)

    def _moved(self, index: int) -> None:
        player = self.page.player
        self.bar.setEnabled(player.count > 0)
        self.bar.where.setText(f"step {player.index + 1} of {player.count}" if player.count
                               else "nothing to step")

    # ----- the player ------------------------------------------------------------------------
    def _player_do(self, what: str) -> None:
        player = self.page.player
        if what == "play":
            player.toggle()
        elif what == "step":
            player.pause()
            player.step(1)
        elif what == "back":
            player.pause()
            player.step(-1)
        elif what == "cell":
            player.pause()
            player.seek(self.page.next_cell(player.index))
        elif what == "restart":
            player.pause()
            player.seek(0)
        elif what == "end":
            player.pause()
            player.seek(player.count - 1)
        elif what in ("faster", "slower"):
            s = self.bar.speed
            s.setValue(s.value() + (1 if what == "faster" else -1))

    def handle_key(self, key: int) -> bool:
        """Do what presenter key ``key`` means; False when it means nothing here."""
        actions = {
            K.Key_PageDown: lambda: self.go(self.current + 1),
            K.Key_PageUp: lambda: self.go(self.current - 1),
            K.Key_Right: lambda: self._player_do("step"),
            K.Key_Left: lambda: self._player_do("back"),
            K.Key_Space: lambda: self._player_do("play"),
            K.Key_Down: lambda: self._player_do("cell"),
            K.Key_Home: lambda: self._player_do("restart"),
            K.Key_End: lambda: self._player_do("end"),
            K.Key_Plus: lambda: self._player_do("faster"),
            K.Key_Equal: lambda: self._player_do("faster"),
            K.Key_Minus: lambda: self._player_do("slower"),
        }
        act = actions.get(Qt.Key(key))
        if act is None:
            return False
        act()
        return True

    def event(self, event: QEvent) -> bool:
        # Claim the presenter keys before any window-wide shortcut sees them.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if event.key() in KEYS and mods in (Qt.KeyboardModifier.NoModifier,
                                                Qt.KeyboardModifier.ShiftModifier):
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.handle_key(event.key()):
            event.accept()
            return
        super().keyPressEvent(event)

    # ----- data ------------------------------------------------------------------------------
    def set_model(self, model, probe=None) -> None:
        """A new live model: one page per steppable layer (and the features page, if any).

        A hidden panel only notes the model and builds its pages when it is shown: a
        class switching models back and forth should not pay for pages nobody sees.
        """
        same = (self.model is not None and model is not None and bool(self.pages)
                and not getattr(self, "_pending_model", False)
                and model.signature == self.model.signature)
        self.model = model
        if not self.isVisible():
            self._pending_model = True
            return
        self._pending_model = False
        if model is None:
            self._rebuild_pages([])
            return
        trace = model.trace(np.zeros(model.input_shape, np.float32))
        self.features.set_model(model, trace)
        if not same:  # another version of the same network (edits, a checkpoint): same pages
            pages = [LayerPage(name, trace.layer(name).kind)
                     for name in steppable_layers(trace)]
            self._rebuild_pages(pages)
        self.set_trace(self.trace, self.blank)

    def set_trace(self, trace, blank: bool = False) -> None:
        """A new trace of the drawing; only the page on screen redraws (the rest on demand)."""
        self.trace, self.blank = trace, blank or trace is None
        if not self.isVisible() or not self.pages:
            return
        page = self.page
        if isinstance(page, (LayerPage, FeaturesPage)) and trace is not None:
            page.set_trace(trace, self.blank)
            self._moved(page.player.index)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if getattr(self, "_pending_model", False):
            self.set_model(self.model)
        if self.pages and isinstance(self.page, (LayerPage, FeaturesPage)):
            self.page.set_trace(self.trace, self.blank)

    # ----- type size -------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._apply_fonts()

    def _apply_fonts(self) -> None:
        px = legible_px(self)
        font = QFont(self.font())
        # Docked, the buttons and pickers are desk controls, not what the class reads.
        chrome = max(10.0, px * 0.8) if self.compact else px
        font.setPixelSize(int(chrome))
        for w in (self.prev_button, self.next_button, self.page_picker, self.counter, self.bar):
            w.setFont(font)
        for child in self.bar.findChildren(QWidget):
            child.setFont(font)
        self.bar.set_room(chrome)
        for w in (self.prev_button, self.next_button, self.page_picker):
            look.give_room(w, chrome)
        self.layout().itemAt(0).layout().setSpacing(max(4, round(chrome * 0.4)))
        for page in self.pages:
            page.view.desk = self.compact
            page.apply_fonts(chrome)


class LessonsWindow(QMainWindow):
    """The step-through on its own, for a full screen: the lecture's pages and, with a
    ``model``, its layers on the lecture's X (Ctrl+1…3: the lecture's presets).

    F11 toggles full screen, Esc leaves it; the presenter keys work whatever has focus.
    """

    def __init__(self, model: str | None = "xo-toy", presentation: bool = True) -> None:
        super().__init__()
        self.setObjectName("lessons_window")
        self.setWindowTitle("ConvPad — step through")
        self.panel = StepperPanel()
        self.setCentralWidget(self.panel)
        self.setPalette(look.palette(look.PRESENTATION if presentation else look.DESK))
        self.model = None
        self.preset = "X (lecture)"
        self.panel.model_edited.connect(self._use_model)
        for key, act in (
            ("PgDown", lambda: self.panel.handle_key(K.Key_PageDown)),
            ("PgUp", lambda: self.panel.handle_key(K.Key_PageUp)),
            ("F11", self.toggle_full_screen),
            ("Esc", self.showNormal),
        ):
            QShortcut(QKeySequence(key), self, act)
        from engine import PRESETS

        for i, name in enumerate(PRESETS, start=1):
            QShortcut(QKeySequence(f"Ctrl+{i}"), self, lambda n=name: self.show_preset(n))
        if model:
            from engine import load_model

            self.shipped = load_model(model, device="cpu")
            self.panel.set_model(self.shipped)
            self._use_model(self.shipped)
        self.panel.setFocus()

    def _use_model(self, model) -> None:
        self.model = model
        self.show_preset(self.preset)

    def show_preset(self, name: str) -> None:
        """Trace one of the lecture's pictures and show it on the layer pages."""
        from engine import PRESETS

        self.preset = name
        if self.model is None:
            return
        grid = (PRESETS[name] > 0).astype(np.float32)
        ink = np.kron(grid, np.ones((36, 36), np.float32))
        self.panel.set_trace(self.model.trace(self.model.preprocess(ink, invert=False)), False)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

