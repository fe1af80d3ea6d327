"""Experiment logs: record drawings and answers as they happen, replay them later.

An experiment is a folder: ``index.jsonl`` (one JSON object per row) beside one PNG per
row, the canvas as drawn (white ink on black, 8-bit grey). A row holds the time, the
model and the SHA-256 of its weight file, the input mode, the transforms applied, the
prediction and every class's probability, an optional label typed by the teacher, and
the PNG's file name.

Writes are atomic, the way a database writes (temp file in the same folder, flush,
fsync, ``os.replace``, then fsync of the folder), PNG first and index last: a kill -9
or a power cut at any instant leaves the index as it was before the row or as it is
after it, never a torn line, so every committed row loads and at most the row being
written is lost (its PNG may remain, unreferenced). The whole index is rewritten for
each row rather than appended to, because an append of one line is not atomic: a kill
during ``write`` can leave half a line, and a crash after it a line of zeros. At the
size of a lesson (hundreds of rows, a few hundred bytes each) the rewrite costs less
than the PNG beside it.

One :class:`Recorder` per folder at a time: two writing the same index would each
replace the other's rows.

Nothing here imports Qt or torch; :func:`replay` takes any loaded
:class:`engine.model.Model`.
"""

from __future__ import annotations

import errno
import io
import json
import os
import secrets
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.errors import ConvPadError, ExperimentError
from engine.preprocessing import INPUT_MODES
from engine.storage.files import write_bytes_atomic

if TYPE_CHECKING:
    from engine.model import Model

INDEX = "index.jsonl"
MAX_DRAWING_PIXELS = 4096 * 4096  # a canvas is 324²; a row's PNG this big is not a drawing
FIELDS = (
    "time", "model", "weights_sha256", "input", "transforms",
    "prediction", "probabilities", "label", "png",
)


@dataclass
class Row:
    """One recorded drawing and the answer it got (see the module docstring)."""

    time: str
    model: str
    weights_sha256: str | None
    input: str
    transforms: list[dict[str, Any]]
    prediction: str | None
    probabilities: dict[str, float] | None
    label: str | None
    png: str
    line: int = field(default=0, compare=False)  # its line in the index (not stored)

    @property
    def confidence(self) -> float | None:
        """The probability of the prediction, or None when there was none (no ink)."""
        if self.prediction is None or not self.probabilities:
            return None
        return self.probabilities.get(self.prediction)

    @classmethod
    def from_json(cls, obj: Any) -> Row:
        """A row from its JSON object; ``ValueError`` naming what is wrong with it."""
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        missing = [f for f in FIELDS if f not in obj]
        if missing:
            raise ValueError(f"no {', '.join(map(repr, missing))}")
        png = obj["png"]
        if not isinstance(png, str) or not png or Path(png).name != png or png.startswith("."):
            raise ValueError(f"bad PNG file name {png!r}")
        if not isinstance(obj["transforms"], list):
            raise ValueError("'transforms' is not a list")
        probs = obj["probabilities"]
        if probs is not None and not (
            isinstance(probs, dict) and all(isinstance(v, (int, float)) for v in probs.values())
        ):
            raise ValueError("'probabilities' is not a map of class to number")
        if obj["input"] not in INPUT_MODES:
            raise ValueError(f"unknown input mode {str(obj['input'])[:20]!r}")
        for key in ("model", "time"):
            if not isinstance(obj[key], str):
                raise ValueError(f"{key!r} is not text")
        if not isinstance(obj["label"], str | None) or not isinstance(obj["prediction"],
                                                                       str | None):
            raise ValueError("'label' or 'prediction' is not text")
        return cls(**{f: obj[f] for f in FIELDS})


# ----- atomic files -------------------------------------------------------------------
def _reason(exc: OSError, folder: Path) -> str:
    """An OSError in ``folder`` as a sentence a teacher can act on."""
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{folder} is read-only: choose a folder you can write to"
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"the disk holding {folder} is full: free some space or choose another folder"
    if code == errno.ENOENT:
        return f"{folder} is gone (was its drive removed?): choose another folder"
    if code in (errno.EIO, errno.ENODEV, errno.ENXIO):
        return f"the drive holding {folder} stopped answering (was it removed?)"
    return f"cannot write to {folder}: {exc.strerror or exc}"


