"""Training off the GUI thread: a Python thread runs ``engine.train_model`` and reports by signal.

Training runs as a job of the one :class:`~app.workers.Worker`; signals emitted from
its thread reach GUI-thread receivers queued, so every slot runs on the GUI thread.

Each epoch the thread also runs the epoch's model on one drawing and sends the numbers
the view needs (conv1's filters and that drawing's conv1 feature maps) as plain numpy,
so the GUI thread only paints. Cancel sets a ``threading.Event`` that training checks
before every step (milliseconds apart); the best checkpoint so far is kept and saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.workers import Worker


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
    """Trains one model at a time, off the GUI thread (on a :class:`~app.workers.Worker`).

    ``epoch_done(Epoch)`` after each epoch (and for the starting weights, epoch 0);
    ``finished(model, card, message)`` with the best model, where it was saved (``""``
    if it could not be) and a sentence for the user (``""`` after a normal run);
    ``failed(message)`` when training could not run at all (too little data…).
    """

    epoch_done = Signal(object)
    finished = Signal(object, str, str)
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()  # no parent: the worker's thread may outlive the panel
        self._worker = Worker("teach-train", "latest")
        self._worker.progress.connect(lambda _job, epoch: self.epoch_done.emit(epoch))
        self._worker.done.connect(lambda _job, result: self.finished.emit(*result))
        self._worker.failed.connect(lambda _job, message: self.failed.emit(
            f"Cannot train: {message}"))
        self._job = None

    @property
    def running(self) -> bool:
        return self._worker.busy

    def start(self, read: Callable[[], tuple[list[np.ndarray], np.ndarray, list[str]]],
              out: Path, *, sample: np.ndarray | None = None, **options: Any) -> None:
        """Train in the worker; ``options`` go to ``engine.train_model`` (epochs, device…).

        ``read()`` gives (drawings, labels, classes); it runs in the worker too, since
        reading a few hundred PNG files would stall the GUI. ``sample`` is the drawing
        whose feature maps are shown (default: the first drawing). The best model is
        saved into ``out`` (a model folder) before ``finished``.
        """
        if self.running:
            raise RuntimeError("a training is already running")
        self._worker.submit(_train, read, out, sample, options)

    def cancel(self) -> None:
        """Ask the training to stop; it ends within one step and keeps its best epoch.

        Unlike a superseded job, a cancelled training still reports its result."""
        self._worker.stop_running()

    def wait(self, seconds: float | None = None) -> bool:
        """Block until the training has ended (False on timeout)."""
        return self._worker.wait(seconds)

    def close(self) -> None:
        """Stop reporting (the window is going): cancel, and drop any later signal."""
        self._worker.close()


def _train(job, read, out: Path, sample, options) -> tuple[object, str, str]:
    """The job: read the data set, train (reporting each epoch), save the best model."""
    import engine

    def progress(epoch: int, metrics: dict[str, Any]) -> None:
        model = metrics.pop("model")
        filters, maps = look_inside(model, sample)
        job.report(Epoch(epoch, metrics, model, filters, maps))

    images, labels, classes = read()
    if sample is None and images:
        sample = images[0]
    model = engine.train_model(images, labels, classes, progress=progress,
                               stop=job.stop, **options)
    message = model.stopped
    try:
        card = str(model.save(out))
    except engine.ConvPadError as exc:  # a read-only or full disk (WriteError)
        return model, "", f"{message + '. ' if message else ''}The model was not saved: {exc}"
    # What is offered and made live is what was saved, opened as any saved model is.
    saved = engine.load_model(card, device=str(model.device))
    saved.stopped, saved.history = model.stopped, model.history
    return saved, card, message
