"""The lecture's own pictures, as data: its 9×9 X, its "trickier" X, and an O.

Tests check the toy network against the slides with these; the GUI's presets put them
on the canvas. +1 is ink, -1 background, exactly as printed on the slides.
"""

from __future__ import annotations

import numpy as np


def _grid(rows: str) -> np.ndarray:
    return np.array([[1.0 if c == "#" else -1.0 for c in r] for r in rows.split()], np.float32)


# "Trying every possible match": the X the three features are matched against.
SEED_X = _grid(
    """
    .........
    .#.....#.
    ..#...#..
    ...#.#...
    ....#....
    ...#.#...
    ..#...#..
    .#.....#.
    .........
    """
)

# "X's and O's: trickier cases": the same X shifted, with a displaced stroke.
SEED_TRICKY_X = _grid(
    """
    .........
    ......#..
    .#...#...
    ..##.#...
    ....#....
    ...#.##..
    ...#...#.
    ..#......
    .........
    """
)

# The lecture shows an O only as a picture; this is the 9×9 O its X is told apart from.
SEED_O = _grid(
    """
    .........
    ...###...
    ..#...#..
    .#.....#.
    .#.....#.
    .#.....#.
    ..#...#..
    ...###...
    .........
    """
)

# The slide's first feature map (the "\" diagonal matched against SEED_X), as printed:
# two decimals, truncated (7/9 is shown as 0.77).
SEED_MAP_DIAGONAL = np.array(
    [
        [0.77, -0.11, 0.11, 0.33, 0.55, -0.11, 0.33],
        [-0.11, 1.00, -0.11, 0.33, -0.11, 0.11, -0.11],
        [0.11, -0.11, 1.00, -0.33, 0.11, -0.11, 0.55],
        [0.33, 0.33, -0.33, 0.55, -0.33, 0.33, 0.33],
        [0.55, -0.11, 0.11, -0.33, 1.00, -0.11, 0.11],
        [-0.11, 0.11, -0.11, 0.33, -0.11, 1.00, -0.11],
        [0.33, -0.11, 0.55, 0.33, 0.11, -0.11, 0.77],
    ],
    np.float32,
)

# The ReLU slide's right-hand table: the filtered map above with every negative set to 0
# ("0.77 0 0.11 0.33 0.55 0 0.33 …"), the lecture's step 2 after convolution.
SEED_RELU_DIAGONAL = np.maximum(SEED_MAP_DIAGONAL, 0).astype(np.float32)

# The slide's pooled maps (2×2 max pooling of the three feature maps of SEED_X; pooling
# and ReLU commute, so these are also the pooled rectified maps).
SEED_POOLED = np.array(
    [
        [
            [1.00, 0.33, 0.55, 0.33],
            [0.33, 1.00, 0.33, 0.55],
            [0.55, 0.33, 1.00, 0.11],
            [0.33, 0.55, 0.11, 0.77],
        ],
        [
            [0.55, 0.33, 0.55, 0.33],
            [0.33, 1.00, 0.55, 0.11],
            [0.55, 0.55, 0.55, 0.11],
            [0.33, 0.11, 0.11, 0.33],
        ],
        [
            [0.33, 0.55, 1.00, 0.77],
            [0.55, 0.55, 1.00, 0.33],
            [1.00, 1.00, 0.11, 0.55],
            [0.77, 0.33, 0.55, 0.33],
        ],
    ],
    np.float32,
)

# What the GUI's preset buttons put on the canvas, in the order they are shown.
PRESETS: dict[str, np.ndarray] = {
    "X (lecture)": SEED_X,
    "Trickier X": SEED_TRICKY_X,
    "O": SEED_O,
}
