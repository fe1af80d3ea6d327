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
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QTimer

_collector: QTimer | None = None


def collect_in_gui_thread(interval_s: float = 0.5) -> None:
    """Start the GUI-thread collector once per process (call from the GUI thread)."""
    global _collector
    if _collector is not None:
        return
    threshold = gc.get_threshold()
    gc.disable()

    def check() -> None:
        # pyqtgraph's GarbageCollector.check: each generation when its count is due.
        n0, n1, n2 = gc.get_count()
        if n0 > threshold[0]:
            gc.collect(0)
            if n1 > threshold[1]:
                gc.collect(1)
                if n2 > threshold[2]:
                    gc.collect(2)

    _collector = QTimer()
    _collector.timeout.connect(check)
    _collector.start(int(interval_s * 1000))
