"""Every command that takes --model takes a Keras or ONNX file, and --classes FILE.

classify, evaluate, explain and sweep on a ``.keras`` and an ``.onnx`` network give
what ``load_model(path)`` gives; ``--classes`` names the classes; a damaged network
file or a bad class list is one line on standard error and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from engine import load_model, read_image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
# The network builders live with the engine tests.
from foreign_nets import (
    cached,
    digits,
    export_onnx,
    keras,
    lecture,
    pytorch_mnist_net,
)

pytest.importorskip("onnx")
NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    """The lecture's Keras model and pytorch/examples' MNIST net, as files (shared with
    tests/engine/test_formats_models.py when both run)."""
    k = keras()
    k.utils.set_random_seed(0)
    return {"keras": cached(tmp_path_factory, "lecture.keras", lecture(k).save),
            "onnx": cached(tmp_path_factory, "mnist.onnx",
                           lambda path: export_onnx(pytorch_mnist_net(), path))}


@pytest.fixture(scope="module")
def drawings(tmp_path_factory):
    """Three MNIST digits as 84 px PNGs (white on black), an .npz of ten with their
    labels, and a class list."""
    folder = tmp_path_factory.mktemp("drawings")
    x = digits(200)
    pngs = []
    for i in (0, 1, 2):
        pngs.append(folder / f"digit{i}.png")
        Image.fromarray((np.kron(x[i], np.ones((3, 3))) * 255).astype(np.uint8)).save(pngs[-1])
    labels = np.arange(10)  # what evaluate reports is checked against predict, not these
    np.savez(folder / "ten.npz", images=(x[:10] * 255).astype(np.uint8), labels=labels)
    (folder / "names.txt").write_text("\n".join(NAMES) + "\n", encoding="utf-8")
    return {"pngs": pngs, "npz": folder / "ten.npz", "names": folder / "names.txt",
            "labels": labels, "images": (x[:10] * 255).astype(np.uint8)}


@pytest.mark.parametrize("kind", ["keras", "onnx"])
def test_classify_a_network_file(nets, drawings, kind, capsys):
    path, pngs = nets[kind], drawings["pngs"]
    assert main.main(["classify", "--model", str(path), "--json", *map(str, pngs)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    model = load_model(path, device="cpu")
    for row, png in zip(rows, pngs):
        want = model.predict(read_image(png)[None], invert=False)[0]
        assert row["class"] == model.classes[int(want.argmax())]
        assert list(row["probabilities"].values()) == pytest.approx(want.tolist(), abs=1e-5)

    assert main.main(["classify", "--model", str(path), "--classes", str(drawings["names"]),
                      str(pngs[0])]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"{pngs[0]}: ") and "zero:" in line and "nine:" in line
    # … or the names themselves, comma-separated (issue #21's --classes A,B,C).
    assert main.main(["classify", "--model", str(path), "--classes", ",".join(NAMES),
                      str(pngs[0])]) == 0
    assert capsys.readouterr().out == line
    assert main.main(["classify", "--model", str(path), "--classes", "a,b,c",
                      str(pngs[0])]) == 2
    assert "3 class names" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["keras", "onnx"])
def test_evaluate_a_network_file(nets, drawings, kind, capsys):
    path = nets[kind]
    args = ["evaluate", "--model", str(path), str(drawings["npz"]), "--json"]
    assert main.main(args) == 0
    result = json.loads(capsys.readouterr().out)
    probs = load_model(path, device="cpu").predict(drawings["images"], invert=False)
    assert result["model"] == str(path.resolve()) and result["n"] == 10
    assert result["accuracy"] == pytest.approx((probs.argmax(1) == drawings["labels"]).mean())
    assert main.main([*args[:-1], "--classes", str(drawings["names"])]) == 0
    assert "true\\pred  zero" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["keras", "onnx"])
def test_explain_and_sweep_a_network_file(nets, drawings, kind, capsys, tmp_path):
    path, png = nets[kind], drawings["pngs"][1]
    out = tmp_path / "map.png"
    assert main.main(["explain", "--model", str(path), "--method", "grad-cam", "--json",
                      "--classes", str(drawings["names"]), "--out", str(out), str(png)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["class"] in NAMES and row["target"] == row["class"]
    assert np.array(row["attribution"]).shape == (84, 84)
    assert Image.open(out).size == (84, 84)
    assert main.main(["sweep", "--model", str(path), "--json", str(png)]) == 0
    sweep = json.loads(capsys.readouterr().out)
    assert sweep["classes"] == [str(d) for d in range(10)]


@pytest.mark.parametrize("command", ["classify", "evaluate", "explain", "sweep"])
@pytest.mark.parametrize("kind", ["keras", "onnx"])
def test_a_damaged_network_file_is_one_line_and_status_2(nets, drawings, tmp_path, capsys,
                                                         command, kind):
    bad = tmp_path / nets[kind].name
    bad.write_bytes(nets[kind].read_bytes()[:5000])
    data = drawings["npz"] if command == "evaluate" else drawings["pngs"][0]
    assert main.main([command, "--model", str(bad), str(data)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"error: {bad}: ")


def test_a_bad_class_list_is_one_line_and_status_2(nets, drawings, tmp_path, capsys):
    three = tmp_path / "three.txt"
    three.write_text("a\nb\nc\n", encoding="utf-8")
    png = str(drawings["pngs"][0])
    for listing, words in [(three, "names 3 class(es), one per line, but mnist.onnx (ONNX) "
                                   "has 10 outputs"),
                           (tmp_path / "missing.txt", "no such file")]:
        assert main.main(["classify", "--model", str(nets["onnx"]), "--classes",
                          str(listing), png]) == 2
        out, err = capsys.readouterr()
        assert out == "" and len(err.splitlines()) == 1
        assert err.startswith(f"error: {listing}: ") and words in err, err
