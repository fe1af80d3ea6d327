"""Class mode's server, spoken to over real HTTP on loopback as a student's phone would.

Every refusal the protocol names (token, size, shape, limits, rate), stalled clients,
the connection cap, a crowd posting at once, and ``stop()``. The model is a tiny rule
(the share of ink), so these tests need neither torch nor Qt.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from app.class_server import Answer, ClassServer

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "app" / "class_server" / "page"
GOOD = {"name": "Ana", "width": 300, "height": 300,
        "strokes": [[[60, 60], [240, 240]], [[240, 60], [60, 240]]]}


def ink_share(rasters: list[np.ndarray]) -> list[Answer]:
    """A stand-in model: "ink" with probability = the share of the raster inked."""
    shares = [float(r.mean() / 255) for r in rasters]
    return [Answer("ink" if p >= 0.5 else "paper", {"ink": p, "paper": 1 - p}) for p in shares]


def aliases() -> bool:
    """Whether this system routes 127.0.0.2 … to loopback (Linux does, macOS does not)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.2", 0))  # what a phone's own address needs
        except OSError:
            return False
    return True


def source(i: int) -> str | None:
    """A loopback address of its own for client ``i``: one phone each."""
    return f"127.0.{i // 250}.{i % 250 + 2}" if aliases() else None


class Client:
    """A phone: plain HTTP/1.1 requests to the server at ``url``, from ``source``."""

    def __init__(self, url: str, source: str | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.source = parts.hostname, parts.port, source
        self.token = parse_qs(parts.query)["k"][0]

    def call(self, method: str, path: str, body: bytes | dict | None = None,
             token: str | None = "query", headers: dict | None = None):
        """``(status, JSON or text, headers)``; ``token``: "query", "header", None or a
        string sent as the query's k. A ``body`` of chunks is sent chunked."""
        body = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = {**(headers or {}), **({"X-ConvPad-Token": self.token}
                                         if token == "header" else {})}
        if token not in (None, "header"):
            path += f"?k={self.token if token == 'query' else token}"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10, source_address=(
            self.source, 0) if self.source else None)
        try:
            conn.request(method, path, body=body, headers=headers,
                         encode_chunked=not isinstance(body, bytes | None))
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        kind = r.getheader("Content-Type", "")
        return r.status, json.loads(data) if "json" in kind else data.decode(), r.headers

    def post(self, body: bytes | dict = GOOD, **kw):
        return self.call("POST", "/api/drawings", body, **kw)


@pytest.fixture
def serve(tmp_path):
    """``serve(classify, **options)``: a started server on loopback, stopped after the
    test; its ``received`` lists what it reported to ``on_drawing``."""
    made = []

    def serve(classify=ink_share, **options) -> ClassServer:
        options = {"on_drawing": (received := []).append, **options}
        s = ClassServer(classify, tmp_path / f"class{len(made)}", host="127.0.0.1", **options)
        s.received = received
        made.append(s)
        s.start()
        return s

    yield serve
    for s in made:
        s.stop()


@pytest.fixture
def server(serve) -> ClassServer:
    """A server with the default limits: tests post little, or from their own address."""
    return serve()


@pytest.fixture
def phone(server) -> Client:
    return Client(server.url)


# ----- the page ---------------------------------------------------------------------------
def test_the_token_is_needed_in_the_query_or_a_header(phone, serve) -> None:
    assert len(phone.token) >= 22 and Client(serve().url).token != phone.token  # ≥ 128 bits
    for token in (None, "wrong", phone.token[:-1]):
        status, reply, _ = phone.call("GET", "/", token=token)
        assert status == 403 and "class key" in reply["error"]
        assert phone.call("GET", "/api/prompt", token=token)[0] == 403
        assert phone.post(token=token)[0] == 403
    assert phone.post(token=None, headers={"X-ConvPad-Token": "nope"})[0] == 403
    assert phone.post(token="header")[0] == 200


