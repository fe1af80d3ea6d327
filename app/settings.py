"""What ConvPad remembers between runs: model, pen, presentation, stage, window (QSettings).

A teacher sets the room up once — the model for today's lesson, a thick pen, the stage
they stopped at — and the next launch starts there. Stored where Qt stores an app's
settings on each platform; tests point QSettings at a temporary folder.

Every remembered value is checked when it is read: a value of the wrong type, out of
range (a pen of 10¹² px), a geometry that is not one, a model that no longer exists is
dropped, falls back to its default, and is reported in one sentence (:func:`load`'s
``problems``) — it never stops the window from opening.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from app.canvas import BRUSH_RANGE


def _int_in(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        n = int(str(value).strip())  # "22" from an INI file, 22 from a native store
        if not lo <= n <= hi:
            raise ValueError(f"{n:,} is outside {lo}…{hi}")
        return n
    return check


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise ValueError(f"{str(value)[:20]!r} is not true or false")
    return text in ("true", "1")


def _model(value: Any) -> str:
    from engine import model_spec

    name = str(value)
    if not name or len(name) > 4096:
        raise ValueError("not a model name")
    return model_spec(name).name  # a shipped name, or a saved model that still opens


def _geometry(value: Any) -> QByteArray:
    if not isinstance(value, (QByteArray, bytes)) or not 0 < len(value) < 4096:
        raise ValueError("not a window geometry")
    return QByteArray(value)


def _input(value: Any) -> str:
    from engine import INPUT_MODES

    if value not in INPUT_MODES:
        raise ValueError(f"{str(value)[:20]!r} is not an input mode")
    return str(value)


# What is remembered, and the check each value passes on the way in.
KEYS: dict[str, Callable[[Any], Any]] = {
    "model": _model,
    "pen": _int_in(*BRUSH_RANGE),
    "presenting": _bool,
    "stage": _int_in(0, 99),
    "geometry": _geometry,
    "input": _input,
}


def _store() -> QSettings:
    return QSettings("ConvPad", "ConvPad")


def load() -> tuple[dict[str, Any], list[str]]:
    """The remembered values that pass their checks, and one sentence per value dropped.

    A dropped value is also removed from the store, so the next start is clean.
    """
    out: dict[str, Any] = {}
    problems: list[str] = []
    store = _store()
    for key, check in KEYS.items():
        try:
            value = store.value(key)
        except Exception as exc:  # a settings file Qt cannot even parse into a value
            value, error = None, exc
        else:
            error = None
        if value is None and error is None:
            continue
        try:
            if error is not None:
                raise error
            out[key] = check(value)
        except Exception as exc:
            problems.append(f"the remembered {key} ({_shown(value)}) cannot be used: "
                            f"{_shown(exc)}; using the default")
            store.remove(key)
    return out, problems


def save(**values: Any) -> None:
    """Remember ``values`` (only the known keys)."""
    store = _store()
    for key, value in values.items():
        if key in KEYS:
            store.setValue(key, value)


def _shown(value: Any) -> str:
    text = str(value)
    text = text if len(text) <= 40 else text[:40] + "…"
    return text if text.isprintable() else repr(text)[1:-1]
