"""Shared set-up for the tests: Qt runs offscreen.

``QT_QPA_PLATFORM=offscreen`` is set here, before anything imports Qt, so the GUI
tests run on a machine with no screen (CI, SSH) even when the caller forgot to set it.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="module")
def digits():
    """The shipped digits model on the CPU, one per test module."""
    from engine import load_model

    return load_model("digits", device="cpu")


@pytest.fixture(scope="module")
def toy():
    """The lecture's hand-set X/O toy on the CPU, one per test module."""
    from engine import load_model

    return load_model("xo-toy", device="cpu")


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory, monkeypatch):
    """Each test reads and writes QSettings and the user data folder (Teach's data sets
    and models) in fresh folders, never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # engine-only environments
        yield
        return
    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield
