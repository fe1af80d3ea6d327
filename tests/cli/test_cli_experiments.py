"""convpad sweep, classify --input, and classify on a recorded experiment folder."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

import main
from engine import load_model
from engine.experiments.records import INDEX, Recorder


def corner_seven(path, side: int = 324):
    im = Image.new("L", (side, side))
    ImageDraw.Draw(im).line((20, 20, 120, 20, 50, 150), fill=255, width=16)
    im.save(path)
    return path


@pytest.mark.parametrize("mode", ["centred", "as-drawn"])
def test_sweep_json_holds_classify_s_answer_at_0_degrees_1x_and_no_shift(
    tmp_path, capsys, mode
) -> None:
    img = corner_seven(tmp_path / "seven.png")
    assert main.main(["sweep", str(img), "--model", "digits", "--input", mode, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["model", "input", "classes", "rotation", "scale", "shift"]
    assert out["model"] == "digits" and out["input"] == mode
    assert main.main(["classify", str(img), "--model", "digits", "--input", mode, "--json"]) == 0
    want = list(json.loads(capsys.readouterr().out)["probabilities"].values())
    at0 = out["rotation"]["degrees"].index(0.0)
    at1 = out["scale"]["factors"].index(1.0)
    centre = out["shift"]["dx"].index(0)
    for got in (
        out["rotation"]["probabilities"][at0],
        out["scale"]["probabilities"][at1],
        out["shift"]["probabilities"][centre][centre],
    ):
        np.testing.assert_allclose(got, want, atol=2e-5)


def test_sweep_prints_curves_and_a_shift_map(tmp_path, capsys) -> None:
    img = corner_seven(tmp_path / "seven.png")
    assert main.main(["sweep", str(img), "--input", "as-drawn"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{img}: digits, as-drawn: ")
    shift_rows = [line for line in out if line.startswith(("   -8 ", "   +8 ", "   +0 "))]
    assert len(shift_rows) == 3 and all(len(r.split()[1]) == 17 for r in shift_rows)
    assert "." in shift_rows[0]  # moved up 8 input pixels, the corner 7 leaves the canvas
    assert main.main(["sweep", str(img)]) == 0
    out = capsys.readouterr().out
    assert "so every shift gives the same input" in out
    # The header names the mode once and the drawing as untransformed, not "as drawn"
    # (the other mode's name).
    head = out.splitlines()[0]
    assert head.startswith(f"{img}: digits, centred: ") and head.endswith(") untransformed")


def test_sweep_of_a_blank_image_says_so(tmp_path, capsys) -> None:
    Image.new("L", (50, 50)).save(tmp_path / "blank.png")
    assert main.main(["sweep", str(tmp_path / "blank.png")]) == 1
    assert "no ink, nothing to sweep" in capsys.readouterr().err


def test_classify_input_as_drawn_sees_where_you_drew(tmp_path, capsys) -> None:
    img = corner_seven(tmp_path / "seven.png")
    main.main(["classify", str(img), "--json"])
    centred = json.loads(capsys.readouterr().out)["probabilities"]
    main.main(["classify", str(img), "--json", "--input", "as-drawn"])
    drawn = json.loads(capsys.readouterr().out)["probabilities"]
    assert centred != drawn
    m = load_model("digits", device="cpu")
    ink = np.asarray(Image.open(img), np.float32) / 255
    np.testing.assert_allclose(
        list(drawn.values()), m.predict(ink, input="as-drawn")[0], atol=1e-5
    )


def test_classify_takes_an_experiment_folder(tmp_path, capsys) -> None:
    m = load_model("digits", device="cpu")
    rec = Recorder(tmp_path / "lesson")
    seven = np.asarray(Image.open(corner_seven(tmp_path / "seven.png")))
    rec.record(seven, m, label="7")
    rec.record(seven, m, input="as-drawn", label="3")
    status = main.main(["classify", str(tmp_path / "lesson"), "--model", "xo", "--json"])
    assert status == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in rows] == ["7", "3"]
    assert [r["input"] for r in rows] == ["centred", "as-drawn"]  # as recorded
    assert set(rows[0]["probabilities"]) == {"X", "O"}
    main.main(["classify", str(tmp_path / "lesson"), "--input", "centred"])
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r".*lesson: [012] of 2 labelled drawings right \(\d+\.\d%\) with digits",
                        out[-1])
    assert sum("label 3: WRONG" in line for line in out) == 1
    with open(tmp_path / "lesson" / INDEX, "a") as f:
        f.write("{broken\n")
    assert main.main(["classify", str(tmp_path / "lesson")]) == 1
    assert "line 3: damaged (not JSON), skipped" in capsys.readouterr().err
