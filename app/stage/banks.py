"""Stages for layers with many channels: a filter bank, a conv2 sum, ReLU and pooling.

Here the maps are too big and too many for numbers in every cell. Each stage shows one
chosen channel large (with its numbers where there are few: a 3×3 filter's weights)
beside every channel small, so the class sees both the detail and the whole layer.
Clicking a small map chooses it. conv2 is shown as the lecture explains a deeper
filter: ONE output map and the kernels, one per input map, whose sums make it —
never the whole out×in kernel texture.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage

from app.look import Type, text_width
from app.stage.base import NUMBER, Frame, Hot, StageBase, centred, number_px, spread
from app.stage.ink import Ink, slide
from app.stage.tables import _stride

PAIR = 0.45  # a kernel thumbnail's size relative to its map's


def _count(n: int) -> str:
    return f"{n:,}"


def thumb_grid(n: int, area: QRectF, aspect: float, extra_h: float, gap: float,
               ) -> tuple[int, float]:
    """Columns and thumbnail size (height) that make ``n`` thumbnails as big as possible.

    A thumbnail is ``aspect``×size wide and size + ``extra_h`` tall, ``gap`` apart.
    """
    best = (1, 0.0)
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        size = min((area.width() - (cols - 1) * gap) / cols / aspect,
                   (area.height() - (rows - 1) * gap) / rows - extra_h)
        if size > best[1]:
            best = (cols, size)
    return best


def grid_rects(n: int, cols: int, w: float, h: float, gap: float, area: QRectF) -> list[QRectF]:
    rows = math.ceil(n / cols)
    total_w, total_h = cols * w + (cols - 1) * gap, rows * h + (rows - 1) * gap
    x0 = area.center().x() - total_w / 2
    y0 = area.center().y() - total_h / 2
    return [QRectF(x0 + (i % cols) * (w + gap), y0 + (i // cols) * (h + gap), w, h)
            for i in range(n)]


def pieces(groups: list[list[QRectF]], t: Type) -> list[QRectF]:
    """The box around each group of maps, with their outlines (the chosen map's is
    three pens wide, half of it outside): what a new trace repaints, a piece at a time."""
    m = 2 * t.pen + 1
    out = []
    for group in groups:
        box = QRectF(group[0])
        for r in group[1:]:
            box = box.united(r)
        out.append(box.adjusted(-m, -m, m, m))
    return out


class _ConvStage(StageBase):
    """What both conv stages know of their layer: its name, weights, output size, the
    weights' colour limit; ``units`` (one per output map) is set from the weights."""

    def __init__(self, i_in: int, i_conv: int, layers: list, weights: np.ndarray) -> None:
        conv = layers[i_conv]
        self.i_in, self.i_conv = i_in, i_conv
        self.name = self.block = self.short = conv.name
        self.w = weights
        self.units = weights.shape[0]
        self.kh, self.kw = weights.shape[-2:]
        _, self.oh, self.ow = conv.output.shape
        self.wlim = float(np.abs(weights).max()) or 1.0
        super().__init__()

    @property
    def shape(self) -> str:
        return f"{self.units} × {self.oh}×{self.ow}"


