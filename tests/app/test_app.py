"""The window as a user meets it: draw, read the answer, switch models, undo, open files.

Real mouse events go to the canvas through pytest-qt's ``qtbot``; assertions are on
what the window shows (the prediction headline, the panels, the notice banner).
Updates are awaited with ``waitUntil``/``waitSignal`` — never a timed assert.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from pen import stroke
from PIL import Image
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter

import app
from app.canvas import SIZE
from engine import PRESETS, list_models

LOAD_MS = 60_000  # the first load imports torch: generous, and only a ceiling


@pytest.fixture
def open_window(qtbot):
    """Make a shown window for a model and wait until that model is live."""

    def make(model: str = "digits"):
        window = app.create_main_window(model=model)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitUntil(lambda: window.model is not None and window.model.name == model,
                        timeout=LOAD_MS)
        return window

    return make


def draw(qtbot, window, points: list[tuple[float, float]]) -> None:
    """One pen stroke through ``points`` (fractions of the canvas) with real mouse events."""
    stroke(qtbot, window.canvas, points)


def seven() -> list[tuple[float, float]]:
    top = [(0.25 + 0.5 * t, 0.25) for t in np.linspace(0, 1, 12)]
    down = [(0.75 - 0.3 * t, 0.25 + 0.55 * t) for t in np.linspace(0, 1, 12)]
    return top + down


def wait_answer(qtbot, window) -> str:
    qtbot.waitUntil(lambda: window.prediction.text().strip() != "", timeout=LOAD_MS)
    return window.prediction.text()


def test_a_stroke_leaves_ink_and_gives_a_prediction(qtbot, open_window):
    window = open_window("digits")
    assert window.canvas.is_empty()
    draw(qtbot, window, seven())
    assert window.canvas.ink().max() == pytest.approx(1.0)
    text = wait_answer(qtbot, window)
    assert text.split()[0] == "7" and text.endswith("%")


def test_an_empty_canvas_shows_no_prediction(qtbot, open_window):
    window = open_window("digits")
    assert window.prediction.text() == ""
    softmax = window.panel("softmax")
    assert not softmax.values.any()  # empty bars, not a guess


def test_an_empty_canvas_casts_no_toy_votes(qtbot, open_window):
    window = open_window("xo-toy")
    window.setFixedSize(1280, 800)  # resize() stops at the offscreen screen's 800 px
    window.load_preset("X (lecture)")
    qtbot.waitUntil(lambda: window.prediction.text().startswith("X"))
    assert window.panel("votes").votes[0] > 0
    # The totals say how they become the headline's 69 %: each is its share of all votes
    # (a panel too narrow for the shares keeps the totals: the headline has the shares).
    assert [t.toPlainText() for t in window.panel("votes").totals] == ["X 0.74 = 69%",
                                                                     "O 0.33 = 31%"]
    window.canvas.clear()
    qtbot.waitUntil(lambda: window.prediction.text() == "")
    votes = window.panel("votes")
    assert not votes.votes.any() and [t.toPlainText() for t in votes.totals] == ["X —", "O —"]


def test_every_model_is_selectable_and_every_panel_follows_the_pen(qtbot, open_window):
    window = open_window("xo-toy")
    window.load_preset("X (lecture)")
    for name in list_models():
        with qtbot.waitSignal(window.model_changed, timeout=LOAD_MS) if (
            window.model.name != name) else _nothing():
            window.model_picker.setCurrentIndex(list_models().index(name))
        assert window.model.name == name
        assert not window.canvas.is_empty(), "switching models keeps the drawing"
        before = {p.name: p.frames for p in window.panels()}
        draw(qtbot, window, [(0.3, 0.3), (0.5, 0.6), (0.7, 0.4)])
        qtbot.waitUntil(lambda b=before: all(p.frames > b[p.name] for p in window.panels()))
        kinds = {type(p).__name__ for p in window.panels()}
        assert {"InputPanel", "FiltersPanel", "MapsPanel"} <= kinds
        assert kinds & {"ProbabilitiesPanel", "VotesPanel"}


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_undo_redo_and_clear(qtbot, open_window):
    window = open_window("xo-toy")
    assert not window.action("act_undo").isEnabled() and not window.action("act_redo").isEnabled()
    draw(qtbot, window, [(0.2, 0.2), (0.8, 0.8)])
    assert window.action("act_undo").isEnabled()
    one = window.canvas.ink()
    draw(qtbot, window, [(0.8, 0.2), (0.2, 0.8)])
    two = window.canvas.ink()
    assert not np.array_equal(one, two)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(window.canvas.ink(), one)
    assert window.action("act_redo").isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(window.canvas.ink(), two)
    qtbot.mouseClick(window.clear_button, Qt.MouseButton.LeftButton)
    assert window.canvas.is_empty()
    qtbot.waitUntil(lambda: window.prediction.text() == "")
    window.action("act_undo").trigger()
    assert np.array_equal(window.canvas.ink(), two)


@pytest.mark.parametrize(("preset", "answer"), [("X (lecture)", "X"), ("Trickier X", "X"),
                                                ("O", "O")])
def test_xo_toy_presets_get_the_lectures_answer(qtbot, open_window, preset, answer):
    window = open_window("xo-toy")
    window.load_preset(preset)
    qtbot.waitUntil(lambda: window.trace is not None)
    assert np.array_equal(window.panel("input").tile_values(0), PRESETS[preset])
    assert wait_answer(qtbot, window).split()[0] == answer


def test_xo_toy_shows_the_slides_feature_map(qtbot, open_window):
    from engine.lecture.pictures import SEED_MAP_DIAGONAL

    window = open_window("xo-toy")
    window.load_preset("X (lecture)")
    qtbot.waitUntil(lambda: window.trace is not None)
    shown = window.panel("conv").tile_values(0)
    assert np.trunc(shown * 100 + np.sign(shown) * 1e-3) / 100 == pytest.approx(
        SEED_MAP_DIAGONAL)


def test_hovering_a_map_cell_outlines_its_receptive_field(qtbot, open_window):
    window = open_window("digits")
    draw(qtbot, window, seven())
    qtbot.waitUntil(lambda: window.trace is not None)
    hover(qtbot, window.panel("pool1"), tile=3, row=2, col=4)
    outline = window.panel("input").outline
    assert outline.isVisible()
    r = outline.rect()
    # pool1 cell (2, 4): conv 3×3 then pool 2×2 → 4×4 input window at rows 4–8, cols 8–12.
    assert (r.top(), r.left(), r.height(), r.width()) == (4, 8, 4, 4)
    readout = window.panel("pool1").readout.text()
    assert "map 4, row 3, col 5" in readout  # counted from 1, as every view counts
    qtbot.wait(1500)  # the value stays while the pointer rests (a tooltip would go)
    assert window.panel("pool1").readout.text() == readout


def hover(qtbot, panel, tile: int, row: int, col: int) -> None:
    """Rest the real mouse pointer on one cell of a panel's mosaic."""
    x, y = panel.mosaic.origin(tile)
    scene = panel.image.mapToScene(QPointF(x + col + 0.5, y + row + 0.5))
    target = panel.view.mapFromScene(scene)
    qtbot.mouseMove(panel.view.viewport(), target)
    qtbot.waitUntil(lambda: panel.marker.isVisible())


