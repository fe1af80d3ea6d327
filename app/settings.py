"""What ConvPad remembers between runs: model, pen, presentation and stage (QSettings).

A teacher sets the room up once — the model for today's lesson, a thick pen, the stage
they stopped at — and the next launch starts there. Stored where Qt stores an app's
settings on each platform; tests point QSettings at a temporary folder.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings

KEYS = {"model": str, "pen": int, "presenting": bool, "stage": int}


def _store() -> QSettings:
    return QSettings("ConvPad", "ConvPad")


def load() -> dict[str, Any]:
    """The remembered values that are present and of the right type."""
    out: dict[str, Any] = {}
    store = _store()
    for key, kind in KEYS.items():
        value = store.value(key)
        if value is None:
            continue
        try:
            if kind is bool:
                out[key] = value if isinstance(value, bool) else str(value).lower() == "true"
            else:
                out[key] = kind(value)
        except (TypeError, ValueError):
            continue  # a hand-edited or foreign value: ignore it, keep the default
    return out


def save(**values: Any) -> None:
    """Remember ``values`` (only the known keys)."""
    store = _store()
    for key, value in values.items():
        if key in KEYS:
            store.setValue(key, value)
