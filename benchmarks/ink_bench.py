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
  repaint: the canvas's paint posts a high-priority event, which the GUI thread handles
  as soon as the repaint it was part of has ended;
- **panel lag**: the same, for the last panel in data-flow order (the answer; on the
  stage, the stage) showing a trace of a drawing that includes the move;
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


class _Mark(QEvent):
    def __init__(self, record, value) -> None:
        super().__init__(MARK)
        self.record, self.value = record, value


class _Marks(QObject):
    """Handles the marks posted by paints: the repaint they were part of has ended."""

    def event(self, ev: QEvent) -> bool:
        if ev.type() == MARK:
            ev.record(time.perf_counter(), ev.value)
            return True
        return super().event(ev)


MARKS: list[_Marks] = []


def _on_paint(widget, record, value) -> None:
    """After each repaint that paints ``widget``: ``record(end time, value())``, with
    ``value()`` read during the paint (what the paint showed)."""
    if not MARKS:
        MARKS.append(_Marks())
    original = widget.paintEvent

    def paint(event) -> None:
        original(event)
        QCoreApplication.postEvent(MARKS[0], _Mark(record, value()),
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

    def round_done(_rate: float) -> None:  # every panel shows the newest trace now
        shown["round_tag"] = live.shown_tag

    window.deck.round_done.connect(round_done)
    window._panel_value = (lambda: live.shown_tag if live.shown_tag is not None else -1) \
        if stage else (lambda: shown["round_tag"])  # the stage paints the newest trace
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
    window.deck.round_done.disconnect(round_done)
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
    hooks(window)
    points = on_canvas(window.canvas, recorded_stroke(moves + 1))
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


def hooks(window) -> None:
    """Paint hooks on the canvas, the last desk panel and the stage (once per window)."""
    window._ink_record = lambda t, v: None
    window._panel_record = lambda t, v: None
    window._panel_value = lambda: -1
    if not getattr(window, "_ink_hooked", False):
        _on_paint(window.canvas, lambda t, v: window._ink_record(t, v),
                  lambda: window.canvas.moves_shown)
        _on_paint(window.stage.view, lambda t, v: window._panel_record(t, v),
                  lambda: window._panel_value())
        window._ink_hooked = True
    panels = window.panels()
    if panels and not getattr(panels[-1], "_ink_hooked", False):
        _on_paint(panels[-1].view, lambda t, v: window._panel_record(t, v),
                  lambda: window._panel_value())
        panels[-1]._ink_hooked = True


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
