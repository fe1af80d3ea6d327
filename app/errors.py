"""Exceptions anywhere become a visible notice; the app keeps running.

PySide6 prints an exception raised in a slot or a timer callback and carries on, so a
bug would otherwise be silent for a teacher with no terminal open. ``sys.excepthook``
and ``threading.excepthook`` are routed to one signal that the window shows as a
non-modal banner; the traceback still goes to the terminal (the previous hook runs).
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType

from PySide6.QtCore import QObject, Signal


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


def describe(exc: BaseException) -> str:
    """One sentence for a person: the exception type and message, no traceback."""
    text = str(exc).strip() or "(no message)"
    return f"Something went wrong: {type(exc).__name__}: {text} — ConvPad keeps running."


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
                bridge.message.emit(describe(exc))
            finally:
                previous(kind, exc, tb)

        hook._convpad = True  # type: ignore[attr-defined]
        sys.excepthook = hook
    if not getattr(threading.excepthook, "_convpad", False):
        previous_thread = threading.excepthook

        def thread_hook(args: threading.ExceptHookArgs) -> None:
            if args.exc_value is not None:
                bridge.message.emit(describe(args.exc_value))
            previous_thread(args)

        thread_hook._convpad = True  # type: ignore[attr-defined]
        threading.excepthook = thread_hook
