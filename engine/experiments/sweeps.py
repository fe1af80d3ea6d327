"""Invariance sweeps: how each class's probability changes as one drawing is turned,
resized and moved.

:func:`sweep` takes one drawing, one model and one input mode and returns a
:class:`Sweep`: every class's probability against rotation (−180°…175°, 72 angles),
against scale (0.3×…2×, 26 factors) and over a 17×17 map of shifts (−8…8 input pixels
each way). The drawing moves on an unbounded plane: in "centred" mode no ink is ever
lost, and in "as-drawn" mode the network sees what falls inside the canvas. The grids
hold 0°, 1× and (0, 0), whose probabilities are :meth:`Model.predict`'s for the drawing.

All 387 inputs go through the network in one batched forward pass. Cheap because:

- Shifts as drawn are exact and need no resampling: the canvas is averaged once into a
  grid of input pixels 8 cells wider than the canvas on every side, and each shift is a
  window of it. Centred, the recipe crops to the ink, so every shift gives the network
  the same input: one row, repeated — which is *why* the centred shift map is flat.
- Rotations and scales are rendered at a working resolution: about 4 samples per input
  pixel across the canvas as drawn, and centred at most 9 per input pixel across the
  ink, rendering only the box the ink's box is moved to. The 0° and 1× points are the
  drawing itself, preprocessed exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine import preprocessing
from engine.errors import ConvPadError, LimitError
from engine.experiments.warps import affine, rotation_matrix, warp_source

if TYPE_CHECKING:
    from engine.model import Model

DEGREES = np.arange(-180.0, 180.0, 5.0)  # 72 angles, 5° apart, 0° among them
FACTORS = np.round(np.concatenate([np.linspace(0.3, 1.0, 11), np.linspace(1.0, 2.0, 16)[1:]]), 4)
SHIFTS = np.arange(-8, 9)  # input pixels, each way
# Images per forward call. ``stop`` is asked between calls, so a sweep made stale by a
# new stroke gives the CPU back within one chunk (a few ms) instead of finishing its
# whole batch of several hundred images while the pen moves.
CHUNK = 64

# Working resolution of rotated and scaled drawings, in samples per input pixel: across
# the canvas as drawn (the network averages ~12 canvas px into one input pixel anyway);
# across the ink's longer side centred (252 px for a 28 px input, whose recipe shrinks
# it to 20 px): an ink box up to that size is rendered at full resolution.
AS_DRAWN_SAMPLES = 4
CENTRED_SAMPLES = 9


@dataclass
class Sweep:
    """One drawing's class probabilities under rotation, scale and shift.

    ``rotation[i]`` is the probability row at ``degrees[i]`` (anticlockwise),
    ``scale[i]`` at ``factors[i]``, ``shift[j, i]`` at ``(dx, dy) = (shifts[i],
    shifts[j])`` input pixels (right and down). A row is NaN where no ink is in view.
    """

    model: str
    input: str
    classes: list[str]
    degrees: np.ndarray
    rotation: np.ndarray
    factors: np.ndarray
    scale: np.ndarray
    shifts: np.ndarray
    shift: np.ndarray

    @property
    def probabilities(self) -> np.ndarray:
        """The untouched drawing's probabilities (0°, 1×, no shift)."""
        return self.rotation[int(np.flatnonzero(self.degrees == 0)[0])]

    @property
    def winner(self) -> int:
        """Index of the class the untouched drawing is given."""
        return int(np.nanargmax(self.probabilities))

    def to_json(self) -> dict[str, Any]:
        """The ``convpad sweep --json`` object; NaN (no ink in view) becomes ``null``."""

        def rows(a: np.ndarray) -> list:
            return np.where(np.isnan(a), None, np.round(a.astype(float), 6)).tolist()

        shifts = [int(v) for v in self.shifts]
        return {
            "model": self.model,
            "input": self.input,
            "classes": list(self.classes),
            "rotation": {"degrees": [float(v) for v in self.degrees],
                         "probabilities": rows(self.rotation)},
            "scale": {"factors": [float(v) for v in self.factors],
                      "probabilities": rows(self.scale)},
            "shift": {"dx": shifts, "dy": shifts, "probabilities": rows(self.shift)},
        }


