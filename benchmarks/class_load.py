"""A class sending at once: 60 phones × 5 drawings, all in flight together, on loopback.

The real digits model answers (``engine.load_model("digits", device="cpu")`` through
``app.class_server.classifier``) and every drawing is saved as in class. The phones run in
a child process (their own interpreter, so they do not share the server's GIL) and time
each drawing from sending to its answer. Each phone has a loopback address of its own
(127.0.R.N, where the system allows it), so the per-address rate limit stays on as in
class; elsewhere the limit is lifted and the output says so.

The floor is the same drawings classified in one ``classify`` call, no HTTP, no disk:
what the model alone costs. Target: p95 ≤ 1 s on a 2-core machine.

    python benchmarks/class_load.py [--phones 60] [--each 5] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.class_server import ClassServer, classifier
from app.class_server.strokes import render

SIDE = 340  # a phone's canvas, CSS pixels


def digit_strokes(digit: int, rng: np.random.Generator) -> list[list[list[float]]]:
    """A hand-drawn-looking 0, 1 or 7 as a phone sends it: ~80 points, some jitter."""
    t = np.linspace(0, 1, 80)
    if digit == 0:
        a = 2 * np.pi * t
        pts = [np.c_[0.5 + 0.22 * np.sin(a), 0.5 - 0.32 * np.cos(a)]]
    elif digit == 1:
        pts = [np.c_[0.5 + 0.03 * t, 0.18 + 0.64 * t]]
    else:
        top, down = t[:30], t[30:]
        pts = [np.c_[0.28 + 0.44 * top / top[-1], np.full_like(top, 0.2)],
               np.c_[0.72 - 0.25 * (down - down[0]) / (1 - down[0]),
                     0.2 + 0.62 * (down - down[0]) / (1 - down[0])]]
    shift = rng.normal(0, 0.03, 2)
    return [np.round((p + shift + rng.normal(0, 0.003, p.shape)) * SIDE, 1).tolist()
            for p in pts]


def aliases() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


# ----- the phones (child process) ------------------------------------------------------
async def _phones(url: str, bodies: list[list[bytes]], addresses: list[str | None]):
    import aiohttp

    post = url.replace("/?k=", "/api/drawings?k=")
    timeout = aiohttp.ClientTimeout(total=60)

    async def one(session, body: bytes):
        t0 = time.perf_counter()
        try:
            async with session.post(post, data=body, headers={
                    "Content-Type": "application/json"}) as r:
                reply = await r.json(content_type=None)
                return r.status, time.perf_counter() - t0, reply.get("class")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__, time.perf_counter() - t0, None

    sessions = [aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(
        limit=len(bodies[0]), local_addr=(a, 0) if a else None)) for a in addresses]
    try:
        return await asyncio.gather(*(one(s, b) for s, phone in zip(sessions, bodies)
                                      for b in phone))
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


def phones(url: str, bodies: list[list[bytes]], addresses: list[str | None], out) -> None:
    out.send(asyncio.run(_phones(url, bodies, addresses)))


# ----- the measurement ------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phones", type=int, default=60)
    ap.add_argument("--each", type=int, default=5, help="drawings each phone sends at once")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from engine import load_model

    model = load_model("digits", device="cpu")
    batches: list[tuple[int, float]] = []
    base = classifier(model)

    def classify(rasters):
        t0 = time.perf_counter()
        answers = base(rasters)
        batches.append((len(rasters), time.perf_counter() - t0))
        return answers

    rng = np.random.default_rng(0)
    own = aliases()
    limit = (10, 10.0) if own else (10**6, 10.0)
    ctx = multiprocessing.get_context("spawn")
    rounds, floors, cpu = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        server = ClassServer(classify, Path(folder) / "class", host="127.0.0.1",
                             rate_limit=limit, **({} if own else {"per_address": 10**6}))
        url = server.start()
        try:
            for r in range(args.rounds):
                digits = rng.choice([0, 1, 7], (args.phones, args.each))
                strokes = [[digit_strokes(d, rng) for d in row] for row in digits]
                bodies = [[json.dumps({"name": f"phone {i}", "width": SIDE, "height": SIDE,
                                       "strokes": s}).encode() for s in row]
                          for i, row in enumerate(strokes)]
                addresses = [f"127.0.{r + 1}.{i % 250 + 2}" if own else None
                             for i in range(args.phones)]
                recv, send = ctx.Pipe(duplex=False)
                child = ctx.Process(target=phones, args=(url, bodies, addresses, send))
                t0, cpu0 = time.perf_counter(), time.process_time()
                child.start()
                results = recv.recv()
                cpu.append(time.process_time() - cpu0)  # the server's threads (and idle main)
                child.join()
                wall = time.perf_counter() - t0
                rounds.append((results, wall, digits.ravel()))
                # The floor: the same drawings, one classify call, nothing else.
                rasters = [render([np.array(s) for s in d], SIDE, SIDE)
                           for row in strokes for d in row]
                t0 = time.perf_counter()
                base(rasters)
                floors.append(time.perf_counter() - t0)
        finally:
            server.stop()

    times = [t for res, _, _ in rounds for _, t, _ in res]
    statuses = [s for res, _, _ in rounds for s, _, _ in res]
    correct = sum(c == str(d) for res, _, digits in rounds for (_, _, c), d in zip(res, digits))
    n = len(times)
    q = statistics.quantiles(times, n=100, method="inclusive")
    report = {
        "drawings": n, "answered": statuses.count(200), "all_answered": statuses.count(200) == n,
        "refused_or_failed": {str(s): statuses.count(s) for s in set(statuses) if s != 200},
        "p50_s": q[49], "p95_s": q[94], "max_s": max(times),
        "round_wall_s": [round(w, 3) for _, w, _ in rounds],
        "floor_classify_all_s": [round(f, 3) for f in floors],
        "server_cpu_ms_per_drawing": 1000 * sum(cpu) / n,
        "batches": len(batches), "largest_batch": max(b for b, _ in batches),
        "recognised_as_drawn": correct / n, "own_address_per_phone": own,
    }
    print(f"class load: {args.phones} phones × {args.each} drawings at once, "
          f"{args.rounds} rounds, digits model on the CPU")
    print(f"  all answered?      {'yes' if report['all_answered'] else 'NO'} "
          f"({report['answered']}/{n}){'' if own else ' (rate limit lifted: no 127.0.x.y)'}")
    print(f"  answer time        p50 {q[49]:.3f} s   p95 {q[94]:.3f} s   max {max(times):.3f} s"
          f"   (target p95 ≤ 1 s)")
    print(f"  a round, wall      {', '.join(f'{w:.2f} s' for _, w, _ in rounds)}")
    print(f"  floor (model only) {', '.join(f'{f:.2f} s' for f in floors)} for "
          f"{args.phones * args.each} drawings in one call")
    print(f"  server CPU         {report['server_cpu_ms_per_drawing']:.1f} ms a drawing "
          f"(all threads; mostly under one GIL)")
    print(f"  batches            {len(batches)}, largest {report['largest_batch']}")
    print(f"  recognised as drawn {correct}/{n}")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