def test_clicking_a_map_opens_an_enlarged_view(qtbot, open_window):
    window = open_window("xo-toy")
    window.load_preset("O")
    qtbot.waitUntil(lambda: window.trace is not None)
    panel = window.panel("conv")
    x, y = panel.mosaic.origin(1)
    scene = panel.image.mapToScene(QPointF(x + 3.5, y + 3.5))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.view.mapFromScene(scene))
    qtbot.waitUntil(lambda: bool(window.deck._zooms))
    view = next(iter(window.deck._zooms.values()))
    assert view.isVisible() and "map 2" in view.windowTitle()  # tile 1 is the second map
    assert view.image.image.shape == (7, 7)


def _png_with_alpha(path: Path) -> None:
    rgba = np.zeros((120, 120, 4), np.uint8)  # fully transparent…
    rgba[20:100, 55:65] = (0, 0, 0, 255)  # …with an opaque black bar: a "1"
    Image.fromarray(rgba, "RGBA").save(path)


def test_opening_a_png_with_black_ink_on_transparency_keeps_the_ink(qtbot, open_window,
                                                                    tmp_path):
    window = open_window("digits")
    path = tmp_path / "one.png"
    _png_with_alpha(path)
    assert window.open_image(path)
    assert window.canvas.ink().max() > 0.9
    assert wait_answer(qtbot, window)
    assert not window.notice_bar.isVisible()


