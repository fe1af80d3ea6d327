"""Bad input is named and refused, never a traceback (issue #18, items 13–17, engine side).

Data sets (symlinks, unreadable folders, names that are one class, names that cannot
be one), experiment rows that are damaged in every way a file can be, absurd widths and
grids: each is one sentence, and everything that can go on, goes on.
"""

from __future__ import annotations

import json
import os
import unicodedata

import numpy as np
import pytest
from PIL import Image

from engine import ConvPadError, DataStore, LimitError, load_model, train_model
from engine.experiments import INDEX, Recorder, open_experiment, replay, sweep
from engine.storage import read_folder
from engine.training.custom import example_drawings


def _drawing(folder, name: str, k: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    a = np.zeros((40, 40), np.uint8)
    a[10 + k : 30, 18:22] = 255
    Image.fromarray(a).save(folder / name)


# ----- 13. data sets ------------------------------------------------------------------------
def test_a_symlink_loop_adds_no_class_of_copies(tmp_path) -> None:
    src = tmp_path / "src"
    _drawing(src / "X", "a.png")
    _drawing(src / "O", "b.png", 2)
    (src / "X" / "loop").symlink_to(src / "X")  # a loop inside a class
    (src / "copies").symlink_to(src / "X")  # a second name for a class
    images, _labels, classes, skipped = read_folder(src)
    assert classes == ["O", "X"] and len(images) == 2
    assert sum("symbolic link; not followed" in s for s in skipped) == 2


def test_a_class_folder_that_cannot_be_read_is_reported(tmp_path, monkeypatch) -> None:
    src = tmp_path / "src"
    _drawing(src / "X", "a.png")
    _drawing(src / "O", "b.png", 2)
    real = os.scandir

    def refusing(path):  # what a folder without read permission does (root reads all)
        if str(path).endswith(os.sep + "O"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", refusing)
    _images, _labels, _classes, skipped = read_folder(src)
    assert any("O/: cannot be read (Permission denied)" in s for s in skipped)


@pytest.mark.parametrize("pair", [("Cat", "cat"), (unicodedata.normalize("NFC", "café"),
                                                   unicodedata.normalize("NFD", "café"))])
def test_names_that_are_the_same_class_are_one_class(tmp_path, pair) -> None:
    src = tmp_path / "src"
    _drawing(src / pair[0], "a.png")
    _drawing(src / pair[1], "b.png", 2)
    _drawing(src / "dog", "c.png", 4)
    _images, labels, classes, skipped = read_folder(src)
    assert len(classes) == 2 and sorted(np.bincount(labels)) == [1, 2]
    assert any("are the same class name" in s for s in skipped)
    ds = DataStore(tmp_path / "store").create("s", ("Cat",))
    with pytest.raises(ConvPadError, match="already a class 'Cat'"):
        ds.add_class("CAT")


@pytest.mark.parametrize(("name", "why"), [
    ("O" * 1_000_000, "the limit is 40"), ("a\nb", "contains"), ("tab\there", "contains"),
    ("\x1b[31mred", "contains"), ("", "needs a name"), ("   ", "needs a name")])
def test_class_names_are_one_to_forty_printable_characters(tmp_path, name, why) -> None:
    ds = DataStore(tmp_path).create("s", ("X",))
    with pytest.raises(ConvPadError, match=why):
        ds.add_class(name)
    with pytest.raises(ConvPadError, match=why):
        train_model([np.eye(8)] * 4, [0, 0, 1, 1], ["X", name], epochs=0)
    assert ds.add_class("  trimmed  ") == "trimmed"


def test_a_data_set_index_nested_deep_or_huge_is_reported_not_raised(tmp_path) -> None:
    ds = DataStore(tmp_path).create("s", ("X", "O"))
    for text, why in (("[" * 30_000 + "]" * 30_000, "nested too deeply"),
                      ("{}" + " " * 70_000, "larger than"), ('{"classes": 3}', "damaged")):
        (ds.path / "dataset.json").write_text(text)
        again = DataStore(tmp_path).open("s")
        assert sorted(again.classes) == ["O", "X"]
        assert why in again.problems[0] and "taken from the folders" in again.problems[0]


# ----- 14. experiments ----------------------------------------------------------------------
def test_every_damaged_row_is_named_by_its_line_and_the_rest_replay(tmp_path) -> None:
    digits = load_model("digits", device="cpu")
    rec = Recorder(tmp_path)
    canvas = np.zeros((324, 324), np.uint8)
    canvas[60:260, 150:175] = 255
    good = [rec.record(canvas, digits) for _ in range(3)]
    bomb = tmp_path / "bomb.png"
    Image.new("L", (20_000, 20_000)).save(bomb, optimize=True)  # a few kB, 400 MP
    lines = (tmp_path / INDEX).read_text().splitlines()
    row = json.loads(lines[0])
    lines += ["[" * 50_000 + "]" * 50_000,  # line 4: nested too deep
              json.dumps(row | {"input": "sideways"}),  # 5: an unknown input mode
              json.dumps(row | {"png": "gone.png"}),  # 6: a missing drawing
              json.dumps(row | {"png": bomb.name})]  # 7: a PNG bomb
    (tmp_path / INDEX).write_text("\n".join(lines) + "\n")
    exp = open_experiment(tmp_path)
    assert [s.split(":")[0] for s in exp.skipped] == ["line 4", "line 5", "line 6"]
    done, skipped = replay(exp, digits)
    assert [r.row.png for r in done] == [g.png for g in good]
    assert len(skipped) == 1 and skipped[0].startswith("line 7: bomb.png: ")  # not decoded


# ----- 15, 17. absurd numbers ---------------------------------------------------------------
@pytest.mark.parametrize("width", [10**12, -5, 0])
def test_absurd_widths_are_refused_by_name_before_anything_is_allocated(width) -> None:
    images, labels, classes = example_drawings(2, seed=1, classes=("X", "O"))
    with pytest.raises(LimitError, match="conv2 must be a whole number from 1 to 1,024"):
        train_model(images, labels, classes, epochs=0, widths={"conv2": width})


@pytest.mark.parametrize(("kw", "what"), [
    ({"degrees": range(10**9)}, "degrees"), ({"factors": [-1.0, 1.0]}, "factors"),
    ({"factors": [0.0, 1.0]}, "factors"), ({"shifts": range(-10**6, 10**6)}, "shifts"),
    ({"degrees": [0.0, float("nan")]}, "degrees")])
def test_sweep_grids_beyond_their_limits_are_refused_naming_the_limit(kw, what) -> None:
    model = load_model("xo", device="cpu")
    canvas = np.zeros((60, 60), np.float32)
    canvas[20:40, 28:32] = 1
    with pytest.raises(LimitError, match=what):
        sweep(model, canvas, **kw)
