"""Mapping a raster: by a 2×2 matrix about a centre (rotate, scale), or through a field.

The low-level half of :mod:`engine.experiments.transforms` and of the sweeps: Pillow
does the affine sampling (C code that releases the GIL, so a sweep in a worker thread
does not stall the GUI), numpy the bilinear sampling of a displacement field.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def warp_source(a: np.ndarray) -> Image.Image:
    """Float ink ready for :func:`affine`, to map one drawing many times cheaply.

    A Pillow "F" image of ``a`` with a one-pixel ring of background: Pillow repeats the
    edge pixels for samples in an image's outer half pixel, and the ring makes the
    world beyond the raster background there, as everywhere else.
    """
    return Image.fromarray(np.pad(np.asarray(a, np.float32), 1), mode="F")


def affine(
    a: np.ndarray | Image.Image,
    matrix: np.ndarray,
    centre: tuple[float, float],
    out_shape: tuple[int, int] | None = None,
    out_origin: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Map float ink ``a`` by ``matrix`` (2×2, acting on ``(x, y)``) about ``centre``.

    Output pixel ``p`` (at ``out_origin`` + its own coordinates, in ``a``'s frame)
    shows ``a`` at ``centre + matrix⁻¹ (p − centre)``, bilinearly; beyond ``a`` is
    background. ``out_shape`` defaults to ``a``'s. ``a`` may be what
    :func:`warp_source` made of it. Pillow does the sampling: it is C and releases the
    GIL, so a sweep in a worker thread does not stall the GUI.
    """
    src = a if isinstance(a, Image.Image) else warp_source(a)
    h, w = out_shape if out_shape is not None else (src.height - 2, src.width - 2)
    inv = np.linalg.inv(np.asarray(matrix, np.float64))
    cy, cx = centre
    oy, ox = out_origin
    # PIL samples the source at (A·x + B·y + C, D·x + E·y + F) for output point (x, y),
    # both in continuous coordinates (pixel centres at +0.5), as ours are; +1 for the ring.
    t = np.array([ox - cx, oy - cy]) @ inv.T + np.array([cx, cy]) + 1.0
    coeffs = (inv[0, 0], inv[0, 1], t[0], inv[1, 0], inv[1, 1], t[1])
    out = src.transform((int(w), int(h)), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)
    return np.asarray(out, np.float32)


def rotation_matrix(degrees: float) -> np.ndarray:
    """Anticlockwise on screen (y points down), on ``(x, y)``."""
    t = np.deg2rad(degrees)
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, s], [-s, c]])


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """A random field, normal at ``(cells+1)²`` points and bicubic in between."""
    coarse = rng.standard_normal((cells + 1, cells + 1)).astype(np.float32)
    h, w = shape
    return np.asarray(
        Image.fromarray(coarse, mode="F").resize((w, h), Image.Resampling.BICUBIC), np.float32
    )


def bilinear(a: np.ndarray, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
    """``a`` sampled at continuous points ``(sy, sx)`` (pixel centres at +0.5), 0 outside."""
    h, w = a.shape
    y, x = sy - 0.5, sx - 0.5
    y0, x0 = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    fy, fx = (y - y0).astype(np.float32), (x - x0).astype(np.float32)
    p = np.pad(a, 1)  # a ring of background, so neighbours one step outside read 0
    yi = np.clip(y0 + 1, 0, h + 1)
    xi = np.clip(x0 + 1, 0, w + 1)
    yj = np.clip(y0 + 2, 0, h + 1)
    xj = np.clip(x0 + 2, 0, w + 1)
    # Far outside, both neighbours clip onto the background ring.
    return (
        p[yi, xi] * (1 - fy) * (1 - fx)
        + p[yi, xj] * (1 - fy) * fx
        + p[yj, xi] * fy * (1 - fx)
        + p[yj, xj] * fy * fx
    )