def png_bytes(raster: np.ndarray) -> bytes:
    """A canvas raster (uint8, or float in [0, 1]) as 8-bit grey PNG bytes."""
    a = np.asarray(raster)
    if a.dtype != np.uint8:
        a = np.round(np.clip(np.nan_to_num(a.astype(np.float32)), 0, 1) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a, mode="L").save(buf, format="PNG")
    return buf.getvalue()


# ----- recording ----------------------------------------------------------------------
class Recorder:
    """Appends rows to an experiment folder, each one atomically (see the module).

    The folder is created if missing (with ``create``). Raises
    :class:`ExperimentError` when the folder cannot be made, read or written: at once
    (a test file is written and removed) and on any later row, after which the folder
    holds exactly the rows committed before it.
    """

    def __init__(self, folder: str | Path, create: bool = True) -> None:
        self.folder = Path(folder)
        if not self.folder.exists():
            if not create:
                raise ExperimentError(f"{self.folder}: no such folder")
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                where = self.folder.parent
                raise ExperimentError(f"cannot create {self.folder}: {_reason(exc, where)}"
                                      ) from None
        if not self.folder.is_dir():
            raise ExperimentError(f"{self.folder} is a file, not a folder: choose a folder")
        self._lines = _read_lines(self.folder / INDEX)
        self._sweep_temps()
        try:
            write_bytes_atomic(self.folder / f".write-test-{os.getpid()}", b"")
            (self.folder / f".write-test-{os.getpid()}").unlink()
        except OSError as exc:
            raise ExperimentError(_reason(exc, self.folder)) from None

    def __len__(self) -> int:
        """Rows in the index (damaged ones included: they are kept, not dropped)."""
        return len(self._lines)

    def _sweep_temps(self) -> None:
        # Temp files of a writer that was killed: never referenced, safe to drop.
        for tmp in self.folder.glob(".*.tmp"):
            try:
                tmp.unlink()
            except OSError:
                pass

    def append(
        self,
        raster: np.ndarray,
        *,
        model: str,
        weights_sha256: str | None,
        input: str,
        transforms: Sequence[Mapping[str, Any]],
        probabilities: Mapping[str, float] | None,
        label: str | None = None,
        time: datetime | None = None,
    ) -> Row:
        """Write ``raster`` and one row about it; returns the row once committed.

        ``probabilities`` is None for a drawing with no ink (no prediction).
        """
        when = (time or datetime.now(UTC)).isoformat(timespec="milliseconds")
        probs = None
        prediction = None
        if probabilities is not None:
            probs = {str(c): round(float(p), 6) for c, p in probabilities.items()}
            prediction = max(probs, key=probs.__getitem__) if probs else None
        name = f"{len(self._lines) + 1:05d}-{secrets.token_hex(3)}.png"
        row = Row(
            time=when,
            model=model,
            weights_sha256=weights_sha256,
            input=input,
            transforms=[dict(t) for t in transforms],
            prediction=prediction,
            probabilities=probs,
            label=label or None,
            png=name,
        )
        line = json.dumps({f: getattr(row, f) for f in FIELDS}, ensure_ascii=False)
        data = png_bytes(raster)
        try:
            write_bytes_atomic(self.folder / name, data)  # the drawing first …
            text = "".join(s + "\n" for s in [*self._lines, line])
            write_bytes_atomic(self.folder / INDEX, text.encode("utf-8"))  # … then the row
        except OSError as exc:
            raise ExperimentError(_reason(exc, self.folder)) from None
        self._lines.append(line)
        return row

    def record(
        self,
        raster: np.ndarray,
        model: Model,
        input: str = "centred",
        transforms: Sequence[Mapping[str, Any]] = (),
        label: str | None = None,
        probabilities: Sequence[float] | None = None,
    ) -> Row:
        """Record ``raster`` as ``model`` sees it in ``input`` mode.

        ``probabilities`` (one per class) saves running the model again when the caller
        has them already; otherwise the model predicts. A blank drawing is recorded
        with no prediction.
        """
        if probabilities is None:
            probabilities = model.predict(np.asarray(raster), invert=False, input=input)[0]
        probs = np.asarray(probabilities, np.float64)
        return self.append(
            raster,
            model=model.name,
            weights_sha256=model.weights_sha256,
            input=input,
            transforms=transforms,
            probabilities=None if np.isnan(probs).any() else dict(zip(model.classes, probs)),
            label=label,
        )


