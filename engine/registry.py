"""What models ConvPad ships, described without importing torch.

The GUI lists models and builds its picker before torch has finished importing, so
this module holds only plain data: names, classes, input shapes and weight files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


@dataclass(frozen=True)
class ModelSpec:
    """One shipped model: what it is called, what it sees and what it answers."""

    name: str
    title: str
    classes: tuple[str, ...]
    input_shape: tuple[int, int, int]

    @property
    def weights_path(self) -> Path:
        return RESOURCES / f"{self.name}.safetensors"

    @property
    def card_path(self) -> Path:
        return RESOURCES / f"{self.name}.json"


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
        ),
        ModelSpec(
            # The digits network at a width two classes of bold strokes need.
            name="xo",
            title="X/O CNN (trained on drawn strokes)",
            classes=("X", "O"),
            input_shape=(1, 28, 28),
        ),
        ModelSpec(
            # Conv(32)→Pool→Conv(64)→Pool→Dense(1024)→Dense(10), the seed's Keras model.
            name="digits",
            title="Digits CNN (the lecture's Keras model)",
            classes=tuple(str(d) for d in range(10)),
            input_shape=(1, 28, 28),
        ),
    )
}


def list_models() -> list[str]:
    """Names accepted by :func:`engine.load_model`, in the order a picker shows them."""
    return list(MODELS)


def model_spec(name: str) -> ModelSpec:
    """The spec of ``name``; raises ``ValueError`` naming the choices for an unknown one."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None
