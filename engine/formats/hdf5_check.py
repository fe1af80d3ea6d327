"""Read a whole HDF5 file once in a child process before ConvPad reads it.

The HDF5 C library does not survive every damaged file: a corrupt global heap (where
variable-length strings such as Keras 3's ``weight_names`` live) can make it spin
forever, and other corruptions crash it with a segmentation fault (found by flipping
random bytes of small Keras files; about 1 in 500 flips does one or the other). In
ConvPad's own process either would freeze or kill the app. So a child — plain Python
with h5py, started in about 0.1 s — first reads every attribute and float array it can
reach by hard links; only if it finishes does the caller parse the same bytes.

Run as a script, this module reads the file's bytes from stdin; it imports nothing
from ConvPad.
"""

from __future__ import annotations

import hashlib
import io
import signal
import subprocess
import sys
from pathlib import Path

# SHA-256 digests of files a child has read to the end: the same bytes are not
# checked twice in one process (reopening a network, a test reading a file again).
_READ_WELL: set[bytes] = set()

# Seconds the child may take: a fixed start-up allowance plus a slow disk's pace.
BASE_TIMEOUT_S = 10.0
BYTES_PER_S = 50 * 2**20


def check(data: bytes) -> str | None:
    """None when a child read every object of the HDF5 file ``data`` and exited; else
    why the file is refused (the library crashed or hung on it).

    A Python error in the child (a damaged file h5py reports cleanly) is not a refusal
    here: the caller's own read meets the same error and names it precisely.
    """
    digest = hashlib.sha256(data).digest()
    if digest in _READ_WELL:
        return None
    timeout = BASE_TIMEOUT_S + len(data) / BYTES_PER_S
    try:
        done = subprocess.run([sys.executable, "-I", str(Path(__file__).resolve())],
                              input=data, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return (f"is damaged: the HDF5 library was still reading it after {timeout:.0f} s "
                "(it hangs on some corrupt files)")
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        return f"is damaged: the HDF5 library crashed reading it ({name})"
    if len(_READ_WELL) >= 64:
        _READ_WELL.clear()
    _READ_WELL.add(digest)
    return None


def read_everything(data: bytes) -> None:
    """Open ``data`` as HDF5 and read every attribute and float array (hard links only)."""
    import h5py

    def visit(_: str, obj: h5py.HLObject) -> None:
        for key in obj.attrs:
            obj.attrs[key]
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" and not obj.external \
                and not obj.is_virtual and obj.size * obj.dtype.itemsize <= len(data):
            obj[()]

    with h5py.File(io.BytesIO(data), "r", locking=False) as f:
        visit("", f)
        f.visititems(visit)


if __name__ == "__main__":
    read_everything(sys.stdin.buffer.read())
