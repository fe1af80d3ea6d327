"""Votes and dense units: a weighted sum, one input at a time.

Votes (the X/O toy): each feature value times its weight is added to every class's
total, the bars grow, and the last step divides each total by their sum — the
arithmetic from the votes to the headline percentage. Dense: one unit's weighted sum
over its inputs (the zeros a ReLU left add nothing and are skipped), then + bias and
the ReLU when one follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.numbers import decimals_for, percent_text
from app.numbers import value_text as number_text
from app.stepper.grid import Grid, widest
from app.stepper.map_views import as_grid
from app.stepper.paint import Bars, Lines
from app.stepper.view import ShowView
from engine.lecture import DenseSteps, VoteSteps


@dataclass
class VoteShow:
    steps: VoteSteps
    classes: list[str]
    maps_shape: tuple[int, ...] | None  # (C, H, W) the values came from, if they were maps
    map_titles: list[str]


class VoteView(ShowView):
    def __init__(self, parent=None) -> None:
        super().__init__("stepper_vote_view", parent)

    def content(self):
        now = self.current()
        if now is None:
            return None
        show, s, step = now
        values = s.values
        dv = max(decimals_for(values), 2)
        lim = float(np.abs(values).max() or 1)
        grids: list[Grid] = []
        if show.maps_shape is not None and int(np.prod(show.maps_shape)) == values.size:
            C, H, W = show.maps_shape
            maps = values.reshape(C, H, W)
            for c in range(C):
                marks = []
                if step.i is not None and step.i // (H * W) == c:
                    marks = [divmod(step.i % (H * W), W)]
                title = show.map_titles[c] if c < len(show.map_titles) else f"map {c + 1}"
                grids.append(Grid(maps[c], title, lim, dv, marks=marks,
                                  template=widest(values, dv), key=f"map{c}"))
        else:
            g = as_grid(values)
            marks = [divmod(step.i, g.shape[1])] if step.i is not None else []
            grids.append(Grid(g, "values", lim, dv, marks=marks, key="map0"))
        dw = 3
        names = show.classes
        if step.i is not None:
            lines = [f"value {number_text(step.value, dv)}:"]
            for k, name in enumerate(names):
                lines.append(f"× {number_text(step.weights[k], dw)} = "
                             f"{number_text(step.products[k], dw)} → {name}")
            lines.append(f"value {step.i + 1} of {values.size}")
            text = Lines(lines, bold={0})
        else:
            total = float(np.sum(step.totals))
            t = " + ".join(number_text(v, 2) for v in step.totals)
            lines = [f"{name}: {number_text(step.totals[k], 2)} ÷ ({t}) = "
                     f"{percent_text(step.shares[k])}" for k, name in enumerate(names)]
            if total <= 0:
                lines = ["No votes at all: a tie", *lines]
            lead = int(np.argmax(step.shares))
            text = Lines(lines, accent={lines.index(next(x for x in lines
                                                          if x.startswith(f"{names[lead]}:")))})
        self._shown = list(text.lines)
        bar_limit = float(max(np.max(s.totals), 1e-9))
        bars = Bars(list(names), np.asarray(step.totals), bar_limit, 2,
                    lead=int(np.argmax(step.shares)) if step.shares is not None else None)

        def rows():
            m, look, base = self.metrics, self.look(), self.font()
            return [[g.block(m, look, base) for g in grids],
                    [text.block(m, look, base), bars.block(m, look, base)]]

        return grids, rows


@dataclass
class DenseShow:
    steps: DenseSteps
    output: np.ndarray  # the layer's traced outputs, all units
    input_title: str
    unit_title: str
    output_title: str
    labels: list[str] | None = None  # one per unit (class names), for a short output


class DenseView(ShowView):
    def __init__(self, parent=None) -> None:
        super().__init__("stepper_dense_view", parent)

    def content(self):
        now = self.current()
        if now is None:
            return None
        show, s, step = now
        x = as_grid(s.x)
        w = as_grid(s.row)
        dx, dw = max(decimals_for(s.x), 2), 3
        boxes = []
        if step.i is not None:
            r, c = divmod(step.i, x.shape[1])
            boxes = [(r, r + 1, c, c + 1)]
        inp = Grid(x, show.input_title, float(np.nanmax(np.abs(x)) or 1), dx, boxes=boxes,
                   template=widest(s.x, dx), key="input", image_side=9)
        wts = Grid(w, show.unit_title, float(np.nanmax(np.abs(w)) or 1), dw, boxes=boxes,
                   template=widest(s.row, dw), key="weights", image_side=9)
        out = np.asarray(show.output, np.float64).ravel()
        if out.size <= 16:
            og = out[None].copy()
            upos = (0, s.unit)
        else:
            og = as_grid(out)
            upos = divmod(s.unit, og.shape[1])
        if step.i is not None:
            og[upos] = np.nan
        do = 3 if out.size <= 16 else 2  # a short output row shows what the sum shows
        outs = Grid(og, show.output_title, float(np.abs(out).max() or 1), do, marks=[upos],
                    template=widest(out, do), key="output", image_side=9,
                    labels=show.labels if out.size <= 16 else None)
        n = len(s) - 1
        if step.i is not None:
            lines = [f"input {step.i + 1}: {number_text(step.x, dx)} × {number_text(step.w, dw)}"
                     f" = {number_text(step.product, dw)}",
                     f"sum so far ({step.index + 1} of {n}) = {number_text(step.running, dw)}"]
        else:
            lines = [f"sum of {n} products = {number_text(step.running, dw)}"]
            if step.bias is not None:
                lines.append(f"+ bias {number_text(step.bias, dw)} = {number_text(step.value, dw)}")
            if step.relu is not None:
                lines.append(f"ReLU: max(0, {number_text(step.value, dw)}) = "
                             f"{number_text(step.relu, dw)}")
        if s.skipped:
            lines.append(f"{s.skipped} inputs are 0 and add nothing")
        text = Lines(lines, accent={len(lines) - 1 - (1 if s.skipped else 0)}
                     if step.i is None else set())
        grids = [inp, wts, outs]
        self._shown = list(text.lines)

        def rows():
            m, look, base = self.metrics, self.look(), self.font()
            return [[inp.block(m, look, base), wts.block(m, look, base), outs.block(m, look, base)],
                    [text.block(m, look, base)]]

        return grids, rows
