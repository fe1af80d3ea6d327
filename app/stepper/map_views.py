"""Pooling, ReLU and batch norm, one cell at a time, on one map.

Pooling: the 2×2 window moves over the map, the largest value in it is marked and
copied into the smaller map. ReLU: each negative value in turn becomes 0; a map with
no negatives says so instead of pretending to step. Batch norm: each value in turn is
scaled and shifted by its map's two numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.numbers import MINUS, decimals_for
from app.numbers import value_text as number_text
from app.stepper.grid import Grid, widest
from app.stepper.paint import Lines, symbol
from app.stepper.view import ShowView
from engine.lecture import NormSteps, PoolSteps, ReluSteps


def as_grid(values: np.ndarray) -> np.ndarray:
    """A map stays as it is; a vector is folded into rows (NaN fills the last row)."""
    v = np.asarray(values, np.float64)
    if v.ndim == 2:
        return v
    n = v.size
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    out = np.full(rows * cols, np.nan)
    out[:n] = v.ravel()
    return out.reshape(rows, cols)


def grid_pos(position: tuple[int, ...], shape: tuple[int, int]) -> tuple[int, int]:
    """Where a value at ``position`` sits in :func:`as_grid`'s folding."""
    if len(position) == 2:
        return position
    return divmod(position[0], shape[1])


@dataclass
class PoolShow:
    steps: PoolSteps
    output: np.ndarray
    input_title: str
    output_title: str


class PoolView(ShowView):
    def __init__(self, parent=None) -> None:
        super().__init__("stepper_pool_view", parent)

    def content(self):
        now = self.current()
        if now is None:
            return None
        show, s, step = now
        d = max(decimals_for(s.x), 0)
        lim = float(np.abs(s.x).max() or 1)
        tpl = widest(s.x, d)
        (r0, r1), (c0, c1) = step.rows, step.cols
        inp = Grid(s.x, show.input_title, lim, d, boxes=[(r0, r1, c0, c1)], marks=[step.pick],
                   template=tpl, key="input")
        out = np.asarray(show.output, np.float64)
        hide = np.zeros(out.shape, bool)
        hide.reshape(-1)[s.cell_index(step.row, step.col) + 1 :] = True
        out_grid = Grid(out, show.output_title, lim, d, marks=[(step.row, step.col)],
                        template=tpl, key="output", hide=hide)
        pick = (step.pick[0] - r0, step.pick[1] - c0)
        window = Grid(step.window, "window", lim, d, marks=[pick], template=tpl, key="window")
        vals = ", ".join(number_text(v, d) for v in step.window.ravel())
        lines = Lines([f"max({vals})", f"= {number_text(step.value, d)}"], accent={1})
        grids = [inp, out_grid, window]
        self._shown = list(lines.lines)

        def rows():
            m, look, base = self.metrics, self.look(), self.font()
            wb, ib = window.block(m, look, base), inp.block(m, look, base)
            return [
                [ib, symbol("→", m, look, base, ib.h), out_grid.block(m, look, base)],
                [wb, symbol("→", m, look, base, wb.h), lines.block(m, look, base)],
            ]

        return grids, rows


@dataclass
class ValueShow:
    """A map through a layer that changes it value by value (:class:`ReluView`,
    :class:`NormView`)."""

    steps: ReluSteps | NormSteps
    input_title: str
    output_title: str


class _ValueByValue(ShowView):
    """A map before and after a layer that changes it value by value (ReLU, batch norm):
    the two side by side with an arrow, the step's lines below."""

    def before_after(self, before: np.ndarray, after: np.ndarray, lims: tuple[float, float],
                     d: int, tpl: str, marks: list[tuple[int, int]], lines: Lines):
        """The page: ``before`` and ``after`` as grids of ``d`` decimals in the width of
        ``tpl``, coloured to ``lims`` (each its own), ``marks`` on both, ``lines`` below."""
        show = self.show_
        b = Grid(before, show.input_title, lims[0], d, marks=marks, template=tpl, key="input")
        a = Grid(after, show.output_title, lims[1], d, marks=marks, template=tpl, key="output")
        self._shown = list(lines.lines)

        def rows():
            m, look, base = self.metrics, self.look(), self.font()
            bb = b.block(m, look, base)
            return [[bb, symbol("→", m, look, base, bb.h), a.block(m, look, base)],
                    [lines.block(m, look, base)]]

        return [b, a], rows


class ReluView(_ValueByValue):
    def __init__(self, parent=None) -> None:
        super().__init__("stepper_relu_view", parent)

    def content(self):
        show = self.show_
        if show is None:
            return None
        s = show.steps
        before = as_grid(s.x)
        after = before.copy()
        d = max(decimals_for(s.x), 0)
        lim = float(np.nanmax(np.abs(before)) or 1)
        tpl = widest(before, d)
        marks: list[tuple[int, int]] = []
        if len(s):
            i = min(self.index, len(s) - 1)
            for k in range(i + 1):
                after[grid_pos(s.negatives[k], before.shape)] = 0.0
            step = s[i]
            marks = [grid_pos(step.position, before.shape)]
            # The value is negative, however close to 0 its cut digits come: say so
            # ("max(0, 0.000)" would leave a student asking why it changed).
            value = number_text(step.before, d)
            value = value if value.startswith(MINUS) else MINUS + value
            lines = Lines([f"max(0, {value}) = 0",
                           f"{i + 1} of {len(s)} negative values turned to 0"], accent={0})
        else:
            lines = Lines(["No value here is negative:", "ReLU changes nothing in this map."])
        return self.before_after(before, after, (lim, lim), d, tpl, marks, lines)


class NormView(_ValueByValue):
    """Batch norm: the map before and after, the current value marked in both and
    ``x × scale + shift = y`` written out; the cells already stepped show their new
    values, the rest their old ones."""

    def __init__(self, parent=None) -> None:
        super().__init__("stepper_norm_view", parent)

    def content(self):
        show = self.show_
        if show is None:
            return None
        s = show.steps
        before = as_grid(s.x)
        out = as_grid(s.output())
        both = np.concatenate([before.ravel(), out.ravel()])
        d = max(decimals_for(both), 2)
        tpl = widest(both, d)
        i = min(self.index, len(s) - 1)
        step = s[i]
        pos = grid_pos(step.position, before.shape)
        # The cells stepped so far (reading order, a vector's folding too) show their
        # new values.
        flat = before.ravel().copy()
        flat[: i + 1] = out.ravel()[: i + 1]
        after = flat.reshape(before.shape)
        lims = (float(np.nanmax(np.abs(before)) or 1), float(np.nanmax(np.abs(out)) or 1))
        lines = Lines([f"{number_text(step.before, d)} × {number_text(step.scale, 3)} "
                       f"+ {number_text(step.shift, 3)} = {number_text(step.after, d)}",
                       f"value {i + 1} of {len(s)}"], accent={0})
        return self.before_after(before, after, lims, d, tpl, [pos], lines)
