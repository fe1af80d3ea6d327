"""Live latency with the sweep panel visible and a sweep after every stroke.

The real window, offscreen, digits model, with the transform, sweep and record docks
that :func:`app.experiments.install` adds to every window. Several strokes are drawn;
each stroke's release starts a sweep in the worker thread, and the pen then stays up
for ``--gap-ms`` (a hand's pause between strokes, the event loop running) before the
next stroke. A sweep still running when the next stroke begins is dropped (it is of the
old drawing): the run with no pause times that worst case, every sweep overlapping the
next stroke's first events.

Each pen event is timed as in ``benchmarks/ui_bench.py`` — event → ``run_network_now``
→ ``grab`` — plus delivering what the sweep's worker has sent to the sweep panel (a
finished sweep: its plots are redrawn), interleaved with the paint floor (``grab``
alone). Only the panel's queued calls are delivered, not the whole event loop's: a
``processEvents`` per event also repainted the window's changed panels for real, a
second full repaint per event that the floor does not have (this benchmark did that
until 2026-11-28, and its no-sweep baseline read 2.5× the floor where ``ui_bench`` reads
1.9× for the same window). The same strokes are then drawn with the sweep dock hidden
(its panel runs nothing while hidden), as the baseline in the same run.

    python benchmarks/sweep_ui_bench.py [--strokes 6] [--events 120] [--size 1080p]
                                        [--gap-ms 200] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from PySide6.QtCore import QCoreApplication, QEvent, QStandardPaths  # noqa: E402
from PySide6.QtWidgets import QApplication, QDockWidget  # noqa: E402
from ui_bench import (  # noqa: E402
    SIZES,
    on_canvas,
    percentile,
    recorded_stroke,
    send,
    timed_moves,
)


def strokes(window, n: int, events: int, gap_s: float) -> tuple[list[float], list[float]]:
    """Draw ``n`` strokes ``gap_s`` apart; per-event times and paint-floor times."""
    qapp = QApplication.instance()
    sweeps = window.experiments["sweeps"]
    canvas = window.canvas

    def deliver() -> None:
        # What the sweep's worker sent (a finished sweep: its plots are redrawn), without
        # letting the event loop also paint the window: grab() paints it whole, as in
        # ui_bench, and a second, real paint of the panels per event would time two
        # repaints against a floor of one.
        QCoreApplication.sendPostedEvents(sweeps, QEvent.Type.MetaCall)

    per_event, floor = [], []
    for k in range(n):
        canvas.clear()
        pos = on_canvas(canvas, recorded_stroke(events) * 0.8 + 0.1 + 0.02 * (k % 3))
        send(canvas, QEvent.Type.MouseButtonPress, pos[0])
        times, floors = timed_moves(window, pos[1:], deliver)
        per_event += times
        floor += floors
        send(canvas, QEvent.Type.MouseButtonRelease, pos[-1])
        qapp.processEvents()  # the stroke ends: the sweep starts in its worker
        window.run_network_now()
        until = time.perf_counter() + gap_s  # the pen is up: the event loop runs
        while time.perf_counter() < until:
            qapp.processEvents()
            time.sleep(0.002)
    return per_event, floor


def summary(per_event: list[float], floor: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(per_event), 2),
        "p95": round(percentile(per_event, 95), 2),
        "floor_p50": round(statistics.median(floor), 2),
        "median_over_floor": round(statistics.median(per_event) / statistics.median(floor), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=6)
    ap.add_argument("--events", type=int, default=120)
    ap.add_argument("--size", default="1080p", choices=SIZES)
    ap.add_argument("--gap-ms", type=float, default=200.0,
                    help="pen-up pause between strokes (the other sweep run uses 0)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    qapp = QApplication.instance() or QApplication([])
    QStandardPaths.setTestModeEnabled(True)
    from benchmarks.ui_bench import digits_window

    window = digits_window("sweep_ui_bench")
    parts = window.experiments  # the window installs them
    panel = parts["sweeps"]
    shown: list[object] = []
    panel.shown_sweep.connect(shown.append)
    window.resize(*SIZES[args.size])
    window.show()
    for _ in range(5):
        qapp.processEvents()
    dock = window.findChild(QDockWidget, "dock_sweeps")
    results = {}
    runs = (("sweeps", True, args.gap_ms), ("sweeps, no pause", True, 0.0),
            ("no sweeps", False, args.gap_ms))
    for label, visible, gap_ms in runs:
        dock.setVisible(visible)
        for _ in range(5):
            qapp.processEvents()
        before = len(shown)
        per_event, floor = strokes(window, args.strokes, args.events, gap_ms / 1000)
        deadline = time.time() + 30  # let the last sweep land before the next run
        while panel.runner.busy and time.time() < deadline:
            qapp.processEvents()
            time.sleep(0.005)
        qapp.processEvents()
        results[label] = summary(per_event, floor) | {"sweeps_shown": len(shown) - before,
                                                   "gap_ms": gap_ms}
    panel.runner.close()
    parts["recording"].close()
    window.close()
    if args.json:
        print(json.dumps({"size": args.size, "events": args.events, "strokes": args.strokes,
                          "load_average": round(os.getloadavg()[0], 2), "results": results}))
        return 0
    import torch

    print(f"{args.size}, {args.strokes} strokes × {args.events} events, torch threads "
          f"{torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    for label, r in results.items():
        print(f"{label:16} (pause {r['gap_ms']:.0f} ms) event→repaint p50 {r['p50']:.2f} ms, "
              f"p95 {r['p95']:.2f} ms; "
              f"paint floor p50 {r['floor_p50']:.2f} ms; median/floor "
              f"{r['median_over_floor']:.2f}; sweeps shown {r['sweeps_shown']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
