"""The networks ConvPad ships, written to read like the lecture's figures, built from a spec.

Two architectures: the seed's Keras model (:class:`ConvNet`, at any width, so the
digits and the X/O models are one class) and the slides' X/O toy (:class:`XOToyNet`).
Each is a plain ``nn.Module`` whose ``forward`` walks top to bottom through the same
layers the seed draws. The tracer relies on that: every layer is its own named child
module, called exactly once, in order, so running the children one after another is
the whole data flow. Keep it that way when adding an architecture (no functional
``F.relu`` in ``forward``: it would be invisible to the trace).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.errors import ConvPadError, LimitError
from engine.spec import ModelSpec

# The lecture's three 3×3 features of an X, in the slide order: the "\" diagonal, the
# X centre, the "/" diagonal (pixels are +1 ink, -1 background).
XO_TOY_FEATURES = torch.tensor(
    [
        [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
        [[1, -1, 1], [-1, 1, -1], [1, -1, 1]],
        [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]],
    ],
    dtype=torch.float32,
)


class XOToyNet(nn.Module):
    """The seed's X/O case study: match three features, rectify, pool, vote.

    The lecture's order ("1. convolution, 2. non-linearity, 3. pooling"; "Layers get
    stacked"). The convolution is its "normalised matching": each feature's ±1 weights
    are divided by 9, so a perfect match scores 1.00 and every cell is (agreeing pixels
    - disagreeing pixels) / 9, which is where the slide's 0.77 and -0.11 come from. ReLU
    turns the 7×7 map's negatives to 0, as on the ReLU slide. Pooling keeps the partial
    windows on the right/bottom edge (ceil mode), so 7×7 becomes 4×4 as in the slides
    (max pooling and ReLU commute, so the pooled tables are the slide's). Every pooled
    value then casts a weighted vote for X and for O (``votes``, no bias); see
    :func:`xo_toy_state_dict` for how the vote weights are set by hand.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, kernel_size=3, bias=False)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)
        self.flatten = nn.Flatten()
        self.votes = nn.Linear(3 * 4 * 4, 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)  # (N, 3, 7, 7) feature maps
        x = self.relu(x)  # negatives become 0
        x = self.pool(x)  # (N, 3, 4, 4)
        x = self.flatten(x)  # (N, 48) feature values
        return self.votes(x)  # (N, 2) votes for X and O


