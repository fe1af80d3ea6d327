"""The X/O toy's occlusion in closed form: what each pixel adds to the X and O votes.

The lecture's toy is small enough to answer "what if this pixel were background?"
by hand. Its conv layer is linear, so setting pixel (r, c) from x to the background b
changes exactly the conv cells whose 3×3 windows hold it, each by ``(b − x)·w`` where
``w`` is the feature's weight at that pixel's place in the window (±1/9: the lecture's
normalised matching); every other cell is unchanged. ReLU, 2×2 max pooling (ceil mode)
and the hand-set votes are then recomputed exactly for the changed maps. ReLU and max
pooling commute, so the order of those two layers in the network does not matter.

This is plain numpy from the model's weights, not Captum: the tests check that
Captum's occlusion (1×1 window, baseline −1) equals it, which makes it a sanity check of
the occlusion every model gets, on the one network whose answer is known exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from torch import nn

from engine.errors import ConvPadError

if TYPE_CHECKING:
    from engine.model import Model


def toy_occlusion(model: Model, grid: np.ndarray) -> np.ndarray:
    """Per class, the vote change when each pixel of ``grid`` is set to the background:
    ``(classes, H, W)``, ``votes(grid) − votes(grid with that pixel occluded)``.

    ``grid`` is the model-ready input (the toy's 9×9 ±1 grid, e.g. ``SEED_X`` or
    ``model.preprocess(drawing)``). Positive: the pixel adds to that class's vote.
    Background pixels are already background: 0. Raises
    :class:`~engine.errors.ConvPadError` for a network that is not conv → ReLU/pool →
    flatten → votes.
    """
    conv, pool, votes = _layers(model)
    from engine.explain.methods import background

    x = np.asarray(grid, np.float64).reshape(model.input_shape)[0]
    base = background(model).astype(np.float64)[0]
    w = conv.weight.detach().double().cpu().numpy()[:, 0]  # (F, kh, kw)
    bias = conv.bias.detach().double().cpu().numpy() if conv.bias is not None else 0.0
    kh, kw = w.shape[1:]
    h, wd = x.shape
    oh, ow = h - kh + 1, wd - kw + 1

    maps = _correlate(x, w) + np.reshape(bias, (-1, 1, 1))  # (F, oh, ow)
    # One changed copy of the maps per pixel: cell (i, j) holds pixel (r, c) when
    # 0 ≤ r − i < kh and 0 ≤ c − j < kw, and changes by (b − x)·w[r − i, c − j].
    delta = (base - x).reshape(-1)  # (H·W,)
    r, c = np.divmod(np.arange(h * wd), wd)
    i, j = np.arange(oh), np.arange(ow)
    di = r[:, None] - i[None, :]  # (H·W, oh)
    dj = c[:, None] - j[None, :]
    inside = ((di >= 0) & (di < kh))[:, :, None] & ((dj >= 0) & (dj < kw))[:, None, :]
    weights = w[:, np.clip(di, 0, kh - 1)[:, :, None], np.clip(dj, 0, kw - 1)[:, None, :]]
    change = np.where(inside[None], weights, 0.0) * delta[None, :, None, None]
    occluded = maps[:, None] + change  # (F, H·W, oh, ow)

    def features(m: np.ndarray) -> np.ndarray:
        pooled = _max_pool(np.maximum(m, 0.0), pool)  # (..., F, ph, pw)
        return pooled.reshape(*pooled.shape[:-3], -1)

    # The votes are linear in the pooled features (their bias cancels): a pixel's share
    # is the change of the features it reaches, weighted by their votes.
    lost = features(maps)[None] - features(np.moveaxis(occluded, 1, 0))  # (H·W, F·ph·pw)
    w_votes = votes.weight.detach().double().cpu().numpy()  # (classes, F·ph·pw)
    return (lost @ w_votes.T).T.reshape(-1, h, wd)


def _layers(model: Model) -> tuple[nn.Conv2d, nn.MaxPool2d, nn.Linear]:
    """The toy's conv, pool and votes layers, found by type (not by name or order)."""
    children = list(model.module.children())
    convs = [m for m in children if isinstance(m, nn.Conv2d)]
    pools = [m for m in children if isinstance(m, nn.MaxPool2d)]
    dense = [m for m in children if isinstance(m, nn.Linear)]
    known = (nn.Conv2d, nn.MaxPool2d, nn.Linear, nn.ReLU, nn.Flatten)
    if (len(convs), len(pools), len(dense)) != (1, 1, 1) or not all(
            isinstance(m, known) for m in children):
        raise ConvPadError(
            f"{model.name}: the closed-form occlusion needs the lecture's toy network "
            "(one conv, ReLU, one max pool, flatten, votes); use "
            "engine.explain.explain(model, drawing, 'occlusion') instead")
    conv, pool = convs[0], pools[0]
    if conv.in_channels != 1 or _pair(conv.stride) != (1, 1) or _pair(conv.padding) != (0, 0) \
            or _pair(conv.dilation) != (1, 1) or conv.groups != 1:
        raise ConvPadError(f"{model.name}: the closed form needs a plain valid stride-1 conv")
    if _pair(pool.padding) != (0, 0) or _pair(pool.dilation) != (1, 1):
        raise ConvPadError(f"{model.name}: the closed form needs max pooling without padding")
    return conv, pool, dense[-1]


def _pair(v: int | tuple[int, ...]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _correlate(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Valid cross-correlation of one (H, W) image with (F, kh, kw) kernels (as nn.Conv2d)."""
    kh, kw = w.shape[1:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw))  # (oh, ow, kh, kw)
    return np.einsum("ijab,fab->fij", windows, w)


def _max_pool(m: np.ndarray, pool: nn.MaxPool2d) -> np.ndarray:
    """Max pooling of the last two axes as ``pool`` does it (ceil mode included)."""
    (kh, kw), (sh, sw) = _pair(pool.kernel_size), _pair(pool.stride or pool.kernel_size)
    rows = _windows(m.shape[-2], kh, sh, pool.ceil_mode)
    cols = _windows(m.shape[-1], kw, sw, pool.ceil_mode)
    return np.stack([
        np.stack([m[..., r0:r1, c0:c1].max(axis=(-2, -1)) for c0, c1 in cols], axis=-1)
        for r0, r1 in rows], axis=-2)


def _windows(n: int, k: int, s: int, ceil: bool) -> list[tuple[int, int]]:
    """The ``[start, stop)`` of each pooling window along an axis of ``n`` (PyTorch's rule:
    in ceil mode a last partial window is kept if it starts inside the input)."""
    count = -(-(n - k) // s) + 1 if ceil else (n - k) // s + 1
    if ceil and (count - 1) * s >= n:
        count -= 1
    return [(o * s, min(o * s + k, n)) for o in range(count)]
