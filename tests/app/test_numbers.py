"""The one rule for printing a value (issue #19, #20.3): cut, not rounded, on every view.

The lecture prints 7/9 as 0.77. A vote total of 0.777 is "0.77" on the desk's votes
panel, on the stage's vote arithmetic and in a difference's signed form alike; a
percentage is "69%", with "<1%" and ">99%" at the ends, wherever a view prints one.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.numbers import MINUS, percent_text, score_text, value_text


@pytest.mark.parametrize(("v", "text"), [
    (0.777, "+0.77"), (-0.4888, f"{MINUS}0.48"), (12.39, "+12.3"), (-153.9, f"{MINUS}153"),
    (0.0, "+0.00"), (-0.0001, "+0.00"), (np.float32(0.78), "+0.78"),
])
def test_a_signed_value_is_cut_like_every_value(v, text) -> None:
    assert score_text(v) == text
    assert score_text(v).lstrip("+") == value_text(v, len(text.split(".")[1])
                                                   if "." in text else 0)


def test_the_desk_and_the_stage_print_one_vote_total_alike(qtbot) -> None:
    import app
    from app.stage.heads import _total

    window = app.create_main_window(model="xo-toy")
    qtbot.addWidget(window)
    window.setFixedSize(1280, 800)  # wide enough for the totals' shares
    window.show()
    qtbot.waitUntil(lambda: window.model is not None, timeout=60_000)
    votes = window.panel("votes")
    total = np.array([0.777, 0.4888])
    votes._show_votes(total, blank=False, force=True)
    shown = [t.toPlainText() for t in votes.totals]
    assert [s.split()[1] for s in shown] == [_total(v) for v in total] == ["0.77", "0.48"]
    assert shown[0].endswith(percent_text(0.777 / total.sum()))
    votes.set_difference(True)
    votes._show_votes(np.array([-0.4888, 0.666]), blank=False, force=True)
    assert [t.toPlainText() for t in votes.totals] == [f"X {MINUS}0.48", "O +0.66"]
