"""The pooling and ReLU stages of small maps: every value written, as the lecture's tables.

Pooling draws each window and marks its largest value; ReLU puts each map before and
after side by side, the negatives marked as they turn to 0, as on the ReLU slide.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF

from app.look import Type, text_width
from app.stage.base import (
    ROW,
    Frame,
    Hot,
    StageBase,
    centred,
    label_cells,
    number_px,
    spread,
)
from app.stage.ink import Ink, slide


def rectified(v: float) -> str:
    """A value after ReLU as the lecture's ReLU slide prints it: a cleared cell is "0"."""
    return "0" if v == 0 else slide(v)

def _stride(size: int, pooled: int) -> int:
    """Pooling window size, from the shapes (the layer record carries no kernel size)."""
    return max(1, round(size / max(pooled, 1)))


def pool_argmax(m: np.ndarray, s: int, ph: int, pw: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the largest value of each s×s window (partial windows included)."""
    h, w = m.shape
    padded = np.full((ph * s, pw * s), -np.inf, np.float32)
    padded[:min(h, ph * s), :min(w, pw * s)] = m[:ph * s, :pw * s]
    win = padded.reshape(ph, s, pw, s).transpose(0, 2, 1, 3).reshape(ph, pw, s * s)
    k = win.argmax(axis=2)
    rows = np.arange(ph)[:, None] * s + k // s
    cols = np.arange(pw)[None, :] * s + k % s
    return rows, cols


class PoolNumbersStage(StageBase):
    """Max pooling with the windows drawn and each window's largest value marked."""

    short = "pool"

    def __init__(self, i_src: int, i_pool: int, layers: list, block: str | None) -> None:
        self.i_src, self.i_pool = i_src, i_pool
        self.src_name, self.name = layers[i_src].name, layers[i_pool].name
        self.block = block
        self.units, self.h, self.w = layers[i_src].output.shape
        _, self.ph, self.pw = layers[i_pool].output.shape
        self.s = _stride(self.h, self.ph)
        super().__init__()
        s = self.s
        self.titles = (
            f"Pooling: keep the largest value of every {s}×{s} window",
            f"Pooling: the largest of each {s}×{s}",
            "Pooling",
        )
        self.subtitle = (f"{self.h}×{self.w} → {self.ph}×{self.pw}: a smaller map that still "
                         "says where each feature matched")
        # For the curious student: the lecture rectifies, then pools; the other order gives
        # the same tables, because the largest of a window and ReLU commute.
        self.note = (("pooling first, then ReLU, gives the same tables: max and ReLU commute",
                      "pool then ReLU: the same tables (they commute)")
                     if layers[i_src].kind == "relu" else ())

    @property
    def shape(self) -> str:
        return f"{self.units} × {self.ph}×{self.pw}"

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh = t.gap, t.line
        arrow_w = max(text_width("max", t.label_px) + 2 * g, 3 * t.min_px)
        room = body.height() - (lh + g if self.note else 0)
        for k in (self.units, 1):
            c = min((body.width() - arrow_w) / (self.w + self.pw),
                    (room - k * (lh + g) - (k - 1) * 2 * g) / (k * self.h * ROW))
            px = number_px(c, c * ROW, t)
            if px >= t.min_px:
                break
        self.set_per_page(k)
        self.px = px
        sq = c * ROW
        row_h = lh + g + self.h * sq
        total_h = k * row_h + (k - 1) * 2 * g
        top = body.top() + max(0.0, (room - total_h) / 2)
        self.note_cell = QRectF(body.left(), top + total_h + g, body.width(), lh)
        self.slots = []
        for j in range(k):
            y = top + j * (row_h + 2 * g)
            boxes = spread([self.w * c, self.pw * c], [arrow_w], body, y + lh + g, self.h * sq)
            pooled = centred(self.pw * c, self.ph * sq, boxes[1])
            grids = [boxes[0], pooled]
            labels = label_cells(grids, y, lh, body)
            self.slots.append((grids, labels, QRectF(boxes[0].right(), boxes[0].top(), arrow_w,
                                                     boxes[0].height())))
        for p in range(self.pages):
            for j, ch in enumerate(self.page_units(p)):
                self._hots[p] += [Hot(r, self.block, ch) for r in self.slots[j][0]]

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        src, out = f.out(self.i_src), f.out(self.i_pool)
        lim = 1.0 if src is None else f.limits.act(self.i_src, src)
        for j, ch in enumerate(self.page_units(page)):
            (grid, pooled), labels, gap = self.slots[j]
            ink.fit_text(labels[0], (f"map {ch + 1} ({self.h}×{self.w})", f"map {ch + 1}"),
                         t.label_px)
            ink.fit_text(labels[1], (f"pooled ({self.ph}×{self.pw})", "pooled"), t.label_px)
            mid = gap.center()
            ink.fit_text(QRectF(gap.left(), mid.y() - 1.6 * t.line, gap.width(), t.line),
                         ("max",), t.label_px)
            ink.arrow(QPointF(gap.left() + t.gap, mid.y()), QPointF(gap.right() - t.gap, mid.y()))
            fmt = rectified if self.note else slide  # a rectified map prints its zeros as 0
            ink.grid(grid, None if src is None else src[ch], self.h, self.w, lo=-lim, hi=lim,
                     px=self.px, name=f"{self.src_name}[{ch}]", every=self.s, fmt=fmt)
            ink.grid(pooled, None if out is None else out[ch], self.ph, self.pw, lo=-lim, hi=lim,
                     px=self.px, name=f"{self.name}[{ch}]", fmt=fmt)
            if src is not None:
                rows, cols = pool_argmax(src[ch], self.s, self.ph, self.pw)
                cw, chh = grid.width() / self.w, grid.height() / self.h
                inset = max(3.0, 0.08 * cw)
                ink.outlines([QRectF(grid.left() + c * cw, grid.top() + r * chh, cw, chh)
                              .adjusted(inset, inset, -inset, -inset)
                              for r, c in zip(rows.ravel().tolist(), cols.ravel().tolist())],
                             ink.look.accent, max(t.pen * 3, 0.06 * cw))
            if self.per_page > 1 and ch == f.channel(self.block, self.units):
                ink.outline(pooled.adjusted(-t.gap / 2, -t.gap / 2, t.gap / 2, t.gap / 2),
                            ink.look.accent, t.pen * 3)
        if self.note:
            ink.fit_text(self.note_cell, self.note, t.label_px, color=ink.look.dim)


class ReluNumbersStage(StageBase):
    """ReLU on small maps, as on the lecture's ReLU slide: each map before and after, side
    by side, the negatives marked as they turn to 0 ("0.77 −0.11 0.11 …" becomes
    "0.77 0 0.11 …"). As many features per page as fit at a readable size."""

    short = "ReLU"

    def __init__(self, i_src: int, i_relu: int, layers: list, block: str | None) -> None:
        self.i_src, self.i_relu = i_src, i_relu
        self.src_name, self.name = layers[i_src].name, layers[i_relu].name
        self.block = block
        self.units, self.h, self.w = layers[i_relu].output.shape
        super().__init__()
        self.titles = (
            "ReLU: every negative value becomes 0",
            "ReLU: negatives become 0",
            "ReLU",
        )
        self.subtitle = "positive values pass unchanged; the marked cells were negative"

    @property
    def shape(self) -> str:
        return f"{self.units} × {self.h}×{self.w}"

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g, lh = t.gap, t.line
        # On a small stage the arrow goes without its word: every pixel goes to the numbers.
        arrow_w = (2 * t.min_px if t.compact else
                   max(text_width("ReLU", t.label_px) + 2 * g, 3 * t.min_px))
        room = body.height() - lh - g  # the summary line under the tables
        for k in (self.units, 1):
            c = min((body.width() - arrow_w) / (2 * self.w),
                    (room - k * (lh + g) - (k - 1) * 2 * g) / (k * self.h * ROW))
            if number_px(c, c * ROW, t) >= t.min_px:
                break
        self.set_per_page(k)
        self.px = number_px(c, c * ROW, t)
        gw, gh = self.w * c, self.h * c * ROW
        row_h = lh + g + gh
        total_h = k * row_h + (k - 1) * 2 * g
        top = body.top() + max(0.0, (room - total_h) / 2)
        self.slots, self.labels = [], []
        for j in range(k):
            y = top + j * (row_h + 2 * g)
            before, after = spread([gw, gw], [arrow_w], body, y + lh + g, gh)
            self.slots.append((before, after, QRectF(before.right(), before.top(), arrow_w, gh)))
            self.labels.append(label_cells([before, after], y, lh, body))
        self.summary = QRectF(body.left(), top + total_h + g, body.width(), lh)
        for p in range(self.pages):
            for j, ch in enumerate(self.page_units(p)):
                self._hots[p] += [Hot(r, self.block, ch) for r in self.slots[j][:2]]

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        t = ink.type
        src, out = f.out(self.i_src), f.out(self.i_relu)
        lim = 1.0 if src is None else f.limits.act(self.i_src, src)
        units = self.page_units(page)
        for j, ch in enumerate(units):
            before, after, gap = self.slots[j]
            ink.fit_text(self.labels[j][0], (f"map {ch + 1}", f"{ch + 1}"), t.label_px)
            ink.fit_text(self.labels[j][1], (f"map {ch + 1} after ReLU", "after ReLU",
                                             "after"), t.label_px)
            mid = gap.center()
            if not t.compact:
                ink.fit_text(QRectF(gap.left(), mid.y() - 1.6 * t.line, gap.width(), t.line),
                             ("ReLU",), t.label_px)
            ink.arrow(QPointF(gap.left() + t.gap / 2, mid.y()),
                      QPointF(gap.right() - t.gap / 2, mid.y()))
            ink.grid(before, None if src is None else src[ch], self.h, self.w, lo=-lim, hi=lim,
                     px=self.px, name=f"{self.src_name}[{ch}]")
            ink.grid(after, None if out is None else out[ch], self.h, self.w, lo=-lim, hi=lim,
                     px=self.px, name=f"{self.name}[{ch}]", fmt=rectified)
            if src is not None:
                cw, chh = before.width() / self.w, before.height() / self.h
                inset = max(3.0, 0.08 * cw)
                ink.outlines([QRectF(g.left() + c * cw, g.top() + r * chh, cw, chh)
                              .adjusted(inset, inset, -inset, -inset)
                              for r, c in zip(*np.nonzero(src[ch] < 0)) for g in (before, after)],
                             ink.look.accent, max(t.pen * 3, 0.06 * cw))
            if self.per_page > 1 and ch == f.channel(self.block, self.units):
                ink.outline(after.adjusted(-t.gap / 2, -t.gap / 2, t.gap / 2, t.gap / 2),
                            ink.look.accent, t.pen * 3)
        if src is not None:
            neg = int((src[units.start:units.stop] < 0).sum())
            n = len(units) * self.h * self.w
            text = (f"none of these {n} values is negative: ReLU changes nothing here"
                    if neg == 0 else f"{neg} of {n} values were negative → now 0")
            short = "nothing negative: no change" if neg == 0 else f"{neg} of {n} → 0"
            ink.fit_text(self.summary, (text, short), t.label_px)
