"""The window holds together: one live model in every view, a shape that stays put, and
no file, setting or name that stops it (issue #18, items 1–12 in the window).

Each test is named for what a teacher would notice; the comment on it says which item.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from pen import stroke
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QToolButton

import app
from engine import load_model, train_model
from engine.training.custom import example_drawings

LOAD_MS = 60_000
K = Qt.Key


@pytest.fixture
def window(qtbot):
    def make(model: str = "xo-toy", size=(1280, 720)):
        w = app.create_main_window(model=model)
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        qtbot.waitUntil(lambda: w.model is not None and w.model.name == model, timeout=LOAD_MS)
        return w

    return make


def _flip_first_feature(qtbot, w) -> None:
    w.stepper_dock.show()
    qtbot.waitUntil(lambda: w.stepper_panel.features.view.features is not None)
    w.stepper_panel.features.flip(0, 0, 0)


# ----- 1. one live model everywhere --------------------------------------------------------
def test_edited_features_reach_every_view_and_say_so_until_reset(qtbot, window):  # item 1
    w = window("xo-toy")
    w.load_preset("X (lecture)")
    w.run_network_now()
    before_votes = w.trace.layer("votes").output.copy()
    _flip_first_feature(qtbot, w)
    qtbot.waitUntil(lambda: w.model.edited == ("conv",))
    w.run_network_now()
    assert w.windowTitle() == "ConvPad — xo-toy (edited)"
    assert "xo-toy (edited)" in w.prediction.text()
    flipped = w.model.module.conv.weight.detach().numpy()[0, 0, 0, 0]
    # the desk's filters and votes, the stage's filter page and its votes: all edited
    assert w.panel("conv.filters").tile_values(0)[0, 0] == pytest.approx(flipped * 9)  # ±1 form
    assert not np.allclose(w.trace.layer("votes").output, before_votes)
    np.testing.assert_allclose(w.panel("votes").votes, w.trace.layer("votes").output)
    w.set_presentation(True)
    w.stage.go(1)  # filtering: feature ⊗ image = map
    w.stage.view.repaint()
    shown = {s.label: s.value for s in w.stage.shown_numbers()}
    assert shown["conv.weight[0][0,0]"] == pytest.approx(round(flipped * 9))
    w.set_presentation(False)
    w.stepper_panel.features.reset()
    qtbot.waitUntil(lambda: not w.model.edited)
    assert w.windowTitle() == "ConvPad — xo-toy" and "edited" not in w.prediction.text()


def test_features_saved_from_the_step_through_open_in_the_window(qtbot, window, tmp_path):
    w = window("xo-toy")  # item 2
    _flip_first_feature(qtbot, w)
    card = w.stepper_panel.features.save_as("my x", tmp_path / "mine")
    assert card is not None and w.model_picker.findData(str(card)) >= 0  # offered at once
    assert w.windowTitle() == "ConvPad — xo-toy (edited)"  # saving changed nothing live
    w.open_model(card.parent)
    qtbot.waitUntil(lambda: w.model.name == str(card), timeout=LOAD_MS)
    assert w.model.card["edited"] == ["conv"] and w.windowTitle() == "ConvPad — my x"


def test_a_trained_model_keeps_the_device_the_user_picked(qtbot, window):  # item 3
    w = window("xo")
    w.select_device("auto")
    qtbot.waitUntil(lambda: w.live.device == "auto", timeout=LOAD_MS)
    images, labels, classes = example_drawings(3, seed=2, classes=("X", "O"))
    w.live.adopt(train_model(images, labels, classes, epochs=1, device="cpu"))
    assert w.live.device == "auto" and w.device_picker.currentData() == "auto"


def test_a_teach_checkpoint_applies_to_the_teach_model_only(qtbot, window):  # item 4
    w = window("digits")
    images, labels, classes = example_drawings(3, seed=3, classes=("X", "O"))
    checkpoints = []
    train_model(images, labels, classes, epochs=1, device="cpu",
                progress=lambda e, m: checkpoints.append(m["model"]))
    w.teach.checkpoint_chosen.emit(checkpoints[-1])
    assert w.model.name == "digits" and "not a version of the live model" in w.notice.text()
    w.load_preset("O")
    w.run_network_now()  # the next frames run, and answer
    assert w.trace is not None and len(w.trace.probabilities) == 10


def test_compare_can_unpin_a_and_its_notice_names_the_compare_menu(qtbot, window):  # item 5
    w = window("xo-toy")
    w.action("act_compare_diff").trigger()
    assert "Compare ▸ Pin as A" in w.notice.text()
    w.load_preset("X (lecture)")
    w.action("act_pin").trigger()
    assert w.live.compare.mode == "diff" and w.action("act_unpin").isEnabled()
    w.action("act_unpin").trigger()
    assert not w.live.compare.pinned and w.live.compare.mode is None
    assert not w.action("act_compare_diff").isChecked()
    assert not w.prediction.text().startswith("B:")


def test_a_sweep_click_shows_in_the_readout_and_keeps_the_ink(qtbot, window):  # item 6
    w = window("digits")
    stroke(qtbot, w.canvas, [(0.05, 0.1), (0.95, 0.1), (0.5, 0.95)])  # a 7 edge to edge
    ink = int((w.canvas.raster() > 25).sum())
    w.experiments["sweeps"].transform_requested.emit({"op": "rotate", "degrees": 45.0})
    assert w.experiments["transforms"].readout.text() == "rotated 45°"
    after = w.canvas.raster()
    # centred: the sweep turned it on an unbounded plane; none of its ink is cut off
    assert int((after > 25).sum()) >= 0.9 * ink
    assert after[0].max() == 0 or after[:, 0].max() == 0 or after[-1].max() == 0


# ----- 8–11. a window that keeps its shape -------------------------------------------------
def test_the_canvas_keeps_its_size_during_a_stroke_whatever_the_headline_says(qtbot, window):
    w = window("digits")  # item 8
    for name in ("stepper_dock", "teach_dock", "dock_sweeps"):
        w.findChild(type(w.stepper_dock), name).show()
    w.load_preset("X (lecture)")
    w.action("act_pin").trigger()  # the headline grows to two answers, B and A
    QApplication.processEvents()
    sizes = set()
    c = w.canvas
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=c.rect().center())
    for k in range(20):
        qtbot.mouseMove(c, c.rect().center() + type(c.rect().center())(k * 3, k * 2))
        w.run_network_now()
        QApplication.processEvents()
        sizes.add((c.width(), c.height()))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=c.rect().center())
    assert len(sizes) == 1, sizes


def test_opening_every_panel_never_grows_the_window_past_its_screen(qtbot, window):  # item 9
    w = window("digits", size=(1920, 1080))
    for dock in w.docks():
        dock.show()
    QApplication.processEvents()
    screen = w.screen().availableGeometry()
    assert w.width() <= screen.width() and w.height() <= screen.height()


def test_typing_in_a_field_on_the_stage_types(qtbot, window):  # item 10
    w = window("xo-toy")
    w.set_presentation(True)
    w.load_preset("X (lecture)")
    qtbot.waitUntil(lambda: w.stage.stages != [])
    field = QLineEdit(w)
    field.show()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    start = (w.stage.stage_index, w.stage.page)
    qtbot.keyClicks(field, "hbar-toy. S 2")
    assert field.text() == "hbar-toy. S 2"
    assert not w.presentation.blanked and (w.stage.stage_index, w.stage.page) == start
    qtbot.keyClick(field, K.Key_PageDown)  # the clicker still works
    assert (w.stage.stage_index, w.stage.page) > start


def test_the_record_panel_fits_at_720p(qtbot, window):  # item 11
    w = window("digits", size=(1280, 720))
    dock = w.findChild(type(w.stepper_dock), "dock_record")
    dock.show()
    QApplication.processEvents()
    buttons = w.experiments["recording"].findChildren(QToolButton)
    assert buttons
    for b in buttons:
        assert b.width() >= b.sizeHint().width(), (b.text(), b.width(), b.sizeHint())


# ----- 12. settings ------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "value"), [
    ("pen", 10**12), ("pen", "thick"), ("geometry", "not a geometry"),
    ("model", "/no/such/model.json"), ("model", "x" * 100_000), ("stage", -3),
    ("presenting", "maybe"), ("input", "sideways")])
def test_a_damaged_setting_falls_back_with_a_notice(qtbot, key, value):
    store = QSettings("ConvPad", "ConvPad")
    store.setValue(key, value)
    store.sync()
    w = app.create_main_window()
    qtbot.addWidget(w)
    assert f"the remembered {key}" in w.notice.text()
    assert w.brush_size.value() >= 2 and w.live.input_mode in ("centred", "as-drawn")
    assert QSettings("ConvPad", "ConvPad").value(key) is None  # cleaned for next time


# ----- 13. a damaged data set --------------------------------------------------------------
def test_a_data_set_nested_100000_deep_is_reported_and_the_window_opens(qtbot, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    root = tmp_path / "ConvPad" / "datasets" / "classroom"
    (root / "X").mkdir(parents=True)
    (root / "O").mkdir()
    for depth, why in ((100_000, "larger than"), (30_000, "nested too deeply")):
        (root / "dataset.json").write_text("[" * depth + "]" * depth)
        w = app.create_main_window(model="xo-toy")
        qtbot.addWidget(w)
        assert w.teach.dataset is not None and sorted(w.teach.dataset.classes) == ["O", "X"]
        assert why in w.teach.status.text()
        assert "the classes are taken from the folders" in w.teach.status.text()


def test_a_model_card_with_a_huge_class_name_never_becomes_live(qtbot, window, tmp_path):
    card = load_model("xo", device="cpu").save(tmp_path / "m")  # item 13 (names)
    data = json.loads(card.read_text())
    data["classes"] = ["X", "O" * 1000]
    card.write_text(json.dumps(data))
    w = window("xo-toy")
    w.open_model(card)
    qtbot.waitUntil(lambda: "Cannot open the model" in w.notice.text(), timeout=LOAD_MS)
    assert "the limit is 40" in w.notice.text() and w.model.name == "xo-toy"


def test_a_notice_never_prints_a_name_raw(qtbot, window, tmp_path):
    w = window("xo-toy")
    bad = tmp_path / "evil\nname\x1b[31m.png"
    bad.write_bytes(b"not a png")
    w.open_image(bad)
    text = w.notice.text()
    assert "\n" not in text and "\x1b" not in text and "\\n" in text


def test_every_feature_dock_opens_docked_beside_the_layers_and_tabs_with_the_others(
        qtbot, window):
    """A dock tabified with itself floated, unplaced, over the menu bar at (0, 0)."""

    w = window("xo-toy")
    docks = w.docks()  # the features may still be waiting for the first answer: now
    assert len(docks) >= 4
    for dock in docks:
        assert w.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea, dock.objectName()
    first, second = docks[0], docks[1]
    first.toggleViewAction().trigger()
    second.toggleViewAction().trigger()
    QApplication.processEvents()
    assert second in w.tabifiedDockWidgets(first)
    shown = [d for d in (first, second) if not d.visibleRegion().isEmpty()]
    assert len(shown) == 1  # one tab in front
    geometry = shown[0].geometry()
    assert geometry.top() >= w.menuBar().geometry().bottom(), shown[0].objectName()
    assert geometry.height() > w.height() / 2 and geometry.right() <= w.width()


@pytest.mark.parametrize("form", ["file", "list"])
def test_the_window_takes_class_names_for_its_model(qtbot, tmp_path, form):
    """``--classes FILE`` or ``--classes A,B,C`` (the names themselves) reach the window."""
    from engine.storage.class_lists import class_names_arg

    if form == "file":
        names = tmp_path / "names.txt"
        names.write_text("\n".join(f"digit {d}" for d in range(10)), encoding="utf-8")
    else:
        names = class_names_arg(",".join(f"digit {d}" for d in range(10)))
        assert names == tuple(f"digit {d}" for d in range(10))
    w = app.create_main_window(model="digits", classes=names)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.model is not None, timeout=LOAD_MS)
    assert w.model.classes[7] == "digit 7"


def test_no_two_commands_share_a_shortcut(qtbot, window):
    """Two actions with one shortcut make Qt fire neither ("ambiguous shortcut"): class
    mode's Ctrl+Shift+K once silenced the contact sheet's. Every feature installed."""
    from collections import defaultdict

    from PySide6.QtGui import QAction

    w = window("digits")
    for feature in ("stepper_panel", "teach", "experiments", "explainer", "classmode"):
        getattr(w, feature)
    keys = defaultdict(list)
    for act in w.findChildren(QAction):
        for key in act.shortcuts():
            keys[key.toString()].append(act.text())
    assert len(keys) > 30
    assert {k: v for k, v in keys.items() if len(v) > 1} == {}


def test_a_network_file_changed_since_it_was_opened_is_read_again(qtbot, tmp_path):
    """Reopening a file re-exported since (another input size) shows the new network,
    not the one remembered from its first opening (issue #21)."""
    import os

    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    def graph(side: int, outputs: int = 3) -> bytes:
        w = onnx.numpy_helper.from_array(np.ones((side * side, outputs), np.float32), "w")
        nodes = [helper.make_node("Flatten", ["x"], ["f"]),
                 helper.make_node("Gemm", ["f", "w"], ["g"]),
                 helper.make_node("Softmax", ["g"], ["y"])]
        g = helper.make_graph(nodes, "n", [helper.make_tensor_value_info(
            "x", TensorProto.FLOAT, [1, 1, side, side])], [helper.make_tensor_value_info(
                "y", TensorProto.FLOAT, [1, outputs])], [w])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]) \
            .SerializeToString()

    path = tmp_path / "net.onnx"
    path.write_bytes(graph(12))
    w = app.create_main_window(model="digits")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.model is not None, timeout=LOAD_MS)
    name = str(path.resolve())
    w.live.request(name, "auto")
    qtbot.waitUntil(lambda: w.model.name == name, timeout=LOAD_MS)
    assert w.model.input_shape == (1, 12, 12)
    # What was read is shown (#21): the headline names the file, the info line sums up.
    w.load_preset("X (lecture)")
    w.run_network_now()
    assert "net.onnx" in w.prediction.text().split("\n")[-1]
    info = w.controls.model_info
    assert not info.isHidden() and "432 weights" in info.text() and "12×12" in info.text()
    assert "3 classes" in info.text() and "Gemm" in info.toolTip()
    w.live.request("digits", "auto")
    qtbot.waitUntil(lambda: w.model.name == "digits", timeout=LOAD_MS)
    path.write_bytes(graph(16))
    os.utime(path, ns=(1, 10**18))  # a new time, whatever the clock's resolution
    w.live.request(name, "auto")
    qtbot.waitUntil(lambda: w.model.name == name and w.model.input_shape == (1, 16, 16),
                    timeout=LOAD_MS)
    w.live.request("digits", "auto")
    qtbot.waitUntil(lambda: w.model.name == "digits", timeout=LOAD_MS)
    assert w.controls.model_info.isHidden()  # a shipped model: its own card, no file
