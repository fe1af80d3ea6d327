"""How the class server keeps behind the window's pen.

The server runs in threads of the window's process and shares Python's interpreter
lock with the GUI thread: a burst of thirty phones' drawings kept it busy for a second,
and the pen's ink, which needs the lock for every move, waited up to 70 ms. So the
server has few threads, runs them at a lower priority, and — while the pen moves —
classifies in small batches and rests as long as it worked.
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
#: While the pen moves, rest this many times as long as the work took.
REST = 1.0
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
    """While ``pen_down()``, rest as long as the work since ``start`` took (``sleep``
    lets the interpreter lock go), so the lock is free at least half the time."""
    if pen_down():
        time.sleep(min(REST * (time.perf_counter() - start), 0.1))
