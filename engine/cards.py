"""A user model's JSON card, read into a :class:`ModelSpec` and checked against its weights.

A model someone trained in ConvPad (:func:`engine.train_model`) lives in a folder of its
own: ``model.json``, the card, and ``model-<hash>.safetensors``, the weights it names.
The card holds everything that makes the network what it is — classes, architecture
and widths, input shape, preprocessing, head — so loading one is reading a spec, exactly
as for the shipped models, and no code asks which model it is. It also records how the
model was made (data set, epochs, held-out accuracy, date).

A card is trusted only as far as it agrees with its weights. One written by another
ConvPad version, or edited by hand, is refused with a named reason
(:class:`CardError`): an unknown ``card_version``, a missing or mistyped field, a
class count that disagrees with the config, a weight file whose SHA-256 is not the one
the card recorded. Tensor shapes are checked when the weights load
(:func:`engine.weights.load_weights`). Plain JSON and hashlib only: no torch, so the
GUI can read a card before torch has imported.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.files import sha256_file
from engine.registry import ModelSpec, Recipe

CARD_FILE = "model.json"
CARD_FORMAT = "convpad-model"
CARD_VERSION = 1
MAX_CLASSES = 10


class CardError(ValueError):
    """A model card cannot be used; the message names the card and the reason."""


def looks_like_path(name: str) -> bool:
    """True when ``name`` means a card or a model folder rather than a shipped model name."""
    return name.endswith(".json") or os.sep in name or "/" in name or Path(name).is_dir()


def find_card(path: str | Path) -> Path:
    """The card for ``path``: a card file itself, or a model folder's ``model.json``."""
    path = Path(path).expanduser()
    if path.is_dir():
        card = path / CARD_FILE
        if card.is_file():
            return card.resolve()
        raise CardError(f"{path}: no {CARD_FILE} in this folder; is it a ConvPad model folder?")
    if not path.is_file():
        raise CardError(f"{path}: no such model card or folder")
    return path.resolve()


def read_card_strict(card: Path) -> dict[str, Any]:
    """The card's JSON object, or :class:`CardError` saying why it cannot be read."""
    try:
        data = json.loads(card.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CardError(f"{card}: cannot read the model card ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise CardError(f"{card}: the model card is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CardError(f"{card}: the model card is not a JSON object")
    return data


def _field(card: Path, data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise CardError(f"{card}: the card has no {key!r} field")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise CardError(f"{card}: field {key!r} is {value!r}, of the wrong type")
    return value


def spec_from_card(path: str | Path) -> ModelSpec:
    """Read and check the card at ``path`` (a card or its folder) → the model's spec.

    The spec's ``name`` is the card's absolute path, so ``load_model(spec.name)`` reopens
    the same model; ``title`` is what a picker shows ("my X/O/triangle").
    """
    card = find_card(path)
    data = read_card_strict(card)
    if data.get("card") != CARD_FORMAT:
        raise CardError(
            f"{card}: not a ConvPad model card (no \"card\": \"{CARD_FORMAT}\"); shipped "
            "models load by name, e.g. load_model('xo')"
        )
    version = data.get("card_version")
    if version != CARD_VERSION:
        raise CardError(
            f"{card}: card_version {version!r} was written by another ConvPad version; "
            f"this one reads version {CARD_VERSION}: retrain the model or update ConvPad"
        )
    classes = _field(card, data, "classes", list)
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise CardError(f"{card}: {len(classes)} classes; a model has 2 to {MAX_CLASSES}")
    if not all(isinstance(c, str) and c for c in classes) or len(set(classes)) != len(classes):
        raise CardError(f"{card}: classes {classes!r} must be distinct, non-empty names")
    config = _field(card, data, "config", dict)
    if not all(isinstance(k, str) and type(v) is int for k, v in config.items()):
        raise CardError(f"{card}: config {config!r} must map names to whole numbers")
    if config.get("classes") != len(classes):
        raise CardError(
            f"{card}: the card lists {len(classes)} classes but its config has "
            f"classes={config.get('classes')!r}"
        )
    shape = _field(card, data, "input_shape", list)
    if len(shape) != 3 or not all(type(v) is int and v > 0 for v in shape):
        raise CardError(f"{card}: input_shape {shape!r} must be three positive whole numbers")
    weights_name = _field(card, data, "weights_file", str)
    if Path(weights_name).name != weights_name or not weights_name.endswith(".safetensors"):
        raise CardError(
            f"{card}: weights {weights_name!r} must be a .safetensors file in the card's folder"
        )
    weights = card.parent / weights_name
    if not weights.is_file():
        raise CardError(f"{card}: its weight file {weights_name} is missing")
    want = _field(card, data, "weights_sha256", str)
    got = sha256_file(weights)
    if got != want.lower():
        raise CardError(
            f"{card}: {weights_name} has SHA-256 {got[:12]}…, the card recorded "
            f"{want[:12]}…: the weights were changed or the card belongs to other weights"
        )
    return ModelSpec(
        name=str(card),
        title=str(data.get("title") or "my " + "/".join(classes)),
        classes=tuple(classes),
        input_shape=(shape[0], shape[1], shape[2]),
        architecture=_field(card, data, "architecture", str),
        preprocessing=_field(card, data, "preprocessing", str),
        head=_field(card, data, "head", str),
        # Made from its own data set, not by a shipped recipe: the card says how.
        recipe=Recipe(stroke_kind=""),
        config=config,
        weights_file=weights,
        card_file=card,
    )