def _work_canvas(ink: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The canvas centred in its square, averaged to ``side``² by area, and the scale."""
    big = max(ink.shape)
    if side == big:  # full resolution: the pixels themselves, not a resampled copy
        h, w = ink.shape
        top, left = (big - h) // 2, (big - w) // 2
        return np.pad(ink, ((top, big - h - top), (left, big - w - left))), 1.0
    return preprocessing.as_drawn_cover(ink, side), side / big


def _render(
    model: Model, ink: np.ndarray, mode: str, maps: Sequence[np.ndarray],
    stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Model inputs for ``ink`` mapped by each 2×2 matrix about its ink centre, and
    which of them show no ink; None as soon as ``stop()`` says so (asked per map: the
    warps are most of a sweep's time, and a stale one should give the pen its CPU)."""
    stopped = stop if stop is not None else (lambda: False)
    size = model.input_shape[-1]
    big = max(ink.shape)
    found = preprocessing.INK_THRESHOLD < ink
    rows, cols = np.flatnonzero(found.any(axis=1)), np.flatnonzero(found.any(axis=0))
    if mode == "as-drawn":
        side = min(big, AS_DRAWN_SAMPLES * size)
    else:
        longer = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
        side = min(big, max(size, round(big * CENTRED_SAMPLES * size / longer)))
    work, k = _work_canvas(ink, side)
    source = warp_source(work)
    # The ink's centre of mass, in the working square's pixels.
    mass = float(work.sum())
    ys = np.arange(side, dtype=np.float64) + 0.5
    cy, cx = float(ys @ work.sum(axis=1) / mass), float(ys @ work.sum(axis=0) / mass)
    if mode == "as-drawn":
        # What falls inside the canvas is what the network sees: render the canvas only.
        warped = []
        for m in maps:
            if stopped():
                return None
            warped.append(affine(source, m, (cy, cx)))
        stack = np.stack(warped)
        finish = preprocessing.AS_DRAWN[model.spec.preprocessing]
        x = finish(preprocessing.as_drawn_cover(stack, size))
        return x, stack.max(axis=(1, 2)) <= preprocessing.INK_THRESHOLD
    # Centred: render each map with room for all its ink (the unbounded plane) and let
    # the model's own recipe crop it. Only the box the ink's box maps to is sampled, on
    # the canvas's own pixel grid (so a point matches the same transform done to the
    # canvas); a recipe that looks at the canvas size gets it set in a canvas-sized plane.
    top, left = (big - ink.shape[0]) / 2, (big - ink.shape[1]) / 2
    box_y = (rows[[0, -1]] + [0, 1] + top) * k - cy
    box_x = (cols[[0, -1]] + [0, 1] + left) * k - cx
    corners = np.array([(x, y) for y in box_y for x in box_x])
    canvas_sized = model.spec.preprocessing in preprocessing.CANVAS_SIZED
    xs_, blank = [], []
    for m in maps:
        if stopped():
            return None
        moved = corners @ np.asarray(m).T + np.array([cx, cy])
        # Two pixels of margin: bilinear sampling spreads ink by one.
        x0, y0 = (math.floor(v) - 2 for v in moved.min(axis=0))
        x1, y1 = (math.ceil(v) + 2 for v in moved.max(axis=0))
        img = affine(source, m, (cy, cx), (y1 - y0, x1 - x0), (y0, x0))
        if canvas_sized and min(img.shape) < side:
            h, w = max(side, img.shape[0]), max(side, img.shape[1])
            plane = np.zeros((h, w), np.float32)
            at_y, at_x = (h - img.shape[0]) // 2, (w - img.shape[1]) // 2
            plane[at_y : at_y + img.shape[0], at_x : at_x + img.shape[1]] = img
            img = plane
        blank.append(preprocessing.is_blank(img))
        xs_.append(model.preprocess(img, invert=False, input="centred")[0])
    return np.stack(xs_), np.array(blank)


# What a sweep accepts, checked before anything is rendered: a grid of 10⁹ points would
# take hours and gigabytes; a scale of 0 or less is no drawing at all.
MAX_ANGLES = 721
MAX_FACTORS = 401
FACTOR_RANGE = (0.05, 10.0)
MAX_SHIFT = 32  # input pixels each way (a 65 × 65 map)


def check_grids(degrees, factors, shifts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three grids as arrays, or :class:`~engine.errors.LimitError` naming the one
    beyond its limit (sizes, finite values, positive scales, whole shifts). Sizes are
    checked before a grid is turned into an array: ``range(10**9)`` is refused, not built."""
    for name, grid, most in (("degrees", degrees, MAX_ANGLES), ("factors", factors, MAX_FACTORS),
                             ("shifts", shifts, 2 * MAX_SHIFT + 1)):
        if hasattr(grid, "__len__") and len(grid) > most:
            raise LimitError(f"{name}: {len(grid):,} points; a sweep takes at most {most}")
    try:
        d = np.asarray(degrees, np.float64).reshape(-1)
        f = np.asarray(factors, np.float64).reshape(-1)
        s = np.asarray(shifts, np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise LimitError(f"a sweep's grids must be lists of numbers ({exc})") from None
    if not 1 <= d.size <= MAX_ANGLES or not np.isfinite(d).all():
        raise LimitError(f"degrees: {d.size:,} angles; a sweep takes 1 to {MAX_ANGLES} "
                         "finite angles")
    lo, hi = FACTOR_RANGE
    if not 1 <= f.size <= MAX_FACTORS or not ((f >= lo) & (f <= hi)).all():
        raise LimitError(f"factors: a sweep takes 1 to {MAX_FACTORS} scales, each from "
                         f"{lo:g}× to {hi:g}× (got {f.size:,}, from {f.min():g} to {f.max():g})")
    if not 1 <= s.size <= 2 * MAX_SHIFT + 1 or not np.isfinite(s).all() or (
            np.abs(s) > MAX_SHIFT).any() or (s != np.round(s)).any():
        raise LimitError(f"shifts: a sweep takes whole shifts within ±{MAX_SHIFT} input "
                         f"pixels, at most {2 * MAX_SHIFT + 1} of them")
    return d, f, s.astype(np.int64)


def sweep(
    model: Model,
    drawing: np.ndarray,
    input: str = "centred",
    invert: bool | None = False,
    degrees: Sequence[float] = DEGREES,
    factors: Sequence[float] = FACTORS,
    shifts: Sequence[int] = SHIFTS,
    stop: Callable[[], bool] | None = None,
) -> Sweep | None:
    """Probabilities of every class for ``drawing`` rotated, scaled and shifted.

    ``drawing`` is a raw canvas (2-D, ink bright on dark unless ``invert``); ``input`` is
    the mode, as in :meth:`Model.preprocess`. ``degrees`` must hold 0, ``factors`` 1 and
    ``shifts`` 0. ``stop`` is asked between the stages and between forward chunks;
    when it answers True the sweep gives up and returns None (a newer drawing has made
    it pointless). Raises :class:`~engine.errors.ConvPadError` for a drawing with no ink.
    """
    if input not in preprocessing.INPUT_MODES:
        raise ConvPadError(
            f"unknown input mode {input!r}; choose one of: {', '.join(preprocessing.INPUT_MODES)}"
        )
    degrees, factors, shifts = check_grids(degrees, factors, shifts)
    if not ((degrees == 0).any() and (factors == 1).any() and (shifts == 0).any()):
        raise ConvPadError("a sweep's grids must include 0°, 1× and a zero shift")
    ink = preprocessing.as_ink(drawing, invert=invert)
    if preprocessing.is_blank(ink):
        raise ConvPadError("the drawing holds no ink: nothing to sweep")
    size = model.input_shape[-1]
    exact = model.preprocess(ink, invert=False, input=input)[0]

    maps = [rotation_matrix(d) for d in degrees] + [np.eye(2) * f for f in factors]
    rendered = _render(model, ink, input, maps, stop)
    if rendered is None:
        return None
    x_maps, blank_maps = rendered
    # The untouched drawing is preprocessed exactly, not through the working resolution.
    identity = np.concatenate([degrees == 0, factors == 1])
    x_maps[identity] = exact
    blank_maps[identity] = False
    if stop is not None and stop():
        return None

    n = len(shifts)
    if input == "as-drawn":
        margin = int(np.abs(shifts).max())
        cover = preprocessing.as_drawn_cover(ink, size, margin)
        inked = preprocessing.as_drawn_cover(
            (ink > preprocessing.INK_THRESHOLD).astype(np.float32), size, margin
        )
        # Moving the drawing by (dx, dy) moves the canvas's window by (−dx, −dy).
        at = margin - shifts
        win = sliding_window_view(cover, (size, size))[at][:, at]
        finish = preprocessing.AS_DRAWN[model.spec.preprocessing]
        x_shift = finish(win).reshape(n * n, size, size)
        blank_shift = ~(sliding_window_view(inked, (size, size))[at][:, at] > 0).any(axis=(2, 3))
        blank_shift = blank_shift.reshape(-1)
    else:
        # The centred recipe crops to the ink: on an unbounded plane, a drawing moved by
        # whole pixels reaches the network as exactly the same input. One row does.
        x_shift = exact[None]
        blank_shift = np.zeros(1, bool)

    x = np.concatenate([x_maps, x_shift]).reshape(-1, *model.input_shape)
    blank = np.concatenate([blank_maps, blank_shift])
    probs = np.full((len(x), len(model.classes)), np.nan, np.float32)
    todo = np.flatnonzero(~blank)  # no ink in view: no answer, no work
    for start in range(0, len(todo), CHUNK):
        if stop is not None and stop():
            return None
        rows = todo[start : start + CHUNK]
        probs[rows] = model.forward(x[rows])
    nd, nf = len(degrees), len(factors)
    shift = probs[nd + nf :]
    if len(shift) == 1:
        shift = np.repeat(shift, n * n, axis=0)
    return Sweep(
        model=model.name,
        input=input,
        classes=list(model.classes),
        degrees=degrees,
        rotation=probs[:nd],
        factors=factors,
        scale=probs[nd : nd + nf],
        shifts=shifts,
        shift=shift.reshape(n, n, -1),
    )
