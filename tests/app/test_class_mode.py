"""Class mode in the window (issue #23): open and close, the wall, the prompt and its
sorting, the stage's class step, Collect for Teach, and ``convpad --class``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

import app
from app.classmode.sorting import FOOLED, MATCHED, MISSED, Prompt, Summary, parse_prompt, sort

ROOT = Path(__file__).resolve().parents[2]
LOAD_MS = 60_000
SEVEN = [[[75, 66], [225, 66], [135, 246]]]  # a 7 on a 300×300 canvas
ONE = [[[150, 40], [150, 260]]]


def post(url: str, strokes, name: str = "Ana") -> dict:
    body = json.dumps({"name": name, "width": 300, "height": 300, "strokes": strokes})
    req = urllib.request.Request(url.replace("/?k=", "/api/drawings?k="), data=body.encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as reply:
        return json.loads(reply.read())


@pytest.fixture
def window(qtbot, tmp_path):
    w = app.create_main_window(model="digits")
    qtbot.addWidget(w)
    w.setFixedSize(1280, 720)
    w.show()
    qtbot.waitUntil(lambda: w.model is not None and w.model.name == "digits", timeout=LOAD_MS)
    w.classmode.folder = tmp_path / "class"
    yield w
    w.classmode.close()


def test_the_menu_opens_the_class_with_its_code_and_closes_it_at_once(qtbot, window):
    cm = window.classmode
    window.findChild(type(cm.act_open), "act_class_open").trigger()
    assert cm.is_open
    url = cm.server.url
    assert re.fullmatch(r"http://[0-9.]+:\d+/\?k=[A-Za-z0-9_-]{22,}", url)
    assert cm.wall.url.text().replace("\n", "") == url and not cm.wall.qr.pixmap().isNull()
    window.set_presentation(True)  # the stage follows the live model while it shows
    assert [s.short for s in window.stage.stages][-1] == "class"
    with urllib.request.urlopen(url.replace(re.search(r"//([^:]+)", url)[1], "127.0.0.1"),
                                timeout=10) as page:
        assert page.status == 200 and b'id="pad"' in page.read()
    cm.act_close.trigger()
    assert not cm.is_open and "closed" in cm.wall.url.text()
    assert "class" not in [s.short for s in window.stage.stages]
    window.set_presentation(False)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)


def test_a_drawing_goes_on_the_wall_and_a_click_puts_it_on_the_canvas(qtbot, window):
    cm = window.classmode
    url = cm.open(host="127.0.0.1")
    reply = post(url, SEVEN, name="<b>Ana</b>")
    assert reply["class"] == "7"
    qtbot.waitUntil(lambda: cm.wall.list.count() == 1, timeout=10_000)
    item = cm.wall.list.item(0)
    assert item.text().startswith("<b>Ana</b>\n7 ")  # the name as typed, shown as text
    rect = cm.wall.list.visualItemRect(item)
    qtbot.mouseClick(cm.wall.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    np.testing.assert_array_equal(window.canvas.raster(), cm.entries[0].drawing.raster)
    window.run_network_now()
    assert window.trace.prediction == "7"  # every view shows the student's drawing
    window.canvas.undo()  # and it is one undoable step
    assert not window.canvas.raster().any()


def test_asking_sorts_what_comes_in_and_sums_it_up(qtbot, window):
    cm = window.classmode
    url = cm.open(host="127.0.0.1")
    cm.wall.prompt.setText("draw a 7")
    qtbot.keyClick(cm.wall.prompt, Qt.Key.Key_Return)
    assert cm.prompt == Prompt("draw a 7", "7", False, None)
    assert cm.server.prompt == "draw a 7"
    post(url, SEVEN, "Ana")
    post(url, ONE, "Ben")
    qtbot.waitUntil(lambda: len(cm.entries) == 2, timeout=10_000)
    by_name = {e.drawing.name: e for e in cm.entries}
    assert by_name["Ana"].status == MATCHED
    assert by_name["Ben"].status == MISSED and by_name["Ben"].drawing.answer.label == "1"
    assert cm.wall.summary.text().startswith("2 drawings: 1 matched, 1 missed")
    assert "read as asked: 7 1/2" in cm.wall.summary.text()
    table = cm.wall.table
    assert table.isVisibleTo(cm.wall) and table.rowCount() == 1
    heads = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert heads == ["said 1", "said 7"]
    assert [table.item(0, c).text() for c in range(2)] == ["1", "1"]
    # the stage's class step shows the drawings with their answers, and the prompt
    window.set_presentation(True)
    stage = window.stage
    stage.go(len(stage.stages) - 1)
    stage.view.grab()
    texts = {s.label: s.text for s in stage.shown_texts() if s.label}
    assert texts["prompt"] == "asked: draw a 7"
    assert texts["summary"].startswith("2 drawings")
    assert texts["wall[0].name"] == "Ben" and texts["wall[0].answer"].startswith("1")
    assert any(p.label == "qr" for p in stage.painted())
    window.set_presentation(False)


def test_collect_for_teach_labels_drawings_with_the_asked_class(qtbot, window, tmp_path):
    cm = window.classmode
    url = cm.open(host="127.0.0.1")
    teach = window.teach
    assert teach.new_set("class-sevens", ("7", "other"))
    cm.ask(Prompt("draw a 7", "7"))
    for name in ("Ana", "Ben", "Cleo"):
        post(url, SEVEN, name)
    qtbot.waitUntil(lambda: len(cm.entries) == 3, timeout=10_000)
    before = teach.dataset.counts()["7"]
    cm.act_collect.trigger()
    assert teach.dataset.counts()["7"] == before + 3
    assert "Added 3 drawings to Teach" in window.notice.text()


def test_prompts_are_read_for_the_class_they_ask_for() -> None:
    digits = [str(d) for d in range(10)]
    assert parse_prompt("draw a 7", digits) == Prompt("draw a 7", "7", False, None)
    assert parse_prompt("fool it: a 3 it reads as an 8", digits) == Prompt(
        "fool it: a 3 it reads as an 8", "3", True, "8")
    assert parse_prompt("Draw an X!", ["X", "O"]).asked == "X"
    assert parse_prompt("draw your name", digits).asked is None
    fool = Prompt("fool it", "3", True, "8")
    assert sort("3", fool) == MATCHED and sort("8", fool) == FOOLED and sort("5", fool) == MISSED
    assert sort("5", Prompt("fool it", "3", True)) == FOOLED
    assert sort("7", None) == "" and sort("7", Prompt("draw")) == ""
    s = Summary([("7", "7", MATCHED), ("7", "1", MISSED), ("3", "8", FOOLED)])
    assert s.line() == "3 drawings: 1 matched, 1 missed, 1 fooled it"
    assert s.right_per_class() == {"3": (0, 1), "7": (1, 2)}
    assert s.confusion() == (["3", "7"], ["1", "7", "8"], [[0, 0, 1], [1, 1, 0]])


def test_convpad_class_prints_one_line_with_its_address(tmp_path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "c"),
               XDG_DATA_HOME=str(tmp_path / "d"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--class", "--host",
                             "127.0.0.1", "--model", "digits"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.fullmatch(r"class: (http://127\.0\.0\.1:(\d+)/\?k=([A-Za-z0-9_-]+))\n", line)
        assert m, line
        assert len(m[3]) * 6 >= 128  # at least 128 random bits, URL-safe
        with urllib.request.urlopen(m[1], timeout=10) as page:
            assert page.status == 200
        bad = m[1].replace(m[3], "x" * len(m[3]))
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad, timeout=10)
        assert refused.value.code == 403
        deadline = time.time() + 60
        while time.time() < deadline:  # the app answers with its live model once loaded
            try:
                reply = post(m[1], SEVEN)
                break
            except urllib.error.HTTPError:
                time.sleep(0.5)
        assert reply["class"] == "7"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert out == ""  # nothing but the one line on standard output


def test_the_wall_takes_drawings_in_the_pens_gaps_and_waits_at_most_a_moment(
        qtbot, window, monkeypatch):
    """While the teacher draws, the wall's updates wait for a gap between the pen's
    moves (issue #24's ink first, for the class's drawings too), and never longer than
    PEN_WAIT_MS; with the pen up they go on at once."""
    from datetime import UTC, datetime

    from app.class_server.protocol import Answer
    from app.class_server.store import Drawing
    from app.classmode import PEN_WAIT_MS

    cm = window.classmode
    pen = {"down": True, "gap": 2.0}  # a move due in 2 ms: no room for a wall slice
    monkeypatch.setattr(window, "pen_down", lambda: pen["down"])
    monkeypatch.setattr(window.canvas, "pen_gap_ms", lambda: pen["gap"])

    def drawing(n: int) -> Drawing:
        raster = np.zeros((324, 324), np.uint8)
        raster[100:200, 150:170] = 255
        return Drawing(id=f"{n}", name=f"student {n}", raster=raster,
                       answer=Answer("1", {"1": 1.0}), prompt=None,
                       received=datetime.now(UTC), png_path=Path(f"{n}.png"))

    cm._arrived(drawing(1))
    qtbot.wait(PEN_WAIT_MS // 3)
    assert cm.entries == []  # the pen's next move is always due: the wall waits
    pen["gap"] = 20.0  # a gap: the wall takes it
    qtbot.waitUntil(lambda: len(cm.entries) == 1, timeout=PEN_WAIT_MS)

    pen["gap"] = 2.0  # a pen that never leaves a gap holds the wall up a moment only
    start = time.perf_counter()
    cm._arrived(drawing(2))
    qtbot.waitUntil(lambda: len(cm.entries) == 2, timeout=5 * PEN_WAIT_MS)
    assert time.perf_counter() - start >= 0.9 * PEN_WAIT_MS / 1000

    pen["down"] = False  # pen up: at once
    cm._arrived(drawing(3))
    qtbot.waitUntil(lambda: len(cm.entries) == 3, timeout=PEN_WAIT_MS // 2)
    assert [e.drawing.name for e in cm.entries] == ["student 1", "student 2", "student 3"]


def test_the_wall_keeps_every_answer_in_view_in_cells_of_one_size(qtbot):
    """Every cell of the wall is one size (a new drawing does not make the list lay out
    all the others again), and a long name is elided to one line so the answer and the
    status below it stay in the cell."""
    from app.classmode.wall import WallPanel

    wall = WallPanel()
    qtbot.addWidget(wall)
    wall.resize(420, 700)
    wall.show()
    raster = np.zeros((324, 324), np.uint8)
    raster[60:260, 150:170] = 255
    long_name = "Bartholomew-Christopher Featherstonehaugh"
    wall.add(0, raster, long_name, "7", 0.93, "fooled it")
    wall.add(1, raster, "Ana", "1", 0.5, "")
    assert wall.list.uniformItemSizes()
    items = [wall.list.item(i) for i in range(2)]
    assert items[0].sizeHint() == items[1].sizeHint()
    fm = wall.list.fontMetrics()
    name, answer, status = items[1].text().split("\n")  # the newest is on top
    assert name.endswith("…") and long_name.startswith(name[:-1])
    assert answer.startswith("7 ") and status == "fooled it"
    assert fm.horizontalAdvance(name) <= items[1].sizeHint().width()
    assert 3 * fm.lineSpacing() <= items[1].sizeHint().height() - 96  # three lines fit
    assert long_name in items[1].toolTip()
    # A name that looks like markup is shown as typed, in the cell and in its tooltip
    # (Qt renders a tooltip that looks like markup: "<img src=…>" loaded a file).
    from PySide6.QtGui import QTextDocument

    wall.add(2, raster, '<img src="x.png">', "1", 0.5, "")
    doc = QTextDocument()
    doc.setHtml(wall.list.item(0).toolTip())
    assert doc.toPlainText().startswith('<img src="x.png">: the network says 1')
    assert wall.list.item(0).text().startswith('<img src="x.png">'[:10])
