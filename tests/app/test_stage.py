"""The classroom stage as a presenter and a student at the back would check it.

Every assertion reads what the stage last painted (``shown_texts``/``shown_numbers``/
``painted`` are recorded by the painting code itself) or the pixels of a grab.
"""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import QPoint, Qt

from app.stage import Stage
from app.stage.ink import slide
from engine import PRESETS, load_model
from engine.lecture import SEED_MAP_DIAGONAL, SEED_RELU_DIAGONAL

SIZES = [(1280, 720), (1920, 1080), (3840, 2160)]
MODELS = ["xo-toy", "xo", "digits"]


def lecture_x() -> np.ndarray:
    g = PRESETS["X (lecture)"]
    return np.kron((g > 0).astype(np.float32), np.ones((36, 36), np.float32))


def drawn(strokes: list[list[tuple[float, float]]], size: int = 324) -> np.ndarray:
    img = Image.new("L", (size, size), 0)
    ImageDraw.Draw(img).line([(x * size, y * size) for s in strokes for x, y in s], fill=255,
                             width=26, joint="curve")
    return np.asarray(img, np.float32) / 255.0


SEVEN = [[(0.25, 0.22), (0.75, 0.22), (0.45, 0.82)]]


@pytest.fixture(scope="module")
def models():
    return {name: load_model(name, device="cpu") for name in MODELS}


@pytest.fixture(scope="module")
def traces(models):
    """A typical drawing per model, and an empty canvas."""
    ink = {"xo-toy": lecture_x(), "xo": drawn([[(0.2, 0.2), (0.8, 0.8)]]), "digits": drawn(SEVEN)}
    out = {}
    for name, m in models.items():
        out[name] = m.trace(m.preprocess(ink[name], invert=False))
        empty = np.zeros((324, 324), np.float32)
        assert m.is_blank(empty)
        out[name + ":blank"] = m.trace(m.preprocess(empty, invert=False))
    return out


@pytest.fixture
def stage(qtbot):
    s = Stage()
    qtbot.addWidget(s)
    s.resize(1280, 720)
    s.show()
    qtbot.waitExposed(s)
    return s


def pages(stage: Stage):
    """Go to every stage and page in turn, painting each; yields (stage, page)."""
    for i in range(len(stage.stage_titles())):
        stage.go(i, 0)
        for p in range(stage.page_count):
            stage.go(i, p)
            stage.view.repaint()
            yield i, p


def overlaps(texts) -> list[tuple[str, str]]:
    bad = []
    for a in range(len(texts)):
        for b in range(a + 1, len(texts)):
            r = texts[a].rect.intersected(texts[b].rect)
            if r.width() > 0.5 and r.height() > 0.5:
                bad.append((texts[a].text, texts[b].text))
    return bad


# ----- stages per family ------------------------------------------------------------------
def test_toy_stages_follow_the_lecture(stage, traces):
    stage.set_trace(traces["xo-toy"], blank=False)
    titles = stage.stage_titles()
    # The lecture's order: "1. convolution, 2. non-linearity, 3. pooling".
    assert [s.short for s in stage.stages] == ["drawing", "filter", "ReLU", "pool", "votes",
                                               "answer", "explain"]
    for title, word in zip(titles, ["sees", "Filtering", "ReLU", "Pooling", "Votes", "answer",
                                    "Explain"], strict=True):
        assert word in title


@pytest.mark.parametrize("name, c1, c2, dense", [("digits", 32, 64, 1024), ("xo", 8, 16, 64)])
def test_softmax_family_stages(stage, traces, name, c1, c2, dense):
    stage.set_trace(traces[name], blank=False)
    titles = stage.stage_titles()
    assert [s.short for s in stage.stages] == ["drawing", "conv1", "ReLU+pool", "conv2",
                                               "ReLU+pool", "fc1", "fc2", "softmax", "answer",
                                               "explain"]
    assert f"conv1: {c1} filters slide over the image" in titles[1]
    assert f"each of {c2} maps adds up {c1} filtered maps" in titles[3]
    assert f"{dense:,} neurons" in titles[5]
    assert "logit" in titles[6] and "100%" in titles[7]


