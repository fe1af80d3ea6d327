"""Teach it yourself, in the window: draw samples, train, watch, scrub, cancel, restart.

The Teach panel is installed into a real window through ``app.teach.install`` (the way
the app does it) with a temporary user data folder. Samples go in with the real key
(A) and real mouse strokes on the canvas; assertions are on what the panel shows and
on the signals it gives the live view. Training runs in the panel's worker thread, as
for a user: tests wait for its signals, never for a fixed time.
"""

from __future__ import annotations

import numpy as np
import pytest
from pen import stroke
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

import app
import app.teach
import engine
from app.teach import TeachPanel
from engine.training.custom import example_drawings

TRAIN_MS = 60_000  # a ceiling only: a few epochs take seconds


@pytest.fixture
def teach(qtbot, tmp_path):
    window = app.create_main_window(model="xo")
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    panel = window.teach  # the window installs it, in the user data folder (a tmp one here)
    panel.ask_stop = lambda: True  # no modal question when the test closes the window
    yield window, panel
    panel.shutdown()


def fill(panel, per_class: int = 4, seed: int = 1) -> None:
    """Put generated drawings straight into the data set (what many key presses do)."""
    images, labels, classes = example_drawings(per_class, seed, panel.dataset.classes)
    for im, y in zip(images, labels):
        panel.dataset.add(classes[y], im)
    panel.open_set(panel.dataset.name)


def test_draw_train_watch_scrub_and_reload(qtbot, teach, tmp_path) -> None:
    window, panel = teach
    assert panel.dataset.classes == ["X", "O"]  # a first session starts with a set
    assert panel.add_class("4") and panel.add_class("7")
    images, labels, classes = example_drawings(4, seed=5)
    for im, y in zip(images, labels):
        panel.select_class(classes[y])
        window.canvas.set_ink(im)
        window.canvas.setFocus()
        qtbot.keyClick(window.canvas, Qt.Key.Key_A)  # the one key that adds the canvas
        assert window.canvas.is_empty()  # cleared for the next drawing
    panel.select_class("X")
    stroke(qtbot, window.canvas, [(0.2, 0.2), (0.5, 0.5), (0.8, 0.8)])
    stroke(qtbot, window.canvas, [(0.8, 0.2), (0.5, 0.5), (0.2, 0.8)])
    qtbot.keyClick(window.canvas, Qt.Key.Key_A)
    assert panel.dataset.counts() == {"X": 5, "O": 4, "4": 4, "7": 4}
    assert panel.class_list.item(0).text() == "X   (5 drawings)"
    qtbot.keyClick(window.canvas, Qt.Key.Key_A)  # a blank canvas is not a drawing
    assert "Draw something first" in panel.status.text()
    assert panel.dataset.counts()["X"] == 5

    # The gallery: enlarge one, move one to another class, delete one.
    assert panel.gallery.count() == 5
    panel.gallery.setCurrentRow(0)
    view = panel.gallery.enlarge()
    assert view is not None and view.isVisible()
    view.close()
    panel.gallery.setCurrentRow(4)
    assert panel.gallery.move_selected("O") == 1
    panel.gallery.setCurrentRow(0)
    assert panel.gallery.delete_selected() == 1
    assert panel.dataset.counts() == {"X": 3, "O": 5, "4": 4, "7": 4}
    assert panel.gallery.count() == 3

    # Train three epochs; the curves and conv1 fill in as they come.
    panel.epochs_box.setValue(3)
    with qtbot.waitSignal(panel.model_ready, timeout=TRAIN_MS) as ready:
        panel.train_button.click()
        assert panel.training and not panel.train_button.isEnabled()
    model = ready.args[0]
    assert not panel.training and panel.progress.format() == "done"
    assert len(panel.curves.values("loss", "train")) == 4  # epochs 0…3
    assert len(panel.curves.values("accuracy", "held_out")) == 4
    assert panel.first_layer.filters.shown is not None and panel.first_layer.maps.shown is not None
    assert model.classes == ["X", "O", "4", "7"]
    assert engine.load_model(model.name, device="cpu").classes == model.classes

    # Scrub back to the random start: the live view gets that epoch's weights.
    assert panel.scrub.isEnabled() and panel.scrub.maximum() == 3
    with qtbot.waitSignal(panel.checkpoint_chosen) as chosen:
        panel.scrub.setValue(0)
    start = chosen.args[0]
    np.testing.assert_array_equal(start.module.conv1.weight.detach().numpy(),
                                  panel.epochs[0].filters)
    assert not np.array_equal(panel.epochs[0].filters, panel.epochs[3].filters)

    # On the classroom stage, the clicker's PageDown steps through the epochs.
    window.findChild(QDockWidget, "teach_dock").show()
    window.set_presentation(True)
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_PageDown)
    assert panel.scrub.value() == 1 and window.live.model.module is not start.module
    qtbot.keyClick(window.canvas, Qt.Key.Key_PageUp)
    assert panel.scrub.value() == 0
    window.set_presentation(False)
    assert panel.scrub_label.text().startswith("epoch 0:")

    # Next session: a new panel on the same folder finds the drawings and the model.
    again = TeachPanel(panel.folder, window.canvas)
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.model_found) as found:
        pass
    assert found.args == [model.name, "my X/O/4/7"]
    assert again.dataset.counts() == {"X": 3, "O": 5, "4": 4, "7": 4}
    assert len(again.curves.values("loss", "held_out")) == 4


