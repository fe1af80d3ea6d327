"""The pen never waits (issue #24): the ink reaches the pen at every move, the network
runs off the GUI thread, the panels follow in slices that leave the pen's events alone,
end on the newest drawing, and cost nothing while hidden."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest
from pen import stroke
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import QApplication

import app

LOAD_MS = 60_000


@pytest.fixture
def window(qtbot):
    w = app.create_main_window(model="digits")
    qtbot.addWidget(w)
    w.setFixedSize(1280, 720)
    w.show()
    qtbot.waitUntil(lambda: w.model is not None and w.model.name == "digits", timeout=LOAD_MS)
    return w


def move(canvas, pos: QPointF, kind=QEvent.Type.MouseMove) -> None:
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease \
        else Qt.MouseButton.LeftButton
    QApplication.sendEvent(canvas, QMouseEvent(kind, pos, canvas.mapToGlobal(pos),
                                               Qt.MouseButton.LeftButton, buttons,
                                               Qt.KeyboardModifier.NoModifier))


def test_the_ink_reaches_the_pen_at_every_move_before_the_raster_has_it(qtbot, window):
    canvas = window.canvas
    r = canvas.drawing_rect()
    a = QPointF(r.left() + r.width() * 0.2, r.top() + r.height() * 0.5)
    b = QPointF(r.left() + r.width() * 0.5, r.top() + r.height() * 0.5)
    c = QPointF(r.left() + r.width() * 0.8, r.top() + r.height() * 0.5)
    move(canvas, a, QEvent.Type.MouseButtonPress)
    move(canvas, b)
    move(canvas, c)
    assert canvas.moves_shown == 2
    # The raster (what the network reads) has the curve up to b only: c's piece needs
    # the move after it. The screen shows the ink up to c already.
    k = 324 / r.width()
    near_c = canvas.raster()[int((c.y() - r.top()) * k), int((c.x() - r.left()) * k) - 12]
    assert near_c == 0
    shown = canvas.grab().toImage()
    pixel = shown.pixelColor(int(c.x() - 12 / k), int(c.y()))
    assert pixel.lightness() > 200
    move(canvas, c, QEvent.Type.MouseButtonRelease)
    assert canvas.raster()[int((c.y() - r.top()) * k), int((c.x() - r.left()) * k) - 12] > 0


def test_the_network_runs_off_the_gui_thread_and_the_panels_end_on_the_newest_drawing(
        qtbot, window):
    threads: list[str] = []
    real = window.model.trace

    def trace(x):
        threads.append(threading.current_thread().name)
        return real(x)

    window.model.trace = trace
    stroke(qtbot, window.canvas, [(0.25, 0.22), (0.75, 0.22), (0.45, 0.82)])
    qtbot.waitUntil(lambda: bool(threads) and not window.live._busy and not window.live._dirty
                    and window.deck.settled, timeout=10_000)
    assert threads and all(name == "convpad-trace" for name in threads)
    final = window.live.latest[0]
    final_raster = window.canvas.raster()
    x, _ = window.model.prepare(final_raster, input=window.live.input_mode)
    np.testing.assert_allclose(final.layer("input").output, real(x).layer("input").output)
    for panel in window.panels():  # every panel shows the newest trace
        if panel.name in ("conv1", "pool2"):
            np.testing.assert_allclose(panel.tile_values(0),
                                       final.layer(panel.name).output.reshape(
                                           panel.mosaic.count, panel.mosaic.height,
                                           panel.mosaic.width)[0])
    assert window.trace.prediction == "7"


def test_a_slice_waits_for_the_pen_s_next_move_and_does_one_panel_at_a_time(qtbot, window):
    deck = window.deck
    window.load_preset("X (lecture)")
    window.run_network_now()
    x, _ = window.model.prepare(window.canvas.raster(), input=window.live.input_mode)
    trace = window.model.trace(x)  # a trace no panel shows yet
    frames = [p.frames for p in window.panels()]
    deck.pen_gap = lambda: 0.2  # the pen's next move is due: no panel work now
    deck.show_trace(trace, False, budget_ms=0)
    deck._work()
    assert [p.frames for p in window.panels()] == frames and deck._pending is not None
    deck._slice.stop()
    deck.pen_gap = lambda: 50.0  # time enough, but the pen's newest ink is not painted
    deck.ink_pending = lambda: True
    deck._work()
    assert [p.frames for p in window.panels()] == frames and deck._slice.isActive()
    deck.ink_pending = lambda: False
    deck.pen_gap = lambda: math.inf  # the pen is up: one panel a slice
    deck._slice.stop()
    deck._work()
    changed = [p.frames - f for p, f in zip(window.panels(), frames, strict=True)]
    assert sum(changed) == 1
    qtbot.waitUntil(lambda: deck._pending is None, timeout=5_000)
    assert all(p.frames > f for p, f in zip(window.panels(), frames, strict=True))


def test_after_a_slow_spell_the_panels_follow_the_pen_again_at_once(qtbot, window):
    """Every panel slow a moment ago (their estimates 25 ms) and a 120 Hz pen whose gaps
    are 7 ms: the first panel forced after MAX_WAIT_MS measures the machine fast again,
    and the round ends in a few slices — it used to take one panel per 150 ms (2 s)."""
    from app.panels.deck import MAX_WAIT_MS

    deck = window.deck
    window.load_preset("X (lecture)")
    window.run_network_now()
    x, _ = window.model.prepare(window.canvas.raster(), input=window.live.input_mode)
    trace = window.model.trace(x)  # a trace no panel shows yet
    n = len(window.panels())
    deck._cost = [25.0] * n
    deck.pen_gap = lambda: 7.0
    start = time.perf_counter()
    deck.show_trace(trace, False, budget_ms=0)
    qtbot.waitUntil(lambda: deck.settled, timeout=5_000)
    took = time.perf_counter() - start
    assert deck.shown is trace
    assert took < 3 * MAX_WAIT_MS / 1000, took  # not n × 150 ms
    assert max(deck._cost) < 7.0


def test_hidden_panels_cost_nothing_and_catch_up_when_shown(qtbot, window):
    window.load_preset("X (lecture)")
    window.run_network_now()
    window.set_presentation(True)  # the stage covers the dashboard
    frames = [p.frames for p in window.panels()]
    stroke(qtbot, window.canvas, [(0.2, 0.3), (0.8, 0.7)])
    qtbot.waitUntil(lambda: not window.live._busy and not window.live._dirty, timeout=10_000)
    window.run_network_now()
    assert [p.frames for p in window.panels()] == frames
    window.set_presentation(False)
    qtbot.waitUntil(lambda: all(p.frames > f for p, f in zip(window.panels(), frames,
                                                            strict=True)), timeout=5_000)


def test_a_trace_of_an_older_drawing_never_replaces_a_newer_one(qtbot, window):
    live = window.live
    window.load_preset("X (lecture)")
    live.schedule()
    live._submit()  # a trace of the X in flight …
    window.load_preset("O")
    live.run_now()  # … and the O traced at once, on the GUI thread
    qtbot.waitUntil(lambda: not live._busy, timeout=10_000)
    assert live.latest[0].prediction == window.trace.prediction
    np.testing.assert_array_equal(
        live.latest[0].layer("input").output,
        window.model.trace(window.model.prepare(window.canvas.raster(),
                                                input=live.input_mode)[0])
        .layer("input").output)


def test_the_rate_readout_says_how_often_the_panels_catch_up(qtbot, window):
    window.action("act_show_rate").trigger()
    label = window.controls.rate_label
    assert label.isVisible()
    stroke(qtbot, window.canvas, [(0.3, 0.3), (0.7, 0.3), (0.5, 0.8)])
    qtbot.waitUntil(lambda: label.text().startswith("panels "), timeout=10_000)
    assert "/s · network " in label.text() and label.text().endswith(" ms")
    window.action("act_show_rate").trigger()
    assert not label.isVisible()


def test_the_rate_readout_shows_on_the_stage_too(qtbot, window):
    """The pickers are hidden on the stage, where a slow laptop on a projector matters
    most: the readout says how often the stage catches up, at the right of its subtitle."""
    window.action("act_show_rate").trigger()
    window.action("act_present").trigger()
    stage = window.stage
    qtbot.waitUntil(lambda: stage.view.isVisible() and stage.view.paints > 0, timeout=5_000)
    stroke(qtbot, window.canvas, [(0.3, 0.3), (0.7, 0.3), (0.5, 0.8)])
    qtbot.waitUntil(lambda: (stage.rate_text or "").startswith("stage "), timeout=10_000)
    assert "/s · network " in stage.rate_text
    qtbot.waitUntil(lambda: any(s.text == stage.rate_text for s in stage.shown_texts()),
                    timeout=5_000)
    window.action("act_show_rate").trigger()
    assert stage.rate_text is None
    qtbot.waitUntil(lambda: not any(s.text.startswith("stage ") and "/s" in s.text
                                    for s in stage.shown_texts()), timeout=5_000)


def test_the_stage_paints_after_the_pen_s_ink_and_never_starves(qtbot, window, monkeypatch):
    """A stage repaint requested while the pen's newest ink is unpainted waits for the
    ink's own repaint (else the ink would wait for every number on the stage), and for
    the worker's trace; one that never finds a gap between moves is made anyway after
    MAX_WAIT_MS."""
    from app.stage import view as stage_view

    window.action("act_present").trigger()
    view = window.stage.view
    qtbot.waitUntil(lambda: view.isVisible() and view.paints > 0, timeout=5_000)
    asked: list[object] = []
    monkeypatch.setattr(view, "repaint", lambda *a: asked.append(a))
    view.pen_gap = lambda: math.inf
    view.ink_pending = lambda: True
    view.want(None)
    view.paced_update()
    assert asked == [] and view.pace.isActive()  # the ink's repaint first
    view.pace.stop()
    view.ink_pending = lambda: False
    view.tracing = lambda: True
    view.paced_update()
    assert asked == [] and view.pace.isActive()  # not beside the worker's trace
    view.pace.stop()
    view.tracing = lambda: False
    view.paced_update()
    assert asked == [()] and not view.behind  # all of it, at once
    view.want(None)
    view.pen_gap = lambda: 0.5  # the pen's next move is due: wait for it
    view.paint_ms = 5.0
    view.paced_update()
    assert asked == [()] and view.pace.isActive()
    view.pace.stop()
    monkeypatch.setattr(stage_view, "MAX_WAIT_MS", -1)  # waited too long: paint anyway
    view.paced_update()
    assert asked == [(), ()]


def conv2_on_stage(qtbot, window):
    """The stage on, showing conv2's step for the lecture's X, wholly painted."""
    window.action("act_present").trigger()
    stage, view = window.stage, window.stage.view
    window.load_preset("X (lecture)")
    window.run_network_now()
    stage.go(next(i for i, s in enumerate(stage.stages) if s.short == "conv2"))
    qtbot.waitUntil(lambda: view.paints > 0 and not view.behind, timeout=5_000)
    return stage, view


def test_the_stage_repaints_a_map_step_in_pieces_one_per_gap(qtbot, window, monkeypatch):
    """While the pen moves, a step whose maps are all a new trace changes (conv2's) is
    repainted a piece at a time — oldest owed first, each in its own gap — until it
    shows the newest trace; another network or an emptied canvas repaints it whole."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QRegion

    from app.stage import view as stage_view

    stage, view = conv2_on_stage(qtbot, window)
    pieces = stage._live_pieces()
    assert pieces is not None and len(pieces) == 3
    area = sum(r.width() * r.height() for r in pieces)
    assert area < 0.8 * view.width() * view.height()  # the titles and kernels stay
    for r in pieces:  # each inside the stage, the chosen map and both grids covered
        assert view.rect().contains(r)
    painted: list[QRect] = []
    real = view.repaint
    monkeypatch.setattr(view, "repaint", lambda *a: (painted.append(a[0] if a else None),
                                                      real(*a)))
    view.pen_gap, view.ink_pending, view.tracing = (lambda: math.inf, lambda: False,
                                                    lambda: False)
    stage.set_trace(window.trace, blank=False, paced=True)  # the same network: pieces
    assert view.behind
    view.pace.stop()
    view.paced_update()
    assert painted == [pieces[0]] and view.behind and view.pace.isActive()
    stage.set_trace(window.trace, blank=False, paced=True)  # newer: owed again, in order
    view.pace.stop()
    for _ in range(3):
        view.paced_update()
        view.pace.stop()
    assert painted == [pieces[0], pieces[1], pieces[2], pieces[0]] and not view.behind
    # every number and map is still recorded by a piece's paint
    assert any(p.label.startswith("conv2[") for p in stage.painted())
    blank = window.live.model.trace(window.live.model.prepare(
        np.zeros((324, 324), np.float32))[0])
    stage.set_trace(blank, blank=True, paced=True)  # emptied: the whole stage
    view.pace.stop()
    view.paced_update()
    assert painted[-1] is None and not view.behind
    stage.set_trace(window.trace, blank=False, paced=True)  # drawn again: whole, too
    view.pace.stop()
    view.paced_update()
    assert painted[-1] is None
    monkeypatch.setattr(stage_view, "MAX_WAIT_MS", -1)  # behind too long: all owed at once
    stage.set_trace(window.trace, blank=False, paced=True)
    view.pace.stop()
    view.paced_update()
    assert not view.behind and isinstance(painted[-1], QRegion)
    assert painted[-1].boundingRect() == pieces[0].united(pieces[1]).united(pieces[2])


def test_a_trace_waits_for_the_ink_and_for_a_gap_before_the_pen_s_next_move(qtbot, window,
                                                                           monkeypatch):
    """While the pen moves, the worker's trace starts after the ink of the last move is
    painted and only if it can end before the next move; it waits MAX_HOLD_MS at most."""
    from app.live import loop

    live = window.live
    submitted: list[int] = []
    monkeypatch.setattr(live.tracer, "submit", lambda *a: submitted.append(1))

    class Pen:
        ink_pending = True
        gap = math.inf

        def pen_gap_ms(self):
            return self.gap

    pen = Pen()
    live._pen = pen
    live._alone.extend([2.0] * 16)
    live._dirty = True
    live._submit()
    assert submitted == [1]  # no stroke going on (ink painted or not): at once
    live._busy, live._dirty, pen.gap = False, True, 6.0
    live._submit()
    assert submitted == [1] and live._timer.isActive()  # the ink's repaint first
    pen.ink_pending, pen.gap = False, 1.5  # the next move is due before a trace could end
    live._submit()
    assert submitted == [1] and live._timer.isActive()
    pen.gap = 6.0
    live._submit()
    assert submitted == [1, 1]
    live._busy = False
    live._dirty, pen.gap = True, 0.5
    monkeypatch.setattr(loop, "MAX_HOLD_MS", -1)  # the pen never leaves a gap: run anyway
    live._submit()
    assert submitted == [1, 1, 1]
    live._busy = False


def test_the_features_come_after_the_first_answer_and_on_demand_before(qtbot) -> None:
    """Launch (issue #24): the model is asked for at the canvas's first paint; the
    features' panels are built after the first answer is shown (their Python would
    otherwise share the interpreter with torch's import and delay that answer), or
    at once when something asks for one."""
    w = app.create_main_window(model="digits")
    qtbot.addWidget(w)
    shown = []
    w.trace_shown.connect(lambda: shown.append("stepper_panel" in w.__dict__))
    w.show()
    qtbot.waitUntil(lambda: w.start.requested, timeout=5_000)
    qtbot.waitUntil(lambda: w.start.done, timeout=LOAD_MS)
    assert shown and shown[0] is False  # the first answer came before the features
    assert "stepper_panel" in w.__dict__ and w.findChild(QAction, "act_class_open")

    other = app.create_main_window(model="digits")
    qtbot.addWidget(other)
    assert other.classmode is not None and other.start.done  # asked for: installed now


def test_the_panels_import_beside_torch_not_after_it(tmp_path) -> None:
    """Launch: pyqtgraph and the panels are imported in a thread of their own while the
    model loads, not in the GUI thread after it (a fresh process: this one has them)."""
    import os
    import subprocess
    import sys

    script = """
import importlib.abc, sys, threading
seen = {}
class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "pyqtgraph":
            seen.setdefault(name, threading.current_thread().name)
sys.meta_path.insert(0, Spy())
from PySide6.QtWidgets import QApplication
qapp = QApplication([])
import app
w = app.create_main_window(model="digits")
w.show()
while w.model is None or not w.panels():
    qapp.processEvents()
print(seen.get("pyqtgraph"), len(w.panels()))
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path),
               XDG_DATA_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    thread, panels = out.stdout.split()[-2:]
    assert thread == "convpad-import-panels" and int(panels) > 0


def test_a_stage_repainted_in_pieces_shows_what_a_whole_repaint_shows(qtbot, window):
    """The pieces add up: after a new drawing is repainted a piece at a time, the
    window's pixels are those of one repaint of the whole stage."""
    from PySide6.QtGui import QImage

    stage, view = conv2_on_stage(qtbot, window)
    before = view.paints
    window.load_preset("O")  # another drawing, the same network: repainted in pieces
    x, blank = window.model.prepare(window.canvas.raster(), input=window.live.input_mode)
    view.pen_gap, view.ink_pending, view.tracing = (lambda: math.inf, lambda: False,
                                                    lambda: False)
    stage.set_trace(window.model.trace(x), blank, paced=True)
    while view.behind:
        view.pace.stop()
        view.paced_update()
    assert view.paints - before == 3

    def pixels(img: QImage) -> np.ndarray:
        img = img.convertToFormat(QImage.Format.Format_RGB32)
        a = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes())
        return a.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, :img.width()].copy()

    at = view.mapTo(window, view.rect().topLeft())
    screen = pixels(QApplication.primaryScreen().grabWindow(
        window.winId(), at.x(), at.y(), view.width(), view.height()).toImage())
    whole = pixels(view.grab().toImage())
    assert screen.shape == whole.shape
    np.testing.assert_array_equal(screen, whole)


