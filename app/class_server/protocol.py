"""What a student's device may send, checked field by field, and what it gets back.

A drawing arrives as JSON::

    {"name": "Ana", "width": 300, "height": 300,
     "strokes": [[[x, y], [x, y], …], …]}

in the pixels of the student's canvas. :func:`parse_drawing` turns the body into a
:class:`DrawingRequest` or raises :class:`RequestError`, whose ``status`` is the HTTP
status and whose message says which field was wrong and what is allowed. Unknown
fields are ignored, so a newer page can talk to an older ConvPad.

Names: Unicode control characters, lone surrogates and the bidirectional overrides that
would flip the rest of the wall's text are **removed**, then spaces are trimmed; what is left may
be at most :data:`MAX_NAME` characters. A missing or ``null`` name is "".

:class:`Answer` is what the model said; :func:`classifier` makes the batch
``classify`` function :class:`~app.class_server.ClassServer` wants from a ConvPad model.
The texts of the server's other refusals and its per-address :class:`RateLimit` are
here too, so the whole protocol reads in one file.
"""

from __future__ import annotations

import json
import math
import numbers
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import ConvPadError

MAX_BODY = 256 * 1024  # bytes
MAX_STROKES = 200
MAX_POINTS = 20_000  # in all strokes together
MAX_NAME = 40  # characters, after removing control characters
MIN_SIDE, MAX_SIDE = 16, 4096  # canvas width and height, pixels

# Explicit-direction marks and overrides: "Ana\u202eXO" would show reversed on the wall.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}


class RequestError(ConvPadError):
    """A request ConvPad refuses; ``status`` is the HTTP status, the message the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class DrawingRequest:
    """A checked drawing: the canvas size and its strokes, in the canvas's pixels."""

    name: str
    width: float
    height: float
    strokes: list[np.ndarray]  # each (n, 2) float64, n ≥ 1

    @property
    def points(self) -> int:
        return sum(len(s) for s in self.strokes)


@dataclass(frozen=True)
class Answer:
    """What the model said about one drawing: the winning class and every class's
    probability. No probabilities (``Answer("", {})``) means the model saw no ink."""

    label: str
    probabilities: dict[str, float]


def _bad(message: str) -> RequestError:
    return RequestError(400, message)


def _no_constants(word: str) -> float:
    raise ValueError(f"{word} is not a number JSON allows")


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)  # bool is an int subclass, and not a coordinate


