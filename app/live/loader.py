"""Load models off the GUI thread, so the window shows before torch has imported.

Importing torch and building a model takes seconds on a cold start; the window, canvas
and pickers are up meanwhile and say "loading model…". Each load is a job of a
``"parallel"`` :class:`~app.workers.Worker` (a slow load never holds up the next
request; the caller ignores answers to requests it superseded). A load fails as a
message, never a dead thread: a bad file (``Cannot open model 'x': <reason>``), or a bug
(its type and message). A model becomes live only after it has run its first traces
(:func:`first_traces`, in the worker), so a model that cannot trace — a CUDA
out-of-memory, weights that pass their checks but give NaN — never becomes live.

A device this machine does not have is not an error to stop at: the load falls back to
the CPU and says so, so ``--device cuda`` on a laptop still gives a working pad.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import PRESETS

SIDE = 9 * 36  # the canvas side the probe draws on (the canvas's own)


def usable_device(device: str, available: list[str]) -> bool:
    """True when ``device`` names one of ``available`` ("auto" always is; "cuda" is cuda:0)."""
    if device == "auto":
        return True
    if device == "cuda":
        device = "cuda:0"
    return device in available


def first_traces(model) -> tuple[object, object]:
    """A blank canvas and the lecture's X, traced: the panels' layout and colour levels.

    The X calibrates each panel's fixed colour levels, so the first strokes are not drawn
    at a level set by an almost empty canvas.
    """
    blank = model.trace(model.preprocess(np.zeros((SIDE, SIDE), np.float32), invert=False))
    x = np.kron((PRESETS["X (lecture)"] > 0).astype(np.float32), np.ones((36, 36), np.float32))
    return blank, model.trace(model.preprocess(x, invert=False))


@dataclass
class Loaded:
    """What a load job gives back: the model, its probe, and the device it fell back from."""

    model: object
    probe: tuple[object, object]
    devices: list[tuple[str, str]]
    fallback: str = ""  # a sentence when the device asked for is not here


def load(job, name: str, device: str, weights: Path | None = None,
         classes: Path | None = None) -> Loaded:
    """The job: load ``name`` on ``device`` (the CPU if it is not here), then probe it.
    ``classes``: a file of class names to use instead of the model's (``--classes``)."""
    import torch

    import engine

    # One CPU thread for torch in the app: the live network is a millisecond of work,
    # and a second thread only fights the GUI thread and a running sweep for the second
    # core (a digits sweep: 83 ms on one thread, 232 ms on two).
    torch.set_num_threads(1)
    available = engine.available_devices()
    devices = [(dev, engine.device_name(dev)) for dev in available]
    fallback = ""
    if not usable_device(device, available):
        fallback = (f"Device {device!r} is not available on this machine (it has: "
                    f"{', '.join(available)}); running on the CPU instead.")
        device = "cpu"
    extra = {"classes": classes} if classes is not None else {}
    model = engine.load_model(name, device=device, weights=weights, **extra)
    return Loaded(model, first_traces(model), devices, fallback)
