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
from app.panels.base import LayerPanel
from app.panels.mosaic import Mosaic

BAR_X0 = 17.0
BAR_LEN = 9.0
LEFT, RIGHT = -7.0, BAR_X0 + BAR_LEN + 8.0  # room for the labels either side


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
        h, _ = self.mosaic.shape
        self.box.setRange(QRectF(LEFT, -0.2, RIGHT - LEFT, h + 0.4), padding=0)
        self.wmax = float(np.abs(self.weights).max()) or 1.0
        self.raw = np.zeros((1 + k, n), np.float32)
        step = self.rows + 1
        names = ["values", *[f"→ {c}" for c in self.classes]]
        self.labels = []
        for g, text in enumerate(names):
            label = pg.TextItem(text, anchor=(0, 0.5), color=(128, 128, 128))
            label.setPos(LEFT + 0.1, g * step + self.rows / 2)
            self.box.addItem(label)
            self.labels.append(label)
        centres = np.array([(g + 1) * step + self.rows / 2 for g in range(k)], np.float32)
        self.bars = pg.BarGraphItem(x0=BAR_X0, y=centres, height=self.rows * 0.8,
                                    width=np.zeros(k), brush=BAR)
        self.box.addItem(self.bars)
        self.totals = []
        for g in range(k):
            t = pg.TextItem("", anchor=(1, 0.5), color=(128, 128, 128))
            t.setPos(RIGHT - 0.1, centres[g])
            self.box.addItem(t)
            self.totals.append(t)
        self.votes = np.full(k, np.nan, np.float32)  # what the bars show (tests read it)
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
        if not np.array_equal(votes, self.votes):
            self.votes = votes.copy()
            win = -1 if blank else int(np.argmax(votes))
            brushes = [pg.mkBrush(ACCENT if i == win else BAR) for i in range(len(votes))]
            self.bars.setOpts(width=np.clip(votes, 0, None) * BAR_LEN, brushes=brushes)
            # Each total with its share of all votes: how "X 0.74" becomes the headline's
            # "X 69%" (0.74 / (0.74 + 0.33)).
            total = float(votes.sum())
            for t, c, v in zip(self.totals, self.classes, votes):
                share = f" = {v / total:.0%}" if total > 0 else ""
                t.setText(f"{c} —" if blank else f"{c} {v:.2f}{share}")

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

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        i = row * self.cols + col
        v = self.raw[0, i]
        if tile == 0:
            return f"feature value {i} (feature {row}): {v:.2f}"
        c = self.classes[tile - 1]
        return (f"value {i} votes for {c}: {v:.2f} × weight {self.weights[tile - 1, i]:.3f}"
                f" = {self.raw[tile, i]:.3f}")

    def tile_values(self, tile: int) -> np.ndarray | None:
        return self.raw[tile].reshape(self.rows, self.cols).copy()

    def tile_title(self, tile: int) -> str:
        return "feature values" if tile == 0 else f"votes for {self.classes[tile - 1]}"

    def levels(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    @staticmethod
    def accepts(layer) -> bool:
        return layer.kind == "votes" and layer.weights is not None
