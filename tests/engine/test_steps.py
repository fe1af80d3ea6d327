"""Step-through arithmetic against the engine's traces, the lecture and PyTorch (no Qt)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from foreign_nets import batch_norm_onnx

from engine import PRESETS, ConvPadError, load_model
from engine.lecture import (
    CHANNELS,
    LESSONS,
    ONE_D,
    PADDING,
    SEED_MAP_DIAGONAL,
    SEED_POOLED,
    SEED_X,
    STRIDE,
    TWO_D,
    ConvSteps,
    DenseSteps,
    NormSteps,
    PoolSteps,
    ReluSteps,
    VoteSteps,
    fits_evenly,
    geometry,
    matching_divisor,
    output_size,
    parse_value,
    size_text,
    steppable_layers,
    steps_for_layer,
)


def number_text(v: float, decimals: int = 2) -> str:
    """A value cut (not rounded) to ``decimals``, as the lecture prints 7/9 as 0.77."""
    cut = math.trunc(float(v) * 10**decimals + math.copysign(1e-3, float(v))) / 10**decimals
    text = f"{cut:.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _drawing(grid: np.ndarray) -> np.ndarray:
    return np.kron((grid > 0).astype(np.float32), np.ones((36, 36), np.float32))


@pytest.fixture(scope="module", params=["xo-toy", "xo", "digits"])
def traced(request):
    model = load_model(request.param, device="cpu")
    return model, model.trace(model.preprocess(_drawing(PRESETS["X (lecture)"]), invert=False))


def _same(shown: float, traced_value: float, decimals: int) -> None:
    """Shown = traced to display precision: the same text, and within half a last digit."""
    assert number_text(shown, decimals) == number_text(traced_value, decimals)
    assert abs(shown - traced_value) < 0.5 * 10**-decimals


# ----- every shown sum equals the trace ---------------------------------------------------------
def test_every_conv_sum_equals_the_traced_map(traced) -> None:
    _model, t = traced
    for name in [n for n in steppable_layers(t) if t.layer(n).kind == "conv"]:
        out = t.layer(name).output
        relu_next = t.layers[[lay.name for lay in t.layers].index(name) + 1]
        for ch in {0, out.shape[0] - 1}:
            steps = steps_for_layer(t, name, channel=ch)
            assert steps.shape == out.shape[1:]
            for i in range(len(steps)):
                s = steps[i]
                if not s.complete:
                    continue
                # the products shown are the patch times the kernel, and add up to the sum
                np.testing.assert_allclose(s.products, s.patch * s.kernel)
                assert math.isclose(float(s.products.sum()), s.total, abs_tol=1e-9)
                assert math.isclose(float(s.channel_sums.sum()), s.total, abs_tol=1e-9)
                _same(s.value, float(out[ch, s.row, s.col]), 2)
                if s.relu is not None:
                    _same(s.relu, float(relu_next.output[ch, s.row, s.col]), 2)


def test_the_toy_shows_plus_minus_one_features_and_divides_by_nine() -> None:
    model = load_model("xo-toy", device="cpu")
    t = model.trace(SEED_X)
    steps = steps_for_layer(t, "conv", channel=0)
    assert steps.divide == 9
    assert set(np.unique(steps.kernel)) == {-1.0, 1.0}
    first = steps[0]
    assert first.total == 7 and number_text(first.value) == "0.77"  # the slide's 0.77 = 7/9
    shown = np.array([[number_text(steps[steps.cell_index(r, c)].value) for c in range(7)]
                      for r in range(7)])
    assert (shown == np.vectorize(lambda v: f"{v:.2f}")(SEED_MAP_DIAGONAL)).all()
    # ReLU follows the convolution, as in the lecture: the step shows max(0, value)
    assert steps[0].relu == pytest.approx(7 / 9)
    assert [steps[steps.cell_index(0, c)].relu for c in (1, 5)] == [0.0, 0.0]  # the −0.11s


def test_every_pool_max_equals_the_traced_map(traced) -> None:
    _, t = traced
    for name in [n for n in steppable_layers(t) if t.layer(n).kind == "pool"]:
        out = t.layer(name).output
        for ch in {0, out.shape[0] - 1}:
            steps = steps_for_layer(t, name, channel=ch)
            for s in steps:
                assert s.value == float(s.window.max())
                assert s.window.shape[0] >= 1 and s.window.shape[1] >= 1
                _same(s.value, float(out[ch, s.row, s.col]), 2)


def test_toy_pooling_is_the_slide_with_ceil_mode() -> None:
    t = load_model("xo-toy", device="cpu").trace(SEED_X)
    g = geometry(t, "pool")
    assert (g.size, g.stride, g.padding, g.ceil_mode) == (2, 2, 0, True)
    for ch in range(3):
        steps = steps_for_layer(t, "pool", channel=ch)
        assert steps.shape == (4, 4) and len(steps) == 16
        assert steps[3].window.shape == (2, 1)  # the partial window on the right edge
        got = [[number_text(steps[steps.cell_index(r, c)].value) for c in range(4)]
               for r in range(4)]
        assert got == [[f"{v:.2f}" for v in row] for row in SEED_POOLED[ch]]


def test_every_relu_step_equals_the_trace(traced) -> None:
    _, t = traced
    for name in [n for n in steppable_layers(t) if t.layer(n).kind == "relu"]:
        out = t.layer(name).output
        ch = 0
        steps = steps_for_layer(t, name, channel=ch)
        target = out[ch] if out.ndim == 3 else out
        for s in steps:
            assert s.before < 0 and s.after == 0.0 == float(target[s.position])
        np.testing.assert_allclose(steps.output(), target, atol=1e-6)


def test_votes_add_up_to_the_traced_votes_and_shares() -> None:
    model = load_model("xo-toy", device="cpu")
    for grid in PRESETS.values():
        t = model.trace(grid)
        steps = steps_for_layer(t, "votes")
        assert isinstance(steps, VoteSteps) and len(steps) == 48 + 1
        last_value_step = steps[len(steps) - 2]
        final = steps[len(steps) - 1]
        np.testing.assert_allclose(last_value_step.totals, final.totals)
        for k in range(2):
            _same(final.totals[k], float(t.layer("votes").output[k]), 2)
            _same(final.shares[k], float(t.probabilities[k]), 2)
        # each step's products are value × weight, and totals grow by exactly them
        prev = np.zeros(2)
        for s in list(steps)[:-1]:
            np.testing.assert_allclose(s.products, s.value * s.weights)
            np.testing.assert_allclose(s.totals, prev + s.products, atol=1e-12)
            prev = s.totals
    # the lecture's X: 0.74 for X, 0.33 for O → 69 %
    final = steps_for_layer(model.trace(SEED_X), "votes")[-1]
    assert [number_text(v) for v in final.totals] == ["0.74", "0.33"]
    assert round(final.shares[0] * 100) == 69


def test_every_dense_unit_sum_equals_the_trace(traced) -> None:
    _, t = traced
    for name in [n for n in steppable_layers(t) if t.layer(n).kind == "dense"]:
        out = t.layer(name).output
        for unit in {0, len(out) - 1}:
            steps = steps_for_layer(t, name, unit=unit)
            assert isinstance(steps, DenseSteps)
            final = steps[-1]
            assert final.i is None
            assert len(steps) - 1 + steps.skipped == t.layer(name).weights.shape[1]
            _same(final.value, float(out[unit]), 3)
            if final.relu is not None:
                nxt = t.layers[[lay.name for lay in t.layers].index(name) + 1].output
                _same(final.relu, float(nxt[unit]), 3)


def test_steppable_layers_are_chosen_by_kind(traced) -> None:
    _, t = traced
    kinds = {t.layer(n).kind for n in steppable_layers(t)}
    assert kinds <= {"conv", "pool", "relu", "norm", "votes", "dense"}
    with pytest.raises(ValueError, match="flatten"):
        steps_for_layer(t, "flatten")


# ----- maths identities -------------------------------------------------------------------------
def test_conv_steps_match_torch_for_stride_padding_and_channels() -> None:
    rng = np.random.default_rng(0)
    for C, H, k, s, p in [(1, 5, 3, 1, 0), (3, 7, 3, 2, 1), (2, 8, 4, 2, 0), (1, 6, 2, 3, 2)]:
        x, w = rng.normal(size=(C, H, H)), rng.normal(size=(C, k, k))
        steps = ConvSteps(x, w, bias=0.5, stride=s, padding=p)
        bias = torch.tensor([0.5], dtype=torch.float64)
        want = torch.nn.functional.conv2d(torch.tensor(x)[None], torch.tensor(w)[None], bias,
                                          stride=s, padding=p)[0, 0].numpy()
        assert steps.shape == want.shape
        np.testing.assert_allclose(steps.output(), want, atol=1e-9)
        for i in range(len(steps)):
            st = steps[i]
            if st.complete:
                assert math.isclose(st.value, want[st.row, st.col], abs_tol=1e-9)
        assert len(steps) == want.size * C


def test_multi_channel_steps_add_one_channel_at_a_time() -> None:
    steps = CHANNELS.steps()
    first = [steps[i] for i in range(3)]
    assert [s.channel for s in first] == [0, 1, 2] and first[-1].complete
    assert [float(v) for v in first[-1].channel_sums] == [308.0, -498.0, 164.0]
    assert [s.partial for s in first] == [308.0, -190.0, -26.0]
    assert first[-1].value == -25.0  # the seed's output cell


def test_pool_steps_match_torch_including_ceil_mode() -> None:
    rng = np.random.default_rng(1)
    for H, k, s, ceil in [(7, 2, 2, True), (7, 2, 2, False), (26, 2, 2, False), (5, 3, 2, True)]:
        x = rng.normal(size=(H, H))
        steps = PoolSteps(x, k, s, ceil_mode=ceil)
        want = torch.nn.functional.max_pool2d(torch.tensor(x)[None], k, s, ceil_mode=ceil)
        want = want[0].numpy()
        np.testing.assert_array_equal(steps.output(), want)
        assert len(steps) == want.size


def test_relu_steps_visit_each_negative_once() -> None:
    x = np.array([[1.0, -2.0], [-0.5, 0.0]])
    steps = ReluSteps(x)
    assert [s.position for s in steps] == [(0, 1), (1, 0)]
    assert len(ReluSteps(np.abs(x))) == 0


def test_output_size_formula_matches_torch_conv2d() -> None:
    for W in range(1, 13):
        for F in range(1, 6):
            for P in range(0, 3):
                for S in range(1, 4):
                    if W + 2 * P < F:
                        with pytest.raises(ValueError):
                            output_size(W, F, P, S)
                        continue
                    conv = torch.nn.Conv2d(1, 1, F, stride=S, padding=P)
                    got = conv(torch.zeros(1, 1, W, W)).shape[-1]
                    assert output_size(W, F, P, S) == got, (W, F, P, S)
                    if fits_evenly(W, F, P, S):
                        assert (W - F + 2 * P) / S + 1 == got
    for W, F, S in [(7, 2, 2), (13, 2, 2), (26, 2, 2), (5, 3, 2)]:
        pool = torch.nn.MaxPool2d(F, S, ceil_mode=True)
        assert output_size(W, F, 0, S, ceil_mode=True) == pool(torch.zeros(1, 1, W, W)).shape[-1]


def test_size_text_says_when_the_windows_do_not_fit() -> None:
    assert size_text(5, 3, 1, 1) == "(5 − 3 + 2·1) / 1 + 1 = 5"
    assert "dropped" in size_text(8, 3, 0, 2)
    assert "does not fit" in size_text(2, 5, 0, 1)


def test_number_text_cuts_like_the_lecture() -> None:
    assert number_text(7 / 9) == "0.77" and number_text(-1 / 9) == "-0.11"
    assert number_text(np.float32(0.78)) == "0.78" and number_text(-0.001) == "0.00"
    assert number_text(3.0, 0) == "3" and number_text(-0.2, 0) == "0"
    assert matching_divisor(np.array([1, -1, 1]) / 9) == 9
    assert matching_divisor(np.array([0.3, -0.1])) is None


# ----- the lecture's pages ----------------------------------------------------------------------
# The five frames of the 2-D slide exactly as the seed's text has them: the kernel's
# superscripts are glued to the cell values ("o ¹" = value 0, weight 1; "10" = value 1,
# weight 0), and "o"/"О" stand for 0.
SEED_FRAMES = (
    "\to ¹\to ⁰\t11\t0\t1\n\t2 ⁰\t10\to ⁰\t1\t0\n\t01\to ⁰\t11\tО\t1\n\t0\t1\t2\t1\t0\n"
    "\t2\t1\t0\t1\t0\n\n0\t01\t10\to ¹\t1\n2\t10\t00\t10\t0\n0\t01\t10\to ¹\t1\n0\t1\t2\t1\t0\n"
    "2\t1\t0\t1\t0\n\n0\t0\t11\t00\t11\t\n2\t1\t00\t10\t00\t\n0\t0\t11\t00\t11\t\n0\t1\t2\t1\t0\t\n"
    "2\t1\t0\t1\t0\t\n\n0\t0\t1\t0\t1\n21\t1 ⁰\to ¹\t1\t0\no ⁰\to ⁰\t10\t0\t1\n01\t1 ⁰\t21\t1\t0\n"
    "2\t1\t0\t1\t0\n\n0\t0\t1\t0\t1\n2\t11\t00\t11\t0\n0\to ⁰\t1 ⁰\to ⁰\t1\n0\t11\t20\t11\t0\n"
    "2\t1\t0\t1\t0\n"
)


def _decode(frame: str) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """One garbled frame → (5×5 values, 3×3 kernel, window's top-left cell)."""
    table = str.maketrans({"o": "0", "О": "0", "¹": "1", "⁰": "0", " ": None})
    values = np.zeros((5, 5))
    weights: dict[tuple[int, int], float] = {}
    for r, line in enumerate(frame.strip("\n").split("\n")):
        cells = [c.translate(table) for c in line.split("\t")]
        cells = cells[1:] if cells[0] == "" else cells
        for c, cell in enumerate(cells[:5]):
            values[r, c] = float(cell[0])
            if len(cell) == 2:
                weights[(r, c)] = float(cell[1])
    (r0, c0) = min(weights)
    kernel = np.array([[weights[(r0 + i, c0 + j)] for j in range(3)] for i in range(3)])
    assert len(weights) == 9
    return values, kernel, (r0, c0)


def test_the_5x5_page_is_the_lecture_grid_read_from_every_seed_frame() -> None:
    frames = [f for f in SEED_FRAMES.split("\n\n") if f.strip()]
    assert len(frames) == 5
    corners = []
    for frame in frames:
        values, kernel, corner = _decode(frame)
        np.testing.assert_array_equal(values, TWO_D.x[0])
        np.testing.assert_array_equal(kernel, TWO_D.w[0])
        corners.append(corner)
    assert corners == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]  # the window slides as on the slide
    steps = TWO_D.steps()
    # the frames' windows are the first five steps, in order
    assert [(steps[i].rows[0], steps[i].cols[0]) for i in range(5)] == corners
    want = torch.nn.functional.conv2d(torch.tensor(TWO_D.x)[None], torch.tensor(TWO_D.w)[None])
    np.testing.assert_array_equal(TWO_D.output(), want[0, 0].numpy())
    np.testing.assert_array_equal(TWO_D.output(), [[2, 0, 4], [4, 4, 2], [3, 2, 2]])


