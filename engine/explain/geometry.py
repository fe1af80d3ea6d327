"""Where each pixel of a drawing lands in the network input, and back again.

A model never sees the drawing itself: its preprocessing crops the ink's box, scales it
and places it (MNIST's recipe for the 28×28 models, the lecture's ±1 grid for the toy),
or averages the whole canvas down (``input="as-drawn"``). Every one of those steps is
linear in the ink once the box, the scale and the placement are fixed, so it is two
matrices: the network input is ``rows @ ink @ cols.T`` followed by one pointwise step
(÷ the brightest pixel for "mnist" — and for "network", an opened file's, centred;
as drawn it is left unchanged — the ±1 threshold for "grid"). :class:`Placement`
holds those matrices for one drawing; :meth:`Placement.to_image` reads an input-sized
map back onto the drawing's pixels.

The geometry mirrors :func:`engine.preprocessing.mnist_style_ink`,
:func:`engine.preprocessing.xo_grid_ink` and ``as_drawn_cover`` (the tests check that
:meth:`Placement.network_input` reproduces ``Model.preprocess``). :func:`file_indices`
goes one step further out: from the array :func:`engine.read_image` returns (reduced
when the file is longer than 1024 px, turned upright by its EXIF tag) to the file's own
pixel grid.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image

from engine.errors import ConvPadError
from engine.preprocessing import ink_box, mnist_box

# The recipes' own defaults (engine.preprocessing): xo_grid_ink's 1-cell border and
# smallest box of a quarter of the canvas's shorter side (mnist_style_ink's digit box is
# mnist_box(size): 20 px in 28).
GRID_BORDER = 1
GRID_MIN_BOX = 0.25


@dataclass(frozen=True)
class Placement:
    """The linear part of one drawing's preprocessing, its box and placement held fixed.

    ``rows`` is ``(n, H)`` and ``cols`` ``(n, W)``: the network input's pixel ``(i, j)``
    is ``rows[i] @ ink @ cols[j]`` before the recipe's pointwise step. ``box`` is the
    ink's box in the drawing (None for a blank one); ``recipe`` is the model's
    ``spec.preprocessing`` and ``input`` the input mode.
    """

    rows: np.ndarray
    cols: np.ndarray
    box: tuple[slice, slice] | None
    recipe: str
    input: str

    @property
    def shape(self) -> tuple[int, int]:
        """The drawing's shape ``(H, W)``."""
        return self.rows.shape[1], self.cols.shape[1]

    def cover(self, ink: np.ndarray) -> np.ndarray:
        """The linear image at the network input, ``rows @ ink @ cols.T`` (n × n)."""
        return (self.rows @ np.asarray(ink, np.float64) @ self.cols.T).astype(np.float32)

    def network_input(self, ink: np.ndarray) -> np.ndarray:
        """What ``Model.preprocess`` gives for ``ink`` (n × n), rebuilt from the matrices."""
        cover = self.cover(ink)
        if self.box is None:
            return np.full(cover.shape, -1.0 if self.recipe == "grid" else 0.0, np.float32)
        if self.recipe == "network" and self.input == "as-drawn":
            return cover  # an opened network's as drawn: the pixels unchanged
        if self.recipe in ("mnist", "network"):
            cover = np.clip(cover, 0.0, None)
            return cover / cover.max()
        placed = np.outer(self.rows.any(axis=1), self.cols.any(axis=1))
        ink_cells = placed & (cover >= 0.5 * cover[placed].max())
        return np.where(ink_cells, 1.0, -1.0).astype(np.float32)

    def to_image(self, input_map: np.ndarray) -> np.ndarray:
        """An input-sized map (n × n) read back onto the drawing's pixels ``(H, W)``.

        Each pixel inside the ink's box gets the weighted mean of the map over the input
        pixels it feeds, weighted by how much it feeds each (the preprocessing's own
        resize weights); pixels outside the box, and pixels that feed nothing, get 0.
        """
        out = np.zeros(self.shape, np.float32)
        if self.box is None:
            return out
        rows, cols = self.rows[:, self.box[0]], self.cols[:, self.box[1]]
        a = np.asarray(input_map, np.float64)
        num = rows.T @ a @ cols
        den = np.outer(rows.sum(axis=0), cols.sum(axis=0))
        fed = den > 1e-12
        out[self.box] = np.where(fed, num / np.where(fed, den, 1.0), 0.0)
        return out


def placement(ink: np.ndarray, recipe: str, size: int, input: str = "centred") -> Placement:
    """The :class:`Placement` of drawing ``ink`` (from ``as_ink``: 1 on 0) for a model
    whose ``spec.preprocessing`` is ``recipe`` and whose input is ``size``×``size``."""
    ink = np.asarray(ink, np.float32)
    if input == "as-drawn":
        if recipe not in CENTRED:
            raise ConvPadError(_unknown(recipe))
        return _as_drawn(ink, size, recipe)
    if input != "centred":
        raise ConvPadError(f"unknown input mode {input!r}; choose one of: centred, as-drawn")
    try:
        build = CENTRED[recipe]
    except KeyError:
        raise ConvPadError(_unknown(recipe)) from None
    return build(ink, size)


