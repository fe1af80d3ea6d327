"""The experiment widgets with a real Canvas and real models: transforms, sweeps, record.

Mouse and keys go through pytest-qt's ``qtbot``; expectations come from the engine
(``engine.transforms``, ``engine.sweep``, ``engine.experiment``), never from the widget.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
import pytest
from pen import stroke
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from app.canvas import SIZE, Canvas
from app.experiments import RecordControls, SweepPanel, TransformControls
from app.experiments.state import ExperimentState
from engine import transforms as T
from engine.experiments.records import Recorder, open_experiment
from engine.experiments.sweeps import sweep

WAIT_MS = 60_000  # a ceiling for a sweep on a busy machine, not a timing


@pytest.fixture
def pad(qtbot):
    """A window holding a real Canvas and the transform controls, shown."""
    window = QWidget()
    layout = QHBoxLayout(window)
    canvas = Canvas()
    state = ExperimentState(canvas, window)
    controls = TransformControls(canvas, state, lambda: 28)
    layout.addWidget(canvas, 2)
    layout.addWidget(controls, 1)
    qtbot.addWidget(window)
    window.resize(900, 500)
    window.show()
    qtbot.waitExposed(window)
    return SimpleNamespace(window=window, canvas=canvas, state=state, controls=controls)


draw = stroke  # one stroke through fractions of the canvas, real mouse events


def seven() -> list[tuple[float, float]]:
    top = [(0.3 + 0.4 * t, 0.25) for t in np.linspace(0, 1, 10)]
    down = [(0.7 - 0.25 * t, 0.25 + 0.5 * t) for t in np.linspace(0, 1, 10)]
    return top + down


def key(qtbot, widget, k, mods=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(widget, k, mods)


ALT = Qt.KeyboardModifier.AltModifier


# ----- transforms ---------------------------------------------------------------------
def test_alt_arrows_nudge_by_input_pixels_as_undoable_edits_with_a_readout(qtbot, pad) -> None:
    draw(qtbot, pad.canvas, seven())
    drawn = pad.canvas.raster()
    for _ in range(3):
        key(qtbot, pad.window, Qt.Key.Key_Right, ALT)
    key(qtbot, pad.window, Qt.Key.Key_Up, ALT)
    # Each nudge moves round(324/28) = 12 canvas px: three make 36, not round(3·11.57).
    right = T.shift(T.shift(T.shift(drawn, 1, 0), 1, 0), 1, 0)
    np.testing.assert_array_equal(pad.canvas.raster(), T.shift(right, 0, -1))
    assert pad.controls.readout.text() == "shifted +3,−1"
    pad.canvas.undo()
    np.testing.assert_array_equal(pad.canvas.raster(), right)
    assert pad.controls.readout.text() == "shifted +3,0"
    draw(qtbot, pad.canvas, [(0.1, 0.9), (0.2, 0.9)])  # more ink keeps what was done
    assert pad.controls.readout.text() == "shifted +3,0"
    pad.canvas.clear()
    assert pad.controls.readout.text() == "No transforms applied"
    pad.canvas.undo()
    assert pad.controls.readout.text() == "shifted +3,0"


def test_every_control_does_what_the_engine_says(qtbot, pad) -> None:
    draw(qtbot, pad.canvas, seven())
    keys = [
        ((Qt.Key.Key_Comma, ALT), {"op": "rotate", "degrees": 15.0}),
        ((Qt.Key.Key_Period, ALT), {"op": "rotate", "degrees": -15.0}),
        ((Qt.Key.Key_Equal, ALT), {"op": "scale", "factor": 1.1}),
        ((Qt.Key.Key_Minus, ALT), {"op": "scale", "factor": 1 / 1.1}),
        ((Qt.Key.Key_BracketRight, ALT), {"op": "stroke", "steps": 1}),
        ((Qt.Key.Key_BracketLeft, ALT), {"op": "stroke", "steps": -1}),
    ]
    for (k, mods), step in keys:
        before = pad.canvas.raster()
        key(qtbot, pad.window, k, mods)
        np.testing.assert_array_equal(pad.canvas.raster(), T.apply(before, step, 28))
    for name in ("act_deform", "act_noise", "act_erase"):
        before = pad.canvas.raster()
        with qtbot.waitSignal(pad.controls.applied) as sig:
            pad.controls.actions_[name].trigger()
        np.testing.assert_array_equal(pad.canvas.raster(), T.apply(before, sig.args[0], 28))
    assert pad.controls.readout.text() == T.describe(pad.state.steps())
    text = pad.controls.readout.text()
    assert "deformed" in text and "noise added" in text
    assert pad.canvas.undo_stack.count() == 1 + len(keys) + 3  # one undo step per transform


def test_a_refused_transform_changes_nothing_and_says_why(qtbot, pad) -> None:
    draw(qtbot, pad.canvas, seven())
    before, count = pad.canvas.raster(), pad.canvas.undo_stack.count()
    with qtbot.waitSignal(pad.controls.refused) as sig:
        assert not pad.controls.apply({"op": "shift", "dx": 40, "dy": 0})
    assert "would leave no ink on the canvas" in sig.args[0]
    np.testing.assert_array_equal(pad.canvas.raster(), before)
    assert pad.canvas.undo_stack.count() == count


def test_the_input_mode_key_toggles_centred_and_as_drawn(qtbot, pad) -> None:
    with qtbot.waitSignal(pad.state.input_mode_changed) as sig:
        key(qtbot, pad.window, Qt.Key.Key_I)
    assert sig.args == ["as-drawn"] and pad.state.input_mode == "as-drawn"
    assert pad.controls.actions_["act_as_drawn"].isChecked()
    assert pad.controls.mode_label.text().startswith("Input: as drawn")
    key(qtbot, pad.window, Qt.Key.Key_I)
    assert pad.state.input_mode == "centred" and pad.controls.mode_label.text().startswith(
        "Input: centred")


def test_the_drawing_settles_once_per_stroke_not_per_pen_move(qtbot, pad) -> None:
    seen = []
    pad.state.settled.connect(lambda: seen.append(pad.canvas.undo_stack.count()))
    draw(qtbot, pad.canvas, seven())
    qtbot.waitUntil(lambda: len(seen) == 1)
    assert seen == [1]  # after the stroke was pushed, not during it
    pad.controls.nudge_left()
    qtbot.waitUntil(lambda: len(seen) == 2)


def test_a_stroke_beginning_is_announced_and_a_change_before_it_settles_with_it(
    qtbot, pad
) -> None:
    began, settled = [], []
    pad.state.stroke_began.connect(lambda: began.append(1))
    pad.state.settled.connect(lambda: settled.append(pad.canvas.undo_stack.count()))
    draw(qtbot, pad.canvas, seven())
    qtbot.waitUntil(lambda: settled == [1])
    pad.controls.nudge_left()  # settles at the next turn of the event loop …
    # … unless a stroke begins first: the pen goes down before the loop turns (events
    # sent straight to the canvas; qtbot's would let the loop run in between).
    c = pad.canvas
    for kind, x in ((QEvent.Type.MouseButtonPress, 0.3), (QEvent.Type.MouseMove, 0.5)):
        pos = QPointF(c.width() * x, c.height() * 0.8)
        QApplication.sendEvent(c, QMouseEvent(kind, pos, c.mapToGlobal(pos),
                                              Qt.MouseButton.LeftButton,
                                              Qt.MouseButton.LeftButton,
                                              Qt.KeyboardModifier.NoModifier))
    assert began == [1, 1]
    qtbot.wait(20)
    assert settled == [1]  # nothing settles while the pen is down
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=QPoint(int(c.width() * 0.6),
                                                                int(c.height() * 0.8)))
    qtbot.waitUntil(lambda: len(settled) == 2)
    qtbot.wait(20)
    assert settled == [1, 3]  # once, after the stroke: no sweep of the drawing mid-stroke


# ----- sweeps -------------------------------------------------------------------------
@pytest.fixture
def sweeper(qtbot, pad):
    panel = SweepPanel()
    panel.transform_requested.connect(pad.controls.apply)
    pad.window.layout().addWidget(panel, 2)
    pad.window.resize(1300, 700)
    qtbot.waitExposed(panel)
    yield SimpleNamespace(panel=panel, canvas=pad.canvas, controls=pad.controls)
    panel.runner.close()


def test_the_sweep_panel_plots_the_engine_s_sweep_computed_off_the_gui_thread(
    qtbot, sweeper, digits
) -> None:
    draw(qtbot, sweeper.canvas, seven())
    raster = sweeper.canvas.raster()
    with qtbot.waitSignal(sweeper.panel.shown_sweep, timeout=WAIT_MS) as sig:
        sweeper.panel.schedule(digits, raster, "as-drawn")
        assert sweeper.panel.status.text() == "Sweeping…"  # returned at once; the worker runs it
    s = sig.args[0]
    want = sweep(digits, raster, input="as-drawn", invert=False)
    np.testing.assert_allclose(s.rotation, want.rotation, atol=1e-6)
    assert len(sweeper.panel.rotation_curves) == len(sweeper.panel.scale_curves) == 10
    w = s.winner
    _, y = sweeper.panel.rotation_curves[w].getData()
    np.testing.assert_allclose(y, want.rotation[:, w], atol=1e-6)
    heat = sweeper.panel.heat.image
    np.testing.assert_allclose(heat, np.nan_to_num(want.shift[:, :, w]), atol=1e-6)
    # Drawn in the map's viridis colours, as an image QPainter draws without converting.
    sweeper.panel.heat.render()
    drawn = sweeper.panel.heat.qimage
    assert drawn.format() == QImage.Format.Format_ARGB32_Premultiplied
    viridis = pg.colormap.get("viridis").getLookupTable(0, 1, 256)
    for r, c in ((0, 0), (8, 8), (16, 3)):
        want_rgb = tuple(int(v) for v in viridis[min(int(heat[r, c] * 256), 255)])
        assert QColor(drawn.pixel(c, r)).getRgb()[:3] == want_rgb
    assert sweeper.panel.status.text().startswith(f"digits, as-drawn: {s.classes[w]} ")
    assert "As drawn" in sweeper.panel.note.text()


def test_sweep_curves_are_told_apart_on_black_and_named_where_they_end(
    qtbot, sweeper, digits
) -> None:
    """Issue #20.8: colours with contrast ≥ 4.5:1 against the plots' background, and each
    curve's class name at its right end, the names never on top of one another."""
    from app.look import contrast_ratio

    draw(qtbot, sweeper.canvas, seven())
    with qtbot.waitSignal(sweeper.panel.shown_sweep, timeout=WAIT_MS) as sig:
        sweeper.panel.schedule(digits, sweeper.canvas.raster(), "as-drawn")
    s = sig.args[0]
    panel = sweeper.panel
    qtbot.wait(50)
    background = panel.view.backgroundBrush().color().name()
    seen = set()
    for i, curve in enumerate(panel.rotation_curves):
        colour = curve.opts["pen"].color().name()
        assert contrast_ratio(colour, background) >= 4.5, (i, colour, background)
        seen.add((colour, curve.opts["pen"].style()))
    assert len(seen) == len(s.classes)  # no two classes drawn alike
    for key, plot, x in (("rotation", panel.rotation, s.degrees),
                         ("scale", panel.scale, s.factors)):
        labels = panel.labels[key]
        assert [label.toPlainText() for label in labels] == list(s.classes)
        rects = []
        for i, label in enumerate(labels):
            assert label.isVisible()
            assert label.color.name() == panel.rotation_curves[i].opts["pen"].color().name()
            assert label.pos().x() > x[-1]  # right of the curve's end
            rects.append(label.sceneBoundingRect())
            assert plot.vb.sceneBoundingRect().adjusted(-2, -2, 2, 2).contains(
                rects[-1].center())
        tight = [r.adjusted(0, r.height() * 0.15, 0, -r.height() * 0.15) for r in rects]
        assert not any(a.intersects(b) for k, a in enumerate(tight) for b in tight[k + 1:])


