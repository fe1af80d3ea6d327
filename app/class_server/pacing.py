"""How the class server keeps behind the window's pen.

The server runs in threads of the window's process and shares Python's interpreter
lock with the GUI thread: a burst of thirty phones' drawings kept it busy for a second,
and the pen's ink, which needs the lock for every move, waited up to 70 ms. So the
server has few threads, runs them at a lower priority, and — while the pen moves —
classifies in small batches and rests four times as long as it worked.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

#: Threads that parse and rasterise drawings, and that store them (fsync waits on the
#: disk, so more than one): few, since every thread shares the pen's interpreter lock.
PREPARE_THREADS = 1
STORE_THREADS = 2
#: Drawings classified in one go while the pen moves (else up to ``max_batch``).
PEN_BATCH = 8
#: While the pen moves, rest this many times as long as the work took: the server then
#: holds at most a fifth of the time. Resting as long as it worked (1.0) left the pen's
#: repaint 1.59–1.92× its time without the class; 4.0 took it to 1.37–1.38× (6.0:
#: 1.22×), the ink's p95 from 4.6 to 2.3–2.5 ms (``benchmarks/class_pen.py``, 2026-12-03).
#: The price is answers while the teacher draws non-stop: p95 6 → 10 s in that
#: benchmark's ten seconds of strokes; with the pen up the server works flat out.
REST = 4.0
#: How much lower the server's threads run than the window's (``nice``, Linux).
NICE = 10


def behind_the_pen() -> None:
    """Run the calling thread at a lower priority than the window's GUI thread.

    A class sends in bursts; answering them (parsing, rasterising, the network, PNGs)
    takes every core of a school laptop for a second or two, and the window's pen must
    not wait for it. Linux gives each thread its own nice value; elsewhere this does
    nothing.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    except (AttributeError, OSError):
        pass  # not Linux, or not allowed: the server runs at the window's priority


def give_way(pen_down: Callable[[], bool], start: float) -> None:
    """While ``pen_down()``, rest :data:`REST` times as long as the work since ``start``
    took (``sleep`` lets the interpreter lock go), so the pen finds the lock free at
    least four fifths of the time."""
    if pen_down():
        time.sleep(min(REST * (time.perf_counter() - start), 0.2))