def _huge_png_header(path: Path) -> None:
    """A PNG whose header claims 20000×20000 pixels (decompression-bomb sized)."""
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
    data += struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    path.write_bytes(data)


@pytest.mark.parametrize("kind", ["truncated", "empty", "oversized"])
def test_a_bad_image_is_refused_with_a_message_and_the_drawing_stays(qtbot, open_window,
                                                                     tmp_path, kind):
    window = open_window("xo-toy")
    window.load_preset("O")
    drawing = window.canvas.ink()
    path = tmp_path / f"{kind}.png"
    if kind == "truncated":
        _png_with_alpha(tmp_path / "good.png")
        path.write_bytes((tmp_path / "good.png").read_bytes()[:60])
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        _huge_png_header(path)
    assert not window.open_image(path)
    assert window.notice_bar.isVisible()
    assert path.name in window.notice.text()
    assert np.array_equal(window.canvas.ink(), drawing)
    window.load_preset("X (lecture)")  # still working
    qtbot.waitUntil(lambda: window.prediction.text().startswith("X"))


def test_strokes_off_the_canvas_dots_and_the_largest_pen_do_not_crash(qtbot, open_window):
    window = open_window("digits")
    draw(qtbot, window, [(0.5, 0.5), (1.3, 0.5), (1.5, -0.4), (0.4, 0.4)])  # leaves, returns
    window.canvas.clear()
    draw(qtbot, window, [(0.5, 0.5)])  # a single dot
    assert not window.canvas.is_empty()
    wait_answer(qtbot, window)
    window.brush_size.setValue(window.brush_size.maximum())
    draw(qtbot, window, [(0.0, 0.0), (1.0, 1.0)])
    window.run_network_now()
    assert window.canvas.ink().mean() > 0.2


def test_presentation_mode_toggles(qtbot, open_window):
    window = open_window("xo-toy")
    desk_pt = window.font().pointSize()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.presenting and window.action("act_present").isChecked()
    assert window.font().pointSize() > desk_pt
    assert window.canvas.brush > 22
    window.action("act_present").trigger()
    assert not window.presenting
    assert window.font().pointSize() == desk_pt


def test_desk_type_grows_on_a_screen_taller_than_1080_lines(qtbot, open_window):
    """A desk projected at 4K without HiDPI scaling reads from the back row as one at
    1080p does: its type doubles, as the stage's does; at 1080p nothing changes."""
    from app import look

    window = open_window("digits")
    window.presentation.apply_look(lines=1080)
    desk_pt = window.font().pointSize()
    title_pt = window.panels()[0].title.font().pointSize()
    assert desk_pt == look.DESK["base_pt"]
    for lines, k in ((2160, 2), (1080, 1)):
        window.setFixedSize(1920 * k, 1080 * k)  # room for the class names at that size
        qtbot.wait(50)
        window.presentation.apply_look(lines=lines)
        assert window.font().pointSize() == k * desk_pt
        assert window.panels()[0].title.font().pointSize() == k * title_pt
        assert window.controls.prediction.font().pointSize() == k * look.DESK["headline_pt"]
        # the class names under the logits too (default-sized, they were dots at 4K)
        assert {label.textItem.font().pointSize() for label in window.panel("fc2").labels} \
            == {k * title_pt}


