"""The lecture, as data and arithmetic: its pictures, its pages, its steps.

- :mod:`~engine.lecture.pictures` — the slides' 9×9 X, trickier X and O, and their tables;
- :mod:`~engine.lecture.pages` — the convolution pages before the case study (1-D, 2-D,
  padding, stride, colour, output size);
- :mod:`~engine.lecture.steps` — convolution, pooling and ReLU one cell at a time;
- :mod:`~engine.lecture.vector_steps` — the toy's votes and a dense unit's sum, step by step;
- :mod:`~engine.lecture.walk` — the steps of any traced layer, by kind.
"""

from engine.lecture.pages import (
    CHANNELS,
    CONV_LESSONS,
    LESSONS,
    LIMIT,
    ONE_D,
    PADDING,
    SIZE,
    STRIDE,
    TWO_D,
    ConvLesson,
    SizeLesson,
    parse_value,
    size_text,
)
from engine.lecture.pictures import (
    PRESETS,
    SEED_MAP_DIAGONAL,
    SEED_O,
    SEED_POOLED,
    SEED_RELU_DIAGONAL,
    SEED_TRICKY_X,
    SEED_X,
)
from engine.lecture.steps import (
    ConvStep,
    ConvSteps,
    NormStep,
    NormSteps,
    PoolStep,
    PoolSteps,
    ReluStep,
    ReluSteps,
    fits_evenly,
    matching_divisor,
    output_size,
)
from engine.lecture.vector_steps import DenseStep, DenseSteps, VoteStep, VoteSteps, vote_shares
from engine.lecture.walk import (
    STEPPABLE,
    Geometry,
    geometry,
    layer_input,
    map_shape,
    steppable_layers,
    steps_for_layer,
)

__all__ = [
    "CHANNELS", "CONV_LESSONS", "LESSONS", "LIMIT", "ONE_D", "PADDING", "PRESETS",
    "SEED_MAP_DIAGONAL", "SEED_O", "SEED_POOLED", "SEED_RELU_DIAGONAL", "SEED_TRICKY_X",
    "SEED_X", "SIZE",
    "STEPPABLE", "STRIDE", "TWO_D", "ConvLesson", "ConvStep", "ConvSteps", "DenseStep",
    "DenseSteps", "Geometry", "NormStep", "NormSteps", "PoolStep", "PoolSteps", "ReluStep",
    "ReluSteps", "SizeLesson",
    "VoteStep", "VoteSteps", "fits_evenly", "geometry", "layer_input", "map_shape",
    "matching_divisor", "output_size", "parse_value", "size_text", "steppable_layers",
    "steps_for_layer", "vote_shares",
]
