"""The command line takes what the window takes, and never prints a name raw (issue #18,
items 7, 13, 14 and 18 on the command line)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from engine import ConvPadError, load_model
from engine.experiments import Recorder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A model saved as ConvPad saves them (a folder with its card)."""
    return load_model("xo", device="cpu").save(tmp_path_factory.mktemp("models") / "mine").parent


@pytest.fixture
def x_png(tmp_path) -> Path:
    a = np.zeros((120, 120), np.uint8)
    for i in range(20, 100):
        a[i, i - 3 : i + 3] = a[i, 120 - i - 3 : 120 - i + 3] = 255
    path = tmp_path / "x.png"
    Image.fromarray(a).save(path)
    return path


def test_every_model_taking_command_takes_a_saved_model_path(saved, x_png, tmp_path,
                                                             capsys) -> None:  # item 7
    assert main.main(["classify", str(x_png), "--model", str(saved), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["class"] == "X"
    assert main.main(["sweep", str(x_png), "--model", str(saved / "model.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["classes"] == ["X", "O"]
    data = tmp_path / "d.npz"
    np.savez(data, images=np.stack([np.asarray(Image.open(x_png))] * 2),
             labels=np.zeros(2, np.int64))
    assert main.main(["evaluate", str(data), "--model", str(saved), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0


def test_the_window_takes_input_and_refuses_a_bad_model_in_one_line(tmp_path, capsys) -> None:
    args = main.build_parser().parse_args(["--input", "as-drawn", "--model", "xo"])
    assert args.input == "as-drawn"  # item 7: the window takes --input
    (tmp_path / "model.json").write_text("{")
    assert main.main(["--model", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid JSON" in err


def test_a_folder_that_is_not_an_experiment_is_reported_and_skipped(x_png, tmp_path,
                                                                    capsys) -> None:
    plain = tmp_path / "holiday photos"  # item 7
    plain.mkdir()
    assert main.main(["classify", str(x_png), str(plain), "--model", "xo"]) == 1
    out, err = capsys.readouterr()
    assert "x.png: X" in out and "holiday photos: no index.jsonl here" in err
    assert "skipped" in err


def test_names_with_newlines_and_escapes_are_printed_escaped(tmp_path, capsys) -> None:
    evil = tmp_path / "a\nforged line\x1b[31m.png"  # item 13
    evil.write_bytes(b"no image")
    assert main.main(["classify", str(evil), "--model", "xo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\\nforged line\\x1b[31m" in err
    data = tmp_path / "set"
    (data / "X").mkdir(parents=True)
    (data / "O").mkdir()
    (data / "bad\nname").mkdir()
    (data / "X" / "x\r.png").write_bytes(b"no image")
    from engine.cli.train import train_folder

    with pytest.raises(ConvPadError):  # too little data to train; the report came first
        train_folder(data, epochs=0, out=tmp_path / "out")
    report = [ln for ln in capsys.readouterr().err.split("\n") if ln.startswith("skipped:")]
    assert len(report) == 2 and not any("\r" in ln for ln in report)
    assert "bad\\nname/" in report[1] and "x\\r.png" in report[0]


def test_a_damaged_experiment_row_is_reported_by_line_and_the_rest_classified(tmp_path,
                                                                              capsys) -> None:
    digits = load_model("digits", device="cpu")  # item 14
    canvas = np.zeros((324, 324), np.uint8)
    canvas[60:260, 150:175] = 255
    Recorder(tmp_path).record(canvas, digits)
    with open(tmp_path / "index.jsonl", "a") as f:
        f.write("[" * 50_000 + "]" * 50_000 + "\n")
    assert main.main(["classify", str(tmp_path), "--model", "digits"]) == 1
    out, err = capsys.readouterr()
    assert "line 2: damaged (nested too deeply), skipped" in err and ": 1 (" in out


def test_no_display_is_one_sentence_and_status_2() -> None:  # item 18
    # A display number no X server here answers on (a session may run Xvfb on :99).
    free = next(n for n in range(4711, 4800) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    env = dict(os.environ, DISPLAY=f":{free}", QT_QPA_PLATFORM="", WAYLAND_DISPLAY="",
               PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-500:]
    assert proc.stderr.count("\n") == 1
    assert f"could not open the display ':{free}'" in proc.stderr


def test_the_pad_s_classes_option_is_checked_before_any_window(tmp_path, capsys) -> None:
    two = tmp_path / "two.txt"
    two.write_text("zero\none\n", encoding="utf-8")
    assert main.main(["--model", "digits", "--classes", str(two)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2 class" in err and "10 outputs" in err
    assert main.main(["--classes", str(two)]) == 2
    assert "--classes needs --model" in capsys.readouterr().err
