"""A convolution, one window position at a time: input → output, patch × kernel = products.

The top row is the input with the window outlined and the output map filling in; the
bottom row is the arithmetic of the current cell: the patch, the kernel, their
element-wise products and the lines that add them up — the ÷9 of the toy's normalised
matching, or + bias and the ReLU. A multi-channel input shows one channel per step
(its map in the top row), and the sum of the channels at the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.numbers import MINUS, decimals_for
from app.numbers import value_text as number_text
from app.stepper.grid import Grid, widest
from app.stepper.paint import Lines, fit, symbol
from app.stepper.view import ShowView
from engine.lecture import ConvSteps


@dataclass
class ConvShow:
    """What a conv step-through shows around its :class:`~engine.steps.ConvSteps`.

    ``output`` is the map that fills in (the traced layer's channel, or the steps' own
    output on a lecture page). ``input_titles[c]`` names input channel ``c``.
    """

    steps: ConvSteps
    output: np.ndarray
    input_titles: list[str]
    output_title: str = "output"
    kernel_title: str = "kernel"
    channel_names: tuple[str, ...] = ()
    limits: tuple[float, float, float] | None = None  # input, kernel, output colour limits
    decimals: dict[str, int] = field(default_factory=dict)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith(("-", MINUS)) else text


class ConvView(ShowView):
    """Draws the current :class:`~engine.steps.ConvStep` of a :class:`ConvShow`."""

    def __init__(self, parent=None) -> None:
        super().__init__("stepper_conv_view", parent)

    def set_show(self, show: ConvShow | None, index: int = 0) -> None:
        if show is not None:
            s = show.steps
            show.decimals.setdefault("x", decimals_for(s.x))
            show.decimals.setdefault("w", decimals_for(s.kernel))
            show.decimals.setdefault("out", max(decimals_for(show.output), 0))
            show.decimals.setdefault("sum", 0 if s.divide else show.decimals["out"])
            if show.limits is None:
                show.limits = (float(np.abs(s.x).max() or 1), float(np.abs(s.kernel).max() or 1),
                               float(np.abs(show.output).max() or 1))
        super().set_show(show, index)

    def content(self):
        now = self.current()
        if now is None:
            return None
        show, s, step = now
        d = show.decimals
        lim_x, lim_w, lim_o = show.limits
        ch = step.channel
        py, px = s.padding
        C, Hp, Wp = s.padded.shape
        dim = np.ones((Hp, Wp), bool)
        dim[py : Hp - py, px : Wp - px] = False
        (r0, r1), (c0, c1) = step.rows, step.cols
        x_tpl = widest(s.x, d["x"])
        inp = Grid(s.padded[ch], show.input_titles[ch], lim_x, d["x"],
                   dim=dim if (py or px) else None,
                   boxes=[(r0 + py, r1 + py, c0 + px, c1 + px)], template=x_tpl, key="input")
        out = np.asarray(show.output, np.float64)
        hide = np.zeros(out.shape, bool)
        done = s.cell_index(step.row, step.col) // s.channels + (1 if step.complete else 0)
        hide.reshape(-1)[done:] = True
        out_grid = Grid(out, show.output_title, lim_o, d["out"], marks=[(step.row, step.col)],
                        template=widest(show.output, d["out"]), key="output", image_side=11,
                        hide=hide)
        patch = Grid(step.patch[ch], "patch", lim_x, d["x"], template=x_tpl, key="patch")
        kname = show.kernel_title
        if C > 1:
            kname = (f"{kname} {show.channel_names[ch]}" if show.channel_names
                     else f"{kname}, channel {ch + 1}")
        kernel = Grid(s.kernel[ch], kname, lim_w, d["w"], template=widest(s.kernel, d["w"]),
                      key="kernel")
        dp = max(d["x"], d["w"])
        biggest = float(np.abs(s.x).max() * np.abs(s.kernel).max())
        products = Grid(step.products[ch], "products", lim_x * lim_w, dp,
                        template=number_text(-biggest, dp), key="products")
        lines = Lines(self._lines(step, show))
        grids = [inp, out_grid, patch, kernel, products]
        self._shown = list(lines.lines)

        def rows():
            m, look, base = self.metrics, self.look(), self.font()
            ib = inp.block(m, look, base)
            top = [ib, symbol("→", m, look, base, ib.h), out_grid.block(m, look, base)]
            h = patch.block(m, look, base).h
            bottom = [patch.block(m, look, base), symbol("×", m, look, base, h),
                      kernel.block(m, look, base), symbol("=", m, look, base, h),
                      products.block(m, look, base)]
            # The sums beside the products, or on a row of their own when that lets
            # every number be bigger (conv2's many channels make the bottom row wide).
            beside = [top, [*bottom, lines.block(m, look, base)]]
            below = [top, bottom, [lines.block(m, look, base)]]
            area, most = self.area(), max(12.0, self.height() / 14)
            return max((beside, below), key=lambda r: fit(r, area.width(), area.height(), most))

        lines.accent = {len(lines.lines) - 1} if step.complete else set()
        return grids, rows

    def _lines(self, step, show: ConvShow) -> list[str]:
        d = show.decimals
        ds = d["sum"]
        out: list[str] = []
        names = show.channel_names or tuple(str(c + 1) for c in range(step.channels))
        if step.channels == 1:
            out.append(f"sum of products = {number_text(step.total, ds)}")
        elif step.channels <= 4:
            for c in range(step.channel + 1):
                out.append(f"{names[c]}: {number_text(step.channel_sums[c], ds)}")
        else:
            out.append(f"channel {step.channel + 1} of {step.channels}: "
                       f"{number_text(step.channel_sums[step.channel], ds)}")
            out.append(f"running sum = {number_text(step.partial, ds)}")
        if not step.complete:
            return out
        total = number_text(step.total, ds)
        value = number_text(step.value, d["out"])
        if step.divide:
            out.append(f"{total} ÷ {step.divide} = {value}")
        elif step.channels > 1 and step.channels <= 4:
            terms = [_paren(number_text(v, ds)) for v in step.channel_sums]
            if step.bias is not None:
                terms.append(_paren(number_text(step.bias, ds)))
            out.append(f"{' + '.join(terms)} = {value}")
        else:
            if step.channels > 4:
                out.append(f"sum of {step.channels} channels = {total}")
            if step.bias is not None:
                out.append(f"{total} + bias {_paren(number_text(step.bias, d['out']))} = {value}")
        if step.relu is not None:
            out.append(f"ReLU: max(0, {value}) = {number_text(step.relu, d['out'])}")
        return out
