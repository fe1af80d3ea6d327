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
