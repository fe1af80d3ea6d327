"""Edits of a drawing for experiments: shift, scale, rotate, thicken, thin, deform, noise.

The lecture claims a ConvNet should "classify an X as an X even if it's shifted, shrunk,
rotated, deformed". These functions make those changes to a canvas raster so a student
can test the claim: each takes a raster (2-D, ink bright on dark, float in [0, 1] or
uint8 0–255) and returns a new raster of the same shape and dtype.

- Sizes that the network should notice are in *input pixels*: one input pixel of a
  28×28 model on a 324 px canvas is 324/28 ≈ 11.6 canvas px. Functions that need it
  take ``input_size`` (the model's input side).
- Scale and rotation turn about the ink's centre of mass, so the drawing stays put.
- A change that would leave no ink on the canvas raises a
  :class:`~engine.errors.ConvPadError` saying so; the raster passed in is never modified.

A *step* is a small JSON-ready dict naming one change, ``{"op": "rotate", "degrees":
15}``: :func:`apply` performs it, :func:`describe` sums a list of them into a readout
("shifted +3,−1 · rotated 30°"), and an experiment log stores them as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image

from engine.errors import ConvPadError
from engine.experiments.warps import (
    affine,
    bilinear,
    rotation_matrix,
    smooth_field,
)
from engine.preprocessing import INK_THRESHOLD, as_drawn_cover

Step = dict[str, Any]

# Default sizes of one press of a control.
NUDGE = 1  # input pixels
SCALE_STEP = 1.1  # ×1.1 bigger, ÷1.1 smaller, so one of each cancels exactly
ROTATE_STEP = 15.0  # degrees
STROKE_RADIUS = 0.25  # input pixels added or removed on each side of a stroke
DEFORM_AMPLITUDE = 0.8  # input pixels: typical displacement of the elastic wobble
DEFORM_CELLS = 4  # the wobble's random field is set on a (cells+1)² grid, smooth between
NOISE_AMOUNT = 0.02  # fraction of the input's pixels turned to ink
ERASE_AMOUNT = 0.1  # fraction of the inked input pixels cleared


# ----- helpers ------------------------------------------------------------------------
def _float(raster: np.ndarray) -> np.ndarray:
    a = np.asarray(raster)
    if a.ndim != 2 or a.size == 0:
        raise ConvPadError(f"expected a 2-D canvas raster, got an array of shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    if not np.issubdtype(a.dtype, np.floating):
        raise ConvPadError(f"a canvas raster is float in [0, 1] or uint8, got {a.dtype}")
    return np.clip(np.nan_to_num(a.astype(np.float32)), 0.0, 1.0)


def _like(a: np.ndarray, raster: np.ndarray) -> np.ndarray:
    """``a`` (float, [0, 1]) in the dtype of the ``raster`` it was made from."""
    a = np.clip(a, 0.0, 1.0)
    if np.asarray(raster).dtype == np.uint8:
        return np.round(a * 255.0).astype(np.uint8)
    return a.astype(np.float32)


def _has_ink(a: np.ndarray) -> bool:
    return bool((a > INK_THRESHOLD).any())


def _start(raster: np.ndarray, verb: str) -> np.ndarray:
    a = _float(raster)
    if not _has_ink(a):
        raise ConvPadError(f"the canvas is empty: draw something to {verb} first")
    return a


def _kept(a: np.ndarray, what: str) -> np.ndarray:
    if not _has_ink(a):
        raise ConvPadError(f"{what} would leave no ink on the canvas; refused")
    return a


def _cell(shape: tuple[int, ...], input_size: int) -> float:
    """Canvas pixels per input pixel: the canvas seen whole, as in as-drawn mode."""
    if input_size < 1:
        raise ConvPadError(f"input_size must be a positive number of pixels, got {input_size}")
    return max(shape) / input_size


def ink_centre(raster: np.ndarray) -> tuple[float, float]:
    """The ink's centre of mass ``(y, x)`` in canvas coordinates (pixel ``i`` spans
    ``[i, i+1)``, so a single inked pixel at row 3 has its centre at 3.5)."""
    a = _float(raster)
    mass = float(a.sum())
    if mass <= 0:
        raise ConvPadError("the canvas is empty: it has no centre of ink")
    ys = np.arange(a.shape[0], dtype=np.float64) + 0.5
    xs = np.arange(a.shape[1], dtype=np.float64) + 0.5
    return float(ys @ a.sum(axis=1) / mass), float(xs @ a.sum(axis=0) / mass)


# ----- the transforms -----------------------------------------------------------------
def shift(raster: np.ndarray, dx: int, dy: int, input_size: int = 28) -> np.ndarray:
    """Move the drawing ``dx`` input pixels right and ``dy`` down (negative: left, up).

    The canvas moves by the nearest whole number of its own pixels (``dx``·side/
    ``input_size``, rounded), so a shift loses nothing but what leaves the canvas, and
    the opposite shift gives the same drawing back.
    """
    a = _start(raster, "shift")
    cell = _cell(a.shape, input_size)
    px, py = round(dx * cell), round(dy * cell)
    h, w = a.shape
    out = np.zeros_like(a)
    if abs(py) < h and abs(px) < w:
        out[max(py, 0) : h + min(py, 0), max(px, 0) : w + min(px, 0)] = a[
            max(-py, 0) : h + min(-py, 0), max(-px, 0) : w + min(-px, 0)
        ]
    _kept(out, f"shifting by {_signed(dx)},{_signed(dy)} input pixels")
    return _like(out, raster)


def _mapped(a: np.ndarray, matrix: np.ndarray, fit: bool) -> np.ndarray:
    """``a`` mapped by ``matrix`` about its ink's centre; with ``fit``, none of the ink
    is lost at the canvas edge: the result is moved back inside (and, only if it is
    larger than the canvas, shrunk to fit)."""
    centre = ink_centre(a)
    if not fit:
        return affine(a, matrix, centre)
    h, w = a.shape
    pad = max(h, w)  # room for everything the map can reach about an inside centre
    plane = affine(a, matrix, centre, (h + 2 * pad, w + 2 * pad), (-pad, -pad))
    rows = np.flatnonzero(plane.max(axis=1) > 0)
    cols = np.flatnonzero(plane.max(axis=0) > 0)
    if not rows.size:
        return plane[pad : pad + h, pad : pad + w]
    box = plane[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    bh, bw = box.shape
    if bh > h or bw > w:  # larger than the canvas itself: shrink it to fit
        k = min(h / bh, w / bw)
        box = np.asarray(Image.fromarray(box, mode="F").resize(
            (max(1, int(bw * k)), max(1, int(bh * k))), Image.Resampling.BILINEAR), np.float32)
        bh, bw = box.shape
    # Where the box was, moved just far enough to lie inside the canvas.
    top = int(np.clip(rows[0] - pad, 0, h - bh))
    left = int(np.clip(cols[0] - pad, 0, w - bw))
    out = np.zeros_like(a)
    out[top : top + bh, left : left + bw] = box
    return out


def scale(raster: np.ndarray, factor: float, fit: bool = False) -> np.ndarray:
    """Make the drawing ``factor`` times as big about the ink's centre (0.5: half size).

    ``fit`` keeps all of the ink on the canvas (see :func:`_mapped`): what a centred
    network sees, which the sweep computes on an unbounded plane.
    """
    if not factor > 0:
        raise ConvPadError(f"a scale factor must be positive, got {factor}")
    a = _start(raster, "scale")
    out = _mapped(a, np.eye(2) * factor, fit)
    _kept(out, f"scaling by ×{factor:.3g}")
    return _like(out, raster)


def rotate(raster: np.ndarray, degrees: float, fit: bool = False) -> np.ndarray:
    """Turn the drawing ``degrees`` anticlockwise (negative: clockwise) about the ink's
    centre; ``fit`` keeps all of the ink on the canvas (see :func:`scale`)."""
    a = _start(raster, "rotate")
    out = _mapped(a, rotation_matrix(degrees), fit)
    _kept(out, f"rotating by {_signed(degrees)}°")
    return _like(out, raster)


def _disc(radius: int) -> list[tuple[int, int]]:
    r = np.arange(-radius, radius + 1)
    ys, xs = np.meshgrid(r, r, indexing="ij")
    keep = ys**2 + xs**2 <= radius * radius + radius  # a round disc, not a diamond
    return list(zip(ys[keep].tolist(), xs[keep].tolist()))


def _morph(a: np.ndarray, radius: int, pick: Callable[..., np.ndarray]) -> np.ndarray:
    """Grey dilation (``pick=np.maximum``) or erosion (``np.minimum``) by a disc."""
    h, w = a.shape
    fill = 0.0 if pick is np.maximum else 1.0
    p = np.pad(a, radius, constant_values=fill)
    out = a.copy()
    for dy, dx in _disc(radius):
        pick(out, p[radius + dy : radius + dy + h, radius + dx : radius + dx + w], out=out)
    return out


def stroke_radius(shape: tuple[int, ...], input_size: int = 28) -> int:
    """Canvas pixels added to (or taken from) each side of a stroke by one press."""
    return max(1, round(STROKE_RADIUS * _cell(shape, input_size)))


def thicken(raster: np.ndarray, input_size: int = 28) -> np.ndarray:
    """Make every stroke thicker by a quarter input pixel on each side (grey dilation)."""
    a = _start(raster, "thicken")
    return _like(_morph(a, stroke_radius(a.shape, input_size), np.maximum), raster)


def thin(raster: np.ndarray, input_size: int = 28) -> np.ndarray:
    """Make every stroke thinner by a quarter input pixel on each side (grey erosion)."""
    a = _start(raster, "thin")
    out = _morph(a, stroke_radius(a.shape, input_size), np.minimum)
    _kept(out, "thinning the strokes further")
    return _like(out, raster)


def deform(
    raster: np.ndarray,
    seed: int = 0,
    input_size: int = 28,
    amplitude: float = DEFORM_AMPLITUDE,
    cells: int = DEFORM_CELLS,
) -> np.ndarray:
    """An elastic wobble: every point moves by a smooth random displacement.

    The displacement field is normal at a ``(cells+1)²`` grid of points with a typical
    size of ``amplitude`` input pixels, smooth (bicubic) in between, the same for the
    same ``seed``: a hand that is a little shaky, not noise.
    """
    a = _start(raster, "deform")
    rng = np.random.default_rng(seed)
    size = amplitude * _cell(a.shape, input_size)
    uy = smooth_field(rng, a.shape, cells) * size
    ux = smooth_field(rng, a.shape, cells) * size
    ys, xs = np.indices(a.shape, dtype=np.float32) + 0.5
    out = bilinear(a, ys + uy, xs + ux)
    _kept(out, "this deformation")
    return _like(out, raster)


def _cells(shape: tuple[int, ...], input_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Canvas row and column edges of the input-pixel cells (the canvas seen whole)."""
    h, w = shape
    side = max(h, w)
    cell = side / input_size
    edges = np.arange(input_size + 1) * cell
    rows = np.clip(np.round(edges - (side - h) / 2), 0, h).astype(int)
    cols = np.clip(np.round(edges - (side - w) / 2), 0, w).astype(int)
    return rows, cols


