"""Attribution maps (engine.explain): the toy's exact occlusion, the map's way back to
the drawing's pixels, the Adebayo sanity check, the overlay and `convpad explain`."""

from __future__ import annotations

import argparse
import io
import json
import os

import numpy as np
import pytest
import torch
from captum.attr import Occlusion
from PIL import Image, ImageDraw, ImageOps
from torch import nn

from engine import load_model, read_image
from engine.cli import add_common
from engine.cli.explain import add_parser, run
from engine.explain import METHODS, explain
from engine.explain.geometry import placement, to_file
from engine.explain.methods import LogOdds, attribute, background, pick_layer, scores
from engine.explain.overlay import heat_rgba, overlay_png, overlay_rgba
from engine.explain.toy import toy_occlusion
from engine.lecture import SEED_O, SEED_TRICKY_X, SEED_X

LECTURE = {"X": SEED_X, "trickier X": SEED_TRICKY_X, "O": SEED_O}

# Polylines in a unit box (x, y down): digits drawn the way a mouse would.
STROKES = {
    "7": [[(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]],
    "1": [[(0.35, 0.25), (0.55, 0.1), (0.55, 0.9)]],
    "4": [[(0.65, 0.9), (0.65, 0.1), (0.15, 0.6), (0.85, 0.6)]],
    "3": [[(0.2, 0.15), (0.7, 0.15), (0.45, 0.45), (0.75, 0.65), (0.5, 0.9), (0.2, 0.8)]],
}


def _drawing(digit: str, size: tuple[int, int] = (280, 280), box=(0.1, 0.1, 0.9, 0.9),
             width: int = 18) -> np.ndarray:
    """A white-on-black uint8 canvas of ``size`` (H, W) with ``digit``'s strokes in ``box``."""
    (h, w), (x0, y0, x1, y1) = size, box
    im = Image.new("L", (w, h))
    for stroke in STROKES[digit]:
        pts = [(x0 * w + x * (x1 - x0) * w, y0 * h + y * (y1 - y0) * h) for x, y in stroke]
        ImageDraw.Draw(im).line(pts, fill=255, width=width, joint="curve")
    return np.asarray(im)


@pytest.fixture(scope="module")
def digits_net():
    return load_model("digits", device="cpu")


@pytest.fixture(scope="module")
def toy_net():
    return load_model("xo-toy", device="cpu")


def _cells(grid: np.ndarray, cell: int = 30) -> np.ndarray:
    """A 9×9 ±1 grid as a white-on-black uint8 image of ``cell``-pixel blocks."""
    return (np.kron((grid + 1) / 2, np.ones((cell, cell))) * 255).astype(np.uint8)


# The toy: exact occlusion in closed form --------------------------------------------


@pytest.mark.parametrize("picture", list(LECTURE))
def test_captum_occlusion_of_the_toy_equals_the_closed_form(toy_net, picture) -> None:
    grid = LECTURE[picture]
    exact = toy_occlusion(toy_net, grid)
    assert exact.shape == (2, 9, 9)
    xt = torch.from_numpy(grid)[None, None]
    # Conv → pool → ReLU as shipped, and conv → ReLU → pool: max pooling and ReLU commute.
    children = dict(toy_net.module.named_children())
    relu_first = nn.Sequential(children["conv"], children["relu"], children["pool"],
                               children["flatten"], children["votes"])
    for k in range(2):
        for net in (toy_net.module, relu_first):
            captum = Occlusion(net).attribute(
                xt, sliding_window_shapes=(1, 1, 1), baselines=-1.0, target=k,
                perturbations_per_eval=81)[0, 0].numpy()
            np.testing.assert_allclose(captum, exact[k], atol=1e-6)
        np.testing.assert_allclose(attribute(toy_net, grid, "occlusion", k), exact[k], atol=1e-6)
    # Background pixels are already background: occluding them changes no vote.
    assert np.all(exact[:, grid < 0] == 0)
    if picture == "X":  # every stroke pixel adds to X; the centre, in every match, most
        assert (exact[0][grid > 0] > 0).all() and exact[0].argmax() == 4 * 9 + 4


def test_toy_map_on_a_drawn_file_is_each_cells_value(toy_net) -> None:
    drawing = _cells(SEED_X)
    e = explain(toy_net, drawing, "occlusion")
    assert toy_net.classes[e.target] == "X"
    np.testing.assert_allclose(e.input_map, toy_occlusion(toy_net, SEED_X)[0], atol=1e-6)
    # The box of ink is cells 1..7; each of its 30×30 pixel blocks shows its cell's value.
    inner = e.image_map[30:240, 30:240]
    np.testing.assert_allclose(inner, np.kron(e.input_map[1:8, 1:8], np.ones((30, 30))),
                               atol=1e-6)
    assert not e.image_map[:30].any() and not e.image_map[240:].any()


# From the network input back to the drawing --------------------------------------------


def _drawings() -> list[np.ndarray]:
    wide = _drawing("4", size=(200, 420), box=(0.55, 0.2, 0.95, 0.9), width=9)
    dot = np.zeros((300, 200), np.uint8)
    dot[140:150, 90:97] = 255  # smaller than the toy's smallest box: the box overhangs
    edge = _drawing("7", box=(-0.05, 0.0, 0.6, 1.05))
    return [_drawing("7"), _drawing("3", width=7), wide, dot, edge]


@pytest.mark.parametrize("mode", ["centred", "as-drawn"])
def test_placement_reproduces_the_models_preprocessing(digits_net, toy_net, mode) -> None:
    for net in (digits_net, toy_net):
        for drawing in _drawings():
            ink = drawing.astype(np.float32) / 255
            where = placement(ink, net.spec.preprocessing, net.input_shape[-1], mode)
            want = net.preprocess(drawing, invert=False, input=mode)[0]
            np.testing.assert_allclose(where.network_input(ink), want, atol=1e-5)


def test_input_map_reaches_the_part_of_the_drawing_placed_there(digits_net) -> None:
    drawing = _drawing("7", size=(300, 240), box=(0.2, 0.1, 0.8, 0.7))
    ink = drawing.astype(np.float32) / 255
    where = placement(ink, "mnist", 28)
    ys, xs = np.nonzero(ink > 0.1)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    rows = np.flatnonzero(digits_net.preprocess(drawing, invert=False)[0].any(axis=1))
    # A map that is each input pixel's row number reads back, in the ink's box, as the
    # input row each drawing row lands on: in order, from the digit's first row to its last.
    ramp = where.to_image(np.repeat(np.arange(28.0)[:, None], 28, axis=1))
    assert ramp.shape == drawing.shape
    box = ramp[top : bottom + 1, left : right + 1]
    assert (np.diff(box, axis=0) >= -1e-6).all()
    assert box[0].min() == pytest.approx(rows[0], abs=0.5)
    assert box[-1].max() == pytest.approx(rows[-1], abs=0.5)
    # The input's top half matters: the drawing's top half gets the attribution.
    middle = (rows[0] + rows[-1]) / 2
    half = np.where(np.arange(28)[:, None] < middle, 1.0, -1.0) * np.ones((1, 28))
    m = where.to_image(half)
    upper, lower = ink[: (top + bottom) // 2 - 10] > 0.1, ink[(top + bottom) // 2 + 10 :] > 0.1
    assert (m[: (top + bottom) // 2 - 10][upper] > 0).all()
    assert (m[(top + bottom) // 2 + 10 :][lower] < 0).all()
    # A constant map reads back as that constant inside the ink's box, 0 outside it.
    flat = where.to_image(np.full((28, 28), 0.5))
    np.testing.assert_allclose(flat[top : bottom + 1, left : right + 1], 0.5, atol=1e-6)
    assert not flat[:top].any() and not flat[bottom + 1 :].any()
    assert not flat[:, :left].any() and not flat[:, right + 1 :].any()


def test_the_ink_the_map_points_at_is_the_ink_that_matters(digits_net) -> None:
    drops = {"most": [], "least": []}
    for digit in ("7", "4", "3"):
        ink = _drawing(digit).astype(np.float32) / 255
        e = explain(digits_net, ink, "occlusion")
        pixels = np.flatnonzero(ink.ravel() > 0.5)
        order = pixels[np.argsort(e.image_map.ravel()[pixels])]
        k = len(pixels) // 10
        for name, chosen in (("most", order[-k:]), ("least", order[:k])):
            erased = ink.copy()
            erased.ravel()[chosen] = 0
            p = digits_net.predict(erased[None], invert=False)[0][e.target]
            drops[name].append(e.probabilities[e.target] - p)
    assert np.mean(drops["most"]) > 0.1 > np.mean(drops["least"])


def _orient(image: np.ndarray, orientation: int) -> np.ndarray:
    """What Pillow's exif_transpose makes of ``image`` tagged with ``orientation``."""
    im = Image.fromarray(image.astype(np.float32))
    exif = Image.Exif()
    exif[0x0112] = orientation
    im.info["exif"] = exif.tobytes()
    return np.asarray(ImageOps.exif_transpose(im), np.float32)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_big_files_map_comes_back_on_its_own_pixels(tmp_path, orientation) -> None:
    # 1500×1100 stored pixels: read_image halves it, then turns it upright.
    stored = np.random.default_rng(orientation).integers(0, 100, (1100, 1500)).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "big.png"
    Image.fromarray(stored).save(path, exif=exif.tobytes())
    read = read_image(path)
    # Each file pixel must get the value of the block read_image averaged it into.
    blocks = np.asarray(Image.fromarray(stored).reduce(2), np.float32) / 255
    want = _orient(np.kron(blocks, np.ones((2, 2)))[:1100, :1500], orientation)
    got = to_file(read, path)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_big_files_map_is_0_outside_the_ink_box_of_the_file_itself(tmp_path) -> None:
    """read_image averages a 2,500 px file in 3×3 blocks; a block on the ink box's edge
    covers file pixels beyond the box, which must still get 0 (issue #22)."""
    from engine.explain.geometry import attribution_on_file

    stored = np.zeros((1900, 2500), np.uint8)
    stored[301:1630, 700:1100] = 255  # edges off the 3-pixel block grid
    path = tmp_path / "big.png"
    Image.fromarray(stored).save(path)
    read = read_image(path)
    assert read.shape == (634, 834)
    got = attribution_on_file(np.ones(read.shape, np.float32), path)
    assert got.shape == stored.shape
    assert (got[301:1630, 700:1100] == 1).all()
    outside = np.ones(got.shape, bool)
    outside[301:1630, 700:1100] = False
    assert not got[outside].any()
    assert to_file(np.ones(read.shape, np.float32), path)[300, 700] == 1  # the block's


# Methods, signs, sanity --------------------------------------------------------------


def test_explain_gives_maps_of_both_shapes_for_every_method(digits_net) -> None:
    drawing = _drawing("7", size=(260, 340))
    for method in METHODS:
        e = explain(digits_net, drawing, method)
        assert e.method == method and digits_net.classes[e.target] == "7"
        assert e.input_map.shape == (28, 28) and e.image_map.shape == drawing.shape
        assert np.isfinite(e.image_map).all() and e.image_map.max() > 0
        assert (e.layer == "relu2") == (method == "grad-cam")
        np.testing.assert_array_equal(
            e.probabilities, digits_net.predict(drawing[None], invert=False)[0])


def test_integrated_gradients_add_up_to_the_change_of_the_score(digits_net) -> None:
    x = digits_net.preprocess(_drawing("4"), invert=False)
    f = scores(digits_net)
    with torch.no_grad():
        lo = f(torch.from_numpy(np.stack([x, background(digits_net)])))[:, 4].numpy()
    total = attribute(digits_net, x, "integrated-gradients", 4).sum()
    assert total == pytest.approx(lo[0] - lo[1], rel=0.02)


def test_saliency_is_the_signed_gradient(digits_net) -> None:
    x = digits_net.preprocess(_drawing("7"), invert=False)
    xt = torch.from_numpy(x[None].copy()).requires_grad_()
    scores(digits_net)(xt)[0, 7].backward()
    got = attribute(digits_net, x, "saliency", 7)
    np.testing.assert_allclose(got, xt.grad[0, 0].numpy(), atol=1e-6)
    assert got.min() < 0 < got.max()


def test_log_odds_from_logits_or_log_probabilities() -> None:
    z = torch.tensor([[2.0, -1.0, 0.5], [9.0, 0.0, -5.0]], dtype=torch.float64)
    p = torch.softmax(z, dim=1)
    want = torch.log(p) - torch.log1p(-p)
    for net in (nn.Identity(), nn.LogSoftmax(dim=1)):
        torch.testing.assert_close(LogOdds(nn.Sequential(net))(z), want)


def test_occlusion_runs_every_window_in_one_batch(digits_net) -> None:
    x = digits_net.preprocess(_drawing("3"), invert=False)
    calls = []
    first = next(digits_net.module.children())
    hook = first.register_forward_hook(lambda m, i, o: calls.append(len(i[0])))
    try:
        attribute(digits_net, x, "occlusion", 3)
    finally:
        hook.remove()
    assert len(calls) <= 2 and max(calls) > 100  # the input once, then every window


def test_a_confident_answer_still_gets_a_map() -> None:
    # The probability of a sure answer is 1.0 in float32; its log-odds still moves.
    e = explain(load_model("xo", device="cpu"), _cells(SEED_X), "saliency")
    assert e.probabilities[e.target] > 0.999 and np.abs(e.input_map).max() > 1e-2


def test_as_drawn_maps_stay_where_the_ink_was_drawn(digits_net) -> None:
    drawing = _drawing("7", size=(400, 400), box=(0.05, 0.05, 0.45, 0.5), width=16)
    e = explain(digits_net, drawing, "integrated-gradients", input="as-drawn")
    want = digits_net.preprocess(drawing, invert=False, input="as-drawn")[0]
    np.testing.assert_array_equal(e.network_input, want)
    assert not e.input_map[16:].any() and not e.image_map[220:].any()
    assert np.abs(e.image_map[drawing > 127]).max() > 0


def test_blank_drawing_and_bad_requests(digits_net) -> None:
    e = explain(digits_net, np.zeros((50, 60), np.uint8))
    assert e.target is None and np.isnan(e.probabilities).all()
    assert e.image_map.shape == (50, 60) and not e.image_map.any()
    drawing = _drawing("1")
    with pytest.raises(ValueError, match="method"):
        explain(digits_net, drawing, "lime")
    with pytest.raises(ValueError, match="target"):
        explain(digits_net, drawing, target=10)
    with pytest.raises(ValueError, match="conv layers are: conv1, conv2"):
        explain(digits_net, drawing, "grad-cam", layer="nope")
    with pytest.raises(ValueError, match="no map"):
        explain(digits_net, drawing, "grad-cam", layer="fc1")
    assert pick_layer(digits_net.module, "conv1")[0] == "conv1"
    assert explain(digits_net, drawing, "grad-cam", layer="conv1").layer == "conv1"


def _rank(a: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(a, kind="stable"), kind="stable").astype(float)


def test_maps_of_a_randomised_network_differ_from_the_trained_ones(digits_net) -> None:
    """Adebayo et al. (2018): a map that survives randomising the weights explains the
    drawing, not the network. Spearman correlation of |map| on the drawing's ink (the
    pixels a person reads the map on), trained vs randomised weights, below 0.5.

    At the 28×28 input, integrated gradients' |map| keeps 0.6–0.8 of its rank order
    over the ink's pixels: both maps are (x − background) × an averaged gradient, and
    the factor x is the same drawing for both networks (the paper's own finding for
    gradient × input methods). benchmarks/explain_bench.py prints both figures.
    """
    random_net = load_model("digits", device="cpu")
    torch.manual_seed(0)
    with torch.no_grad():
        for child in random_net.module.children():
            if hasattr(child, "reset_parameters"):
                child.reset_parameters()
    rho = {m: [] for m in METHODS}
    for digit, width in (("7", 18), ("4", 18), ("3", 18), ("7", 10), ("4", 10), ("3", 10)):
        drawing = _drawing(digit, width=width)
        ink = drawing > 127
        for method in METHODS:
            a = np.abs(explain(digits_net, drawing, method, int(digit)).image_map[ink])
            b = np.abs(explain(random_net, drawing, method, int(digit)).image_map[ink])
            rho[method].append(np.corrcoef(_rank(a), _rank(b))[0, 1])
    assert all(np.mean(v) < 0.5 for v in rho.values()), rho


# The overlay ---------------------------------------------------------------------------


def test_overlay_is_red_toward_blue_away_and_symmetric() -> None:
    drawing, m = np.zeros((4, 6), np.uint8), np.zeros((4, 6), np.float32)
    drawing[1:3, 1:5], (m[1, 1], m[2, 4], m[1, 2]) = 255, (2.0, -2.0, 1.0)
    rgba = overlay_rgba(m, drawing)
    assert rgba.shape == (4, 6, 4) and rgba.dtype == np.uint8 and (rgba[..., 3] == 255).all()
    assert rgba[1, 1, 0] > rgba[1, 1, 2] + 100 and rgba[2, 4, 2] > rgba[2, 4, 0] + 100
    assert tuple(rgba[0, 0, :3]) == (255, 255, 255)  # paper, no colour at 0
    assert len(set(rgba[1, 3, :3])) == 1 and rgba[1, 3, 0] < 255  # ink, grey
    flipped = overlay_rgba(-m, drawing)
    np.testing.assert_array_equal(flipped[1, 1], rgba[2, 4])  # same strength, other colour
    # A wider scale shows the same value paler: closer to the grey of the ink.
    paler = overlay_rgba(m, drawing, limit=4.0)[1, 2, 2]
    assert abs(int(paler) - 110) < abs(int(rgba[1, 2, 2]) - 110)
    heat = heat_rgba(m)
    assert heat[0, 0, 3] == 0 and heat[1, 1, 3] == heat[2, 4, 3] > heat[1, 2, 3] > 0
    png = Image.open(io.BytesIO(overlay_png(m, drawing)))
    assert png.size == (6, 4) and png.mode == "RGB"


# The command line --------------------------------------------------------------------


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="convpad")
    add_parser(p.add_subparsers(dest="command"), add_common)
    return p


def test_cli_json_matches_classify_and_gives_the_files_grid(parser, tmp_path, capsys) -> None:
    seven = tmp_path / "seven.png"
    Image.fromarray(255 - _drawing("7", size=(210, 330))).save(seven)  # dark on light
    x = tmp_path / "x.png"
    Image.fromarray(_cells(SEED_X)).save(x)
    broken = tmp_path / "broken.png"
    broken.write_bytes(seven.read_bytes()[:60])
    blank = tmp_path / "blank.png"
    Image.fromarray(np.zeros((40, 30), np.uint8)).save(blank)

    status = run(parser.parse_args(["explain", str(seven), str(broken), str(blank), "--json",
                                    "--method", "integrated-gradients"]))
    out, err = capsys.readouterr()
    assert status == 1 and "broken.png" in err and err.count("\n") == 1
    first, empty = (json.loads(line) for line in out.splitlines())
    model = load_model("digits", device="cpu")
    probs = model.predict(read_image(seven)[None], invert=False, input="centred")[0]
    assert first["class"] == "7" == first["target"] and first["model"] == "digits"
    assert first["probabilities"] == {c: round(float(p), 6) for c, p in zip(model.classes, probs)}
    a = np.array(first["attribution"])
    assert a.shape == (210, 330) and np.isfinite(a).all() and a.max() > 0
    assert empty["class"] is None and empty["probabilities"] is None
    assert np.array(empty["attribution"]).shape == (40, 30)

    status = run(parser.parse_args(["explain", str(x), "--model", "xo-toy", "--target", "O",
                                    "--json"]))
    toy = json.loads(capsys.readouterr().out)
    assert status == 0 and toy["target"] == "O" and toy["class"] == "X"
    grid = np.array(toy["attribution"])[::30, ::30]
    exact = toy_occlusion(load_model("xo-toy", device="cpu"), SEED_X)[1]
    np.testing.assert_allclose(grid[1:8, 1:8], exact[1:8, 1:8], atol=1e-6)


def test_cli_writes_overlays_and_refuses_bad_requests(parser, tmp_path, capsys) -> None:
    one, two = tmp_path / "a" / "d.png", tmp_path / "b" / "d.png"
    for path, digit in ((one, "4"), (two, "1")):
        path.parent.mkdir()
        Image.fromarray(_drawing(digit, size=(120, 150))).save(path)
    assert run(parser.parse_args(["explain", str(one), "--out", str(tmp_path / "o.png")])) == 0
    assert Image.open(tmp_path / "o.png").size == (150, 120)
    # Written as every ConvPad file is (engine.storage): readable as the umask allows,
    # and a folder that is not there is one line naming the file and why.
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "o.png").stat().st_mode & 0o777 == 0o666 & ~umask
    assert run(parser.parse_args(["explain", str(one), "--out",
                                  str(tmp_path / "gone" / "o.png")])) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write ") and "gone" in err and err.count("\n") == 1
    folder = tmp_path / "maps"
    assert run(parser.parse_args(["explain", str(one), str(two), "--method", "grad-cam",
                                  "--out", str(folder)])) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["d-2.grad-cam.png", "d.grad-cam.png"]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "grad-cam for 1" in lines[1]

    for argv, words in (
        (["--model", "nope"], "nope"),
        (["--target", "Q"], "classes are"),
        (["--method", "grad-cam", "--layer", "nope"], "conv layers are"),
        (["--layer", "conv1"], "grad-cam"),
        (["--device", "tpu"], "device"),
    ):
        assert run(parser.parse_args(["explain", str(one), *argv])) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err and err.count("\n") == 1


def test_grad_cam_holds_while_another_thread_runs_the_same_network(digits_net) -> None:
    """The app traces the live drawing in a worker while Explain runs in another: a
    Grad-CAM hook on the shared network caught the trace's forward passes (outputs of a
    graph without gradients) and Captum failed with 'not used in the graph'."""
    import threading

    x = torch.from_numpy(digits_net.preprocess(_drawing("7"), invert=False)[None])
    stop = threading.Event()

    def trace_forever() -> None:
        with torch.no_grad():
            while not stop.is_set():
                digits_net.module(x)

    tracer = threading.Thread(target=trace_forever, daemon=True)
    tracer.start()
    try:
        first = explain(digits_net, _drawing("7"), "grad-cam").input_map
        for _ in range(60):
            np.testing.assert_allclose(
                explain(digits_net, _drawing("7"), "grad-cam").input_map, first, atol=1e-5)
    finally:
        stop.set()
        tracer.join()


def test_cli_reports_a_bad_file_but_never_disguises_a_bug_as_one(parser, tmp_path, capsys,
                                                                 monkeypatch) -> None:
    """Issue #19: a bug (here a ValueError inside the method) is not printed as a bad
    image and skipped; a bad image (ImageError) is, and the others are still explained."""
    import engine.explain

    good, bad = tmp_path / "d.png", tmp_path / "bad.png"
    Image.fromarray(_drawing("4", size=(60, 60))).save(good)
    bad.write_bytes(b"not a picture")
    assert run(parser.parse_args(["explain", str(bad), str(good)])) == 1
    out, err = capsys.readouterr()
    assert err.startswith(f"error: {bad}") and len(out.splitlines()) == 1

    def broken(*_args, **_kwargs):
        raise ValueError("a bug in the method")

    monkeypatch.setattr(engine.explain, "explain", broken)
    with pytest.raises(ValueError, match="a bug in the method"):
        run(parser.parse_args(["explain", str(good)]))