def _unknown(recipe: str) -> str:
    return (f"cannot map attributions back through preprocessing {recipe!r}; "
            f"known: {', '.join(CENTRED)}")


def _blank(ink: np.ndarray, size: int, recipe: str, input: str) -> Placement:
    h, w = ink.shape
    return Placement(np.zeros((size, h)), np.zeros((size, w)), None, recipe, input)


def _mnist(ink: np.ndarray, size: int) -> Placement:
    """Mirror of ``mnist_style_ink``: crop to the ink, fit the longer side to
    ``mnist_box(size)`` px (20 in 28) with Pillow's bilinear resize, place by centre of
    mass."""
    found = ink_box(ink)
    if found is None:
        return _blank(ink, size, "mnist", "centred")
    crop = ink[found]
    h, w = crop.shape
    scale = mnist_box(size) / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    # The placement is worked out from Pillow's own resize, exactly as the recipe does,
    # so a centre of mass on a rounding edge lands on the same pixel.
    digit = np.clip(_pillow_resize(crop, nh, nw), 0.0, None)
    digit /= digit.max()
    ys, xs = np.indices(digit.shape)
    mass = digit.sum()
    cy, cx = (ys * digit).sum() / mass, (xs * digit).sum() / mass
    top = int(np.clip(round(size / 2 - 0.5 - cy), 0, size - nh))
    left = int(np.clip(round(size / 2 - 0.5 - cx), 0, size - nw))
    rows = _embed(_pillow_weights(h, nh), size, top, found[0].start, ink.shape[0])
    cols = _embed(_pillow_weights(w, nw), size, left, found[1].start, ink.shape[1])
    return Placement(rows, cols, found, "mnist", "centred")


