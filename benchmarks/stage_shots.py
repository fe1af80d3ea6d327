"""Screenshots of the classroom stage, every step of every model, and its frame time.

Opens the stage full screen in a window, feeds it a typical drawing per model (the
lecture's X for the toy, a drawn X for the X/O CNN, a drawn 7 for digits), steps
through every stage and page, and saves each as PNG plus a 960×540 shrink — the size
at which everything on it must still be readable (STYLE.md §17). It also prints, per
stage, the time of set_trace + a synchronous repaint (median of repeated runs), and
any text that is smaller than 1/45 of the height, sticks out of its box or overlaps.

    Xvfb :99 -screen 0 1920x1080x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb python benchmarks/stage_shots.py --out /work/shots
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SMALL = (960, 540)


def drawn(strokes: list[list[tuple[float, float]]], size: int = 324, width: int = 26) -> np.ndarray:
    """Pen strokes (fractions of the canvas) rendered as ink in [0, 1], like the canvas."""
    img = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(img)
    for stroke in strokes:
        pts = [(x * size, y * size) for x, y in stroke]
        d.line(pts, fill=255, width=width, joint="curve")
        for x, y in (pts[0], pts[-1]):
            d.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(img, np.float32) / 255.0


def inputs() -> dict[str, np.ndarray]:
    from engine import PRESETS

    g = PRESETS["X (lecture)"]
    return {
        "xo-toy": np.kron((g > 0).astype(np.float32), np.ones((36, 36), np.float32)),
        "xo": drawn([[(0.22, 0.2), (0.78, 0.8)], [(0.78, 0.2), (0.22, 0.8)]]),
        "digits": drawn([[(0.25, 0.22), (0.75, 0.22), (0.45, 0.82)]]),
    }


def problems(stage, height: int) -> list[str]:
    """Texts below 1/45 of the height, outside their box, or overlapping another."""
    out = []
    texts = stage.shown_texts() + stage.strip.shown
    for s in texts:
        if s.px < height / 45:
            out.append(f"small {s.px}px: {s.text!r}")
        if not s.cell.adjusted(-0.5, -0.5, 0.5, 0.5).contains(s.rect):
            out.append(f"sticks out: {s.text!r}")
    view = stage.shown_texts()
    for a in range(len(view)):
        for b in range(a + 1, len(view)):
            if view[a].rect.intersected(view[b].rect).width() > 0.5 and \
                    view[a].rect.intersected(view[b].rect).height() > 0.5:
                out.append(f"overlap: {view[a].text!r} / {view[b].text!r}")
    return out


def ocr_numbers(stage, small_png: str, scale: float,
                origin: tuple[float, float] = (0.0, 0.0)) -> tuple[int, int]:
    """How many of the painted numbers tesseract reads back from the 960×540 shrink.

    Each number's cell is cut out of the shrunk screenshot, turned dark-on-light (white
    digits on a dark cell are negated: tesseract reads only dark text) and read alone.
    A minus read as a long dash and a highlight frame read as a bracket count as read.
    ``origin`` is where the stage's top-left is in the screenshot (a whole window's).
    """
    import shutil
    import subprocess
    import tempfile

    from PIL import ImageOps

    numbers = [s for s in stage.shown_numbers() if s.role == "number"]
    if not numbers or not shutil.which("tesseract"):
        return 0, len(numbers)
    img = Image.open(small_png).convert("L")
    y0 = stage.view.y()
    crops = []
    for s in numbers:
        pad = s.rect.height() * 0.15  # the text's own box: no grid lines, no neighbours
        inset = min(s.cell.width(), s.cell.height()) * 0.08  # clear of the grid lines
        r = s.rect.adjusted(-pad, -pad, pad, pad).intersected(
            s.cell.adjusted(inset, inset, -inset, -inset))
        ox, oy = origin
        box = (int((r.left() + ox) * scale), int((r.top() + y0 + oy) * scale),
               int((r.right() + ox) * scale + 1), int((r.bottom() + y0 + oy) * scale + 1))
        cell = img.crop(box)
        px = np.asarray(cell, np.float32)
        lo, med, hi = np.percentile(px, [2, 50, 98])
        if med - lo < hi - med:  # the background is the dark side: light text
            cell = ImageOps.invert(cell)
        cell = ImageOps.autocontrast(cell)
        crops.append(cell.resize((cell.width * 3, cell.height * 3), Image.LANCZOS))
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, c in enumerate(crops):
            sheet = Image.new("L", (c.width + 40, c.height + 40), 255)
            sheet.paste(c, (20, 20))
            sheet.save(f"{tmp}/{k}.png")
            lines.append(subprocess.run(["tesseract", f"{tmp}/{k}.png", "-", "--psm", "7"],
                                        capture_output=True, text=True).stdout.strip())
    def same(read: str, text: str) -> bool:
        # A long minus comes back as a dash or two; an amber highlight frame as a bracket.
        read = read.replace(" ", "").replace("—-", "-").replace("-—", "-").replace("—", "-")
        return read.strip("[]|(),'‘’") == text.replace(" ", "").replace("\u2212", "-")

    read = sum(1 for s, ln in zip(numbers, lines) if same(ln, s.text))
    if os.environ.get("OCR_DEBUG"):
        print([(s.text, ln) for s, ln in zip(numbers, lines) if not same(ln, s.text)])
    return read, len(numbers)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/work/shots")
    ap.add_argument("--size", default="", help="WxH instead of full screen")
    ap.add_argument("--models", default="xo-toy,xo,digits")
    ap.add_argument("--repeat", type=int, default=30, help="timed runs per stage")
    ap.add_argument("--blank", action="store_true", help="also shoot the empty canvas")
    ap.add_argument("--ocr", action="store_true", help="read the numbers back with tesseract")
    args = ap.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMainWindow

    from app.stage import Stage
    from engine import load_model

    qapp = QApplication.instance() or QApplication(sys.argv)
    win = QMainWindow()
    stage = Stage()
    win.setCentralWidget(stage)
    if args.size:
        w, h = (int(v) for v in args.size.split("x"))
        win.resize(w, h)
        win.show()
    else:
        # Full screen; without a window manager (bare Xvfb) also ask for the screen's size.
        win.setGeometry(qapp.primaryScreen().geometry())
        win.showFullScreen()
    for _ in range(20):
        qapp.processEvents()
        time.sleep(0.02)
    w, h = stage.width(), stage.height()
    tag = f"{w}x{h}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"stage {w}×{h} @ dpr {stage.devicePixelRatioF():g}")
    drawings = inputs()
    for name in args.models.split(","):
        m = load_model(name, device="cpu")
        ink = drawings[name]
        trace = m.trace(m.preprocess(ink, invert=False))
        empty = m.trace(m.preprocess(np.zeros_like(ink), invert=False))
        stage.set_trace(trace, blank=False)
        stage.first_stage()
        qapp.processEvents()
        for i, title in enumerate(stage.stage_titles()):
            stage.go(i, 0)
            for page in range(stage.page_count):
                stage.go(i, page)
                qapp.processEvents()
                times = []
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    stage.set_trace(trace, blank=False)
                    stage.view.repaint()
                    times.append(time.perf_counter() - t0)
                base = out / f"{name}_{tag}_{i + 1:02d}_{page + 1}"
                img = stage.grab().toImage()
                img.save(f"{base}.png")
                img.scaled(*SMALL, Qt.AspectRatioMode.IgnoreAspectRatio,
                           Qt.TransformationMode.SmoothTransformation).save(f"{base}_960.png")
                bad = problems(stage, h)
                nums = len(stage.shown_numbers())
                ocr = ""
                if args.ocr:
                    read, total = ocr_numbers(stage, f"{base}_960.png", SMALL[0] / w)
                    ocr = f"  OCR {read}/{total}"
                print(f"{name:7s} {i + 1:2d}.{page + 1} {statistics.median(times) * 1e3:6.2f} ms"
                      f"  {nums:4d} numbers{ocr}  {title}" + (f"  !! {bad[:4]}" if bad else ""))
                if args.blank:
                    stage.set_trace(empty, blank=True)
                    qapp.processEvents()
                    stage.view.repaint()
                    stage.grab().toImage().scaled(
                        *SMALL, Qt.AspectRatioMode.IgnoreAspectRatio,
                        Qt.TransformationMode.SmoothTransformation).save(f"{base}_blank_960.png")
                    stage.set_trace(trace, blank=False)
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