def test_a_pen_resting_mid_stroke_lets_the_panels_catch_up(qtbot, window):
    """The teacher stops mid-stroke to explain: no move comes, so none is due, and the
    panels show the drawing as it is without waiting for the pen to lift."""
    canvas = window.canvas
    r = canvas.drawing_rect()
    points = [QPointF(r.left() + r.width() * (0.2 + 0.015 * i), r.top() + r.height() * 0.5)
              for i in range(40)]
    move(canvas, points[0], QEvent.Type.MouseButtonPress)
    for p in points[1:]:
        move(canvas, p)
        qtbot.wait(8)  # a tablet's pace: the views work in the gaps
    qtbot.waitUntil(lambda: canvas.clock.resting(time.perf_counter()),
                    timeout=1000)
    assert canvas.pen_gap_ms() == math.inf and window.pen_down()
    qtbot.waitUntil(lambda: window.live._shown_read == window.live._read
                    and not window.live._busy and not window.live._dirty
                    and window.deck.settled, timeout=5000)
    assert canvas.clock.down  # still mid-stroke: the pen never lifted
    shown = window.live.latest[0].layer("input").output
    x, _ = window.model.prepare(canvas.raster(), input=window.live.input_mode)
    np.testing.assert_allclose(shown, window.model.trace(x).layer("input").output)
    move(canvas, points[-1], QEvent.Type.MouseButtonRelease)


