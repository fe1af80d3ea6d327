"""Stages for the end of a network: votes, dense layers, scores, probabilities, answer.

The X/O toy ends the lecture's way — every value casts a weighted vote for each class
and the answer is each class's share of the votes. The Keras-style networks end with
dense layers, class scores (logits) and softmax. Both finish on the answer.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF

from app.look import Type, fit_px, line_height, text_width
from app.numbers import percent_text as percent
from app.numbers import score_text, signed_points, value_text
from app.stage.base import NUMBER, ROW, Frame, StageBase, number_px, spread
from app.stage.ink import Ink, Painted


def _count(n: int) -> str:
    return f"{n:,}"


def _total(v: float) -> str:
    return value_text(v, 2)


class VotesStage(StageBase):
    """Every value casts a weighted vote for each class; the totals give the shares."""

    short = "votes"

    def __init__(self, i_in: int, i_votes: int, layers: list, rows: int,
                 classes: list[str], nonneg: bool = False) -> None:
        super().__init__()
        self.template = "0.00" if nonneg else NUMBER  # after a ReLU there is no minus sign
        self.i_in, self.i_votes = i_in, i_votes
        self.name, self.in_name = layers[i_votes].name, layers[i_in].name
        self.weights = np.asarray(layers[i_votes].weights, np.float32)
        self.k, n = self.weights.shape
        self.rows = rows if n % rows == 0 else 1
        self.cols = n // self.rows
        self.classes = list(classes)
        self.titles = (
            "Votes: every value votes for each class, weighted by how much it says so",
            "Votes: every value casts a weighted vote",
            "Votes",
        )
        self.subtitle = (f"{n} values × vote weights, added up per class; "
                         "the share of the votes is the answer")

    @property
    def shape(self) -> str:
        return f"{self.weights.shape[1]} → {self.k}"

    def _arith(self, votes: list[str], pct: list[str], k: int) -> tuple[str, ...]:
        total = " + ".join(votes)
        return (f"{self.classes[k]}: {votes[k]} / ({total}) = {pct[k]}",
                f"{self.classes[k]}: {pct[k]} of the votes")

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh, px = t.gap, t.line, t.label_px
        names = ["values", *[f"→ {c}" for c in self.classes]]
        self.left_w = max(text_width(s, px) for s in names) + 2 * g
        self.right_w = text_width("= " + NUMBER, px) + 2 * g
        vote_h = 0.5  # vote rows are colour only: shorter than the numbered value rows
        arith = self._arith(["0.00"] * self.k, ["100%"] * self.k, 0)[0]
        self.arith_px = max(t.min_px, min(t.title_px, fit_px(arith, body.width(), 3 * lh, 999)))
        arith_h = self.k * line_height(self.arith_px) * 1.15
        fixed_h = lh + g + lh + self.k * 2 * g + 2 * g + arith_h
        c = min((body.width() - self.left_w - self.right_w) / self.cols,
                (body.height() - fixed_h) / (self.rows * (ROW + self.k * vote_h)))
        self.px = number_px(c, c * ROW, t, self.template)
        gw = self.cols * c
        total_h = fixed_h + self.rows * c * (ROW + self.k * vote_h)
        top = body.center().y() - total_h / 2
        x = body.center().x() - (gw + self.left_w + self.right_w) / 2 + self.left_w
        self.header = QRectF(x, top, gw, lh)
        y = top + lh + g
        self.values = QRectF(x, y, gw, self.rows * c * ROW)
        self.blocks = []
        self.vote_header = QRectF(x, self.values.bottom() + g, gw, lh)
        y = self.vote_header.bottom() + g
        for _ in range(self.k):
            self.blocks.append(QRectF(x, y, gw, self.rows * c * vote_h))
            y += self.rows * c * vote_h + 2 * g
        rects = [self.values, *self.blocks]
        self.name_cells = [QRectF(r.left() - self.left_w, r.top(), self.left_w - g, r.height())
                           for r in rects]
        self.total_cells = [QRectF(r.right() + g, r.top(), self.right_w - g, r.height())
                            for r in self.blocks]
        self.arith_cells = [QRectF(body.left(), y + k * line_height(self.arith_px) * 1.15,
                                   body.width(), line_height(self.arith_px))
                            for k in range(self.k)]

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        names = ["values", *[f"→ {c}" for c in self.classes]]
        for cell, text in zip(self.name_cells, names):
            ink.fit_text(cell, (text,), t.label_px, align="right")
        n = self.rows * self.cols
        ink.fit_text(self.header, (f"the {n} rectified values, in a list ({self.rows} features "
                                   f"× {self.cols})", f"{n} values"), t.label_px)
        v = f.out(self.i_in)
        votes = f.out(self.i_votes)
        vals = None if v is None else np.asarray(v, np.float32).reshape(self.rows, self.cols)
        lim = 1.0 if v is None else f.limits.act(self.i_in, v)
        ink.grid(self.values, vals, self.rows, self.cols, lo=-lim, hi=lim, px=self.px,
                 name=f"{self.in_name}[0]")
        prods = None if vals is None else vals[None] * self.weights.reshape(
            self.k, self.rows, self.cols)
        # the votes' own colour scale: a vote is a small share of a value
        plim = 1.0 if prods is None else f.limits.act(-1 - self.i_votes, prods)
        for k, block in enumerate(self.blocks):
            ink.grid(block, None if prods is None else prods[k], self.rows, self.cols,
                     lo=-plim, hi=plim)
        ink.fit_text(self.vote_header, ("each cell: the value × its vote weight for the class "
                                        "(darker = a bigger vote)", "value × vote weight"),
                     t.label_px, color=ink.look.dim, bold=False)
        if votes is None:
            return
        vt = [_total(float(x)) for x in votes]
        shares = np.asarray(f.probabilities, np.float64)
        pct = [percent(float(p)) for p in shares]
        win = int(np.argmax(np.abs(votes) if f.difference else votes))
        for k, cell in enumerate(self.total_cells):
            ink.text(cell, f"= {vt[k]}", t.label_px, align="left", role="number",
                     label=f"{self.name}[{k}]", value=float(votes[k]))
        for k, cell in enumerate(self.arith_cells):
            # B − A: the shares' arithmetic does not hold for differences; say what moved.
            lines = ((f"{self.classes[k]}: {score_text(float(votes[k]))} votes, "
                      f"{signed_points(float(shares[k]))} points",
                      f"{self.classes[k]}: {signed_points(float(shares[k]))} points")
                     if f.difference else self._arith(vt, pct, k))
            ink.fit_text(cell, lines, self.arith_px,
                         color=ink.look.accent if k == win else None)


class DenseStage(StageBase):
    """A wide dense layer: its input list, its weighted sums and their ReLU, as grids."""

    def __init__(self, i_in: int, i_dense: int, i_relu: int | None, layers: list,
                 src_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.i_in, self.i_dense, self.i_relu = i_in, i_dense, i_relu
        self.name = layers[i_dense].name
        self.short = self.name
        self.m = int(layers[i_in].output.size)
        self.n = int(layers[i_dense].output.size)
        self.src_shape = src_shape
        self.titles = (
            f"{self.name} (dense): {_count(self.n)} neurons, each weighs all "
            f"{_count(self.m)} values",
            f"{self.name}: {_count(self.n)} neurons see everything",
            self.name,
        )
        self.subtitle = ("every neuron adds up all the values, each times its own weight; "
                         "ReLU keeps the positive sums")

    @property
    def shape(self) -> str:
        return _count(self.n)

    @staticmethod
    def _square(n: int) -> tuple[int, int]:
        cols = math.ceil(math.sqrt(n))
        return math.ceil(n / cols), cols

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh = t.gap, t.line
        k = 3 if self.i_relu is not None else 2
        arrow = 4 * t.min_px
        side = min((body.width() - (k - 1) * arrow) / k, body.height() - 2 * (lh + g))
        boxes = spread([side] * k, [arrow] * (k - 1), body, 0, side)
        top = body.center().y() - (side + 2 * (lh + g)) / 2
        self.squares = [QRectF(b.left(), top + lh + g, side, side) for b in boxes]
        self.captions = [QRectF(b.left() - arrow / 2 + g, top, side + arrow - 2 * g, lh)
                         for b in self.squares]
        self.counts = [QRectF(b.left() - arrow / 2 + g, b.bottom() + g, side + arrow - 2 * g, lh)
                       for b in self.squares]
        self.gaps = [QRectF(a.right(), a.top(), b.left() - a.right(), a.height())
                     for a, b in zip(self.squares, self.squares[1:])]

    def _grid(self, ink: Ink, rect: QRectF, v: np.ndarray | None, lim: float, label: str) -> None:
        rows, cols = self._square(v.size if v is not None else 1)
        if v is not None:
            flat = np.zeros(rows * cols, np.float32)
            flat[: v.size] = v.reshape(-1)
            ink.image(rect, flat.reshape(rows, cols), -lim, lim, label=label)
        ink.outline(rect, ink.look.text, ink.type.pen * 1.5)

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        src = " × ".join(str(s) for s in self.src_shape)
        caps = [(f"{_count(self.m)} values in a list", f"{_count(self.m)} values"),
                (f"{self.name}: {_count(self.n)} sums", f"{_count(self.n)} sums"),
                ("after ReLU", "ReLU")]
        counts = [(f"({src})", ""), ("", ""), ("", "")]
        ids = [self.i_in, self.i_dense, self.i_relu]
        for j, rect in enumerate(self.squares):
            ink.fit_text(self.captions[j], caps[j], t.label_px)
            if counts[j][0]:
                ink.fit_text(self.counts[j], counts[j], t.label_px, color=ink.look.dim)
            v = f.out(ids[j])
            lim = 1.0 if v is None else f.limits.act(ids[j] if j < 2 else self.i_dense, v)
            self._grid(ink, rect, v, lim, f"{self.name}:{j}")
        for j, gap in enumerate(self.gaps):
            y = gap.center().y()
            ink.arrow(QPointF(gap.left() + t.gap, y), QPointF(gap.right() - t.gap, y))
            ink.fit_text(QRectF(gap.left(), y - 1.5 * t.line, gap.width(), t.line),
                         ("× w" if j == 0 else "ReLU",), t.label_px)
        relu = f.out(self.i_relu) if self.i_relu is not None else None
        if relu is not None:
            on = int((relu > 0).sum())
            ink.fit_text(self.counts[-1], (f"{_count(on)} of {_count(self.n)} active",
                                           f"{_count(on)} active"), t.label_px,
                         role="number", label=f"{self.name}:active", value=on)


class _Columns(StageBase):
    """One labelled column per class: a number on top, a bar, the class name below."""

    template = "+00.0"

    def __init__(self, i: int, classes: list[str]) -> None:
        super().__init__()
        self.i = i
        self.classes = list(classes)

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g = t.gap
        k = len(self.classes)
        col_w = min(body.width() / k, 10 * t.label_px)
        cols = spread([col_w] * k, [0] * (k - 1), body, body.top(), body.height())
        self.num_px = max(t.min_px, min(round(t.title_px * 0.9),
                                        fit_px(self.template, col_w - 2 * g, body.height(), 999)))
        self.name_px = max(t.min_px, min(t.title_px, fit_px(
            max(self.classes, key=len), col_w - 2 * g, body.height(), 999)))
        top_h, name_h = line_height(self.num_px) + g, line_height(self.name_px) + g
        self.cols = []
        for c in cols:
            inner = c.adjusted(g, 0, -g, 0)
            self.cols.append((QRectF(inner.left(), c.top(), inner.width(), top_h - g),
                              QRectF(inner.left(), c.top() + top_h, inner.width(),
                                     c.height() - top_h - name_h),
                              QRectF(inner.left(), c.bottom() - name_h + g, inner.width(),
                                     name_h - g)))

    def bar(self, ink: Ink, area: QRectF, frac: float, zero: float, color: str) -> None:
        """A bar from ``zero`` (a fraction of the area's height) covering ``frac`` of it."""
        w = area.width() * 0.6
        x = area.center().x() - w / 2
        y0 = area.bottom() - zero * area.height()
        y1 = y0 - frac * area.height()
        rect = QRectF(x, min(y0, y1), w, abs(y1 - y0))
        ink.fill(rect, color)
        ink.painted.append(Painted(rect, "activity"))


class ScoresStage(_Columns):
    """The last dense layer: one score (logit) per class, with its number."""

    def __init__(self, i: int, layers: list, classes: list[str]) -> None:
        super().__init__(i, classes)
        self.name = layers[i].name
        self.short = self.name
        m = int(layers[i - 1].output.size)
        self.titles = (f"{self.name}: one score (logit) per class — highest wins",
                       f"{self.name}: one score per class", self.name)
        self.subtitle = f"each score is a weighted sum of all {_count(m)} neurons before it"

    @property
    def shape(self) -> str:
        return str(len(self.classes))

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        z = f.out(self.i)
        lim = 1.0 if z is None else f.limits.act(self.i, z)
        win = -1 if z is None else int(np.argmax(z))
        for k, (top, area, name) in enumerate(self.cols):
            ink.text(name, self.classes[k], self.name_px,
                     color=ink.look.accent if k == win else None)
            zero_y = area.center().y()
            ink.p.setPen(ink.look.line)
            ink.p.drawLine(QPointF(area.left(), zero_y), QPointF(area.right(), zero_y))
            if z is None:
                continue
            v = float(z[k])
            self.bar(ink, area, 0.5 * v / lim, 0.5, ink.look.accent if k == win else ink.look.bar)
            ink.text(top, score_text(v), self.num_px, role="number", label=f"{self.name}[{k}]",
                     value=v, color=ink.look.accent if k == win else None)


class ProbabilityStage(_Columns):
    """Softmax: each class's probability as a labelled bar with its percentage."""

    short = "softmax"
    template = "100%"

    def __init__(self, i: int, layers: list, classes: list[str]) -> None:
        super().__init__(i, classes)
        self.name = layers[i].name
        self.titles = ("softmax: scores become probabilities that add up to 100%",
                       "softmax: scores → probabilities", "softmax")
        self.subtitle = "a bigger score gets a much bigger share: e^score ÷ the sum of all e^score"

    @property
    def shape(self) -> str:
        return str(len(self.classes))

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        p = f.out(self.i)
        win = -1 if p is None else int(np.argmax(p))
        if f.difference:
            self.paint_difference(ink, p)
            return
        for k, (top, area, name) in enumerate(self.cols):
            hot = ink.look.accent if k == win else None
            ink.text(name, self.classes[k], self.name_px, color=hot)
            ink.p.setPen(ink.look.line)
            ink.p.drawLine(QPointF(area.left(), area.bottom()), QPointF(area.right(),
                                                                        area.bottom()))
            if p is None:
                continue
            v = float(p[k])
            self.bar(ink, area, v, 0.0, hot or ink.look.bar)
            ink.text(top, percent(v), self.num_px, role="number", label=f"{self.name}[{k}]",
                     value=v, color=hot)

    def paint_difference(self, ink: Ink, d: np.ndarray | None) -> None:
        """B − A: each class's change in points on a signed axis, −100 at the bottom of
        its column, +100 at the top, around a zero line — a negative change is a bar
        going down, where on a 0–100 % axis it would vanish."""
        big = -1 if d is None else int(np.argmax(np.abs(d)))
        for k, (top, area, name) in enumerate(self.cols):
            hot = ink.look.accent if k == big else None
            ink.text(name, self.classes[k], self.name_px, color=hot)
            ink.p.setPen(ink.look.line)
            mid = area.center().y()
            ink.p.drawLine(QPointF(area.left(), mid), QPointF(area.right(), mid))
            if d is None:
                continue
            v = float(d[k])
            self.bar(ink, area, 0.5 * v, 0.5, hot or ink.look.bar)
            ink.text(top, signed_points(v), self.num_px, role="number",
                     label=f"{self.name}[{k}]", value=v, color=hot)