def _read_lines(index: Path) -> list[str]:
    """The index's non-empty lines, verbatim (a damaged one is kept for the record)."""
    try:
        raw = index.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ExperimentError(f"cannot read {index}: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()]


# ----- replay -------------------------------------------------------------------------
@dataclass
class Experiment:
    """A recorded experiment: its rows in order, and why any others were skipped."""

    folder: Path
    rows: list[Row]
    skipped: list[str] = field(default_factory=list)

    def image(self, row: Row) -> np.ndarray:
        """The drawing of ``row`` as uint8 (ink 255 on 0); ``ExperimentError`` if it cannot
        be read — or is far bigger than any canvas (a "PNG bomb" is refused by its header,
        before it is decoded)."""
        path = self.folder / row.png
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as im:
                    w, h = im.size
                    if w * h > MAX_DRAWING_PIXELS:
                        raise ExperimentError(f"{path.name}: {w}×{h} pixels, far more than a "
                                              "recorded canvas; not read")
                    return np.asarray(im.convert("L"), np.uint8).copy()
        except ExperimentError:
            raise
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError,
                Image.DecompressionBombWarning) as exc:
            raise ExperimentError(f"{path.name}: cannot read the drawing ({exc})") from None


def open_experiment(folder: str | Path) -> Experiment:
    """Load an experiment folder's rows, skipping damaged rows and missing PNGs.

    Each skipped row gets one message in ``Experiment.skipped`` ("line 7: …,
    skipped"). Raises :class:`ExperimentError` when ``folder`` is not an experiment.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ExperimentError(f"{folder}: no such folder")
    index = folder / INDEX
    if not index.is_file():
        raise ExperimentError(f"{folder}: no {INDEX} here, so it is not an experiment folder")
    rows, skipped = [], []
    for n, line in enumerate(_read_lines(index), start=1):
        try:
            row = Row.from_json(json.loads(line))
        except RecursionError:
            skipped.append(f"line {n}: damaged (nested too deeply), skipped")
            continue
        except json.JSONDecodeError:
            skipped.append(f"line {n}: damaged (not JSON), skipped")
            continue
        except (ValueError, TypeError) as exc:
            skipped.append(f"line {n}: damaged ({_shown(exc)}), skipped")
            continue
        if not (folder / row.png).is_file():
            skipped.append(f"line {n}: its drawing {_shown(row.png)} is missing, skipped")
            continue
        row.line = n
        rows.append(row)
    return Experiment(folder, rows, skipped)


@dataclass
class Replayed:
    """One row run through a model: the drawing, the new probabilities and the answer."""

    row: Row
    image: np.ndarray
    probabilities: np.ndarray  # NaN for a drawing with no ink
    classes: list[str]
    input: str

    @property
    def prediction(self) -> str | None:
        if np.isnan(self.probabilities).any():
            return None
        return self.classes[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float | None:
        return None if self.prediction is None else float(np.max(self.probabilities))

    @property
    def correct(self) -> bool | None:
        """Whether the answer matches the row's label; None where no label was given."""
        return None if self.row.label is None else self.prediction == self.row.label


def replay(
    experiment: Experiment, model: Model, input: str | None = None
) -> tuple[list[Replayed], list[str]]:
    """Run every row's drawing through ``model`` (any model, not only the recorder's).

    ``input`` is the mode to use; None replays each row in the mode it was recorded in.
    Returns the results and one message per row that could not be replayed (its PNG
    unreadable, a bomb, a drawing the model refuses), by its line number; the rest replay.
    """
    done, skipped = [], []
    for row in experiment.rows:
        mode = input or row.input
        try:
            img = experiment.image(row)
            probs = model.predict(img, invert=False, input=mode)[0]
        except ConvPadError as exc:
            skipped.append(f"line {row.line}: {_shown(exc)}, skipped")
            continue
        done.append(Replayed(row, img, probs, list(model.classes), mode))
    return done, skipped


def _shown(text: object) -> str:
    """Text from a file, printable on one line (names with newlines or escapes)."""
    s = str(text)
    return s if s.isprintable() else repr(s)[1:-1]
