"""What becomes of a class-mode drawing the protocol accepted: its strokes painted into a
canvas raster, the model's answer made plain, the drawing saved whole and read back
(damaged ones skipped by name), and none lost that a student saw answered when the app
is killed mid-class."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from app.class_server import Answer, Drawing, answer_from, classifier, load
from app.class_server.protocol import DrawingRequest, check_answer
from app.class_server.store import save
from app.class_server.strokes import render

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 12, 3, 10, 15, tzinfo=UTC)


def test_strokes_are_scaled_centred_and_clipped() -> None:
    pen = 22 / 324
    dot = render([np.array([[300.0, 150.0]])], 600, 300, pen)  # the centre of a wide canvas
    ys, xs = np.nonzero(dot > 127)
    assert abs(xs.mean() - 161.5) < 1 and abs(ys.mean() - 161.5) < 1
    assert 18 <= xs.max() - xs.min() + 1 <= 24  # a dot the pen's width across
    edge = render([np.array([[0.0, 0.0], [-300.0, -300.0]])], 300, 300, pen)
    assert edge[0, 0] == 255 and edge[20:, 20:].max() == 0  # the corner, the rest clipped


def test_classifier_makes_answers_from_a_model() -> None:
    class Model:
        classes = ("X", "O")

        def predict(self, imgs, invert=False, input="centred"):
            assert imgs.shape == (2, 324, 324) and invert is False
            return np.array([[0.2, 0.8], [np.nan, np.nan]])

    rasters = [np.zeros((324, 324), np.uint8)] * 2
    answers = classifier(Model())(rasters)
    assert answers == [Answer("O", {"X": 0.2, "O": 0.8}), Answer("", {})]
    assert classifier(lambda: Model())(rasters) == answers
    # numpy's numbers are made plain for JSON; NaN means no ink; nonsense is a bug.
    plain = check_answer(Answer(np.str_("O"), {"X": np.float32(0.25), "O": np.float32(0.75)}))
    assert plain == Answer("O", {"X": 0.25, "O": 0.75}) and type(plain.probabilities["X"]) is float
    assert check_answer(Answer("", {"X": float("nan")})) is None
    for bad in (Answer("Z", {"X": 1.0}), Answer("X", {"X": 0.5}), Answer("X", {"X": "1"}), 7):
        with pytest.raises(ValueError):
            check_answer(bad)
    assert answer_from(np.array([1.0, 0.0]), ["a", "b"]).label == "a"


def drawing(folder: Path, i: int, name: str = "Ana") -> Drawing:
    raster = np.zeros((324, 324), np.uint8)
    raster[100:200, 150 + i % 10] = 255
    return Drawing(id=f"{i:04d}-abcdef", name=name, raster=raster,
                   answer=Answer("7", {"7": 0.75, "1": 0.25}), prompt="draw a 7",
                   received=T0 + timedelta(seconds=i), png_path=folder / f"{i:04d}-abcdef.png")


def test_saved_drawings_read_back_the_same(tmp_path) -> None:
    request = DrawingRequest("Ana", 300, 300, [np.array([[1.5, 2.25], [3, 4]])])
    saved = [drawing(tmp_path, i, name="Zoë <b>") for i in (2, 0, 1)]
    for d in saved:
        save(d, request)
    loaded, skipped = load(tmp_path)
    assert skipped == []
    assert [d.id for d in loaded] == ["0000-abcdef", "0001-abcdef", "0002-abcdef"]  # by time
    for d in loaded:
        (original,) = [s for s in saved if s.id == d.id]
        assert np.array_equal(d.raster, original.raster)
        assert (d.name, d.answer, d.prompt, d.received, d.png_path) == \
            (original.name, original.answer, original.prompt, original.received,
             original.png_path)
    record = json.loads((tmp_path / "0000-abcdef.json").read_text())
    assert record["strokes"] == [[[1.5, 2.25], [3.0, 4.0]]] and record["canvas"] == [300, 300]


def test_damaged_files_are_skipped_with_a_reason(tmp_path) -> None:
    for i in range(6):
        save(drawing(tmp_path, i))
    cut = tmp_path / "0001-abcdef.json"
    cut.write_bytes(cut.read_bytes()[:40])  # cut short
    (tmp_path / "0002-abcdef.png").write_bytes(b"\x89PNG changed")  # the picture changed
    (tmp_path / "0003-abcdef.png").unlink()  # the picture gone
    (tmp_path / "0004-abcdef.json").unlink()  # killed between the PNG and its record
    (tmp_path / "notes.json").write_text('{"format": "something else"}')
    (tmp_path / ".0005-abcdef.json.1234abcd.tmp").write_text("{")  # a killed writer's temp
    loaded, skipped = load(tmp_path)
    assert [d.id for d in loaded] == ["0000-abcdef", "0005-abcdef"]
    reasons = "\n".join(skipped)
    assert len(skipped) == 5, reasons
    assert "0001-abcdef.json: is not JSON" in reasons
    assert "0002-abcdef.json: its picture 0002-abcdef.png does not match" in reasons
    assert "0003-abcdef.json: its picture 0003-abcdef.png cannot be read" in reasons
    assert "0004-abcdef.png: no record" in reasons
    assert "notes.json: is not a ConvPad class drawing" in reasons
    assert all(r.endswith("; skipped") for r in skipped)


def test_a_missing_folder_holds_no_drawings(tmp_path) -> None:
    assert load(tmp_path / "nowhere") == ([], [])


CHILD = textwrap.dedent(
    """
    import sys, threading
    from app.class_server import Answer, ClassServer

    def classify(rasters):
        return [Answer("7", {"7": 0.875, "1": 0.125}) for _ in rasters]

    server = ClassServer(classify, sys.argv[1], host="127.0.0.1", rate_limit=(10**6, 10.0))
    print(server.start(), flush=True)
    threading.Event().wait()
    """
)


def test_killing_the_app_loses_no_answered_drawing(tmp_path) -> None:
    store = tmp_path / "class"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(store)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        parts = urlsplit(child.stdout.readline().strip())
        path = f"/api/drawings?{parts.query}"
        answered: list[str] = []
        enough = threading.Event()

        def phone(i: int) -> None:
            body = json.dumps({"name": f"p{i}", "width": 300, "height": 300,
                               "strokes": [[[50, 50 + i], [250, 250]]]})
            while not enough.is_set():
                try:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
                    conn.request("POST", path, body=body)
                    r = conn.getresponse()
                    reply = json.loads(r.read())
                    conn.close()
                except (OSError, http.client.HTTPException, ValueError):
                    return  # the app is gone
                assert r.status == 200, reply
                answered.append(reply["id"])
                if len(answered) >= 60:
                    enough.set()

        phones = [threading.Thread(target=phone, args=(i,)) for i in range(8)]
        for t in phones:
            t.start()
        enough.wait(30)
        child.kill()  # SIGKILL (TerminateProcess on Windows) while drawings are in flight
        child.wait(10)
        for t in phones:
            t.join(10)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert len(answered) >= 60
    loaded, skipped = load(store)
    kept = {d.id: d for d in loaded}
    assert set(answered) <= set(kept), "an answered drawing was lost"
    assert all(d.answer.label == "7" and d.raster.max() == 255 for d in kept.values())
    # At most drawings caught between their PNG and their record, never a torn file.
    assert all("no record" in s for s in skipped), skipped
