"""Which devices a model can run on, and what to call them.

``"auto"`` is resolved here once, at load time, so an unavailable device is a clear
:class:`~engine.errors.ConvPadError` instead of a failure deep inside the first forward
pass.
"""

from __future__ import annotations

import torch

from engine.errors import ConvPadError


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else MPS when available, else CPU.

    An explicit device that is not available raises
    :class:`~engine.errors.ConvPadError` saying so, rather than failing later inside the
    first forward pass.
    """
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda", "mps"):
        raise ConvPadError(f"unknown device {device!r}; use auto, cpu, cuda or mps")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConvPadError("device 'cuda' asked for, but this torch build sees no CUDA GPU")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ConvPadError(
            f"device {device!r} asked for, but only {torch.cuda.device_count()} GPU(s)"
        )
    if dev.type == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise ConvPadError("device 'mps' asked for, but MPS is not available here")
    return dev


def available_devices() -> list[str]:
    """Devices this machine can run on, CPU first (what a device picker offers)."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def device_name(device: str | torch.device) -> str:
    """A human name for a device: "CPU", or the GPU's marketing name."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    if dev.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"
