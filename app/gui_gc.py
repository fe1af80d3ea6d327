"""Python's cyclic garbage collector runs in the GUI thread only.

CPython runs the cyclic collector in whichever thread happens to allocate when a
threshold is crossed. A model load allocates heavily in its worker thread, so
without this a collection there can free Qt objects (old graphics items caught in
reference cycles) off the GUI thread while the GUI thread builds new ones: the
segmentation faults inside ``pyqtgraph.ViewBox.__init__`` that a fuzz of model
switches mid-stroke produced. pyqtgraph ships the standard remedy: automatic collection
off, and a GUI-thread timer that collects when the thresholds say so.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None


def collect_in_gui_thread(interval_s: float = 0.5) -> None:
    """Start the GUI-thread collector once per process (call from the GUI thread)."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
