"""A vector layer's arithmetic as steps: the X/O toy's votes and a dense unit's sum.

- :class:`VoteSteps`: each feature value × its weight added to every class's total,
  then the shares (the X/O toy's probabilities).
- :class:`DenseSteps`: one unit's weighted sum, input by input, then + bias.

Lazy sequences, like :mod:`engine.lecture.steps`: ``steps[i]`` computes step ``i``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import ConvPadError


# ----- votes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class VoteStep:
    """Value ``i`` casting its votes, or (``i is None``) the final shares.

    ``products[k] = value × weights[k]`` is added to class ``k``; ``totals`` are the
    running totals after this step. On the final step ``shares`` holds each class's
    share of all votes: the toy's probabilities.
    """

    index: int
    i: int | None
    value: float
    weights: np.ndarray
    products: np.ndarray
    totals: np.ndarray
    shares: np.ndarray | None = None


def vote_shares(totals: np.ndarray) -> np.ndarray:
    """Each class's share of all votes; no votes at all is a tie (as ``Model`` does)."""
    t = np.asarray(totals, np.float64)
    s = float(t.sum())
    return np.full(len(t), 1.0 / len(t)) if s <= 0 else t / s


class VoteSteps(Sequence[VoteStep]):
    """Votes of ``values`` (N,) with ``weights`` (K, N): one step per value, then the shares.

    ``skip_zero`` leaves out values of 0 (after a ReLU, many), which add nothing.
    """

    def __init__(self, values: np.ndarray, weights: np.ndarray, skip_zero: bool = False) -> None:
        self.values = np.asarray(values, np.float64).ravel()
        self.weights = np.asarray(weights, np.float64)
        if self.weights.shape[1:] != self.values.shape:
            raise ConvPadError(
                f"vote weights {self.weights.shape} do not fit {self.values.shape[0]} values")
        idx = np.arange(self.values.size)
        self.order = idx[self.values != 0] if skip_zero else idx
        contrib = self.values[self.order][:, None] * self.weights[:, self.order].T
        self._running = np.cumsum(contrib, axis=0) if len(self.order) else contrib
        self.totals = self.weights @ self.values

    def __len__(self) -> int:
        return len(self.order) + 1

    def __getitem__(self, index: int) -> VoteStep:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"step {index} of {len(self)}")
        index %= len(self)
        if index == len(self.order):
            return VoteStep(index, None, 0.0, np.zeros(len(self.weights)),
                            np.zeros(len(self.weights)), self.totals, vote_shares(self.totals))
        i = int(self.order[index])
        w = self.weights[:, i]
        return VoteStep(index, i, float(self.values[i]), w, self.values[i] * w,
                        self._running[index])


# ----- dense ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DenseStep:
    """Input ``i`` (value ``x``) times weight ``w`` added to unit ``unit``'s ``running`` sum;
    the final step (``i is None``) adds the bias: ``value`` (and ``relu`` if one follows)."""

    index: int
    unit: int
    i: int | None
    x: float
    w: float
    product: float
    running: float
    bias: float | None = None
    value: float | None = None
    relu: float | None = None


class DenseSteps(Sequence[DenseStep]):
    """One unit of a dense layer: Σ xᵢ·wᵢ over its inputs, then + bias.

    ``skip_zero`` (default) steps only over inputs that are not 0 — after a ReLU most
    are, and they add nothing; :attr:`skipped` says how many were left out.
    """

    def __init__(self, x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None,
                 unit: int = 0, skip_zero: bool = True, relu: bool = False) -> None:
        self.x = np.asarray(x, np.float64).ravel()
        self.w = np.asarray(w, np.float64)
        if self.w.ndim != 2 or self.w.shape[1] != self.x.size:
            raise ConvPadError(f"dense weights {self.w.shape} do not fit {self.x.size} inputs")
        if not 0 <= unit < self.w.shape[0]:
            raise ConvPadError(f"unit {unit} of {self.w.shape[0]}")
        self.unit, self.relu = int(unit), relu
        self.row = self.w[self.unit]
        self.bias = None if bias is None else float(np.asarray(bias).ravel()[self.unit])
        idx = np.arange(self.x.size)
        self.order = idx[self.x != 0] if skip_zero else idx
        self.skipped = self.x.size - len(self.order)
        self._running = np.cumsum(self.x[self.order] * self.row[self.order])
        self.total = float(self._running[-1]) if len(self.order) else 0.0
        self.value = self.total + (self.bias or 0.0)

    def __len__(self) -> int:
        return len(self.order) + 1

    def __getitem__(self, index: int) -> DenseStep:  # type: ignore[override]
        if not -len(self) <= index < len(self):
            raise IndexError(f"step {index} of {len(self)}")
        index %= len(self)
        if index == len(self.order):
            return DenseStep(index, self.unit, None, 0.0, 0.0, 0.0, self.total, self.bias,
                             self.value, max(self.value, 0.0) if self.relu else None)
        i = int(self.order[index])
        return DenseStep(index, self.unit, i, float(self.x[i]), float(self.row[i]),
                         float(self.x[i] * self.row[i]), float(self._running[index]))
