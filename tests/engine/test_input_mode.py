"""Input mode: "centred" (MNIST's crop and re-centre) or "as-drawn" (the canvas seen whole).

As drawn, where you drew is where the network sees it: a shift on the canvas is a shift
of the input, which is what the shift experiments need.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine import PRESETS, load_model, preprocessing


def seven(size: int = 280, box=(0.1, 0.1, 0.4, 0.5), width: int = 16) -> np.ndarray:
    x0, y0, x1, y1 = (v * size for v in box)
    im = Image.new("L", (size, size))
    ImageDraw.Draw(im).line(
        [(x0, y0), (x1, y0), (x0 + 0.3 * (x1 - x0), y1)], fill=255, width=width, joint="curve"
    )
    return np.asarray(im, np.float32) / 255


def _centre(x: np.ndarray) -> tuple[float, float]:
    x = np.clip(x.reshape(x.shape[-2:]), 0, None)
    ys, xs = np.indices(x.shape)
    return float((ys * x).sum() / x.sum()), float((xs * x).sum() / x.sum())


def test_centred_is_the_default_and_re_centres_a_corner_drawing(digits) -> None:
    img = seven()
    assert np.array_equal(digits.preprocess(img), digits.preprocess(img, input="centred"))
    cy, cx = _centre(digits.preprocess(img))
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1


def test_as_drawn_keeps_a_corner_drawing_in_its_corner(digits) -> None:
    x = digits.preprocess(seven(), input="as-drawn")
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    assert x.max() == pytest.approx(1.0) and x.min() >= 0
    cy, cx = _centre(x)
    assert cy < 10 and cx < 10  # the 7 sits in the top-left 40 % of the canvas


def test_as_drawn_moves_the_input_exactly_with_the_canvas(digits) -> None:
    # 280 px canvas, 28 px input: 10 canvas px per input pixel, so a 30 px move of the
    # drawing is a 3 px move of what the network sees, whole pixels, nothing resampled.
    img = seven()
    moved = np.zeros_like(img)
    moved[20:, 30:] = img[:-20, :-30]
    a = digits.preprocess(img, input="as-drawn")[0]
    b = digits.preprocess(moved, input="as-drawn")[0]
    np.testing.assert_allclose(b[2:, 3:], a[:-2, :-3], atol=1e-6)


def test_as_drawn_averages_by_area_then_stretches_the_brightest_pixel_to_one(digits) -> None:
    img = np.zeros((56, 56), np.float32)
    img[0:2, 0:2] = 1.0  # one input pixel fully inked
    img[10, 10] = 1.0  # a quarter of another
    x = digits.preprocess(img, input="as-drawn")[0]
    assert x[0, 0] == pytest.approx(1.0) and x[5, 5] == pytest.approx(0.25)
    assert np.count_nonzero(x) == 2


def test_a_wide_image_is_seen_whole_centred_in_a_square(digits) -> None:
    img = np.zeros((140, 280), np.float32)
    img[60:80, 130:150] = 1.0  # a blob in the middle of a 2:1 image
    cy, cx = _centre(digits.preprocess(img, input="as-drawn"))
    assert cy == pytest.approx(13.5, abs=0.6) and cx == pytest.approx(13.5, abs=0.6)


def test_the_toy_sees_the_whole_canvas_as_its_grid(toy) -> None:
    grid = PRESETS["X (lecture)"]
    canvas = np.kron((grid > 0).astype(np.float32), np.ones((36, 36), np.float32))
    np.testing.assert_array_equal(toy.preprocess(canvas, input="as-drawn")[0], grid)
    small = np.zeros((324, 324), np.float32)
    small[:108, :108] = canvas[::3, ::3]  # the same X at a third of the size, top-left
    seen = toy.preprocess(small, input="as-drawn")[0]
    assert (seen[3:, :] == -1).all() and (seen[:, 3:] == -1).all()
    assert (toy.preprocess(small)[0] == grid).mean() > 0.9  # centred: blown up again


def test_predict_takes_the_mode_too(digits, toy) -> None:
    img = seven()
    for model in (digits, toy):
        for mode in ("centred", "as-drawn"):
            want = model.forward(model.preprocess(img, input=mode)[None])
            np.testing.assert_allclose(model.predict(img, input=mode), want, atol=1e-6)
    blank = np.zeros((100, 100), np.float32)
    assert np.isnan(digits.predict(blank, input="as-drawn")).all()
    assert (digits.preprocess(blank, input="as-drawn") == 0).all()


def test_an_unknown_mode_names_the_choices(digits) -> None:
    msg = "unknown input mode 'raw'; choose one of: centred, as-drawn"
    with pytest.raises(ValueError, match=msg):
        digits.preprocess(seven(), input="raw")


def test_weights_hash_is_the_sha256_of_the_loaded_file(digits) -> None:
    import hashlib

    want = hashlib.sha256(digits.weights_path.read_bytes()).hexdigest()
    assert digits.weights_path.name == f"digits-{want[:12]}.safetensors"
    assert digits.weights_sha256 == want


@pytest.mark.parametrize("mode", ["centred", "as-drawn"])
def test_prepare_is_preprocess_and_is_blank_in_one_pass(mode) -> None:
    from engine import load_model

    m = load_model("digits", device="cpu")
    ink = np.zeros((120, 90), np.float32)
    ink[30:80, 40:50] = 1.0
    x, blank = m.prepare(ink, input=mode)
    np.testing.assert_array_equal(x, m.preprocess(ink, invert=False, input=mode))
    assert blank is False and m.prepare(np.zeros((50, 50), np.float32))[1] is True


@pytest.mark.parametrize("name", ["digits", "xo", "xo-toy"])
@pytest.mark.parametrize("mode", ["centred", "as-drawn"])
def test_prepare_on_canvas_bytes_is_preprocess_exactly(name, mode) -> None:
    """The live path hands ``prepare`` the canvas's uint8 bytes; recipes that read only
    the ink's box get a crop of them. The input must be exactly what ``preprocess``
    makes of the same drawing, anti-aliased edges, a faint stroke and a dot included."""
    m = load_model(name, device="cpu")
    rng = np.random.default_rng(7)
    for trial in range(12):
        img = Image.new("L", (324, 324), 0)
        d = ImageDraw.Draw(img)
        for _ in range(1 + trial % 4):
            x0, y0, x1, y1 = rng.integers(0, 324, 4).tolist()
            d.line((x0, y0, x1, y1), fill=int(rng.integers(20, 256)),
                   width=int(rng.integers(1, 30)))
        if trial % 3 == 0:
            d.point((int(rng.integers(0, 324)), int(rng.integers(0, 324))), fill=255)
        raster = np.asarray(img.resize((330, 330)).resize((324, 324)), np.uint8)  # soft edges
        x, blank = m.prepare(raster, input=mode)
        want = m.preprocess(raster, invert=False, input=mode)
        np.testing.assert_array_equal(x, want)
        assert blank == m.is_blank(raster)
    for faint in (preprocessing.INK_THRESHOLD_U8 - 1, preprocessing.INK_THRESHOLD_U8):
        raster = np.zeros((324, 324), np.uint8)
        raster[100:140, 50:60] = faint  # just under, then just at, the ink threshold
        x, blank = m.prepare(raster, input=mode)
        np.testing.assert_array_equal(x, m.preprocess(raster, invert=False, input=mode))
        assert blank == (faint < preprocessing.INK_THRESHOLD_U8) == m.is_blank(raster)
        assert preprocessing.is_blank(raster) == blank  # the bytes, tested as ink would be