def test_desk_type_follows_the_window_not_the_screen(qtbot, open_window, monkeypatch):
    """A 1080-line window on a 4K screen keeps the 1080p desk's type (2× cut its panel
    titles and axes short); grown past 1080 lines it grows, and back."""
    from app import look
    from app.presentation import type_scale

    assert [type_scale(n) for n in (720, 1080, 1200, 1350, 2080, 2160)] == \
        [1, 1, 1, 1.25, 2, 2]
    window = open_window("digits")
    monkeypatch.setattr(window.presentation, "screen_lines", lambda: 2160)  # a 4K screen
    window.setMaximumSize(16777215, 16777215)
    base = look.DESK["base_pt"]
    for height, pt in ((1080, base), (1600, round(1.5 * base)), (2160, 2 * base),
                       (3000, 2 * base), (800, base)):
        window.resize(1280, height)
        qtbot.waitUntil(lambda h=height: window.height() == h, timeout=5_000)
        assert window.font().pointSize() == pt, height


def _not_blank(path: Path) -> bool:
    a = np.asarray(Image.open(path).convert("RGB"))
    return a.shape[0] > 50 and len(np.unique(a.reshape(-1, 3), axis=0)) > 5


def test_export_writes_pngs_that_are_not_blank(qtbot, open_window, tmp_path):
    window = open_window("xo-toy")
    window.load_preset("X (lecture)")
    qtbot.waitUntil(lambda: window.trace is not None)
    assert window.save_window_png(tmp_path / "window.png")
    assert window.save_panel_png("conv", tmp_path / "conv.png")
    assert _not_blank(tmp_path / "window.png") and _not_blank(tmp_path / "conv.png")
    # A folder that is not there: False, and the notice names the file and the reason
    # (it used to guess "is the folder writable?"); nothing is left behind.
    assert not window.save_window_png(tmp_path / "gone" / "window.png")
    assert "Cannot save the picture: cannot write" in window.notice.text()
    assert "No such file or directory" in window.notice.text()
    assert not window.save_panel_png("conv", tmp_path / "gone" / "conv.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv.png", "window.png"]


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_shows_the_notice_and_the_app_goes_on(qtbot, open_window):
    window = open_window("xo-toy")

    def broken() -> None:
        raise RuntimeError("panel exploded")

    QTimer.singleShot(0, broken)
    qtbot.waitUntil(lambda: window.notice_bar.isVisible())
    assert "panel exploded" in window.notice.text()
    window.load_preset("O")
    qtbot.waitUntil(lambda: window.prediction.text().startswith("O"))


def test_a_bad_weight_file_is_a_message_and_another_model_can_be_picked(qtbot, tmp_path):
    bad = tmp_path / "digits.safetensors"
    bad.write_bytes(b"not a safetensors file")
    window = app.create_main_window(model="digits", weights={"digits": bad})
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.notice_bar.isVisible(), timeout=LOAD_MS)
    assert "digits" in window.notice.text()
    assert window.model is None
    window.canvas.set_grid(PRESETS["O"])
    window.model_picker.setCurrentIndex(list_models().index("xo-toy"))
    qtbot.waitUntil(lambda: window.prediction.text().startswith("O"), timeout=LOAD_MS)


def test_canvas_raster_is_what_the_engine_reads(qtbot, open_window):
    window = open_window("xo-toy")
    window.load_preset("X (lecture)")
    ink = window.canvas.ink()
    assert ink.shape == (SIZE, SIZE) and ink.dtype == np.float32
    assert set(np.unique(ink)) == {0.0, 1.0}


