"""The step-through as a teacher drives it: presenter keys, play/pause, typing into cells,
the toy's own features, and what the pages show against the engine's traces."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

import app
from app.numbers import value_text as number_text
from app.stepper.features import FeaturesPage
from app.stepper.layer_page import LayerPage
from app.stepper.pages import ConvLessonPage
from app.stepper.panel import LessonsWindow, StepperPanel
from engine import PRESETS, load_model
from engine.lecture import steps_for_layer
from engine.lecture.pages import TWO_D
from engine.lecture.pictures import SEED_X

LOAD_MS = 60_000


@pytest.fixture
def panel(qtbot):
    p = StepperPanel()
    qtbot.addWidget(p)
    p.resize(1280, 720)
    p.show()
    qtbot.waitExposed(p)
    p.setFocus()
    return p


def _keys(qtbot, widget, *keys) -> None:
    for k in keys:
        qtbot.keyClick(widget, k)


# ----- presenter keys and the player ------------------------------------------------------------
def test_pagedown_pageup_move_between_pages_in_lecture_order(qtbot, panel) -> None:
    assert panel.page_keys()[:6] == ["1d", "2d", "padding", "stride", "channels", "size"]
    _keys(qtbot, panel, Qt.Key.Key_PageDown, Qt.Key.Key_PageDown)
    assert panel.page.key == "padding"
    _keys(qtbot, panel, Qt.Key.Key_PageUp)
    assert panel.page.key == "2d"
    for _ in range(20):
        qtbot.keyClick(panel, Qt.Key.Key_PageDown)
    assert panel.current == len(panel.pages) - 1  # clamped, no wrap


def test_arrow_keys_step_and_home_end_jump(qtbot, panel) -> None:
    panel.go(1)
    player = panel.page.player
    assert player.count == 9 and player.index == 0
    _keys(qtbot, panel, Qt.Key.Key_Right, Qt.Key.Key_Right)
    assert player.index == 2
    assert panel.page.view.shown[-1] == "sum of products = 4"  # window at cols 2–4: 1+1+1+1
    _keys(qtbot, panel, Qt.Key.Key_Left)
    assert player.index == 1
    _keys(qtbot, panel, Qt.Key.Key_End)
    assert player.index == 8
    _keys(qtbot, panel, Qt.Key.Key_Home)
    assert player.index == 0


def test_space_plays_and_pauses_and_right_pauses_first(qtbot, panel) -> None:
    panel.go(1)
    player = panel.page.player
    panel.bar.speed.setValue(panel.bar.speed.maximum())
    qtbot.keyClick(panel, Qt.Key.Key_Space)
    assert player.playing and panel.bar.buttons["play"].text() == "Pause"
    qtbot.waitUntil(lambda: not player.playing, timeout=5000)  # plays to the end, stops
    assert player.index == player.count - 1
    panel.bar.speed.setValue(0)
    qtbot.keyClick(panel, Qt.Key.Key_Space)  # from the end: starts again at 0
    assert player.playing and player.index == 0
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    assert not player.playing and player.index == 1
    assert panel.bar.buttons["play"].text() == "Play"


def test_next_cell_skips_the_channels_of_a_colour_cell(qtbot, panel) -> None:
    panel.go(panel.page_keys().index("channels"))
    player = panel.page.player
    assert player.count == 25 * 3
    qtbot.keyClick(panel, Qt.Key.Key_Down)
    assert player.index == 3
    player.seek(2)
    assert panel.page.view.shown[-1] == "308 + (−498) + 164 + 1 = −25"


def test_speed_keys_change_the_slider(qtbot, panel) -> None:
    v = panel.bar.speed.value()
    qtbot.keyClick(panel, Qt.Key.Key_Plus)
    assert panel.bar.speed.value() == v + 1
    qtbot.keyClick(panel, Qt.Key.Key_Minus)
    assert panel.bar.speed.value() == v


def test_presenter_keys_beat_a_window_shortcut_while_the_panel_has_focus(qtbot) -> None:
    window = QMainWindow()
    qtbot.addWidget(window)
    panel = StepperPanel()
    window.setCentralWidget(panel)
    fired = []
    act = QAction("next stage", window)
    act.setShortcut(QKeySequence("PgDown"))
    act.triggered.connect(lambda: fired.append(1))
    window.addAction(act)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    panel.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_PageDown)
    assert panel.current == 1 and not fired
    panel.bar.buttons["step"].click()  # a button click does not steal the focus
    assert panel.hasFocus() or panel.isAncestorOf(window.focusWidget())


# ----- editing cells ----------------------------------------------------------------------------
def _click_cell(qtbot, view, key: str, r: int, c: int) -> None:
    view.grab()
    rect = view.cell_rect(key, r, c)
    assert rect is not None
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())


@pytest.mark.parametrize("bad", ["abc", "nan", "inf", "1e5", ""])
def test_a_typed_bad_value_is_refused_inline_and_the_cell_kept(qtbot, panel, bad: str) -> None:
    panel.go(1)
    page = panel.page
    assert isinstance(page, ConvLessonPage)
    _click_cell(qtbot, page.view, "input", 0, 2)
    editor = page.view.editor
    assert editor.isVisible() and editor.text() == "1"
    editor.clear()
    qtbot.keyClicks(editor, bad)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert page.lesson.x[0, 0, 2] == 1
    assert page.refused and "keeps 1" in page.error.text()
    assert editor.isVisible()  # still open to try again
    assert page.view.show_.output[0, 0] == 2


def test_a_typed_number_changes_the_output_at_once(qtbot, panel) -> None:
    panel.go(1)
    page = panel.page
    _click_cell(qtbot, page.view, "input", 0, 2)
    editor = page.view.editor
    editor.clear()
    qtbot.keyClicks(editor, "5")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert not editor.isVisible() and not page.refused
    assert page.lesson.x[0, 0, 2] == 5 and TWO_D.x[0, 0, 2] == 1  # the lecture's stays
    assert page.view.show_.output[0, 0] == 6
    _click_cell(qtbot, page.view, "kernel", 1, 1)
    page.view.editor.clear()
    page.view.editor.insert("−2")  # the slides' minus sign (QTest types ASCII only)
    qtbot.keyClick(page.view.editor, Qt.Key.Key_Return)
    assert page.lesson.w[0, 1, 1] == -2
    assert page.view.show_.output[0, 0] == 6 - 2 * 1
    page.reset()
    assert page.view.show_.output[0, 0] == 2


def test_clicking_an_output_cell_jumps_there(qtbot, panel) -> None:
    panel.go(1)
    page = panel.page
    _click_cell(qtbot, page.view, "output", 2, 1)
    assert page.player.index == 7
    assert page.view.shown[-1] == "sum of products = 2"


def test_the_size_page_redraws_as_the_sliders_move(qtbot, panel) -> None:
    panel.go(panel.page_keys().index("size"))
    page = panel.page
    page.sliders["W"].setValue(8)
    page.sliders["F"].setValue(4)
    page.sliders["P"].setValue(0)
    page.sliders["S"].setValue(2)
    assert page.player.count == 9
    page.sliders["P"].setValue(1)
    assert page.player.count == 16  # (8 − 4 + 2)/2 + 1 = 4 → 4×4


# ----- the live network -------------------------------------------------------------------------
def _toy_panel(qtbot, panel, toy, grid=SEED_X):
    panel.set_model(toy)
    trace = toy.trace(grid)
    panel.set_trace(trace, False)
    return trace


def test_layer_pages_follow_the_layer_kinds_and_show_the_trace(qtbot, panel, toy) -> None:
    trace = _toy_panel(qtbot, panel, toy)
    keys = panel.page_keys()
    assert keys[6:] == ["layer_conv", "layer_relu", "layer_pool", "layer_votes", "features"]
    panel.go(keys.index("layer_conv"))
    page = panel.page
    assert isinstance(page, LayerPage)
    conv = trace.layer("conv").output
    for r in range(7):
        for c in range(7):
            page.player.seek(page.view.show_.steps.cell_index(r, c))
            page.view.grab()
            value, relu = number_text(conv[0, r, c]), number_text(max(conv[0, r, c], 0))
            # the cell's value, then the ReLU that follows the convolution (the lecture's order)
            assert any(line.endswith(f"= {value}") for line in page.view.shown[:-1])
            assert page.view.shown[-1] == f"ReLU: max(0, {value}) = {relu}"
    panel.go(keys.index("layer_votes"))
    votes = panel.page
    votes.player.seek(votes.player.count - 1)
    votes.view.grab()
    assert votes.view.shown[0] == "X: 0.74 ÷ (0.74 + 0.33) = 69%"


def test_a_blank_canvas_shows_no_activity(qtbot, panel, toy) -> None:
    _toy_panel(qtbot, panel, toy)
    panel.go(panel.page_keys().index("layer_conv"))
    panel.set_trace(toy.trace(np.full((9, 9), -1, np.float32)), True)
    assert panel.page.view.message.startswith("Draw something")
    assert panel.page.player.count == 0


@pytest.mark.parametrize("name", ["xo", "digits"])
def test_every_layer_page_of_the_cnns_shows_the_traced_numbers(qtbot, panel, name) -> None:
    model = load_model(name, device="cpu")
    ink = np.kron((PRESETS["O"] > 0).astype(np.float32), np.ones((36, 36), np.float32))
    trace = model.trace(model.preprocess(ink, invert=False))
    panel.set_model(model)
    panel.set_trace(trace, False)
    for key in [k for k in panel.page_keys() if k.startswith("layer_")]:
        panel.go(panel.page_keys().index(key))
        page = panel.page
        layer = trace.layer(page.name)
        page.player.seek(page.player.count - 1)
        page.view.grab()
        if page.kind == "conv":
            s = page.view.show_.steps
            last = layer.output[0, s.shape[0] - 1, s.shape[1] - 1]
            assert any(f"= {number_text(last, 3)}" in line or f"= {number_text(last)}" in line
                       for line in page.view.shown)
        elif page.kind == "dense":
            want = steps_for_layer(trace, page.name, unit=0)[-1].value
            assert abs(want - layer.output[0]) < 1e-3
            assert any(line.endswith(f"= {number_text(layer.output[0], 3)}")
                       for line in page.view.shown)


def test_own_features_flip_reset_presets_and_emit_weights(qtbot, panel, toy) -> None:
    _toy_panel(qtbot, panel, toy)
    panel.go(panel.page_keys().index("features"))
    page = panel.page
    assert isinstance(page, FeaturesPage)
    before = page.view.maps.copy()
    with qtbot.waitSignal(page.weights_edited) as got, qtbot.waitSignal(page.model_edited) as m:
        page.view.grab()
        _click_cell(qtbot, page.view, "feature0", 0, 0)
    name, weights = got.args
    assert name == "conv" and weights.shape == (3, 1, 3, 3)
    assert weights[0, 0, 0, 0] == pytest.approx(-1 / 9)
    edited = m.args[0]
    assert edited is not toy and toy.module.conv.weight[0, 0, 0, 0].item() == pytest.approx(1 / 9)
    np.testing.assert_allclose(edited.trace(SEED_X).layer("conv").output, page.view.maps,
                               atol=1e-6)
    # the patch's top-left is -1: under the flipped weight its product goes from -1 to +1
    assert page.view.maps[0, 0, 0] == pytest.approx(before[0, 0, 0] + 2 / 9)
    page.load_preset("Horizontal bar")
    np.testing.assert_array_equal(page.features[0], [[-1, -1, -1], [1, 1, 1], [-1, -1, -1]])
    page.reset()
    np.testing.assert_allclose(page.view.maps, before)


def test_saving_features_refuses_a_shipped_name_and_saves_a_new_one(qtbot, panel, toy,
                                                                    tmp_path) -> None:
    _toy_panel(qtbot, panel, toy)
    panel.go(panel.page_keys().index("features"))  # pages not on screen take traces lazily
    page = panel.features
    page.flip(1, 1, 1)
    for shipped in ("xo-toy", "digits", "XO"):
        assert page.save_as(shipped, tmp_path) is None
        assert page.refused and "shipped model" in page.error.text()
    assert not list(tmp_path.iterdir())
    card = page.save_as("centre-flipped", tmp_path)
    assert card.exists() and not page.refused
    again = load_model(str(card), device="cpu")  # what ConvPad saves, ConvPad opens
    assert again.spec.title == "centre-flipped" and again.card["edited"] == ["conv"]
    np.testing.assert_allclose(again.trace(SEED_X).layer("conv").output[1],
                               page.view.maps[1], atol=1e-6)


# ----- the window ------------------------------------------------------------------------------
def test_install_adds_a_menu_and_a_dock_that_follow_the_live_model(qtbot) -> None:
    window = app.create_main_window(model="xo-toy")
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window.live.model is not None, timeout=LOAD_MS)
    panel, dock = window.stepper_panel, window.stepper_dock  # the window installs it
    assert dock.objectName() == "stepper_dock" and not dock.isVisible()
    menus = [a.text() for a in window.menuBar().actions()]
    assert "Step &through" in menus
    show = window.findChild(QAction, "act_stepper_panel")
    show.trigger()
    assert dock.isVisible()
    # docked, it must not push a 1280-wide window off a 1280×720 projector
    assert window.minimumSizeHint().width() <= 1280
    assert panel.minimumSizeHint().width() <= 640
    assert "layer_votes" in panel.page_keys() and "features" in panel.page_keys()
    window.load_preset("X (lecture)")
    window.run_network_now()
    panel.go(panel.page_keys().index("features"))
    shipped = window.live.model
    panel.features.flip(0, 0, 0)
    assert window.live.model is not shipped
    window.run_network_now()
    assert panel.trace.layer("conv").output[0, 0, 0] == pytest.approx(1.0, abs=1e-6)
    assert window.trace.layer("conv").output[0, 0, 0] == pytest.approx(1.0, abs=1e-6)


def test_a_step_through_installed_after_the_answer_starts_from_the_drawing(qtbot) -> None:
    """The features are installed after the first answer (issue #24's launch): a panel
    built then must show the drawing already traced, not wait for the next stroke (CI
    caught an empty map picker when the install came after the X was traced)."""
    from app import stepper

    window = app.create_main_window(model="xo-toy")
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window.live.model is not None, timeout=LOAD_MS)
    window.load_preset("X (lecture)")
    window.run_network_now()
    panel, dock = stepper.install(window)  # a second one, installed after the trace
    dock.show()
    qtbot.waitUntil(lambda: "layer_conv" in panel.page_keys(), timeout=LOAD_MS)
    panel.go(panel.page_keys().index("layer_conv"))
    page = panel.page
    assert page.trace is window.live.last_b[0]
    assert page.picker.itemText(0) == "map 1 of 3"


# ----- legibility ------------------------------------------------------------------------------
@pytest.mark.parametrize("w,h", [(1280, 720), (1920, 1080), (3840, 2160)])
def test_numbers_are_a_45th_of_the_screen_and_nothing_overlaps(qtbot, w: int, h: int) -> None:
    window = LessonsWindow(model="xo-toy")
    qtbot.addWidget(window)
    window.setFixedSize(w, h)
    window.show()
    qtbot.waitExposed(window)
    panel = window.panel
    for i, key in enumerate(panel.page_keys()):
        panel.go(i)
        page = panel.page
        page.player.seek(min(4, max(page.player.count - 1, 0)))
        page.view.grab()
        f, placed, _ = page.view.layout_now()
        assert f >= h / 45 - 0.5, f"{key}: numbers {f:.1f} px at {w}×{h}"
        area = page.view.rect()
        for k, a in enumerate(placed):
            assert area.contains(a.rect.toAlignedRect()), f"{key}: a block is clipped"
            for b in placed[k + 1 :]:
                assert not a.rect.intersects(b.rect), f"{key}: blocks overlap"
    window.close()


@pytest.mark.parametrize("w,h", [(1280, 720), (1920, 1080), (3840, 2160)])
def test_the_stage_step_through_keeps_every_text_a_45th_and_its_controls_room(
        qtbot, w: int, h: int) -> None:
    """Issue #20.7: on the stage (S), every caption, number and control is at least 1/45
    of the screen's height, as on the rest of the stage — digits, whose conv2 page has
    the widest rows — and every button is wide enough for its label at 4K too."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    window = app.create_main_window(model="digits")
    qtbot.addWidget(window)
    window.setFixedSize(w, h)
    window.show()
    qtbot.waitUntil(lambda: window.live.model is not None, timeout=LOAD_MS)
    window.set_presentation(True)
    window.setFixedSize(w, h)
    window.load_preset(next(iter(PRESETS)))
    window.run_network_now()
    window.presentation.key(Qt.Key.Key_S)
    panel = window.views.stage_stepper
    qtbot.waitUntil(lambda: panel.isVisible() and len(panel.pages) > 6, timeout=LOAD_MS)
    for i, key in enumerate(panel.page_keys()):
        panel.go(i)
        page = panel.page
        page.player.seek(min(5, max(page.player.count - 1, 0)))
        page.view.grab()
        assert page.view.smallest_px() >= h / 45 - 0.5, (key, page.view.smallest_px())
        for widget in [*panel.findChildren(QLabel), *panel.findChildren(QAbstractButton)]:
            if widget.isVisible() and widget.text():
                assert widget.fontInfo().pixelSize() >= h / 45 - 1, (key, widget.text())
        for button in panel.bar.buttons.values():
            room = button.width() - button.fontMetrics().horizontalAdvance(button.text())
            assert room >= h / 45 * 0.8, (key, button.text(), room)
    window.set_presentation(False)
    window.close()


def test_lessons_window_presets_and_page_keys(qtbot) -> None:
    window = LessonsWindow(model="xo-toy")
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    window.show_preset("O")
    assert window.panel.trace.prediction == "O"
    qtbot.keyClick(window.panel, Qt.Key.Key_PageDown)
    assert window.panel.current == 1


def test_an_opened_networks_batch_norm_has_its_page(qtbot, panel, tmp_path) -> None:
    """A batch norm in an opened network is a page of the step-through like any layer
    (it was skipped: the pages went conv → ReLU with the rescaling unexplained): each
    value × its map's scale + shift, the traced value at the end of the sum."""
    from tests.engine.foreign_nets import batch_norm_onnx

    rng = np.random.default_rng(5)
    batch_norm_onnx(tmp_path / "bn.onnx", rng)
    model = load_model(str(tmp_path / "bn.onnx"), device="cpu")
    trace = model.trace(rng.uniform(0, 1, (28, 28)).astype(np.float32))
    panel.set_model(model)
    panel.set_trace(trace, False)
    norm = next(lay for lay in trace.layers if lay.kind == "norm")
    keys = panel.page_keys()
    assert f"layer_{norm.name}" in keys
    assert keys.index(f"layer_{norm.name}") < keys.index(
        f"layer_{next(lay.name for lay in trace.layers if lay.kind == 'relu')}")
    panel.go(keys.index(f"layer_{norm.name}"))
    page = panel.page
    assert page.kind == "norm" and page.player.count == norm.output[0].size
    assert "batch norm" in page.title.text() and "scale" in page.words.text()
    page.picker.setCurrentIndex(2)
    page.player.seek(40)
    page.view.grab()
    r, c = divmod(40, norm.output.shape[2])
    assert any(line.endswith(f"= {number_text(norm.output[2, r, c], 2)}")
               for line in page.view.shown), page.view.shown


def test_a_relu_step_of_a_value_that_cuts_to_zero_still_shows_it_negative(qtbot) -> None:
    # conv1's maps hold values like −0.00004: cut to the page's decimals they read 0.000,
    # and "max(0, 0.000) = 0" does not say why the step is there.
    from app.stepper.map_views import ReluView, ValueShow
    from engine.lecture import ReluSteps

    view = ReluView()
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.set_show(ValueShow(ReluSteps(np.array([[-4e-5, 1.25], [-0.5, 2.0]])), "in", "out"))
    assert view.shown[0] == "max(0, \u22120.00) = 0"
    view.set_index(1)
    assert view.shown[0] == "max(0, \u22120.50) = 0"
