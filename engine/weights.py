"""Loading and saving weights as safetensors, checked against the architecture.

Pickle-based checkpoints can run code when loaded, so ConvPad ships and reads
safetensors only. Every way a file can be wrong — missing, a symlink loop, truncated,
not safetensors, tensors renamed, reshaped, of another dtype, holding NaN or absurdly
large values — becomes one :class:`WeightsError` whose message names the file and the
problem, so a caller (the GUI, the CLI) can show it and carry on.

Beside each weight file sits its JSON model card, which records the SHA-256 of the
weights it describes. Both are written atomically, weights first and card last, so a run
killed in between leaves new weights and an old card — which is then recognised as
describing other weights and ignored, never shown as describing these ones. A card
problem is a logged warning, never a reason to refuse good weights.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from engine.files import atomic_write, display, sha256_file, sha256_hex, stat_problem

log = logging.getLogger(__name__)

# No weight of a working ConvPad network comes near this: the largest shipped one is
# 0.54 (digits conv1). The bound also keeps every forward pass finite in float32: with
# all weights and biases ≤ 1e4 in magnitude and inputs in [-1, 1], the deepest network
# (digits: fan-ins 9, 288, 1600, 1024) can reach at most ~5e25, far below float32's 3.4e38.
# A file past it is corrupt or mis-scaled (×1e30), and would give NaN on every drawing.
MAX_ABS_WEIGHT = 1e4

# A weight file holds the tensors plus a JSON header of ~100 bytes per tensor; anything
# this much bigger than the tensors is not a weight file of this model, and is refused
# before it is read into memory.
HEADER_ALLOWANCE = 1 << 20

# A model card is a few hundred bytes of JSON; a bigger "card" is not one, and is not read.
MAX_CARD_BYTES = 64 * 1024

# The field of a model card holding the SHA-256 of the weight file it describes.
CARD_HASH = "weights_sha256"


class WeightsError(ValueError):
    """A weight file cannot be used; the message says which file and why."""


def card_path(weights: str | Path) -> Path:
    """Where the model card of a weight file lives: beside it, ``.json`` for ``.safetensors``."""
    return Path(weights).with_suffix(".json")


def load_weights(module: nn.Module, path: str | Path) -> None:
    """Fill ``module``'s parameters from the safetensors file at ``path``.

    Raises :class:`WeightsError` (never anything else for a bad file) when the file is
    missing or unreadable, or when its tensors do not match ``module`` exactly in names,
    shapes and dtypes, or hold non-finite or absurdly large values (|w| > 1e4).
    ``module`` is left untouched then.
    """
    _load(module, Path(path))


def load_weights_and_card(module: nn.Module, path: str | Path) -> dict[str, Any]:
    """:func:`load_weights`, then return the model card that describes exactly these bytes.

    The card beside the file is returned only when its ``weights_sha256`` is the hash
    of the bytes just loaded; otherwise (no card, a broken card, a card of other
    weights) the result is ``{}`` and the reason is logged as a warning (see
    :func:`check_card`). A bad card never stops good weights from loading.
    """
    path = Path(path)
    data = _load(module, path)
    return read_card(card_path(path), sha256_hex(data))


def _load(module: nn.Module, path: Path) -> bytes:
    """Check and load ``path`` into ``module``; returns the bytes that were loaded."""
    where = display(path)
    problem = stat_problem(path, "weight file")
    if problem:
        raise WeightsError(f"{where}: {problem}")
    expected = module.state_dict()
    need = sum(t.numel() * t.element_size() for t in expected.values())
    size = path.stat().st_size
    if size > need + HEADER_ALLOWANCE:
        raise WeightsError(
            f"{where}: the file is {size:,} bytes but {type(module).__name__}'s weights take "
            f"{need:,} — is it the weight file of another model?"
        )
    try:
        data = path.read_bytes()
        tensors = load_safetensors(data)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(
            f"{where}: not a readable safetensors file ({exc}); "
            "restore it from the repository or rebuild it with `python main.py train`"
        ) from None
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing tensors {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected tensors {', '.join(unexpected)}")
        raise WeightsError(f"{where}: {'; '.join(parts)} — is it the weight file of another model?")
    for name, want in expected.items():
        got = tensors[name]
        if tuple(got.shape) != tuple(want.shape):
            raise WeightsError(
                f"{where}: tensor {name} has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
            )
        if got.dtype != want.dtype:
            raise WeightsError(
                f"{where}: tensor {name} has dtype {got.dtype}, expected {want.dtype}"
            )
        if not torch.isfinite(got).all():
            raise WeightsError(f"{where}: tensor {name} holds NaN or infinite values")
        biggest = float(got.abs().max()) if got.numel() else 0.0
        if biggest > MAX_ABS_WEIGHT:
            raise WeightsError(
                f"{where}: tensor {name} holds a value of magnitude {biggest:.3g}, beyond the "
                f"{MAX_ABS_WEIGHT:g} no working network comes near — the file is corrupt or "
                "mis-scaled; restore it or rebuild it with `python main.py train`"
            )
    module.load_state_dict(tensors)
    return data


def save_weights(module: nn.Module, path: str | Path) -> Path:
    """Write ``module``'s parameters to ``path`` as safetensors, atomically.

    A reader (or a run killed halfway) sees the old file or the new one, never a mix
    (:func:`engine.files.atomic_write`). Write the model card after this, with
    :func:`write_card`, so that the card always names the weights on disk.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}
    return atomic_write(path, save_safetensors(state))


