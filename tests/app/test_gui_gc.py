"""The GUI thread's garbage collector keeps out of the pen's way (issue #24)."""

from __future__ import annotations

import gc

import pytest

from app import gui_gc


@pytest.fixture
def collections(monkeypatch):
    """Which generations ``check`` collected, with every generation due."""
    done: list[int] = []
    monkeypatch.setattr(gui_gc.gc, "collect", lambda g=2: done.append(g) or 0)
    monkeypatch.setattr(gui_gc.gc, "get_count", lambda: (10**6, 10**6, 10**6))
    monkeypatch.setattr(gui_gc, "_waiting_since", [None])
    yield done
    gui_gc.defer_while(lambda: False)


def test_with_the_pen_up_every_due_generation_is_collected(collections) -> None:
    gui_gc.defer_while(lambda: False)
    gui_gc.check()
    assert collections == [0, 1, 2]


def test_with_the_pen_down_only_the_youngest_until_it_has_waited_too_long(
        collections, monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(gui_gc.time, "monotonic", lambda: now[0])
    gui_gc.defer_while(lambda: True)
    gui_gc.check()
    now[0] += gui_gc.MAX_DEFER_S - 0.5
    gui_gc.check()
    assert collections == [0, 0]
    now[0] += 1.0  # the pen has been down past the limit: collect anyway
    gui_gc.check()
    assert collections == [0, 0, 0, 1, 2]


def test_settle_freezes_what_lives_once(monkeypatch) -> None:
    monkeypatch.setattr(gui_gc, "_settled", [False])
    gc.unfreeze()
    try:
        gui_gc.settle()
        frozen = gc.get_freeze_count()
        assert frozen > 1000 and gui_gc.settled()
        gui_gc.settle()  # once per process
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