def _grid(ink: np.ndarray, size: int) -> Placement:
    """Mirror of ``xo_grid_ink``: the ink's box (at least a quarter of the canvas's shorter
    side), fitted into the inner square by area averaging, centred."""
    found = ink_box(ink)
    if found is None:
        return _blank(ink, size, "grid", "centred")
    rows, cols = found
    floor = math.ceil(GRID_MIN_BOX * min(ink.shape))
    if max(rows.stop - rows.start, cols.stop - cols.start) < floor:
        # The recipe pads the canvas by ``floor`` and takes a floor² box around the ink's
        # centre; here the same box in the canvas's own coordinates (it may overhang).
        cy, cx = (rows.start + rows.stop) // 2, (cols.start + cols.stop) // 2
        rows = slice(cy - floor // 2, cy - floor // 2 + floor)
        cols = slice(cx - floor // 2, cx - floor // 2 + floor)
    h, w = rows.stop - rows.start, cols.stop - cols.start
    inner = size - 2 * GRID_BORDER
    scale = inner / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    up = max(1, math.ceil(max(nh / h, nw / w)))
    top = GRID_BORDER + (inner - nh) // 2
    left = GRID_BORDER + (inner - nw) // 2
    r = _embed(_cell_weights(h, nh, up), size, top, rows.start, ink.shape[0])
    c = _embed(_cell_weights(w, nw, up), size, left, cols.start, ink.shape[1])
    return Placement(r, c, found, "grid", "centred")


def _as_drawn(ink: np.ndarray, size: int, recipe: str) -> Placement:
    """Mirror of ``as_drawn_cover``: the canvas centred in its longer side's square,
    averaged by area into size × size cells."""
    h, w = ink.shape
    side = max(h, w)
    step = side / size
    rows = _area_weights(h, size, -(side - h) / 2, step)
    cols = _area_weights(w, size, -(side - w) / 2, step)
    return Placement(rows, cols, ink_box(ink), recipe, "as-drawn")


CENTRED: dict[str, Callable[[np.ndarray, int], Placement]] = {
    "mnist": _mnist, "grid": _grid, "network": _mnist}


def _embed(weights: np.ndarray, size: int, at: int, start: int, n: int) -> np.ndarray:
    """``weights`` (k × m: output cell ← crop pixel) as a size × n matrix: the cells
    placed from row ``at``, the crop's pixels from ``start`` in a drawing of ``n``."""
    out = np.zeros((size, n))
    k, m = weights.shape
    lo, hi = max(start, 0), min(start + m, n)  # a grid box may overhang the canvas
    if hi > lo:
        out[at : at + k, lo:hi] = weights[:, lo - start : hi - start]
    return out


def _pillow_resize(a: np.ndarray, height: int, width: int) -> np.ndarray:
    out = Image.fromarray(np.ascontiguousarray(a, np.float32)).resize(
        (width, height), Image.Resampling.BILINEAR)
    return np.asarray(out, np.float32)


@functools.lru_cache(maxsize=64)
def _pillow_weights(n_in: int, n_out: int) -> np.ndarray:
    """Pillow's bilinear resize of ``n_in`` pixels to ``n_out``, as an (n_out, n_in)
    matrix: resizing the identity along one axis gives each input pixel's weights.

    Read from Pillow rather than rewritten because its filter widens when it shrinks
    (the support grows with the scale) and that is what the recipe uses.
    """
    out = Image.fromarray(np.eye(n_in, dtype=np.float32)).resize(
        (n_in, n_out), Image.Resampling.BILINEAR)
    weights = np.asarray(out, np.float64).copy()
    weights.flags.writeable = False
    return weights


@functools.lru_cache(maxsize=64)
def _cell_weights(n_in: int, n_out: int, up: int) -> np.ndarray:
    """The grid's box average as an (n_out, n_in) matrix: the crop repeated ``up`` times,
    then cut into ``n_out`` near-equal cells at rounded edges (``_area_mean``)."""
    edges = np.round(np.linspace(0, n_in * up, n_out + 1)).astype(int)
    fine = np.arange(n_in * up)
    cell = np.searchsorted(edges, fine, side="right") - 1
    weights = np.zeros((n_out, n_in))
    np.add.at(weights, (cell, fine // up), 1.0 / np.diff(edges)[cell])
    weights.flags.writeable = False
    return weights


def _area_weights(n_in: int, n_out: int, start: float, step: float) -> np.ndarray:
    """Exact area averaging as an (n_out, n_in) matrix: cell ``j`` spans
    ``[start + j·step, start + (j+1)·step)`` and pixel ``i`` spans ``[i, i+1)``."""
    lo = start + step * np.arange(n_out)[:, None]
    i = np.arange(n_in)[None, :]
    overlap = np.minimum(lo + step, i + 1) - np.maximum(lo, i)
    return np.clip(overlap, 0.0, None) / step


# EXIF orientation → how Pillow's exif_transpose turns the stored pixels upright:
# (reverse the rows, reverse the columns, then transpose).
ORIENTATIONS: dict[int, tuple[bool, bool, bool]] = {
    1: (False, False, False),
    2: (False, True, False),
    3: (True, True, False),
    4: (True, False, False),
    5: (False, False, True),
    6: (True, False, True),
    7: (True, True, True),
    8: (False, True, True),
}


def file_indices(path: str | Path, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """For each row and each column of the image file (upright), the row or column of
    the array ``engine.read_image(path)`` (of ``shape``) that it was averaged into.

    ``read_image`` reduces a file longer than 1024 px by averaging whole f×f blocks,
    counted from the stored image's top-left corner, then applies the EXIF rotation;
    this reproduces both. A map ``m`` of the read array is then
    ``m[np.ix_(rows, cols)]`` on the file's own pixel grid. If the sizes do not fit
    that model (a format Pillow turns upright while decoding), every file pixel takes
    the array pixel at the same relative place.
    """
    with Image.open(path) as im:
        w, h = im.size
        orientation = _orientation(im)
    flip_rows, flip_cols, swap = ORIENTATIONS.get(orientation, ORIENTATIONS[1])
    rh, rw = shape
    stored = (rw, rh) if swap else (rh, rw)  # the read array's size before turning
    factor = max(1, -(-max(h, w) // max(stored)))
    if (-(-h // factor), -(-w // factor)) != stored:
        upright = (w, h) if swap else (h, w)
        return (np.arange(upright[0]) * rh // upright[0],
                np.arange(upright[1]) * rw // upright[1])
    rows, cols = np.arange(h) // factor, np.arange(w) // factor
    if flip_rows:
        rows = (stored[0] - 1 - rows)[::-1]
    if flip_cols:
        cols = (stored[1] - 1 - cols)[::-1]
    return (cols, rows) if swap else (rows, cols)


def to_file(image_map: np.ndarray, path: str | Path) -> np.ndarray:
    """A map on ``engine.read_image(path)``'s pixels → the same map on the file's own
    pixel grid (its upright height × width), each file pixel taking its block's value."""
    rows, cols = file_indices(path, image_map.shape)
    return image_map[np.ix_(rows, cols)]


def attribution_on_file(image_map: np.ndarray, path: str | Path) -> np.ndarray:
    """:func:`to_file`, with every file pixel outside the ink's box set to 0.

    A map is 0 outside the ink's box of the drawing it was made on; for a file longer
    than ``read_image`` reads (1024 px), that drawing is the file averaged in blocks,
    and a block on the box's edge also covers file pixels outside it: up to f − 1 of
    them (2 for a 2,500 px file) would take the edge's value. The file is read again at
    its own size for its box (bounded by ``read_image``'s pixel limit).
    """
    from engine.storage.images import read_image

    out = to_file(image_map, path)
    if out.shape == image_map.shape:
        return out  # read at its own size: the map is already 0 outside the box
    box = ink_box(read_image(path, max_side=max(out.shape)))
    inside = np.zeros(out.shape, bool)
    if box is not None:
        inside[box] = True
    return np.where(inside, out, 0.0).astype(out.dtype)


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:
        # engine.read_image reads broken metadata as "no rotation" too (a camera app's
        # EXIF has made Pillow raise struct.error, KeyError, SyntaxError …).
        return 1
