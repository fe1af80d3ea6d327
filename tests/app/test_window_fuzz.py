"""5,000 random event sequences on the real window must not crash it.

The fuzz (``tests/app/window_fuzz.py``) runs in a child process, so a segmentation fault or
an abort fails this test instead of killing pytest. Before the window kept one page of
panels per model and collected garbage only in the GUI thread, model switches in the
middle of strokes crashed the interpreter inside ``pyqtgraph.ViewBox.__init__`` in two
runs of three.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SEQUENCES = 5000


@pytest.mark.slow
def test_five_thousand_random_sequences_do_not_crash_the_window() -> None:
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(root))
    proc = subprocess.run(
        [sys.executable, str(root / "tests" / "app" / "window_fuzz.py"),
         "--sequences", str(SEQUENCES), "--seed", "7"],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0 and f"fuzz: {SEQUENCES} sequences" in proc.stdout, (
        f"the window died or stopped answering (exit {proc.returncode}); stdout:\n"
        f"{proc.stdout[-1000:]}\nstderr tail:\n{proc.stderr[-3000:]}"
    )
