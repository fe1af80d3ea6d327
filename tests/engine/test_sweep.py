"""Invariance sweeps: the curves agree with predict() on the transformed drawing itself."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from engine import transforms as T
from engine.experiments.sweeps import DEGREES, FACTORS, SHIFTS, sweep
from engine.training.strokes import stroke_drawings


def canvas(i: int = 0, side: int = 280) -> np.ndarray:
    """Drawing ``i`` of the shipped test set on a ``side`` px canvas (280: 10 px per
    input pixel of a 28×28 model, so whole input-pixel shifts are whole canvas pixels)."""
    img = stroke_drawings("digits", i + 1, seed=10_001)[0][i]
    return np.asarray(Image.fromarray(img, mode="F").resize((side, side)), np.float32)


def moved(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(img)
    h, w = img.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = img[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def test_the_grids_are_the_issue_s_and_hold_the_untouched_drawing() -> None:
    assert len(DEGREES) == 72 and DEGREES[0] == -180 and 0 in DEGREES and DEGREES[-1] < 180
    assert len(FACTORS) == 26 and FACTORS[0] == 0.3 and FACTORS[-1] == 2 and 1 in FACTORS
    assert SHIFTS.tolist() == list(range(-8, 9))


@pytest.mark.parametrize("mode", ["centred", "as-drawn"])
@pytest.mark.parametrize("name", ["digits", "xo-toy"])
def test_zero_shift_0_degrees_and_1x_equal_predict(name, mode, digits, toy) -> None:
    model = digits if name == "digits" else toy
    for i in (0, 3):
        img = canvas(i, 324)
        s = sweep(model, img, input=mode)
        want = model.predict(img, input=mode)[0]
        np.testing.assert_allclose(s.probabilities, want, atol=1e-5)
        np.testing.assert_allclose(s.scale[list(FACTORS).index(1.0)], want, atol=1e-5)
        np.testing.assert_allclose(s.shift[8, 8], want, atol=1e-5)
        assert s.rotation.shape == (72, len(model.classes))
        assert s.scale.shape == (26, len(model.classes))
        assert s.shift.shape == (17, 17, len(model.classes))


def test_as_drawn_shifts_equal_predict_on_the_moved_canvas(digits) -> None:
    img = canvas(1)
    s = sweep(digits, img, input="as-drawn")
    # (dx, dy) input pixels = 10·(dx, dy) canvas pixels here; (8, −8) pushes ink off
    # the edge: the network sees what is left inside the canvas.
    for dx, dy in ((3, -2), (-5, 0), (8, -8), (0, 7)):
        want = digits.predict(moved(img, 10 * dy, 10 * dx), input="as-drawn")[0]
        np.testing.assert_allclose(s.shift[dy + 8, dx + 8], want, atol=1e-5)


def test_a_shift_that_leaves_no_ink_in_view_has_no_prediction(digits) -> None:
    img = np.zeros((280, 280), np.float32)
    img[10:40, 10:40] = 1.0  # a blob in the top-left corner, 3 input pixels wide
    s = sweep(digits, img, input="as-drawn")
    assert np.isnan(s.shift[0, 0]).all()  # moved 8 up and 8 left: nothing in view
    assert np.isfinite(s.shift[16, 16]).all()
    out = s.to_json()
    assert out["shift"]["probabilities"][0][0] == [None] * 10
    json.dumps(out, allow_nan=False)


def test_centred_shift_map_is_flat_and_loses_no_ink(digits) -> None:
    img = canvas(2)
    s = sweep(digits, img, input="centred")
    assert (s.shift == s.shift[8, 8]).all()
    # On an unbounded plane the drawing moved 8 input pixels is cropped to the same ink.
    plane = np.pad(img, 100)
    np.testing.assert_allclose(
        digits.predict(moved(plane, 80, -80))[0], s.shift[16, 0], atol=1e-5
    )


def test_centred_rotations_and_scales_equal_predict_of_the_transformed_drawing(digits) -> None:
    img = canvas(0, 324)  # an ink box of 142 px: rendered at full resolution
    s = sweep(digits, img, input="centred")
    plane = np.pad(img, 250)  # room for all the ink, as the sweep's unbounded plane
    for deg in (-90, 45, 120):
        want = digits.predict(T.rotate(plane, deg))[0]
        np.testing.assert_allclose(s.rotation[list(DEGREES).index(deg)], want, atol=1e-3)
    for f in (0.3, 2.0):
        want = digits.predict(T.scale(plane, f))[0]
        np.testing.assert_allclose(s.scale[list(FACTORS).index(f)], want, atol=1e-3)


def test_a_big_drawing_is_swept_at_a_working_resolution_close_to_predict(digits) -> None:
    img = canvas(4, 324)  # an ink box of 285 px, rendered at 252
    s = sweep(digits, img, input="centred")
    plane = np.pad(img, 250)
    errors, same = [], []
    for i in range(0, 72, 4):
        want = digits.predict(T.rotate(plane, DEGREES[i]))[0]
        errors.append(np.abs(s.rotation[i] - want).max())
        same.append(s.rotation[i].argmax() == want.argmax())
    # Close everywhere but where the answer is on a knife's edge between two classes.
    assert np.median(errors) < 0.02 and np.mean(same) >= 0.8


def test_as_drawn_rotations_and_scales_are_close_to_predict_of_the_transformed_canvas(
    digits,
) -> None:
    # Rendered at 4 samples per input pixel rather than canvas resolution: close, not equal.
    img = canvas(5, 324)
    s = sweep(digits, img, input="as-drawn")
    errors = []
    for deg in (-60, 30, 90):
        want = digits.predict(T.rotate(img, deg), input="as-drawn")[0]
        errors.append(np.abs(s.rotation[list(DEGREES).index(deg)] - want).max())
    for f in (0.58, 1.4):
        want = digits.predict(T.scale(img, f), input="as-drawn")[0]
        errors.append(np.abs(s.scale[list(FACTORS).index(f)] - want).max())
    assert max(errors) < 0.1


def test_json_is_the_issue_s_object(toy) -> None:
    img = canvas(0, 324)
    out = sweep(toy, img, input="as-drawn").to_json()
    assert list(out) == ["model", "input", "classes", "rotation", "scale", "shift"]
    assert out["model"] == "xo-toy" and out["input"] == "as-drawn" and out["classes"] == ["X", "O"]
    assert len(out["rotation"]["degrees"]) == len(out["rotation"]["probabilities"]) == 72
    assert len(out["scale"]["factors"]) == len(out["scale"]["probabilities"]) == 26
    assert out["shift"]["dx"] == out["shift"]["dy"] == list(range(-8, 9))
    grid = out["shift"]["probabilities"]
    assert len(grid) == 17 and len(grid[0]) == 17 and len(grid[0][0]) == 2


def test_bad_requests_say_what_is_wrong(digits) -> None:
    with pytest.raises(ValueError, match="no ink"):
        sweep(digits, np.zeros((100, 100), np.float32))
    with pytest.raises(ValueError, match="unknown input mode"):
        sweep(digits, canvas(), input="sideways")
    with pytest.raises(ValueError, match="0°"):
        sweep(digits, canvas(), degrees=[10, 20])


def test_a_stopped_sweep_returns_nothing(digits) -> None:
    assert sweep(digits, canvas(), stop=lambda: True) is None


@pytest.mark.parametrize("mode", ["centred", "as-drawn"])
def test_a_sweep_gives_up_at_the_first_question_after_it_is_made_stale(digits, mode) -> None:
    """``stop`` is asked per warp and per forward chunk, and heeded at once: a sweep made
    stale by a new stroke hands the CPU back within one image's work, not one stage's."""
    for stale_at in (3, 80):  # during the rotations; during the scales
        asked = []

        def stop(asked: list = asked, stale_at: int = stale_at) -> bool:
            asked.append(1)
            return len(asked) >= stale_at

        assert sweep(digits, canvas(), input=mode, stop=stop) is None
        assert len(asked) == stale_at
    asked = []
    assert sweep(digits, canvas(), input=mode, stop=lambda: bool(asked.append(1))) is not None
    assert len(asked) > len(DEGREES) + len(FACTORS)  # per warp, then per chunk
