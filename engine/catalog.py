"""The models ConvPad ships, and how a name or a path becomes a model's spec.

``MODELS`` is the catalog (nanoGPT's model_type → config table): one :class:`ModelSpec`
per shipped model, plain data importable without torch, in the order a picker shows them.
:func:`model_spec` also resolves what a user names instead: a model card (``.json``) or
its folder, written by :meth:`engine.Model.save`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from engine.errors import ConvPadError, UnknownModelError
from engine.spec import ModelSpec, Recipe, check_classes

# Network files made by other tools that ConvPad opens: engine.formats.NETWORK_SUFFIXES,
# repeated here because importing engine.formats imports torch (a test keeps them equal).
NETWORK_SUFFIXES = (".keras", ".h5", ".hdf5", ".onnx")

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            # 9×9 ±1 image, three hand-made 3×3 features, 2×2 max pooling, ReLU and
            # hand-set votes, exactly as on the slides.
            name="xo-toy",
            title="X/O toy ConvNet (the lecture's case study)",
            classes=("X", "O"),
            input_shape=(1, 9, 9),
            architecture="xo_toy",
            preprocessing="grid",
            head="votes",
            recipe=Recipe(stroke_kind="xo", hand_set=True),
        ),
        ModelSpec(
            # The digits network at a width two classes of bold strokes need.
            name="xo",
            title="X/O CNN (trained on drawn strokes)",
            classes=("X", "O"),
            input_shape=(1, 28, 28),
            architecture="convnet",
            config={"conv1": 8, "conv2": 16, "dense": 64, "classes": 2},
            preprocessing="mnist",
            head="softmax",
            # Epochs and strokes: chosen for ≤ 5 minutes on two CPU cores.
            recipe=Recipe(stroke_kind="xo", epochs=6, strokes=6_000),
        ),
        ModelSpec(
            # Conv(32)→Pool→Conv(64)→Pool→Dense(1024)→Dense(10), the seed's Keras model.
            name="digits",
            title="Digits CNN (the lecture's Keras model)",
            classes=tuple(str(d) for d in range(10)),
            input_shape=(1, 28, 28),
            architecture="convnet",
            config={"conv1": 32, "conv2": 64, "dense": 1024, "classes": 10},
            preprocessing="mnist",
            head="softmax",
            # Chosen on fold 0 of benchmarks/digits_cv.py within ≤ 3 minutes of training
            # on two CPU cores: the 5,000 real digits, each drawn 5 times an epoch,
            # outweigh 6,000 strokes (drawn strokes still score ≥ 99 %).
            recipe=Recipe(
                stroke_kind="digits",
                epochs=12,
                strokes=6_000,
                mnist=True,
                mnist_repeat=5,
                label_smoothing=0.1,
                weight_decay=0.05,
            ),
        ),
    )
}


def list_models() -> list[str]:
    """Names accepted by :func:`engine.load_model`, in the order a picker shows them."""
    return list(MODELS)


def looks_like_path(name: str) -> bool:
    """True when ``name`` means a file or folder rather than a shipped model's name."""
    return (name.endswith((".json", *NETWORK_SUFFIXES)) or "/" in name or "\\" in name
            or Path(name).expanduser().is_dir())


def model_spec(name: str | Path) -> ModelSpec:
    """The spec of ``name``: a shipped model, or a path to a saved model or a network file.

    A path may be a model card (``.json``) or its folder, as :meth:`engine.Model.save`
    writes them (the card is read and checked against its weights), or a Keras
    (``.keras``, ``.h5``) or ONNX (``.onnx``) file. Raises
    :class:`~engine.errors.UnknownModelError` naming the choices for anything else, and
    :class:`~engine.errors.CardError` / :class:`~engine.errors.ModelFileError` for a
    file that cannot be used.
    """
    key = str(name)
    if key in MODELS:
        return MODELS[key]
    if looks_like_path(key):
        if key.lower().endswith(NETWORK_SUFFIXES):
            from engine.formats import network_spec

            return network_spec(key)
        from engine.storage.cards import read_card

        return read_card(key).spec
    raise UnknownModelError(
        f"unknown model {key!r}; choose one of: {', '.join(MODELS)}, or give the path of "
        "a saved model (its model.json or its folder) or of a .keras, .h5 or .onnx file"
    )


def renamed(spec: ModelSpec, classes: str | Path | Sequence[str]) -> ModelSpec:
    """``spec`` with other class names: a list of names, or a text file of them, one per
    line (:func:`engine.storage.class_lists.read_class_list`), as many as it has classes.

    Only the names change: the network, its outputs and their order stay. Raises
    :class:`~engine.errors.ConvPadError` naming the file (or the list) and the counts.
    """
    called = spec.name if spec.name in MODELS else spec.title
    if isinstance(classes, (str, Path)):
        from engine.storage.class_lists import read_class_list

        names = read_class_list(classes, len(spec.classes), f"{called} has")
    else:
        names = check_classes(list(classes), "class names")
        if len(names) != len(spec.classes):
            raise ConvPadError(f"{len(names)} class names for {called}, which has "
                               f"{len(spec.classes)} outputs")
    return dataclasses.replace(spec, classes=names)
