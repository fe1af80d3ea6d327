"""The output-size page's picture: a padded W×W input, an F×F window moving by S, the output.

No numbers in the cells — this page is about counting windows — only the formula,
filled in with the sliders' values and redrawn as they move.
"""

from __future__ import annotations

import numpy as np

from app.stepper.grid import Grid
from app.stepper.paint import Lines, symbol
from app.stepper.view import StepView
from engine.lecture import ConvSteps, size_text


class SizeView(StepView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("stepper_size_view")
        self.params = (7, 3, 0, 2)
        self.steps: ConvSteps | None = None
        self.index = 0

    def set_params(self, W: int, F: int, P: int, S: int) -> None:
        self.params = (W, F, P, S)
        self.steps = None
        if W + 2 * P >= F:
            self.steps = ConvSteps(np.zeros((W, W)), np.zeros((F, F)), stride=S, padding=P)
        self.invalidate()

    def set_index(self, index: int) -> None:
        self.index = index
        self.invalidate()

    def content(self):
        W, F, P, S = self.params
        side = W + 2 * P
        x = np.full((side, side), 0.35)
        dim = np.ones((side, side), bool)
        dim[P : P + W, P : P + W] = False
        formula = Lines([size_text(W, F, P, S)], bold={0}, scale=1.25)
        facts = Lines([f"input {W}×{W}, filter {F}×{F}, padding {P}, stride {S}"])
        if self.steps is None:
            inp = Grid(x, f"input {W}×{W} + padding {P}", 1.0, numbered=False, dim=dim,
                       image_side=12, key="input")

            def rows_nofit():
                m, look, base = self.metrics, self.look(), self.font()
                return [[inp.block(m, look, base)], [formula.block(m, look, base)],
                        [facts.block(m, look, base)]]

            return [inp], rows_nofit
        s = self.steps
        step = s[min(self.index, len(s) - 1)]
        (r0, r1), (c0, c1) = step.rows, step.cols
        inp = Grid(x, f"input {W}×{W} + padding {P}", 1.0, numbered=False, dim=dim,
                   boxes=[(r0 + P, r1 + P, c0 + P, c1 + P)], image_side=12, key="input")
        n = s.shape[0]
        out = np.full((n, s.shape[1]), np.nan)
        out.reshape(-1)[: step.index + 1] = 0.6
        og = Grid(out, f"output {s.shape[0]}×{s.shape[1]}", 1.0, numbered=False,
                  marks=[(step.row, step.col)], image_side=12 * max(n / max(side, 1), 0.25),
                  key="output")
        grids = [inp, og]

        def rows():
            m, look, base = self.metrics, self.look(), self.font()
            ib = inp.block(m, look, base)
            return [[ib, symbol("→", m, look, base, ib.h), og.block(m, look, base)],
                    [formula.block(m, look, base)], [facts.block(m, look, base)]]

        return grids, rows