def test_centred_mode_says_why_the_shift_map_is_flat(qtbot, sweeper, digits) -> None:
    draw(qtbot, sweeper.canvas, seven())
    with qtbot.waitSignal(sweeper.panel.shown_sweep, timeout=WAIT_MS):
        sweeper.panel.schedule(digits, sweeper.canvas.raster(), "centred")
    assert (sweeper.panel.heat.image == sweeper.panel.heat.image[0, 0]).all()
    assert "re-centred" in sweeper.panel.note.text() and "flat" in sweeper.panel.note.text()


def test_a_newer_drawing_supersedes_an_older_sweep(qtbot, sweeper, digits) -> None:
    draw(qtbot, sweeper.canvas, seven())
    first = sweeper.canvas.raster()
    second = T.shift(first, 4, 2, input_size=28)
    shown = []
    sweeper.panel.shown_sweep.connect(shown.append)
    sweeper.panel.schedule(digits, first, "as-drawn")
    sweeper.panel.schedule(digits, second, "as-drawn")
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not sweeper.panel.runner.busy, timeout=WAIT_MS)
    qtbot.wait(50)  # let any queued result arrive: none may be drawn
    assert len(shown) == 1
    np.testing.assert_allclose(
        shown[0].probabilities, digits.predict(second, invert=False, input="as-drawn")[0],
        atol=1e-5,
    )


