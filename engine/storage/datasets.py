"""Data sets of drawings on disk: one folder per set, one sub-folder per class, PNG samples.

The layout is torchvision's ImageFolder, so a set can be copied, zipped, inspected in a
file manager or trained on with any tool::

    <root>/<set>/dataset.json        the class order (written atomically)
    <root>/<set>/<class>/<id>.png    one drawing: 8-bit grey, ink white on black

Nothing a user drew may be lost to a crash, so every file is written the database way
(:mod:`engine.storage.files`): a ``kill -9`` at any instant leaves each sample either complete
or absent, never half written. A folder that is read-only or full raises
:class:`engine.errors.WriteError` (an ``OSError``) naming the file and the reason, and
leaves everything already saved as it was. Importing a folder reads each image through
:func:`engine.read_image`, the path the GUI's Ctrl+O takes; an image that cannot be used
is skipped with a sentence saying why and the rest import.

No Qt here: the GUI passes its user data folder (``QStandardPaths.AppDataLocation``) as
the store's root, and scripts and tests pass any folder.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import DataSetError, WriteError
from engine.spec import class_key
from engine.storage.files import fsync_dir, is_temp, remove_stale, why, write_bytes_atomic
from engine.storage.folders import check_name, entries, scan_folder, shown
from engine.storage.images import MAX_PIXELS

INDEX = "dataset.json"
MAX_INDEX_BYTES = 64 * 1024  # an index of ten class names; a bigger one is not ours
MAX_CLASSES = 10
# Samples are stored no larger than the canvas: preprocessing crops and shrinks to 20 px
# anyway, and a folder of photos imported at full size would fill the disk.
STORE_SIDE = 324
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _png(ink: np.ndarray) -> bytes:
    """A drawing (ink in [0, 1]) as the bytes of an 8-bit grey PNG, ink white."""
    a = np.clip(np.nan_to_num(np.asarray(ink, np.float32)), 0.0, 1.0)
    if a.ndim != 2 or a.size == 0:
        raise DataSetError(f"a drawing is a 2-D array, got shape {a.shape}")
    im = Image.fromarray(np.round(a * 255).astype(np.uint8), mode="L")
    if max(im.size) > STORE_SIDE:
        im.thumbnail((STORE_SIDE, STORE_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _new_id() -> str:
    # Time first: names sort in the order the drawings were made.
    return f"{time.time_ns():019d}-{secrets.token_hex(3)}"


@dataclass
class ImportReport:
    """What :meth:`DataSet.import_folder` did: per-class counts and one line per skip."""

    imported: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.imported.values())

    def summary(self) -> str:
        """One sentence for a notice."""
        done = ", ".join(f"{c}: {n}" for c, n in self.imported.items() if n)
        text = f"Imported {self.total} drawing{'s' * (self.total != 1)}"
        text += f" ({done})" if done else ""
        if self.skipped:
            text += f"; skipped {len(self.skipped)}: " + "; ".join(self.skipped[:3])
            if len(self.skipped) > 3:
                text += f"; … and {len(self.skipped) - 3} more"
        return text + "."


class DataSet:
    """One data set folder: classes in order, and their samples as PNG files."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.problems: list[str] = []  # what was found damaged on opening, one line each
        self.classes: list[str] = self._read_classes()
        for c in self.classes:
            remove_stale(self.path / c)  # temp files of a writer that was killed
            self._report_links(c)
        remove_stale(self.path)

    def __repr__(self) -> str:
        return f"<DataSet {self.name!r}: {self.counts()}>"

    # ----- classes ---------------------------------------------------------------------
    def _read_classes(self) -> list[str]:
        """The classes: the index's order, then folders added by hand. A damaged index or
        folder is reported in :attr:`problems` and left out, never raised: the window
        that opens this set must open."""
        on_disk = [p.name for p in self._dirs()]
        listed: list[str] = []
        index = self.path / INDEX
        if index.exists():
            try:
                with open(index, "rb") as f:
                    raw = f.read(MAX_INDEX_BYTES + 1)
                if len(raw) > MAX_INDEX_BYTES:
                    raise ValueError(f"larger than {MAX_INDEX_BYTES:,} bytes")
                data = json.loads(raw)
                listed = [c for c in data["classes"] if isinstance(c, str)]
            except RecursionError:
                self.problems.append(f"{INDEX} is nested too deeply to read")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.problems.append(f"{INDEX} is damaged ({shown(exc)})")
            if self.problems:
                self.problems[-1] += "; the classes are taken from the folders"
        ordered = [c for c in listed if c in on_disk] + sorted(c for c in on_disk
                                                              if c not in listed)
        # "Cat/" and "cat/" (or one name in NFC and NFD) are one class: the first keeps
        # it; the other is left out and named, its drawings untouched on disk.
        kept: dict[str, str] = {}
        for c in ordered:
            same = kept.setdefault(class_key(c), c)
            if same != c:
                self.problems.append(f"{shown(c)}/ and {shown(same)}/ are the same class "
                                     f"name; {shown(c)}/ is left out (move its drawings "
                                     f"into {shown(same)}/)")
        return list(kept.values())

    def _report_links(self, name: str) -> None:
        """Name the symbolic links in class ``name``'s folder: never followed (a link
        could lead out of the set, or to another class's drawing)."""
        try:
            links = sorted(p.name for p in (self.path / name).iterdir() if p.is_symlink())
        except OSError:
            return
        for link in links:
            self.problems.append(f"{shown(name)}/{shown(link)}: a symbolic link; not followed")

    def _dirs(self) -> list[Path]:
        """Class folders: readable, named by the class-name rule, not symbolic links (a
        link could lead out of the set, or back into it as a class of copies)."""
        found = []
        for entry, problem in entries(self.path):
            if problem:
                self.problems.append(problem)
                continue
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            try:
                check_name(entry.name)
            except DataSetError as exc:
                self.problems.append(f"{shown(entry.name)}/: {exc}; left out")
                continue
            found.append(Path(entry.path))
        return found

    def _save_index(self) -> None:
        data = json.dumps({"classes": self.classes}, indent=2).encode() + b"\n"
        write_bytes_atomic(self.path / INDEX, data)

    def class_for(self, name: str) -> str | None:
        """The class ``name`` means: the same under NFC + casefold ("Cat" is "cat")."""
        key = class_key(name)
        return next((c for c in self.classes if class_key(c) == key), None)

    def add_class(self, name: str) -> str:
        """Add an empty class; returns its cleaned name."""
        name = check_name(name)
        same = self.class_for(name)
        if same is not None:
            raise DataSetError(f"there is already a class {same!r}")
        if len(self.classes) >= MAX_CLASSES:
            raise DataSetError(f"a data set has at most {MAX_CLASSES} classes")
        _mkdir(self.path / name)
        self.classes.append(name)
        self._save_index()
        return name

    def rename_class(self, old: str, new: str) -> str:
        """Rename a class (its folder); returns the new, cleaned name."""
        self._known(old)
        new = check_name(new)
        if new == old:
            return new
        same = self.class_for(new)
        if same is not None and same != old:
            raise DataSetError(f"there is already a class {same!r}")
        try:
            os.rename(self.path / old, self.path / new)
        except OSError as exc:
            raise WriteError(exc.errno, f"cannot rename class {old!r}: {why(exc)}") from None
        fsync_dir(self.path)
        self.classes[self.classes.index(old)] = new
        self._save_index()
        return new

    def remove_class(self, name: str) -> None:
        """Delete a class and its drawings (the GUI asks first)."""
        self._known(name)
        try:
            shutil.rmtree(self.path / name)
        except OSError as exc:
            raise WriteError(exc.errno, f"cannot delete class {name!r}: {why(exc)}") from None
        fsync_dir(self.path)
        self.classes.remove(name)
        self._save_index()

    def _known(self, name: str) -> None:
        if name not in self.classes:
            raise DataSetError(f"no class {name!r} in {self.name!r}; classes: {self.classes}")

    # ----- samples ---------------------------------------------------------------------
    def samples(self, name: str) -> list[Path]:
        """The sample files of class ``name``, oldest first."""
        self._known(name)
        folder = self.path / name
        try:
            files = [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()
                     and not is_temp(p) and p.suffix.lower() in IMAGE_SUFFIXES]
        except OSError:
            return []
        return sorted(files)

    def counts(self) -> dict[str, int]:
        return {c: len(self.samples(c)) for c in self.classes}

    def add(self, name: str, ink: np.ndarray) -> Path:
        """Save a drawing (2-D, ink 1 on 0) into class ``name``, atomically; returns its file."""
        self._known(name)
        return write_bytes_atomic(self.path / name / f"{_new_id()}.png", _png(ink))

    def delete(self, sample: str | Path) -> None:
        """Delete one sample file."""
        sample = self._own(sample)
        try:
            sample.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise WriteError(exc.errno, f"cannot delete {sample.name}: {why(exc)}") from None
        fsync_dir(sample.parent)

    def move(self, sample: str | Path, name: str) -> Path:
        """Move one sample into class ``name`` (one rename: never lost, never doubled)."""
        sample = self._own(sample)
        self._known(name)
        target = self.path / name / sample.name
        if target == sample:
            return sample
        try:
            os.replace(sample, target)
        except OSError as exc:
            raise WriteError(exc.errno, f"cannot move {sample.name}: {why(exc)}") from None
        fsync_dir(target.parent)
        fsync_dir(sample.parent)
        return target

    def _own(self, sample: str | Path) -> Path:
        sample = Path(sample)
        if sample.parent.parent != self.path or sample.parent.name not in self.classes:
            raise DataSetError(f"{sample} is not a sample of data set {self.name!r}")
        return sample

    @staticmethod
    def read(sample: str | Path) -> np.ndarray:
        """A stored sample as a drawing: float32, ink 1 on 0."""
        with Image.open(sample) as im:
            return np.asarray(im.convert("L"), np.float32) / 255.0

    def arrays(self) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
        """Every sample, for :func:`engine.train_model`: (drawings, labels, classes).

        A file that cannot be read (damaged outside ConvPad) is left out.
        """
        images, labels = [], []
        for k, c in enumerate(self.classes):
            for p in self.samples(c):
                try:
                    images.append(self.read(p))
                except (OSError, ValueError):
                    continue
                labels.append(k)
        return images, np.array(labels, np.int64), list(self.classes)

    # ----- import ----------------------------------------------------------------------
    def import_folder(self, source: str | Path, max_pixels: int = MAX_PIXELS) -> ImportReport:
        """Import an ImageFolder tree (``source/<class>/<image>``) into this set.

        Images are read as :func:`scan_folder` says; each one that cannot be used is
        skipped with a message, and so is a class past the tenth. A write that fails
        (read-only, full) stops the import with :class:`WriteError`; what was imported
        before it stays.
        """
        report = ImportReport()
        refused: set[str] = set()
        for name, _path, ink, skip in scan_folder(source, max_pixels):
            if ink is None:
                report.skipped.append(skip)
                continue
            if name in refused:
                continue
            name = self.class_for(name) or name  # "cat" joins an existing "Cat"
            if name not in self.classes:
                try:
                    self.add_class(name)
                except DataSetError as exc:
                    refused.add(name)
                    report.skipped.append(f"{name}/: {exc}")
                    continue
            self.add(name, ink)
            report.imported[name] = report.imported.get(name, 0) + 1
        return report


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot create {folder}: {why(exc)}") from None
    fsync_dir(folder.parent)


class DataStore:
    """The data sets under one user data folder (``root/<set>/``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        """The data sets there are, by name."""
        try:
            return sorted(p.name for p in self.root.iterdir()
                          if p.is_dir() and not p.name.startswith("."))
        except OSError:
            return []

    def open(self, name: str) -> DataSet:
        """An existing data set; ``DataSetError`` if there is none of that name."""
        path = self.root / check_name(name, "data set")
        if not path.is_dir():
            raise DataSetError(f"no data set {name!r} in {self.root}")
        return DataSet(path)

    def create(self, name: str, classes: list[str] | tuple[str, ...] = ()) -> DataSet:
        """A new data set with ``classes`` (empty); ``DataSetError`` if the name is taken."""
        path = self.root / check_name(name, "data set")
        if path.exists():
            raise DataSetError(f"there is already a data set {name!r}")
        _mkdir(path)
        ds = DataSet(path)
        for c in classes:
            ds.add_class(c)
        ds._save_index()
        return ds
