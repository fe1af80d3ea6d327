"""What every stage shares: its names, its pages, where it can be clicked, one frame's data.

A stage is one step of the lecture's story (filtering, pooling, …) drawn from
:class:`engine.Layer` records found by their ``kind`` and shape, never by a model's
name. It lays itself out once per size (:meth:`StageBase.layout`, no data needed),
splitting its units — usually channels — over pages when they do not all fit at a
readable size, and paints one page per frame (:meth:`StageBase.paint`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF

from app.look import Type, fit_px
from app.numbers import MINUS
from app.stage.ink import Ink

NUMBER = MINUS + "0.00"  # the widest two-decimal value a cell must hold
INTEGER = MINUS + "1"  # the widest value of a ±1 grid
FILL_W, FILL_H = 0.86, 0.9  # share of a cell a number may take: a margin keeps it readable
ROW = 0.6  # numbers' cells are this much shorter than wide, like the slides' tables


@dataclass
class Hot:
    """A clickable area of a page: it selects ``channel`` of conv layer ``block``."""

    rect: QRectF
    block: str
    channel: int


class Limits:
    """Colour levels per layer that only ever grow, so colours stay put as the pen moves.

    Levels per frame would make maps flicker and hide how strong a response is compared
    with a moment ago. Reset when the network changes.
    """

    def __init__(self) -> None:
        self._act: dict[int, float] = {}
        self._w: dict[int, float] = {}

    def act(self, i: int, values: np.ndarray) -> float:
        peak = float(np.abs(values).max()) if values.size else 0.0
        old = self._act.get(i, 1e-6)
        if math.isfinite(peak) and peak > old:
            old = self._act[i] = peak
        return old

    def weight(self, i: int, w: np.ndarray) -> float:
        if i not in self._w:
            self._w[i] = float(np.abs(w).max()) or 1.0
        return self._w[i]


@dataclass
class Frame:
    """One frame's data as a stage needs it."""

    layers: list
    classes: list[str]
    probabilities: np.ndarray
    blank: bool
    selection: dict[str, int]
    limits: Limits = field(default_factory=Limits)
    difference: bool = False  # B − A: probabilities are signed changes (points)
    explanation: tuple | None = None  # (engine.explain.Explanation, drawing) or None

    def out(self, i: int) -> np.ndarray | None:
        """Layer ``i``'s output, or None on an empty canvas (nothing to show)."""
        return None if self.blank else self.layers[i].output

    def channel(self, block: str | None, count: int) -> int:
        c = self.selection.get(block or "", 0)
        return min(max(c, 0), count - 1)


class StageBase:
    """One stage. Subclasses set the names and fill :meth:`layout` and :meth:`paint`."""

    short = ""  # the pipeline strip's box label
    needs_drawing = True  # shows the drawing's data: on an empty canvas, "draw something"
    titles: tuple[str, ...] = ("",)  # longest first: the first that fits is shown
    subtitle = ""  # plain words under the title (dropped on a small stage)
    block: str | None = None  # the conv layer whose channel selection this stage follows
    units = 1  # what is paged through (channels), when they do not fit one page

    def __init__(self) -> None:
        self.pages = 1
        self.per_page = self.units
        self._hots: list[list[Hot]] = [[]]
        self.type: Type | None = None

    # ----- pages ----------------------------------------------------------------------
    @property
    def shape(self) -> str:
        """Secondary strip label: the data's shape at this stage."""
        return ""

    def page_units(self, page: int) -> range:
        start = page * self.per_page
        return range(start, min(self.units, start + self.per_page))

    def page_of(self, unit: int) -> int:
        return min(max(unit, 0) // max(self.per_page, 1), self.pages - 1)

    def set_per_page(self, k: int) -> None:
        self.per_page = max(1, min(k, self.units))
        self.pages = math.ceil(self.units / self.per_page)
        self._hots = [[] for _ in range(self.pages)]

    def hots(self, page: int) -> list[Hot]:
        return self._hots[page] if 0 <= page < len(self._hots) else []

    def hit(self, pos: QPointF, page: int) -> Hot | None:
        for hot in self.hots(page):
            if hot.rect.contains(pos):
                return hot
        return None

    # ----- what subclasses provide ----------------------------------------------------
    def layout(self, body: QRectF, t: Type) -> None:
        """Place everything for ``body`` (no data needed); set pages and hot areas."""
        self.type = t

    def live_rects(self, page: int) -> list[QRectF] | None:
        """Where a new trace of the same network can change what ``page`` shows, for a
        repaint of only that while the pen moves (None: anywhere).

        Only the maps change while a stroke goes on; titles, labels and weights stay.
        A stage lists its maps' areas here only when every number or colour the trace
        decides is inside them: a repaint of half the stage is half the copy to the
        screen."""
        return None

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        raise NotImplementedError


# ----- layout helpers ---------------------------------------------------------------------
def number_px(cell_w: float, cell_h: float, t: Type, template: str = NUMBER) -> int:
    """The type size for numbers in cells of ``cell_w``×``cell_h``.

    A short number ("−1") gets a wider margin: a row of "−1−1−1" must not read as one.
    """
    fill = FILL_W if len(template) > 3 else 0.7
    return fit_px(template, fill * cell_w, FILL_H * cell_h, cap=t.title_px)


def centred(width: float, height: float, box: QRectF) -> QRectF:
    return QRectF(box.center().x() - width / 2, box.center().y() - height / 2, width, height)


def spread(widths: list[float], gaps: list[float], box: QRectF, top: float,
           height: float) -> list[QRectF]:
    """Boxes of ``widths`` side by side with ``gaps`` between, centred in ``box``."""
    total = sum(widths) + sum(gaps)
    x = box.center().x() - total / 2
    out = []
    for i, w in enumerate(widths):
        out.append(QRectF(x, top, w, height))
        x += w + (gaps[i] if i < len(gaps) else 0)
    return out


def label_cells(rects: list[QRectF], top: float, height: float, bounds: QRectF) -> list[QRectF]:
    """A label cell centred over each rect, as wide as the room to its neighbours allows."""
    cells = []
    for i, r in enumerate(rects):
        left = bounds.left() if i == 0 else (rects[i - 1].right() + r.left()) / 2
        right = bounds.right() if i == len(rects) - 1 else (r.right() + rects[i + 1].left()) / 2
        cx = r.center().x()
        half = max(0.0, min(cx - left, right - cx))
        cells.append(QRectF(cx - half, top, 2 * half, height))
    return cells
