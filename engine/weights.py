"""Loading and saving weights as safetensors, checked against the architecture.

Pickle-based checkpoints can run code when loaded, so ConvPad ships and reads
safetensors only. Every way a file can be wrong — missing, truncated, not safetensors,
tensors renamed, reshaped, of another dtype, holding NaN or absurdly large values —
becomes one :class:`WeightsError` whose message names the file and the problem, so a
caller (the GUI, the CLI) can show it and carry on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

# No weight of a working ConvPad network comes near this: the largest shipped one is
# 0.54 (digits conv1). The bound also keeps every forward pass finite in float32: with
# all weights and biases ≤ 1e4 in magnitude and inputs in [-1, 1], the deepest network
# (digits: fan-ins 9, 288, 1600, 1024) can reach at most ~5e25, far below float32's 3.4e38.
# A file past it is corrupt or mis-scaled (×1e30), and would give NaN on every drawing.
MAX_ABS_WEIGHT = 1e4


class WeightsError(ValueError):
    """A weight file cannot be used; the message says which file and why."""


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_weights(module: nn.Module, path: str | Path) -> None:
    """Fill ``module``'s parameters from the safetensors file at ``path``.

    Raises :class:`WeightsError` (never anything else for a bad file) when the file is
    missing or unreadable, or when its tensors do not match ``module`` exactly in names,
    shapes and dtypes, or hold non-finite or absurdly large values (|w| > 1e4).
    ``module`` is left untouched then.
    """
    path = Path(path)
    where = _display(path)
    if not path.is_file():
        raise WeightsError(f"{where}: no such weight file")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(
            f"{where}: not a readable safetensors file ({exc}); "
            "restore it from the repository or rebuild it with `python main.py train`"
        ) from None
    expected = module.state_dict()
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


def save_weights(module: nn.Module, path: str | Path) -> Path:
    """Write ``module``'s parameters to ``path`` as safetensors (contiguous CPU copies)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}
    save_file(state, str(path))
    return path


def write_card(path: str | Path, **fields: Any) -> Path:
    """Write the JSON model card that sits beside a weight file (date added if absent)."""
    path = Path(path)
    fields.setdefault("date", datetime.now(UTC).strftime("%Y-%m-%d"))
    path.write_text(json.dumps(fields, indent=2, sort_keys=False) + "\n")
    return path


def read_card(path: str | Path) -> dict[str, Any]:
    """The model card beside a weight file, or ``{}`` when there is none or it is unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
