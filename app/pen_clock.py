"""When the pen's next move is due: the gaps the panels and the network work in.

While a stroke goes on, the views update between the pen's moves (issue #24): a panel,
a piece of the stage or a trace starts only if it ends before the next move is due, so
the move finds the GUI thread free and its ink is painted at once. That needs a good
guess of when the next move comes.

A move's time here is when the GUI thread handled it, which is late whenever the
thread was busy. Projecting one interval from the newest move alone promised the
panels time that was not there: at 4K on the desk the guess was late by 0.7 ms at the
median and 2.2 ms at the 90th percentile, and the panels' repaints ran into the next
move. A pen reports on a grid (a tablet every 8.3 ms) and a move is never handled
*before* it was sent, so the next move is due at the **earliest** projection from the
last few moves.

A pen held still (the teacher stops mid-stroke to explain) sends nothing: its next move
is not due at any time we can name. Once no move has come for :data:`RESTING_S` (and
several of the pen's intervals), the pen is **resting** and :meth:`PenClock.gap_ms`
says ``inf``, as with the pen up: the views catch up with the drawing at once instead
of waiting for a move that does not come.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

#: Moves the next one is projected from (the earliest projection wins).
HISTORY = 6
#: Gaps between moves the pen's interval is the median of. Not a running mean: a move
#: handled late and the next on time make one short gap, and a mean pulled down by it
#: moved every projection early, leaving the views no gap at all for a while.
GAPS = 9
#: A pen that has not moved for this long (s), and for ``RESTING_INTERVALS`` of its
#: intervals, is resting: no move is due.
RESTING_S = 0.05
RESTING_INTERVALS = 4
#: Longer than this between two moves (s) is a pause, not the pen's pace.
PAUSE_S = 0.1
#: The pace assumed until a stroke shows its own: a tablet's.
DEFAULT_INTERVAL_S = 0.008


class PenClock:
    """The pen's pace during a stroke; times are ``time.perf_counter()`` seconds.

    ``begin(now)`` when the pen goes down, ``moved(now)`` at each move, ``end()`` when
    it lifts; :meth:`gap_ms` says how long until the next move is due.
    """

    def __init__(self) -> None:
        self._times: deque[float] = deque(maxlen=HISTORY)
        self._gaps: deque[float] = deque(maxlen=GAPS)
        self.interval = 0.0  # the pen's usual time between moves (0: not known yet)
        self.down = False

    def begin(self, now: float) -> None:
        self.down = True
        self._times.clear()
        self._times.append(now)

    def moved(self, now: float) -> None:
        if self._times and (gap := now - self._times[-1]) < PAUSE_S:
            self._gaps.append(gap)
            self.interval = statistics.median(self._gaps)
        else:
            self._times.clear()  # after a pause the pen's grid starts again
        self._times.append(now)

    def end(self) -> None:
        self.down = False
        self._times.clear()

    def resting(self, now: float) -> bool:
        """The pen is down and has not moved for a while (see the module)."""
        times = tuple(self._times)
        return self.down and bool(times) and self._resting(now, times)

    def _resting(self, now: float, times: tuple[float, ...]) -> bool:
        interval = self.interval or DEFAULT_INTERVAL_S
        return now - times[-1] > max(RESTING_S, RESTING_INTERVALS * interval)

    def gap_ms(self, now: float) -> float:
        """ms until the next move is due: 0 when overdue, ``inf`` with the pen up or
        resting. Safe from any thread (the class server asks): the moves are copied
        first (one step under the interpreter lock), never iterated while the GUI
        thread appends."""
        times = tuple(self._times)
        if not self.down or not times or self._resting(now, times):
            return math.inf
        interval = self.interval or DEFAULT_INTERVAL_S
        n = len(times)
        due = min(t + (n - j) * interval for j, t in enumerate(times))
        return max(0.0, (due - now) * 1000)
