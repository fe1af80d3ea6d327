"""Explain in the window (issue #22): the X key's overlay, the pickers, the toy's exact
check, the stage's Explain step, and a new stroke dropping a stale map."""

from __future__ import annotations

import numpy as np
import pytest
from pen import stroke
from PySide6.QtCore import Qt

import app
from engine import load_model
from engine.explain import explain, heat_rgba, toy_occlusion

LOAD_MS = 60_000
WAIT_MS = 30_000
SEVEN = [(0.25, 0.22), (0.75, 0.22), (0.45, 0.82)]


@pytest.fixture
def window(qtbot):
    def make(model: str = "digits"):
        w = app.create_main_window(model=model)
        qtbot.addWidget(w)
        w.setFixedSize(1280, 720)
        w.show()
        qtbot.waitUntil(lambda: w.model is not None and w.model.name == model, timeout=LOAD_MS)
        return w

    yield make


def test_x_lays_the_answer_s_map_over_the_drawing_and_a_new_stroke_drops_it(qtbot, window):
    w = window("digits")
    ex = w.explainer
    stroke(qtbot, w.canvas, SEVEN)
    w.run_network_now()
    assert not w.canvas.overlay_shown
    qtbot.keyClick(w.canvas, Qt.Key.Key_X)  # the X key, as a user presses it
    assert ex.on
    qtbot.waitUntil(lambda: w.canvas.overlay_shown, timeout=WAIT_MS)
    e = ex.latest
    assert e.target == e.answer == int(np.argmax(w.trace.probabilities))
    assert e.method == "occlusion"
    # the overlay is the map of the drawing on the canvas, computed the engine's way
    want = explain(w.model, w.canvas.raster(), method="occlusion", input=w.live.input_mode)
    np.testing.assert_allclose(e.image_map, want.image_map, atol=1e-5)
    np.testing.assert_array_equal(w.canvas._overlay_data, heat_rgba(e.image_map))
    assert "Why 7?" in ex.panel.status.text() and " ms" in ex.panel.status.text()
    # a new stroke: the map of the old drawing comes off at once; a new one follows
    qtbot.mousePress(w.canvas, Qt.MouseButton.LeftButton, pos=w.canvas.rect().center())
    assert not w.canvas.overlay_shown and ex.latest is None
    qtbot.mouseRelease(w.canvas, Qt.MouseButton.LeftButton, pos=w.canvas.rect().center())
    qtbot.waitUntil(lambda: w.canvas.overlay_shown, timeout=WAIT_MS)
    assert not np.array_equal(ex.latest.image_map, e.image_map)
    qtbot.keyClick(w.canvas, Qt.Key.Key_X)
    assert not ex.on and not w.canvas.overlay_shown


def test_any_class_and_any_method_can_be_asked_why(qtbot, window):
    w = window("digits")
    ex = w.explainer
    stroke(qtbot, w.canvas, SEVEN)
    w.explainer.dock.show()  # the panel open asks for maps even with the overlay off
    qtbot.waitUntil(lambda: ex.latest is not None, timeout=WAIT_MS)
    answer = ex.latest.answer
    other = 1 if answer != 1 else 2
    ex.panel.set_target(other)
    qtbot.waitUntil(lambda: ex.latest is not None and ex.latest.target == other,
                    timeout=WAIT_MS)
    assert f"Why {other}?" in ex.panel.status.text()
    assert f"the answer is {ex.latest.classes[answer]}" in ex.panel.status.text()
    for method in ("integrated-gradients", "saliency", "grad-cam"):
        ex.panel.set_method(method)
        qtbot.waitUntil(lambda m=method: ex.latest is not None and ex.latest.method == m,
                        timeout=WAIT_MS)
        assert ex.latest.target == other and np.isfinite(ex.latest.image_map).all()
    assert ex.latest.layer  # Grad-CAM names its layer
    assert not w.canvas.overlay_shown  # X was never pressed


def test_the_toy_shows_its_closed_form_and_captum_agrees(qtbot, window):
    w = window("xo-toy")
    ex = w.explainer
    w.load_preset("X (lecture)")
    ex.dock.show()
    qtbot.waitUntil(lambda: ex.latest is not None and ex.panel.toy.exact is not None,
                    timeout=WAIT_MS)
    grid = w.model.preprocess(w.canvas.raster().astype(np.float32) / 255, invert=False)
    exact = toy_occlusion(load_model("xo-toy"), grid)[ex.latest.target]
    np.testing.assert_allclose(ex.panel.toy.exact, exact, atol=1e-9)
    np.testing.assert_allclose(ex.panel.toy.captum, exact, atol=1e-4)
    assert any("they agree" in line for line in ex.panel.toy.shown)


def test_the_stage_s_explain_step_shows_the_map_and_the_probability(qtbot, window):
    w = window("digits")
    stroke(qtbot, w.canvas, SEVEN)
    w.run_network_now()
    w.set_presentation(True)
    stage = w.stage
    stage.go(len(stage.stage_titles()) - 1)
    assert stage.stages[stage.stage_index].short == "explain"
    qtbot.waitUntil(lambda: w.explainer.latest is not None, timeout=WAIT_MS)
    stage.view.grab()
    e = w.explainer.latest
    texts = [s.text for s in stage.shown_texts()]
    name = e.classes[e.target]
    assert any(t.startswith(f"{name} ") and t.endswith("%") for t in texts), texts
    assert any("red" in t for t in texts) and any("blue" in t for t in texts)
    assert any(p.label == "explain" for p in stage.painted())
    for s in stage.shown_texts():
        assert s.px >= stage.height() / 45 - 0.5, s.text
    w.set_presentation(False)


def test_an_empty_canvas_has_nothing_to_explain(qtbot, window):
    w = window("digits")
    w.explainer.action.trigger()
    qtbot.wait(200)
    assert w.explainer.latest is None and not w.canvas.overlay_shown
    assert "empty canvas" in w.explainer.panel.status.text()


def test_the_toy_maps_stack_in_a_narrow_dock_and_grow(qtbot):
    """In the desk's dock (taller than wide) the closed form and Captum's map stand one
    above the other, and no long line shrinks the type: side by side, under a one-line
    note, they were 90 px wide in a 260 px dock."""
    from app.explain.panel import ToyView

    view = ToyView()
    qtbot.addWidget(view)
    view.resize(260, 700)
    view.show()
    m = np.random.default_rng(0).normal(size=(9, 9))
    view.set_maps(m, m + 1e-9, "X")
    _, placed, _ = view.layout_now()
    rects = sorted((p.rect for p in placed if p.rect.height() > 100), key=lambda r: r.top())
    assert len(rects) == 2 and rects[1].top() >= rects[0].bottom()
    assert min(r.width() for r in rects) > 0.6 * 260
    view.resize(700, 260)  # a wide one: side by side
    _, placed, _ = view.layout_now()
    rects = sorted((p.rect for p in placed if p.rect.height() > 100), key=lambda r: r.left())
    assert len(rects) == 2 and rects[1].left() >= rects[0].right()
