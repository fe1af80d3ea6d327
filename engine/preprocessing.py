"""Drawing → what a network sees.

A canvas raster of any size (ink 1.0 on background 0.0) is reduced to the network's
input. The 28×28 models get MNIST's own recipe — crop to the ink, scale the longer
side to 20 px keeping the aspect ratio, place by centre of mass in 28×28 (an opened
network of another input size: the same proportions, :func:`mnist_box`) — because
that is how their training digits were made: a digit CNN fed raw canvas pixels sees
strokes at the wrong size and place and loses a third of its accuracy on drawings.
The X/O toy gets the lecture's 9×9 ±1 grid.

That recipe answers the "shifted? shrunk?" question before the network does, so each
reduction also has an *as-drawn* form (:data:`AS_DRAWN`): the whole canvas is averaged
down to the input size, and where you drew is where the network sees it.

Everything here is numpy (plus Pillow's antialiased resize) so it is cheap enough to
run on every display frame and usable without torch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from engine.errors import ConvPadError

# A pixel counts as ink above this level; anti-aliased stroke edges stay below it.
INK_THRESHOLD = 0.1

# The smallest uint8 level (0..255) that :func:`as_ink` turns into ink above the
# threshold: the same test on the canvas's own bytes, before any float conversion.
INK_THRESHOLD_U8 = int(np.argmax(np.arange(256, dtype=np.float32) / 255.0 > INK_THRESHOLD))

# How a drawing reaches the network (Model.preprocess's ``input``): cropped, scaled and
# re-centred the MNIST way, or the whole canvas as drawn.
INPUT_MODES = ("centred", "as-drawn")


def as_ink(img: np.ndarray, invert: bool | None = None) -> np.ndarray:
    """Return ``img`` as float32 ink in [0, 1] (ink 1, background 0).

    Accepts float arrays in [0, 1] and integer arrays in [0, 255]. ``invert=None``
    decides by the image border: drawings leave their border empty, so a border that is
    mostly bright means dark ink on a light background (a scan, a photo of paper), and
    the image is inverted. Pass ``invert=False`` or ``True`` to decide yourself.
    """
    a = np.asarray(img)
    if a.ndim != 2:
        raise ConvPadError(f"expected a 2-D grey image, got an array of shape {a.shape}")
    if a.size == 0:
        raise ConvPadError("expected a 2-D grey image, got an empty array")
    if a.dtype in (np.uint8, np.bool_):
        # Already in [0, 1] once scaled, and never NaN: no check, no clip (the live
        # path sends the canvas's bytes on every frame).
        a = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 1.0)
    else:
        if np.issubdtype(a.dtype, np.integer):
            a = a.astype(np.float32) / 255.0
        else:
            a = a.astype(np.float32, copy=False)
            # One float64 sum finds any NaN or inf without allocating a mask of the canvas.
            if not np.isfinite(np.add.reduce(a, axis=None, dtype=np.float64)):
                raise ConvPadError("image holds NaN or infinite values")
        a = np.clip(a, 0.0, 1.0)
    if invert is None:
        border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
        invert = bool(np.median(border) > 0.5)
    return 1.0 - a if invert else a


def is_blank(img: np.ndarray) -> bool:
    """True when ``img`` (ink in [0, 1], or uint8 ink 255 on 0) holds no ink: an empty
    canvas, no prediction."""
    a = np.asarray(img)
    return not bool((a >= INK_THRESHOLD_U8 if a.dtype == np.uint8 else a > INK_THRESHOLD).any())


def ink_box(a: np.ndarray) -> tuple[slice, slice] | None:
    """The bounding box of the ink, or None for a blank image (one pass over ``a``).

    ``a`` is ink in [0, 1] (from :func:`as_ink`) or a uint8 drawing, ink 255 on 0, which
    is tested on its bytes with the same threshold.
    """
    mask = a >= INK_THRESHOLD_U8 if a.dtype == np.uint8 else a > INK_THRESHOLD
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _resize(a: np.ndarray, height: int, width: int) -> np.ndarray:
    # Pillow's resize widens its filter when shrinking, so a 600 px stroke averages
    # into the 20 px digit instead of aliasing away.
    out = Image.fromarray(a.astype(np.float32), mode="F").resize(
        (width, height), Image.Resampling.BILINEAR
    )
    return np.asarray(out, dtype=np.float32)


def mnist_box(size: int) -> int:
    """The side of the box the ink is fitted into for a ``size``² input: MNIST's 20 px
    in 28, the same share (5/7) of any other size — a 64×64 network gets a 46 px digit."""
    return max(1, round(size * 20 / 28))


def mnist_style(img: np.ndarray, size: int = 28, box: int | None = None) -> np.ndarray:
    """Crop to the ink, fit the longer side to ``box`` px (default :func:`mnist_box`),
    centre by mass in ``size``².

    Returns float32 ``(size, size)`` in [0, 1] with the brightest pixel at 1, so a thin
    pen and a thick one give strokes of the same strength. A blank image gives zeros.
    """
    return mnist_style_ink(as_ink(img, invert=False), size, box)


def mnist_style_ink(a: np.ndarray, size: int = 28, box: int | None = None) -> np.ndarray:
    """:func:`mnist_style` for an array already returned by :func:`as_ink`.

    The per-frame path (``Model.preprocess``) checks and clips the canvas once, not twice.
    """
    found = ink_box(a)
    if found is None:
        return np.zeros((size, size), np.float32)
    a = a[found]
    h, w = a.shape
    scale = (mnist_box(size) if box is None else box) / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    digit = np.clip(_resize(a, nh, nw), 0.0, None)
    digit /= digit.max()
    ys, xs = np.indices(digit.shape)
    mass = digit.sum()
    cy, cx = (ys * digit).sum() / mass, (xs * digit).sum() / mass
    # Put the centre of mass at the image centre, but never push ink off the edge.
    top = int(np.clip(round(size / 2 - 0.5 - cy), 0, size - nh))
    left = int(np.clip(round(size / 2 - 0.5 - cx), 0, size - nw))
    out = np.zeros((size, size), np.float32)
    out[top : top + nh, left : left + nw] = digit
    return out


def xo_grid_ink(a: np.ndarray, size: int = 9, border: int = 1, min_box: float = 0.25) -> np.ndarray:
    """Ink from :func:`as_ink` → the lecture's ``size``×``size`` grid of +1 ink, -1 background.

    The ink's bounding box is fitted into the inner ``size - 2·border`` square (longer
    side fills it, aspect kept, centred) and each cell is ink when at least half as
    covered as the most covered cell: a thin pen and a thick pen give the same grid.
    A drawing made of exactly the 9×9 cells of a slide (the presets) comes back exact.
    The box is never smaller than ``min_box`` of the canvas's shorter side, so a dot or
    a tiny scribble stays small instead of being blown up to fill the whole grid.
    """
    out = -np.ones((size, size), np.float32)
    found = ink_box(a)
    if found is None:
        return out
    rows, cols = found
    floor = int(np.ceil(min_box * min(a.shape)))
    if max(rows.stop - rows.start, cols.stop - cols.start) < floor:
        a = np.pad(a, floor)  # room to grow the box past the canvas edge
        cy = (rows.start + rows.stop) // 2 + floor
        cx = (cols.start + cols.stop) // 2 + floor
        rows = slice(cy - floor // 2, cy - floor // 2 + floor)
        cols = slice(cx - floor // 2, cx - floor // 2 + floor)
    a = a[rows, cols]
    inner = size - 2 * border
    h, w = a.shape
    scale = inner / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    cover = _area_mean(a, nh, nw)
    cells = np.where(cover >= 0.5 * cover.max(), 1.0, -1.0).astype(np.float32)
    top = border + (inner - nh) // 2
    left = border + (inner - nw) // 2
    out[top : top + nh, left : left + nw] = cells
    return out


def _area_mean(a: np.ndarray, nh: int, nw: int) -> np.ndarray:
    """Mean of ``a`` over an ``nh``×``nw`` grid of near-equal cells (box average)."""
    h, w = a.shape
    # Cells must hold at least one pixel each: blow tiny crops (a dot) up first.
    up = max(1, int(np.ceil(max(nh / h, nw / w))))
    if up > 1:
        a = np.repeat(np.repeat(a, up, axis=0), up, axis=1)
        h, w = h * up, w * up
    ys = np.round(np.linspace(0, h, nh + 1)).astype(int)
    xs = np.round(np.linspace(0, w, nw + 1)).astype(int)
    sums = np.add.reduceat(np.add.reduceat(a, ys[:-1], axis=0), xs[:-1], axis=1)
    return sums / np.outer(np.diff(ys), np.diff(xs))


def area_mean(a: np.ndarray, axis: int, n_out: int, start: float, step: float) -> np.ndarray:
    """Average ``a`` along ``axis`` into ``n_out`` cells by area (beyond ``a``: zeros).

    Cell ``j`` spans ``[start + j·step, start + (j+1)·step)`` in pixel units (pixel ``i``
    spans ``[i, i+1)``). Exact for any fractional cell size, which Pillow's box filter is
    not (it weighs whole pixels by their centre). Done with a running sum read at the
    cell edges, so it costs one pass over ``a`` whatever ``n_out`` is.
    """
    a = np.asarray(a, np.float32)
    n = a.shape[axis]
    run = np.cumsum(a, axis=axis, dtype=np.float32)
    edges = np.clip(start + step * np.arange(n_out + 1), 0, n)
    i = np.minimum(edges.astype(np.int64), n - 1)
    shape = [1] * a.ndim
    shape[axis] = -1
    part = (edges - i).astype(np.float32).reshape(shape)
    # The ink up to each edge: the pixels before its own pixel plus the part of that one
    # on this side of the edge.
    own = np.take(a, i, axis=axis)
    upto = np.take(run, i, axis=axis) - own + part * own
    return np.diff(upto, axis=axis) / np.float32(step)


def as_drawn_cover(a: np.ndarray, size: int, margin: int = 0) -> np.ndarray:
    """Mean ink over each input pixel of the whole canvas, seen as a ``size``² grid.

    A non-square canvas sits centred in the square of its longer side (so a circle
    stays round). ``margin`` adds that many cells on every side, beyond the canvas
    (they hold zeros unless ``a`` extends there): ``(..., size + 2·margin, ...)``. Works
    on a stack ``(..., H, W)`` too. Linear in ``a``.
    """
    h, w = a.shape[-2:]
    side = max(h, w)
    step = side / size
    n = size + 2 * margin
    rows = area_mean(a, -2, n, -(side - h) / 2 - margin * step, step)
    return area_mean(rows, -1, n, -(side - w) / 2 - margin * step, step)


def stretch_to_max(cover: np.ndarray) -> np.ndarray:
    """Coverage → stroke strength with the brightest pixel at 1, like :func:`mnist_style`.

    A thin pen and a thick one then reach the network with the same contrast. Works on
    a stack ``(..., h, w)``; an image with no ink stays zeros.
    """
    top = cover.max(axis=(-2, -1), keepdims=True)
    return np.where(top > 0, cover / np.where(top > 0, top, 1), 0).astype(np.float32)


def grid_cells(cover: np.ndarray) -> np.ndarray:
    """Coverage → the lecture's ±1 cells: ink where at least half the best-covered cell.

    The same rule as :func:`xo_grid_ink`, on the whole canvas instead of the ink's box.
    Works on a stack; an image with no ink is all background (-1).
    """
    top = cover.max(axis=(-2, -1), keepdims=True)
    ink = (cover >= 0.5 * top) & (top > 0)
    return np.where(ink, 1.0, -1.0).astype(np.float32)


def unchanged(cover: np.ndarray) -> np.ndarray:
    """Coverage as it is: the drawing's own pixel values (÷ 255), area-averaged only
    where the canvas is not the input's size — what a network opened from a file gets
    as drawn (issue #21: no contrast stretch; a network that wants other scaling
    carries it itself)."""
    return np.asarray(cover, np.float32)


# ModelSpec.preprocessing → ink from as_ink() reduced to a size×size model input.
# "network" (a Keras or ONNX file's): centred like the MNIST recipe, as drawn unchanged.
PREPROCESSORS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "mnist": mnist_style_ink,
    "grid": xo_grid_ink,
    "network": mnist_style_ink,
}

# Reductions that read only the ink's bounding box (crop first, then scale and place):
# cropping the drawing to its ink before anything else gives them the same result.
CROPS_TO_INK = frozenset({"mnist", "network"})

# Reductions whose result depends on the canvas size as well as on the ink (the grid's
# smallest box is a quarter of the canvas): a sweep shows them a canvas-sized plane.
CANVAS_SIZED = frozenset({"grid"})

# The as-drawn form of each reduction: how a whole-canvas coverage (as_drawn_cover)
# becomes the model input. Same keys as PREPROCESSORS.
AS_DRAWN: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mnist": stretch_to_max,
    "grid": grid_cells,
    "network": unchanged,
}
