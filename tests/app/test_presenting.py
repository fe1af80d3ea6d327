"""The classroom stage in the real window, driven by a presenter's clicker keys."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

import app
from engine import PRESETS

LOAD_MS = 60_000
K = Qt.Key


@pytest.fixture
def presenting(qtbot):
    def make(model: str = "xo-toy"):
        window = app.create_main_window(model=model)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.model is not None and window.model.name == model,
                        timeout=LOAD_MS)
        window.set_presentation(True)
        window.canvas.set_grid(PRESETS["X (lecture)"])
        qtbot.waitUntil(lambda: window.stage.stage_titles() != [] and window.trace is not None)
        return window

    return make


def _focus(qtbot, widget) -> None:
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(widget.hasFocus)


@pytest.mark.parametrize("where", ["canvas", "model_picker", "panel"])
def test_clicker_keys_step_the_stage_whatever_has_focus(qtbot, presenting, where):
    window = presenting("xo-toy")
    target = {"canvas": window.canvas, "model_picker": window.model_picker,
              "panel": window.stage.view}[where]
    if where == "model_picker":
        window.model_picker.show()  # hidden on the stage; a teacher may still tab to it
    target.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    _focus(qtbot, target)
    window.stage.first_stage()
    start = (window.stage.stage_index, window.stage.page)
    qtbot.keyClick(target, K.Key_PageDown)
    after = (window.stage.stage_index, window.stage.page)
    assert after > start
    assert window.model.name == "xo-toy"  # PageDown did not change the model picker
    qtbot.keyClick(target, K.Key_PageUp)
    assert (window.stage.stage_index, window.stage.page) == start
    for key in (K.Key_Right, K.Key_Space, K.Key_Down):
        qtbot.keyClick(target, key)
    assert window.stage.stage_index > 0 or window.stage.page > 0
    qtbot.keyClick(target, K.Key_Home)
    assert window.stage.stage_index == 0 and window.stage.page == 0
    qtbot.wait(30)  # every pending repaint done: "before" is what the room sees
    before = window.grab().toImage()
    qtbot.keyClick(target, K.Key_B)
    assert window.presentation.blanked
    _all_black(window)  # the drawing and the headline too: the whole screen
    qtbot.keyClick(target, K.Key_PageDown)  # a black screen stays black: no unseen step
    assert window.presentation.blanked and window.stage.stage_index == 0
    qtbot.keyClick(target, K.Key_Period)
    assert not window.presentation.blanked
    qtbot.wait(30)
    assert window.grab().toImage() == before  # exactly what was there


def _all_black(window) -> None:
    """Every pixel of the window, as it would reach the projector, is black."""
    import numpy as np

    image = window.grab().toImage().convertToFormat(window.grab().toImage().Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    pixels = pixels[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3]
    assert pixels.max() == 0, f"{int((pixels.max(axis=2) > 0).sum())} pixels are not black"


def test_every_shortcut_keeps_working_on_the_stage(qtbot, presenting):
    window = presenting("xo-toy")
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, K.Key_3, Qt.KeyboardModifier.ControlModifier)  # preset O
    qtbot.waitUntil(lambda: window.prediction.text().startswith("O"))
    qtbot.keyClick(window.canvas, K.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo
    qtbot.waitUntil(lambda: window.prediction.text().startswith("X"))
    before = window.brush_size.value()
    qtbot.keyClick(window.canvas, K.Key_BracketRight)
    assert window.brush_size.value() > before
    qtbot.keyClick(window.canvas, K.Key_Delete)
    qtbot.waitUntil(lambda: window.prediction.text() == "")
    qtbot.keyClick(window.canvas, K.Key_Escape)
    assert not window.presenting and window.views.currentWidget() is window.deck


def test_keys_during_a_model_load_are_taken_in_stride(qtbot, presenting):
    window = presenting("xo-toy")
    window.model_picker.setCurrentIndex(window.model_picker.findData("digits"))
    for _ in range(30):  # a clicker hammered while digits loads
        qtbot.keyClick(window.canvas, K.Key_PageDown)
    qtbot.waitUntil(lambda: window.model.name == "digits", timeout=LOAD_MS)
    for _ in range(30):
        qtbot.keyClick(window.canvas, K.Key_PageDown)
    qtbot.waitUntil(lambda: window.stage.stage_index == len(window.stage.stage_titles()) - 1)
    window.stage.view.repaint()
    assert window.stage.shown_texts()  # the last stage painted whole


def test_the_stage_shows_no_activity_for_an_empty_canvas(qtbot, presenting):
    for model in ("xo-toy", "xo", "digits"):
        window = presenting(model)
        active = 0
        for i in range(len(window.stage.stage_titles())):
            window.stage.go(i)
            window.stage.view.repaint()
            active += len([p for p in window.stage.painted() if p.role == "activity"])
        assert active > 0  # with ink, the same check sees activity
        window.canvas.clear()
        qtbot.waitUntil(lambda w=window: w.trace is None)
        for i in range(len(window.stage.stage_titles())):
            window.stage.go(i)
            for page in range(window.stage.page_count):
                window.stage.go(i, page)
                window.stage.view.repaint()
                assert not [p for p in window.stage.painted() if p.role == "activity"], (
                    model, i, page)
                assert not [n for n in window.stage.shown_numbers() if n.role == "number"], (
                    model, i, page)
        window.close()


def test_the_stage_it_stopped_at_comes_back_next_run(qtbot, presenting):
    window = presenting("xo-toy")
    window.stage.go(3)
    window.close()
    again = app.create_main_window()
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.model is not None, timeout=LOAD_MS)
    again.set_presentation(True)
    again.canvas.set_grid(PRESETS["O"])
    qtbot.waitUntil(lambda: again.trace is not None)
    assert again.stage.stage_index == 3


def test_s_swaps_the_stage_for_the_step_through_and_the_clicker_steps_it(qtbot, presenting):
    window = presenting("xo-toy")
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, K.Key_S)
    stepper = window.stage_stepper
    assert window.views.currentWidget() is stepper
    page = stepper.current
    qtbot.keyClick(window.canvas, K.Key_PageDown)
    assert stepper.current == page + 1
    stage_at = window.stage.stage_index
    qtbot.keyClick(window.canvas, K.Key_PageUp)
    assert stepper.current == page and window.stage.stage_index == stage_at
    qtbot.keyClick(window.canvas, K.Key_S)
    assert window.views.currentWidget() is window.stage


def test_a_small_window_while_presenting_never_clips_or_overlaps(qtbot, presenting):
    from test_stage import overlaps

    window = presenting("digits")
    window.showNormal()
    window.resize(1000, 580)  # below 1024×600
    qtbot.waitUntil(lambda: window.stage.width() < 900)
    for i in range(len(window.stage.stage_titles())):
        window.stage.go(i)
        window.stage.view.repaint()
        texts = window.stage.shown_texts()
        assert texts, i
        for s in texts:
            assert s.cell.adjusted(-0.5, -0.5, 0.5, 0.5).contains(s.rect), (i, s.text)
        assert not overlaps(texts), (i, overlaps(texts)[:3])


def test_a_window_opening_on_the_stage_does_not_wait_for_the_features(qtbot):
    """`convpad --presentation` (the classroom's launch): the stage comes up before the
    features are installed — they follow the first answer, as on the desk — and
    their docks stay out of the stage's way."""
    from PySide6.QtWidgets import QDockWidget

    window = app.create_main_window(model="xo-toy")
    qtbot.addWidget(window)
    window.set_presentation(True)
    assert not window.start.done  # nothing installed on the way to the stage
    window.show()
    qtbot.waitUntil(lambda: window.start.done, timeout=LOAD_MS)
    docks = window.findChildren(QDockWidget)
    assert docks and not any(d.isVisible() for d in docks)
    window.set_presentation(False)
    assert not any(d.isVisible() for d in docks)  # none was open: none comes back
