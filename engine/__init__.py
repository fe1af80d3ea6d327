"""ConvPad's engine: the lecture's networks in PyTorch, traced layer by layer.

Public API::

    from engine import load_model, list_models
    m = load_model("digits", device="auto")   # any name from list_models(), or a card
    m = load_model("my_net.onnx")             # … or a Keras (.keras, .h5) or ONNX file
    x = m.preprocess(drawing)                 # 2-D ink in [0, 1] → input_shape
    p = m.predict(drawings)                   # (N, H, W) → (N, len(classes))
    t = m.trace(x)                            # → Trace(layers=[Layer…], probabilities)
    x = m.preprocess(drawing, input="as-drawn")  # the canvas seen whole, not re-centred
    m = train_model(images, labels, ["X", "O", "4", "7"])   # a model of your own classes
    card = m.save("some/folder")              # safetensors + JSON card; load_model(card)

    s = sweep(m, drawing)                     # probabilities under rotation, scale, shift
    rec = Recorder("my-experiment"); rec.record(drawing, m)   # a row per drawing
    exp = open_experiment("my-experiment")    # … and replay it through any model

Bad input of any kind raises a :class:`ConvPadError` child (``WeightsError``,
``CardError``, ``ImageError``, ``DataSetError``, ``ExperimentError``,
``ModelFileError`` …) whose message names the thing and the reason.

The rooms: :mod:`engine.storage` (files on disk), :mod:`engine.training`,
:mod:`engine.lecture` (the lecture's pictures, pages and steps),
:mod:`engine.experiments` (transforms, sweeps, records), :mod:`engine.cli`.

Importing this package does not import torch: ``list_models`` and the model specs are
plain data, and the torch-backed names (``load_model``, ``Model``, ``Trace`` …) load
on first use. That lets the GUI show its window while torch is still importing.
No module under ``engine`` imports Qt.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.catalog import MODELS, list_models, model_spec
from engine.errors import (
    CardError,
    ConvPadError,
    DataSetError,
    ExperimentError,
    ImageError,
    LimitError,
    ModelFileError,
    UnknownModelError,
    WeightsError,
    WriteError,
)
from engine.lecture.pictures import PRESETS
from engine.preprocessing import INPUT_MODES
from engine.spec import ModelSpec, class_name

if TYPE_CHECKING:
    from engine.model import Model

__all__ = [
    "INPUT_MODES",
    "MODELS",
    "PRESETS",
    "CardError",
    "ConvPadError",
    "DataSet",
    "DataSetError",
    "DataStore",
    "ExperimentError",
    "ImageError",
    "Layer",
    "LimitError",
    "Model",
    "ModelFileError",
    "ModelSpec",
    "ReceptiveField",
    "Recorder",
    "Sweep",
    "Trace",
    "UnknownModelError",
    "WeightsError",
    "WriteError",
    "available_devices",
    "class_name",
    "device_name",
    "difference",
    "list_models",
    "load_model",
    "model_spec",
    "open_experiment",
    "read_image",
    "replay",
    "sweep",
    "train_model",
    "transforms",
]

_LAZY = {
    "Model": "engine.model",
    "available_devices": "engine.devices",
    "device_name": "engine.devices",
    "Layer": "engine.tracing",
    "Trace": "engine.tracing",
    "difference": "engine.tracing",
    "ReceptiveField": "engine.tracing",
    "Sweep": "engine.experiments.sweeps",
    "sweep": "engine.experiments.sweeps",
    "Recorder": "engine.experiments.records",
    "open_experiment": "engine.experiments.records",
    "replay": "engine.experiments.records",
    "read_image": "engine.storage.images",
    "train_model": "engine.training.custom",
    "DataSet": "engine.storage.datasets",
    "DataStore": "engine.storage.datasets",
}


def load_model(name: str | Path, device: str = "auto", weights: str | Path | None = None,
               classes: str | Path | Sequence[str] | None = None) -> Model:
    """Load shipped model ``name`` — or a user model's card or folder, or a Keras or
    ONNX network file — onto ``device`` ("auto", "cpu", "cuda", "mps"); ``classes``
    renames its classes (a list of names, or a text file of them, one per line).

    See :func:`engine.model.load_model`; this wrapper only defers importing torch.
    """
    from engine.model import load_model as _load_model

    return _load_model(name, device=device, weights=weights, classes=classes)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "transforms":  # the module: shift, scale, rotate … a drawing
        return importlib.import_module("engine.experiments.transforms")
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