def add_noise(
    raster: np.ndarray, seed: int = 0, input_size: int = 28, amount: float = NOISE_AMOUNT
) -> np.ndarray:
    """Turn random input pixels (``amount`` of them all, at least one) fully to ink.

    Noise comes in whole input pixels, the network's own grain: a stray canvas pixel
    would average away before the network saw it.
    """
    a = _float(raster)
    rng = np.random.default_rng(seed)
    rows, cols = _cells(a.shape, input_size)
    k = max(1, round(amount * input_size * input_size))
    out = a.copy()
    for i in rng.choice(input_size * input_size, size=k, replace=False):
        r, c = divmod(int(i), input_size)
        out[rows[r] : rows[r + 1], cols[c] : cols[c + 1]] = 1.0
    return _like(out, raster)


def erase_noise(
    raster: np.ndarray, seed: int = 0, input_size: int = 28, amount: float = ERASE_AMOUNT
) -> np.ndarray:
    """Clear random inked input pixels (``amount`` of those holding ink, at least one)."""
    a = _start(raster, "erase from")
    rng = np.random.default_rng(seed)
    rows, cols = _cells(a.shape, input_size)
    inked = np.flatnonzero(as_drawn_cover((a > INK_THRESHOLD).astype(np.float32), input_size))
    k = max(1, round(amount * inked.size))
    out = a.copy()
    for i in rng.choice(inked, size=min(k, inked.size), replace=False):
        r, c = divmod(int(i), input_size)
        out[rows[r] : rows[r + 1], cols[c] : cols[c + 1]] = 0.0
    _kept(out, "erasing those pixels")
    return _like(out, raster)


