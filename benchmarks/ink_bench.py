"""What a person feels while drawing: ink latency, panel lag and kept moves (``ui_bench --ink``).

A pen thread posts moves at 120 Hz (a tablet's rate), each with its posting time, to
an object in the GUI thread (``QCoreApplication.postEvent``, thread-safe), so the moves
queue while the GUI thread is busy, exactly as real input does. When the GUI thread
gets to them, the queued moves merge into the newest one, as Qt's motion compression
merges a window system's pending moves; that one reaches the canvas as a real
``QMouseEvent``. The event loop runs freely (``QEventLoop.exec``): the app's own timers,
worker threads and repaints happen as they would for a user.

- **ink latency**: end of the window's first repaint in which the canvas shows a move −
  the move's posting time (a move merged into a later one is shown when that one is).
  A repaint paints every widget marked dirty, so its end is taken after the whole
  repaint: when the window's UpdateRequest (its paints and the copy to the screen) has
  been handled. (Until 2026-12-03 it was taken when a high-priority event posted by the
  paint was handled, which also counted a timer that ran first: on the stage, its own
  repaint right after the ink's);
- **panel lag**: the same, for the panels showing a drawing that includes the move: on
  the desk, the end of the repaint after a round has put that drawing's trace on every
  panel; on the stage, of the stage's repaint that shows it whole;
- **kept moves**: moves that reached the canvas as their own event ÷ moves posted.

Each size and view is measured in two conditions, interleaved stroke by stroke: every
panel live, and the panels hidden (the ink floor: nothing but the canvas and the
headline follow the pen).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication

HZ = 120
DELIVER = QEvent.Type(QEvent.registerEventType())


class Pen(QObject):
    """Moves posted from the pen thread, delivered in the GUI thread (see the module)."""

    def __init__(self, canvas) -> None:
        super().__init__()
        self.canvas = canvas
        self.lock = threading.Lock()
        self.queue: deque = deque()
        self.posted: dict[int, float] = {}
        self.delivered: list[tuple[int, int]] = []  # (move, canvas.moves_shown after it)
        self.waits: list[float] = []  # ms from posting to delivery (the GUI thread busy)

    def post(self, i: int, pos: QPointF) -> None:  # the pen thread
        with self.lock:
            t = time.perf_counter()
            self.posted[i] = t
            self.queue.append((i, pos))
        QCoreApplication.postEvent(self, QEvent(DELIVER))

    def event(self, ev: QEvent) -> bool:
        if ev.type() != DELIVER:
            return super().event(ev)
        with self.lock:
            items = list(self.queue)
            self.queue.clear()
        if items:
            from benchmarks.ui_bench import send

            i, pos = items[-1]  # the pending moves merge into the newest
            self.waits.append((time.perf_counter() - self.posted[i]) * 1000)
            send(self.canvas, QEvent.Type.MouseMove, pos)
            self.delivered.append((i, self.canvas.moves_shown))
        return True


MARK = QEvent.Type(QEvent.registerEventType())
#: Paints not yet recorded: [record, value shown, recorded?], in paint order.
PENDING: list[list] = []


class _Mark(QEvent):
    def __init__(self, entry: list) -> None:
        super().__init__(MARK)
        self.entry = entry


class _Marks(QObject):
    """Records a paint whose repaint did not come through the window's UpdateRequest
    (a fallback: every repaint of the window's widgets does)."""

    def event(self, ev: QEvent) -> bool:
        if ev.type() == MARK:
            _record(ev.entry, time.perf_counter())
            return True
        return super().event(ev)


MARKS: list[_Marks] = []


def _record(entry: list, now: float) -> None:
    if not entry[2]:
        entry[2] = True
        entry[0](now, entry[1])


def _repaint_ends(window) -> None:
    """A repaint pass of ``window`` — paintEvents, then the copy to the screen — is its
    UpdateRequest (``update()`` posts one, ``repaint()`` sends one): its end is when the
    pixels of every widget it painted are on their way to the screen. Recorded then,
    and not when the event loop next gets to a posted event, which would also count
    whatever timer runs first (a stage repaint right after the ink's own)."""
    original = window.event

    def event(ev: QEvent) -> bool:
        if ev.type() != QEvent.Type.UpdateRequest:
            return original(ev)
        handled = original(ev)
        now = time.perf_counter()
        for entry in PENDING:
            _record(entry, now)
        PENDING.clear()
        return handled

    window.event = event


def _on_paint(widget, record, value) -> None:
    """At the end of each repaint that paints ``widget``: ``record(end time, value())``,
    with ``value()`` read during the paint (what the paint showed)."""
    if not MARKS:
        MARKS.append(_Marks())
    original = widget.paintEvent

    def paint(event) -> None:
        original(event)
        entry = [record, value(), False]
        PENDING.append(entry)
        QCoreApplication.postEvent(MARKS[0], _Mark(entry),
                                   Qt.EventPriority.HighEventPriority.value)

    widget.paintEvent = paint


def stroke(window, pen_points: list[QPointF], views_live: bool, stage: bool) -> dict:
    """One stroke at 120 Hz; the three figures' raw data."""
    from benchmarks.ui_bench import send

    app = QApplication.instance()
    canvas, live, views = window.canvas, window.live, window.views
    view = views.currentWidget()
    view.setVisible(views_live)
    canvas.clear()
    window.run_network_now()
    app.processEvents()
    pen = Pen(canvas)
    ink_paints: list[tuple[float, int]] = []
    panel_paints: list[tuple[float, int]] = []
    window._ink_record = lambda t, shown: ink_paints.append((t, shown))
    shown: dict[str, object] = {"round_tag": -1}
    # A round of the desk shows one trace on every panel, not always the newest: the
    # drawing (tag) of each trace as it reaches the desk, and of the round's on its end.
    deck, tags = window.deck, {}

    def show_trace(trace, blank, budget_ms=None):
        tags[id(trace)] = live.shown_tag
        return type(deck).show_trace(deck, trace, blank, budget_ms)

    def round_done(_rate: float) -> None:  # every panel shows deck.shown now: its
        # drawing is on screen at the end of the repaint that paints the last of them
        shown["round_tag"] = tags.get(id(deck.shown), -1)
        if not stage:
            PENDING.append([lambda t, tag: window._panel_record(t, tag), shown["round_tag"],
                            False])

    deck.show_trace = show_trace
    deck.round_done.connect(round_done)
    # The stage paints the newest trace, in pieces while the pen moves: it shows a
    # drawing when its last piece is painted.
    window._panel_value = (lambda: -1 if live.shown_tag is None or window.stage.view.behind
                           else live.shown_tag) if stage else (lambda: -1)
    window._panel_record = lambda t, tag: panel_paints.append((t, tag))
    live.tag = lambda: canvas.moves_shown
    send(canvas, QEvent.Type.MouseButtonPress, pen_points[0])
    t0 = time.perf_counter()

    def pen_thread() -> None:
        for i, p in enumerate(pen_points[1:]):
            due = t0 + (i + 1) / HZ
            time.sleep(max(0.0, due - time.perf_counter()))
            pen.post(i, p)

    loop = QEventLoop()
    thread = threading.Thread(target=pen_thread, daemon=True)

    def check() -> None:
        if not thread.is_alive() and not pen.queue and time.perf_counter() > end_by[0]:
            loop.quit()

    end_by = [time.perf_counter() + len(pen_points) / HZ + 0.4]
    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(20)
    thread.start()
    loop.exec()
    timer.stop()
    thread.join()
    send(canvas, QEvent.Type.MouseButtonRelease, pen_points[-1])
    app.processEvents()
    view.setVisible(True)
    deck.round_done.disconnect(round_done)
    del deck.show_trace
    live.tag = None
    return {"posted": pen.posted, "delivered": pen.delivered, "ink": ink_paints,
            "panels": panel_paints, "waits": pen.waits}


def figures(raw: list[dict]) -> dict[str, float]:
    """Ink latency (every move), panel lag (every move, when panels paint) and kept moves."""
    ink, lag, kept, posted = [], [], 0, 0
    for r in raw:
        delivered = r["delivered"]
        posted += len(r["posted"])
        kept += len(delivered)
        order = [i for i, _ in delivered]
        for i, t_post in r["posted"].items():
            k = int(np.searchsorted(order, i))  # the first delivery that includes move i
            if k >= len(delivered):
                continue
            count = delivered[k][1]
            t_ink = next((t for t, c in r["ink"] if c >= count), None)
            if t_ink is not None:
                ink.append((t_ink - t_post) * 1000)
            t_panel = next((t for t, c in r["panels"] if c >= count), None)
            if t_panel is not None:
                lag.append((t_panel - t_post) * 1000)
    waits = [w for r in raw for w in r["waits"]]
    out = {"ink_p50": statistics.median(ink), "ink_p95": float(np.percentile(ink, 95)),
           "kept": kept / max(posted, 1), "moves": posted,
           "wait_p50": statistics.median(waits), "wait_p95": float(np.percentile(waits, 95))}
    if lag:
        out.update(lag_p50=statistics.median(lag), lag_p95=float(np.percentile(lag, 95)),
                   lag_n=len(lag))
    return out


def measure_ink(window, size: tuple[int, int], stage: bool, moves: int, strokes: int = 2
                ) -> dict[str, float]:
    """Interleaved strokes, panels live and hidden; the figures of each."""
    from benchmarks.ui_bench import busiest_stage, on_canvas, recorded_stroke

    app = QApplication.instance()
    window.set_presentation(stage)
    if stage:
        window.showNormal()
    window.setFixedSize(*size)
    window.show()
    for _ in range(10):
        app.processEvents()
    if stage:
        window.load_preset("X (lecture)")
        window.run_network_now()
        window.stage.go(busiest_stage(window))
    settle(window)
    hooks(window)
    points = on_canvas(window.canvas, recorded_stroke(moves + 1))
    # One stroke untimed: what runs once (the first stroke on a new size or view, a
    # garbage collection due since the window was built) would fall on whichever
    # condition comes first, and that is always the live one.
    stroke(window, points, True, stage)
    live, floor = [], []
    for _ in range(strokes):
        live.append(stroke(window, points, True, stage))
        floor.append(stroke(window, points, False, stage))
    a, b = figures(live), figures(floor)
    return {"ink_p50": a["ink_p50"], "ink_p95": a["ink_p95"], "ink_floor_p50": b["ink_p50"],
            "ink_floor_p95": b["ink_p95"], "panel_lag_p50": a.get("lag_p50", float("nan")),
            "panel_lag_p95": a.get("lag_p95", float("nan")), "kept_moves": a["kept"],
            "kept_moves_floor": b["kept"], "moves": a["moves"], "wait_p95": a["wait_p95"],
            "wait_floor_p95": b["wait_p95"]}


def settle(window, timeout_s: float = 60.0) -> None:
    """Wait for the window's background work to end before a stroke is timed.

    Looking for the busiest step shows every step, the Explain step too, which starts an
    attribution in its worker — the first one imports Captum (and matplotlib with it):
    two seconds of Python beside the GUI thread, sharing its lock. A stroke timed then
    measured that import, and only in the condition that came first (panels live).
    """
    from app import gui_gc

    app = QApplication.instance()
    explainer = getattr(window, "explainer", None)
    workers = [w for w in (getattr(explainer, "worker", None), window.live.loader) if w]
    deadline = time.perf_counter() + timeout_s
    # … and for the one collection and freeze of the heap a second after the first
    # model (app.gui_gc.settle), which walks every object once.
    while (any(w.busy for w in workers) or not gui_gc.settled()) \
            and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)
    for _ in range(10):
        app.processEvents()


