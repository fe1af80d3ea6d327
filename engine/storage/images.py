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
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from engine.errors import ImageError
from engine.preprocessing import as_ink
from engine.storage.files import stat_problem

# A drawing pad never needs more; a bigger file is almost certainly a mistake (a photo,
# a decompression bomb) and would take seconds and gigabytes to decode.
MAX_PIXELS = 40_000_000

# Images are reduced to at most this many pixels on their longer side before anything
# is converted to float. The canvas is about 560 px, so 1024 keeps every detail it can
# show; and the 28×28 models scale the ink's box to 20 px, so a drawing covering as
# little as 1/50 of a 1024 px image still keeps all the pixels it needs. Without the
# reduction a 6000×6000 RGBA file costs over 1 GB of float arrays and seconds of work.
MAX_SIDE = 1024

# Big images are converted and reduced a strip at a time, about this many pixels per
# strip, so only the decoded file and one small strip are ever in memory at once.
STRIP_PIXELS = 1 << 22

# Modes holding grey levels beyond 8 bits (16-bit PNG/TIFF, 32-bit int, float).
HIGH_DEPTH = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def read_image(
    path: str | Path, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE
) -> np.ndarray:
    """Read an image file as a 2-D float32 drawing: ink 1.0 on background 0.0.

    The EXIF orientation is applied (a phone photo tagged "rotate 90°" comes in
    upright), and an image longer than ``max_side`` pixels is reduced (averaging whole
    blocks of pixels) until it fits, so memory stays proportional to what the canvas
    shows, not to the file. Colour becomes grey (luminance). Transparent pixels are
    composited onto a background that contrasts with the opaque pixels — white under
    dark ink, black under light ink — so a black drawing on a transparent background
    keeps its ink. Then a mostly bright border means dark ink on paper and the image is
    inverted (:func:`engine.preprocessing.as_ink`).
    """
    path = Path(path)
    problem = stat_problem(path)
    if problem:
        raise ImageError(f"{path}: {problem}")
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
                has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
                small = _small(im, max_side)
                # Grey levels: 16-bit files are scaled by their full range when any pixel
                # uses it, and a float image in [0, 1] (a TIFF from numpy) is already
                # scaled — dividing it by 255 made it read as a blank page.
                peak = (im.getextrema()[1] or 0) if small.mode == "F" else 0
                float_unit = im.mode == "F" and peak <= 1.0
                top = 65535.0 if peak > 255 else 1.0 if float_unit else 255.0
        return as_ink(_brightness(small, has_alpha, top), invert=None)
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
    except _NotFinite:
        raise ImageError(
            f"{path}: pixels hold NaN or infinite values (a float image); "
            "export it as an 8- or 16-bit PNG"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path}: truncated or corrupt image file ({exc})") from None


class _NotFinite(Exception):
    """A float image holds NaN or infinity (raised inside read_image, reported there)."""


def _small(im: Image.Image, max_side: int) -> Image.Image:
    """``im`` decoded, upright, at most ``max_side`` px long, in mode "F" or "RGBA".

    High-depth grey stays "F" (its scale is decided from the real values later); every
    other mode becomes "RGBA", which keeps colour, palettes and transparency.
    """
    w, h = im.size
    work = "F" if im.mode in HIGH_DEPTH else "RGBA"
    # JPEG decodes at 1/2, 1/4 or 1/8 scale for free; other formats ignore this.
    scale = max_side / max(w, h)
    if scale < 1:
        im.draft(None, (max(1, int(w * scale)), max(1, int(h * scale))))
    im.load()
    # After loading, as ImageOps.exif_transpose does: Pillow's TIFF decoder applies the
    # orientation itself and drops the tag. Read now, as the reduced copy has no tags.
    exif = _orientation_exif(im)
    w, h = im.size
    factor = -(-max(w, h) // max_side)  # ceil: the smallest block that fits max_side
    # Whole strips of blocks: reducing strip by strip gives exactly the whole-image result.
    rows = factor * max(1, STRIP_PIXELS // (w * factor))
    out = Image.new(work, (-(-w // factor), -(-h // factor)))
    for top in range(0, h, rows):
        strip = im.crop((0, top, w, min(h, top + rows)))
        strip = strip if strip.mode == work else strip.convert(work)
        if im.mode == "F" and not np.isfinite(np.asarray(strip)).all():
            raise _NotFinite
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    if exif is not None:
        out.info["exif"] = exif
        ImageOps.exif_transpose(out, in_place=True)
    return out


def _orientation_exif(im: Image.Image) -> bytes | None:
    """The image's EXIF block when it asks for a rotation or flip, else None."""
    try:
        exif = im.getexif()
        return exif.tobytes() if exif.get(ExifTags.Base.Orientation, 1) != 1 else None
    except Exception:
        # Metadata written by a broken camera app has made Pillow raise struct.error,
        # KeyError, SyntaxError…; the pixels are still good, so read them as stored.
        return None


def _brightness(im: Image.Image, has_alpha: bool, top: float) -> np.ndarray:
    """Luminance in [0, 1] with transparency composited away (see read_image).

    ``im`` comes from :func:`_small`; ``top`` is the grey level of white in an "F" image.
    """
    if im.mode == "F":
        return np.clip(np.asarray(im, np.float32) / top, 0, 1)
    rgba = np.asarray(im, np.float32) / 255.0
    lum = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    if not has_alpha:
        return lum
    alpha = rgba[..., 3]
    opaque = alpha > 0.5
    ink_is_light = opaque.any() and float(lum[opaque].mean()) > 0.5
    background = 0.0 if ink_is_light else 1.0
    return alpha * lum + (1.0 - alpha) * background
