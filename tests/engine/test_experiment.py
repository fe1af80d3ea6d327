"""Experiment logs: atomic rows under kill -9, clear errors, replay, contact sheet."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine import ExperimentError, load_model
from engine.experiments import (
    INDEX,
    RIGHT,
    WRONG,
    Recorder,
    contact_sheet,
    open_experiment,
    replay,
    save_contact_sheet,
)

ROOT = Path(__file__).resolve().parents[2]


def digit_canvas(d: int, side: int = 324) -> np.ndarray:
    """A crude drawn digit (0, 1 or 7), uint8 ink 255 on 0, like Canvas.raster()."""
    im = Image.new("L", (side, side))
    draw = ImageDraw.Draw(im)
    if d == 0:
        draw.ellipse((100, 60, 220, 260), outline=255, width=22)
    elif d == 1:
        draw.line((162, 60, 162, 260), fill=255, width=22)
    else:
        draw.line((100, 70, 220, 70, 130, 260), fill=255, width=22)
    return np.asarray(im, np.uint8).copy()


FIELDS = {
    "model": "digits",
    "weights_sha256": "0" * 64,
    "input": "centred",
    "transforms": [{"op": "rotate", "degrees": 15}],
    "probabilities": {"0": 0.25, "1": 0.75},
}


def test_rows_round_trip_with_every_field(tmp_path, digits) -> None:
    rec = Recorder(tmp_path / "lesson")  # created
    a = rec.record(digit_canvas(7), digits, label="7", transforms=[{"op": "shift", "dx": 1,
                                                                    "dy": 0}])
    b = rec.record(np.zeros((324, 324), np.uint8), digits, input="as-drawn")
    exp = open_experiment(tmp_path / "lesson")
    assert exp.skipped == [] and [r.png for r in exp.rows] == [a.png, b.png]
    r = exp.rows[0]
    assert r.model == "digits" and r.weights_sha256 == digits.weights_sha256
    assert r.input == "centred" and r.label == "7"
    assert r.transforms == [{"op": "shift", "dx": 1, "dy": 0}]
    assert set(r.probabilities) == set(digits.classes) and r.prediction == "7"
    assert r.confidence == pytest.approx(max(r.probabilities.values()))
    assert r.time.endswith("+00:00")
    np.testing.assert_array_equal(exp.image(r), digit_canvas(7))
    assert exp.rows[1].prediction is None and exp.rows[1].probabilities is None
    assert exp.rows[1].input == "as-drawn"


CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from engine.experiments.records import Recorder
    rec = Recorder(sys.argv[1])
    rng = np.random.default_rng(int(sys.argv[2]))
    fields = json.loads(sys.argv[3])
    i = len(rec)
    while True:
        # Noise: a big, slow PNG, so kills often land mid-write.
        raster = (rng.random((324, 324)) > 0.5).astype(np.uint8) * 255
        row = rec.append(raster, label=str(i), **fields)
        print(row.png, flush=True)
        i += 1
    """
)


def test_kill_9_mid_recording_loses_at_most_the_row_being_written(tmp_path) -> None:
    folder = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = np.random.default_rng(0)
    reported: list[str] = []
    for k in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(folder), str(k), json.dumps(FIELDS)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )
        reported.append(child.stdout.readline().strip())  # recording for sure now
        time.sleep(float(rng.uniform(0.0, 0.4)))
        child.send_signal(signal.SIGKILL)
        child.wait()
        reported += [line.strip() for line in child.stdout if line.strip()]
        child.stdout.close()
        exp = open_experiment(folder)
        assert exp.skipped == []  # no torn row, ever
        loaded = [r.png for r in exp.rows]
        # Every row reported committed loads; at most one more (committed, not yet
        # reported) per kill.
        assert loaded[: len(reported)] == reported
        assert len(loaded) - len(reported) <= 1
        reported = loaded
        assert [r.label for r in exp.rows] == [str(i) for i in range(len(loaded))]
        for r in exp.rows:
            assert exp.image(r).shape == (324, 324)
    assert len(reported) >= 8


FULL_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    import numpy as np
    from engine.experiments.records import ExperimentError, Recorder
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not kills
    rec = Recorder(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # a disk that fills up
    raster = np.zeros((324, 324), np.uint8)
    raster[100:200, 150:170] = 255
    n = 0
    try:
        while True:
            rec.append(raster, **json.loads(sys.argv[2]))
            n += 1
    except ExperimentError as exc:
        print(json.dumps({"rows": n, "error": str(exc)}))
    """
)


def test_a_full_disk_stops_with_a_clear_error_and_keeps_the_rows_so_far(tmp_path) -> None:
    folder = tmp_path / "full"
    out = subprocess.run(
        [sys.executable, "-c", FULL_CHILD, str(folder), json.dumps(FIELDS)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=True,
    )
    result = json.loads(out.stdout)
    assert result["rows"] > 3
    assert "is full: free some space or choose another folder" in result["error"]
    exp = open_experiment(folder)
    assert exp.skipped == [] and len(exp.rows) == result["rows"]
    assert not list(folder.glob(".*.tmp"))


def test_a_removed_folder_mid_recording_is_a_clear_error(tmp_path) -> None:
    rec = Recorder(tmp_path / "usb")
    rec.append(digit_canvas(1), **FIELDS)
    shutil.rmtree(tmp_path / "usb")
    with pytest.raises(ExperimentError, match="is gone \\(was its drive removed\\?\\)"):
        rec.append(digit_canvas(1), **FIELDS)


def _read_only(folder: Path, on: bool) -> bool:
    """Make ``folder`` read-only even for root (whom permission bits do not stop)."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555 if on else 0o755)
        return True
    flag = "+i" if on else "-i"  # immutable: refused to root too (needs chattr, ext4 …)
    return subprocess.run(["chattr", flag, str(folder)], capture_output=True).returncode == 0


def test_a_read_only_folder_is_refused_at_once(tmp_path) -> None:
    folder = tmp_path / "ro"
    Recorder(folder).append(digit_canvas(1), **FIELDS)
    if not _read_only(folder, True):
        pytest.skip("cannot make a folder read-only for root here (no chattr)")
    try:
        with pytest.raises(ExperimentError, match="is read-only: choose a folder you can write"):
            Recorder(folder)
    finally:
        _read_only(folder, False)
    assert len(open_experiment(folder).rows) == 1


def test_missing_or_wrong_folders_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ExperimentError, match="no such folder"):
        Recorder(tmp_path / "nope", create=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExperimentError, match="is a file, not a folder"):
        Recorder(tmp_path / "file")
    with pytest.raises(ExperimentError, match="no such folder"):
        open_experiment(tmp_path / "nope")
    with pytest.raises(ExperimentError, match="not an experiment folder"):
        open_experiment(tmp_path)