def test_the_lecture_pages_come_in_order_with_their_sizes() -> None:
    keys = [lesson.key for lesson in LESSONS]
    assert keys == ["1d", "2d", "padding", "stride", "channels", "size"]
    assert ONE_D.output().tolist() == [[1, 3, 2, 0, -2, -3, -1]]
    assert PADDING.output().shape == (5, 5) and PADDING.size_text.endswith("= 5")
    assert STRIDE.w.shape == (1, 4, 4) and STRIDE.stride == 2 and STRIDE.output().shape == (3, 3)
    assert CHANNELS.x.shape == (3, 5, 5) and CHANNELS.output()[0, 0] == -25


def test_editing_a_lesson_cell_keeps_the_original() -> None:
    edited = TWO_D.with_cell("x", 0, 0, 2, 5.0)
    assert TWO_D.x[0, 0, 2] == 1 and edited.x[0, 0, 2] == 5
    assert edited.output()[0, 0] == 6  # 5 × 1 + 1 × 1 below it


@pytest.mark.parametrize(
    "text", ["abc", "", "nan", "NaN", "inf", "-inf", "1e5", "-20000", "1..2"])
def test_bad_typed_values_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_value(text)


def test_good_typed_values_are_read() -> None:
    assert parse_value(" −3 ") == -3 and parse_value("0,5") == 0.5 and parse_value("1e4") == 1e4