def test_clicking_a_point_applies_that_transform_to_the_canvas(qtbot, sweeper, digits) -> None:
    draw(qtbot, sweeper.canvas, seven())
    with qtbot.waitSignal(sweeper.panel.shown_sweep, timeout=WAIT_MS):
        sweeper.panel.schedule(digits, sweeper.canvas.raster(), "as-drawn")

    def click(plot, x: float, y: float) -> None:
        scene = sweeper.panel.scene_point(plot, x, y)
        pos = sweeper.panel.view.mapFromScene(scene)
        qtbot.mouseClick(sweeper.panel.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)

    before = sweeper.canvas.raster()
    with qtbot.waitSignal(sweeper.panel.transform_requested) as sig:
        click(sweeper.panel.rotation, 91.0, 0.5)
    assert sig.args[0] == {"op": "rotate", "degrees": 90.0}
    np.testing.assert_array_equal(sweeper.canvas.raster(), T.rotate(before, 90))
    before = sweeper.canvas.raster()
    with qtbot.waitSignal(sweeper.panel.transform_requested) as sig:
        click(sweeper.panel.shift, 3.2, -1.9)
    assert sig.args[0] == {"op": "shift", "dx": 3, "dy": -2}
    np.testing.assert_array_equal(sweeper.canvas.raster(), T.shift(before, 3, -2, input_size=28))
    assert sweeper.controls.readout.text() == "rotated 90° · shifted +3,−2"


