"""Writing files the way a database does, so a crash never leaves half a file.

Every write goes to a temporary file in the destination's own folder (so the final
``os.replace`` is a rename within one file system, which POSIX makes atomic), is flushed
and fsynced, then renamed over the destination, and the folder is fsynced so the rename
itself survives a power cut. A ``kill -9`` at any instant leaves either the old file or
the new one. Temporary files start with ``.`` and end with ``.tmp``; readers skip them
and :func:`remove_stale` clears what a killed writer left behind.

A write that fails (a read-only folder, a full disk) raises :class:`WriteError`, an
``OSError`` whose message names the file and the reason, and leaves the destination as
it was.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path

TMP_SUFFIX = ".tmp"

# errno → what a person can do about it.
_WHY = {
    errno.EACCES: "the folder is not writable",
    errno.EPERM: "the folder is not writable",
    errno.EROFS: "the disk is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than this system allows (disk full or a size limit)",
}


class WriteError(OSError):
    """A file could not be written; nothing already saved was changed.

    ``errno`` is the system's; ``str()`` is the sentence alone, without "[Errno n]".
    """

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def why(exc: OSError) -> str:
    """A short reason for a failed write, in words."""
    return _WHY.get(exc.errno or 0, exc.strerror or str(exc))


def temp_path(path: Path) -> Path:
    """A fresh temporary name beside ``path`` (same folder, so replacing it is atomic)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush ``path``'s contents to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | Path, fill: Callable[[Path], object]) -> Path:
    """Make ``path`` by calling ``fill(temp)`` to write a temporary file, then renaming it.

    ``fill`` writes the whole file at the path it is given (``save_weights``, a
    ``write_bytes``). On any failure the temporary file is removed, the destination is
    untouched and :class:`WriteError` says why.
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fill(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise WriteError(exc.errno, f"cannot write {path}: {why(exc)}") from None
    except BaseException:
        discard(tmp)
        raise
    fsync_dir(path.parent)
    return path


def discard(path: Path) -> None:
    """Remove a temporary file if it is there; never raises (its folder may be gone)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def is_temp(path: Path) -> bool:
    """True for a temporary file of this module (skip it when listing)."""
    return path.name.startswith(".") and path.name.endswith(TMP_SUFFIX)


def remove_stale(folder: Path) -> int:
    """Delete temporary files a killed writer left in ``folder``; returns how many.

    Only call it where no other process is writing to ``folder`` at the same time.
    """
    n = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0
    for p in entries:
        if is_temp(p):
            try:
                p.unlink()
                n += 1
            except OSError:
                pass
    return n