def test_cancel_stops_within_two_seconds_and_keeps_the_best_epoch(qtbot, teach) -> None:
    window, panel = teach
    fill(panel, per_class=4)
    panel.epochs_box.setValue(200)
    with qtbot.waitSignal(panel.model_ready, timeout=TRAIN_MS) as ready:
        panel.train()
        qtbot.waitUntil(lambda: len(panel.epochs) >= 2, timeout=TRAIN_MS)
        panel.cancel_button.click()
        qtbot.waitUntil(lambda: not panel.training, timeout=2000)
    assert "Stopped at epoch" in window.notice.text()
    assert ready.args[0].card["epochs"] < 200
    assert engine.load_model(ready.args[0].name, device="cpu") is not None


def test_closing_mid_training_asks_then_stops_cleanly(qtbot, teach) -> None:
    window, panel = teach
    fill(panel, per_class=3)
    panel.epochs_box.setValue(200)
    panel.train()
    qtbot.waitUntil(lambda: len(panel.epochs) >= 1, timeout=TRAIN_MS)
    panel.ask_stop = lambda: False
    window.close()
    assert window.isVisible() and panel.training  # "no": nothing stops
    panel.ask_stop = lambda: True
    window.close()
    assert not window.isVisible()
    assert not panel.training  # the thread has ended, not merely been asked to
    assert (panel.model_folder / "model.json").is_file()  # the best epoch was kept


def test_bad_input_reaches_the_user_as_a_sentence(qtbot, teach, tmp_path) -> None:
    window, panel = teach
    panel.dataset.add("X", example_drawings(1, 0)[0][0])
    panel.dataset.add("X", example_drawings(1, 1)[0][0])
    panel.dataset.add("O", example_drawings(1, 2)[0][1])
    panel.open_set(panel.dataset.name)
    with qtbot.waitSignal(panel.worker.failed, timeout=TRAIN_MS):
        panel.train()
    assert "class 'O' has 1" in window.notice.text() and not panel.training

    # A class folder that cannot be written: a notice, and nothing saved is lost.
    kept = panel.dataset.samples("O")
    (panel.dataset.path / "X").rename(panel.dataset.path / "X-moved")
    (panel.dataset.path / "X").write_text("not a folder")
    panel.select_class("X")
    window.canvas.set_grid(engine.PRESETS["X (lecture)"])
    assert not panel.add_canvas()
    assert window.notice.text().startswith("The drawing was not saved — cannot write")
    assert panel.dataset.samples("O") == kept and not window.canvas.is_empty()

    # An import folder with a file that is not an image: the rest imports.
    src = tmp_path / "import" / "O"
    src.mkdir(parents=True)
    from PIL import Image

    Image.fromarray(np.kron(np.eye(3, dtype=np.uint8) * 255, np.ones((20, 20), np.uint8))
                    ).save(src / "diag.png")
    (src / "notes.txt").write_text("hello")
    panel.import_folder(tmp_path / "import")
    assert window.notice.text().startswith("Imported 1 drawing (O: 1); skipped 1:")
    assert "notes.txt: not an image" in window.notice.text()
    assert len(panel.dataset.samples("O")) == 2