# ----- record and replay --------------------------------------------------------------
@pytest.fixture
def recorder_ui(qtbot, pad, tmp_path, digits):
    rec = RecordControls(pad.canvas, pad.state, lambda: digits, tmp_path / "lesson")
    notices: list[str] = []
    rec.notice.connect(notices.append)
    pad.window.layout().addWidget(rec, 1)
    yield SimpleNamespace(rec=rec, notices=notices, **vars(pad))
    rec.close()


def test_recording_writes_a_row_each_time_a_stroke_ends(qtbot, recorder_ui, tmp_path) -> None:
    ui = recorder_ui
    ui.rec.actions_["act_record"].trigger()
    assert ui.rec.recording and ui.notices == []
    qtbot.keyClicks(ui.rec.label, "7")
    with qtbot.waitSignal(ui.rec.recorded, timeout=WAIT_MS):
        draw(qtbot, ui.canvas, seven())
    first = ui.canvas.raster()
    ui.state.set_input_mode("as-drawn")
    with qtbot.waitSignal(ui.rec.recorded, timeout=WAIT_MS):
        ui.controls.nudge_right()
    ui.rec.wait()
    exp = open_experiment(tmp_path / "lesson")
    assert len(exp.rows) == 2 and exp.skipped == []
    a, b = exp.rows
    assert a.label == b.label == "7" and a.transforms == []
    assert (a.input, b.input) == ("centred", "as-drawn")
    assert b.transforms == [{"op": "shift", "dx": 1, "dy": 0}]
    np.testing.assert_array_equal(exp.image(a), first)
    np.testing.assert_array_equal(exp.image(b), ui.canvas.raster())
    assert ui.rec.status.text().endswith("2 rows")


def test_a_folder_that_cannot_be_written_stops_recording_with_a_notice(
    qtbot, recorder_ui, tmp_path
) -> None:
    ui = recorder_ui
    (tmp_path / "a file").write_text("x")
    ui.rec.choose_folder(tmp_path / "a file")
    ui.rec.actions_["act_record"].trigger()
    assert not ui.rec.recording and not ui.rec.actions_["act_record"].isChecked()
    assert "is a file, not a folder" in ui.notices[-1]
    ui.rec.choose_folder(tmp_path / "usb")
    ui.rec.set_recording(True)
    with qtbot.waitSignal(ui.rec.recorded, timeout=WAIT_MS):
        draw(qtbot, ui.canvas, seven())
    shutil.rmtree(tmp_path / "usb")  # the drive is pulled out
    drawing = ui.canvas.raster()
    draw(qtbot, ui.canvas, [(0.1, 0.9), (0.3, 0.9)])
    qtbot.waitUntil(lambda: not ui.rec.recording, timeout=WAIT_MS)
    assert "Recording stopped:" in ui.notices[-1] and "was its drive removed?" in ui.notices[-1]
    assert not ui.rec.actions_["act_record"].isChecked()
    assert (ui.canvas.raster() >= drawing).all() and ui.canvas.raster().any()  # drawing kept


