"""Adding a model is adding a spec: a throwaway one loads, traces and predicts.

The spec below is registered for one test at a time (``monkeypatch`` removes it
afterwards) and runs through the public API with no engine code written for it. It
differs from every shipped model on purpose — three classes, its own widths, a 16×16
input, the ±1 grid preprocessing with a softmax head — so a name check or a 28×28
assumption left anywhere in the engine shows up here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from engine import MODELS, ModelSpec, list_models, load_model, model_spec
from engine.architectures import build_module
from engine.spec import Recipe
from engine.storage.weights import save_weights

TINY = ModelSpec(
    name="tiny-shapes",
    title="A throwaway three-class member of the conv family",
    classes=("a", "b", "c"),
    input_shape=(1, 16, 16),
    architecture="convnet",
    config={"conv1": 4, "conv2": 6, "dense": 12, "classes": 3, "size": 16},
    preprocessing="grid",
    head="softmax",
    recipe=Recipe(stroke_kind="xo"),
)


@pytest.fixture
def weights(tmp_path, monkeypatch):
    monkeypatch.setitem(MODELS, TINY.name, TINY)
    torch.manual_seed(0)
    return save_weights(build_module(TINY.name), tmp_path / "tiny.safetensors")


@pytest.fixture
def tiny(weights):
    return load_model(TINY.name, device="cpu", weights=weights)


def _diagonal(size: int = 200) -> np.ndarray:
    canvas = np.zeros((size, size), np.float32)
    for i in range(20, size - 20):
        canvas[i, i - 6 : i + 6] = 1.0
    return canvas


def test_a_registered_spec_is_listed_and_loads_as_described(tiny) -> None:
    assert TINY.name in list_models() and model_spec(TINY.name).title == TINY.title
    assert tiny.name == TINY.name and tiny.classes == ["a", "b", "c"]
    assert tiny.input_shape == (1, 16, 16) and tiny.spec is TINY


def test_its_preprocessing_is_the_one_its_spec_names(tiny) -> None:
    x = tiny.preprocess(_diagonal())
    assert x.shape == (1, 16, 16)
    assert set(np.unique(x)) == {-1.0, 1.0}  # the ±1 grid, not MNIST's [0, 1] greys
    assert x[0, 8, 8] == 1.0 and x[0, 1, 14] == -1.0  # ink on the diagonal only


def test_it_traces_with_its_own_widths_and_the_saved_weights(tiny, weights) -> None:
    from safetensors.torch import load_file

    t = tiny.trace(tiny.preprocess(_diagonal()))
    assert [layer.name for layer in t.layers] == [
        "input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
        "flatten", "fc1", "relu3", "fc2", "softmax",
    ]  # fmt: skip
    assert t.layer("conv1").output.shape == (4, 14, 14)
    assert t.layer("pool2").output.shape == (6, 2, 2)
    assert t.layer("fc1").weights.shape == (12, 24)
    saved = load_file(str(weights))
    np.testing.assert_array_equal(t.layer("fc2").weights, saved["fc2.weight"].numpy())
    assert t.probabilities.shape == (3,) and t.probabilities.sum() == pytest.approx(1.0)
    assert t.prediction in TINY.classes


def test_it_predicts_like_it_traces_and_gives_no_answer_for_a_blank(tiny) -> None:
    drawings = np.stack([_diagonal(), _diagonal()[::-1], np.zeros((200, 200), np.float32)])
    p = tiny.predict(drawings)
    assert p.shape == (3, 3) and np.isnan(p[2]).all()
    for drawing, row in zip(drawings[:2], p[:2]):
        traced = tiny.trace(tiny.preprocess(drawing)).probabilities
        np.testing.assert_allclose(traced, row, atol=1e-6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"config": {**TINY.config, "classes": 4}}, r"gives \(4,\) outputs for 3 classes"),
        ({"input_shape": (1, 28, 28)}, r"does not take an input of shape \(1, 28, 28\)"),
        ({"architecture": "resnet"}, "unknown architecture 'resnet'; choose one of: convnet"),
        ({"config": {"width": 3}}, "does not fit architecture 'convnet'"),
        ({"preprocessing": "sobel"}, "unknown preprocessing 'sobel'; choose one of: mnist, grid"),
        ({"head": "sigmoid"},
         "unknown head 'sigmoid'; choose one of: softmax, votes, logits, log-softmax"),
    ],
)
def test_a_spec_that_does_not_fit_together_is_named_on_load(
    weights, monkeypatch, change, message
) -> None:
    monkeypatch.setitem(MODELS, TINY.name, replace(TINY, **change))
    with pytest.raises(ValueError, match=f"model 'tiny-shapes': .*{message}"):
        load_model(TINY.name, device="cpu", weights=weights)
