"""The one way ConvPad runs work off the GUI thread: a :class:`Worker`.

Loading a model, training in Teach, sweeping a drawing and writing an experiment's rows
all take longer than a display frame, so each runs in a worker and reports back by
signals, which reach the GUI thread queued (every slot runs there). One class does it
for all of them, with the three policies they need:

- ``"parallel"``: a thread per job (model loads: a slow load must not hold up the next
  request; the caller tells stale answers apart by job id);
- ``"queue"``: one thread, jobs in order (experiment rows: written in the order drawn);
- ``"latest"``: one thread, only the newest job matters (sweeps, Teach): a new job
  supersedes the one waiting and asks the running one to stop.

A job is ``fn(job, *args)``; ``job.stop.is_set()`` tells it to give up early (a newer
job superseded it, or ``stop_running`` asked it to finish now and report what it has),
``job.stale()`` whether its result will be dropped, and ``job.report(value)`` sends
progress. A job that raises reports ``failed`` with one
sentence: the message of a :class:`~engine.ConvPadError` (bad input), or, for anything
else — a bug — its type and message, with the traceback on stderr.

Why Python threads and not ``QThreadPool``/superqt's workers (which are ``QRunnable``\\s
in a pool): PySide6 crashed at interpreter exit (in ``destroyQCoreApplication``) about
one run in three when Python ``QRunnable`` wrappers had been deleted by a
``QThreadPool``. And the worker ``QObject`` has no parent on purpose: its thread holds
it, so it outlives a closed window (a parented one was deleted under a running thread,
which then raised "Signal source has been deleted"); once closed it drops its signals.
"""

from __future__ import annotations

import atexit
import itertools
import os
import sys
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.notices import describe

_ALL: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def close_all(wait: float = 2.0) -> None:
    """Close every worker and let running jobs end (at most ``wait`` s in all) before
    the interpreter goes: a job still inside torch when its C++ thread pools are torn
    down aborts the process ("terminate called without an active exception")."""
    deadline = time.monotonic() + wait
    for worker in list(_ALL):
        worker.close()
    for worker in list(_ALL):
        worker.wait(max(0.0, deadline - time.monotonic()))


class _Either:
    """Set when either of two events is: what ``threading.Event.is_set`` callers read."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        self._a, self._b = a, b

    def is_set(self) -> bool:
        return self._a.is_set() or self._b.is_set()


class Job:
    """What a running job can ask of its worker."""

    def __init__(self, worker: Worker, number: int) -> None:
        self.number = number
        self.superseded = threading.Event()  # a newer job, cancel() or close(): drop it
        self.halt = threading.Event()  # stop_running(): stop early, report what you have
        self.stop = _Either(self.superseded, self.halt)  # what a job checks to give up
        self._worker = worker

    def stale(self) -> bool:
        """True once a newer job (policy "latest") or ``cancel``/``close`` superseded this:
        its result is dropped."""
        return self.superseded.is_set()

    def report(self, value: Any) -> None:
        """Send ``value`` to the GUI thread as ``progress(job, value)``."""
        self._worker._emit(self._worker.progress, self.number, value)


class Worker(QObject):
    """Runs jobs off the GUI thread by one of three policies (see the module docstring).

    ``done(job, result)``, ``failed(job, message)`` and ``progress(job, value)`` carry
    the job number :meth:`submit` returned. ``nice`` lowers the worker thread's priority
    (Linux), so a long job yields the CPU to the pen.
    """

    done = Signal(int, object)
    failed = Signal(int, str)
    progress = Signal(int, object)

    def __init__(self, name: str, policy: str = "queue", nice: int = 0) -> None:
        super().__init__()  # no parent, on purpose: see the module docstring
        _ALL.add(self)
        if policy not in ("parallel", "queue", "latest"):
            raise ValueError(f"unknown worker policy {policy!r}")
        self.name, self.policy, self.nice = name, policy, nice
        self._numbers = itertools.count(1)
        self._last = 0
        self._cv = threading.Condition()
        self._pending: deque[tuple[Job, Callable, tuple, dict]] = deque()
        self._running: set[Job] = set()
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        self._loop: threading.Thread | None = None

    # ----- the caller's side --------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
        """Run ``fn(job, *args, **kwargs)`` by the worker's policy; returns the job number."""
        job = Job(self, next(self._numbers))
        self._last = job.number
        if self.policy == "parallel":
            thread = threading.Thread(target=self._run, args=(job, fn, args, kwargs),
                                      name=f"{self.name}-{job.number}", daemon=True)
            with self._cv:
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
                self._running.add(job)
            thread.start()
            return job.number
        with self._cv:
            if self.policy == "latest":
                self._supersede()
            self._pending.append((job, fn, args, kwargs))
            if self._loop is None:
                self._loop = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._loop.start()
            self._cv.notify()
        return job.number

    def cancel(self) -> None:
        """Drop the jobs waiting and ask the running ones to stop (their results are stale)."""
        with self._cv:
            self._supersede()

    def stop_running(self) -> None:
        """Ask the running jobs to stop early but still report what they have (a training
        cancelled keeps, and reports, its best epoch)."""
        with self._cv:
            for job in self._running:
                job.halt.set()

    @property
    def last_job(self) -> int:
        """The number of the newest job submitted (0 before any)."""
        return self._last

    @property
    def busy(self) -> bool:
        """Whether a job is waiting or running."""
        with self._cv:
            return bool(self._pending or self._running)

    def wait(self, seconds: float | None = None) -> bool:
        """Block until every job submitted so far has finished (tests, shutdown); False
        on timeout."""
        with self._cv:
            ok = self._cv.wait_for(lambda: not self._pending and not self._running, seconds)
        return ok

    def close(self, wait: float = 0.0) -> None:
        """Stop: cancel everything and report nothing more (the window is going)."""
        self._closed.set()
        with self._cv:
            self._supersede()
            self._cv.notify_all()
        if wait:
            self.wait(wait)

    # ----- the thread's side --------------------------------------------------------------
    def _supersede(self) -> None:
        for job, *_ in self._pending:
            job.superseded.set()
        self._pending.clear()
        for job in self._running:
            job.superseded.set()
        self._cv.notify_all()

    def _serve(self) -> None:
        self._lower_priority()
        while True:
            with self._cv:
                while not self._pending and not self._closed.is_set():
                    self._cv.wait()
                if self._closed.is_set() and not self._pending:
                    return
                job, fn, args, kwargs = self._pending.popleft()
                self._running.add(job)
            self._run(job, fn, args, kwargs)

    def _run(self, job: Job, fn: Callable, args: tuple, kwargs: dict) -> None:
        if self.policy == "parallel":
            self._lower_priority()
        try:
            result = fn(job, *args, **kwargs)
        except Exception as exc:
            from engine import ConvPadError

            if not isinstance(exc, ConvPadError):
                traceback.print_exception(exc, file=sys.stderr)
            if not job.stale():
                self._emit(self.failed, job.number, describe(exc))
        else:
            if not job.stale():
                self._emit(self.done, job.number, result)
        finally:
            with self._cv:
                self._running.discard(job)
                self._cv.notify_all()

    def _lower_priority(self) -> None:
        # Below the GUI thread for the kernel (Linux: per-thread nice; the threads torch
        # starts from here inherit it), so a long job yields the CPU to the pen.
        if self.nice and hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            except OSError:
                pass

    def _emit(self, signal, *args: Any) -> None:
        if self._closed.is_set():
            return
        try:
            signal.emit(*args)
        except RuntimeError:  # the receiver, and this object's wrapper with it, is gone
            self._closed.set()