class FilterBankStage(_ConvStage):
    """The first conv layer of a big image: every filter beside the map it makes."""

    def __init__(self, i_in: int, i_conv: int, layers: list) -> None:
        w = np.asarray(layers[i_conv].weights, np.float32)[:, 0]
        super().__init__(i_in, i_conv, layers, w)
        c = self.units
        self.titles = (
            f"{self.name}: {c} filters slide over the image, each makes a map",
            f"{self.name}: {c} filters slide over the image",
            f"{self.name}: {c} filters",
            self.name,
        )
        self.subtitle = ("a filter is a small pattern of weights; its map is bright (red) "
                         "wherever the image looks like it")
        self._filters: QImage | None = None

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh = t.gap, t.line
        px = t.label_px
        cell = max(text_width(NUMBER, px) / 0.86, lh / 0.9)
        fw = self.kw * cell
        side = max(fw, min(body.height() - 2 * (lh + g) - self.kh * cell - 2 * g,
                           body.width() * 0.3))
        left_w = max(fw, side)
        top = body.center().y() - (2 * (lh + g) + self.kh * cell + 2 * g + side) / 2
        x = body.left()
        self.lab_filter = QRectF(x, top, left_w, lh)
        self.big_filter = QRectF(x + (left_w - fw) / 2, top + lh + g, fw, self.kh * cell)
        self.lab_map = QRectF(x, self.big_filter.bottom() + 2 * g, left_w, lh)
        self.big_map = QRectF(x + (left_w - side) / 2, self.lab_map.bottom() + g, side, side)
        self.px = number_px(cell, cell, t)
        area = QRectF(x + left_w + 3 * g, body.top(), body.width() - left_w - 3 * g,
                      body.height())
        labels = not t.compact
        lab_h = t.min_px * 1.25 if labels else 0.0
        cols, size = thumb_grid(self.units, area, 1 + PAIR + 0.08, lab_h, g)
        pair_w = size * (1 + PAIR + 0.08)
        pairs = grid_rects(self.units, cols, pair_w, size + lab_h, g, area)
        self.pairs = []
        for r in pairs:
            f = QRectF(r.left(), r.top() + (size - PAIR * size) / 2, PAIR * size, PAIR * size)
            m = QRectF(r.right() - size, r.top(), size, size)
            lab = QRectF(r.left(), r.top() + size, r.width(), lab_h)
            self.pairs.append((f, m, lab, QRectF(r.left(), r.top(), r.width(), size)))
        self.filter_rects = [p[0] for p in self.pairs]
        self.map_rects = [p[1] for p in self.pairs]
        self.frames = [r for p in self.pairs for r in p[:2]]  # kept: Ink caches their bars
        self.num_px = t.min_px
        self._hots = [[Hot(p[3], self.block, i) for i, p in enumerate(self.pairs)]]
        self._live = pieces([[self.big_map], self.map_rects], t)

    def live_rects(self, page: int) -> list[QRectF]:
        return self._live

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        c = f.channel(self.block, self.units)
        maps = f.out(self.i_conv)
        lim = 1.0 if maps is None else f.limits.act(self.i_conv, maps)
        ink.fit_text(self.lab_filter, (f"filter {c + 1}", f"{c + 1}"), t.label_px)
        ink.grid(self.big_filter, self.w[c], self.kh, self.kw, lo=-self.wlim, hi=self.wlim,
                 px=self.px, fmt=slide, name=f"{self.name}.weight[{c}]", role="weight")
        ink.fit_text(self.lab_map, (f"its map ({self.oh}×{self.ow})", "its map"), t.label_px)
        if maps is not None:
            ink.image(self.big_map, maps[c], -lim, lim, label=f"{self.name}[{c}]")
        ink.outline(self.big_map, ink.look.text, t.pen * 1.5)
        if self._filters is None:
            self._filters = ink.sheet(self.w, -self.wlim, self.wlim)
        sheet = None if maps is None or not ink.visible(self._live[1]) else \
            ink.sheet(maps, -lim, lim)
        name = self.name
        ink.thumbs(self.filter_rects, self._filters, self.kh, self.kw, "weight",
                   lambda i: f"{name}.weight[{i}]")
        if maps is not None:
            ink.thumbs(self.map_rects, sheet, self.oh, self.ow, label=lambda i: f"{name}[{i}]")
        ink.outlines(self.frames)
        ink.outline(self.pairs[c][1], ink.look.accent, t.pen * 3)
        for i, (_, _, lab, _) in enumerate(self.pairs):
            if lab.height():
                ink.fit_text(lab, (str(i + 1),), self.num_px,
                             color=ink.look.accent if i == c else ink.look.dim)


