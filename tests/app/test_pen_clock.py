"""When the pen's next move is due (app.pen_clock): the gaps the views work in."""

from __future__ import annotations

import math

import pytest

from app.pen_clock import PAUSE_S, RESTING_S, PenClock

MS = 1e-3


def clock_with(times: list[float]) -> PenClock:
    c = PenClock()
    c.begin(times[0])
    for t in times[1:]:
        c.moved(t)
    return c


def test_pen_up_has_no_move_due() -> None:
    c = PenClock()
    assert c.gap_ms(1.0) == math.inf
    c = clock_with([0.0, 8 * MS, 16 * MS])
    c.end()
    assert c.gap_ms(17 * MS) == math.inf and not c.down


def test_a_move_handled_late_does_not_push_the_next_one_later() -> None:
    # A tablet's grid of 8 ms; the fourth move was handled 3 ms late (the GUI thread was
    # busy). The next is still due at 32 ms, not 8 ms after the late one.
    c = clock_with([0.0, 8 * MS, 16 * MS, 27 * MS])
    assert c.gap_ms(27 * MS) == pytest.approx(5.0)
    assert c.gap_ms(33 * MS) == 0.0  # overdue: no time to spare


def test_one_short_gap_does_not_shorten_the_pens_interval() -> None:
    # Late, then on time: one 5 ms gap among 8 ms ones. The median keeps 8 ms.
    c = clock_with([0.0, 8 * MS, 16 * MS, 24 * MS, 35 * MS, 40 * MS, 48 * MS, 56 * MS])
    assert c.interval == pytest.approx(8 * MS)


def test_a_resting_pen_has_no_move_due() -> None:
    # The teacher stops mid-stroke to explain: no move comes, the views catch up.
    c = clock_with([0.0, 8 * MS, 16 * MS])
    assert c.gap_ms(20 * MS) == pytest.approx(4.0)
    assert not c.resting(16 * MS + RESTING_S * 0.9)
    assert c.resting(16 * MS + RESTING_S * 1.1) and c.down
    assert c.gap_ms(16 * MS + RESTING_S * 1.1) == math.inf
    # Moving again: the pen's grid starts from the new move.
    t = 16 * MS + 2 * PAUSE_S
    c.moved(t)
    assert c.gap_ms(t) == pytest.approx(8.0)


def test_a_slow_pens_own_pace_is_not_resting() -> None:
    # A mouse moved slowly reports every 20 ms: 40 ms without a move is its pace.
    c = clock_with([i * 20 * MS for i in range(8)])
    last = 7 * 20 * MS
    assert not c.resting(last + 40 * MS)
    assert c.gap_ms(last + 15 * MS) == pytest.approx(5.0)
