"""Folders of images read as classes of drawings (torchvision's ImageFolder layout).

``FOLDER/<class>/<image>``: each sub-folder is a class, each image in it (at any depth)
a drawing. Data from anywhere is read defensively: symbolic links are not followed (a
link can lead out of the set, or back into it as a loop or a class of copies), a folder
that cannot be read is reported, names that are the same class under NFC + casefold are
one class, and every name a message prints is escaped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from engine.errors import ConvPadError, DataSetError, ImageError
from engine.preprocessing import INK_THRESHOLD as INK
from engine.spec import class_key, class_name
from engine.storage.images import MAX_PIXELS, read_image


def check_name(name: str, what: str = "class") -> str:
    """``name`` trimmed, if it can name a class (or a data set) and a folder on every
    system — the one rule of :func:`engine.spec.class_name` — else DataSetError."""
    try:
        return class_name(name, what)
    except DataSetError:
        raise
    except ConvPadError as exc:
        raise DataSetError(str(exc)) from None


def shown(name: object) -> str:
    """A file or folder name as it may be printed: newlines and escapes made visible."""
    text = str(name)
    return text if text.isprintable() else repr(text)[1:-1]


def entries(folder: Path) -> Iterator[tuple[os.DirEntry, str]]:
    """``folder``'s entries, sorted, each with ``""`` — or one ``(None, why)`` when the
    folder cannot be read (no permission, gone): reported, never silently empty."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield None, f"{shown(folder.name)}/: cannot be read ({exc.strerror or exc}); left out"
        return
    for entry in entries:
        yield entry, ""


def _files(folder: Path, source: Path) -> Iterator[tuple[Path | None, str]]:
    """Every file under ``folder`` (recursively, sorted), or why a part was left out.

    Symbolic links are not followed — a link can lead out of the set, or back into it
    (a loop, or a class of copies) — and hidden entries are skipped.
    """
    for entry, problem in entries(folder):
        if problem:
            yield None, problem
            continue
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        rel = path.relative_to(source)
        if entry.is_symlink():
            yield None, f"{shown(rel)}: a symbolic link; not followed"
        elif entry.is_dir(follow_symlinks=False):
            yield from _files(path, source)
        else:
            yield path, ""


def scan_folder(source: str | Path, max_pixels: int = MAX_PIXELS
                ) -> Iterator[tuple[str, Path, np.ndarray | None, str]]:
    """Read an ImageFolder tree: ``(class, file, ink, "")`` per usable image, or
    ``(class, file, None, why)`` per file (or folder) skipped.

    Every image goes through :func:`engine.read_image`, as Ctrl+O's do (dark-on-light and
    light-on-dark both work). Not images, unreadable or truncated files, images of more
    than ``max_pixels`` and pictures with no ink are skipped, one sentence each; so are
    loose files beside the class folders, folders whose name cannot be a class, folders
    that cannot be read and symbolic links. Folders whose names are the same class
    (NFC + casefold: "Cat" and "cat") are one class, under the first name. Hidden files
    and folders are ignored. Classes come in sorted folder order. Names in the messages
    are printed escaped (a name with a newline cannot forge a line).
    """
    source = Path(source)
    if not source.is_dir():
        raise DataSetError(f"{shown(source)}: not a folder")
    names: dict[str, str] = {}  # class_key → the first folder name
    for entry, problem in entries(source):
        if problem:
            yield "", source, None, problem
            continue
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            yield "", path, None, f"{shown(entry.name)}: a symbolic link; not followed"
            continue
        if not entry.is_dir(follow_symlinks=False):
            yield "", path, None, f"{shown(entry.name)}: not inside a class folder"
            continue
        try:
            name = check_name(entry.name)
        except DataSetError as exc:
            yield "", path, None, f"{shown(entry.name)}/: {exc}"
            continue
        first = names.setdefault(class_key(name), name)
        if first != name:
            yield first, path, None, (f"{shown(name)}/ and {shown(first)}/ are the same class "
                                      f"name: its drawings join {shown(first)!r}")
            name = first
        for file, problem in _files(path, source):
            if file is None:
                yield name, path, None, problem
                continue
            rel = file.relative_to(source)
            try:
                ink = read_image(file, max_pixels=max_pixels)
            except ImageError as exc:
                yield name, file, None, shown(str(exc).replace(str(source) + os.sep, ""))
                continue
            except OSError as exc:
                yield name, file, None, f"{shown(rel)}: {shown(exc)}"
                continue
            if not (ink > INK).any():
                yield name, file, None, f"{shown(rel)}: no ink in the picture"
                continue
            yield name, file, ink, ""


def read_folder(source: str | Path, max_pixels: int = MAX_PIXELS
                ) -> tuple[list[np.ndarray], np.ndarray, list[str], list[str]]:
    """An ImageFolder tree in memory, for training from the command line.

    Returns (drawings, labels, classes, skipped messages); see :func:`scan_folder`.
    Writes nothing.
    """
    images: list[np.ndarray] = []
    labels: list[int] = []
    classes: list[str] = []
    skipped: list[str] = []
    for name, _path, ink, skip in scan_folder(source, max_pixels):
        if ink is None:
            skipped.append(skip)
            continue
        if name not in classes:
            classes.append(name)
        images.append(ink)
        labels.append(classes.index(name))
    return images, np.array(labels, np.int64), classes, skipped