@dataclass(frozen=True)
class ConvNetConfig:
    """The widths of a :class:`ConvNet`; the defaults are the seed's Keras model."""

    conv1: int = 32  # filters of the first 3×3 convolution
    conv2: int = 64  # filters of the second
    dense: int = 1024  # units of the hidden dense layer
    classes: int = 10
    size: int = 28  # the input is one size×size grey image

    def __post_init__(self) -> None:
        # Checked before anything is allocated: a width of 10¹² would otherwise ask torch
        # for terabytes and fail deep inside it, naming nothing the caller wrote.
        for name, (lo, hi) in WIDTH_LIMITS.items():
            value = getattr(self, name)
            if type(value) is not int or not lo <= value <= hi:
                raise LimitError(f"{name} must be a whole number from {lo} to {hi:,}, "
                                 f"got {value!r}")
        if ((self.size - 2) // 2 - 2) // 2 < 1:
            raise LimitError(f"size {self.size} leaves nothing after two conv blocks; "
                             "use at least 10")


# What ConvNetConfig accepts: far beyond any network ConvPad can show, far below what
# would exhaust a laptop's memory.
WIDTH_LIMITS = {"conv1": (1, 512), "conv2": (1, 1024), "dense": (1, 16_384),
                "classes": (2, 1000), "size": (10, 512)}


class ConvNet(nn.Module):
    """The Keras model at the end of the seed, in PyTorch, at any width.

    ``Conv2D(32, 3, relu) → MaxPool(2, 2) → Conv2D(64, 3, relu) → MaxPool(2, 2) →
    Flatten → Dense(1024, relu) → Dense(10, softmax)`` on a 28×28 grey image, with the
    numbers taken from a :class:`ConvNetConfig`. Keras' Conv2D defaults to 'valid'
    padding, hence 28 → 26 → 13 → 11 → 5. The X/O model is the same network with 8 and
    16 filters and a 64-wide dense layer: two classes of bold strokes need far less
    capacity, and the smaller mosaics are easier to read on a projector.
    """

    def __init__(self, config: ConvNetConfig = ConvNetConfig()) -> None:
        super().__init__()
        c = config
        side = ((c.size - 2) // 2 - 2) // 2  # what is left of the image after two blocks
        self.conv1 = nn.Conv2d(1, c.conv1, kernel_size=3)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(c.conv1, c.conv2, kernel_size=3)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(c.conv2 * side * side, c.dense)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(c.dense, c.classes)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Shapes for the digits widths on a 28×28 input.
        x = self.pool1(self.relu1(self.conv1(x)))  # (N, 32, 13, 13)
        x = self.pool2(self.relu2(self.conv2(x)))  # (N, 64, 5, 5)
        x = self.flatten(x)
        x = self.relu3(self.fc1(x))  # (N, 1024)
        return self.softmax(self.fc2(x))  # (N, 10) probabilities


def xo_toy_state_dict() -> dict[str, torch.Tensor]:
    """The toy's weights, all set by hand from the lecture — nothing here is trained.

    ``conv``: the three ±1 features divided by 9 (normalised matching).

    ``votes``: "every value gets a vote, depending on how strongly it predicts X or O".
    Run the slide's X and a 9×9 O (:mod:`engine.lecture.pictures`) through conv → ReLU → pool to
    get each class's 48 prototype values. A value votes for X with weight
    ``max(x_i − o_i, 0)`` — how much higher it is on the X than on the O — and for O
    with ``max(o_i − x_i, 0)``; each row is scaled to sum to 1, so a class's vote is a
    weighted mean of feature values and a perfect match of its strongest cells scores
    1.0. The slide's X then gets 0.74 for X vs 0.33 for O; the O gets 1.00 for O.
    """
    from engine.lecture.pictures import SEED_O, SEED_X  # data: keep it out of import time

    net = XOToyNet()
    with torch.no_grad():
        net.conv.weight.copy_(XO_TOY_FEATURES[:, None] / 9.0)
        feats = net.pool(net.relu(net.conv(torch.tensor(np.stack([SEED_X, SEED_O]))[:, None])))
        x_proto, o_proto = net.flatten(feats)
        votes = torch.stack([(x_proto - o_proto).clamp_min(0), (o_proto - x_proto).clamp_min(0)])
        net.votes.weight.copy_(votes / votes.sum(dim=1, keepdim=True))
    return {k: v.clone() for k, v in net.state_dict().items()}


# ModelSpec.architecture → the network, built from ModelSpec.config. nanoGPT's
# model_type → GPTConfig table, with the numbers kept in the (torch-free) spec.
ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "convnet": lambda **config: ConvNet(ConvNetConfig(**config)),
    "xo_toy": XOToyNet,
}

# Architectures whose weights are set by a rule, not learned (Recipe.hand_set).
HAND_SET: dict[str, Callable[[], dict[str, torch.Tensor]]] = {
    "xo_toy": xo_toy_state_dict,
}


def build_module(spec: ModelSpec | str) -> nn.Module:
    """A freshly initialised (untrained) network of ``spec`` (or a model's name or path).

    Raises :class:`~engine.errors.ConvPadError` when the spec's architecture, config,
    input shape and classes do not fit together, so a new spec (or a card's) fails
    here with its name, not in a forward pass.
    """
    if not isinstance(spec, ModelSpec):
        from engine.catalog import model_spec

        spec = model_spec(spec)
    name = spec.name
    build = ARCHITECTURES.get(spec.architecture)
    if build is None:
        raise ConvPadError(f"model {name!r}: unknown architecture {spec.architecture!r}; "
                           f"choose one of: {', '.join(ARCHITECTURES)}")
    try:
        module = build(**spec.config)
    except TypeError as exc:
        raise ConvPadError(f"model {name!r}: config {dict(spec.config)} does not fit "
                           f"architecture {spec.architecture!r} ({exc})") from None
    try:
        with torch.inference_mode():
            out = module(torch.zeros(1, *spec.input_shape))
    except RuntimeError as exc:
        raise ConvPadError(f"model {name!r}: its {spec.architecture} network does not take "
                           f"an input of shape {spec.input_shape} ({exc})") from None
    if out.shape != (1, len(spec.classes)):
        raise ConvPadError(f"model {name!r}: its {spec.architecture} network gives "
                           f"{tuple(out.shape[1:])} outputs for {len(spec.classes)} classes")
    return module
