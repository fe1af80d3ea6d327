"""A long live session must not abort the interpreter.

PySide6-Essentials 6.12.0 with pyqtgraph 0.14.0 on Python 3.11 dies with "Fatal Python
error: bool_dealloc" (a reference-count bug) after some thousands of ``ImageItem``
updates or window repaints — a classroom session hits that within minutes. That is why
constraints.txt pins the PySide6 we proved. This test replays a long session's worth
of updates of a real ConvPad panel in a child process, so an abort fails the test
instead of killing pytest, and it catches a bad PySide6 coming back through an
unpinned install. (With 6.12.0 installed it fails within a second.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

UPDATES = 50_000
REPAINT_EVERY = 10  # a grab() every 10 updates: 5,000 full repaints as well

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from PySide6 import QtWidgets

    from app.panels import MapsPanel
    from engine import Layer

    updates, repaint_every = int(sys.argv[1]), int(sys.argv[2])
    app = QtWidgets.QApplication([])
    rng = np.random.default_rng(0)
    # The X/O toy's conv layer: 3 maps of 7×7, small enough to carry the lecture's
    # numbers, so the panel's mosaic ImageItem and its numbers item both repaint.
    frames = [Layer("conv", "conv", m) for m in rng.uniform(-1, 1, (64, 3, 7, 7))]
    panel = MapsPanel(frames[0])
    panel.resize(640, 480)
    panel.show()
    for i in range(updates):
        panel.show_layer(frames[i % 64])
        if i % repaint_every == 0:
            panel.grab()
            app.processEvents()
    print("survived", updates, "frames", panel.frames)
    """
)


@pytest.mark.slow
def test_fifty_thousand_panel_updates_do_not_abort() -> None:
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(root))
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(UPDATES), str(REPAINT_EVERY)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0 and f"survived {UPDATES} frames {UPDATES}" in proc.stdout, (
        f"the Qt process died after updates (exit {proc.returncode}); is a PySide6 with the "
        f"refcount bug (bool_dealloc, none_dealloc) installed? stderr tail:\n"
        f"{proc.stderr[-2000:]}"
    )
