"""ConvPad's engine: the lecture's networks in PyTorch, traced layer by layer.

Public API::

    from engine import load_model, list_models
    m = load_model("digits", device="auto")   # any name from list_models(), or a card
    x = m.preprocess(drawing)                 # 2-D ink in [0, 1] → input_shape
    p = m.predict(drawings)                   # (N, H, W) → (N, len(classes))
    t = m.trace(x)                            # → Trace(layers=[Layer…], probabilities)
    x = m.preprocess(drawing, input="as-drawn")  # the canvas seen whole, not re-centred
    m = train_model(images, labels, ["X", "O", "4", "7"])   # a model of your own classes
    card = m.save("some/folder")              # safetensors + JSON card; load_model(card)

Experiments: :mod:`engine.transforms` (shift, scale, rotate … a drawing),
:mod:`engine.sweep` (probabilities under rotation, scale and shift) and
:mod:`engine.experiment` (record and replay; errors are :class:`ExperimentError`).

Importing this package does not import torch: ``list_models`` and the model specs are
plain data, and the torch-backed names (``load_model``, ``Model``, ``Trace`` …) load
on first use. That lets the GUI show its window while torch is still importing.
No module under ``engine`` imports Qt.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.lecture import PRESETS
from engine.preprocessing import INPUT_MODES
from engine.registry import MODELS, ModelSpec, list_models, model_spec

if TYPE_CHECKING:
    from engine.model import Model

__all__ = [
    "INPUT_MODES",
    "MODELS",
    "PRESETS",
    "CardError",
    "DataSet",
    "DataSetError",
    "DataStore",
    "ExperimentError",
    "ImageError",
    "Layer",
    "Model",
    "ModelSpec",
    "ReceptiveField",
    "Sweep",
    "Trace",
    "WeightsError",
    "available_devices",
    "device_name",
    "difference",
    "list_models",
    "load_model",
    "model_spec",
    "read_image",
    "train_model",
]

_LAZY = {
    "Model": "engine.model",
    "available_devices": "engine.devices",
    "device_name": "engine.devices",
    "Layer": "engine.tracing",
    "Trace": "engine.tracing",
    "difference": "engine.tracing",
    "ReceptiveField": "engine.tracing",
    "WeightsError": "engine.weights",
    "ImageError": "engine.imaging",
    "ExperimentError": "engine.experiment",
    "Sweep": "engine.sweep",
    "read_image": "engine.imaging",
    "train_model": "engine.teach",
    "CardError": "engine.cards",
    "DataSet": "engine.datasets",
    "DataSetError": "engine.datasets",
    "DataStore": "engine.datasets",
}


def load_model(name: str | Path, device: str = "auto", weights: str | Path | None = None
               ) -> Model:
    """Load shipped model ``name`` — or a user model's card or folder — onto ``device``
    ("auto", "cpu", "cuda", "mps").

    See :func:`engine.model.load_model`; this wrapper only defers importing torch.
    """
    from engine.model import load_model as _load_model

    return _load_model(name, device=device, weights=weights)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
