"""Compare A/B: pin a drawing as A, change it, and every panel shows B − A or A."""

from __future__ import annotations

import numpy as np
import pytest

import app
from engine import PRESETS

LOAD_MS = 60_000


@pytest.fixture
def window(qtbot):
    w = app.create_main_window(model="xo-toy")
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitUntil(lambda: w.model is not None, timeout=LOAD_MS)
    w.canvas.set_grid(PRESETS["X (lecture)"])
    qtbot.waitUntil(lambda: w.trace is not None)
    return w


def test_pin_then_shift_shows_b_minus_a_on_every_panel(qtbot, window):
    a = window.trace
    window.action("act_pin").trigger()
    assert window.live.compare.mode == "diff" and window.action("act_compare_diff").isChecked()
    shift = window.experiments["transforms"].actions_["act_nudge_right"]
    for _ in range(3):
        shift.trigger()
    qtbot.waitUntil(lambda: window.trace is not None and not np.array_equal(
        window.trace.layer("conv").output, a.layer("conv").output))
    window.run_network_now()
    b = window.trace
    conv = window.panel("conv").tile_values(0)
    np.testing.assert_allclose(conv, b.layer("conv").output[0] - a.layer("conv").output[0],
                               atol=1e-6)
    pooled = window.panel("pool").tile_values(0)
    np.testing.assert_allclose(pooled, b.layer("pool").output[0] - a.layer("pool").output[0],
                               atol=1e-6)
    text = window.prediction.text()
    assert text.startswith("B: ") and "\nA: X" in text


def test_show_a_flips_to_the_pinned_drawing_and_off_goes_back_to_b(qtbot, window):
    window.action("act_pin").trigger()
    a = window.trace
    window.canvas.set_grid(PRESETS["O"])
    qtbot.waitUntil(lambda: window.trace.prediction == "O")
    window.action("act_compare_a").trigger()
    assert window.live.compare.mode == "A" and not window.action("act_compare_diff").isChecked()
    np.testing.assert_array_equal(window.panel("conv").tile_values(1),
                                  a.layer("conv").output[1])
    window.action("act_compare_a").trigger()
    assert window.live.compare.mode is None
    np.testing.assert_array_equal(window.panel("conv").tile_values(1),
                                  window.trace.layer("conv").output[1])
    assert "A:" not in window.prediction.text()


def test_compare_without_a_pin_says_so(qtbot, window):
    window.action("act_compare_diff").trigger()
    assert window.live.compare.mode is None
    assert "pin a drawing as A first (Compare ▸ Pin as A)" in window.notice.text()
    window.canvas.clear()
    window.action("act_pin").trigger()
    assert "Cannot pin an empty canvas as A" in window.notice.text()


def test_b_minus_a_reaches_the_stage(qtbot, window):
    window.action("act_pin").trigger()
    window.canvas.set_grid(PRESETS["O"])
    qtbot.waitUntil(lambda: window.trace.prediction == "O")
    window.set_presentation(True)
    window.run_network_now()
    shown = window.stage._trace
    np.testing.assert_allclose(shown.layer("conv").output,
                               window.trace.layer("conv").output
                               - window.live.a_trace().layer("conv").output, atol=1e-6)


def test_b_minus_a_probabilities_go_below_a_zero_line_on_desk_and_stage(qtbot, window):
    """Issue #20.6: a negative difference on a 0–100 % axis disappears. X pinned, O drawn:
    X loses points, O gains them; both are drawn around a zero line, on the desk (the
    toy's votes; a softmax model's −100…+100 axis) and on the stage."""
    window.action("act_pin").trigger()
    window.canvas.set_grid(PRESETS["O"])
    qtbot.waitUntil(lambda: window.live.latest is not None
                    and window.live.latest[0].probabilities[1] > 0)
    window.run_network_now()
    shown = window.live.latest[0]
    assert shown.difference
    d = shown.probabilities
    assert d[0] < 0 < d[1]  # X lost what O gained
    # the desk: the toy's vote bars grow both ways from a zero line
    votes = window.panel("votes")
    assert votes.signed and votes.zero_line.isVisible()
    widths = votes.bars.opts["width"]
    assert widths[0] < 0 < widths[1]
    assert votes.totals[0].toPlainText().startswith("X \u2212")
    # the stage: the votes step says what moved, in signed points, and so does the answer
    window.set_presentation(True)
    stage = window.stage
    texts = {}
    for short in ("votes", "answer"):
        stage.go(next(i for i, s in enumerate(stage._stages) if s.short == short))
        stage.view.grab()
        texts[short] = " ".join(s.text for s in stage.shown_texts())
    assert "X: \u2212" in texts["votes"] and "points" in texts["votes"]
    assert "/ (" not in texts["votes"]  # no share arithmetic on differences
    assert "points" in texts["answer"] and "sure" not in texts["answer"]
    assert "B − A" in " ".join(s.text for s in stage.shown_texts())
    window.set_presentation(False)
    window.action("act_compare_diff").trigger()  # off: B alone again
    window.run_network_now()
    assert not votes.signed and not votes.zero_line.isVisible()


def test_a_softmax_model_s_b_minus_a_uses_a_signed_points_axis(qtbot):
    w = app.create_main_window(model="xo")
    qtbot.addWidget(w)
    w.setFixedSize(1280, 800)
    w.show()
    qtbot.waitUntil(lambda: w.model is not None and w.model.name == "xo", timeout=LOAD_MS)
    w.canvas.set_grid(PRESETS["X (lecture)"])
    qtbot.waitUntil(lambda: w.trace is not None)
    w.action("act_pin").trigger()
    w.canvas.set_grid(PRESETS["O"])
    qtbot.waitUntil(lambda: w.live.latest is not None and w.live.latest[0].difference
                    and abs(w.live.latest[0].probabilities).max() > 0.05)
    w.run_network_now()
    d = w.live.latest[0].probabilities
    panel = w.panel("softmax")
    assert panel.signed and panel.zero_line.isVisible()
    lo, hi = panel.plot.getViewBox().viewRange()[1]
    assert lo <= -1.0 and hi >= 1.0
    ticks = [t for _, t in panel.plot.getAxis("left")._tickLevels[0]]
    assert ticks[0] == "\u2212100" and "0" in ticks and ticks[-1] == "+100"
    np.testing.assert_allclose(panel.values, d, atol=1e-6)
    assert (panel.values < 0).any()

    # its stage draws the softmax step's bars around a zero line with signed numbers
    w.set_presentation(True)
    stage = w.stage
    stage.go(next(i for i, s in enumerate(stage._stages) if s.short == "softmax"))
    stage.view.grab()
    numbers = [s.text for s in stage.shown_texts() if s.label and s.label.startswith("softmax[")]
    assert len(numbers) == 2 and any(t.startswith("\u2212") for t in numbers)
    assert any(t.startswith("+") for t in numbers)
    w.set_presentation(False)
