"""Screenshots of the real window on the classroom stage: every step, as the room sees it.

Opens ConvPad full screen on the screen it is given (Xvfb at 1280×720, 1920×1080 or
3840×2160), puts a drawing on the canvas, and steps through every stage and page with
the presenter's keys, saving each as a PNG and a 960×540 shrink (the back row). For each
shot it prints what the house rules ask of the stage (STYLE.md §17, issue #20):

- the canvas's share of the screen's height (≥ 45 %);
- the tallest band of the screen with nothing on it (≤ 20 %);
- with ``--ocr``, how many of the numbers painted tesseract reads back from the shrink.

``--stepper`` photographs the stage's step-through instead (S on the stage), every
page a few steps in, and prints the smallest caption, number and control text on each
page against the stage's 1/45-of-the-screen rule, and whether the player's controls
all fit on screen.

    Xvfb :99 -screen 0 1920x1080x24 & sleep 1
    DISPLAY=:99 QT_QPA_PLATFORM=xcb XDG_CONFIG_HOME=$(mktemp -d) XDG_DATA_HOME=$(mktemp -d) \\
        python benchmarks/window_shots.py --out out/shots [--light] [--ocr]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SMALL = (960, 540)


def settle(qapp, seconds: float = 0.15) -> None:
    end = time.time() + seconds
    while time.time() < end:
        qapp.processEvents()
        time.sleep(0.01)


def empty_band(image, background: tuple[int, int, int]) -> float:
    """The tallest run of rows holding nothing but the background, as a share of height."""
    a = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    a = a[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., 2::-1]
    plain = (np.abs(a.astype(int) - np.array(background)).max(axis=2) <= 8).all(axis=1)
    best = run = 0
    for row in plain:
        run = run + 1 if row else 0
        best = max(best, run)
    return best / image.height()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/shots")
    ap.add_argument("--models", default="xo-toy,digits")
    ap.add_argument("--light", action="store_true", help="the stage's light look")
    ap.add_argument("--ocr", action="store_true", help="read the numbers back (tesseract)")
    ap.add_argument("--stepper", action="store_true", help="the stage's step-through")
    args = ap.parse_args()
    if args.stepper:
        return stepper_shots(args)

    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    import app
    from benchmarks.stage_shots import inputs, ocr_numbers

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    screen = qapp.primaryScreen().geometry()
    tag = f"{screen.width()}x{screen.height()}" + ("_light" if args.light else "")
    worst_canvas, worst_band, ocr_read, ocr_all = 1.0, 0.0, 0, 0
    for name in args.models.split(","):
        window = app.create_main_window(model=name)
        window.set_presentation(True)
        if args.light:
            window.stage.set_dark(False)
        deadline = time.time() + 60
        while (window.model is None or window.model.name != name) and time.time() < deadline:
            qapp.processEvents()
        window.canvas.set_ink(inputs()[name])
        window.run_network_now()
        settle(qapp, 0.5)
        window.presentation.key(Qt.Key.Key_Home)
        shot = 0
        while True:
            settle(qapp)
            shot += 1
            image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
            base = out / f"{name}_{tag}_{shot:02d}"
            image.save(f"{base}.png")
            image.scaled(*SMALL, Qt.AspectRatioMode.IgnoreAspectRatio,
                         Qt.TransformationMode.SmoothTransformation).save(f"{base}_960.png")
            canvas = window.canvas.drawing_rect().height() / screen.height()
            bg = window.stage._look.background.lstrip("#")
            band = empty_band(image, tuple(int(bg[k:k + 2], 16) for k in (0, 2, 4)))
            worst_canvas, worst_band = min(worst_canvas, canvas), max(worst_band, band)
            ocr = ""
            if args.ocr:
                stage = window.stage
                at = stage.mapTo(window, QPoint(0, 0))
                read, total = ocr_numbers(stage, f"{base}_960.png", SMALL[0] / screen.width(),
                                          (at.x(), at.y()))
                ocr_read, ocr_all = ocr_read + read, ocr_all + total
                ocr = f"  OCR {read}/{total}"
            s = window.stage
            print(f"{name:7s} {shot:2d} step {s.stage_index + 1}.{s.page + 1}  canvas "
                  f"{canvas:.0%} of the height  largest empty band {band:.0%}{ocr}  "
                  f"{s.stage_titles()[s.stage_index][:60]}", flush=True)
            before = (s.stage_index, s.page)
            window.presentation.key(Qt.Key.Key_PageDown)
            if (s.stage_index, s.page) == before:
                break
        window.close()
        window.deleteLater()
        settle(qapp, 0.2)
    print(f"{tag}: smallest canvas {worst_canvas:.0%} of the height (≥ 45 %), largest empty "
          f"band {worst_band:.0%} (≤ 20 %)"
          + (f", OCR {ocr_read}/{ocr_all} = {ocr_read / max(ocr_all, 1):.0%}" if args.ocr
             else ""), flush=True)
    return 0


def smallest_text(root) -> tuple[float, str]:
    """The smallest text on screen inside ``root``: widgets' fonts and painted steps."""
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QWidget

    from app.stepper.view import StepView

    best, what = float("inf"), ""
    for w in [root, *root.findChildren(QWidget)]:
        if not w.isVisible():
            continue
        if isinstance(w, StepView):
            w.layout_now()
            px, name = w.smallest_px(), f"{type(w).__name__} text"
        elif isinstance(w, (QLabel, QAbstractButton, QComboBox)) and (
                getattr(w, "text", lambda: "x")() or isinstance(w, QComboBox)):
            px, name = float(w.fontInfo().pixelSize()), f"{type(w).__name__} {w.objectName()}"
        else:
            continue
        if 0 < px < best:
            best, what = px, name
    return best, what


