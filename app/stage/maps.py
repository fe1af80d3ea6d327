"""Stages for small maps, where every value is written in its cell, as on the slides.

The lecture's X/O toy works on a 9×9 image and 7×7 / 4×4 maps: small enough to print
every number, which is the whole point of its tables ("Trying every possible match",
max pooling, ReLU). These stages do that for any network whose maps are that small.
Units (channels) that do not fit one page at a readable size go one per page.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF

from app.look import Type, text_width
from app.numbers import integer_text as integer
from app.stage.base import (
    INTEGER,
    NUMBER,
    ROW,
    Frame,
    Hot,
    StageBase,
    centred,
    label_cells,
    number_px,
    spread,
)
from app.stage.ink import GREY_ARGB, GREY_LIGHT, Ink, slide

SMALL = 144  # a map of at most this many cells (12×12) gets its numbers written
FEW = 6  # … and so does a layer of at most this many maps (a page each, at worst)


def is_small(shape: tuple[int, ...]) -> bool:
    """Maps small enough, and few enough, to print every value (the toy's 3 of 7×7)."""
    return int(np.prod(shape[-2:])) <= SMALL and (len(shape) < 3 or shape[0] <= FEW)


def _count(n: int) -> str:
    return f"{n:,}"


class InputStage(StageBase):
    """What the network sees: the preprocessed input as a grid of numbers or of pixels."""

    short = "drawing"

    def __init__(self, i: int, layer, sample: np.ndarray) -> None:
        super().__init__()
        self.i = i
        _, self.h, self.w = layer.output.shape
        self.numeric = is_small(layer.output.shape)
        x = np.asarray(sample, np.float32)
        self.signed = bool(x.min() < 0)
        self.ints = bool(np.all(np.round(x) == x))
        n = self.h * self.w
        self.titles = (
            f"What the network sees: your drawing as {self.h}×{self.w} numbers",
            f"What the network sees: {self.h}×{self.w} numbers",
            "What the network sees",
        )
        self.subtitle = ("+1 where there is ink, −1 where there is none" if self.signed else
                         f"{_count(n)} pixels, each a number from 0 (black) to 1 (white ink)")
        self.legend = (("1 = ink", "\u22121 = no ink") if self.signed else
                       ("1 = white ink", "0 = black"))
        self.caption = (f"{self.h} × {self.w} = {_count(n)} numbers" if self.numeric else
                        f"{self.h} × {self.w} = {_count(n)} pixels")

    @property
    def shape(self) -> str:
        return f"{self.h}×{self.w}"

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh = t.gap, t.line
        px = t.label_px
        legend_w = max(text_width(s, px) for s in self.legend) + 2 * g
        if body.width() - legend_w < body.height() * 0.9:
            legend_w = 0.0  # no room beside the grid: the subtitle says the same
        side = min((body.height() - lh - g) / self.h, (body.width() - legend_w - 2 * g) / self.w)
        gw, gh = side * self.w, side * self.h
        group = centred(gw + legend_w, lh + g + gh, body)
        self.grid_rect = QRectF(group.left(), group.top() + lh + g, gw, gh)
        self.caption_cell = QRectF(group.left() - g, group.top(), gw + 2 * g, lh)
        self.legend_cells = [QRectF(self.grid_rect.right() + 2 * g,
                                    self.grid_rect.center().y() + (k - 1) * lh * 1.3,
                                    legend_w - 2 * g, lh) for k in range(2)] if legend_w else []
        self.px = number_px(side, side, t, INTEGER if self.ints else NUMBER) if self.numeric else 0
        self.side = side

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        x = f.out(self.i)
        ink.fit_text(self.caption_cell, (self.caption,), t.label_px)
        for cell, text in zip(self.legend_cells, self.legend):
            ink.fit_text(cell, (text,), t.label_px, align="left")
        lo, hi = (-1.0, 1.0) if self.signed else (0.0, 1.0)
        table, light = (None, None) if self.signed else (GREY_ARGB, GREY_LIGHT)
        kw = {} if self.signed else {"table": table, "light": light}
        if self.numeric:
            ink.grid(self.grid_rect, None if x is None else x[0], self.h, self.w, lo=lo, hi=hi,
                     px=self.px, fmt=integer if self.ints else slide, name="input[0]", **kw)
            return
        if x is not None:
            ink.image(self.grid_rect, x[0], lo, hi, **({} if self.signed else {"table": table}),
                      label="input[0]")
            if self.side >= 10:
                ink.lines(self.grid_rect, self.h, self.w, ink.look.line, width=1.0)
        ink.outline(self.grid_rect, ink.look.text, t.pen * 1.5)


class MatchStage(StageBase):
    """Filtering, as in "Trying every possible match": image ⊗ feature = map, with numbers."""

    short = "filter"

    def __init__(self, i_in: int, i_conv: int, layers: list) -> None:
        self.i_in, self.i_conv = i_in, i_conv
        conv = layers[i_conv]
        self.name = conv.name
        self.block = conv.name
        w = np.asarray(conv.weights, np.float32)
        self.units, _, self.kh, self.kw = w.shape
        _, self.ih, self.iw = layers[i_in].output.shape
        _, self.oh, self.ow = conv.output.shape
        n = self.kh * self.kw
        # The lecture's features are ±1 and the match is divided by the patch size: show
        # the ±1 the slides show, and say "÷ 9".
        scaled = w * n
        self.scaled = bool(np.allclose(scaled, np.round(scaled), atol=1e-4))
        self.shown_weights = np.round(scaled) if self.scaled else w
        super().__init__()
        self.titles = (
            "Filtering: slide each feature over the image and score every match",
            "Filtering: score every possible match",
            "Filtering",
        )
        self.subtitle = (
            f"each number = (pixels that agree − pixels that disagree) ÷ {n}; 1.00 = perfect"
            if self.scaled else f"each number = the {self.kh}×{self.kw} patch there × the "
            "filter, added up")

    @property
    def shape(self) -> str:
        return f"{self.units} × {self.oh}×{self.ow}"

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh = t.gap, t.line
        op_w = text_width("⊗", t.title_px) + 2 * g
        for full in (True, False):
            for k in (self.units, 1):
                cw = ((self.iw * ROW if full else 0) + self.kw * ROW + self.ow)
                fixed_w = (2 if full else 1) * op_w
                rows_h = max(self.ih if full else 0, self.kh, self.oh) * ROW
                c = min((body.width() - fixed_w) / cw,
                        (body.height() - k * (lh + g) - (k - 1) * 2 * g) / (k * rows_h))
                px = number_px(c, c * ROW, t)
                if px >= t.min_px:
                    break
            if px >= t.min_px:
                break
        self.full = full
        self.set_per_page(k)
        self.px = px
        sq = c * ROW
        widths = ([self.iw * sq] if full else []) + [self.kw * sq, self.ow * c]
        heights = ([self.ih * sq] if full else []) + [self.kh * sq, self.oh * sq]
        row_h = lh + g + max(heights)
        total_h = k * row_h + (k - 1) * 2 * g
        top = body.center().y() - total_h / 2
        self.slots = []
        for j in range(k):
            y = top + j * (row_h + 2 * g)
            band = QRectF(body.left(), y + lh + g, body.width(), max(heights))
            boxes = spread(widths, [op_w] * (len(widths) - 1), body, band.top(), band.height())
            grids = [centred(b.width(), h, QRectF(b.left(), band.top(), b.width(), band.height()))
                     for b, h in zip(boxes, heights)]
            labels = label_cells(grids, y, lh, body)
            ops = [QRectF(grids[m].right(), band.top(), grids[m + 1].left() - grids[m].right(),
                          band.height()) for m in range(len(grids) - 1)]
            self.slots.append((grids, labels, ops))
        for p in range(self.pages):
            for j, ch in enumerate(self.page_units(p)):
                grids = self.slots[j][0]
                self._hots[p] += [Hot(grids[-1], self.block, ch), Hot(grids[-2], self.block, ch)]
        self.px_feature = number_px(sq, sq, t, INTEGER if self.scaled else NUMBER)
        self.px_input = number_px(sq, sq, t, INTEGER)

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        x, maps = f.out(self.i_in), f.out(self.i_conv)
        for j, ch in enumerate(self.page_units(page)):
            grids, labels, ops = self.slots[j]
            names = (["image"] if self.full else []) + [f"feature {ch + 1}", f"map {ch + 1}"]
            for cell, text in zip(labels, names):
                variants = (f"{text} (÷ {self.kh * self.kw})", text) if (
                    self.scaled and text.startswith("feature")) else (text,)
                ink.fit_text(cell, variants, t.label_px)
            for cell, op in zip(ops, ("⊗", "=") if self.full else ("=",)):
                ink.fit_text(cell, (op,), t.title_px)
            if self.full:
                ink.grid(grids[0], None if x is None else x[0], self.ih, self.iw,
                         px=self.px_input, fmt=integer, name="input[0]")
            ink.grid(grids[-2], self.shown_weights[ch, 0], self.kh, self.kw,
                     lo=-np.abs(self.shown_weights).max(), hi=np.abs(self.shown_weights).max(),
                     px=self.px_feature, fmt=integer if self.scaled else slide,
                     name=f"{self.name}.weight[{ch}]", role="weight")
            m = None if maps is None else maps[ch]
            lim = 1.0 if maps is None else f.limits.act(self.i_conv, maps)
            ink.grid(grids[-1], m, self.oh, self.ow, lo=-lim, hi=lim, px=self.px,
                     name=f"{self.name}[{ch}]")
            if m is not None:
                self._best(ink, m, grids)
            if self.per_page > 1 and ch == f.channel(self.block, self.units):
                ink.outline(grids[-1].adjusted(-t.gap / 2, -t.gap / 2, t.gap / 2, t.gap / 2),
                            ink.look.accent, t.pen * 3)

    def _best(self, ink: Ink, m: np.ndarray, grids: list[QRectF]) -> None:
        """Outline the best match in the map and, on the image, the patch it saw."""
        r, c = np.unravel_index(int(np.argmax(m)), m.shape)
        mg = grids[-1]
        cw, ch = mg.width() / self.ow, mg.height() / self.oh
        w = ink.type.pen * 3
        ink.outline(QRectF(mg.left() + c * cw, mg.top() + r * ch, cw, ch), ink.look.accent, w)
        if self.full:
            ig = grids[0]
            s = ig.width() / self.iw
            ink.outline(QRectF(ig.left() + c * s, ig.top() + r * s, self.kw * s, self.kh * s),
                        ink.look.accent, w)