def test_a_model_switch_rebuilds_the_stages(stage, traces):
    stage.set_trace(traces["digits"], blank=False)
    stage.go(8)
    stage.set_trace(traces["xo-toy"], blank=False)
    assert len(stage.stage_titles()) == 7
    assert stage.stage_index == 6  # the last step, clamped: Explain
    stage.go(5)
    stage.view.repaint()
    assert any(s.label == "answer" for s in stage.shown_numbers())


# ----- the lecture's numbers ----------------------------------------------------------------
@pytest.mark.parametrize("size", [*SIZES, (900, 560)])
def test_every_value_of_the_lecture_x_is_shown(stage, traces, size):
    stage.resize(*size)
    trace = traces["xo-toy"]
    stage.set_trace(trace, blank=False)
    shown: dict[str, str] = {}
    texts = []
    for _ in pages(stage):
        for s in stage.shown_numbers():
            shown[s.label] = s.text
        texts += [s.text for s in stage.shown_texts()]
    want = {"conv": 147, "relu": 147, "pool": 48}
    for name, count in want.items():
        out = trace.layer(name).output
        labels = [f"{name}[{c}][{r},{k}]" for c in range(out.shape[0])
                  for r in range(out.shape[1]) for k in range(out.shape[2])]
        assert len(labels) == count
        missing = [lab for lab in labels if lab not in shown]
        assert not missing, f"{name}: {len(missing)} values never shown, e.g. {missing[:3]}"
        for lab in labels:
            c, r, k = (int(v) for v in lab[len(name) + 1:].replace("][", ",").strip("]")
                       .split(","))
            value = float(out[c, r, k])
            rectified = name in ("relu", "pool")  # the lecture prints a cleared cell as 0
            assert shown[lab] == ("0" if rectified and value == 0 else slide(value))
    # the slide's table, as printed
    table = [[shown[f"conv[0][{r},{k}]"] for k in range(7)] for r in range(7)]
    assert table == [[f"{v:.2f}".replace("-", "\u2212") for v in row] for row in SEED_MAP_DIAGONAL]
    # …and the ReLU slide's right-hand table: "0.77 0 0.11 0.33 0.55 0 0.33 …"
    rectified = [[shown[f"relu[0][{r},{k}]"] for k in range(7)] for r in range(7)]
    assert rectified == [[f"{v:.2f}" if v else "0" for v in row] for row in SEED_RELU_DIAGONAL]
    assert " ".join(rectified[0]) == "0.77 0 0.11 0.33 0.55 0 0.33"
    assert "X: 0.74 / (0.74 + 0.33) = 69%" in texts


# ----- legibility ---------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", MODELS)
def test_every_text_is_big_enough_inside_its_box_and_alone(stage, traces, name, size):
    w, h = size
    stage.resize(w, h)
    stage.set_trace(traces[name], blank=False)
    view = stage.view.geometry()
    for i, p in pages(stage):
        texts = stage.shown_texts()
        assert texts, (i, p)
        for s in texts + stage.strip.shown:
            assert s.px >= h / 45, (i, p, s.text, s.px)
            assert s.cell.adjusted(-0.5, -0.5, 0.5, 0.5).contains(s.rect), (i, p, s.text)
        for s in texts:
            assert 0 <= s.rect.left() and s.rect.right() <= view.width(), (i, p, s.text)
            assert 0 <= s.rect.top() and s.rect.bottom() <= view.height(), (i, p, s.text)
        assert not overlaps(texts), (i, p, overlaps(texts)[:3])
        assert not overlaps(stage.strip.shown)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", MODELS)
def test_the_strip_names_its_steps_instead_of_numbering_them(stage, traces, name, size):
    """Issue #20.2: a bare 1–9 beside a digit headline reads as digits. The stage gets 70 %
    of a full screen's width (the canvas has the rest), so test at that width."""
    w, h = size
    stage.resize(int(w * 0.7), h)
    stage.set_trace(traces[name], blank=False)
    stage.strip.repaint()
    assert stage.strip.mode != "numbers"
    painted = " ".join(s.text for s in stage.strip.shown)
    first = "filter" if name == "xo-toy" else "conv1"  # the toy speaks the lecture's words
    assert first in painted and "drawing" in painted and "answer" in painted
    assert not any(s.text.isdigit() for s in stage.strip.shown)
    assert not overlaps(stage.strip.shown)


