"""The one look of ConvPad: colours, colour maps, and type sizes per context.

One diverging map is used for every signed value in every view — blue negative, white
zero, red positive — so a student learns it once: ReLU is "the blue goes away". Two
window looks: the desk (light, compact) and the presentation stage for a projector at
the back of a room (black background, white type, large fonts). The stage and the
step-through size their type from their own height (:class:`Type`), so a view shown
full screen keeps the same proportions at 720p, 1080p and 4K: the smallest number or
label is never less than 1/44 of the height (the house rule is 1/45, STYLE.md §17).
Numbers are printed by :mod:`app.numbers`, the one rule for that.

Palettes and fonts, not style sheets: a style sheet routes every widget's painting
through QStyleSheetStyle, which measurably slows each full repaint (about 1.5 ms of 9
at 1080p, more at 4K).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetricsF, QPalette

# Blue → white → red (ColorBrewer RdBu, reversed): readable on projectors, colour-blind safe.
_DIVERGING_STOPS = [
    (5, 48, 97), (33, 102, 172), (146, 197, 222), (247, 247, 247),
    (244, 165, 130), (178, 24, 43), (103, 0, 31),
]

DIVERGING_POSITIONS = np.linspace(0.0, 1.0, len(_DIVERGING_STOPS))


def lookup_table(positions, stops, n: int = 256) -> np.ndarray:
    """``n`` colours (uint8, RGB) along ``stops``: what pyqtgraph's ``ColorMap
    .getLookupTable`` gives, computed here so that the window opens before pyqtgraph is
    imported (a sixth of the start-up)."""
    x = np.linspace(0.0, 1.0, n)
    rgb = np.asarray(stops, np.float64)
    return np.stack([np.interp(x, positions, rgb[:, k]) for k in range(3)], 1).astype(np.uint8)


DIVERGING_LUT = lookup_table(DIVERGING_POSITIONS, _DIVERGING_STOPS)
GREY_LUT = lookup_table([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])

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

#: One colour per class for curves on a black plot: Paul Tol's "light" scheme, made to be
#: told apart with any colour vision, every colour at least 4.5:1 against black (WCAG's
#: bar for text). It has nine; a tenth class repeats the first, dashed. A colour alone
#: never names a class: each curve is also labelled where it ends.
CLASS_COLOURS_ON_DARK = ("#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99",
                         "#BBCC33", "#AAAA00", "#DDDDDD")


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    rgb = [int(colour.lstrip("#")[k:k + 2], 16) / 255 for k in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 … 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# ----- the stage's and the step-through's colours and type --------------------------------


@dataclass(frozen=True)
class Look:
    """Colours of the stage: background, text, secondary text, grid lines, highlight."""

    background: str
    text: str
    dim: str
    line: str
    accent: str
    on_accent: str
    bar: str

    @property
    def dark(self) -> bool:
        return self.background.lower() in ("#000000", "#000", "black")


DARK = Look(background=PRESENTATION["window"], text=PRESENTATION["text"], dim="#c8c8c8",
            line="#8a8a8a", accent=ACCENT, on_accent="#000000", bar="#6f9fdf")
LIGHT = Look(background="#ffffff", text="#111111", dim="#3a3a3a", line="#707070",
             accent="#b36b00", on_accent="#ffffff", bar="#3f6faf")


def look_for(theme_look: dict) -> Look:
    """The stage look for one of the window's looks (DESK or PRESENTATION)."""
    return DARK if theme_look.get("window", "").lower() == DARK.background else LIGHT


@lru_cache(maxsize=1)
def _family() -> str:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).family()


@lru_cache(maxsize=256)
def font(px: int, bold: bool = True) -> QFont:
    """A sans font of ``px`` pixels (cached: fonts are built per size, not per frame)."""
    f = QFont(_family())
    f.setPixelSize(max(1, int(px)))
    f.setBold(bold)
    f.setStyleHint(QFont.StyleHint.SansSerif)
    return f


@lru_cache(maxsize=256)
def metrics(px: int, bold: bool = True) -> QFontMetricsF:
    return QFontMetricsF(font(px, bold))


_WIDTHS: dict[tuple[int, bool], dict[str, float]] = {}


def text_width(text: str, px: int, bold: bool = True) -> float:
    """Advance width of ``text`` in pixels; cached, since numbers repeat every frame."""
    cache = _WIDTHS.setdefault((px, bold), {})
    w = cache.get(text)
    if w is None:
        w = cache[text] = metrics(px, bold).horizontalAdvance(text)
    return w


def give_room(widget, px: float, texts: tuple[str, ...] = ()) -> None:
    """Size a button or picker for type ``px`` high: Qt's padding is fixed in pixels, so
    a projector's 48 px labels in it run into their neighbours. ``texts`` are the other
    labels it may show (Play/Pause), so it keeps one width."""
    fm = widget.fontMetrics()
    text = getattr(widget, "text", lambda: "")() if hasattr(widget, "text") else ""
    widest = max((fm.horizontalAdvance(t) for t in (text, *texts)), default=0)
    if widest:
        widget.setMinimumWidth(widest + round(px * 1.2))
    widget.setMinimumHeight(round(px * 1.8))


def line_height(px: int, bold: bool = True) -> float:
    return metrics(px, bold).height()


def fit_px(template: str, width: float, height: float, cap: int, bold: bool = True) -> int:
    """The largest pixel size (≤ ``cap``) at which ``template`` fits ``width``×``height``."""
    if width <= 0 or height <= 0:
        return 0
    ref = 100
    scale = min(width / max(text_width(template, ref, bold), 1e-6),
                height / line_height(ref, bold))
    px = min(cap, int(ref * scale) + 1)
    while px > 1 and (text_width(template, px, bold) > width
                      or line_height(px, bold) > height):
        px -= 1
    return px


@dataclass(frozen=True)
class Type:
    """Type sizes and spacing for a stage of ``height`` logical pixels.

    ``min_px`` is the floor for every number and label; ``label_px`` the usual label;
    ``title_px`` the stage title. ``compact`` (a stage smaller than 1024×600) drops
    secondary labels before anything could overlap.
    """

    width: float
    height: float
    dpr: float = 1.0
    min_px: int = field(init=False)
    label_px: int = field(init=False)
    title_px: int = field(init=False)
    gap: float = field(init=False)

    def __post_init__(self) -> None:
        floor = math.ceil(11 / max(self.dpr, 1.0))  # ~11 device pixels on a tiny window
        lo = max(math.ceil(self.height / 44), floor)
        object.__setattr__(self, "min_px", lo)
        object.__setattr__(self, "label_px", max(lo, round(self.height / 38)))
        object.__setattr__(self, "title_px", max(lo + 2, round(self.height / 25)))
        object.__setattr__(self, "gap", max(4.0, round(self.height / 70)))

    @property
    def compact(self) -> bool:
        return self.width < 1024 or self.height < 600

    @property
    def line(self) -> float:
        """Height of one label line."""
        return line_height(self.label_px)

    @property
    def pen(self) -> float:
        """Width of grid lines and outlines."""
        return max(1.0, round(self.height / 540))