def clean_name(name: Any) -> str:
    """The name as shown on the wall (see the module's docstring), or RequestError."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise _bad(f"name must be text (a JSON string), not {type(name).__name__}")
    name = unicodedata.normalize("NFC", name)
    # Cs: a lone surrogate (\ud800 in the JSON) is no character and cannot be saved.
    name = "".join(c for c in name
                   if unicodedata.category(c) not in ("Cc", "Cs") and c not in _BIDI)
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise _bad(f"name is {len(name)} characters long; at most {MAX_NAME} are allowed")
    return name


def _side(body: dict, key: str) -> float:
    if key not in body:
        raise _bad(f"missing field {key!r}: the canvas's {key} in pixels")
    v = body[key]
    if not _is_number(v):
        raise _bad(f"{key} must be a number of pixels, not {type(v).__name__}")
    if not MIN_SIDE <= v <= MAX_SIDE:  # also false for NaN
        raise _bad(f"{key} = {v} is outside {MIN_SIDE}…{MAX_SIDE} pixels")
    return float(v)


def _strokes(raw: Any, width: float, height: float) -> list[np.ndarray]:
    if not isinstance(raw, list):
        raise _bad("strokes must be a list of strokes, each a list of [x, y] points")
    if not raw:
        raise _bad("strokes is empty: draw something before sending")
    if len(raw) > MAX_STROKES:
        raise _bad(f"{len(raw)} strokes; at most {MAX_STROKES} are allowed")
    total = sum(len(s) if isinstance(s, list) else 0 for s in raw)
    if total > MAX_POINTS:
        raise _bad(f"{total} points; at most {MAX_POINTS} in all strokes are allowed")
    out = []
    low, high = np.array([-width, -height]), np.array([2 * width, 2 * height])
    for i, stroke in enumerate(raw):
        if not isinstance(stroke, list) or not stroke:
            raise _bad(f"strokes[{i}] must be a non-empty list of [x, y] points")
        for j, p in enumerate(stroke):
            if not (isinstance(p, list) and len(p) == 2 and _is_number(p[0])
                    and _is_number(p[1])):
                raise _bad(f"strokes[{i}][{j}] must be a point [x, y] of two numbers")
        try:
            a = np.array(stroke, np.float64)
        except OverflowError:
            raise _bad(f"strokes[{i}] holds a number too large for a coordinate") from None
        bad = ~(np.isfinite(a) & (a >= low) & (a <= high))
        if bad.any():
            j, k = np.argwhere(bad)[0]
            axis, side = ("x", width) if k == 0 else ("y", height)
            raise _bad(f"strokes[{i}][{j}]: {axis} = {stroke[j][k]} is outside "
                       f"{-side:g}…{2 * side:g} (points may lie off the canvas by at "
                       "most its size)")
        out.append(a)
    return out


def parse_drawing(body: bytes) -> DrawingRequest:
    """Check a request body (see the module's docstring); RequestError says what is wrong."""
    if len(body) > MAX_BODY:
        raise RequestError(413, f"the drawing is {len(body)} bytes; at most {MAX_BODY} "
                                "are accepted")
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise _bad(f"the body is not JSON ({str(exc)[:120]})") from None
    if not isinstance(data, dict):
        raise _bad("the body must be a JSON object with width, height and strokes")
    name = clean_name(data.get("name"))
    width, height = _side(data, "width"), _side(data, "height")
    if "strokes" not in data:
        raise _bad("missing field 'strokes': a list of strokes, each a list of [x, y]")
    return DrawingRequest(name, width, height, _strokes(data["strokes"], width, height))


# ----- answers ------------------------------------------------------------------------
def answer_from(probabilities: np.ndarray, classes: list[str]) -> Answer:
    """One row of a model's probabilities as an Answer; a NaN row (no ink) → no answer."""
    row = np.asarray(probabilities, np.float64)
    if row.shape != (len(classes),) or not np.isfinite(row).all():
        return Answer("", {})
    return Answer(str(classes[int(row.argmax())]),
                  {str(c): float(p) for c, p in zip(classes, row)})


def classifier(model: Any, input: str = "centred"
               ) -> Callable[[list[np.ndarray]], list[Answer]]:
    """A batch ``classify(rasters) -> answers`` for :class:`ClassServer` from a ConvPad
    ``Model``, or from a function returning the model live at each call (the window's)."""

    def classify(rasters: list[np.ndarray]) -> list[Answer]:
        live = model() if callable(model) and not hasattr(model, "predict") else model
        probs = live.predict(np.stack(rasters), invert=False, input=input)
        return [answer_from(row, list(live.classes)) for row in probs]

    return classify


def check_answer(answer: Any) -> Answer | None:
    """``answer`` with plain ``str`` and ``float`` (numpy's do not go into JSON), or None
    for "no ink" (no or NaN probabilities); ValueError for anything else (a bug in the
    classify function, reported as one)."""
    if not isinstance(answer, Answer):
        raise ValueError(f"classify returned {type(answer).__name__}, not an Answer")
    if not all(isinstance(v, numbers.Real) for v in answer.probabilities.values()):
        raise ValueError(f"classify returned probabilities that are not numbers: "
                         f"{answer.probabilities!r}")
    p = {str(c): float(v) for c, v in answer.probabilities.items()}
    if not p or not all(map(math.isfinite, p.values())):
        return None  # the model saw no ink
    if any(v < 0 or v > 1 for v in p.values()) or abs(sum(p.values()) - 1) > 1e-3:
        raise ValueError(f"classify returned probabilities that are not a distribution: {p}")
    if str(answer.label) not in p:
        raise ValueError(f"classify's label {answer.label!r} is not among its classes")
    return Answer(str(answer.label), p)


# ----- the server's other refusals -----------------------------------------------------
FORBIDDEN = ("wrong or missing class key: open the address shown on the teacher's screen "
             "(scan its QR code)")
TOO_BIG = f"the drawing is larger than {MAX_BODY // 1024} KiB; draw with fewer strokes"
OFF_CANVAS = "no ink on the canvas: every stroke lies outside it"
NO_INK = "the model sees no ink in this drawing; draw bigger and send again"
BUG = "ConvPad hit a bug handling this request; the details are in its log"

# On every reply: the page loads nothing from any other address, and the token in its
# URL goes nowhere.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def too_many(count: int, seconds: float) -> str:
    return (f"too many drawings from this device (at most {count} in {seconds:g} seconds); "
            "wait a moment, then send again")


def too_slow(seconds: float) -> str:
    return (f"the drawing did not arrive within {seconds:g} seconds; check the Wi-Fi and "
            "send again")


def no_answer(seconds: float) -> str:
    return f"the model gave no answer within {seconds:g} seconds; send again"


def refusal(status: int, method: str, path: str, reason: str) -> str:
    """aiohttp's own refusals (no such address, wrong method) in words."""
    return {404: f"no such address: {path}; open the address shown on the teacher's screen",
            405: f"{method} is not allowed on {path}"}.get(status, reason)


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    return f"cannot listen on {host}:{port} ({exc.strerror}); choose another port"


def classify_failed(exc: Exception) -> str:
    return f"the model could not classify the drawing ({type(exc).__name__}: {exc})"


def not_kept(exc: Exception) -> str:
    return f"ConvPad could not keep the drawing: {exc}"


class RateLimit:
    """At most ``count`` requests in ``seconds`` per address; not thread-safe (the
    server's loop thread alone uses it)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self._hits: dict[str, deque[float]] = {}

    def hit(self, address: str) -> bool:
        """Count a request; True when it is over the limit (refused ones count too)."""
        now = time.monotonic()
        if len(self._hits) > 10_000:  # forget addresses that have gone quiet
            self._hits = {a: q for a, q in self._hits.items() if q[-1] > now - self.seconds}
        # Only the newest count+1 requests decide, so the deque never grows past them.
        q = self._hits.setdefault(address, deque(maxlen=self.count + 1))
        q.append(now)
        return len(q) > self.count and q[0] > now - self.seconds
