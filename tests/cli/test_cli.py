"""The command line: classify, evaluate and the no-display message, on generated data."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import engine.cli
import main
from engine.lecture.pictures import SEED_O, SEED_X


def _big(grid: np.ndarray, cell: int = 30) -> np.ndarray:
    """A 9×9 ±1 grid as a white-on-black uint8 image of ``cell``-pixel blocks."""
    return (np.kron((grid + 1) / 2, np.ones((cell, cell))) * 255).astype(np.uint8)


@pytest.fixture
def images(tmp_path):
    x, o = _big(SEED_X), _big(SEED_O)
    paths = {}
    Image.fromarray(x).save(paths.setdefault("x_white_on_black", tmp_path / "x.png"))
    Image.fromarray(255 - o).save(
        paths.setdefault("o_black_on_white", tmp_path / "o.jpg"), quality=95
    )
    Image.fromarray(np.stack([255 - x] * 3, -1)).save(
        paths.setdefault("x_colour", tmp_path / "x.bmp")
    )
    rgba = np.zeros((*o.shape, 4), np.uint8)
    rgba[..., 3] = o  # black ink on a transparent background
    Image.fromarray(rgba, "RGBA").save(paths.setdefault("o_alpha", tmp_path / "o_alpha.png"))
    (tmp_path / "broken.png").write_bytes(paths["x_white_on_black"].read_bytes()[:100])
    paths["broken"] = tmp_path / "broken.png"
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(
        paths.setdefault("blank", tmp_path / "blank.png")
    )
    return paths


def test_classify_reads_every_format_and_polarity(images, capsys) -> None:
    order = ["x_white_on_black", "o_black_on_white", "x_colour", "o_alpha"]
    status = main.main(
        ["classify", "--model", "xo-toy", "--json", *map(str, (images[k] for k in order))]
    )
    assert status == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["class"] for r in results] == ["X", "O", "X", "O"]
    for r in results:
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_classify_reports_a_bad_file_and_still_classifies_the_rest(images, capsys) -> None:
    status = main.main(
        [
            "classify",
            "--model",
            "xo-toy",
            str(images["broken"]),
            str(images["x_white_on_black"]),
            str(images["blank"]),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 1
    assert "broken.png: truncated or corrupt image file" in err
    assert "x.png: X (" in out
    assert "blank.png: no ink, no prediction" in out


def test_classify_digits_on_held_out_style_drawings(tmp_path, capsys) -> None:
    from PIL import ImageDraw

    im = Image.new("L", (280, 280))
    ImageDraw.Draw(im).line([(140, 40), (140, 240)], fill=255, width=22)
    im.save(tmp_path / "one.png")
    assert main.main(["classify", "--json", str(tmp_path / "one.png")]) == 0
    assert json.loads(capsys.readouterr().out)["class"] == "1"


def test_evaluate_prints_accuracy_and_confusion(tmp_path, capsys) -> None:
    imgs = np.stack([_big(SEED_X), _big(SEED_O), _big(SEED_O), np.zeros((270, 270), np.uint8)])
    labels = np.array([0, 1, 0, 1])  # the third is labelled wrongly, the fourth is blank
    np.savez(tmp_path / "data.npz", images=imgs, labels=labels)
    assert main.main(["evaluate", "--model", "xo-toy", "--json", str(tmp_path / "data.npz")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"model", "n", "accuracy", "confusion"}
    assert result["n"] == 4 and result["accuracy"] == pytest.approx(0.5)
    assert result["confusion"] == [[1, 1], [0, 1]]  # blank counted as wrong, not in a cell

    assert main.main(["evaluate", "--model", "xo-toy", str(tmp_path / "data.npz")]) == 0
    assert "50.00% of 4 correct" in capsys.readouterr().out


def test_evaluate_rejects_bad_files_clearly(tmp_path, capsys) -> None:
    np.savez(tmp_path / "nolabels.npz", images=np.zeros((2, 28, 28), np.uint8))
    assert main.main(["evaluate", "--model", "digits", str(tmp_path / "nolabels.npz")]) == 2
    assert "missing array 'labels'" in capsys.readouterr().err
    np.savez(tmp_path / "badlabels.npz", images=np.zeros((2, 28, 28), np.uint8), labels=[0, 7])
    assert main.main(["evaluate", "--model", "xo", str(tmp_path / "badlabels.npz")]) == 2
    assert "labels must index the 2 classes" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert main.main(["evaluate", "--model", "xo", str(tmp_path / "junk.npz")]) == 2
    assert "not a readable .npz file" in capsys.readouterr().err


def test_one_help_lists_every_subcommand() -> None:
    text = main.build_parser().format_help()
    for sub in ("classify", "evaluate", "train"):
        assert sub in text


def test_gui_without_a_display_says_so_in_one_sentence() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    proc = subprocess.run(
        [sys.executable, "main.py"], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("ConvPad needs a display")
    assert "QT_QPA_PLATFORM=offscreen" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_classify_names_a_nan_image_and_still_classifies_the_others(images, tmp_path, capsys):
    a = np.zeros((90, 90), np.float32)
    a[40, 40] = np.nan
    nan = tmp_path / "nan.png"
    Image.fromarray(a, "F").save(nan, format="TIFF")  # a float TIFF under a PNG name
    x, o = images["x_white_on_black"], images["o_black_on_white"]
    status = main.main(["classify", "--model", "xo-toy", str(x), str(nan), str(o)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "nan.png: pixels hold NaN or infinite values" in err and "Traceback" not in err
    assert "x.png: X (" in out and "o.jpg: O (" in out


def _evaluate(path, capsys) -> tuple[int, str]:
    status = main.main(["evaluate", "--model", "xo-toy", str(path)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err


def test_evaluate_names_a_npy_file_renamed_npz(tmp_path, capsys) -> None:
    np.save(tmp_path / "data.npy", np.zeros((2, 28, 28), np.uint8))
    (tmp_path / "data.npy").rename(tmp_path / "data.npz")
    status, err = _evaluate(tmp_path / "data.npz", capsys)
    assert status == 2 and "is a single .npy array, not an .npz archive" in err
    assert "np.savez(" in err


def _npz_with_header(path, shape, data: bytes) -> None:
    """An .npz whose images.npy header declares ``shape`` over ``data`` (labels are fine)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    labels = io.BytesIO()
    np.save(labels, np.zeros(2, np.int64))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("images.npy", header.getvalue() + data)
        z.writestr("labels.npy", labels.getvalue())


