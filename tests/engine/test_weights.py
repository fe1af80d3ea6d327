"""Weight files: every way a file can be wrong is one clear WeightsError, never a crash."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from engine import WeightsError, list_models, load_model
from engine.architectures import build_module
from engine.storage.cards import read_card
from engine.storage.weights import MAX_ABS_WEIGHT, load_weights, save_weights
from engine.tracing import check_sequential, sequential_children


def _shipped(name: str):
    """The weight file of shipped model ``name``, as its card names it."""
    return read_card(f"resources/{name}.json").weights


def _tensors() -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in build_module("xo-toy").state_dict().items()}


def test_round_trip_restores_every_tensor(tmp_path) -> None:
    src = build_module("digits")
    path = save_weights(src, tmp_path / "d.safetensors")
    dst = build_module("digits")
    load_weights(dst, path)
    for name, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[name], value)


def _expect(path, pattern: str) -> None:
    module = build_module("xo-toy")
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with pytest.raises(WeightsError, match=pattern) as info:
        load_weights(module, path)
    assert str(path.name) in str(info.value)
    for k, v in module.state_dict().items():  # a failed load leaves the model untouched
        assert torch.equal(v, before[k])
    # The public loader raises the same error, not a traceback from deep inside.
    with pytest.raises(WeightsError, match=pattern):
        load_model("xo-toy", device="cpu", weights=path)


def test_missing_file(tmp_path) -> None:
    _expect(tmp_path / "nope.safetensors", "no such weight file")


def test_truncated_file(tmp_path) -> None:
    data = _shipped("xo-toy").read_bytes()
    path = tmp_path / "truncated.safetensors"
    path.write_bytes(data[: len(data) // 2])
    _expect(path, "not a readable safetensors file")


def test_random_bytes(tmp_path) -> None:
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    _expect(path, "not a readable safetensors file")


def test_header_lies_about_the_data(tmp_path) -> None:
    header = json.dumps(
        {"conv.weight": {"dtype": "F32", "shape": [3, 1, 3, 3], "data_offsets": [0, 4000]}}
    ).encode()
    path = tmp_path / "lying.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    _expect(path, "not a readable safetensors file")


def test_pickle_file_is_refused(tmp_path) -> None:
    path = tmp_path / "model.safetensors"
    torch.save(build_module("xo-toy").state_dict(), path)
    _expect(path, "not a readable safetensors file")


def test_wrong_shape_names_the_tensor_and_both_shapes(tmp_path) -> None:
    t = _tensors()
    t["conv.weight"] = torch.zeros(4, 1, 3, 3)
    save_file(t, tmp_path / "shape.safetensors")
    _expect(
        tmp_path / "shape.safetensors",
        r"tensor conv.weight has shape \(4, 1, 3, 3\), expected \(3, 1, 3, 3\)",
    )


def test_wrong_dtype(tmp_path) -> None:
    t = _tensors()
    t["votes.weight"] = t["votes.weight"].double()
    save_file(t, tmp_path / "dtype.safetensors")
    _expect(tmp_path / "dtype.safetensors", "votes.weight has dtype torch.float64")


def test_nan_values(tmp_path) -> None:
    t = _tensors()
    t["votes.weight"][0, 5] = float("nan")
    save_file(t, tmp_path / "nan.safetensors")
    _expect(tmp_path / "nan.safetensors", "votes.weight holds NaN")


def test_missing_and_unexpected_tensors(tmp_path) -> None:
    t = _tensors()
    del t["votes.weight"]
    t["extra.bias"] = torch.zeros(2)
    save_file(t, tmp_path / "names.safetensors")
    _expect(
        tmp_path / "names.safetensors",
        "missing tensors votes.weight; unexpected tensors extra.bias",
    )


def test_another_models_file(tmp_path) -> None:
    path = save_weights(build_module("xo"), tmp_path / "xo.safetensors")
    _expect(path, "another model")


def test_unknown_model_and_unavailable_device_are_clear() -> None:
    with pytest.raises(ValueError, match="unknown model 'cats'; choose one of: xo-toy, xo, digits"):
        load_model("cats")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            load_model("xo-toy", device="cuda")
    with pytest.raises(ValueError, match="unknown device"):
        load_model("xo-toy", device="tpu")


# ---- values that are finite but absurd -----------------------------------------------


def test_finite_but_absurd_weights_are_refused_by_name(tmp_path) -> None:
    t = _tensors()
    t["votes.weight"] *= 1e30
    save_file(t, tmp_path / "scaled.safetensors")
    _expect(
        tmp_path / "scaled.safetensors",
        r"votes.weight holds a value of magnitude [0-9.]+e\+29, beyond the 10000",
    )


def test_shipped_weights_are_far_within_the_magnitude_bound() -> None:
    for name in list_models():
        tensors = load_file(_shipped(name))
        biggest = max(float(t.abs().max()) for t in tensors.values())
        assert biggest < MAX_ABS_WEIGHT / 1000, name


@pytest.mark.parametrize("name", list_models())
def test_weights_at_the_bound_still_load_and_trace_finite(tmp_path, name) -> None:
    """The bound is low enough that no allowed file can overflow float32 in our networks.

    All weights at +bound on an all-ones input is the largest any layer can get.
    """
    state = build_module(name).state_dict()
    worst = {k: torch.full_like(v, MAX_ABS_WEIGHT) for k, v in state.items()}
    save_file(worst, tmp_path / "worst.safetensors")
    m = load_model(name, device="cpu", weights=tmp_path / "worst.safetensors")
    t = m.trace(np.ones(m.input_shape, np.float32))
    assert all(np.isfinite(layer.output).all() for layer in t.layers)
    assert np.isfinite(t.probabilities).all()


def test_a_network_that_overflows_is_named_as_such_not_as_a_tracing_bug() -> None:
    module = build_module("xo")
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(1e30)
    with pytest.raises(WeightsError, match="NaN or infinite outputs") as info:
        check_sequential(module, sequential_children(module), (1, 28, 28), torch.device("cpu"))
    assert not isinstance(info.value, TypeError)


# ---- symlink loops ---------------------------------------------------------------------


def test_a_symlink_loop_is_a_weights_error(tmp_path) -> None:
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.symlink_to(b)
    b.symlink_to(a)
    _expect(a, "a loop of symbolic links")
