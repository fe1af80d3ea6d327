"""Screenshots of the step-through at projector sizes, to look at (issue #9's legibility bar).

Shows :class:`app.stepper.LessonsWindow` at each size, visits every page (a few steps
in, so a window, a patch and products are on screen) and writes
``OUT/stepper_<size>_<nn>_<page>.png``, plus a 960×540 shrink of each
(``…_small.png``) — what the back of the room sees. For each page it prints the
number font size against the 1/45-of-the-screen rule.

    Xvfb :97 -screen 0 1280x720x24 &
    DISPLAY=:97 QT_QPA_PLATFORM=xcb python benchmarks/stepper_shots.py --out /work/shots

``--sizes 1280x720,1920x1080,3840x2160`` picks the sizes (each on an Xvfb screen of
that size: the rule reads the screen's height). ``--model`` picks the network for the
layer pages.

``--bench`` instead runs ``benchmarks/ui_bench.py``'s measurement (pen event → network
→ repainted window, digits, 1080p and 4K) twice in one process: without the
step-through, then with its dock open on conv1 and the animation advancing one step
per pen event — every measured frame repaints a new step, the worst a playing
animation can do (at full speed it steps at most once per 16 ms frame).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

# A few steps into each page: far enough that the output has started filling in.
STEPS_IN = {"1d": 2, "2d": 4, "padding": 7, "stride": 4, "channels": 2, "size": 3}


def settle(app: QApplication, n: int = 6) -> None:
    for _ in range(n):
        app.processEvents()


def shoot(window, out: Path, tag: str, app: QApplication) -> list[tuple[str, float, Path]]:
    panel = window.panel
    rows = []
    for i, key in enumerate(panel.page_keys()):
        panel.go(i)
        page = panel.page
        steps_in = STEPS_IN.get(key, 5)
        if key == "layer_votes":
            steps_in = page.player.count - 1  # the final shares
        page.player.seek(min(steps_in, max(page.player.count - 1, 0)))
        settle(app)
        page.view.grab()  # lays out and paints: number_px is now the drawn size
        path = out / f"stepper_{tag}_{i + 1:02d}_{key}.png"
        window.grab().save(str(path))
        small = path.with_name(path.stem + "_small.png")
        window.grab().scaled(960, 540, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation).save(str(small))
        rows.append((key, page.view.number_px, path))
    return rows


def bench(events: int) -> None:
    """ui_bench's event → repaint times, without and with a playing step-through."""
    import time

    from app.stepper import install
    from benchmarks.ui_bench import SIZES, digits_window, measure

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    window = digits_window("stepper_shots")
    rows = {}
    for label, size in SIZES.items():
        rows[(label, "without")] = measure(window, size, events)
    panel, dock = install(window)
    dock.show()
    settle(qapp)
    panel.go(panel.page_keys().index("layer_conv1"))
    player = panel.page.player
    network = window.run_network_now

    def network_and_step() -> None:  # what one animation tick adds to a frame
        network()
        if player.index >= player.count - 1:
            player.seek(0)
        else:
            player.step(1)

    window.run_network_now = network_and_step
    for label, size in SIZES.items():
        rows[(label, "playing")] = measure(window, size, events)
    window.run_network_now = network
    for (label, mode), r in rows.items():
        print(f"{label} {mode:>7}: event→repaint p50 {r['p50']:.2f} ms, p95 {r['p95']:.2f} ms;"
              f" paint floor p50 {r['floor_p50']:.2f} ms; median/floor "
              f"{r['p50'] / r['floor_p50']:.2f}")
    print(f"steps shown while measuring: {player.index} of {player.count} (conv1 map 1)")
    # The GUI-thread work of one animation tick on its own: the next step and a
    # synchronous repaint of the step-through's view, dock at 1080p.
    window.resize(*SIZES["1080p"])
    settle(qapp)
    view = panel.page.view
    ticks = []
    for _ in range(200):
        t0 = time.perf_counter()
        player.step(1) if player.index < player.count - 1 else player.seek(0)
        view.repaint()
        ticks.append((time.perf_counter() - t0) * 1000)
    ticks.sort()
    print(f"one tick (step + repaint of a {view.width()}×{view.height()} view): "
          f"p50 {ticks[100]:.2f} ms, p95 {ticks[190]:.2f} ms")
    window.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/work/shots")
    ap.add_argument("--sizes", default="1280x720")
    ap.add_argument("--model", default="xo-toy")
    ap.add_argument("--bench", action="store_true", help="ui_bench with a playing step-through")
    ap.add_argument("--events", type=int, default=240)
    args = ap.parse_args()
    if args.bench:
        bench(args.events)
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.stepper.panel import LessonsWindow

    window = LessonsWindow(model=args.model)
    for size in args.sizes.split(","):
        w, h = (int(v) for v in size.split("x"))
        window.setGeometry(0, 0, w, h)
        window.setFixedSize(w, h)
        window.show()
        settle(app, 10)
        rule = h / 45
        tag = f"{Path(args.model).name}_{h}p"  # a path names its file, not a folder
        print(f"{size}: numbers must be ≥ {rule:.1f} px")
        for key, px, path in shoot(window, out, tag, app):
            verdict = "ok" if px >= rule - 0.5 else "TOO SMALL"
            print(f"  {key:<16} numbers {px:5.1f} px  {verdict}  {path.name}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
