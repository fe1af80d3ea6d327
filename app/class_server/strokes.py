"""A student's strokes painted into ConvPad's canvas raster, without Qt.

The raster is what the window's canvas holds: uint8 ``SIZE``×``SIZE``, white ink (255)
on black (0). The student's canvas (``width``×``height`` pixels) is scaled so that its
longer side fills the raster and centred; the pen is ``pen_width`` of the raster's side
(the app's brush, 22 px of 324), with round caps and joins, and a stroke of one point is
a dot — as the desktop canvas paints. Ink off the canvas is clipped.

Pillow's ImageDraw draws aliased shapes, so the strokes are drawn at ``SUPERSAMPLE``
times the size and averaged down, which gives edges like the canvas's antialiased pen.
Twice is enough: against the canvas's own QPainter on the same strokes the mean
difference is 0.5 of 255 a pixel (0.3 at four times, for twice the time: 0.7 → 1.5 ms
a drawing, which counts when a class sends 300 at once).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

SIZE = 324  # the canvas raster's side (app/canvas.py); the network's input is made from it
PEN_WIDTH = 22 / SIZE  # the canvas's brush, as a fraction of its side
SUPERSAMPLE = 2


def render(strokes: list[np.ndarray], width: float, height: float,
           pen_width: float = PEN_WIDTH) -> np.ndarray:
    """Paint ``strokes`` (each ``(n, 2)`` x, y in the student's canvas pixels) into a new
    uint8 ``(SIZE, SIZE)`` raster, ink 255 on 0."""
    k = SUPERSAMPLE
    big = SIZE * k
    scale = SIZE / max(width, height)
    offset = np.array([(SIZE - width * scale) / 2, (SIZE - height * scale) / 2])
    pen = max(1.0, pen_width * SIZE * k)
    r = pen / 2
    image = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        # No half-pixel shift: that matches the canvas's QPainter best (0.5 against 1.0).
        pts = (np.asarray(stroke, np.float64) * scale + offset) * k
        # Far-off points are allowed (up to a canvas away); clamp them to a margin
        # Pillow's integer maths handles, which does not change what is on the raster.
        pts = np.clip(pts, -2 * big, 3 * big)
        xy = [(float(x), float(y)) for x, y in pts]
        # A polyline with round caps and joins is its segments plus a disc at every
        # point; Pillow's own round joins (joint="curve") cost 4× as much.
        if len(xy) > 1:
            draw.line(xy, fill=255, width=round(pen))
        for x, y in xy:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image.reduce(k), np.uint8).copy()
