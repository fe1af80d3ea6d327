"""The panels' fast ImageItem render must draw what pyqtgraph's own render draws.

``app/panels/base.py`` replaces ``ImageItem.render`` for the one case panels use
(2-D float data, a uint8 colour table, fixed levels) and sets pyqtgraph's private
``qimage``/``_renderRequired`` attributes. pyproject.toml pins the pyqtgraph range we
tested; this test catches a pyqtgraph whose own rendering (or attributes) moved away.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage

from app.look import DIVERGING_LUT
from app.panels.base import _Image


def _pixels(item: pg.ImageItem) -> np.ndarray:
    item.render()
    img = item.qimage.convertToFormat(QImage.Format.Format_ARGB32)
    h, w = img.height(), img.width()
    return np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : 4 * w]\
        .reshape(h, w, 4).copy()


def test_fast_render_matches_pyqtgraphs_own(qtbot) -> None:
    rng = np.random.default_rng(0)
    data = rng.uniform(-1.3, 1.3, (23, 31)).astype(np.float32)  # some beyond the levels
    data[3:5, 7:9] = np.nan  # mosaic gutters: transparent in both
    levels = (-1.0, 1.0)
    ours = _Image(lambda *_: None, lambda *_: None)
    theirs = pg.ImageItem()
    for item in (ours, theirs):
        item.setImage(data, autoLevels=False, levels=levels, lut=DIVERGING_LUT)
    a, b = _pixels(ours), _pixels(theirs)
    assert a.shape == b.shape
    finite = np.isfinite(data)
    # Every finite cell gets exactly pyqtgraph's colour (measured: identical).
    np.testing.assert_array_equal(a[finite][:, :3], b[finite][:, :3])
    assert (a[finite][:, 3] == 255).all() and (b[finite][:, 3] == 255).all()
    assert (a[~finite][:, 3] == 0).all() and (b[~finite][:, 3] == 0).all()
    assert not ours._renderRequired  # the private flag pyqtgraph reads before painting
