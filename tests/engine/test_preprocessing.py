"""Drawing → network input: MNIST's recipe, invariant to where and how big you draw."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.preprocessing import as_ink, is_blank, mnist_style


def seven(
    size: int = 400,
    box: tuple[float, float, float, float] = (0.3, 0.2, 0.7, 0.8),
    width: float = 0.05,
) -> np.ndarray:
    """A drawn 7 inside ``box`` (fractions of the canvas), pen ``width`` × canvas size."""
    x0, y0, x1, y1 = (v * size for v in box)
    im = Image.new("L", (size, size))
    d = ImageDraw.Draw(im)
    w = max(1, round(width * size))
    d.line([(x0, y0), (x1, y0), (x0 + 0.3 * (x1 - x0), y1)], fill=255, width=w, joint="curve")
    return np.asarray(im, np.float32) / 255


def _blur(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, 1)
    return sum(p[i : i + a.shape[0], j : j + a.shape[1]] for i in range(3) for j in range(3))


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation after a 3×3 blur: rounding to whole pixels may move a stroke by one."""
    a, b = _blur(a).ravel(), _blur(b).ravel()
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def test_output_is_28x28_with_a_20px_box_centred_by_mass() -> None:
    out = mnist_style(seven())
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.max() == pytest.approx(1.0) and out.min() >= 0
    rows = np.flatnonzero(out.max(axis=1) > 0.1)
    cols = np.flatnonzero(out.max(axis=0) > 0.1)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (19, 20, 21)
    ys, xs = np.indices(out.shape)
    cy, cx = (ys * out).sum() / out.sum(), (xs * out).sum() / out.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1


@pytest.mark.parametrize(
    "box",
    [
        (0.05, 0.05, 0.35, 0.5),  # small, top-left
        (0.6, 0.45, 0.9, 0.95),  # small, bottom-right
        (0.2, 0.02, 0.8, 0.92),  # big
    ],
)
def test_same_drawing_shifted_or_scaled_gives_nearly_the_same_input(box) -> None:
    reference = mnist_style(seven())
    moved = mnist_style(seven(box=box, width=0.05 * (box[3] - box[1]) / 0.6))
    assert _similarity(reference, moved) > 0.9


def test_a_different_drawing_is_not_nearly_the_same() -> None:
    # The control for the test above: the similarity measure does tell drawings apart.
    assert _similarity(mnist_style(seven()), mnist_style(seven()[:, ::-1])) < 0.7


def test_canvas_size_does_not_matter() -> None:
    assert _similarity(mnist_style(seven(280)), mnist_style(seven(900))) > 0.95


def test_blank_canvas_is_valid_and_gives_zeros() -> None:
    assert is_blank(np.zeros((300, 300)))
    np.testing.assert_array_equal(mnist_style(np.zeros((300, 300))), np.zeros((28, 28)))


def test_dark_ink_on_light_background_is_detected_and_inverted() -> None:
    ink = seven()
    np.testing.assert_allclose(as_ink(1.0 - ink), ink, atol=1e-6)
    np.testing.assert_allclose(as_ink(ink), ink)
    # Told explicitly, the border is not consulted.
    np.testing.assert_allclose(as_ink(ink, invert=True), 1.0 - ink, atol=1e-6)


def test_uint8_images_are_scaled_to_unit_range() -> None:
    ink = (seven() * 255).astype(np.uint8)
    np.testing.assert_allclose(as_ink(ink), ink / 255.0, atol=1e-6)


def test_single_pixel_and_edge_strokes_do_not_break_it() -> None:
    dot = np.zeros((300, 300), np.float32)
    dot[150, 150] = 1
    out = mnist_style(dot)
    assert out.shape == (28, 28) and out.max() == pytest.approx(1.0)
    edge = np.zeros((300, 300), np.float32)
    edge[:, -3:] = 1  # a stroke along the very edge, as when the pen leaves the canvas
    assert mnist_style(edge).max() == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [np.zeros((3, 4, 5)), np.zeros((0, 5)), np.full((4, 4), np.nan)])
def test_bad_arrays_get_a_clear_error(bad) -> None:
    with pytest.raises(ValueError, match="image"):
        as_ink(bad)
