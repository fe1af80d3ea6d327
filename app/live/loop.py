"""The live loop, outside any widget: the one live model, loading others, one trace a frame.

:class:`Live` owns what every view shares: **the** live model (a loaded one, a model
trained in Teach, one of its checkpoints, or a copy with features a student edited),
the device the user asked for, the input mode, compare A/B, and the frame throttle.
The window wires widgets to its signals and never runs the network itself (STYLE §15):

- Every change of the live model, whatever made it, is one ``model_changed(model,
  probe)``, so the desk panels, the stage, the step-through, sweeps, compare and record
  all follow it; an edited model says so in its title (``model.title``).
- ``request(name, device)`` asks for a model. Each request is a job of the loader's
  worker, and only the newest becomes live: a slow load that finishes after a later
  choice is cached but never made live. A model becomes live only after its first
  traces ran (``probe``); one that fails them is reported and the previous model stays
  live (``reverted``).
- The device changes only when the user picks one, or when the one picked is not
  there or fails (then with a notice); a trained model joining never changes it.
- ``schedule()`` marks the drawing dirty; at most once per display frame the newest
  drawing is read from ``source`` and traced **in a worker thread** (issue #24: the pen
  never waits for the network): ``traced(trace, blank)`` carries it, and ``shown(trace,
  blank)`` what the views draw (B, B − A or A). While a stroke goes on (``pen``: the
  canvas), a trace starts just after the ink of the pen's last move is painted, and
  only if it can end before the pen's next move is due: the worker shares Python's
  lock with the GUI thread, and a trace that overlaps the ink's handling and paint made
  both take several times as long (measured: 7–12 ms for a 1.2 ms trace). It waits
  at most :data:`MAX_HOLD_MS`. One trace is in flight at a time; the
  drawing read when it ends is the newest, so the views always catch up with the pen.
  ``delivering_async`` is True while a worker's trace is being shown: the views may
  then spread their own work over several event-loop turns (``app.panels.deck``).
- ``run_now()`` traces synchronously, on the GUI thread (a setting changed, a model
  came; tests and benchmarks call it to get one update at once). A worker's trace of
  an older drawing that arrives after a synchronous one is dropped.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

from app.live.compare import Compare
from app.live.loader import Loaded, first_traces, load
from app.notices import describe
from app.workers import Worker
from engine import ConvPadError

FRAME_MS = 16  # one display frame at 60 Hz: the most often the network runs
#: The longest a trace waits for a gap in the pen's moves (then it runs anyway).
MAX_HOLD_MS = 50


def _trace(job, model, raster: np.ndarray, input_mode: str, number: int, tag):
    """The tracer's job (a worker thread): the drawing as the network sees it, traced.
    torch and numpy release the GIL in their kernels, so the pen's events go on."""
    start = time.perf_counter()
    x, blank = model.prepare(raster, input=input_mode)
    trace = model.trace(x)
    return model, trace, blank, number, tag, (time.perf_counter() - start) * 1000


