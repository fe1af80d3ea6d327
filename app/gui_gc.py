"""Python's cyclic garbage collector runs in the GUI thread only.

CPython runs the cyclic collector in whichever thread happens to allocate when a
threshold is crossed. A model load allocates heavily in its worker thread, so
without this a collection there can free Qt objects (old graphics items caught in
reference cycles) off the GUI thread while the GUI thread builds new ones: the
segmentation faults inside ``pyqtgraph.ViewBox.__init__`` that a fuzz of model
switches mid-stroke produced. pyqtgraph ships the standard remedy: automatic collection
off, and a GUI-thread timer that collects when the thresholds say so. It is written
out here (the same dozen lines as ``pyqtgraph.util.garbage_collector``) because importing
pyqtgraph for it cost a sixth of the window's start-up, before pyqtgraph is needed.

Two more things keep a collection from holding up the pen (issue #24). A full
collection walks every object the process has — torch, Qt's wrappers, the panels: some
230,000 objects, 90 ms on this machine, a stall the ink would show. :func:`settle`
moves everything alive once the window is up (modules, classes, the first model) into
the permanent generation (``gc.freeze``), which no collection walks again; and while
the pen is down (:func:`defer_while`) only the youngest generation is collected, the
older ones waiting for the pen to lift — at most :data:`MAX_DEFER_S`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QTimer

_collector: QTimer | None = None
_busy: list[Callable[[], bool]] = [lambda: False]
_settled = [False]
#: Longest a due collection of the older generations waits for the pen to lift.
MAX_DEFER_S = 5.0


def defer_while(busy: Callable[[], bool]) -> None:
    """Collect only the youngest generation while ``busy()`` (the pen is down)."""
    _busy[0] = busy


def settled() -> bool:
    return _settled[0]


def settle() -> None:
    """Collect once and freeze what is left (once per process): what is alive when the
    window is up lives as long as the process, and no full collection walks it again."""
    if _settled[0]:
        return
    _settled[0] = True
    gc.collect()
    gc.freeze()


def collect_in_gui_thread(interval_s: float = 0.5) -> None:
    """Start the GUI-thread collector once per process (call from the GUI thread)."""
    global _collector
    if _collector is not None:
        return
    _threshold[:] = gc.get_threshold()
    gc.disable()
    _collector = QTimer()
    _collector.timeout.connect(check)
    _collector.start(int(interval_s * 1000))


_threshold = list(gc.get_threshold())
_waiting_since: list[float | None] = [None]


def check() -> None:
    """pyqtgraph's ``GarbageCollector.check`` — each generation when its count is due —
    with the older generations waiting while the pen is down."""
    n0, n1, n2 = gc.get_count()
    if n0 > _threshold[0]:
        gc.collect(0)
        if n1 > _threshold[1]:
            now = time.monotonic()
            if _busy[0]() and now - (_waiting_since[0] or now) < MAX_DEFER_S:
                _waiting_since[0] = _waiting_since[0] or now
                return
            _waiting_since[0] = None
            gc.collect(1)
            if n2 > _threshold[2]:
                gc.collect(2)
