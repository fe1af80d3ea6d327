"""The live loop, outside any widget: which model is live, loading others, one trace a frame.

``LiveTrace`` owns what the window used to do by hand: the model cache, load requests
and their ids, the device the user wants, and the frame throttle. The window wires
widgets to its signals and never runs the network itself (house style 15):

- ``request(name, device)`` asks for a model. Every request gets a fresh id, cached or
  not, so a slow load that finishes after a later choice is cached but never made live:
  the last thing the user picked wins.
- A model becomes live only after it has run its first traces (``probe``, in the
  loader's worker). A model that fails them — a CUDA out-of-memory, say — is reported
  and the previous model stays live; the pickers go back to it (``reverted``).
- An unavailable device falls back to the CPU with a notice, and the CPU is always
  offered, so a typo or a missing GPU is never a dead end.
- ``schedule()`` marks the drawing dirty; at most once per display frame the newest
  drawing is read from ``source`` and traced, and ``traced(trace, blank)`` carries the
  result. Pen events are never queued behind the network.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

from app.loader import ModelLoader
from engine import PRESETS

FRAME_MS = 16  # one display frame at 60 Hz: the most often the network runs


def first_traces(model) -> tuple[object, object]:
    """A blank canvas and the lecture's X, traced: the panels' layout and colour levels.

    Run in the loader's worker, so a model that cannot trace fails before it is live.
    The X calibrates each panel's fixed colour levels, so the first strokes are not
    drawn at a level set by an almost empty canvas.
    """
    side = 9 * 36
    blank = model.trace(model.preprocess(np.zeros((side, side), np.float32), invert=False))
    x = np.kron((PRESETS["X (lecture)"] > 0).astype(np.float32), np.ones((36, 36), np.float32))
    return blank, model.trace(model.preprocess(x, invert=False))


class LiveTrace(QObject):
    """Model cache + load requests + frame throttle; emits ``traced`` once per frame.

    Signals: ``model_changed(model, probe)`` when a model is live (``probe`` is
    :func:`first_traces`' pair); ``traced(trace, blank)``; ``loading(name, device)``;
    ``notice(message)`` for anything the user should read; ``reverted(name, device)``
    when a request failed and the pickers must show the live model again;
    ``devices(list)`` with the devices this machine offers.
    """

    model_changed = Signal(object, object)
    traced = Signal(object, bool)
    loading = Signal(str, str)
    notice = Signal(str)
    reverted = Signal(str, str)
    devices = Signal(list)

    def __init__(self, source: Callable[[], np.ndarray],
                 weights: dict[str, Path] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self.model = None  # the live engine Model
        # "centred" (the MNIST recipe) or "as-drawn" (where you drew is where the
        # network looks): see engine.Model.preprocess. The experiments' toggle sets it.
        self.input_mode = "centred"
        self.device = "auto"  # the device the live model was asked for
        self.wanted: tuple[str, str] | None = None
        self._cache: dict[tuple[str, str], tuple[object, object]] = {}
        self._request = 0
        self._dirty = False
        self._since_run = QElapsedTimer()
        self._since_run.start()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.run_now)
        self.loader = ModelLoader(weights, probe=first_traces)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self.loader.fallback.connect(self._on_fallback)
        self.loader.devices.connect(self.devices)

    # ----- models ---------------------------------------------------------------------
    def request(self, name: str, device: str) -> None:
        """Make ``name`` on ``device`` the live model (now if cached, else once loaded)."""
        self._request += 1
        self.wanted = (name, device)
        cached = self._cache.get(self.wanted)
        if cached is not None:
            self._activate(device, *cached)
            return
        self.loading.emit(name, device)
        self.loader.load(self._request, name, device)

    def _on_loaded(self, request: int, model, probe) -> None:
        key = (model.name, self._device_key(model))
        self._cache.setdefault(key, (model, probe))
        if request == self._request and self.wanted is not None:
            self._cache.setdefault(self.wanted, (model, probe))
            self._activate(self.wanted[1], model, probe)

    def _on_failed(self, request: int, message: str) -> None:
        self.notice.emit(message)
        if request != self._request:
            return
        if self.model is None:
            self.wanted = None
            self.reverted.emit("", "")
        else:
            self.wanted = (self.model.name, self.device)
            self.reverted.emit(self.model.name, self.device)

    def _on_fallback(self, request: int, message: str) -> None:
        self.notice.emit(message)
        if request == self._request and self.wanted is not None:
            self.wanted = (self.wanted[0], "cpu")

    def use_model(self, model) -> None:
        """Trace through ``model`` from now on: the live model with other weights.

        For copies of the live model whose layers are the same and whose weights
        differ — the toy with features a student edited, a training checkpoint being
        scrubbed. The panels stay; nothing is loaded; ``model_changed`` is not emitted.
        """
        self.model = model
        self._dirty = True
        self.run_now()

    def adopt(self, model) -> bool:
        """Make a model built in this process (a freshly trained one) live, as a load would.

        Its first traces run here; a model that cannot run them is reported and the
        previous model stays live. Returns whether it became live.
        """
        try:
            probe = first_traces(model)
        except Exception as exc:
            self.notice.emit(f"{model.name} cannot run: {type(exc).__name__}: {exc}")
            return False
        self._request += 1
        # Not cached: every training run and checkpoint of a model shares its name.
        self.wanted = (model.name, self._device_key(model))
        self._activate(self.wanted[1], model, probe)
        return True

    @staticmethod
    def _device_key(model) -> str:
        dev = model.device
        return dev.type if dev.type == "cpu" else str(dev)

    def _activate(self, device: str, model, probe) -> None:
        self.model, self.device = model, device
        self.model_changed.emit(model, probe)
        self._dirty = True
        self.run_now()

    # ----- the per-frame path ---------------------------------------------------------
    def schedule(self) -> None:
        """The drawing changed: trace it at the next frame boundary (coalesced)."""
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start(max(0, FRAME_MS - int(self._since_run.elapsed())))

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
        ink = self._source()
        try:
            x, blank = model.prepare(ink, input=self.input_mode)
            trace = model.trace(x)
        except Exception as exc:  # a device that failed mid-session: say so, keep drawing
            self.notice.emit(f"{model.name} could not run: {type(exc).__name__}: {exc}")
            if model.device.type != "cpu":
                self.request(model.name, "cpu")
            return
        self.traced.emit(trace, blank)

    def refresh(self) -> None:
        """Trace the drawing again now, although it did not change (a view setting did)."""
        self._dirty = True
        self.run_now()

    def close(self, wait: float = 1.0) -> None:
        """Stop the frame timer and the loader's reports (the window is closing)."""
        self._timer.stop()
        self.loader.close()
        self.loader.wait(wait)