# ----- your own features ------------------------------------------------------------------------
def test_edited_conv_weights_make_a_new_model_and_leave_the_shipped_one(tmp_path) -> None:
    model = load_model("xo-toy", device="cpu")
    shipped = model.module.conv.weight.detach().clone()
    w = np.array(model.trace(SEED_X).layer("conv").weights)
    w[0] = np.where(np.eye(3, dtype=bool)[None], -1, 1) / 9.0  # flip the "\\" feature
    edited = model.with_weights("conv", w)
    assert edited is not model and edited.device == model.device
    assert torch.equal(model.module.conv.weight, shipped)
    t = edited.trace(SEED_X)
    before = model.trace(SEED_X).layer("conv").output[0]
    np.testing.assert_allclose(t.layer("conv").output[0], -before, atol=1e-6)
    steps = steps_for_layer(t, "conv", channel=0)
    assert steps.divide == 9 and steps[0].total == -7
    with pytest.raises(ConvPadError, match="no conv or dense layer"):
        model.with_weights("relu", w)
    with pytest.raises(ConvPadError, match="shape"):
        model.with_weights("conv", w[:2])
    bad = w.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ConvPadError, match="NaN"):
        model.with_weights("conv", bad)
    for huge in (1e5, 1e30):  # one limit, where values enter: what is edited can be saved
        bad[0, 0, 0, 0] = huge
        with pytest.raises(ConvPadError, match="beyond"):
            model.with_weights("conv", bad)

    card = edited.save(tmp_path / "my-x-features")
    again = load_model(str(card), device="cpu")
    np.testing.assert_allclose(again.trace(SEED_X).layer("conv").output, t.layer("conv").output)
    assert again.card["edited"] == ["conv"] and again.card["base"] == "xo-toy"
    assert not list(card.parent.glob(".*tmp"))


