"""How the class server keeps behind the window's pen.

The server runs in threads of the window's process and shares Python's interpreter
lock with the GUI thread: a burst of thirty phones' drawings kept it busy for a second,
and the pen's ink, which needs the lock for every move, waited up to 70 ms. So the
server has few threads and runs them at a lower priority, and while the pen moves its
threads take **turns** (:class:`PenTurns`): one small piece of work at a time (a
drawing parsed and painted, a batch of :data:`PEN_BATCH` classified, a drawing
stored), started just after one of the pen's moves so that it ends before the next is
due, and followed by a rest :data:`REST` times as long.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterator

#: Threads that parse and rasterise drawings, and that store them (fsync waits on the
#: disk, so more than one): few, since every thread shares the pen's interpreter lock.
PREPARE_THREADS = 1
STORE_THREADS = 2
#: Drawings classified in one go while the pen moves (else up to ``max_batch``).
PEN_BATCH = 8
#: While the pen moves, rest this many times as long as a piece took: the server then
#: holds the lock at most a fifth of the time. Measured (``benchmarks/class_pen.py``,
#: 2026-12-03), the pen's repaint per event while 300 drawings arrive, ÷ its time
#: without the class: resting as long as it worked, 1.59–1.92×; four times, 1.36–1.37×;
#: four times with the pieces in the pen's gaps (turns), 1.29–1.31×, and the ink's p95
#: 1.38–1.52× (4.7–8× without turns). The price is answers while the teacher draws
#: non-stop (:data:`PATIENCE`); with the pen up the server works flat out.
REST = 4.0
#: The longest rest (s), however long a piece took.
MAX_REST = 0.2
#: The longest a piece waits for a gap in the pen's moves long enough for it (s): a
#: piece dearer than any gap goes ahead after this.
GAP_WAIT = 0.03
#: A piece starts when the pen's next move is due at least this long after its
#: expected end (ms).
GAP_MARGIN_MS = 1.0
#: The longest a student's drawing waits for the pen (s): after it, its pieces go ahead
#: at once. Without it, giving way answered a burst of 300 drawings in 45 s (p95) while
#: the pen kept the GUI thread busy from one move to the next, near the 60 s after which
#: the server gives up (504); with it, 21 s there and 11–12 s at a tablet's 120 Hz.
PATIENCE = 10.0
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


class PenTurns:
    """The server's threads' turns while the pen moves (see the module).

    ``pen_down()`` says a stroke is going on and ``pen_gap()`` how long (ms) until the
    pen's next move is due (``inf`` when none is); both are called from the server's
    threads. With the pen up, :meth:`turn` does nothing: the server works flat out.
    """

    def __init__(self, pen_down: Callable[[], bool],
                 pen_gap: Callable[[], float] | None = None) -> None:
        self._pen_down = pen_down
        self._pen_gap = pen_gap or (lambda: math.inf)
        self._lock = threading.Lock()
        self._cost: dict[str, float] = {}  # ms each kind of piece took last time
        # The last wait found no gap: the GUI thread is busy from one move to the next,
        # and waiting for gaps would only starve the class (see _wait_for_gap).
        self._gapless = False

    def pen_down(self) -> bool:
        return self._pen_down()

    @contextlib.contextmanager
    def turn(self, kind: str, since: float | None = None) -> Iterator[None]:
        """Run the ``with`` block as one piece of work of ``kind``: while the pen moves,
        alone, in a gap between its moves, then rest — unless the student has waited
        :data:`PATIENCE` since ``since`` (``time.monotonic()`` when the drawing came)."""
        if not self._pen_down() or (since is not None
                                    and time.monotonic() - since > PATIENCE):
            yield
            return
        with self._lock:
            self._wait_for_gap(self._cost.get(kind, 1.0))
            start = time.perf_counter()
            try:
                yield
            finally:
                took = time.perf_counter() - start
                self._cost[kind] = took * 1000
                if self._pen_down():
                    time.sleep(min(REST * took, MAX_REST))

    def _wait_for_gap(self, cost_ms: float) -> None:
        """Until the pen's next move is due after ``cost_ms`` from now (and a margin),
        at most :data:`GAP_WAIT`: sleeping lets the lock go, so the GUI thread handles
        the move meanwhile, and the gap after it is the longest."""
        deadline = time.perf_counter() + GAP_WAIT
        while self._pen_down():
            gap = self._pen_gap()
            now = time.perf_counter()
            if gap >= cost_ms + GAP_MARGIN_MS:
                self._gapless = False
                return
            if self._gapless or now >= deadline:
                # No gap long enough (the GUI thread is busy between every two moves):
                # go ahead, and do not wait for one again until a gap is seen. The
                # rests still keep the server to a share of the time.
                self._gapless = True
                return
            time.sleep(min(gap / 1000 + 0.0005, deadline - now))