def test_panels_follow_even_when_the_next_move_always_seems_due(qtbot, window):
    """An input device whose pace the clock misjudges (every move seems due now) must
    not starve the panels: a round waits at most MAX_WAIT_MS for a gap."""
    from app.panels.deck import MAX_WAIT_MS

    window.deck.pen_gap = lambda: 0.0
    canvas = window.canvas
    r = canvas.drawing_rect()
    move(canvas, QPointF(r.left() + r.width() * 0.3, r.top() + r.height() * 0.3),
         QEvent.Type.MouseButtonPress)
    x, _ = window.model.prepare(canvas.raster(), input=window.live.input_mode)
    newer = window.model.trace(x)  # a trace no panel shows yet
    window.deck.show_trace(newer, False, 0.0)
    assert not window.deck.settled
    # One panel per MAX_WAIT_MS at the least, never none (without it: never settled).
    qtbot.waitUntil(lambda: window.deck.settled,
                    timeout=4 * len(window.panels()) * MAX_WAIT_MS)


def test_a_round_puts_one_drawing_on_every_panel_before_the_next(qtbot, window):
    """Mid-stroke the panels show one drawing at a time, each map the input of the
    next: a newer trace waits for the round under way, then gets a round of its own."""
    deck = window.deck
    window.load_preset("X (lecture)")
    window.run_network_now()
    model, mode = window.model, window.live.input_mode

    def trace_of(raster):
        return model.trace(model.prepare(raster, input=mode)[0])

    older = trace_of(window.canvas.raster())
    newer = trace_of(np.zeros_like(window.canvas.raster()) + 255)
    ended: list[object] = []
    deck.round_done.connect(lambda _rate: ended.append(deck.shown))
    deck.pen_gap = lambda: 50.0  # time for one panel a slice (budget 0)
    deck.show_trace(older, False, budget_ms=0)
    deck._slice.stop()
    deck._work()
    deck._work()
    deck.show_trace(newer, False, budget_ms=0)  # mid-round
    deck._slice.stop()
    def has(trace) -> bool:
        return any(t is trace for t in deck._shown_by)

    shows = list(deck._shown_by)
    while has(older) and any(t is not older for t in deck._shown_by):
        deck._work()
        deck._slice.stop()
        shows = list(deck._shown_by)
        # One drawing at a time: never the newer beside panels still on an older one.
        assert not (has(newer) and any(t is not newer for t in shows))
    assert ended and ended[0] is older and all(t is older for t in shows)
    assert not deck.settled  # the newer one is owed its round
    deck._slice.start(0)  # (stopped above, to step the slices by hand)
    qtbot.waitUntil(lambda: deck.settled, timeout=5_000)
    assert ended[-1] is newer and all(t is newer for t in deck._shown_by)


