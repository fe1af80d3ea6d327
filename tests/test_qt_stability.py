"""A long live session must not abort the interpreter.

PySide6-Essentials 6.12.0 with pyqtgraph 0.14.0 on Python 3.11 dies with "Fatal Python
error: bool_dealloc" (a reference-count bug) after some thousands of ``ImageItem``
updates or window repaints — a classroom session hits that within minutes. That is why
constraints.txt pins the PySide6 we proved. This test replays a long session's worth
of panel updates in a child process, so an abort fails the test instead of killing
pytest, and it catches a bad PySide6 coming back through an unpinned install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

UPDATES = 50_000
REPAINT_EVERY = 10  # a grab() every 10 updates: 5,000 full repaints as well

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pyqtgraph as pg
    from PySide6 import QtWidgets

    updates, repaint_every = int(sys.argv[1]), int(sys.argv[2])
    app = QtWidgets.QApplication([])
    win = pg.GraphicsLayoutWidget(size=(640, 480))
    view = win.addViewBox()
    item = pg.ImageItem()
    view.addItem(item)
    win.show()
    rng = np.random.default_rng(0)
    frames = rng.standard_normal((64, 52, 52)).astype(np.float32)
    for i in range(updates):
        item.setImage(frames[i % 64], autoLevels=False, levels=(-2.0, 2.0))
        if i % repaint_every == 0:
            win.grab()
            app.processEvents()
    print("survived", updates)
    """
)


def test_fifty_thousand_panel_updates_do_not_abort() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(UPDATES), str(REPAINT_EVERY)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0 and f"survived {UPDATES}" in proc.stdout, (
        f"the Qt process died after updates (exit {proc.returncode}); a PySide6 with the "
        f"bool_dealloc bug is installed? stderr tail:\n{proc.stderr[-2000:]}"
    )