def test_pagedown_steps_through_a_recorded_experiment(qtbot, recorder_ui, tmp_path,
                                                       digits) -> None:
    ui = recorder_ui
    saved = Recorder(tmp_path / "old")
    rasters = []
    for dx in (0, 3, 6):
        r = np.zeros((SIZE, SIZE), np.uint8)
        r[80:240, 60 + 12 * dx : 82 + 12 * dx] = 255
        rasters.append(r)
        saved.record(r, digits, label="1")
    assert ui.rec.open_experiment(tmp_path / "old")
    np.testing.assert_array_equal(ui.canvas.raster(), rasters[0])
    key(qtbot, ui.window, Qt.Key.Key_PageDown)
    np.testing.assert_array_equal(ui.canvas.raster(), rasters[1])
    assert ui.rec.replay_info.text().startswith("Drawing 2 of 3 from old: recorded with digits")
    key(qtbot, ui.window, Qt.Key.Key_PageDown)
    key(qtbot, ui.window, Qt.Key.Key_PageDown)  # stays on the last one
    np.testing.assert_array_equal(ui.canvas.raster(), rasters[2])
    key(qtbot, ui.window, Qt.Key.Key_PageUp)
    np.testing.assert_array_equal(ui.canvas.raster(), rasters[1])
    # A folder named with a newline and a label like markup: shown escaped, as text.
    odd = Recorder(tmp_path / "ev\nil")
    odd.record(rasters[0], digits, label="<b>1</b>")
    assert ui.rec.open_experiment(tmp_path / "ev\nil")
    info = ui.rec.replay_info
    assert "from ev\\nil:" in info.text() and "label <b>1</b>." in info.text()
    assert "\n" not in info.text() and info.textFormat() == Qt.TextFormat.PlainText
    ui.rec.set_recording(True)  # a replayed drawing is not recorded again
    ui.rec.show_row(0)
    ui.rec.wait()
    qtbot.wait(20)
    ui.rec.wait()
    assert len(ui.rec.recorder) == 0


def test_contact_sheet_of_the_experiment_through_the_live_model(qtbot, recorder_ui,
                                                                tmp_path, digits) -> None:
    ui = recorder_ui
    saved = Recorder(tmp_path / "lesson")
    r = np.zeros((SIZE, SIZE), np.uint8)
    r[80:240, 150:172] = 255
    saved.record(r, digits, label="1")
    saved.record(r, digits, label="4")
    out = ui.rec.contact_sheet(tmp_path / "sheet.png")
    assert out is not None and out.is_file()
    assert ui.notices[-1].startswith(f"Contact sheet of 2 drawings saved to {out}")


# ----- installed in the main window ---------------------------------------------------
def test_install_puts_the_experiments_in_the_main_window(qtbot, tmp_path) -> None:
    from PySide6.QtWidgets import QDockWidget, QMenu

    import app

    window = app.create_main_window(model="digits")
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    qtbot.waitUntil(lambda: window.live.model is not None, timeout=WAIT_MS)
    parts = window.experiments  # the window installs them (app.experiments.install)
    docks = {d.objectName(): d for d in window.findChildren(QDockWidget)}
    assert {"dock_transforms", "dock_sweeps", "dock_record"} <= set(docks)
    docks["dock_sweeps"].show()  # docks start hidden; a hidden sweep panel never sweeps
    menu = window.menuBar().findChild(QMenu, "experiments_menu")
    names = {a.objectName() for a in menu.actions()}
    assert {"act_as_drawn", "act_nudge_right", "act_record", "act_contact_sheet"} <= names

    parts["transforms"].actions_["act_as_drawn"].trigger()
    assert window.live.input_mode == "as-drawn"
    with qtbot.waitSignal(parts["sweeps"].shown_sweep, timeout=WAIT_MS) as sig:
        draw(qtbot, window.canvas, seven())
    assert sig.args[0].input == "as-drawn"
    # A sweep still running when the next stroke begins is dropped (it is of the old
    # drawing); the new stroke's end sweeps the new drawing.
    shown = []
    parts["sweeps"].shown_sweep.connect(shown.append)
    parts["sweeps"].schedule(window.live.model, window.canvas.raster(), "as-drawn")
    asked = parts["sweeps"].runner.last_job
    with qtbot.waitSignal(parts["sweeps"].shown_sweep, timeout=WAIT_MS):
        draw(qtbot, window.canvas, [(0.2, 0.8), (0.8, 0.8)])
    assert parts["sweeps"].runner.last_job > asked  # dropped, then asked anew
    assert len(shown) == 1
    np.testing.assert_allclose(
        shown[0].probabilities,
        window.live.model.predict(window.canvas.raster(), invert=False, input="as-drawn")[0],
        atol=1e-5,
    )
    before = window.canvas.raster()
    parts["transforms"].actions_["act_nudge_right"].trigger()
    np.testing.assert_array_equal(window.canvas.raster(), T.shift(before, 1, 0))
    parts["sweeps"].runner.close()
    parts["recording"].close()