def test_evaluate_refuses_a_header_declaring_a_petabyte_before_allocating_it(
    tmp_path, capsys
) -> None:
    _npz_with_header(tmp_path / "huge.npz", (10**15, 28, 28), b"\0" * 1568)
    status, err = _evaluate(tmp_path / "huge.npz", capsys)
    assert status == 2 and "declares shape (1000000000000000, 28, 28)" in err
    assert "corrupt" in err


def test_evaluate_refuses_an_array_too_big_to_evaluate(tmp_path, capsys, monkeypatch) -> None:
    # The real bound is 256 MiB; a 1 MiB one tests the same check with a 2 MiB file.
    monkeypatch.setattr(engine.cli.evaluate, "MAX_NPZ_ARRAY_BYTES", 1 << 20)
    images = np.zeros((2700, 28, 28), np.uint8)
    np.savez_compressed(tmp_path / "big.npz", images=images, labels=np.zeros(2700, int))
    status, err = _evaluate(tmp_path / "big.npz", capsys)
    assert status == 2 and "images is 2 MiB, more than the 1 MiB evaluate reads at once" in err


def test_evaluate_refuses_a_zip_directory_that_lies_about_sizes(tmp_path, capsys) -> None:
    _npz_with_header(tmp_path / "ok.npz", (2, 28, 28), bytes(2 * 28 * 28))
    data = bytearray((tmp_path / "ok.npz").read_bytes())
    # Claim 1 TB uncompressed in images.npy's central-directory entry (stored: must equal
    # the compressed size).
    entry = data.index(b"PK\x01\x02")  # the first central-directory entry: images.npy
    data[entry + 24 : entry + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    (tmp_path / "lying.npz").write_bytes(bytes(data))
    status, err = _evaluate(tmp_path / "lying.npz", capsys)
    assert status == 2 and "sizes for images are impossible" in err


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.full((2, 28, 28), 255.0), "float64 with values from 255 to 255, but float images"),
        (np.full((2, 28, 28), 0.5, np.float32), None),
        (np.full((2, 28, 28), np.nan), "images hold NaN or infinite values"),
        (np.full((2, 28, 28), 300, np.int64), "int64 with values from 300 to 300"),
        (np.full((2, 28, 28), 200, np.int64), None),
        (np.ones((2, 28, 28), bool), "images are bool"),
    ],
)
def test_evaluate_refuses_pixels_it_would_have_to_clip(tmp_path, capsys, images, message) -> None:
    np.savez(tmp_path / "d.npz", images=images, labels=np.array([0, 1]))
    status, err = _evaluate(tmp_path / "d.npz", capsys)
    if message is None:
        assert status == 0 and err == ""
    else:
        assert status == 2 and message in err


def test_evaluate_with_no_samples_is_an_error_not_zero_accuracy(tmp_path, capsys) -> None:
    none = np.zeros((0, 28, 28), np.uint8)
    np.savez(tmp_path / "empty.npz", images=none, labels=np.zeros(0, int))
    status, err = _evaluate(tmp_path / "empty.npz", capsys)
    assert status == 2 and "holds no drawings (N = 0)" in err


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("a file", "is a file, not a folder"),
        ("under a file", "one of its parents is a file"),
        ("unwritable", "cannot write files in this folder"),
    ],
)
def test_train_checks_its_output_folder_before_training(tmp_path, capsys, where, message) -> None:
    (tmp_path / "file").write_text("")
    out = {"a file": tmp_path / "file", "under a file": tmp_path / "file" / "sub"}.get(where)
    if out is None:
        out = tmp_path / "locked"
        out.mkdir()
        out.chmod(0o555)
        if os.access(out, os.W_OK):  # root ignores permission bits; sysfs refuses even root
            out = Path("/sys")
            if not sys.platform.startswith("linux"):
                pytest.skip("running as root outside Linux: no folder refuses us")
    for model in ("xo", "xo-toy"):
        assert main.main(["train", model, "--epochs", "1", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
        assert "epoch" not in err  # refused before the first training step
