"""Reading and writing files the way a database does.

A weight file and its model card are replaced while the app, a test or a second
training run may read them, and a run can be killed at any instant. So a file is never
rewritten in place: it is written whole to a temporary file in the same folder, flushed
and fsynced, then swapped in with :func:`os.replace`, which is atomic on POSIX and
Windows. A reader sees the old file or the new one, never half of either.

Temporary files start with ``.`` and end with ``.tmp``; readers skip them and
:func:`remove_stale` clears what a killed writer left behind. A write that fails (a
read-only folder, a full disk) raises :class:`WriteError`, an ``OSError`` whose message
names the file and the reason, and leaves the destination as it was.

Problems with a path (a symlink loop, a folder where a file should be, no permission)
come back as sentences naming the path, not as ``OSError`` tracebacks.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from engine.errors import ConvPadError, WriteError


def display(path: str | Path) -> str:
    """``path`` as a person wants to read it: relative to the working folder when inside it.

    Deliberately does not resolve symlinks: resolving a symlink loop raises
    ``RuntimeError`` (Python 3.11) or ``OSError``, and a path shown in an error message
    must never be the cause of another error.
    """
    try:
        rel = os.path.relpath(path)  # pure string work on the absolute path: no symlinks
    except (OSError, ValueError):  # no working folder any more; another drive on Windows
        return str(path)
    return str(path) if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


def stat_problem(path: str | Path, what: str = "file") -> str | None:
    """Why ``path`` is not a readable regular file, in a few words, or None when it is.

    Follows symlinks; a loop of them is named as such instead of "no such file".
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a loop of symbolic links, not a file"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return f"no such {what}"
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return f"a folder, not a {what}"
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular {what} (a device, pipe or socket)"
    return None


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 hex digits (what a model card records)."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of the file at ``path``, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def writable_folder(folder: str | Path) -> Path:
    """Create ``folder`` if needed and prove a file can be written there, or raise.

    Raises :class:`~engine.errors.ConvPadError` naming the folder and the reason: a
    file in the way, a file among its parents, no permission, a read-only disk. Training
    calls this before it spends minutes learning weights it then could not save.
    """
    folder = Path(folder)
    where = display(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConvPadError(
            f"{where}: is a file, not a folder; give a folder to write into (--out)"
        ) from None
    except NotADirectoryError:
        raise ConvPadError(
            f"{where}: one of its parents is a file, not a folder; give a folder (--out)"
        ) from None
    except OSError as exc:
        raise ConvPadError(
            f"{where}: cannot create this folder ({exc.strerror}); "
            "choose another output folder (--out)"
        ) from None
    probe = folder / f".convpad-write-test.{secrets.token_hex(6)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise ConvPadError(
            f"{where}: cannot write files in this folder ({exc.strerror}); "
            "choose another output folder (--out)"
        ) from None
    return folder


# ----- temporary files, fsync and rename (used by every writer in the engine) -----------
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
        # No mkdir: a folder that vanished (a removed drive) must fail, not be recreated.
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
    """Replace the file at ``path`` with ``data`` so that no reader ever sees a partial
    file (see :func:`write_atomic`); the new file gets mode 0666 minus the umask."""
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
