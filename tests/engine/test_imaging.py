"""Image files: NaN pixels, EXIF orientation and big files, read the way a person expects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageDraw, ImageOps

from engine.errors import ImageError
from engine.storage.images import read_image

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_float_image_holding_nan_is_an_image_error_naming_the_file(tmp_path, bad) -> None:
    a = np.zeros((40, 60), np.float32)
    a[10:30, 20:25] = 200.0
    a[5, 7] = bad
    path = tmp_path / "nan.png"  # a float TIFF under a PNG name, as the report had it
    Image.fromarray(a, "F").save(path, format="TIFF")
    with pytest.raises(ImageError, match=r"nan\.png: pixels hold NaN or infinite values"):
        read_image(path)


def _bar() -> Image.Image:
    """A landscape picture of an L: a long horizontal bar and a short foot on its left."""
    im = Image.new("L", (120, 60))
    d = ImageDraw.Draw(im)
    d.rectangle((10, 25, 110, 35), fill=255)
    d.rectangle((10, 5, 20, 35), fill=255)
    return im


# TIFF only upside down: Pillow's TIFF decoder applies the tag itself, and for the
# quarter turns (5-8) gives the stored width and height back (Pillow 13), so there is no
# right answer to compare with.
@pytest.mark.parametrize(
    ("fmt", "orientation"),
    [(fmt, o) for fmt in ("PNG", "JPEG", "WEBP") for o in (3, 6, 8)] + [("TIFF", 3)],
)
def test_exif_orientation_is_applied(tmp_path, fmt, orientation) -> None:
    im = _bar()
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    options = {"quality": 100} if fmt == "JPEG" else {}
    tagged, upright = tmp_path / f"tagged.{fmt.lower()}", tmp_path / "upright.png"
    im.save(tagged, format=fmt, exif=exif.tobytes(), **options)
    with Image.open(tagged) as stored:  # Pillow's own reading of the tag, whole-image
        assert stored.getexif()[ExifTags.Base.Orientation] == orientation
        ImageOps.exif_transpose(stored).save(upright)
    got, want = read_image(tagged), read_image(upright)
    turned = orientation in (6, 8)
    assert got.shape == want.shape == ((im.width, im.height) if turned else (im.height, im.width))
    np.testing.assert_array_equal(got, want)
    assert not np.allclose(np.rot90(got, 2), want)  # not symmetric: orientation matters


def test_a_big_image_is_reduced_by_whole_blocks_exactly(tmp_path) -> None:
    """Strip-by-strip reduction equals reducing the whole picture at once."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 100, (230, 250), dtype=np.uint8)  # dark noise: no inversion
    Image.fromarray(a).save(tmp_path / "noise.png")
    got = read_image(tmp_path / "noise.png", max_side=64)
    factor = 4  # ceil(250 / 64)
    want = np.asarray(Image.fromarray(a).reduce(factor), np.float32) / 255
    assert got.shape == want.shape == (58, 63)
    np.testing.assert_allclose(got, want, atol=1e-6)


# A child process decodes one big file and reports its peak resident memory (VmHWM)
# above where it stood before the call. Not ru_maxrss: Linux carries that across exec
# from the parent, so it starts at pytest's own size. Writing 5 to clear_refs resets the
# peak to the current size, so only the decoding itself is measured.
_MEASURE = """
import json, sys, time
from engine.storage.images import read_image

def kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

read_image(sys.argv[2])  # warm up: imports, Pillow plugins, numpy buffers
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = kb("VmRSS")
assert kb("VmHWM") <= before + 1024, "the peak was not reset"
t = time.perf_counter()
ink = read_image(sys.argv[1])
seconds = time.perf_counter() - t
print(json.dumps({"mb": (kb("VmHWM") - before) / 1024, "seconds": seconds,
                  "shape": ink.shape, "ink": float(ink.max()),
                  "module": sys.modules["engine.storage.images"].__file__}))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status (Linux)")
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_6000px_image_costs_at_most_300_mb_to_read(tmp_path, fmt) -> None:
    big = tmp_path / f"big.{fmt.lower()}"
    im = Image.new("RGBA", (6000, 6000), (255, 255, 255, 0))  # mostly transparent
    ImageDraw.Draw(im).line([(1500, 1000), (4500, 5000)], fill=(0, 0, 0, 255), width=80)
    (im if fmt == "PNG" else im.convert("RGB")).save(big, format=fmt)
    del im
    small = tmp_path / "small.png"
    _bar().save(small)
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(big), str(small)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert Path(result["module"]).is_relative_to(REPO)
    print(f"{fmt} 6000×6000: +{result['mb']:.0f} MB, {result['seconds']:.2f} s")
    assert result["mb"] <= 300, result
    assert max(result["shape"]) <= 1024 and result["ink"] == 1.0


def test_a_float_image_in_unit_range_keeps_its_ink(tmp_path) -> None:
    a = np.zeros((60, 60), np.float32)
    a[10:50, 28:32] = 1.0  # a white "1" on black, as numpy would save a drawing
    path = tmp_path / "one.tif"
    Image.fromarray(a, "F").save(path, format="TIFF")
    ink = read_image(path)
    assert ink.max() == pytest.approx(1.0) and ink[30, 30] > 0.9 and ink[5, 5] < 0.1