def stepper_shots(args) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication, QPushButton, QWidget

    import app
    from benchmarks.stage_shots import inputs

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    screen = qapp.primaryScreen().geometry()
    rule = screen.height() / 45
    tag = f"{screen.width()}x{screen.height()}" + ("_light" if args.light else "")
    worst, clipped = float("inf"), 0
    for name in args.models.split(","):
        window = app.create_main_window(model=name)
        window.set_presentation(True)
        deadline = time.time() + 60
        while (window.model is None or window.model.name != name) and time.time() < deadline:
            qapp.processEvents()
        window.canvas.set_ink(inputs()[name])
        window.run_network_now()
        window.presentation.key(Qt.Key.Key_S)
        settle(qapp, 0.5)
        panel = window.views.stage_stepper
        for i in range(len(panel.pages)):
            panel.go(i)
            player = panel.page.player
            player.seek(min(5, max(player.count - 1, 0)))
            settle(qapp)
            px, what = smallest_text(panel)
            worst = min(worst, px)
            edge = panel.mapToGlobal(panel.rect().bottomRight())
            outside = [w for w in panel.bar.findChildren(QWidget) if w.isVisible() and (
                w.mapToGlobal(w.rect().bottomRight()).x() > edge.x() + 1
                or w.width() < w.fontMetrics().horizontalAdvance(getattr(w, "text", str)() or "")
                + (8 if isinstance(w, QPushButton) else 0))]
            clipped += bool(outside)
            image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
            base = out / f"stepper_{name}_{tag}_{i + 1:02d}_{panel.page.key}"
            image.save(f"{base}.png")
            image.scaled(*SMALL, Qt.AspectRatioMode.IgnoreAspectRatio,
                         Qt.TransformationMode.SmoothTransformation).save(f"{base}_960.png")
            print(f"{name:7s} page {i + 1:2d} {panel.page.key:12s} smallest text {px:5.1f} px "
                  f"(rule {rule:.1f}: {'ok' if px >= rule - 0.5 else 'SMALL'}) {what}"
                  + ("  controls squeezed: " + ", ".join(
                     w.objectName() or type(w).__name__
                     for w in outside)
                     if outside else ""), flush=True)
        window.close()
        window.deleteLater()
        settle(qapp, 0.2)
    print(f"{tag}: smallest step-through text {worst:.1f} px, rule {rule:.1f} px (1/45 of "
          f"{screen.height()}); pages with squeezed controls: {clipped}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