class Live(QObject):
    """The one live model + load requests + compare + frame throttle (see the module).

    Signals: ``model_changed(model, probe)``; ``traced(trace, blank)``; ``shown(trace,
    blank)``; ``loading(name, device)``; ``notice(message)``; ``reverted(name, device)``
    when a request failed and the pickers must show the live model again;
    ``devices(list)`` with the devices this machine offers; ``compare_changed(mode)``.
    """

    model_changed = Signal(object, object)
    traced = Signal(object, bool)
    shown = Signal(object, bool)
    loading = Signal(str, str)
    notice = Signal(str)
    reverted = Signal(str, str)
    devices = Signal(list)
    compare_changed = Signal(object)

    def __init__(self, source: Callable[[], np.ndarray],
                 weights: dict[str, Path] | None = None,
                 parent: QObject | None = None,
                 classes: dict[str, Path | tuple[str, ...]] | None = None,
                 pen=None) -> None:
        super().__init__(parent)
        self._source = source
        self._pen = pen  # the canvas: ink_pending, pen_gap_ms() (see the module)
        self._held = QElapsedTimer()  # since a trace first waited for a gap
        self._alone = deque([2.0], maxlen=16)  # recent trace times: the least is its cost
        self._weights = dict(weights or {})
        self._classes = dict(classes or {})  # model name → class names (or their file)
        self.model = None  # the live engine Model
        self.probe: tuple[object, object] | None = None
        self._input_mode = "centred"
        self.device = "auto"  # what the user asked the live model to run on
        self.wanted: tuple[str, str] | None = None
        self.compare = Compare()
        self.latest: tuple[object, bool] | None = None  # the last (trace, blank) shown
        self.last_b: tuple[object, bool] | None = None  # … and the live drawing's own
        self._cache: dict[tuple[str, str], object] = {}
        self._stamps: dict[tuple[str, str], object] = {}  # each cached file's size and time
        self._jobs: dict[int, tuple[str, str]] = {}
        self._request = 0
        self._dirty = False
        self._since_run = QElapsedTimer()
        self._since_run.start()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._submit)
        # The per-frame trace, off the GUI thread; one job at a time, in order.
        self.tracer = Worker("convpad-trace", "queue")
        self.tracer.done.connect(self._traced_off_thread)
        self.tracer.failed.connect(self._trace_failed)
        self._busy = False
        self._read = 0  # drawings read (each trace's number)
        self._shown_read = 0  # … the newest one shown
        self.delivering_async = False
        self.tag: Callable[[], object] | None = None  # benchmarks: tag each read
        self.shown_tag: object = None  # … the tag of the drawing shown last
        self.trace_ms = 0.0  # what the last trace off the GUI thread took
        self.loader = Worker("convpad-load", "parallel")
        self.loader.done.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)

    # ----- models ---------------------------------------------------------------------
    def request(self, name: str, device: str) -> None:
        """Make ``name`` on ``device`` the live model (now if cached, else once loaded)."""
        self.wanted = (name, device)
        cached = self._cache.get(self.wanted)
        if cached is not None and self._stamps.get(self.wanted) != _stamp(name):
            # The file changed since it was opened (a network re-exported, a model saved
            # again): read it again, and refuse it as a load would if it went bad.
            del self._cache[self.wanted]
            cached = None
        if cached is not None:
            self._request = -1
            self._activate(device, cached)
            return
        self.loading.emit(name, device)
        self._request = self.loader.submit(load, name, device, self._weights.get(name),
                                           self._classes.get(name))
        self._jobs[self._request] = (name, device)

    def _on_loaded(self, job: int, got: Loaded) -> None:
        name, device = self._jobs.pop(job, ("", ""))
        self.devices.emit(got.devices)
        if got.fallback:
            self.notice.emit(got.fallback)
            device = "cpu"
        if (name, device) not in self._cache:
            self._cache[(name, device)] = got
            self._stamps[(name, device)] = _stamp(name)
        if job == self._request:
            self._activate(device, got)

    def _on_failed(self, job: int, message: str) -> None:
        name, _device = self._jobs.pop(job, ("", ""))
        # A file's refusal names the file already: not twice in one line.
        self.notice.emit(f"Cannot open the model: {message}" if name and name in message
                         else f"Cannot open the model {name!r}: {message}")
        if job != self._request:
            return
        if self.model is None:
            self.wanted = None
            self.reverted.emit("", "")
        else:
            self.wanted = (self.model.name, self.device)
            self.reverted.emit(self.model.name, self.device)

    def use_model(self, model) -> bool:
        """Make ``model`` live in place of the live one: a copy with edited features, a
        training checkpoint of the live model. Refused (a notice, ``False``) unless it
        has the live model's layers, classes and input: a Teach checkpoint applies to the
        Teach model only."""
        if self.model is not None and model.signature != self.model.signature:
            self.notice.emit(f"Cannot show {model.title}: it is not a version of the live "
                             f"model {self.model.title}; pick it first")
            return False
        return self._adopt(model, self.device)

    def adopt(self, model) -> bool:
        """Make a model built in this process (a freshly trained one) live, as a load would.

        It keeps the device the user chose. Its first traces run here; a model that
        cannot run them is reported and the previous model stays live.
        """
        self._request = -1
        return self._adopt(model, self.device)

    def _adopt(self, model, device: str) -> bool:
        try:
            probe = first_traces(model)
        except Exception as exc:
            self.notice.emit(f"Cannot use {model.title}: {describe(exc)}")
            return False
        self.wanted = (model.name, device)
        self._activate(device, Loaded(model, probe, []))
        return True

    def _activate(self, device: str, got: Loaded) -> None:
        self.model, self.probe, self.device = got.model, got.probe, device
        self.model_changed.emit(got.model, got.probe)
        self.refresh()

    # ----- what the drawing goes through ---------------------------------------------------
    @property
    def input_mode(self) -> str:
        """"centred" (the MNIST recipe) or "as-drawn" (see engine.Model.preprocess)."""
        return self._input_mode

    @input_mode.setter
    def input_mode(self, mode: str) -> None:
        if mode != self._input_mode:
            self._input_mode = mode
            self.refresh()

    def pin(self) -> bool:
        """Pin the drawing as A (refused on an empty canvas, with a notice)."""
        raster = self._source()
        if not raster.any():
            self.notice.emit("Cannot pin an empty canvas as A: draw something first.")
            return False
        self.compare.pin(raster)
        self.compare_changed.emit(self.compare.mode)
        self.refresh()
        return True

    def unpin(self) -> None:
        """Forget A (Compare ▸ Unpin A)."""
        self.compare.unpin()
        self.compare_changed.emit(None)
        self.refresh()

    def set_compare(self, mode: str | None) -> None:
        """B alone (None), B − A ("diff") or A ("A"); a notice when nothing is pinned."""
        try:
            self.compare.set_mode(mode)
        except ConvPadError as exc:
            self.notice.emit(f"Cannot compare: {exc}.")
        self.compare_changed.emit(self.compare.mode)
        self.refresh()

    def a_trace(self):
        """A, traced through the live model in the live input mode (None: nothing pinned)."""
        return self.compare.a_trace(self.model, self._input_mode)

    # ----- the per-frame path ---------------------------------------------------------
    def schedule(self) -> None:
        """The drawing changed: trace it off the GUI thread at the next frame boundary
        (coalesced; after the trace in flight, if there is one)."""
        self._dirty = True
        if not self._timer.isActive() and not self._busy:
            self._timer.start(max(0, FRAME_MS - int(self._since_run.elapsed())))

    def _submit(self) -> None:
        if not self._dirty or self.model is None or self._busy:
            return
        if self._pen is not None and self._hold():
            return
        self._held.invalidate()
        self._dirty = False
        self._busy = True
        self._since_run.restart()
        self._read += 1
        tag = self.tag() if self.tag is not None else None
        self.tracer.submit(_trace, self.model, self._source(), self._input_mode,
                           self._read, tag)

    @property
    def tracing(self) -> bool:
        """A drawing is being traced in the worker now."""
        return self._busy

    def _hold(self) -> bool:
        """Wait for a gap in the pen's moves (True: the timer will try again)."""
        gap = self._pen.pen_gap_ms()
        if gap == math.inf:  # no stroke going on: nothing to wait for
            return False
        if not self._held.isValid():
            self._held.start()
        if self._held.elapsed() >= MAX_HOLD_MS:
            return False
        if self._pen.ink_pending:  # its repaint is posted: it comes before this timer
            self._timer.start(0)
            return True
        if gap < min(self._alone) + 1.0:  # the next move is due first: after its ink
            self._timer.start(int(gap) + 1)
            return True
        return False

    def _traced_off_thread(self, _job: int, result) -> None:
        self._busy = False
        model, trace, blank, number, tag, self.trace_ms = result
        self._alone.append(self.trace_ms)
        if model is self.model and number > self._shown_read:
            try:
                view = self.compare.view(trace, blank, model, self._input_mode)
            except Exception as exc:
                self.notice.emit(f"{model.title} could not run: {describe(exc)}")
                view = None
            if view is not None:
                self.delivering_async = True
                try:
                    self._deliver(trace, blank, view, number, tag)
                finally:
                    self.delivering_async = False
        if self._dirty or model is not self.model:
            self._dirty = True
            self.schedule()

    def _trace_failed(self, _job: int, message: str) -> None:
        self._busy = False
        model = self.model
        if model is None:
            return
        self.notice.emit(f"{model.title} could not run: {message}")
        if model.device.type != "cpu":
            self.request(model.name, "cpu")

    def _deliver(self, trace, blank: bool, view, number: int, tag) -> None:
        self._shown_read = number
        self.latest, self.last_b, self.shown_tag = view, (trace, blank), tag
        self.traced.emit(trace, blank)
        self.shown.emit(*view)

    def run_now(self) -> None:
        """Trace the newest drawing now if it changed (what the frame timer calls).

        Benchmarks and tests call it after sending pen events, to process one update
        synchronously instead of waiting for the timer.
        """
        self._timer.stop()
        if not self._dirty or self.model is None:
            return
        self._dirty = False
        self._since_run.restart()
        model = self.model
        self._read += 1
        number, tag = self._read, (self.tag() if self.tag is not None else None)
        try:
            x, blank = model.prepare(self._source(), input=self._input_mode)
            trace = model.trace(x)
            view = self.compare.view(trace, blank, model, self._input_mode)
        except Exception as exc:  # a device that failed mid-session: say so, keep drawing
            self.notice.emit(f"{model.title} could not run: {describe(exc)}")
            if model.device.type != "cpu":
                self.request(model.name, "cpu")
            return
        self._deliver(trace, blank, view, number, tag)

    def refresh(self) -> None:
        """Trace the drawing again now, although it did not change (a setting did)."""
        self._dirty = True
        self.run_now()

    def close(self, wait: float = 1.0) -> None:
        """Stop the frame timer and the loader's reports (the window is closing)."""
        self._timer.stop()
        self.loader.close(wait)
        self.tracer.close(wait)


def _stamp(name: str) -> tuple[int, int] | None:
    """A model file's (modification time, size): a shipped name has none; a saved
    model's is its card's (saving again rewrites it)."""
    path = Path(name)
    try:
        if path.is_dir():
            path = path / "model.json"
        info = path.stat()
    except (OSError, ValueError):
        return None
    return info.st_mtime_ns, info.st_size