def test_the_page_and_unknown_addresses(phone) -> None:
    status, page, headers = phone.call("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for element in ('<canvas id="pad"', '<input id="name"', '<button id="send"',
                    '<button id="clear"', '<output id="answer"', 'id="prompt"'):
        assert element in page
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    status, reply, _ = phone.call("GET", "/admin")
    assert status == 404 and "/admin" in reply["error"]
    status, reply, _ = phone.call("GET", "/api/drawings")
    assert status == 405 and "GET" in reply["error"]
    # Everything the page needs is served by ConvPad, and it loads nothing from elsewhere.
    for name in ("index.html", "pad.js", "pad.css"):
        text = (PAGE / name).read_text()
        assert not re.search(r"https?:|(src|href|action)=\"?//|url\(|@import", text), name
        if name != "index.html":
            status, served, _ = phone.call("GET", f"/{name}", token=None)
            assert status == 200 and served == text
    assert "touch-action: none" in (PAGE / "pad.css").read_text()
    js = (PAGE / "pad.js").read_text()
    assert all(f'"{kind}"' in js for kind in ("pointerdown", "pointermove", "pointerup"))


def test_prompt_is_shown_escaped_and_polled(server, phone) -> None:
    assert phone.call("GET", "/api/prompt")[1] == {"prompt": None}
    assert '<p id="prompt" hidden>' in phone.call("GET", "/")[1]
    server.prompt = "draw a <b>7</b>"
    assert phone.call("GET", "/api/prompt")[1] == {"prompt": "draw a <b>7</b>"}
    page = phone.call("GET", "/")[1]
    assert "draw a &lt;b&gt;7&lt;/b&gt;" in page and "<b>7" not in page
    assert phone.post()[0] == 200
    assert server.received[-1].prompt == "draw a <b>7</b>"
    server.prompt = "type {{PEN}} or {{HIDDEN}}"  # the page's own placeholders, as text
    assert '<p id="prompt" >type {{PEN}} or {{HIDDEN}}</p>' in phone.call("GET", "/")[1]
    server.prompt = None
    assert phone.call("GET", "/api/prompt", token="header")[1] == {"prompt": None}


# ----- drawings ---------------------------------------------------------------------------
def test_a_drawing_is_answered_stored_and_reported(server, phone) -> None:
    status, reply, _ = phone.post()
    assert status == 200 and set(reply) == {"id", "class", "probabilities"}
    p = reply["probabilities"]
    assert all(0 <= v <= 1 for v in p.values()) and sum(p.values()) == pytest.approx(1)
    (d,) = server.received
    assert d.id == reply["id"] and d.name == "Ana" and d.answer.label == reply["class"]
    assert d.raster.shape == (324, 324) and d.raster.dtype == np.uint8
    # The X from corner to corner: ink at the centre, none in the margin's middle.
    assert d.raster[162, 162] == 255 and d.raster[162, 20] == 0
    assert d.png_path.parent == server.store_dir and d.png_path.with_suffix(".json").exists()


def _strokes(n: int, points: int) -> dict:
    return {"width": 300, "height": 300, "strokes": [[[150, 150]] * points] * n}


BAD = [  # (body, words the error must hold)
    (b"not json", "not JSON"), (b"", "not JSON"), (b'{"width": NaN}', "not JSON"),
    (b"[1, 2]", "JSON object"), (b"[" * 100_000 + b"]" * 100_000, "not JSON"),  # too deep
    ({"height": 300, "strokes": [[[1, 1]]]}, "width"),
    ({"width": 300, "strokes": [[[1, 1]]]}, "height"),
    ({"width": 300, "height": 300}, "strokes"),
    ({**GOOD, "width": "300"}, "width"), ({**GOOD, "width": True}, "width"),
    ({**GOOD, "width": 15}, "16…4096"), ({**GOOD, "height": 4097}, "16…4096"),
    ({**GOOD, "strokes": []}, "empty"), ({**GOOD, "strokes": "X"}, "list"),
    ({**GOOD, "strokes": [[]]}, "strokes[0]"),
    ({**GOOD, "strokes": [[[1, 1], [2]]]}, "strokes[0][1]"),
    ({**GOOD, "strokes": [[[1, 1], [2, "3"]]]}, "strokes[0][1]"),
    ({**GOOD, "strokes": [[[1, 1], [2, 3, 4]]]}, "strokes[0][1]"),
    ({**GOOD, "strokes": [[[1, 1], [2, None]]]}, "strokes[0][1]"),
    (b'{"width": 300, "height": 300, "strokes": [[[1, 1e400]]]}', "outside"),
    ({**GOOD, "strokes": [[[1, 1], [-301, 5]]]}, "x = -301"),
    ({**GOOD, "strokes": [[[1, 601]]]}, "y = 601"),
    (_strokes(201, 1), "201 strokes"), (_strokes(100, 201), "20100 points"),
    ({**GOOD, "name": "A" * 41}, "41 characters"),
    ({**GOOD, "name": 7}, "name"), ({**GOOD, "name": ["Ana"]}, "name"),
]