@pytest.mark.parametrize("size", [(800, 480), (640, 360)])
@pytest.mark.parametrize("name", MODELS)
def test_a_small_stage_drops_labels_before_anything_collides(stage, traces, name, size):
    stage.resize(*size)
    stage.set_trace(traces[name], blank=False)
    for i, p in pages(stage):
        texts = stage.shown_texts()
        for s in texts:
            assert s.cell.adjusted(-0.5, -0.5, 0.5, 0.5).contains(s.rect), (i, p, s.text)
            assert s.px >= stage._type.min_px
        assert not overlaps(texts), (i, p, overlaps(texts)[:3])


# ----- an empty canvas ----------------------------------------------------------------------
def _activity_pixels(img) -> int:
    """Pixels in the diverging map's reds and blues (the amber highlight is not one)."""
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    rgb = a[:, : img.width() * 4].reshape(img.height(), img.width(), 4)[..., 2::-1]
    small = rgb[::3, ::3].reshape(-1, 3) / 255.0
    count = 0
    for r, g, b in small[(small.max(1) - small.min(1)) > 0.25]:
        hue, _, sat = colorsys.rgb_to_hls(r, g, b)
        if sat > 0.3 and not 0.06 < hue < 0.17:  # 0.06–0.17: amber/orange-yellow
            count += 1
    return count


@pytest.mark.parametrize("name", MODELS)
def test_an_empty_canvas_shows_no_activity(stage, traces, name):
    stage.set_trace(traces[name], blank=False)
    stage.go(1)
    stage.view.repaint()
    live = stage.view.grab().toImage().convertToFormat(
        stage.view.grab().toImage().Format.Format_ARGB32)
    stage.set_trace(traces[name + ":blank"], blank=True)
    for i, p in pages(stage):
        assert not [s for s in stage.shown_numbers() if s.role == "number"], (i, p)
        assert not [a for a in stage.painted() if a.role == "activity"], (i, p)
        assert any("draw something" in s.text for s in stage.shown_texts()), (i, p)
        img = stage.view.grab().toImage().convertToFormat(live.Format.Format_ARGB32)
        # weights may be drawn (they are the network, not its activity): mask them out
        for a in stage.painted():
            if a.role == "weight":
                from PySide6.QtGui import QColor, QPainter

                q = QPainter(img)
                q.fillRect(a.rect.adjusted(-3, -3, 3, 3), QColor("#000000"))
                q.end()
        assert _activity_pixels(img) == 0, (i, p)
    assert _activity_pixels(live) > 0  # the check can see activity when there is some


# ----- stepping, clicking, choosing ---------------------------------------------------------
def test_next_previous_and_first_walk_every_page(stage, traces):
    stage.set_trace(traces["xo-toy"], blank=False)
    seen = []
    stage.step_changed.connect(lambda i, p: seen.append((i, p)))
    stage.first_stage()
    walk = [(0, 0)]
    while True:
        stage.next_stage()
        here = (stage.stage_index, stage.page)
        if here == walk[-1]:
            break
        walk.append(here)
    counts = [s.pages for s in stage.stages]
    assert walk == [(i, p) for i, n in enumerate(counts) for p in range(n)]
    assert seen == walk[1:]
    for back in reversed(walk[:-1]):
        stage.previous_stage()
        assert (stage.stage_index, stage.page) == back
    stage.go(4)
    stage.first_stage()
    assert (stage.stage_index, stage.page) == (0, 0)


def test_clicking_a_strip_box_jumps_there(stage, traces, qtbot):
    stage.set_trace(traces["digits"], blank=False)
    box = stage.strip.boxes[5]
    with qtbot.waitSignal(stage.stage_changed) as sig:
        qtbot.mouseClick(stage.strip, Qt.MouseButton.LeftButton,
                         pos=QPoint(int(box.center().x()), int(box.center().y())))
    assert sig.args == [5] and stage.stage_index == 5
    stage.view.repaint()
    assert stage.shown_texts()[0].text.startswith("fc1")


