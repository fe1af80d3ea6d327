"""Load models off the GUI thread, so the window shows before torch has imported.

Importing torch and building a model takes seconds on a cold start; the window,
canvas and pickers are up meanwhile and say "loading model…". The finished ``Model``
is handed to the GUI thread by a queued signal. Errors (a missing or corrupt weight
file, an unavailable device) come back as a message, never as a dead thread.

A plain Python thread does the work rather than a ``QRunnable`` subclass: PySide6
crashed at interpreter exit (in ``destroyQCoreApplication``) about one run in three
when Python ``QRunnable`` wrappers had been deleted by a ``QThreadPool``.
"""

from __future__ import annotations

import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine import load_model


class ModelLoader(QObject):
    """Loads ``(name, device)`` in a worker thread and reports by signal.

    ``loaded(request, model, devices)``: the model, plus the devices this machine offers as
    ``[(device, human name), …]`` (worked out in the worker too, since it needs torch).
    ``failed(request, message)``: a sentence for the notice. ``request`` is the id
    :meth:`load` returned, so the window ignores answers to requests it has superseded.
    """

    loaded = Signal(int, object, list)
    failed = Signal(int, str)

    def __init__(self, weights: dict[str, Path] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._weights = dict(weights or {})
        self._threads: list[threading.Thread] = []
        self._next = 0

    def load(self, name: str, device: str) -> int:
        """Start loading; returns the request id the signals will carry."""
        self._next += 1
        thread = threading.Thread(
            target=self._run, args=(self._next, name, device, self._weights.get(name)),
            name=f"load-{name}", daemon=True,
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return self._next

    def wait(self, seconds: float | None = None) -> bool:
        """Block until started loads finish (tests and shutdown); False on timeout."""
        for t in list(self._threads):
            t.join(seconds)
        return not any(t.is_alive() for t in self._threads)

    def _run(self, request: int, name: str, device: str, weights: Path | None) -> None:
        try:
            model = load_model(name, device=device, weights=weights)
            from engine import available_devices, device_name

            devices = [(dev, device_name(dev)) for dev in available_devices()]
        except ValueError as exc:  # WeightsError is a ValueError: a message, no traceback
            self.failed.emit(request, f"Cannot load model {name!r}: {exc}")
            return
        except Exception as exc:
            traceback.print_exception(exc, file=sys.stderr)
            self.failed.emit(request, f"Cannot load model {name!r}: {type(exc).__name__}: {exc}")
            return
        self.loaded.emit(request, model, devices)
