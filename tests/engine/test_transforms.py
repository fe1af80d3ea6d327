"""Transforms of a drawing: each one checked against what the engine says it should be."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine import transforms as T
from engine.preprocessing import as_drawn_cover

SIZE = 324


def drawing(box=(110, 90, 220, 240), width: int = 20) -> np.ndarray:
    """A 4-ish: uint8 324², ink 255 on 0, like Canvas.raster()."""
    x0, y0, x1, y1 = box
    im = Image.new("L", (SIZE, SIZE))
    d = ImageDraw.Draw(im)
    d.line([(x0, y0), (x0, (y0 + y1) // 2), (x1, (y0 + y1) // 2)], fill=255, width=width)
    d.line([((x0 + x1) // 2 + 20, y0), ((x0 + x1) // 2 + 20, y1)], fill=255, width=width)
    return np.asarray(im, np.uint8).copy()


def ink_box(a: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(a > 25)
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


def test_shift_moves_by_whole_input_pixels_in_canvas_pixels() -> None:
    a = drawing()
    out = T.shift(a, 3, -1, input_size=28)  # 324/28 px per input pixel: 35 and 12 px
    want = np.zeros_like(a)
    want[: SIZE - 12, 35:] = a[12:, : SIZE - 35]
    np.testing.assert_array_equal(out, want)
    assert T.shift(a, 1, 0, input_size=9)[:, 36:].sum() == a[:, :-36].sum()  # toy: 36 px
    np.testing.assert_array_equal(T.shift(out, -3, 1, input_size=28), a)  # nothing was lost


def test_shift_off_the_canvas_is_refused_and_the_input_kept() -> None:
    a = drawing()
    before = a.copy()
    with pytest.raises(ValueError, match="shifting by −30,0 input pixels would leave no ink"):
        T.shift(a, -30, 0)
    np.testing.assert_array_equal(a, before)
    with pytest.raises(ValueError, match="the canvas is empty"):
        T.rotate(np.zeros((SIZE, SIZE), np.uint8), 15)


def test_rotate_turns_about_the_ink_centre_like_pillow_does() -> None:
    a = drawing()
    cy, cx = T.ink_centre(a)
    for deg in (15, -15, 90, 180):
        out = T.rotate(a, deg)
        want = np.asarray(
            Image.fromarray(a).rotate(deg, resample=Image.Resampling.BILINEAR, center=(cx, cy))
        )
        assert out.dtype == np.uint8
        assert np.abs(out.astype(int) - want.astype(int)).max() <= 1
        oy, ox = T.ink_centre(out)
        assert abs(oy - cy) < 0.5 and abs(ox - cx) < 0.5


def test_rotate_90_swaps_the_box_sides_and_the_direction_is_anticlockwise() -> None:
    a = np.zeros((SIZE, SIZE), np.uint8)
    a[150:170, 150:250] = 255  # a bar pointing right from (160, 150)
    out = T.rotate(a, 90)
    y0, y1, x0, x1 = ink_box(out)
    assert (y1 - y0, x1 - x0) == pytest.approx((100, 20), abs=2)
    cy, _ = T.ink_centre(a)
    # The bar's left end (x=150) lies left of the centre; anticlockwise it points down.
    left_end = np.zeros_like(a)
    left_end[150:170, 150:160] = 255
    assert T.ink_centre(T.affine(left_end / 255.0, T.rotation_matrix(90), T.ink_centre(a)))[0] > cy


def test_scale_grows_the_ink_box_about_its_centre_and_undoes() -> None:
    a = drawing()
    y0, y1, x0, x1 = ink_box(a)
    out = T.scale(a, 1.1)
    v0, v1, u0, u1 = ink_box(out)
    assert (v1 - v0) / (y1 - y0) == pytest.approx(1.1, abs=0.03)
    assert (u1 - u0) / (x1 - x0) == pytest.approx(1.1, abs=0.03)
    assert np.allclose(T.ink_centre(out), T.ink_centre(a), atol=0.6)
    back = T.scale(out, 1 / 1.1).astype(float)
    corr = np.corrcoef(back.ravel(), a.astype(float).ravel())[0, 1]
    assert corr > 0.97
    with pytest.raises(ValueError, match="positive"):
        T.scale(a, 0)


def test_thicken_and_thin_are_grey_dilation_and_erosion_by_a_disc() -> None:
    dot = np.zeros((SIZE, SIZE), np.uint8)
    dot[160, 160] = 255
    r = T.stroke_radius(dot.shape, 28)
    assert r == 3  # a quarter of 324/28 px
    fat = T.thicken(dot)
    ys, xs = np.nonzero(fat)
    assert ((ys - 160) ** 2 + (xs - 160) ** 2).max() <= r * r + r
    assert fat[160, 160 + r] == 255 and fat[160 + r, 160 + r] == 0  # round, not square
    a = drawing()
    assert (T.thicken(a) > 25).sum() > (a > 25).sum() > (T.thin(a) > 25).sum()
    np.testing.assert_array_equal(T.thin(T.thicken(dot)), dot)  # closing a dot: the dot
    with pytest.raises(ValueError, match="thinning the strokes further would leave no ink"):
        T.thin(dot)


def test_deform_is_smooth_seeded_and_keeps_the_drawing() -> None:
    a = drawing()
    one, again, other = T.deform(a, seed=1), T.deform(a, seed=1), T.deform(a, seed=2)
    np.testing.assert_array_equal(one, again)
    assert not np.array_equal(one, other) and not np.array_equal(one, a)
    assert one.astype(float).sum() == pytest.approx(a.astype(float).sum(), rel=0.2)
    # Displacements are about 0.8 input pixels (9 canvas px): the ink stays near its place.
    assert np.allclose(T.ink_centre(one), T.ink_centre(a), atol=12)


def test_noise_adds_whole_input_pixels_and_erase_clears_inked_ones() -> None:
    a = drawing()
    noisy = T.add_noise(a, seed=3, input_size=28)
    added = as_drawn_cover(((noisy > 0) & (a == 0)).astype(np.float32), 28)
    assert 16 - 4 <= np.count_nonzero(added > 0.5) <= 16  # 2 % of 784, less any on the ink
    np.testing.assert_array_equal(noisy, T.add_noise(a, seed=3, input_size=28))
    erased = T.erase_noise(a, seed=3, input_size=28)
    assert (erased <= a).all() and 0 < (erased > 25).sum() < (a > 25).sum()
    cleared = as_drawn_cover(((a > 0) & (erased == 0)).astype(np.float32), 28)
    inked = np.count_nonzero(as_drawn_cover((a > 25).astype(np.float32), 28))
    assert np.count_nonzero(cleared > 0.5) <= round(0.1 * inked)


def test_float_rasters_stay_float_and_inputs_are_never_modified() -> None:
    a = drawing().astype(np.float32) / 255
    before = a.copy()
    for step in (
        {"op": "shift", "dx": 1, "dy": 1},
        {"op": "scale", "factor": 0.9},
        {"op": "rotate", "degrees": 15},
        {"op": "stroke", "steps": 1},
        {"op": "stroke", "steps": -1},
        {"op": "deform", "seed": 0},
        {"op": "noise", "seed": 0},
        {"op": "erase", "seed": 0},
    ):
        out = T.apply(a, step)
        assert out.dtype == np.float32 and out.shape == a.shape and 0 <= out.min() <= out.max() <= 1
        np.testing.assert_array_equal(a, before)
    np.testing.assert_array_equal(
        T.apply(a, {"op": "rotate", "degrees": 15}), T.rotate(a, 15)
    )
    with pytest.raises(ValueError, match="unknown transform 'flip'"):
        T.apply(a, {"op": "flip"})


@pytest.mark.parametrize(
    ("steps", "text"),
    [
        ([], ""),
        (
            [{"op": "shift", "dx": 1, "dy": 0}] * 3
            + [{"op": "shift", "dx": 0, "dy": -1}, {"op": "rotate", "degrees": 15}] * 1
            + [{"op": "rotate", "degrees": 15}],
            "shifted +3,−1 · rotated 30°",
        ),
        ([{"op": "rotate", "degrees": -15}, {"op": "scale", "factor": 1.1}] * 2,
         "rotated −30° · scaled ×1.21"),
        ([{"op": "scale", "factor": 1.1}, {"op": "scale", "factor": 1 / 1.1}], ""),
        ([{"op": "stroke", "steps": 1}] * 2 + [{"op": "stroke", "steps": -1}], "thickened"),
        ([{"op": "deform", "seed": 1}, {"op": "deform", "seed": 2}, {"op": "noise", "seed": 0},
          {"op": "erase", "seed": 0}], "deformed ×2 · noise added · pixels erased"),
    ],
)
def test_describe_sums_the_steps_into_one_line(steps, text) -> None:
    assert T.describe(steps) == text
