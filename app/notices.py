"""Notices: what the window tells its user, and exceptions anywhere become one.

Two kinds of failure, told apart everywhere by one rule (:func:`describe`): bad input
the engine can name (a :class:`~engine.ConvPadError`: a damaged file, a refused name, a
number out of range) is shown as "Cannot …: <reason>"; anything else is a bug, shown as
an internal error with its type, never disguised as a bad file.

PySide6 prints an exception raised in a slot or a timer callback and carries on, so a
bug would otherwise be silent for a teacher with no terminal open. ``sys.excepthook``
and ``threading.excepthook`` are routed to one signal that the window shows as a
non-modal banner; the traceback still goes to the terminal (the previous hook runs).
"""

from __future__ import annotations

import html
import sys
import threading
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class _Notices(QObject):
    """Carries one-line messages to the GUI thread (queued when emitted from a worker)."""

    message = Signal(str)


_notices: _Notices | None = None


def notices() -> _Notices:
    """The process-wide notice signal (created on first use, in the GUI thread)."""
    global _notices
    if _notices is None:
        _notices = _Notices()
    return _notices


def one_line(text: object) -> str:
    """``text`` on one line, control characters shown escaped (a file named with a
    newline or a terminal escape must not break a notice or a terminal)."""
    s = str(text).strip()
    return s if s.isprintable() else repr(s)[1:-1]


def plain(label: QLabel) -> QLabel:
    """A label that shows its text as text: a student's "<b>" or a layer named
    "<img …>" in a file stays as typed (a QLabel renders anything that looks like
    markup as rich text)."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_tip(text: object) -> str:
    """``text`` as a tooltip that shows it as text: Qt renders a tooltip that looks like
    markup as rich text, so a student's name "<img src=…>" would load a picture. Marked
    up explicitly, with the text escaped, it shows exactly what was typed."""
    return "<p>" + html.escape(str(text)).replace("\n", "<br>") + "</p>"


def describe(exc: BaseException) -> str:
    """The reason, for a person: a ConvPadError's own message; a bug's type and message."""
    from engine import ConvPadError

    text = one_line(exc) or "(no message)"
    if isinstance(exc, ConvPadError):
        return text
    return f"internal error (a bug): {type(exc).__name__}: {text} — ConvPad keeps running"


def cannot(what: str, exc: BaseException) -> str:
    """A notice for a failed action: "Cannot open the model: <reason>" for bad input, or
    "Cannot open the model: internal error (a bug): TypeError: …" for anything else."""
    return f"Cannot {what}: {describe(exc)}"


def install_excepthooks() -> None:
    """Route uncaught exceptions (GUI thread and Python threads) to :func:`notices`.

    Idempotent, and chains to whatever hook was there before (pytest-qt's, the
    default printer), so nothing that used to see the exception stops seeing it.
    """
    bridge = notices()
    if not getattr(sys.excepthook, "_convpad", False):
        previous = sys.excepthook

        def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            try:
                bridge.message.emit(cannot("finish that", exc))
            finally:
                previous(kind, exc, tb)

        hook._convpad = True  # type: ignore[attr-defined]
        sys.excepthook = hook
    if not getattr(threading.excepthook, "_convpad", False):
        previous_thread = threading.excepthook

        def thread_hook(args: threading.ExceptHookArgs) -> None:
            if args.exc_value is not None:
                bridge.message.emit(cannot("finish that", args.exc_value))
            previous_thread(args)

        thread_hook._convpad = True  # type: ignore[attr-defined]
        threading.excepthook = thread_hook


class NoticeBar(QFrame):
    """The banner above the window: one line at a time, dismissable, never modal."""

    def __init__(self) -> None:
        from app.look import NOTICE_BG, NOTICE_TEXT

        super().__init__()
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        self.label = plain(QLabel())  # names from files are text
        self.label.setObjectName("notice")
        self.label.setAutoFillBackground(True)
        pal = self.label.palette()
        pal.setColor(pal.ColorRole.Window, QColor(NOTICE_BG))
        pal.setColor(pal.ColorRole.WindowText, QColor(NOTICE_TEXT))
        self.label.setPalette(pal)
        self.label.setMargin(6)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dismiss = QPushButton("Dismiss")
        dismiss.setToolTip("Hide this message")
        dismiss.clicked.connect(self.hide)
        bar.addWidget(self.label, 1)
        bar.addWidget(dismiss)
        self.hide()

    def show_message(self, message: str) -> None:
        self.label.setText(one_line(message))
        self.show()
