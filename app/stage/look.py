"""The stage's colours and type sizes: what a projector at the back of a room needs.

Type is sized from the stage's height, so a stage shown full screen keeps the same
proportions at 720p, 1080p and 4K: the smallest number or label is never less than
1/44 of the height (the house rule is 1/45, STYLE.md §17), titles are larger. A
device-pixel floor keeps type readable on a tiny window of a high-DPI screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF

from app.theme import ACCENT, PRESENTATION


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
    """The stage look for one of app.theme's looks (DESK or PRESENTATION)."""
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