# ----- steps --------------------------------------------------------------------------
def apply(raster: np.ndarray, step: Step, input_size: int = 28) -> np.ndarray:
    """Perform one step (a dict from the ``*_step`` helpers or an experiment log)."""
    op = step.get("op")
    if op == "shift":
        return shift(raster, int(step["dx"]), int(step["dy"]), input_size)
    if op == "scale":
        return scale(raster, float(step["factor"]), bool(step.get("fit", False)))
    if op == "rotate":
        return rotate(raster, float(step["degrees"]), bool(step.get("fit", False)))
    if op == "stroke":
        out = raster
        n = int(step["steps"])
        for _ in range(abs(n)):
            out = (thicken if n > 0 else thin)(out, input_size)
        return out
    if op == "deform":
        return deform(raster, int(step.get("seed", 0)), input_size)
    if op == "noise":
        return add_noise(raster, int(step.get("seed", 0)), input_size)
    if op == "erase":
        return erase_noise(raster, int(step.get("seed", 0)), input_size)
    raise ConvPadError(
        f"unknown transform {op!r}; choose one of: "
        "shift, scale, rotate, stroke, deform, noise, erase"
    )


def _signed(v: float) -> str:
    """+3, −1, 0, +2.5: the sign always shown, a real minus sign."""
    text = f"{abs(v):g}"
    if v > 0:
        return "+" + text
    return "−" + text if v < 0 else "0"


