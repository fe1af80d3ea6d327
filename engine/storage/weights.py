"""Loading and saving weights as safetensors, checked against the architecture.

Pickle-based checkpoints can run code when loaded, so ConvPad ships and reads
safetensors only. Every way a file can be wrong — missing, a symlink loop, truncated,
not safetensors, tensors renamed, reshaped, of another dtype, holding NaN or absurdly
large values — becomes one :class:`WeightsError` whose message names the file and the
problem, so a caller (the GUI, the CLI) can show it and carry on.

Which weight file belongs to which model is the model card's business
(:mod:`engine.storage.cards`, which also writes the pair atomically); this module only
reads one file into a network, or writes a network's parameters as one file.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from engine.errors import WeightsError
from engine.spec import MAX_ABS_WEIGHT
from engine.storage.files import display, stat_problem, write_bytes_atomic

# A weight file holds the tensors plus a JSON header of ~100 bytes per tensor; anything
# this much bigger than the tensors is not a weight file of this model, and is refused
# before it is read into memory.
HEADER_ALLOWANCE = 1 << 20

def load_weights(module: nn.Module, path: str | Path) -> bytes:
    """Fill ``module``'s parameters from the safetensors file at ``path``.

    Raises :class:`WeightsError` (never anything else for a bad file) when the file is
    missing or unreadable, or when its tensors do not match ``module`` exactly in names,
    shapes and dtypes, or hold non-finite or absurdly large values (|w| > 1e4).
    ``module`` is left untouched then. Returns the bytes that were loaded.
    """
    return _load(module, Path(path))


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


def weights_bytes(module: nn.Module) -> bytes:
    """``module``'s parameters as the bytes of a safetensors file (CPU, contiguous)."""
    state = {k: v.detach().to("cpu").contiguous() for k, v in module.state_dict().items()}
    return save_safetensors(state)


def save_weights(module: nn.Module, path: str | Path) -> Path:
    """Write ``module``'s parameters to ``path`` as safetensors, atomically.

    A reader (or a run killed halfway) sees the old file or the new one, never a mix
    (:func:`engine.storage.files.write_bytes_atomic`). A model is saved as a pair with
    its card by :func:`engine.storage.cards.write_pair`, not with this.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomic(path, weights_bytes(module))