@pytest.mark.parametrize(("body", "words"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_drawings_are_refused_with_a_reason(server, body, words, capfd) -> None:
    phone = Client(server.url, source(BAD.index((body, words))))
    status, reply, _ = phone.post(body)
    assert status == 400 and isinstance(reply["error"], str) and words in reply["error"]
    assert phone.call("GET", "/api/prompt")[0] == 200  # and the server is still there
    assert capfd.readouterr().out == ""  # the server prints nothing


def test_limits_themselves_are_allowed(server) -> None:
    edge = {"name": " Zoë\u202e\x07 Ng ", "width": 16, "height": 4096,
            "strokes": [[[-16, -4096], [32, 8192]]] + [[[8, 8]]] * 199}
    assert Client(server.url, source(1)).post(edge)[0] == 200
    assert server.received[-1].name == "Zoë Ng"  # controls removed, spaces trimmed
    many = _strokes(200, 100)  # 20,000 points
    assert Client(server.url, source(2)).post(many)[0] == 200
    assert Client(server.url, source(3)).post({**GOOD, "name": "é" * 40})[0] == 200
    assert Client(server.url, source(5)).post({**GOOD, "name": "\ud800Al\tí"})[0] == 200
    assert server.received[-1].name == "Alí"


def test_bodies_over_256_kib_are_refused(server) -> None:
    big = b'{"width": 300, "height": 300, "strokes": [[' + b"[1, 1]," * 40_000 + b"[1, 1]]]}"
    assert len(big) > 256 * 1024
    status, reply, _ = Client(server.url, source(4)).post(big)
    assert status == 413 and "256 KiB" in reply["error"]
    # The same without a Content-Length (chunked): refused as it grows.
    chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))
    status, reply, _ = Client(server.url, source(6)).post(chunks)
    assert status == 413 and "256 KiB" in reply["error"]


def test_drawings_without_ink_are_refused_not_kept(server, phone) -> None:
    off = {**GOOD, "strokes": [[[-290, -290], [-280, -200]]]}  # all of it off the canvas
    status, reply, _ = phone.post(off)
    assert status == 422 and "no ink" in reply["error"]
    assert server.received == [] and not any(server.store_dir.iterdir())


def test_model_seeing_no_ink_or_failing_is_an_error_reply(serve) -> None:
    def blind(rasters):
        return [Answer("", {})] * len(rasters)

    def broken(rasters):
        raise RuntimeError("weights not loaded")

    for classify, status, words in ((blind, 422, "no ink"), (broken, 500, "weights not loaded")):
        s = serve(classify)
        code, reply, _ = Client(s.url).post()
        assert code == status and words in reply["error"]
        assert Client(s.url).call("GET", "/api/prompt")[0] == 200
        assert s.received == [] and not list(s.store_dir.iterdir())


# ----- limits on clients ------------------------------------------------------------------
def test_more_than_ten_drawings_in_ten_seconds_from_one_address(server) -> None:
    phone = Client(server.url, source(300))
    for _ in range(9):
        assert phone.post(b"{}")[0] == 400  # refused requests count too
    assert phone.post()[0] == 200  # the 10th
    status, reply, _ = phone.post()
    assert status == 429 and "too many" in reply["error"]
    assert phone.post()[0] == 429
    if aliases():  # another phone is not held up
        assert Client(server.url, source(301)).post()[0] == 200


