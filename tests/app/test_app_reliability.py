"""The window under the failures a classroom meets: slow loads, bad devices, broken models.

Each test drives the real window. Where a failure cannot be produced for real on this
machine (a CUDA out-of-memory on the first trace, a load that takes ten seconds), the
test wraps ``engine.load_model`` — the one seam the window loads through — so the
model that reaches the window misbehaves exactly that way.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import app
import engine
from engine import PRESETS, list_models

LOAD_MS = 60_000


def make_window(qtbot, model: str = "xo-toy", device: str = "auto"):
    window = app.create_main_window(model=model, device=device)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def wait_live(qtbot, window, name: str) -> None:
    qtbot.waitUntil(lambda: window.model is not None and window.model.name == name,
                    timeout=LOAD_MS)


class _BrokenTrace:
    """A loaded model whose every trace fails, as a GPU out of memory would."""

    def __init__(self, model) -> None:
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def trace(self, x):
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB")


def test_a_model_that_fails_its_first_trace_never_becomes_live(qtbot, monkeypatch):
    window = make_window(qtbot, "xo-toy")
    wait_live(qtbot, window, "xo-toy")
    window.load_preset("X (lecture)")
    qtbot.waitUntil(lambda: window.prediction.text().startswith("X"))
    real = engine.load_model

    def load(name, device="auto", weights=None, classes=None):
        m = real(name, device=device, weights=weights, classes=classes)
        return _BrokenTrace(m) if name == "digits" else m

    monkeypatch.setattr(engine, "load_model", load)
    window.model_picker.setCurrentIndex(list_models().index("digits"))
    qtbot.waitUntil(lambda: "out of memory" in window.notice.text(), timeout=LOAD_MS)
    assert window.model.name == "xo-toy"
    assert window.model_picker.currentData() == "xo-toy"
    window.load_preset("O")  # the previous model is still live and answering
    qtbot.waitUntil(lambda: window.prediction.text().startswith("O"))


@pytest.mark.parametrize("device", ["cuda:99", "mps-typo", "gpu"])
def test_an_unavailable_device_falls_back_to_the_cpu(qtbot, device):
    window = make_window(qtbot, "xo-toy", device=device)
    wait_live(qtbot, window, "xo-toy")
    assert window.model.device.type == "cpu"
    assert "not available" in window.notice.text() and device in window.notice.text()
    assert window.device_picker.findData("cpu") >= 0
    assert window.device_picker.currentData() == "cpu"
    window.load_preset("O")
    qtbot.waitUntil(lambda: window.prediction.text().startswith("O"))


def test_after_a_failed_device_switch_model_switches_still_work(qtbot):
    window = make_window(qtbot, "xo-toy", device="cpu")
    wait_live(qtbot, window, "xo-toy")
    window.load_preset("X (lecture)")
    window.notice_bar.hide()
    window.select_device("cuda:99")
    qtbot.waitUntil(lambda: window.notice_bar.isVisible(), timeout=LOAD_MS)
    assert window.model.device.type == "cpu"
    window.model_picker.setCurrentIndex(list_models().index("xo"))
    wait_live(qtbot, window, "xo")
    assert window.model.device.type == "cpu"
    qtbot.waitUntil(lambda: window.prediction.text().startswith("X"))


def _slow_loads(monkeypatch, slow: str) -> threading.Event:
    """Make loading ``slow`` wait until the returned event is set."""
    release = threading.Event()
    real = engine.load_model

    def load(name, device="auto", weights=None):
        if name == slow:
            release.wait(30)
        return real(name, device=device, weights=weights)

    monkeypatch.setattr(engine, "load_model", load)
    return release


@pytest.mark.parametrize("later_is_cached", [False, True])
def test_a_slow_load_never_replaces_a_later_choice(qtbot, monkeypatch, later_is_cached):
    window = make_window(qtbot, "xo-toy")
    wait_live(qtbot, window, "xo-toy")
    if later_is_cached:  # xo is loaded once, then picked again from the cache
        window.model_picker.setCurrentIndex(list_models().index("xo"))
        wait_live(qtbot, window, "xo")
        window.model_picker.setCurrentIndex(list_models().index("xo-toy"))
        wait_live(qtbot, window, "xo-toy")
    release = _slow_loads(monkeypatch, "digits")
    window.model_picker.setCurrentIndex(list_models().index("digits"))  # slow…
    window.model_picker.setCurrentIndex(list_models().index("xo"))  # …then the user moves on
    wait_live(qtbot, window, "xo")
    release.set()
    window.live.loader.wait(30)
    qtbot.wait(200)  # let the slow load's queued answer arrive
    assert window.model.name == "xo"
    assert window.model_picker.currentData() == "xo"
    window.load_preset("O")
    qtbot.waitUntil(lambda: window.prediction.text().startswith("O"))


def test_closing_during_a_slow_load_raises_nothing(qtbot, monkeypatch):
    errors: list[BaseException] = []
    previous = threading.excepthook
    monkeypatch.setattr(threading, "excepthook",
                        lambda args: (errors.append(args.exc_value), previous(args)))
    release = _slow_loads(monkeypatch, "digits")
    window = app.create_main_window(model="digits")
    loader = window.live.loader
    window.show()
    window.close()  # while digits is still loading
    window.deleteLater()
    qtbot.wait(50)
    release.set()
    assert loader.wait(30)
    qtbot.wait(200)
    assert errors == []


def test_an_empty_canvas_shows_no_activity_on_any_panel(qtbot):
    for name in list_models():
        window = make_window(qtbot, name)
        wait_live(qtbot, window, name)
        window.canvas.set_grid(PRESETS["X (lecture)"])
        qtbot.waitUntil(lambda w=window: w.trace is not None)
        window.canvas.clear()
        qtbot.waitUntil(lambda w=window: w.trace is None)
        qtbot.waitUntil(lambda w=window: w.deck.settled)
        for panel in window.panels():
            kind = type(panel).__name__
            values = panel.tile_values(0)
            if kind in ("MapsPanel", "VectorPanel"):
                assert values is not None and not np.isfinite(values).any(), panel.name
            elif kind == "ProbabilitiesPanel":
                assert not panel.values.any()
            elif kind == "VotesPanel":
                assert not panel.votes.any()
        window.close()
