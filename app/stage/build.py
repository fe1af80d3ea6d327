"""From a trace's layers to the list of stages that tell its story, by kind and shape.

Nothing here asks which model made the layers. Small maps (the X/O toy's 7×7 and 4×4)
get one stage per operation with every number printed, as the lecture does; big maps
get a filter bank, a conv2 sum and one "ReLU and pooling" stage per block.
"""

from __future__ import annotations

from app.stage.answer import AnswerStage, ExplainStage
from app.stage.banks import ChainStage, FilterBankStage, KernelSumStage
from app.stage.base import StageBase
from app.stage.heads import DenseStage, ProbabilityStage, ScoresStage, VotesStage
from app.stage.maps import InputStage, MatchStage, is_small
from app.stage.tables import PoolNumbersStage, ReluNumbersStage


def structure(trace) -> tuple:
    """What decides the stages: each layer's kind and shapes (a model switch changes it)."""
    layers = [(lay.kind, lay.output.shape, None if lay.weights is None else lay.weights.shape)
              for lay in trace.layers]
    return (*layers, tuple(trace.classes))


def _spatial(layer) -> bool:
    return layer.output.ndim == 3


#: Layer kinds a chain of maps goes through (batch norm: an opened network's own layer).
CHAIN = ("relu", "pool", "norm")


def build_stages(trace) -> list[StageBase]:
    """The stages for ``trace``'s network, in data-flow order, ending with the answer."""
    layers, classes = trace.layers, list(trace.classes)
    stages: list[StageBase] = []
    block: str | None = None
    prev_block: str | None = None
    i, n = 0, len(layers)
    while i < n:
        lay = layers[i]
        kind = lay.kind
        if kind == "input":
            stages.append(InputStage(i, lay, lay.output))
        elif kind == "conv":
            prev_block, block = block, lay.name
            if lay.weights.shape[1] == 1 and is_small(layers[i - 1].output.shape):
                stages.append(MatchStage(i - 1, i, layers))
            elif lay.weights.shape[1] == 1:
                stages.append(FilterBankStage(i - 1, i, layers))
            else:
                stages.append(KernelSumStage(i - 1, i, layers, prev_block))
        elif kind in CHAIN and _spatial(lay):
            if kind != "norm" and is_small(lay.output.shape) \
                    and is_small(layers[i - 1].output.shape):
                cls = PoolNumbersStage if kind == "pool" else ReluNumbersStage
                stages.append(cls(i - 1, i, layers, block))
            else:
                j = i
                while j < n and layers[j].kind in CHAIN and _spatial(layers[j]):
                    j += 1
                stages.append(ChainStage(i - 1, list(range(i, j)), layers, block))
                i = j
                continue
        elif kind == "votes":
            src = next((layers[k] for k in range(i - 1, -1, -1) if _spatial(layers[k])), None)
            rows = src.output.shape[0] if src is not None else 1
            # Rectified since the last conv (conv → ReLU → pool, or pool → ReLU): no minus.
            last_conv = max((k for k in range(i) if layers[k].kind == "conv"), default=-1)
            nonneg = any(layers[k].kind == "relu" for k in range(last_conv + 1, i))
            stages.append(VotesStage(i - 1, i, layers, rows, classes, nonneg))
        elif kind == "dense":
            relu = i + 1 if i + 1 < n and layers[i + 1].kind == "relu" else None
            last = relu is None and lay.output.size == len(classes) and (
                i + 1 == n or layers[i + 1].kind == "softmax")
            if last:
                stages.append(ScoresStage(i, layers, classes))
            else:
                src = next((layers[k] for k in range(i - 1, -1, -1) if _spatial(layers[k])), None)
                shape = src.output.shape if src is not None and layers[i - 1].kind == "flatten" \
                    else layers[i - 1].output.shape
                stages.append(DenseStage(i - 1, i, relu, layers, shape))
                if relu is not None:
                    i = relu
        elif kind == "softmax":
            stages.append(ProbabilityStage(i, layers, classes))
        i += 1
    stages.append(AnswerStage(classes, votes=any(lay.kind == "votes" for lay in layers)))
    stages.append(ExplainStage(classes))
    return stages