def test_clicking_a_feature_map_follows_its_channel_through_the_block(qtbot, open_window):
    window = open_window("digits")
    draw(qtbot, window, seven())
    qtbot.waitUntil(lambda: window.trace is not None)
    panel = window.panel("relu1")
    x, y = panel.mosaic.origin(5)
    scene = panel.image.mapToScene(QPointF(x + 3.5, y + 3.5))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.view.mapFromScene(scene))
    qtbot.waitUntil(lambda: window.panel("pool1").channel_marker.isVisible())
    for name in ("conv1.filters", "conv1", "relu1", "pool1"):
        p = window.panel(name)
        assert p.channel_marker.isVisible(), name
        ox, oy = p.mosaic.origin(5)
        assert p.channel_marker.rect().contains(QPointF(ox + 0.5, oy + 0.5)), name
    for name in ("conv2", "conv2.filters", "pool2"):
        assert not window.panel(name).channel_marker.isVisible(), name
    assert window.panel("conv2.filters").picker.value() == 1  # another block: not followed


def test_conv2_filters_show_the_chosen_filter_s_kernels_large(qtbot, open_window):
    """Issue #20.9: conv2's 64×32 kernels all at once were a strip of specks. The panel
    shows one filter's 32 kernels, picked with its spin box or by clicking a conv2 map."""
    window = open_window("digits")
    window.setFixedSize(1280, 720)
    draw(qtbot, window, seven())
    qtbot.waitUntil(lambda: window.trace is not None)
    filters = window.panel("conv2.filters")
    weights = window.trace.layer("conv2").weights
    assert filters.mosaic.count == weights.shape[1] == 32
    np.testing.assert_allclose(filters.tile_values(3), weights[0, 3])
    filters.picker.setValue(12)  # "filter 12 of 64": the 12th, counted from 1
    np.testing.assert_allclose(filters.tile_values(3), weights[11, 3])
    assert filters.tile_title(3) == "conv2.filters: filter 12, input map 4"
    conv2 = window.panel("conv2")
    x, y = conv2.mosaic.origin(40)
    scene = conv2.image.mapToScene(QPointF(x + 2.5, y + 2.5))
    qtbot.mouseClick(conv2.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=conv2.view.mapFromScene(scene))
    qtbot.waitUntil(lambda: filters.picker.value() == 41)
    np.testing.assert_allclose(filters.tile_values(0), weights[40, 0])
    # each weight is a few screen pixels at least, not a speck
    cell = filters.view.mapFromScene(filters.image.mapToScene(QRectF(0, 0, 1, 1))).boundingRect()
    assert cell.width() >= 4, cell


@pytest.mark.parametrize("size", [(1280, 720), (1000, 600)])
def test_class_names_under_fc2_and_softmax_never_overlap(qtbot, open_window, size):
    """Issue #20.9: ten class names under a narrow panel ran together ("0123456789");
    then half of them were hidden. At 1280×720 every name is shown, readable (at least
    8 pt) and apart from its neighbours; narrower, names may be thinned, never overlap."""
    from PySide6.QtGui import QFontMetricsF

    from app.panels.items import MIN_LABEL_PT

    window = open_window("digits")
    window.setFixedSize(*size)  # resize() stops at the offscreen screen's 800 px
    draw(qtbot, window, seven())
    qtbot.waitUntil(lambda: window.trace is not None)
    qtbot.wait(100)
    everyone = size == (1280, 720)
    fc2 = window.panel("fc2")
    shown = [lab for lab in fc2.labels if lab.isVisible()]
    assert len(shown) == 10 if everyone else len(shown) >= 2
    font = shown[0].textItem.font()
    assert font.pointSize() >= MIN_LABEL_PT
    fm = QFontMetricsF(font)
    centres = [lab.sceneBoundingRect().center().x() for lab in shown]
    widest = max(fm.horizontalAdvance(lab.textItem.toPlainText()) for lab in shown)
    assert min(b - a for a, b in itertools.pairwise(centres)) >= widest + 1
    softmax = window.panel("softmax")
    axis = softmax.plot.getAxis("bottom")
    ticks = axis._tickLevels[0]
    assert len(ticks) == 10 if everyone else len(ticks) >= 2
    tick_font = axis.style["tickFont"]
    assert tick_font.pointSize() >= MIN_LABEL_PT
    fm = QFontMetricsF(tick_font)
    vb = softmax.plot.getViewBox()
    xs = [vb.mapViewToScene(QPointF(pos, 0)).x() for pos, _ in ticks]
    widest = max(fm.horizontalAdvance(text) for _, text in ticks)
    assert min(b - a for a, b in itertools.pairwise(xs)) >= widest + 2
    # … and every name is drawn (pyqtgraph drops a label that leaves its axis).
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        drawn = axis.generateDrawSpecs(painter)[2]
    finally:
        painter.end()
    assert len(drawn) == len(ticks)