def write_card(path: str | Path, weights: str | Path, **fields: Any) -> Path:
    """Write the JSON model card of the weight file ``weights``, atomically, to ``path``.

    The card records the SHA-256 of ``weights`` as it is on disk now, so a card left
    behind by an interrupted run — new weights, old card — is recognised as describing
    other weights and ignored. Write the weights first, the card last. A date is added
    if ``fields`` has none.
    """
    fields.setdefault("date", datetime.now(UTC).strftime("%Y-%m-%d"))
    fields[CARD_HASH] = sha256_file(weights)
    text = json.dumps(fields, indent=2, sort_keys=False) + "\n"
    return atomic_write(path, text.encode())


def check_card(
    path: str | Path, weights_sha256: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """The model card at ``path`` and ``None``, or ``{}`` and why it cannot be used.

    With ``weights_sha256``, the card must carry that hash: a card of other weights (or
    of unknown weights) is refused. A missing card is not a problem: ``({}, None)``.
    """
    where = display(path)
    problem = stat_problem(path, "card")
    if problem == "no such card":
        return {}, None
    if problem:
        return {}, f"{where}: model card ignored: {problem}"
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CARD_BYTES + 1)
    except OSError as exc:
        return {}, f"{where}: model card ignored: cannot be read ({exc.strerror})"
    if len(raw) > MAX_CARD_BYTES:
        return {}, f"{where}: model card ignored: larger than {MAX_CARD_BYTES:,} bytes"
    try:
        card = json.loads(raw)
    except RecursionError:
        return {}, f"{where}: model card ignored: JSON nested too deeply"
    except ValueError as exc:  # includes UnicodeDecodeError
        return {}, f"{where}: model card ignored: not valid JSON ({exc})"
    if not isinstance(card, dict):
        return {}, (
            f"{where}: model card ignored: its top level is a {type(card).__name__}, "
            "not a JSON object"
        )
    if weights_sha256 is not None and card.get(CARD_HASH) != weights_sha256:
        if CARD_HASH not in card:
            why = f"it has no {CARD_HASH}, so which weights it describes is unknown"
        else:
            why = (
                f"it describes other weights (its {CARD_HASH} is {str(card[CARD_HASH])[:12]}…, "
                f"the weight file's is {weights_sha256[:12]}…)"
            )
        return {}, f"{where}: model card ignored: {why}; rewrite it with `python main.py train`"
    return card, None


def read_card(path: str | Path, weights_sha256: str | None = None) -> dict[str, Any]:
    """:func:`check_card`'s card; the reason a card is ignored goes to the log as a warning."""
    card, reason = check_card(path, weights_sha256)
    if reason:
        log.warning("%s", reason)
    return card
