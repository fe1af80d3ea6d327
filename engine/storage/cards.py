"""The model card: one format, one reader, one writer, for every model ConvPad saves.

A saved model is a pair in one folder: a JSON card and the safetensors file it names.
The card holds everything that makes the network what it is — classes, architecture
and widths, input shape, preprocessing, head — so opening one is reading a spec,
exactly as for a shipped model, and no code asks which model it is. It also records
how the model was made (data, recipe, epochs, held-out accuracy, date, edits).

    resources/digits.json + resources/digits-<sha12>.safetensors   a shipped model
    <folder>/model.json   + <folder>/model-<sha12>.safetensors     a model you saved

The shipped models (``convpad train``), Teach, a step-through's edited features and
``Model.save`` all write through :func:`write_pair`, and everything that opens a model
reads through :func:`read_card`. Writing is the database way (STYLE §16): the weights
go to a temporary file, are fsynced, hashed and renamed to a name carrying their hash;
then the card, naming that file and its SHA-256, replaces the old card in one rename;
only then are the weights no card names removed. A ``kill -9`` at any instant leaves
the old pair or the new one.

A card is trusted only as far as it agrees with its weights: one written by another
ConvPad version, edited by hand or left beside other weights is refused with a named
reason (:class:`~engine.errors.CardError`). Tensor shapes are checked when the weights
load (:func:`engine.storage.weights.load_weights`). Plain JSON and hashlib here: the GUI
reads a card before torch has imported.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.errors import CardError, ConvPadError, WriteError
from engine.spec import ModelSpec, check_classes
from engine.storage.files import (
    discard,
    display,
    fsync_dir,
    fsync_file,
    remove_stale,
    sha256_file,
    sha256_hex,
    stat_problem,
    temp_path,
    why,
    write_bytes_atomic,
)

CARD_FILE = "model.json"  # a saved model's card, in its own folder
CARD_FORMAT = "convpad-model"
CARD_VERSION = 1
MAX_CARD_BYTES = 256 * 1024  # a card is a few kB of JSON; a bigger "card" is not one

# The fields that make the spec; everything else on a card says how the model was made.
SPEC_FIELDS = ("title", "classes", "input_shape", "architecture", "config",
               "preprocessing", "head")
FILE_FIELDS = ("card", "card_version", "weights_file", "weights_sha256")


@dataclass(frozen=True)
class Card:
    """A card read and checked: the model's spec, its weight file, and every field."""

    path: Path
    spec: ModelSpec
    weights: Path
    fields: dict[str, Any]

    @property
    def made(self) -> dict[str, Any]:
        """What the card says about how the model was made (not the spec or the files)."""
        return {k: v for k, v in self.fields.items() if k not in SPEC_FIELDS + FILE_FIELDS}


def find_card(path: str | Path) -> Path:
    """The card for ``path``: a card file itself, or a model folder's ``model.json``."""
    path = Path(path).expanduser()
    if path.is_dir():
        card = path / CARD_FILE
        if card.is_file():
            return card.resolve()
        raise CardError(f"{display(path)}: no {CARD_FILE} in this folder; is it a ConvPad "
                        "model folder?")
    problem = stat_problem(path, "model card")
    if problem:
        raise CardError(f"{display(path)}: {problem}")
    return path.resolve()