def test_model_pen_and_presentation_are_remembered_between_runs(qtbot, open_window):
    window = open_window("xo")
    window.brush_size.setValue(46)
    window.close()
    again = app.create_main_window()  # no model named: the one used last time
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.model is not None, timeout=LOAD_MS)
    assert again.model.name == "xo"
    assert again.brush_size.value() == 46 and again.canvas.brush == 46
    assert again.remembered.get("presenting") is False or "presenting" not in again.remembered


@pytest.mark.parametrize("size", [(1280, 720), (900, 600)])
def test_the_votes_panel_words_never_sit_on_its_values_or_bars(qtbot, open_window, size):
    """Issue #20.9: totals fixed in cells lay over their bars in a narrow panel."""
    window = open_window("xo-toy")
    window.setFixedSize(*size)
    window.load_preset("X (lecture)")
    window.run_network_now()
    qtbot.wait(100)
    votes = window.panel("votes")
    image = votes.image.sceneBoundingRect()
    bars = votes.bars.sceneBoundingRect()
    words = [t.sceneBoundingRect() for t in (*votes.labels, *votes.totals) if t.toPlainText()]
    assert len(words) == 5
    for r in words:
        tight = r.adjusted(2, 2, -2, -2)  # the items' own padding may touch
        assert not tight.intersects(image) and not tight.intersects(bars), r
        assert votes.view.sceneRect().contains(tight), r  # inside the panel
    assert any("X 0.74" in t.toPlainText() for t in votes.totals)


def test_every_view_counts_maps_from_1_and_shows_the_toy_s_weights_one_way(qtbot, open_window):
    """Issue #20.3: "map 0" on one view and "map 1" on another; ±0.11 on one and ±1÷9
    on another. Every view counts from 1; the desk says "±1 ÷ 9 = ±0.11" once and prints
    ±1, as the stage and the step-through do."""
    import re

    from app.stepper.layer_page import LayerPage

    window = open_window("xo-toy")
    window.load_preset("X (lecture)")
    window.run_network_now()
    # the desk
    filters = window.panel("conv.filters")
    assert "±1 ÷ 9 = ±0.11" in filters.title.full
    assert set(np.unique(filters.tile_values(0))) == {-1.0, 1.0}
    assert window.panel("conv").tile_title(0).endswith("map 1")
    assert filters.tile_title(0).endswith("filter 1")
    # the stage
    window.set_presentation(True)
    stage = window.stage
    texts = []
    for i in range(len(stage.stage_titles())):
        stage.go(i)
        stage.view.grab()
        texts += [s.text for s in stage.shown_texts()]
    assert any(re.search(r"\bmap 1\b", t) for t in texts)
    assert not any(re.search(r"\b(map|feature|filter) 0\b", t) for t in texts)
    assert not any("0.11" in t and "±" in t for t in texts)  # the stage prints ±1 ÷ 9
    window.set_presentation(False)
    # the step-through
    window.stepper_dock.show()
    panel = window.stepper_panel
    qtbot.waitUntil(lambda: "layer_conv" in panel.page_keys(), timeout=LOAD_MS)
    panel.go(panel.page_keys().index("layer_conv"))
    page = panel.page
    assert isinstance(page, LayerPage)
    assert page.picker.itemText(0) == "map 1 of 3"
