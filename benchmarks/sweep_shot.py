"""The README's picture of the sweep panel: a drawn 7, its sweeps, as drawn and centred.

Renders offscreen (no display needed) and writes ``docs/sweep_panel.png``:

    QT_QPA_PLATFORM=offscreen python benchmarks/sweep_shot.py [--out docs/sweep_panel.png]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from app.canvas import SIZE, Canvas
from app.experiments import SweepPanel, TransformControls
from app.experiments.state import ExperimentState
from engine import load_model
from engine.experiments.sweeps import sweep


def seven() -> np.ndarray:
    im = Image.new("L", (SIZE, SIZE))
    ImageDraw.Draw(im).line((70, 60, 200, 60, 120, 250), fill=255, width=22, joint="curve")
    return np.asarray(im, np.uint8).copy()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("docs/sweep_panel.png"))
    ap.add_argument("--input", default="as-drawn", choices=("centred", "as-drawn"))
    args = ap.parse_args()
    qapp = QApplication.instance() or QApplication([])
    window = QWidget()
    layout = QHBoxLayout(window)
    canvas = Canvas()
    state = ExperimentState(canvas, window)
    state.set_input_mode(args.input)
    controls = TransformControls(canvas, state)
    left = QWidget()
    column = QHBoxLayout(left)
    column.addWidget(canvas, 3)
    column.addWidget(controls, 2)
    panel = SweepPanel()
    layout.addWidget(left, 5)
    layout.addWidget(panel, 4)
    window.resize(1400, 760)
    window.show()
    canvas.replace(seven(), "stroke")
    model = load_model("digits", device="cpu")
    panel.show_sweep(sweep(model, canvas.raster(), input=args.input, invert=False))
    qapp.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out))
    panel.runner.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