def _json(card: Path) -> dict[str, Any]:
    where = display(card)
    try:
        with open(card, "rb") as f:
            raw = f.read(MAX_CARD_BYTES + 1)
    except OSError as exc:
        raise CardError(f"{where}: cannot read the model card ({exc.strerror or exc})") from None
    if len(raw) > MAX_CARD_BYTES:
        raise CardError(f"{where}: larger than {MAX_CARD_BYTES:,} bytes, so not a model card")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise CardError(f"{where}: the model card's JSON is nested too deeply") from None
    except ValueError as exc:  # includes UnicodeDecodeError
        raise CardError(f"{where}: the model card is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CardError(f"{where}: the model card is not a JSON object")
    return data


def _field(where: str, data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise CardError(f"{where}: the card has no {key!r} field")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise CardError(f"{where}: field {key!r} is {str(value)[:40]!r}, of the wrong type")
    return value


def read_card(path: str | Path, name: str | None = None) -> Card:
    """Read and check the card at ``path`` (a card or its folder) → :class:`Card`.

    The spec's ``name`` is ``name`` (a shipped model's) or else the card's absolute
    path, so ``load_model(spec.name)`` reopens the same model. Raises
    :class:`~engine.errors.CardError` naming the card and what is wrong with it.
    """
    card = find_card(path)
    where = display(card)
    data = _json(card)
    if data.get("card") != CARD_FORMAT:
        raise CardError(f"{where}: not a ConvPad model card (no \"card\": \"{CARD_FORMAT}\")")
    version = data.get("card_version")
    if version != CARD_VERSION:
        raise CardError(
            f"{where}: card_version {str(version)[:20]!r} was written by another ConvPad "
            f"version; this one reads version {CARD_VERSION}: save the model again or "
            "update ConvPad")
    try:
        classes = check_classes(_field(where, data, "classes", list), "classes")
    except CardError:
        raise
    except ConvPadError as exc:
        raise CardError(f"{where}: {exc}") from None
    config = _field(where, data, "config", dict)
    if not all(isinstance(k, str) and type(v) is int for k, v in config.items()):
        raise CardError(f"{where}: config must map names to whole numbers")
    shape = _field(where, data, "input_shape", list)
    if len(shape) != 3 or not all(type(v) is int and 0 < v <= 4096 for v in shape):
        raise CardError(f"{where}: input_shape {shape!r} must be three whole numbers, 1–4096")
    weights_name = _field(where, data, "weights_file", str)
    if Path(weights_name).name != weights_name or not weights_name.endswith(".safetensors"):
        raise CardError(
            f"{where}: weights {weights_name[:60]!r} must be a .safetensors file in the "
            "card's folder")
    weights = card.parent / weights_name
    if not weights.is_file():
        raise CardError(f"{where}: its weight file {weights_name} is missing")
    want = _field(where, data, "weights_sha256", str)
    got = sha256_file(weights)
    if got != want.lower():
        raise CardError(
            f"{where}: {weights_name} has SHA-256 {got[:12]}…, the card recorded "
            f"{want[:12]}…: the weights were changed or the card belongs to other weights")
    title = data.get("title")
    spec = ModelSpec(
        name=name or str(card),
        title=title.strip()[:80] if isinstance(title, str) and title.strip()
        else "my " + "/".join(classes),
        classes=classes,
        input_shape=(shape[0], shape[1], shape[2]),
        architecture=_field(where, data, "architecture", str),
        preprocessing=_field(where, data, "preprocessing", str),
        head=_field(where, data, "head", str),
        config=config,
        card_file=card,
    )
    return Card(card, spec, weights, data)


def card_fields(spec: ModelSpec) -> dict[str, Any]:
    """The spec's part of a card (what :func:`read_card` turns back into the spec)."""
    return {
        "title": spec.title,
        "classes": list(spec.classes),
        "input_shape": list(spec.input_shape),
        "architecture": spec.architecture,
        "config": dict(spec.config),
        "preprocessing": spec.preprocessing,
        "head": spec.head,
    }


def write_pair(weights: bytes, folder: str | Path, fields: dict[str, Any],
               stem: str = "model") -> Path:
    """Write a model into ``folder`` as ``<stem>-<sha12>.safetensors`` + ``<stem>.json``.

    ``weights`` are the bytes of the safetensors file
    (:func:`engine.storage.weights.weights_bytes`); ``fields`` are the card's spec and
    provenance fields. See the module
    docstring for why every step is in this order. Returns the card's path. Raises
    :class:`~engine.errors.WriteError` naming the folder and the reason when it cannot
    be written; what was there before is then untouched.
    """
    folder = Path(folder).expanduser().resolve()
    where = display(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot write a model to {where}: {why(exc)}") from None
    remove_stale(folder)
    tmp = temp_path(folder / f"{stem}.safetensors")
    try:
        with open(tmp, "xb") as f:
            f.write(weights)
        fsync_file(tmp)
        sha = sha256_hex(weights)
        target = folder / f"{stem}-{sha[:12]}.safetensors"
        os.replace(tmp, target)
    except OSError as exc:
        discard(tmp)
        raise WriteError(exc.errno, f"cannot write a model to {where}: {why(exc)}") from None
    except Exception as exc:  # safetensors reports a full disk as its own error
        discard(tmp)
        raise WriteError(None, f"cannot write a model to {where}: {exc}") from None
    fsync_dir(folder)
    card = {"card": CARD_FORMAT, "card_version": CARD_VERSION}
    card |= {k: v for k, v in fields.items() if k not in FILE_FIELDS and k != "date"}
    card |= {"date": datetime.now(UTC).strftime("%Y-%m-%d"),
             "weights_file": target.name, "weights_sha256": sha}
    text = json.dumps(card, indent=2, ensure_ascii=False) + "\n"
    path = folder / f"{stem}.json"
    try:  # atomic, and last: until this rename the old card names the old weights
        write_bytes_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise WriteError(exc.errno, f"cannot write a model to {where}: {why(exc)}") from None
    for old in folder.glob(f"{stem}-*.safetensors"):
        if old != target:
            discard(old)
    return path


def amend_card(path: str | Path, **fields: Any) -> Card:
    """Add or replace provenance ``fields`` of the card at ``path``, atomically.

    The card must read cleanly first (:func:`read_card`); its spec and its weights are
    left as they are (a figure measured later, such as a cross-validated accuracy, joins
    the card of the weights it describes). Returns the card as re-read.
    """
    card = read_card(path)
    protected = sorted(set(fields) & set(SPEC_FIELDS + FILE_FIELDS))
    if protected:
        raise CardError(f"{display(card.path)}: {', '.join(protected)} cannot be amended; "
                        "save the model again instead")
    text = json.dumps(card.fields | fields, indent=2, ensure_ascii=False) + "\n"
    write_bytes_atomic(card.path, text.encode("utf-8"))
    return read_card(card.path, name=card.spec.name if card.spec.name != str(card.path)
                     else None)