def test_a_stage_piece_waits_for_a_gap_as_long_as_its_own_last_paint(qtbot, window):
    """Pieces differ (conv2's 64 maps cost more than its input maps): the gap a piece
    needs is what that piece cost last time, not what the last piece painted cost."""
    stage, view = conv2_on_stage(qtbot, window)
    pieces = stage._live_pieces()
    view.ink_pending, view.tracing = (lambda: False, lambda: False)
    view.pen_gap = lambda: math.inf
    stage.set_trace(window.trace, blank=False, paced=True)
    for _ in range(3):  # each piece painted once: its cost is known
        view.paced_update()
        view.pace.stop()
    assert not view.behind
    from app.stage.view import _key

    view._costs[_key(pieces[0])] = 8.0  # the first piece is dear, the last paint cheap
    view.paint_ms = 0.5
    view.pen_gap = lambda: 4.0  # the next move in 4 ms
    stage.set_trace(window.trace, blank=False, paced=True)
    view.pace.stop()
    paints = view.paints
    view.paced_update()
    assert view.paints == paints and view.pace.isActive()  # it waits for a longer gap
    view.pace.stop()
    view._costs[_key(pieces[0])] = 2.0  # cheap enough for the gap: painted now
    view.paced_update()
    assert view.paints == paints + 1
