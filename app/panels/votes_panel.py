"""The X/O toy's last step, drawn as the lecture draws it: values become votes.

Every one of the 48 pooled, rectified feature values casts a vote for X and a vote for
O, weighted by how strongly that value predicts each class. Top block: the values
(three rows, one per feature). Below, one block per class: each value times its vote
weight (colour scaled to the largest weight). Bars: each class's total vote.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from app.look import ACCENT, BAR, DIVERGING_LUT
from app.numbers import percent_text, score_text, value_text
from app.panels.base import LayerPanel
from app.panels.mosaic import Mosaic

BAR_LEN = 9.0  # the longest bar, in mosaic cells
GAP = 1.0  # between the values and the bars, in cells


class VotesPanel(LayerPanel):
    """Feature values → votes for each class (a layer of kind ``votes``)."""

    def __init__(self, layer, classes: list[str], parent=None) -> None:
        super().__init__(layer.name, "each feature value votes for X and for O", parent)
        self.classes = list(classes)
        self._source = layer.weights  # the record's array: a new one means new weights
        self.weights = np.asarray(layer.weights, np.float32)  # (classes, features)
        k, n = self.weights.shape
        self.rows = 3 if n % 3 == 0 else 1
        self.cols = n // self.rows
        self.set_mosaic(Mosaic(1 + k, self.rows, self.cols, cols=1, gap=1))
        self.bar_x0 = self.cols + GAP
        self.wmax = float(np.abs(self.weights).max()) or 1.0
        self.raw = np.zeros((1 + k, n), np.float32)
        step = self.rows + 1
        names = ["values", *[f"→ {c}" for c in self.classes]]
        self.labels = []
        for g, text in enumerate(names):
            label = pg.TextItem(text, anchor=(1, 0.5), color=(128, 128, 128))
            label.setPos(-0.2, g * step + self.rows / 2)
            self.box.addItem(label)
            self.labels.append(label)
        centres = np.array([(g + 1) * step + self.rows / 2 for g in range(k)], np.float32)
        self.bars = pg.BarGraphItem(x0=self.bar_x0, y=centres, height=self.rows * 0.8,
                                    width=np.zeros(k), brush=BAR)
        self.box.addItem(self.bars)
        self.totals = []
        for g in range(k):
            t = pg.TextItem("", anchor=(0, 0.5), color=(128, 128, 128))
            t.setPos(self.bar_x0 + BAR_LEN + 0.2, centres[g])
            self.box.addItem(t)
            self.totals.append(t)
        self.votes = np.full(k, np.nan, np.float32)  # what the bars show (tests read it)
        self.signed = False  # Compare's B − A: bars grow either way from a zero line
        self.zero_line = pg.InfiniteLine(pos=self.bar_x0 + BAR_LEN / 2, angle=90,
                                         pen=pg.mkPen("#888888", width=1))
        self.zero_line.setVisible(False)
        self.box.addItem(self.zero_line)
        self.short = False
        self.box.sigResized.connect(self._fit_labels)
        self._fit_labels()
        self.set_help("Each value times its vote weight; the bars are the summed votes.")

    def show_layer(self, layer, previous=None) -> None:
        if layer.weights is not None and layer.weights is not self._source:
            # Other vote weights (an edited model, a checkpoint): the products follow them.
            self._source = layer.weights
            self.weights = np.asarray(layer.weights, np.float32)
            self.wmax = float(np.abs(self.weights).max()) or 1.0
        values = np.asarray(previous.output if previous is not None else np.zeros(
            self.weights.shape[1]), np.float32).reshape(-1)
        self.raw[0] = values
        self.raw[1:] = values[None, :] * self.weights
        shown = self.raw.copy()
        shown[1:] /= self.wmax
        self.draw_tiles(shown.reshape(-1, self.rows, self.cols), (-1.0, 1.0), DIVERGING_LUT)
        # No values (an empty canvas) means no votes and no winner, as in the headline:
        # the votes of an all-background grid would read as a guess.
        blank = previous is None
        votes = np.zeros(len(self.classes), np.float32) if blank else np.asarray(
            layer.output, np.float32)
        self._show_votes(votes, blank)

    def _show_votes(self, votes: np.ndarray, blank: bool, force: bool = False) -> None:
        if force or not np.array_equal(votes, self.votes):
            self.votes = votes.copy()
            win = -1 if blank else int(np.argmax(np.abs(votes) if self.signed else votes))
            brushes = [pg.mkBrush(ACCENT if i == win else BAR) for i in range(len(votes))]
            if self.signed:  # B − A: from the middle, right for a gain, left for a loss
                top = max(float(np.abs(votes).max()), 1e-9)
                self.bars.setOpts(x0=self.bar_x0 + BAR_LEN / 2,
                                  width=votes / max(top, 1.0) * BAR_LEN / 2, brushes=brushes)
                for t, c, v in zip(self.totals, self.classes, votes):
                    t.setText(f"{c} {score_text(v)}")
                return
            self.bars.setOpts(x0=self.bar_x0, width=np.clip(votes, 0, None) * BAR_LEN,
                              brushes=brushes)
            # Each total with its share of all votes: how "X 0.74" becomes the headline's
            # "X 69%" (0.74 / (0.74 + 0.33)).
            total = float(votes.sum())
            for t, c, v in zip(self.totals, self.classes, votes):
                share = f" = {percent_text(v / total)}" if total > 0 and not self.short else ""
                t.setText(f"{c} —" if blank else f"{c} {value_text(v)}{share}")

    def set_difference(self, on: bool) -> None:
        if on != self.signed:
            self.signed = on
            self.zero_line.setVisible(on)
            if not np.isnan(self.votes).any():
                self._show_votes(self.votes, False, force=True)

    def _fit_labels(self, *_: object) -> None:
        """Frame the view so the names on the left and the totals on the right fit
        beside the values and the bars at the panel's size in pixels.

        The words are drawn at a fixed pixel size while the cells scale with the panel,
        so margins fixed in cells put "X 0.74 = 69%" on top of its bar in a narrow panel.
        """
        w, h = self.box.width(), self.box.height()
        if w <= 1 or h <= 1:
            return
        metrics = pg.QtGui.QFontMetricsF(self.labels[0].textItem.font())
        pad = metrics.horizontalAdvance("  ")
        left = max(metrics.horizontalAdvance(t.toPlainText()) for t in self.labels) + pad
        right = max(metrics.horizontalAdvance(f"{c} 0.00 = 100%") for c in self.classes) + pad
        # A narrow panel keeps the totals and drops their shares (the headline has them).
        was_short, self.short = self.short, left + right > 0.5 * w
        if self.short:
            right = max(metrics.horizontalAdvance(f"{c} 0.00") for c in self.classes) + pad
        core = self.bar_x0 + BAR_LEN
        rows = self.mosaic.shape[0] + 0.4
        words = left + right
        # Cells per pixel: the width left after the words, or the height, whichever binds.
        scale = min(max(w - words, w * 0.25) / core, h / rows)
        self.box.setRange(QRectF(-left / scale, -0.2, core + words / scale, rows), padding=0)
        if self.short != was_short and not np.isnan(self.votes).any():
            self._show_votes(self.votes, self.votes.sum() == 0, force=True)

    def show_empty(self, layer) -> None:
        self.show_layer(layer, None)  # no values, no votes, no winner

    def apply_look(self, look: dict, title_font) -> None:
        super().apply_look(look, title_font)
        self.set_label_style(look["text"], look["title_pt"])

    def set_label_style(self, color: str, points: int) -> None:
        """Label colour and size follow the window's look (presentation mode)."""
        font = pg.QtGui.QFont()
        font.setPointSize(points)
        font.setBold(True)
        for item in (*self.labels, *self.totals):
            item.setColor(color)
            item.setFont(font)
        self._fit_labels()

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        i = row * self.cols + col
        v = self.raw[0, i]
        if tile == 0:
            return f"feature value {i + 1} (feature {row + 1}): {value_text(v)}"
        c = self.classes[tile - 1]
        return (f"value {i + 1} votes for {c}: {value_text(v)} × weight "
                f"{value_text(self.weights[tile - 1, i], 3)}"
                f" = {value_text(self.raw[tile, i], 3)}")

    def tile_values(self, tile: int) -> np.ndarray | None:
        return self.raw[tile].reshape(self.rows, self.cols).copy()

    def tile_title(self, tile: int) -> str:
        return "feature values" if tile == 0 else f"votes for {self.classes[tile - 1]}"

    def levels(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    @staticmethod
    def accepts(layer) -> bool:
        return layer.kind == "votes" and layer.weights is not None