class KernelSumStage(_ConvStage):
    """A deeper conv layer: one chosen map and the kernels (one per input map) that make it."""

    def __init__(self, i_in: int, i_conv: int, layers: list, prev_block: str | None) -> None:
        conv = layers[i_conv]
        self.prev_block = prev_block
        self.bias = None if conv.bias is None else np.asarray(conv.bias, np.float32)
        self.n_in = conv.weights.shape[1]
        _, self.ih, self.iw = layers[i_in].output.shape
        super().__init__(i_in, i_conv, layers, np.asarray(conv.weights, np.float32))
        self.titles = (
            f"{self.name}: each of {self.units} maps adds up {self.n_in} filtered maps",
            f"{self.name}: one map = {self.n_in} filtered maps added",
            f"{self.name}: one map of {self.units}",
            self.name,
        )
        self.subtitle = (f"every input map gets its own {self.kh}×{self.kw} kernel; the "
                         "results are summed into one new map — pick a map on the right")
        self._kernels: dict[int, QImage] = {}

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh = t.gap, t.line
        self.op = "= Σ"
        op_w = text_width(self.op, t.title_px) + 2 * g
        pick_c = math.ceil(math.sqrt(self.units))
        pick_r = math.ceil(self.units / pick_c)
        pick_w = min(body.width() * 0.22, (body.height() - lh - g) * pick_c / pick_r)
        ps = (pick_w - (pick_c - 1) * g / 2) / pick_c
        big = min(body.width() * 0.26, body.height() - 2 * (lh + g))
        left = QRectF(body.left(), body.top(),
                      body.width() - pick_w - big - op_w - 4 * g, body.height() - lh - g)
        left.translate(0, lh + g)
        cols, size = thumb_grid(self.n_in, left, 1 + PAIR + 0.08, 0.0, g)
        pair_w = size * (1 + PAIR + 0.08)
        rects = grid_rects(self.n_in, cols, pair_w, size, g, left)
        self.pairs = [(QRectF(r.left(), r.top(), size, size),
                       QRectF(r.right() - PAIR * size, r.top() + (size - PAIR * size) / 2,
                              PAIR * size, PAIR * size), r) for r in rects]
        self.in_rects = [p[0] for p in self.pairs]
        self.kernel_rects = [p[1] for p in self.pairs]
        self.frames = [r for p in self.pairs for r in p[:2]]  # kept: Ink caches their bars
        left_box = QRectF(rects[0].left(), rects[0].top(),
                          rects[-1].right() - rects[0].left() if cols == 1 else
                          cols * pair_w + (cols - 1) * g, rects[-1].bottom() - rects[0].top())
        self.lab_in = QRectF(left.left(), left_box.top() - lh - g, left.width(), lh)
        x = left.right() + g
        self.op_cell = QRectF(x, body.top(), op_w, body.height())
        self.big = centred(big, big, QRectF(x + op_w + g, body.top(), big, body.height()))
        self.lab_big = QRectF(self.big.left() - g, self.big.top() - lh - g,
                              self.big.width() + 2 * g, lh)
        self.lab_bias = QRectF(self.big.left() - g, self.big.bottom() + g,
                               self.big.width() + 2 * g, lh)
        pick = QRectF(body.right() - pick_w, body.top() + lh + g, pick_w, body.height() - lh - g)
        self.picks = grid_rects(self.units, pick_c, ps, ps, g / 2, pick)
        self.lab_pick = QRectF(pick.left() - g, self.picks[0].top() - lh - g, pick.width() + g,
                               lh)
        self._hots = [[Hot(r, self.block, o) for o, r in enumerate(self.picks)]
                      + ([Hot(p[2], self.prev_block, i) for i, p in enumerate(self.pairs)]
                         if self.prev_block else [])]
        self._live = pieces([[self.big], self.in_rects, self.picks], t)

    def live_rects(self, page: int) -> list[QRectF]:
        return self._live

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        o = f.channel(self.block, self.units)
        ci = f.channel(self.prev_block, self.n_in) if self.prev_block else -1
        x, y = f.out(self.i_in), f.out(self.i_conv)
        ink.fit_text(self.lab_in, (f"{self.n_in} input maps, each ⊗ its own kernel",
                                   f"{self.n_in} maps ⊗ kernels", f"{self.n_in} maps"),
                     t.label_px)
        kernels = self._kernels.get(o)
        if kernels is None:  # weights do not change: one sheet per chosen map, kept
            kernels = self._kernels[o] = ink.sheet(self.w[o], -self.wlim, self.wlim)
        xin = None
        if x is not None and ink.visible(self._live[1]):
            xin = ink.sheet(x, -f.limits.act(self.i_in, x), f.limits.act(self.i_in, x))
        name, i_in = self.name, self.i_in
        if x is not None:
            ink.thumbs(self.in_rects, xin, self.ih, self.iw, label=lambda i: f"{i_in}[{i}]")
        ink.thumbs(self.kernel_rects, kernels, self.kh, self.kw, "weight",
                   lambda i: f"{name}.weight[{o},{i}]")
        ink.outlines(self.frames)
        if ci >= 0:
            ink.outline(self.pairs[ci][0], ink.look.accent, t.pen * 3)
        ink.fit_text(self.op_cell, (self.op,), t.title_px)
        ink.fit_text(self.lab_big, (f"map {o + 1} of {self.units}", f"map {o + 1}"), t.label_px)
        lim = 1.0 if y is None else f.limits.act(self.i_conv, y)
        if y is not None:
            ink.image(self.big, y[o], -lim, lim, label=f"{self.name}[{o}]")
        ink.outline(self.big, ink.look.text, t.pen * 1.5)
        if self.bias is not None:
            ink.fit_text(self.lab_bias, (f"+ bias {slide(float(self.bias[o]))}",),
                         t.label_px, color=ink.look.dim, role="weight",
                         label=f"{self.name}.bias[{o}]", value=float(self.bias[o]))
        ink.fit_text(self.lab_pick, ("pick a map", "pick"), t.label_px)
        sheet = None if y is None or not ink.visible(self._live[2]) else \
            ink.sheet(y, -lim, lim)
        if y is not None:
            ink.thumbs(self.picks, sheet, self.oh, self.ow, label=lambda j: f"{name}[{j}]")
        ink.outlines(self.picks)
        ink.outline(self.picks[o], ink.look.accent, t.pen * 3)


