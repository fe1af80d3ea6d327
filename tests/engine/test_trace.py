"""trace(): one forward pass recording every layer, agreeing with predict()."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import ConvPadError, available_devices, list_models, load_model
from engine.devices import resolve_device
from engine.lecture.pictures import SEED_O, SEED_X

# xo and digits are the same family: two conv blocks, then the dense classifier.
KERAS_FAMILY = "input conv relu pool conv relu pool flatten dense relu dense softmax".split()
EXPECTED_KINDS = {
    "xo-toy": ["input", "conv", "relu", "pool", "flatten", "votes"],
    "xo": KERAS_FAMILY,
    "digits": KERAS_FAMILY,
}


def drawings(shape: tuple[int, int] = (300, 300)) -> np.ndarray:
    """Three canvases: the lecture's X and O blown up, and a blank one."""
    cell = shape[0] // 9
    big = [np.kron((g + 1) / 2, np.ones((cell, cell), np.float32)) for g in (SEED_X, SEED_O)]
    canvases = [np.pad(b, ((0, shape[0] - b.shape[0]), (0, shape[1] - b.shape[1]))) for b in big]
    return np.stack([*canvases, np.zeros(shape, np.float32)])


@pytest.fixture(scope="module", params=list_models())
def model(request):
    return load_model(request.param, device="cpu")


def test_public_attributes(model) -> None:
    assert model.classes == (["X", "O"] if model.name != "digits" else [str(d) for d in range(10)])
    assert model.input_shape == ((1, 9, 9) if model.name == "xo-toy" else (1, 28, 28))


def test_layers_in_data_flow_order_with_consistent_shapes(model) -> None:
    t = model.trace(model.preprocess(drawings()[0]))
    assert [layer.kind for layer in t.layers] == EXPECTED_KINDS[model.name]
    assert t.layers[0].output.shape == model.input_shape
    assert t.layers[-1].output.shape == (len(model.classes),)
    for prev, layer in zip(t.layers, t.layers[1:]):
        if layer.kind == "relu":
            np.testing.assert_array_equal(layer.output, np.maximum(prev.output, 0))
        if layer.kind == "flatten":
            np.testing.assert_array_equal(layer.output, prev.output.ravel())
        if layer.kind == "dense" or layer.kind == "votes":
            want = layer.weights @ prev.output + (layer.bias if layer.bias is not None else 0)
            np.testing.assert_allclose(layer.output, want, rtol=1e-4, atol=1e-5)
        if layer.kind == "conv":
            c_out, c_in, k, _ = layer.weights.shape
            assert prev.output.shape[0] == c_in and layer.output.shape[0] == c_out
            # Spot-check one output cell against the definition of convolution.
            i, j = layer.output.shape[1] // 2, layer.output.shape[2] // 3
            patch = prev.output[:, i : i + k, j : j + k]
            want = (layer.weights[0] * patch).sum() + (0 if layer.bias is None else layer.bias[0])
            assert layer.output[0, i, j] == pytest.approx(want, rel=1e-4, abs=1e-5)


def test_weights_are_shared_read_only_not_copied_per_call(model) -> None:
    x = model.preprocess(drawings()[0])
    a, b = model.trace(x), model.trace(x)
    for la, lb in zip(a.layers, b.layers):
        if la.weights is not None:
            assert la.weights is lb.weights and not la.weights.flags.writeable


def test_trace_probabilities_equal_predict(model) -> None:
    imgs = drawings()[:2]
    p = model.predict(imgs)
    for img, row in zip(imgs, p):
        t = model.trace(model.preprocess(img))
        np.testing.assert_allclose(t.probabilities, row, atol=1e-5)
        assert t.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_blank_drawing_has_no_prediction(model) -> None:
    p = model.predict(drawings())
    assert np.isnan(p[2]).all() and np.isfinite(p[:2]).all()
    assert model.is_blank(drawings()[2]) and not model.is_blank(drawings()[0])


def test_trace_rejects_a_raw_drawing_with_a_hint(model) -> None:
    with pytest.raises(ValueError, match="preprocess"):
        model.trace(np.zeros((300, 300), np.float32))


def test_receptive_fields_grow_through_the_network() -> None:
    t = load_model("digits", device="cpu").trace(np.zeros((1, 28, 28), np.float32))
    rf = {layer.name: layer.receptive_field for layer in t.layers}
    assert (rf["conv1"].size, rf["conv1"].jump) == (3, 1)
    assert (rf["pool1"].size, rf["pool1"].jump) == (4, 2)
    assert (rf["conv2"].size, rf["conv2"].jump) == (8, 2)
    assert (rf["pool2"].size, rf["pool2"].jump) == (10, 4)
    assert rf["fc1"] is None
    # The last pooled cell sees the input's bottom-right corner region.
    assert rf["pool2"].window(4) == (16, 26)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", list_models())
def test_cuda_trace_matches_cpu(name) -> None:
    cpu, gpu = load_model(name, device="cpu"), load_model(name, device="cuda")
    x = cpu.preprocess(drawings()[0])
    for a, b in zip(cpu.trace(x).layers, gpu.trace(x).layers):
        np.testing.assert_allclose(a.output, b.output, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(cpu.predict(drawings()[:2]), gpu.predict(drawings()[:2]), atol=1e-4)


@pytest.mark.parametrize(("cuda", "mps", "want"), [
    (True, True, "cuda"), (False, True, "mps"), (True, False, "cuda"), (False, False, "cpu")])
def test_auto_device_prefers_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, want) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert resolve_device("auto") == torch.device(want)


def test_the_cpu_is_always_offered_first_and_named() -> None:
    m = load_model("xo-toy", device="auto" if not torch.cuda.is_available() else "cpu")
    assert m.device.type == "cpu" or torch.cuda.is_available()
    assert load_model("xo-toy", device="cpu").device_name == "CPU"
    assert available_devices()[0] == "cpu"
    with pytest.raises(ConvPadError, match="unknown device 'tpu'"):
        resolve_device("tpu")


@pytest.mark.parametrize("device", ["cuda", "cuda:99", "mps"])
def test_an_explicit_device_is_used_or_refused_by_name(device) -> None:
    kind = device.split(":")[0]
    if kind == "cuda":
        there = torch.cuda.device_count() > (99 if device == "cuda:99" else 0)
    else:
        there = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if there:
        assert resolve_device(device) == torch.device(device)
    else:
        with pytest.raises(ValueError, match=r"device '(cuda|cuda:99|mps)' asked for, but"):
            resolve_device(device)
        with pytest.raises(ValueError, match="asked for, but"):
            load_model("xo-toy", device=device)


def test_cpu_is_always_there_and_an_unknown_device_is_named() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert load_model("xo-toy", device="cpu").device_name == "CPU"
    with pytest.raises(ValueError, match="unknown device 'tpu'; use auto, cpu, cuda or mps"):
        resolve_device("tpu")
