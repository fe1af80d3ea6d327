"""Training off the GUI thread: a Python thread runs ``engine.train_model`` and reports by signal.

The same two rules as :mod:`app.loader`: the worker ``QObject`` has no parent (its thread
holds it, so it outlives a closed window without "Signal source has been deleted"), and
a plain Python thread does the work rather than a ``QRunnable``. Signals emitted from the
thread reach GUI-thread receivers queued, so every slot runs on the GUI thread.

Each epoch the thread also runs the epoch's model on one drawing and sends the numbers
the view needs (conv1's filters and that drawing's conv1 feature maps) as plain numpy,
so the GUI thread only paints. Cancel sets a ``threading.Event`` that training checks
before every step (milliseconds apart); the best checkpoint so far is kept and saved.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal


@dataclass
class Epoch:
    """One epoch as the Teach view shows it: numbers and pictures, plus its model."""

    epoch: int
    metrics: dict[str, Any]  # engine.train_model's metrics, without the model
    model: object  # a CPU engine.Model of this epoch's weights
    filters: np.ndarray  # conv1 weights (out, 1, kh, kw)
    maps: np.ndarray | None  # the sample's conv1 feature maps after ReLU (out, h, w)


def look_inside(model, sample: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """conv1's filters, and ``sample``'s feature maps after conv1's ReLU (if a sample)."""
    filters = np.array(model.module.conv1.weight.detach().cpu().numpy())
    if sample is None or model.is_blank(sample):
        return filters, None
    trace = model.trace(model.preprocess(sample, invert=False))
    layer = next((lay for lay in trace.layers if lay.name == "relu1"), trace.layer("conv1"))
    return filters, np.array(layer.output)


class TrainWorker(QObject):
    """Trains one model at a time in a thread.

    ``epoch_done(Epoch)`` after each epoch (and for the starting weights, epoch 0);
    ``finished(model, card, message)`` with the best model, where it was saved (``""``
    if it could not be) and a sentence for the user (``""`` after a normal run);
    ``failed(message)`` when training could not run at all (too little data…).
    """

    epoch_done = Signal(object)
    finished = Signal(object, str, str)
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()  # no parent, on purpose: see the module docstring
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._closed = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, read: Callable[[], tuple[list[np.ndarray], np.ndarray, list[str]]],
              out: Path, *, sample: np.ndarray | None = None, **options: Any) -> None:
        """Train in a new thread; ``options`` go to ``engine.train_model`` (epochs, device…).

        ``read()`` gives (drawings, labels, classes); it runs in the thread too, since
        reading a few hundred PNG files would stall the GUI. ``sample`` is the drawing
        whose feature maps are shown (default: the first drawing). The best model is
        saved into ``out`` (a model folder) before ``finished``.
        """
        if self.running:
            raise RuntimeError("a training is already running")
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(read, out, sample, options),
            name="teach-train", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the training to stop; it ends within one step and keeps its best epoch."""
        self._stop.set()

    def wait(self, seconds: float | None = None) -> bool:
        """Block until the thread has ended (False on timeout)."""
        if self._thread is not None:
            self._thread.join(seconds)
        return not self.running

    def close(self) -> None:
        """Stop reporting (the window is going): cancel, and drop any later signal."""
        self._closed.set()
        self._stop.set()

    def _emit(self, signal, *args) -> None:
        if not self._closed.is_set():
            signal.emit(*args)

    def _run(self, read, out: Path, sample, options) -> None:
        import engine

        def progress(epoch: int, metrics: dict[str, Any]) -> None:
            model = metrics.pop("model")
            filters, maps = look_inside(model, sample)
            self._emit(self.epoch_done, Epoch(epoch, metrics, model, filters, maps))

        try:
            images, labels, classes = read()
            if sample is None and images:
                sample = images[0]
            model = engine.train_model(images, labels, classes, progress=progress,
                                       stop=self._stop, **options)
        except ValueError as exc:
            self._emit(self.failed, f"Cannot train yet: {exc}")
            return
        except Exception as exc:
            traceback.print_exception(exc, file=sys.stderr)
            self._emit(self.failed, f"Training failed: {type(exc).__name__}: {exc}")
            return
        message = model.stopped
        try:
            card = str(model.save(out))
        except OSError as exc:  # engine.files.WriteError: read-only or full
            card = ""
            message = f"{message + '. ' if message else ''}The model was not saved: {exc}"
        self._emit(self.finished, model, card, message)