#: A step of a chain on big maps: its name, what it does (a pool's window filled in),
#: its short name on the strip.
CHAIN_STEPS = {
    "relu": ("ReLU", "drop the negatives", "ReLU"),
    "pool": ("pooling", "keep the largest of each {s}×{s}", "pool"),
    "norm": ("batch norm", "rescale each map", "norm"),
}


class ChainStage(StageBase):
    """ReLU, pooling and batch normalisation on big maps: one chosen map through each
    step, every result small. Its titles name the steps it has (an opened network may
    have ReLU alone, pooling alone, or a batch norm between them)."""

    short = "ReLU+pool"

    def __init__(self, i_src: int, chain: list[int], layers: list, block: str | None) -> None:
        self.i_src, self.chain = i_src, chain
        self.ids = [i_src, *chain]
        self.block = block
        self.kinds = [layers[i].kind for i in chain]
        self.shapes = [layers[i].output.shape for i in self.ids]
        self.names = [layers[i].name for i in self.ids]
        self.units = self.shapes[0][0]
        super().__init__()
        h, w = self.shapes[0][1:]
        ph, pw = self.shapes[-1][1:]
        s = _stride(h, ph)
        named = [CHAIN_STEPS[k] for k in self.kinds]
        steps = " and ".join(n for n, _, _ in named)
        does = ", ".join(d.format(s=s) for _, d, _ in named)
        self.short = "+".join(dict.fromkeys(a for _, _, a in named))
        self.titles = (
            f"{steps}: {does}",
            f"{steps}: {self.units} maps, {h}×{w} → {ph}×{pw}",
            steps,
        )
        self.subtitle = (f"{h}×{w} → {ph}×{pw}: smaller maps that keep where each pattern "
                         "was found — click a map to follow it" if (ph, pw) != (h, w) else
                         f"{h}×{w}, the same size: each value changed, where it was — "
                         "click a map to follow it")
        self.caps = []
        for k, shp in zip(self.kinds, self.shapes[1:]):
            self.caps.append(("ReLU: negatives → 0", "ReLU") if k == "relu" else
                             ("batch norm: each map rescaled", "norm") if k == "norm" else
                             (f"max pool {s}×{s} → {shp[1]}×{shp[2]}", f"pool → {shp[1]}×{shp[2]}",
                              "pool"))

    @property
    def shape(self) -> str:
        c, h, w = self.shapes[-1]
        return f"{c} × {h}×{w}"

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh = t.gap, t.line
        k = len(self.ids)
        arrow = 3 * t.min_px
        strip_h = body.height() * 0.26
        thumbs = QRectF(body.left(), body.bottom() - strip_h, body.width(), strip_h)
        cols, size = thumb_grid(self.units, thumbs, 1.0, 0.0, g / 2)
        side = min((body.width() - (k - 1) * arrow) / k,
                   body.height() - strip_h - 2 * (lh + g) - 2 * g)
        top = body.top() + (body.height() - strip_h - 2 * g - side - 2 * (lh + g)) / 2
        self.bigs = spread([side] * k, [arrow] * (k - 1), body, top + lh + g, side)
        self.caps_cells = [QRectF(b.left() - arrow / 2 + g / 2, top, b.width() + arrow - g, lh)
                           for b in self.bigs]
        self.count_cells = [QRectF(c.left(), b.bottom() + g, c.width(), lh)
                            for b, c in zip(self.bigs, self.caps_cells)]
        self.gaps = [QRectF(a.right(), a.top(), b.left() - a.right(), a.height())
                     for a, b in zip(self.bigs, self.bigs[1:])]
        self.thumbs = grid_rects(self.units, cols, size, size, g / 2, thumbs)
        self._hots = [[Hot(r, self.block, i) for i, r in enumerate(self.thumbs)]]
        self._live = pieces([self.bigs + self.count_cells, self.thumbs], t)

    def live_rects(self, page: int) -> list[QRectF]:
        return self._live

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        c = f.channel(self.block, self.units)
        first = f.out(self.ids[0])
        lim = 1.0 if first is None else f.limits.act(self.ids[0], first)
        h, w = self.shapes[0][1:]
        caps = [(f"{self.names[0]} map {c + 1} ({h}×{w})", f"map {c + 1}"), *self.caps]
        for j, (rect, i) in enumerate(zip(self.bigs, self.ids)):
            ink.fit_text(self.caps_cells[j], caps[j], t.label_px)
            v = f.out(i)
            if v is not None:
                ink.image(rect, v[c], -lim, lim, label=f"{self.names[j]}[{c}]")
                if j and self.kinds[j - 1] == "relu":
                    neg = int((f.layers[self.ids[j - 1]].output[c] < 0).sum())
                    ink.fit_text(self.count_cells[j], (f"{_count(neg)} values were negative",
                                                       f"{_count(neg)} negative"),
                                 t.label_px, color=ink.look.dim, role="number",
                                 label=f"{self.names[j]}:negatives", value=neg)
            ink.outline(rect, ink.look.text, t.pen * 1.5)
        for gap in self.gaps:
            y = gap.center().y()
            ink.arrow(QPointF(gap.left() + t.gap, y), QPointF(gap.right() - t.gap, y))
        last = f.out(self.ids[-1])
        ph, pw = self.shapes[-1][1:]
        sheet = None if last is None or not ink.visible(self._live[1]) else \
            ink.sheet(last, -lim, lim)
        if last is not None:
            last_name = self.names[-1]
            ink.thumbs(self.thumbs, sheet, ph, pw, label=lambda j: f"{last_name}[{j}]")
        ink.outlines(self.thumbs)
        ink.outline(self.thumbs[c], ink.look.accent, t.pen * 3)