# ----- batch norm (an opened network's own layer) ----------------------------------------------
def test_a_batch_norm_is_stepped_through_value_by_value_as_traced(tmp_path) -> None:
    """A network's batch norm is a page of the step-through: every value × its map's
    scale + shift, which is what the trace holds, from the file's γ, β, mean and
    variance (the formula written out, not read back from the trace)."""
    rng = np.random.default_rng(3)
    p = batch_norm_onnx(tmp_path / "bn.onnx", rng)
    m = load_model(str(tmp_path / "bn.onnx"), device="cpu")
    t = m.trace(rng.uniform(0, 1, (28, 28)).astype(np.float32))
    norm = [lay for lay in t.layers if lay.kind == "norm"]
    assert len(norm) == 1 and norm[0].name in steppable_layers(t)
    conv = t.layers[[lay.name for lay in t.layers].index(norm[0].name) - 1].output
    for ch in range(4):
        steps = steps_for_layer(t, norm[0].name, channel=ch)
        scale = p["sc"][ch] / math.sqrt(p["va"][ch] + 1e-3)
        shift = p["bi"][ch] - p["me"][ch] * scale
        assert len(steps) == conv[ch].size
        step = steps[37]
        r, c = divmod(37, conv.shape[2])
        assert step.position == (r, c)
        assert step.scale == pytest.approx(scale, rel=1e-5)
        assert step.shift == pytest.approx(shift, rel=1e-5, abs=1e-6)
        assert step.after == pytest.approx(conv[ch, r, c] * scale + shift, rel=1e-4, abs=1e-5)
        np.testing.assert_allclose(steps.output(), norm[0].output[ch], rtol=1e-4, atol=1e-5)


def test_norm_steps_on_a_vector_scale_each_value_by_its_own_pair() -> None:
    x = np.array([1.0, -2.0, 3.0])
    steps = NormSteps(x, np.array([2.0, 0.5, -1.0]), np.array([0.0, 1.0, 0.5]))
    assert [steps[i].after for i in range(len(steps))] == [2.0, 0.0, -2.5]
    assert steps[4].index == 1  # steps wrap, as every kind's do
    np.testing.assert_array_equal(steps.output(), [2.0, 0.0, -2.5])


def test_a_batch_norm_without_running_statistics_is_not_stepped() -> None:
    from engine.tracing import layer_weights

    bn = torch.nn.Sequential(torch.nn.BatchNorm2d(3, track_running_stats=False))
    assert layer_weights(bn) == {}
