"""Shared set-up for the tests: Qt runs offscreen.

``QT_QPA_PLATFORM=offscreen`` is set here, before anything imports Qt, so the GUI
tests run on a machine with no screen (CI, SSH) even when the caller forgot to set it.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