def hooks(window) -> None:
    """Paint hooks on the canvas and the stage (once per window); the desk's panels
    are timed by their rounds (:func:`stroke`)."""
    window._ink_record = lambda t, v: None
    window._panel_record = lambda t, v: None
    window._panel_value = lambda: -1
    if not getattr(window, "_ink_hooked", False):
        _repaint_ends(window)
        _on_paint(window.canvas, lambda t, v: window._ink_record(t, v),
                  lambda: window.canvas.moves_shown)
        _on_paint(window.stage.view, lambda t, v: window._panel_record(t, v),
                  lambda: window._panel_value())
        window._ink_hooked = True


def measure_overlay(window, size: tuple[int, int], moves: int, strokes: int = 3
                    ) -> dict[str, float]:
    """Issue #22: the Explain overlay never delays the pen. Strokes with the overlay on
    (X: a map computed after each stroke, in a worker, while the next one may begin)
    and off, interleaved, each followed by the pause a person takes between strokes."""
    from benchmarks.ui_bench import on_canvas, recorded_stroke

    app = QApplication.instance()
    window.set_presentation(False)
    window.setFixedSize(*size)
    window.show()
    for _ in range(10):
        app.processEvents()
    hooks(window)
    points = on_canvas(window.canvas, recorded_stroke(moves + 1))
    explainer = window.explainer
    on, off = [], []

    def pause(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)

    for _ in range(strokes):
        for overlay, out in ((True, on), (False, off)):
            if explainer.on != overlay:
                explainer.action.trigger()
            pause(0.3)  # between strokes: the map of the last one is computed meanwhile
            out.append(stroke(window, points, True, False))
    if explainer.on:
        explainer.action.trigger()
    a, b = figures(on), figures(off)
    return {"ink_p50": a["ink_p50"], "ink_p95": a["ink_p95"], "ink_off_p50": b["ink_p50"],
            "ink_off_p95": b["ink_p95"], "kept": a["kept"], "kept_off": b["kept"]}