def test_a_chosen_channel_is_followed_through_the_stages(stage, traces, qtbot):
    stage.set_trace(traces["digits"], blank=False)
    stage.go(1)
    with qtbot.waitSignal(stage.channel_selected) as sig:
        stage.set_channel(5)
    assert sig.args == [5]
    stage.view.repaint()
    texts = [s.text for s in stage.shown_texts()]
    assert "filter 6" in texts
    assert {s.label for s in stage.shown_numbers()} == {
        f"conv1.weight[5][{r},{c}]" for r in range(3) for c in range(3)}
    assert any(a.label == "conv1[5]" for a in stage.painted())
    stage.go(2)
    stage.view.repaint()
    assert any(s.text.startswith("conv1 map 6") for s in stage.shown_texts())
    assert {a.label for a in stage.painted()} >= {"conv1[5]", "relu1[5]", "pool1[5]"}
    # conv2: the chosen map and the 32 kernels that make it
    stage.go(3)
    stage.set_channel(7)
    stage.view.repaint()
    assert "map 8 of 64" in [s.text for s in stage.shown_texts()]
    kernels = {a.label for a in stage.painted() if a.role == "weight"}
    assert kernels == {f"conv2.weight[7,{i}]" for i in range(32)}
    # a click on a small map chooses it
    hot = stage.stages[3].hots(0)[12]
    with qtbot.waitSignal(stage.channel_selected) as sig:
        qtbot.mouseClick(stage.view, Qt.MouseButton.LeftButton,
                         pos=QPoint(int(hot.rect.center().x()), int(hot.rect.center().y())))
    assert sig.args == [12] and stage.channel("conv2") == 12


def test_choosing_a_toy_feature_turns_to_its_page(stage, traces):
    stage.set_trace(traces["xo-toy"], blank=False)
    stage.go(1)
    assert stage.page_count == 3
    stage.set_channel(2)
    assert stage.page == 2
    stage.view.repaint()
    assert any(s.label.startswith("conv[2]") for s in stage.shown_numbers())
    stage.go(2)  # pooling follows the chosen feature
    assert stage.page == 2


def test_requests_faster_than_a_frame_cost_one_paint(stage, traces, qtbot):
    stage.set_trace(traces["digits"], blank=False)
    qtbot.wait(50)
    before = stage.paints
    for k in range(60):
        stage.go(k % 9)
        stage.set_trace(traces["digits"], blank=False)
        stage.set_channel(k % 32)
    qtbot.waitUntil(lambda: stage.paints > before)
    qtbot.wait(50)
    assert stage.paints == before + 1


def test_the_light_look(stage, traces):
    stage.set_trace(traces["xo-toy"], blank=False)
    stage.set_dark(False)
    img = stage.view.grab().toImage()
    assert img.pixelColor(2, 2).lightness() > 240
    stage.set_look({"window": "#000000"})
    assert stage.view.grab().toImage().pixelColor(2, 2).lightness() < 15


def test_an_opened_networks_batch_norm_is_a_step_and_each_step_is_named_for_what_it_does(
        qtbot, tmp_path):
    """Issue #21: a network's BatchNormalization is shown on the stage as on the desk,
    and a chain of ReLU alone (no pooling) is not titled as pooling."""
    import app
    from tests.engine.foreign_nets import batch_norm_onnx

    path = tmp_path / "bn.onnx"
    batch_norm_onnx(path, np.random.default_rng(0), second_conv=True)
    w = app.create_main_window(model=str(path))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.model is not None, timeout=60_000)
    w.load_preset("X (lecture)")
    w.run_network_now()
    w.set_presentation(True)
    stages = w.stage.stages
    chains = [s for s in stages if "+" in s.short or s.short in ("ReLU", "norm", "pool")]
    assert [s.short for s in chains] == ["norm+ReLU+pool", "ReLU"]
    assert chains[0].titles[0].startswith("batch norm and ReLU and pooling: rescale each map")
    assert "pool" not in chains[1].titles[0] and "largest" not in chains[1].titles[0]
    w.stage.go(stages.index(chains[0]))
    qtbot.waitUntil(lambda: any(s.text.startswith("batch norm") or s.text == "norm"
                                for s in w.stage.shown_texts()), timeout=5_000)
