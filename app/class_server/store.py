"""The class's drawings on disk: one PNG and one JSON record per drawing.

Each file is written whole and swapped in atomically (temp file, fsync, rename), the
PNG first and the record last; the record carries the PNG's SHA-256. A drawing counts
as saved when its record exists, and the server answers a student only after that, so
an app killed at any instant loses no drawing a student saw answered. A PNG without a
record is a drawing that was being saved when the app stopped; :func:`load` reports it
and skips it, as it skips a damaged record, naming the file and the reason.

The record (``<id>.json``)::

    {"format": "convpad-class-drawing", "version": 1, "id": "0007-3fa9c1",
     "name": "Ana", "prompt": "draw a 7", "received": "2026-12-03T10:15:02.120+00:00",
     "class": "7", "probabilities": {"0": 0.01, …}, "png": "0007-3fa9c1.png",
     "png_sha256": "…", "canvas": [300, 300], "strokes": [[[x, y], …], …]}
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from app.class_server.protocol import Answer, DrawingRequest
from app.class_server.strokes import SIZE
from engine import WriteError
from engine.storage import write_bytes_atomic

FORMAT, VERSION = "convpad-class-drawing", 1


@dataclass(frozen=True)
class Drawing:
    """One student's drawing as received, answered and saved.

    ``name`` is as typed (control characters removed): show it as text, never as
    markup. ``raster`` is uint8 ``(324, 324)``, ink 255 on 0, like the canvas's.
    ``prompt`` is the teacher's prompt open when it arrived (None: none).
    """

    id: str
    name: str
    raster: np.ndarray
    answer: Answer
    prompt: str | None
    received: datetime
    png_path: Path


class Loaded(NamedTuple):
    """What :func:`load` found: the drawings in the order they arrived, and one
    sentence for each file it skipped."""

    drawings: list[Drawing]
    skipped: list[str]


def make_folder(store_dir: Path) -> None:
    """Create the class's folder; WriteError (naming it and why) when that fails."""
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot create the class folder {store_dir}: "
                                    f"{exc.strerror}") from None


def png_bytes(raster: np.ndarray) -> bytes:
    """The raster as a greyscale PNG."""
    buf = io.BytesIO()
    # Level 1: half the time of the default for a third more bytes (3 KB a drawing).
    Image.fromarray(np.ascontiguousarray(raster, np.uint8)).save(
        buf, "PNG", compress_level=1)
    return buf.getvalue()


def save(drawing: Drawing, request: DrawingRequest | None = None) -> None:
    """Write ``drawing`` beside ``drawing.png_path``: the PNG, then the record.

    ``request`` (the strokes as sent) is kept in the record when given. Raises
    ``engine.errors.WriteError`` (naming the file and why) when the disk refuses.
    """
    png = png_bytes(drawing.raster)
    record = {
        "format": FORMAT, "version": VERSION, "id": drawing.id, "name": drawing.name,
        "prompt": drawing.prompt, "received": drawing.received.isoformat(timespec="milliseconds"),
        "class": drawing.answer.label, "probabilities": drawing.answer.probabilities,
        "png": drawing.png_path.name, "png_sha256": hashlib.sha256(png).hexdigest(),
    }
    if request is not None:
        record["canvas"] = [request.width, request.height]
        record["strokes"] = [np.round(s, 2).tolist() for s in request.strokes]
    write_bytes_atomic(drawing.png_path, png)
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    write_bytes_atomic(drawing.png_path.with_suffix(".json"), text.encode("utf-8"))


class _Damaged(Exception):
    pass


def _field(record: dict, key: str, kind: type | tuple[type, ...]) -> object:
    if not isinstance(record.get(key), kind):
        raise _Damaged(f"its field {key!r} is missing or of the wrong type")
    return record[key]


def _read(path: Path) -> Drawing:
    try:
        record = json.loads(path.read_bytes())
    except OSError as exc:
        raise _Damaged(f"cannot be read ({exc.strerror})") from None
    except (ValueError, RecursionError):
        raise _Damaged("is not JSON (cut short or overwritten)") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise _Damaged(f"is not a ConvPad class drawing (no \"format\": \"{FORMAT}\")")
    if record.get("version") != VERSION:
        raise _Damaged(f"has version {record.get('version')!r}; this ConvPad reads {VERSION}")
    ident = _field(record, "id", str)
    png_name = _field(record, "png", str)
    if Path(png_name).name != png_name or not png_name.endswith(".png"):
        raise _Damaged(f"names a PNG outside its folder ({png_name!r})")
    probs = _field(record, "probabilities", dict)
    if not all(isinstance(v, float | int) for v in probs.values()):
        raise _Damaged("its probabilities are not numbers")
    try:
        received = datetime.fromisoformat(_field(record, "received", str))
    except ValueError:
        raise _Damaged("its time of arrival is not a date") from None
    if received.tzinfo is None:
        raise _Damaged("its time of arrival has no time zone")
    prompt = record.get("prompt")
    png_path = path.with_name(png_name)
    try:
        png = png_path.read_bytes()
    except OSError as exc:
        raise _Damaged(f"its picture {png_name} cannot be read ({exc.strerror})") from None
    if hashlib.sha256(png).hexdigest() != record.get("png_sha256"):
        raise _Damaged(f"its picture {png_name} does not match the record (changed or cut short)")
    try:
        with Image.open(io.BytesIO(png)) as im:
            raster = np.asarray(im.convert("L"), np.uint8).copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        raise _Damaged(f"its picture {png_name} is not a readable PNG") from None
    if raster.shape != (SIZE, SIZE):
        raise _Damaged(f"its picture is {raster.shape[1]}×{raster.shape[0]}, not {SIZE}×{SIZE}")
    answer = Answer(str(_field(record, "class", str)), {str(k): float(v) for k, v in probs.items()})
    return Drawing(id=ident, name=str(_field(record, "name", str)), raster=raster,
                   answer=answer, prompt=prompt if isinstance(prompt, str) else None,
                   received=received, png_path=png_path)


def load(store_dir: str | Path) -> Loaded:
    """Read back the drawings saved in ``store_dir``, oldest first, skipping (and
    naming) damaged ones. A missing folder holds no drawings."""
    folder = Path(store_dir)
    try:
        files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except FileNotFoundError:
        return Loaded([], [])
    except OSError as exc:
        return Loaded([], [f"{folder}: cannot be listed ({exc.strerror}); no drawings read"])
    drawings, skipped, recorded = [], [], set()
    for path in files:
        if path.suffix != ".json":
            continue
        try:
            d = _read(path)
        except _Damaged as exc:
            skipped.append(f"{path}: {exc}; skipped")
            continue
        drawings.append(d)
        recorded.add(d.png_path.name)
    for path in files:
        if path.suffix == ".png" and path.name not in recorded and \
                not path.with_suffix(".json").exists():
            skipped.append(f"{path}: no record (ConvPad stopped while saving it); skipped")
    drawings.sort(key=lambda d: (d.received, d.id))
    return Loaded(drawings, skipped)
