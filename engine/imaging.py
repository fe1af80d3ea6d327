"""Reading image files into drawings (ink 1.0 on 0.0), for the CLI and the GUI alike.

Files come from anywhere — scans of paper (dark ink on white), exports of drawing apps
(white on black), PNGs with transparency, 16-bit greys — so this module turns each
into the one thing the engine reads, or raises :class:`ImageError` with a sentence a
person can act on. It never lets Pillow's own exceptions escape.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.preprocessing import as_ink

# A drawing pad never needs more; a bigger file is almost certainly a mistake (a photo,
# a decompression bomb) and would take seconds and gigabytes to decode.
MAX_PIXELS = 40_000_000


class ImageError(ValueError):
    """An image file cannot be used; the message names the file and the reason."""


def read_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image file as a 2-D float32 drawing: ink 1.0 on background 0.0.

    Colour becomes grey (luminance). Transparent pixels are composited onto a
    background that contrasts with the opaque pixels — white under dark ink, black under
    light ink — so a black drawing on a transparent background keeps its ink. Then a
    mostly bright border means dark ink on paper and the image is inverted
    (:func:`engine.preprocessing.as_ink`).
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > max_pixels:
                    raise ImageError(
                        f"{path}: image is {w}×{h} pixels, more than the {max_pixels:,} pixels "
                        "ConvPad opens; scale it down first"
                    )
                if w == 0 or h == 0:
                    raise ImageError(f"{path}: image has no pixels ({w}×{h})")
                im.load()
                brightness = _brightness(im)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(
            f"{path}: not an image file Pillow can read (use PNG, JPG or BMP)"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{path}: image is too large to open safely; scale it down first"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: truncated or corrupt image file ({exc})") from None
    return as_ink(brightness, invert=None)


def _brightness(im: Image.Image) -> np.ndarray:
    """Luminance in [0, 1] with transparency composited away (see read_image)."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, np.float32)
        top = 65535.0 if a.max(initial=0) > 255 else 255.0
        return np.clip(a / top, 0, 1)
    has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    rgba = np.asarray(im.convert("RGBA"), np.float32) / 255.0
    lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    if not has_alpha:
        return lum
    alpha = rgba[..., 3]
    opaque = alpha > 0.5
    ink_is_light = opaque.any() and float(lum[opaque].mean()) > 0.5
    background = 0.0 if ink_is_light else 1.0
    return alpha * lum + (1.0 - alpha) * background
