"""Load models off the GUI thread, so the window shows before torch has imported.

Importing torch and building a model takes seconds on a cold start; the window,
canvas and pickers are up meanwhile and say "loading model…". The finished ``Model``
is handed to the GUI thread by a queued signal. Errors (a missing or corrupt weight
file, an unavailable device, a model that cannot run its first trace) come back as a
message, never as a dead thread.

Two rules keep this safe however the user hammers the pickers or closes the window:

- The loader is never a child of the window. Its worker thread holds a reference to
  it, so the QObject that emits is alive until the thread has finished; once the window
  is gone the signals simply have no receiver (Qt drops connections to a deleted
  receiver). A loader parented to the window would be deleted under a running thread,
  which then raised "Signal source has been deleted".
- A device that this machine does not have is not an error to stop at: the load falls
  back to the CPU and says so (``fallback``), so ``--device cuda`` on a laptop still
  gives a working pad.

A plain Python thread does the work rather than a ``QRunnable`` subclass: PySide6
crashed at interpreter exit (in ``destroyQCoreApplication``) about one run in three
when Python ``QRunnable`` wrappers had been deleted by a ``QThreadPool``.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

import engine


def usable_device(device: str, available: list[str]) -> bool:
    """True when ``device`` names one of ``available`` ("auto" always is; "cuda" is cuda:0)."""
    if device == "auto":
        return True
    if device == "cuda":
        device = "cuda:0"
    return device in available


class ModelLoader(QObject):
    """Loads ``(name, device)`` in a worker thread and reports by signal.

    ``loaded(request, model, probe)``: the model, plus ``probe``, the result of calling
    the ``probe`` callable on it in the worker (the window's first traces: a model that
    cannot run them — a CUDA out-of-memory, a broken weight file that passed its checks
    — fails here and never becomes live).
    ``failed(request, message)``: a sentence for the notice.
    ``fallback(request, message)``: the device asked for is not here; the load goes on
    on the CPU.
    ``devices(list)``: ``[(device, human name), …]`` this machine offers, CPU first
    (worked out in the worker, since it needs torch), sent once per load.
    ``request`` is the caller's id for the load, so it can ignore answers to requests
    it has superseded.
    """

    loaded = Signal(int, object, object)
    failed = Signal(int, str)
    fallback = Signal(int, str)
    devices = Signal(list)

    def __init__(self, weights: dict[str, Path] | None = None,
                 probe: Callable[[object], object] | None = None) -> None:
        super().__init__()  # no parent, on purpose: see the module docstring
        self._weights = dict(weights or {})
        self._probe = probe
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()

    def load(self, request: int, name: str, device: str) -> None:
        """Start loading; the signals will carry the caller's ``request`` id."""
        thread = threading.Thread(
            target=self._run, args=(request, name, device, self._weights.get(name)),
            name=f"load-{name}", daemon=True,
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def close(self) -> None:
        """Stop reporting: loads still running finish quietly and their results are dropped."""
        self._closed.set()

    def wait(self, seconds: float | None = None) -> bool:
        """Block until started loads finish (tests and shutdown); False on timeout."""
        for t in list(self._threads):
            t.join(seconds)
        return not any(t.is_alive() for t in self._threads)

    def _emit(self, signal, *args) -> None:
        if not self._closed.is_set():
            signal.emit(*args)

    def _run(self, request: int, name: str, device: str, weights: Path | None) -> None:
        try:
            import torch

            # One CPU thread for torch in the app: the live network is a millisecond of
            # work, and a second thread only fights the GUI thread and a running sweep
            # for the second core (a digits sweep: 83 ms on one thread, 232 ms on two).
            torch.set_num_threads(1)
            available = engine.available_devices()
            self._emit(self.devices, [(dev, engine.device_name(dev)) for dev in available])
            if not usable_device(device, available):
                self._emit(self.fallback, request,
                           f"Device {device!r} is not available on this machine "
                           f"(it has: {', '.join(available)}); running on the CPU instead.")
                device = "cpu"
            model = engine.load_model(name, device=device, weights=weights)
            probe = self._probe(model) if self._probe is not None else None
        except ValueError as exc:  # WeightsError is a ValueError: a message, no traceback
            self._emit(self.failed, request, f"Cannot load model {name!r}: {exc}")
            return
        except Exception as exc:
            traceback.print_exception(exc, file=sys.stderr)
            self._emit(self.failed, request,
                       f"Cannot run model {name!r}: {type(exc).__name__}: {exc}")
            return
        self._emit(self.loaded, request, model, probe)
