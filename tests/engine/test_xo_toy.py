"""The X/O toy network against the lecture's own tables and votes."""

from __future__ import annotations

import numpy as np
import pytest

from engine import PRESETS
from engine.architectures import XOToyNet, xo_toy_state_dict
from engine.lecture.pictures import (
    SEED_MAP_DIAGONAL,
    SEED_O,
    SEED_POOLED,
    SEED_RELU_DIAGONAL,
    SEED_TRICKY_X,
    SEED_X,
)
from engine.spec import RESOURCES
from engine.storage.cards import read_card
from engine.storage.weights import load_weights


def _truncate(a: np.ndarray) -> np.ndarray:
    """Two decimals, truncated toward zero, the way the slides print 7/9 as 0.77."""
    return np.trunc(a * 100) / 100


def test_feature_map_of_the_slide_x_matches_the_slide_table(toy) -> None:
    t = toy.trace(SEED_X)
    conv = t.layer("conv").output
    assert conv.shape == (3, 7, 7)
    np.testing.assert_allclose(conv[0], SEED_MAP_DIAGONAL, atol=0.01)
    np.testing.assert_array_equal(_truncate(conv[0]), SEED_MAP_DIAGONAL)


def test_three_features_are_diagonal_centre_and_antidiagonal(toy) -> None:
    conv = toy.trace(SEED_X).layer("conv").output
    # The "/" feature is the mirror image of "\": so are their maps on a symmetric X.
    np.testing.assert_allclose(conv[2], np.fliplr(conv[0]), atol=1e-6)
    assert conv[1][3, 3] == pytest.approx(1.0)  # the X centre matches perfectly in the middle
    assert conv[0][1, 1] == pytest.approx(1.0) and conv[2][1, 5] == pytest.approx(1.0)


def test_relu_rectifies_the_7x7_map_as_on_the_lecture_s_relu_slide(toy) -> None:
    t = toy.trace(SEED_X)
    relu = t.layer("relu").output
    assert relu.shape == (3, 7, 7)  # the filtered map, before pooling, as the slide shows
    np.testing.assert_array_equal(relu, np.maximum(t.layer("conv").output, 0))
    np.testing.assert_array_equal(_truncate(relu[0]), SEED_RELU_DIAGONAL)
    first_row = " ".join(f"{v:g}" for v in _truncate(relu[0][0]))
    assert first_row == "0.77 0 0.11 0.33 0.55 0 0.33"  # the slide, as printed


def test_pooling_gives_the_slide_4x4_tables(toy) -> None:
    t = toy.trace(SEED_X)
    pooled = t.layer("pool").output
    assert pooled.shape == (3, 4, 4)
    np.testing.assert_allclose(pooled, SEED_POOLED, atol=0.01)
    # The pooled value is the max over each 2×2 window of the rectified map, partial edge
    # windows kept; pooling and ReLU commute, so the slide's order gives the same tables.
    relu = t.layer("relu").output
    padded = np.pad(relu, ((0, 0), (0, 1), (0, 1)), constant_values=-np.inf)
    blocks = padded.reshape(3, 4, 2, 4, 2).max(axis=(2, 4))
    np.testing.assert_array_equal(pooled, blocks)
    conv = np.pad(t.layer("conv").output, ((0, 0), (0, 1), (0, 1)), constant_values=-np.inf)
    np.testing.assert_array_equal(pooled, np.maximum(conv.reshape(3, 4, 2, 4, 2).max(
        axis=(2, 4)), 0))


def test_layers_come_in_the_lecture_order(toy) -> None:
    t = toy.trace(SEED_X)
    assert [(layer.name, layer.kind) for layer in t.layers] == [
        ("input", "input"),
        ("conv", "conv"),
        ("relu", "relu"),
        ("pool", "pool"),
        ("flatten", "flatten"),
        ("votes", "votes"),
    ]
    assert t.layer("conv").weights.shape == (3, 1, 3, 3)
    np.testing.assert_allclose(np.abs(t.layer("conv").weights), 1 / 9, rtol=1e-6)
    assert t.layer("votes").weights.shape == (2, 48)


@pytest.mark.parametrize(("grid", "expected"), [(SEED_X, "X"), (SEED_TRICKY_X, "X"), (SEED_O, "O")])
def test_votes_decide_like_the_lecture(toy, grid, expected) -> None:
    t = toy.trace(grid)
    assert t.prediction == expected
    votes = t.layer("votes").output
    assert votes[toy.classes.index(expected)] > votes[1 - toy.classes.index(expected)]
    assert t.probabilities.sum() == pytest.approx(1.0)


def test_votes_are_weighted_sums_of_the_feature_values(toy) -> None:
    t = toy.trace(SEED_TRICKY_X)
    np.testing.assert_allclose(
        t.layer("votes").output, t.layer("votes").weights @ t.layer("flatten").output, rtol=1e-5
    )


def test_shipped_toy_weights_are_the_hand_set_ones(tmp_path) -> None:
    net = XOToyNet()
    load_weights(net, read_card(RESOURCES / "xo-toy.json").weights)
    for name, want in xo_toy_state_dict().items():
        np.testing.assert_array_equal(net.state_dict()[name].numpy(), want.numpy())


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("cell", [40, 51])
def test_presets_painted_as_blocks_come_back_exactly(toy, name, cell) -> None:
    canvas = np.kron((PRESETS[name] + 1) / 2, np.ones((cell, cell), np.float32))
    np.testing.assert_array_equal(toy.preprocess(canvas)[0], PRESETS[name])


def test_freehand_x_and_o_reduce_to_a_grid_the_toy_reads(toy) -> None:
    from PIL import Image, ImageDraw

    def draw(shape: str) -> np.ndarray:
        im = Image.new("L", (400, 400))
        d = ImageDraw.Draw(im)
        if shape == "X":
            d.line((80, 70, 320, 330), fill=255, width=18)
            d.line((320, 60, 90, 330), fill=255, width=18)
        else:
            d.ellipse((90, 70, 310, 330), outline=255, width=18)
        return np.asarray(im, np.float32) / 255

    for shape in ("X", "O"):
        assert toy.trace(toy.preprocess(draw(shape))).prediction == shape


def test_a_dot_stays_one_cell_even_at_the_canvas_edge(toy) -> None:
    for r, c in ((200, 200), (0, 396)):
        canvas = np.zeros((400, 400), np.float32)
        canvas[r : r + 4, c : c + 4] = 1
        grid = toy.preprocess(canvas)[0]
        assert (grid == 1).sum() == 1
