"""Pictures of widgets written to files: the window, a panel (*File ▸ Save …*).

Through :func:`engine.storage.write_bytes_atomic`, the one way ConvPad writes a file:
a picture is on disk whole or not at all, and a refusal names the file and the reason
("cannot write …: permission denied"), where ``QPixmap.save`` only said False.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtWidgets import QWidget

from engine.storage import write_bytes_atomic


def png_bytes(widget: QWidget) -> bytes:
    """``widget`` as it is on screen, encoded as PNG."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not widget.grab().save(buffer, "PNG"):
        raise RuntimeError(f"Qt could not encode a picture of {widget.objectName()!r}")
    return bytes(buffer.data())


def save_png(widget: QWidget, path: str | Path) -> Path:
    """Write ``widget`` as a PNG at ``path``; WriteError (a ConvPadError) says why not."""
    return write_bytes_atomic(Path(path), png_bytes(widget))