def _times(n: int) -> str:
    return "" if n == 1 else f" ×{n}"


def describe(steps: Sequence[Step]) -> str:
    """A one-line readout of what ``steps`` did, e.g. ``"shifted +3,−1 · rotated 30°"``.

    A summary, in the order each kind of change first appears: shifts and rotations
    add up, scales multiply, thicker/thinner presses cancel, deforms and noise count.
    Changes that cancel out are left out; no steps at all give ``""``.
    """
    totals: dict[str, Any] = {}
    for s in steps:
        op = s.get("op")
        if op == "shift":
            dx, dy = totals.get(op, (0, 0))
            totals[op] = (dx + int(s["dx"]), dy + int(s["dy"]))
        elif op == "scale":
            totals[op] = totals.get(op, 1.0) * float(s["factor"])
        elif op in ("rotate", "stroke"):
            key = "degrees" if op == "rotate" else "steps"
            totals[op] = totals.get(op, 0) + float(s[key])
        elif op in ("deform", "noise", "erase"):
            totals[op] = totals.get(op, 0) + 1
    parts = []
    for op, v in totals.items():
        if op == "shift" and v != (0, 0):
            parts.append(f"shifted {_signed(v[0])},{_signed(v[1])}")
        elif op == "scale" and abs(v - 1.0) > 1e-6:
            parts.append(f"scaled ×{v:.2f}")
        elif op == "rotate" and abs(v) > 1e-6:
            parts.append(f"rotated {_signed(round(v, 1)).lstrip('+')}°")
        elif op == "stroke" and v:
            parts.append(("thickened" if v > 0 else "thinned") + _times(int(abs(v))))
        elif op == "deform":
            parts.append("deformed" + _times(v))
        elif op == "noise":
            parts.append("noise added" + _times(v))
        elif op == "erase":
            parts.append("pixels erased" + _times(v))
    return " · ".join(parts)
