"""Colours, colour maps and the two looks of the window (desk and presentation).

One diverging map is used for every signed value in every panel — blue negative,
white zero, red positive — so a student learns it once: ReLU is "the blue goes away".
Presentation mode is for a projector at the back of a room: black background, white
type, large fonts and a thick pen.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

# Blue → white → red (ColorBrewer RdBu, reversed): readable on projectors, colour-blind safe.
_DIVERGING_STOPS = [
    (5, 48, 97), (33, 102, 172), (146, 197, 222), (247, 247, 247),
    (244, 165, 130), (178, 24, 43), (103, 0, 31),
]

DIVERGING = pg.ColorMap(np.linspace(0.0, 1.0, len(_DIVERGING_STOPS)), _DIVERGING_STOPS)
DIVERGING_LUT = DIVERGING.getLookupTable(0.0, 1.0, 256, alpha=False)
GREY = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])
GREY_LUT = GREY.getLookupTable(0.0, 1.0, 256, alpha=False)

ACCENT = "#ffb000"  # the receptive-field outline and the winning bar: amber on any map
BAR = "#4d7fbf"

DESK = {
    "window": "#f4f4f4",
    "panel": "#ffffff",
    "text": "#111111",
    "base_pt": 10,
    "headline_pt": 30,
    "title_pt": 10,
}

PRESENTATION = {
    "window": "#000000",
    "panel": "#101010",  # a shade off black: panels stay distinct on the projector
    "text": "#ffffff",
    "base_pt": 16,
    "headline_pt": 56,
    "title_pt": 16,
}


def palette(look: dict) -> QPalette:
    """The window's palette for a look.

    Palettes and fonts, not style sheets: a style sheet routes every widget's painting
    through QStyleSheetStyle, which measurably slows each full repaint of the window
    (about 1.5 ms of 9 at 1080p, more at 4K).
    """
    pal = QPalette()
    dark = look["window"] == PRESENTATION["window"]
    window, text = QColor(look["window"]), QColor(look["text"])
    pal.setColor(QPalette.ColorRole.Window, window)
    pal.setColor(QPalette.ColorRole.WindowText, text)
    pal.setColor(QPalette.ColorRole.Text, text)
    pal.setColor(QPalette.ColorRole.ButtonText, text)
    pal.setColor(QPalette.ColorRole.Base, QColor("#111111" if dark else "#ffffff"))
    pal.setColor(QPalette.ColorRole.Button, QColor("#222222" if dark else "#e8e8e8"))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT if dark else "#3060c0"))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#000000" if dark else "#ffffff"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffe0"))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor("#000000"))
    return pal


NOTICE_BG, NOTICE_TEXT = "#ffd24d", "#000000"
