"""The class server: students' phones send drawings, the live model answers them.

Threads: the **server** thread runs aiohttp on its own asyncio loop (connections, token,
rate limit, body size; never the model or the disk). A **prepare** thread checks a
drawing's JSON and paints it into a canvas raster. One **classify** thread hands
everything waiting (up to ``max_batch``) to ``classify`` in one call, so 300 drawings
arriving at once cost a few batched forward passes. A **store** pool (2 threads, as
fsyncs overlap) saves each drawing, calls ``on_drawing(drawing)``, then
answers the student: nobody is answered before the drawing is on disk (see
:mod:`.store`). A drawing with no ink on the canvas, or in which the model sees none
(``Answer("", {})`` or NaN probabilities), gets 422 and is not kept.

Against a crowd or a hostile network: at most ``max_connections`` open connections
(newcomers wait in the listen queue until one closes; every reply closes its
connection), at most ``per_address`` of them from one address (more are closed at
once: one device cannot hold the room's slots); headers must arrive within
``header_timeout`` seconds and a body within ``body_timeout``, so stalled clients are
dropped without holding up others; at most ``rate_limit`` drawing requests per address.
Nothing is printed: logs go to the ``convpad.class_server`` logger; aiohttp's access
log is off.

Behind the pen: these threads share the window's interpreter lock (see :mod:`.pacing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import logging
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from aiohttp import web

from app.class_server import protocol
from app.class_server.address import join_url, lan_address
from app.class_server.connections import Handler, PerAddress, read_body, set_up
from app.class_server.pacing import (
    PEN_BATCH,
    PREPARE_THREADS,
    STORE_THREADS,
    PenTurns,
    behind_the_pen,
)
from app.class_server.protocol import MAX_BODY, Answer, DrawingRequest, RequestError
from app.class_server.store import Drawing, make_folder, save
from app.class_server.strokes import PEN_WIDTH, render

log = logging.getLogger("convpad.class_server")
PAGE = Path(__file__).with_name("page")
Classify = Callable[[list[np.ndarray]], list[Answer]]


@dataclass
class _Job:
    """A checked drawing waiting for its answer; ``future`` lives on the server loop."""
    id: str
    request: DrawingRequest
    raster: np.ndarray
    prompt: str | None
    received: datetime
    future: asyncio.Future
    since: float  # time.monotonic() when the drawing came: its wait for the pen


class ClassServer:
    """The web server students draw into; see the module's docstring.

    ``classify(rasters) -> answers`` gets a list of uint8 ``(324, 324)`` rasters (ink
    255 on 0) and returns one :class:`Answer` each, in a worker thread;
    :func:`app.class_server.classifier` makes one from a ConvPad model. ``on_drawing``
    runs in a store thread and must not wait for the thread that calls ``stop()``
    (emit a queued Qt signal, no blocking connection). ``pen_down()`` (any thread)
    says the window's pen is moving and ``pen_gap()`` (any thread) how long until its
    next move is due, in ms: the server's threads then take turns, a small piece at a
    time in the gaps between the pen's moves, resting four times as long as each took,
    so the pen's events find Python's interpreter lock free (:class:`.pacing.PenTurns`);
    with the pen up it works flat out.
    """

    def __init__(self, classify: Classify, store_dir: str | Path, host: str | None = None,
                 port: int = 0, on_drawing: Callable[[Drawing], object] | None = None,
                 pen_width: float = PEN_WIDTH, *, max_connections: int = 200,
                 per_address: int = 32,
                 rate_limit: tuple[int, float] = (10, 10.0), header_timeout: float = 5.0,
                 body_timeout: float = 10.0, answer_timeout: float = 60.0,
                 max_batch: int = 64, pen_down: Callable[[], bool] | None = None,
                 pen_gap: Callable[[], float] | None = None) -> None:
        self._classify, self._on_drawing = classify, on_drawing
        self._turns = PenTurns(pen_down or (lambda: False), pen_gap)
        self.store_dir = Path(store_dir)
        self._host, self._port, self._pen_width = host, port, pen_width
        self._max_connections, self._rate = max_connections, rate_limit
        self._per_address_cap = per_address
        self._header_timeout, self._body_timeout = header_timeout, body_timeout
        self._answer_timeout, self._max_batch = answer_timeout, max_batch
        self._prompt: str | None = None  # one attribute: reads and writes are atomic
        self._thread: threading.Thread | None = None
        self._running, self.url = False, None

    @property
    def prompt(self) -> str | None:
        """The task shown above every student's canvas (None: none); set from any thread."""
        return self._prompt

    @prompt.setter
    def prompt(self, text: str | None) -> None:
        if text is not None and not isinstance(text, str):
            raise TypeError(f"a prompt is text or None, not {type(text).__name__}")
        self._prompt = (text.strip() or None) if text else None

    # ----- start and stop (any thread) -------------------------------------------------
    def start(self) -> str:
        """Start serving; returns the join URL. A server runs once (a new token each
        run: make a new one to serve again). Raises OSError naming the address when it
        cannot listen, WriteError when ``store_dir`` cannot be created."""
        if self._thread is not None:
            raise RuntimeError("a class server runs once; make a new ClassServer")
        make_folder(self.store_dir)
        self._token = secrets.token_urlsafe(24)  # 192 bits, new every run
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._prepare = ThreadPoolExecutor(
            PREPARE_THREADS, thread_name_prefix="convpad-class-prepare",
            initializer=behind_the_pen)
        self._store = ThreadPoolExecutor(
            STORE_THREADS, thread_name_prefix="convpad-class-store",
            initializer=behind_the_pen)
        self._running, self._failed, ready = True, None, threading.Event()
        threading.Thread(target=self._classify_loop, daemon=True,
                         name="convpad-class-classify").start()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True,
                                        name="convpad-class-server")
        self._thread.start()
        ready.wait()
        if (failed := self._failed) is not None:
            self.stop()
            raise failed
        return self.url

    def stop(self) -> None:
        """Stop at once: the listening socket and every connection close, no more
        ``on_drawing`` calls. Safe to call twice, or before ``start``."""
        if not self._running:
            return
        self._running = False
        if self._failed is None:
            try:
                asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(5)
            except Exception:
                log.exception("the class server did not close cleanly")
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        # The classify thread ends after its batch; not waited for, as a slow model
        # must not hold stop() up (its answers then go nowhere).
        self._queue.put(None)
        self._prepare.shutdown(wait=True, cancel_futures=True)
        self._store.shutdown(wait=True, cancel_futures=True)
        self.url = None

    # ----- the server loop -------------------------------------------------------------
    def _serve(self, ready: threading.Event) -> None:
        behind_the_pen()
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._open())
        except Exception as exc:
            self._failed = exc
        ready.set()
        if self._failed is None:
            self._loop.run_forever()
        self._loop.close()

    async def _open(self) -> None:
        self._live: set[Handler] = set()
        self._slots = asyncio.Semaphore(self._max_connections)
        self._per_address = PerAddress(self._per_address_cap)
        self._waiting: set[asyncio.Future] = set()
        self._limit = protocol.RateLimit(*self._rate)
        self._count = 0
        self._files = {n: (PAGE / n).read_bytes() for n in ("index.html", "pad.js", "pad.css")}
        errors = web.middleware(lambda request, handler: self._errors(request, handler))
        app = web.Application(middlewares=[errors], client_max_size=MAX_BODY)
        app.add_routes([web.get("/", self._index), web.get("/pad.js", self._asset),
                        web.get("/pad.css", self._asset), web.get("/api/prompt", self._get_prompt),
                        web.post("/api/drawings", self._post_drawing)])
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        bind = self._host or "0.0.0.0"
        try:
            self._socket = socket.create_server((bind, self._port), backlog=1024)
        except OSError as exc:
            await self._runner.cleanup()
            raise OSError(exc.errno, protocol.cannot_listen(bind, self._port, exc)) from None
        self._socket.setblocking(False)
        self._acceptor = asyncio.create_task(self._accept())
        port = self._socket.getsockname()[1]
        self.url = join_url(self._host or lan_address(), port, self._token)

    async def _accept(self) -> None:
        """Accept a connection whenever one of ``max_connections`` slots is free (asyncio's
        ``create_server`` accepts without limit): over the cap, newcomers wait in the
        system's listen queue, to be answered a moment later, not refused."""
        loop = asyncio.get_running_loop()
        while True:
            await self._slots.acquire()
            try:  # returns at once while connections are queued: a burst costs no waits
                conn, peer = await loop.sock_accept(self._socket)
            except OSError as exc:  # out of file handles …: try again shortly
                self._slots.release()
                log.warning("class server: cannot accept a connection (%s)", exc)
                await asyncio.sleep(0.1)
                continue
            address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
            if not self._per_address.take(address):
                conn.close()  # this device holds its share already: no slot for more
                self._slots.release()
                log.info("class server: %s holds %d connections; one more closed", address,
                         self._per_address_cap)
                continue
            # keepalive_timeout also closes a connection whose request headers have not
            # all arrived by then (aiohttp starts that timer when the connection opens).
            handler = Handler(self._live, self._slots, self._runner.server, loop=loop,
                               keepalive_timeout=self._header_timeout, access_log=None,
                               lingering_time=1.0, address=address,
                               per_address=self._per_address)
            # A task each, so a burst of connections is not set up one loop turn apiece.
            task = loop.create_task(loop.connect_accepted_socket(lambda h=handler: h, conn))
            task.add_done_callback(functools.partial(set_up, handler, conn))

    async def _close(self) -> None:
        self._acceptor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._acceptor
        self._socket.close()
        for handler in list(self._live):
            handler.force_close()
        for future in list(self._waiting):
            future.cancel()
        await self._runner.cleanup()

    # ----- requests (on the loop) -------------------------------------------------------
    async def _errors(self, request: web.Request, handler) -> web.StreamResponse:
        """Every refusal as JSON ``{"error": …}``; the page's headers on every reply."""
        try:
            response = await handler(request)
        except RequestError as exc:
            response = web.json_response({"error": str(exc)}, status=exc.status)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            text = protocol.refusal(exc.status, request.method, request.path, exc.reason)
            response = web.json_response({"error": text}, status=exc.status)
        except ConnectionError:  # the client went away: nobody to answer
            raise
        except Exception:
            log.exception("class server: %s %s failed", request.method, request.path)
            response = web.json_response({"error": protocol.BUG}, status=500)
        response.headers.update(protocol.HEADERS)
        response.force_close()  # no keep-alive: a phone's polling would hold a slot for good
        return response

    def _check_token(self, request: web.Request) -> None:
        expected = self._token.encode()
        given = (request.query.get("k", ""), request.headers.get("X-ConvPad-Token", ""))
        if not any(secrets.compare_digest(g.encode(), expected) for g in given):
            raise RequestError(403, protocol.FORBIDDEN)

    async def _index(self, request: web.Request) -> web.Response:
        self._check_token(request)
        prompt = self.prompt
        # The prompt goes in last: a prompt that says "{{PEN}}" stays as the teacher typed it.
        page = (self._files["index.html"].decode()
                .replace("{{HIDDEN}}", "" if prompt else "hidden")
                .replace("{{PEN}}", f"{self._pen_width:.6g}")
                .replace("{{PROMPT}}", html.escape(prompt or "")))
        return web.Response(text=page, content_type="text/html")

    async def _asset(self, request: web.Request) -> web.Response:
        name = request.path.lstrip("/")
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return web.Response(body=self._files[name], content_type=kind, charset="utf-8")

    async def _get_prompt(self, request: web.Request) -> web.Response:
        self._check_token(request)
        return web.json_response({"prompt": self.prompt})

    async def _post_drawing(self, request: web.Request) -> web.Response:
        over = self._limit.hit(request.remote or "")
        self._check_token(request)
        if over:
            raise RequestError(429, protocol.too_many(*self._rate))
        body = await read_body(request, self._body_timeout)
        received, prompt, since = datetime.now(UTC), self.prompt, time.monotonic()
        loop = asyncio.get_running_loop()
        checked, raster = await loop.run_in_executor(self._prepare, self._rasterise, body,
                                                     since)
        self._count += 1
        job = _Job(f"{self._count:04d}-{secrets.token_hex(3)}", checked, raster, prompt,
                   received, loop.create_future(), since)
        self._waiting.add(job.future)
        job.future.add_done_callback(self._waiting.discard)
        self._queue.put(job)
        try:
            drawing = await asyncio.wait_for(job.future, self._answer_timeout)
        except TimeoutError:
            raise RequestError(504, protocol.no_answer(self._answer_timeout)) from None
        answer = drawing.answer
        return web.json_response({"id": drawing.id, "class": answer.label,
                                  "probabilities": answer.probabilities})

    def _rasterise(self, body: bytes, since: float) -> tuple[DrawingRequest, np.ndarray]:
        """Prepare pool: the checked request and its raster."""
        with self._turns.turn("prepare", since):
            checked = protocol.parse_drawing(body)
            raster = render(checked.strokes, checked.width, checked.height, self._pen_width)
        if not raster.any():
            raise RequestError(422, protocol.OFF_CANVAS)
        return checked, raster

    # ----- workers ----------------------------------------------------------------------
    def _classify_loop(self) -> None:
        """Classify thread: everything waiting, in batches of up to ``max_batch``."""
        behind_the_pen()
        while (job := self._queue.get()) is not None:
            jobs = [job]
            most = PEN_BATCH if self._turns.pen_down() else self._max_batch
            while len(jobs) < most:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._queue.put(None)  # stop after this batch
                    break
                jobs.append(job)
            try:
                with self._turns.turn("classify", min(j.since for j in jobs)):
                    answers = list(self._classify([j.raster for j in jobs]))
                if len(answers) != len(jobs):
                    raise ValueError(f"classify returned {len(answers)} answers for "
                                     f"{len(jobs)} drawings")
            except Exception as exc:
                log.exception("class server: classify failed")
                for j in jobs:
                    self._settle(j, RequestError(500, protocol.classify_failed(exc)))
                continue
            for j, answer in zip(jobs, answers):
                try:
                    self._store.submit(self._finish, j, answer)
                except RuntimeError:  # stopped meanwhile
                    return

    def _finish(self, job: _Job, answer: Answer) -> None:
        """Store pool: save the drawing, tell the window, answer the student."""
        try:
            checked = protocol.check_answer(answer)
            if checked is None:
                self._settle(job, RequestError(422, protocol.NO_INK))
                return
            drawing = Drawing(id=job.id, name=job.request.name, raster=job.raster,
                              answer=checked, prompt=job.prompt, received=job.received,
                              png_path=self.store_dir / f"{job.id}.png")
            with self._turns.turn("store", job.since):
                save(drawing, job.request)
        except Exception as exc:  # a full disk (WriteError), or a bug in classify's answer
            log.error("class server: drawing %s: %s", job.id, exc,
                      exc_info=not isinstance(exc, OSError))
            self._settle(job, RequestError(500, protocol.not_kept(exc)))
            return
        # The window hears first, so the wall has the drawing once the phone shows the answer.
        if self._running and self._on_drawing is not None:
            try:
                self._on_drawing(drawing)
            except Exception:
                log.exception("class server: on_drawing failed for drawing %s", job.id)
        self._settle(job, drawing)

    def _settle(self, job: _Job, result: Drawing | Exception) -> None:
        """Resolve ``job``'s future on the loop (from any thread); a no-op once stopped."""
        with contextlib.suppress(RuntimeError):  # the loop is closed
            self._loop.call_soon_threadsafe(_resolve, job.future, result)


def _resolve(future: asyncio.Future, result: Drawing | Exception) -> None:
    if not future.done():  # else cancelled: the server stopped, or the wait timed out
        (future.set_exception if isinstance(result, Exception) else future.set_result)(result)