def _raw(url: str, source_address: str | None = None) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10,
                                    source_address=(source_address, 0) if source_address
                                    else None)


def _closed_by_server(s: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing ``s`` within ``within`` seconds (None: open)."""
    s.settimeout(within)
    data = b""
    try:
        while chunk := s.recv(4096):
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data


def test_stalled_clients_do_not_hold_up_others(serve, capfd) -> None:
    s = serve(header_timeout=1.0, body_timeout=1.0)
    silent = _raw(s.url)  # connects and sends nothing
    slow_head = _raw(s.url)  # sends its headers a byte at a time
    slow_body = _raw(s.url)  # sends its body a byte at a time
    head = iter(b"GET /api/prompt HTTP/1.1\r\nHost: x\r\n")
    slow_body.sendall(f"POST /api/drawings?k={Client(s.url).token} HTTP/1.1\r\nHost: x\r\n"
                      "Content-Length: 500\r\n\r\n{".encode())
    t0 = time.monotonic()
    took = []  # each request's time: one held up by the stalled three waits out 1 s
    for _ in range(5):
        t = time.monotonic()
        assert Client(s.url).call("GET", "/api/prompt")[0] == 200
        took.append(time.monotonic() - t)
        slow_head.sendall(bytes([next(head)]))
        slow_body.sendall(b" ")
        time.sleep(0.1)
    t = time.monotonic()
    assert Client(s.url).post()[0] == 200
    took.append(time.monotonic() - t)
    assert max(took) < 0.9, took
    assert _closed_by_server(silent, 3) == b""
    assert _closed_by_server(slow_head, 3) == b""
    reply = _closed_by_server(slow_body, 3)
    assert reply is not None and b" 408 " in reply.split(b"\r\n")[0]
    assert time.monotonic() - t0 < 4
    for c in (silent, slow_head, slow_body):
        c.close()
    assert capfd.readouterr().out == ""  # timeouts are not printed


def test_two_hundred_connections_at_most(serve) -> None:
    # Ten devices holding 20 connections each (under the 32 one address may hold).
    s = serve(header_timeout=30, **({} if aliases() else {"per_address": 1000}))
    idle = [_raw(s.url, source(i % 10)) for i in range(200)]
    time.sleep(0.3)  # the server accepts them all
    # The 201st waits in the listen queue, not answered and not refused …
    extra = _raw(s.url)
    extra.sendall(f"GET /api/prompt?k={Client(s.url).token} HTTP/1.1\r\nHost: x\r\n\r\n"
                  .encode())
    assert _closed_by_server(extra, 0.5) is None
    # … until a connection closes: then it is answered at once.
    t0 = time.monotonic()
    idle.pop().close()
    reply = _closed_by_server(extra, 5)
    assert time.monotonic() - t0 < 2  # not after a 30 s timeout
    assert reply.startswith(b"HTTP/1.1 200 ") and b'{"prompt": null}' in reply
    for c in (*idle, extra):
        c.close()


def test_one_device_cannot_hold_the_rooms_connections(serve) -> None:
    """One address holds at most ``per_address`` connections: more are closed at once,
    and the room's other devices are served as before."""
    if not aliases():
        pytest.skip("needs loopback addresses of their own (127.0.0.2 …) for two devices")
    s = serve(header_timeout=30, per_address=8)
    held = [_raw(s.url, source(0)) for _ in range(8)]
    time.sleep(0.3)
    extra = _raw(s.url, source(0))
    assert _closed_by_server(extra, 2) == b""  # closed at once, no reply
    assert Client(s.url, source(1)).call("GET", "/api/prompt")[0] == 200
    held.pop().close()  # one of the device's own closes: it may open another
    time.sleep(0.2)
    assert Client(s.url, source(0)).call("GET", "/api/prompt")[0] == 200
    for c in (*held, extra):
        c.close()


def test_a_class_posting_at_once_is_all_answered(serve) -> None:
    batches = []

    def classify(rasters):
        batches.append(len(rasters))
        time.sleep(0.02)  # a forward pass takes time: drawings queue up meanwhile
        return ink_share(rasters)

    s = serve(classify, rate_limit=(10, 10.0) if aliases() else (10_000, 10.0))
    phones = [Client(s.url, source(i)) for i in range(40)]
    with ThreadPoolExecutor(40) as pool:
        replies = list(pool.map(lambda i: phones[i % 40].post(), range(200)))
    assert [r[0] for r in replies] == [200] * 200
    ids = [r[1]["id"] for r in replies]
    assert len(set(ids)) == 200
    assert all(sum(r[1]["probabilities"].values()) == pytest.approx(1) for r in replies)
    assert sorted(d.id for d in s.received) == sorted(ids)
    assert sum(batches) == 200 and max(batches) > 1  # batched, not one by one
    assert len(list(s.store_dir.glob("*.json"))) == 200


def test_stop_closes_the_port_and_every_connection(serve) -> None:
    release = threading.Event()

    def stuck(rasters):
        release.wait(10)
        return ink_share(rasters)

    s = serve(stuck, on_drawing=pytest.fail)
    idle = _raw(url := s.url)
    waiting = ThreadPoolExecutor(1).submit(Client(url).post)
    time.sleep(0.3)  # the drawing is with the (stuck) model
    t0 = time.monotonic()
    s.stop()
    assert time.monotonic() - t0 < 2
    assert _closed_by_server(idle, 2) == b""
    idle.close()
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        waiting.result(5)
    with pytest.raises(ConnectionRefusedError):
        _raw(url)
    s.stop()  # idempotent
    release.set()  # the model answers late: nobody hears of it (on_drawing would fail)
    time.sleep(0.2)
    with pytest.raises(RuntimeError, match="runs once"):
        s.start()


# ----- start-up ---------------------------------------------------------------------------
def test_class_mode_does_not_import_qt() -> None:
    code = ("import sys, app.class_server; "
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'torch'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def test_a_port_in_use_is_named(server, tmp_path) -> None:
    port = urlsplit(server.url).port
    other = ClassServer(ink_share, tmp_path / "other", host="127.0.0.1", port=port)
    with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port} .*another port"):
        other.start()
    other.stop()  # nothing left to stop



@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread priorities are Linux's")
def test_the_server_works_behind_the_pen(server, phone) -> None:
    """The server's threads run at a lower priority than the window's: a class's burst
    of drawings takes every core for a moment, and the pen must not wait for it."""
    from app.class_server import pacing

    assert phone.post()[0] == 200
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    theirs = {t.name.rsplit("_", 1)[0]: os.getpriority(os.PRIO_PROCESS, t.native_id)
              for t in threading.enumerate() if t.name.startswith("convpad-class")}
    assert {"convpad-class-server", "convpad-class-classify", "convpad-class-prepare",
            "convpad-class-store"} <= set(theirs)
    assert all(nice == mine + pacing.NICE or nice == 19 for nice in theirs.values())


@pytest.mark.parametrize("pen_down", [False, True])
def test_while_the_pen_moves_the_server_works_in_small_batches(serve, pen_down) -> None:
    """Pen up: everything waiting in one batch. Pen down: PEN_BATCH at a time, with a
    rest after each, so the window's pen finds the interpreter lock free."""
    from app.class_server import pacing

    batches: list[int] = []
    held: list[int] = []  # the first batch, held at the gate
    gate = threading.Event()

    def classify(rasters):
        held.append(len(rasters))
        gate.wait(10)  # let every drawing queue up behind the first batch
        batches.append(len(rasters))
        return ink_share(rasters)

    s = serve(classify, pen_down=lambda: pen_down, rate_limit=(10**6, 10.0))
    client = Client(s.url)
    with ThreadPoolExecutor(24) as pool:
        replies = [pool.submit(client.post) for _ in range(24)]
        # All 24 either waiting or in the held batch (however many that took: counting
        # the queue alone waited out the clients' timeout when the first batch was big).
        deadline = time.time() + 8
        while s._queue.qsize() + sum(held[:1]) < 24 and time.time() < deadline:
            time.sleep(0.01)
        gate.set()
        assert all(r.result()[0] == 200 for r in replies)
    assert sum(batches) == 24
    if pen_down:
        assert max(batches) <= pacing.PEN_BATCH
    else:
        assert max(batches) > pacing.PEN_BATCH


@pytest.mark.parametrize("pen_down", [False, True])
def test_while_the_pen_moves_the_server_rests_four_times_as_long_as_it_worked(
        monkeypatch, pen_down) -> None:
    """The pen's repaint was 1.6–1.9× its time without the class when the server rested
    as long as it worked; resting four times as long took it under 1.5×. With the pen up
    the server does not rest at all, and no rest is long enough to starve it."""
    from app.class_server import pacing

    rests: list[float] = []
    now = [10.0]
    monkeypatch.setattr(pacing.time, "sleep", rests.append)
    monkeypatch.setattr(pacing.time, "perf_counter", lambda: now[0])
    turns = pacing.PenTurns(lambda: pen_down)  # no pen clock: every gap is long enough

    def work(seconds: float) -> None:
        with turns.turn("classify"):
            now[0] += seconds

    work(0.010)
    work(0.500)  # the rest is capped
    if pen_down:
        assert rests == [pytest.approx(0.040), pytest.approx(pacing.MAX_REST)]
    else:
        assert rests == []


def test_while_the_pen_moves_a_piece_starts_in_a_gap_long_enough_for_it(monkeypatch) -> None:
    """A piece of work waits for the pen's next move when the gap before it is shorter
    than the piece took last time (so the move finds the interpreter lock free), and
    goes ahead after GAP_WAIT if no gap is ever long enough."""
    from app.class_server import pacing

    now = [0.0]
    started: list[float] = []
    for clock in ("perf_counter", "monotonic"):
        monkeypatch.setattr(pacing.time, clock, lambda: now[0])
    monkeypatch.setattr(pacing.time, "sleep", lambda s: now.__setitem__(0, now[0] + s))
    period = 0.008  # a move every 8 ms, at 0, 8, 16 … ms

    def gap_ms() -> float:
        return (period - now[0] % period) * 1000

    turns = pacing.PenTurns(lambda: True, gap_ms)

    def piece(seconds: float) -> None:
        with turns.turn("classify"):
            started.append(now[0])
            now[0] += seconds

    piece(0.001)  # its cost not known yet: taken as 1 ms
    now[0] = 0.0 + 8 * period - 0.0015  # 1.5 ms before a move: 1 ms + margin do not fit
    piece(0.001)
    # It starts just after the move, not in the 1.5 ms before it.
    assert started[1] == pytest.approx(8 * period + 0.0005)
    piece(0.010)  # dearer than any gap:
    piece(0.010)  # it goes ahead after waiting GAP_WAIT
    assert started[3] - (started[2] + 0.010 * (1 + pacing.REST)) == pytest.approx(
        pacing.GAP_WAIT, abs=0.001)
    piece(0.001)  # and then does not wait for gaps while none is seen
    assert started[4] == pytest.approx(started[3] + 0.010 * (1 + pacing.REST))


def test_no_student_waits_longer_than_patience_for_the_pen(monkeypatch) -> None:
    """A drawing that came PATIENCE ago is worked on at once, pen or no pen."""
    from app.class_server import pacing

    now = [100.0]
    slept: list[float] = []
    for clock in ("perf_counter", "monotonic"):
        monkeypatch.setattr(pacing.time, clock, lambda: now[0])
    monkeypatch.setattr(pacing.time, "sleep",
                        lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    turns = pacing.PenTurns(lambda: True, lambda: 0.0)  # the pen leaves no gap at all
    for since in (now[0] - pacing.PATIENCE - 0.1, None):
        slept.clear()
        with turns.turn("store", since):
            now[0] += 0.002
        assert (slept == []) == (since is not None)
