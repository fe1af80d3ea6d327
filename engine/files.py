"""Reading and writing files the way a database does.

A weight file and its model card are replaced while the app, a test or a second
training run may read them, and a run can be killed at any instant. So a file is never
rewritten in place: it is written whole to a temporary file in the same folder, flushed
and fsynced, then swapped in with :func:`os.replace`, which is atomic on POSIX and
Windows. A reader sees the old file or the new one, never half of either.

Problems with a path (a symlink loop, a folder where a file should be, no permission)
come back as sentences naming the path, not as ``OSError`` tracebacks.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from pathlib import Path


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


def atomic_write(path: str | Path, data: bytes) -> Path:
    """Replace the file at ``path`` with ``data`` so that no reader ever sees a partial file.

    The new file gets mode 0666 minus the umask — what ``open(path, "w")`` gives —
    because the kernel applies the umask to ``os.open``'s mode; reading the umask
    ourselves (``os.umask`` sets it to read it) would race with other threads.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable. Not possible on Windows, where it is skipped."""
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


def writable_folder(folder: str | Path) -> Path:
    """Create ``folder`` if needed and prove a file can be written there, or raise.

    Raises ``ValueError`` naming the folder and the reason: a file in the way, a file
    among its parents, no permission, a read-only disk. Training calls this before it
    spends minutes learning weights it then could not save.
    """
    folder = Path(folder)
    where = display(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValueError(
            f"{where}: is a file, not a folder; give a folder to write into (--out)"
        ) from None
    except NotADirectoryError:
        raise ValueError(
            f"{where}: one of its parents is a file, not a folder; give a folder (--out)"
        ) from None
    except OSError as exc:
        raise ValueError(
            f"{where}: cannot create this folder ({exc.strerror}); "
            "choose another output folder (--out)"
        ) from None
    probe = folder / f".convpad-write-test.{secrets.token_hex(6)}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        raise ValueError(
            f"{where}: cannot write files in this folder ({exc.strerror}); "
            "choose another output folder (--out)"
        ) from None
    return folder
