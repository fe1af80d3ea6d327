"""The class's wall on the stage: how to join, what was asked, and what came in.

Class mode (:mod:`app.classmode`) gives the stage this step while the class is open.
With nothing sent yet it is the join screen — the QR code as large as the step allows
and the address beside it. As drawings arrive they fill a grid, newest first, each
with the student's name, the network's answer, and (when a prompt is open) whether
it matched, missed or fooled the network, in colour and in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from app.look import Type, line_height
from app.stage.base import Frame, StageBase
from app.stage.ink import Ink, Painted

#: Okabe and Ito's colour-blind-safe bluish green, vermillion and orange; each tile also
#: says its status in words, so the colour is never the only sign.
STATUS_COLOURS = {"matched": "#009E73", "missed": "#D55E00", "fooled it": "#E69F00"}


@dataclass
class Tile:
    """One drawing on the wall: its raster (uint8, ink 255 on 0), who, what it was read as."""

    raster: np.ndarray
    name: str
    answer: str
    status: str = ""


@dataclass
class WallView:
    """What the wall step shows (class mode fills it; the stage only paints it)."""

    url: str
    qr: QImage
    prompt: str | None = None
    summary: str = ""
    tiles: list[Tile] = field(default_factory=list)  # newest first


class WallStage(StageBase):
    """The class's wall (see the module docstring)."""

    short = "class"
    needs_drawing = False  # the wall is the class's, not the canvas's
    titles = ("The class: draw on your phone, it appears here", "The class", "Class")
    subtitle = "scan the code or open the address; every drawing is read by the network live"

    def __init__(self, view: WallView) -> None:
        super().__init__()
        self.view = view
        self._images: dict[int, QImage] = {}

    @property
    def shape(self) -> str:
        return f"{len(self.view.tiles)} sent"

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        self.body, self.t = QRectF(body), t

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t, body, v = ink.type, self.body, self.view
        lh = line_height(t.label_px) * 1.2
        # The address, whole (its key is what lets a student in), across the bottom; the
        # join code large alone, a column beside the drawings once they come.
        url = QRectF(body.left(), body.bottom() - lh, body.width(), lh)
        if not ink.fit_text(url, (v.url,), t.label_px, align="left", label="url"):
            ink.fit_text(url, (v.url,), t.min_px, align="left", label="url")
        high = url.top() - t.gap - body.top()
        side = min(high, body.width() * (0.5 if not v.tiles else 0.28))
        qr = QRectF(body.left(), body.top(), side, side)
        ink.p.drawImage(qr, v.qr)
        ink.painted.append(Painted(qr, "weight", "qr"))
        right = QRectF(qr.right() + 2 * t.gap, body.top(),
                       body.right() - qr.right() - 2 * t.gap, high)
        y = right.top()
        if v.prompt:
            ink.fit_text(QRectF(right.left(), y, right.width(), lh),
                         (f"asked: {v.prompt}", v.prompt), t.label_px, align="left",
                         color=ink.look.accent, label="prompt")
            y += lh
        ink.fit_text(QRectF(right.left(), y, right.width(), lh),
                     (v.summary or "waiting for the first drawing…",), t.label_px,
                     align="left", color=ink.look.dim, label="summary")
        y += lh * 1.2
        self._grid(ink, QRectF(right.left(), y, right.width(), right.bottom() - y), t)

    def _grid(self, ink: Ink, area: QRectF, t: Type) -> None:
        """As many tiles as fit with their captions at the stage's smallest type."""
        tiles = self.view.tiles
        if not tiles or area.height() <= 0:
            return
        cap = line_height(t.min_px) * 1.1
        # The largest tile side at which all tiles fit, but never smaller than 4 lines.
        n = len(tiles)
        side = 0.0
        for cols in range(1, n + 1):
            s = min(area.width() / cols - t.gap, area.height() / math.ceil(n / cols) - 2 * cap
                    - t.gap)
            side = max(side, s)
        side = max(side, 4 * cap)
        cols = max(1, int(area.width() // (side + t.gap)))
        rows = max(1, int(area.height() // (side + 2 * cap + t.gap)))
        for k, tile in enumerate(tiles[: cols * rows]):
            r, c = divmod(k, cols)
            x = area.left() + c * (side + t.gap)
            y = area.top() + r * (side + 2 * cap + t.gap)
            box = QRectF(x, y, side, side)
            ink.p.drawImage(box, self._image(tile))
            ink.painted.append(Painted(box, "activity", f"wall[{k}]"))
            colour = STATUS_COLOURS.get(tile.status)
            ink.outline(box, colour or ink.look.line, width=max(2.0, side / 30) if colour else None)
            words = f"{tile.answer}" + (f" · {tile.status}" if tile.status else "")
            ink.fit_text(QRectF(x, y + side, side, cap), (words, tile.answer), t.min_px,
                         color=colour, label=f"wall[{k}].answer")
            ink.fit_text(QRectF(x, y + side + cap, side, cap), (tile.name or "—",),
                         t.min_px, bold=False, color=ink.look.dim, label=f"wall[{k}].name")

    def _image(self, tile: Tile) -> QImage:
        key = id(tile.raster)
        image = self._images.get(key)
        if image is None:
            a = np.ascontiguousarray(tile.raster, np.uint8)
            image = QImage(a.data, a.shape[1], a.shape[0], a.shape[1],
                           QImage.Format.Format_Grayscale8).copy()
            if len(self._images) > 400:
                self._images.clear()
            self._images[key] = image
        return image
