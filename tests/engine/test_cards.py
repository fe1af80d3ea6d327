"""Model cards: one format, one reader, one writer — what ConvPad saves, ConvPad opens.

Every way a card can be wrong is one :class:`CardError` naming the card and the reason;
every way ConvPad saves a model (``Model.save``, Teach, edited features, ``convpad
train``) writes the same format, which ``load_model`` — and so ``convpad --model`` and
*Open model* — reads back.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine import PRESETS, CardError, ConvPadError, list_models, load_model
from engine.spec import RESOURCES
from engine.storage.cards import read_card
from engine.storage.files import sha256_file


def _saved(tmp_path, name: str = "xo-toy"):
    return load_model(name, device="cpu").save(tmp_path / "m")


def test_every_shipped_card_names_its_weights_and_their_hash() -> None:
    for name in list_models():
        card = read_card(RESOURCES / f"{name}.json", name=name)
        assert card.fields["weights_sha256"] == sha256_file(card.weights)
        assert card.weights.parent == RESOURCES and card.spec.name == name
        assert load_model(name, device="cpu").card["model"] == name


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: "[" * 20_000 + "]" * 20_000, "nested too deeply"),
        (lambda d: '{"a":' * 10_000 + "1" + "}" * 10_000, "nested too deeply"),
        (lambda d: "[1, 2]", "not a JSON object"),
        (lambda d: "{not json", "not valid JSON"),
        (lambda d: "{}" + " " * 300_000, "larger than 262,144 bytes"),
        (lambda d: d | {"card": "other"}, "not a ConvPad model card"),
        (lambda d: d | {"card_version": 99}, "another ConvPad version"),
        (lambda d: {k: v for k, v in d.items() if k != "config"}, "no 'config' field"),
        (lambda d: d | {"classes": ["X"]}, "at least 2"),
        (lambda d: d | {"classes": ["X", "x"]}, "are the same name"),
        (lambda d: d | {"classes": ["X", "a\nb"]}, "contains"),
        (lambda d: d | {"classes": ["X", "O" * 1_000_000]}, "larger than 262,144 bytes"),
        (lambda d: d | {"classes": ["X", "O" * 1_000]}, "the limit is 40"),
        (lambda d: d | {"input_shape": [1, 9]}, "three whole numbers"),
        (lambda d: d | {"weights_file": "../w.safetensors"}, "in the card's folder"),
        (lambda d: d | {"weights_file": "model-0.safetensors"}, "is missing"),
        (lambda d: d | {"weights_sha256": "00" * 32}, "the weights were changed"),
    ],
)
def test_a_bad_card_is_refused_with_a_named_reason(tmp_path, edit, reason) -> None:
    card = _saved(tmp_path)
    data = json.loads(card.read_text())
    text = edit(data)
    card.write_text(text if isinstance(text, str) else json.dumps(text))
    with pytest.raises(CardError, match=reason) as info:
        load_model(str(card), device="cpu")
    assert "model.json" in str(info.value) and "\n" not in str(info.value)


def test_a_card_that_is_a_symlink_loop_is_refused(tmp_path) -> None:
    loop = tmp_path / "model.json"
    loop.symlink_to(loop)
    with pytest.raises(CardError, match="a loop of symbolic links"):
        read_card(loop)


@pytest.mark.parametrize("name", ["xo-toy", "xo", "digits"])
def test_what_convpad_saves_convpad_opens(tmp_path, name) -> None:
    model = load_model(name, device="cpu")
    x = np.kron(PRESETS["X (lecture)"] > 0, np.ones((36, 36))).astype(np.float32)
    card = model.save(tmp_path / "saved")
    again = load_model(str(card), device="cpu")
    assert again.classes == model.classes
    assert again.spec.architecture == model.spec.architecture
    assert np.allclose(again.predict(x), load_model(name, device="cpu").predict(x))
    # …and by its folder, as `convpad --model FOLDER` gives it
    assert load_model(str(card.parent), device="cpu").name == str(card)


def test_an_edited_model_saves_and_opens_with_its_edits(tmp_path) -> None:
    toy = load_model("xo-toy", device="cpu")
    w = toy.module.conv.weight.detach().numpy().copy()
    w[0] = -w[0]
    edited = toy.with_weights("conv", w)
    assert edited.title == "xo-toy (edited)" and toy.title == "xo-toy"
    card = edited.save(tmp_path / "mine")
    again = load_model(str(card), device="cpu")
    assert np.allclose(again.module.conv.weight.detach().numpy(), w)
    assert again.card["edited"] == ["conv"] and again.card["base"] == "xo-toy"
    x = np.kron(PRESETS["O"] > 0, np.ones((36, 36))).astype(np.float32)
    assert np.allclose(again.predict(x), edited.predict(x))


def test_saving_never_writes_into_the_shipped_resources(tmp_path) -> None:
    before = sorted(p.name for p in RESOURCES.iterdir())
    with pytest.raises(ConvPadError, match="holds the shipped models"):
        load_model("xo-toy", device="cpu").save(RESOURCES)
    with pytest.raises(ConvPadError, match="holds the shipped models"):
        load_model("xo-toy", device="cpu").save(RESOURCES / "sub")
    assert sorted(p.name for p in RESOURCES.iterdir()) == before


def test_save_without_a_folder_goes_to_the_user_data_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    card = load_model("xo-toy", device="cpu").save()
    assert tmp_path in card.parents and card.name == "model.json"
    assert load_model(str(card), device="cpu").classes == ["X", "O"]


def test_a_copy_of_a_shipped_pair_opens_as_a_saved_model(tmp_path) -> None:
    card = read_card(RESOURCES / "xo.json", name="xo")
    shutil.copy(card.path, tmp_path / "xo.json")
    shutil.copy(card.weights, tmp_path / card.weights.name)
    assert load_model(str(tmp_path / "xo.json"), device="cpu").classes == ["X", "O"]
