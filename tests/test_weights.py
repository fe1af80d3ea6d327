"""Weight files: every way a file can be wrong is one clear WeightsError, never a crash."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from engine import WeightsError, load_model
from engine.model import build_module
from engine.weights import load_weights, save_weights

SHIPPED = "resources/xo-toy.safetensors"


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
    data = open(SHIPPED, "rb").read()
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