def test_replay_skips_damaged_rows_and_missing_drawings_saying_which(tmp_path, digits) -> None:
    rec = Recorder(tmp_path)
    good = [rec.record(digit_canvas(d), digits, label=str(d)) for d in (0, 1, 7)]
    lines = (tmp_path / INDEX).read_text().splitlines()
    gone = json.loads(lines[1])["png"]
    (tmp_path / gone).unlink()
    (tmp_path / good[2].png).write_bytes(b"not a png")
    lines[1:1] = ['{"time": "2026-11-28T10:00:00', json.dumps({"model": "digits"})]
    (tmp_path / INDEX).write_text("\n".join(lines) + "\n")
    exp = open_experiment(tmp_path)
    assert exp.skipped == [
        "line 2: damaged (not JSON), skipped",
        "line 3: damaged (no 'time', 'weights_sha256', 'input', 'transforms', 'prediction', "
        "'probabilities', 'label', 'png'), skipped",
        f"line 4: its drawing {gone} is missing, skipped",
    ]
    done, skipped = replay(exp, digits)
    assert [r.row.png for r in done] == [good[0].png]
    assert len(skipped) == 1 and skipped[0].startswith(f"line 5: {good[2].png}: ")
    # Recording on keeps the damaged lines as they were and adds the new row after them.
    Recorder(tmp_path).record(digit_canvas(1), digits)
    assert (tmp_path / INDEX).read_text().splitlines()[1] == '{"time": "2026-11-28T10:00:00'
    assert len(open_experiment(tmp_path).rows) == 3  # the unreadable PNG still has a row


def test_replay_runs_the_drawings_through_any_model(tmp_path, digits) -> None:
    rec = Recorder(tmp_path)
    for d in (0, 1, 7):
        rec.record(digit_canvas(d), digits, label=str(d))
    exp = open_experiment(tmp_path)
    xo = load_model("xo", device="cpu")
    for model in (digits, xo):
        for mode in ("centred", "as-drawn"):
            done, skipped = replay(exp, model, input=mode)
            assert skipped == [] and len(done) == 3
            for r in done:
                want = model.predict(exp.image(r.row), invert=False, input=mode)[0]
                np.testing.assert_allclose(r.probabilities, want)
                assert r.classes == list(model.classes) and r.input == mode
    done, _ = replay(exp, digits)
    assert [r.correct for r in done] == [r.prediction == r.row.label for r in done]
    assert [r.prediction for r in done] == [r.prediction for r in exp.rows]


def test_contact_sheet_shows_every_drawing_with_its_answer_and_marks_wrong_ones(
    tmp_path, digits
) -> None:
    rec = Recorder(tmp_path)
    rec.record(digit_canvas(0), digits, label="0")
    rec.record(digit_canvas(1), digits, label="5")  # labelled wrongly on purpose
    rec.record(digit_canvas(7), digits)  # no label
    done, _ = replay(open_experiment(tmp_path), digits)
    sheet = contact_sheet(done, columns=2, cell=160)
    p = [r.prediction for r in done]
    c = [r.confidence for r in done]
    assert p[0] == "0" and p[1] != "5"
    assert sheet.captions == [
        f"0 {c[0]:.0%}",
        f"{p[1]} {c[1]:.0%} wrong (label 5)",
        f"{p[2]} {c[2]:.0%}",
    ]
    assert sheet.verdicts == [True, False, None]
    assert sheet.image.size == (320, 2 * (160 + sheet.caption_height))
    px = np.asarray(sheet.image)
    for i, colour in ((0, RIGHT), (1, WRONG)):
        left, top, right, _ = sheet.cell_box(i)
        frame = px[top + 6, left + 20 : right - 20]  # the frame's top edge
        assert (frame == colour).all(axis=1).mean() > 0.9
        inside = px[top + 20 : top + 140, left + 20 : right - 20]
        assert (inside.max(axis=2) < 100).sum() > 200  # dark ink drawn on the white cell
    left, top, right, bottom = sheet.cell_box(1)
    caption = px[top + 160 : bottom, left:right]
    assert (np.abs(caption.astype(int) - WRONG).sum(axis=2) < 60).sum() > 20  # red text
    left, top, right, bottom = sheet.cell_box(0)
    caption = px[top + 160 : bottom, left:right]
    assert (caption.max(axis=2) < 80).sum() > 20  # black text
    assert (px[sheet.cell_box(3)[1] + 10 :, 170:] == 255).all()  # the empty fourth cell
    out = save_contact_sheet(sheet, tmp_path / "sheet.png")
    assert Image.open(out).size == sheet.image.size
