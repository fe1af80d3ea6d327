"""What every layer panel shares: a titled frame around one pyqtgraph view.

A panel renders a :class:`engine.Layer` — it never learns which model made it — into
a few long-lived graphics items that are updated in place on every frame. It tells the
window about the pointer by signals carrying values (an input window to outline, a
tile to enlarge), never by reaching into another panel.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsRectItem,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.look import ACCENT, DIVERGING_LUT
from app.notices import plain, plain_tip
from app.panels.items import FastImageItem, NumbersItem
from app.panels.mosaic import Mosaic

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

Window = tuple[tuple[int, int], tuple[int, int]]  # ((row0, row1), (col0, col1)) of the input


class _Image(FastImageItem):
    """A :class:`FastImageItem` that reports hover and click positions to its panel."""

    def __init__(self, on_hover: Callable, on_click: Callable) -> None:
        super().__init__()
        self._on_hover, self._on_click = on_hover, on_click
        self.setAcceptHoverEvents(True)

    def hoverEvent(self, ev) -> None:
        if ev.isExit():
            self._on_hover(None)
        else:
            self._on_hover(ev.pos())

    def mouseClickEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._on_click(ev.pos())


class TitleLabel(QLabel):
    """A panel title on one line: the layer's name, then what it is in plain words.

    When the panel is too narrow for both, the plain words are elided (the whole title
    stays in the tooltip); the layer's name is never cut.
    """

    def __init__(self, name: str, words: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full = f"{name}: {words}" if words else name
        self._name = name
        plain(self)  # a layer's name from a file is text
        self.setWordWrap(False)
        self.setMinimumWidth(10)
        self.setText(self.full)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._fit()

    def _fit(self) -> None:
        fm = self.fontMetrics()
        text = fm.elidedText(self.full, Qt.TextElideMode.ElideRight, max(self.width(), 1))
        if len(text) < len(self._name) + 1:
            text = self._name
        if text != self.text():
            self.setText(text)

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(10)  # never widen the panel: the title adapts to it
        return hint

    def minimumSizeHint(self):
        return self.sizeHint()


class TimedView(pg.GraphicsView):
    """A ``GraphicsView`` that knows what its last paint cost: while the pen moves, the
    deck spends a slice's budget on updating panels *and* on the paints they will need
    (``app.panels.deck``), so one repaint never holds the ink up for long."""

    paint_ms = 0.0

    def paintEvent(self, event) -> None:
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_ms = (time.perf_counter() - start) * 1000


class LayerPanel(QFrame):
    """A titled view of one layer. Subclasses fill :meth:`show_layer` and :meth:`describe`.

    ``cell_hovered`` carries the input window (rows, cols) the hovered cell sees, or
    None; ``tile_clicked`` carries the panel's name and the tile index to enlarge.
    """

    cell_hovered = Signal(object)
    tile_clicked = Signal(str, int)

    def __init__(self, name: str, words: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.name = name
        self.frames = 0  # how many layer updates this panel has drawn (tests read it)
        self.last_hover = ""  # the last hovered cell's readout (what a user would read)
        self.setAutoFillBackground(True)
        self.setFrameShape(QFrame.Shape.Box)
        self.setFrameShadow(QFrame.Shadow.Plain)
        self.title = TitleLabel(name, words)
        self.title.setObjectName("panel_title")
        # The value under the pointer, kept until the pointer leaves. A tooltip would
        # vanish after a few seconds, and the panel's help tooltip used to replace it.
        self.readout = QLabel(" ")
        self.readout.setObjectName("panel_readout")
        self.view = TimedView()
        self.view.setObjectName(f"view_{name}")
        self.view.setBackground(None)
        self.box = pg.ViewBox(lockAspect=True, enableMouse=False, invertY=True,
                              enableMenu=False, defaultPadding=0.02)
        self.view.setCentralItem(self.box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)
        self.mosaic: Mosaic | None = None
        self.image = _Image(self._hover, self._click)
        self.box.addItem(self.image)
        self.numbers = NumbersItem()
        self.box.addItem(self.numbers)
        self.marker = self.add_outline(width=3, z=20)  # the hovered cell, on its own map
        self.channel_marker = self.add_outline(width=3, z=15)  # the followed channel
        self.limit = 1e-6
        self._current: np.ndarray | None = None  # the mosaic tiles' source, (count, h, w)

    def add_outline(self, width: int, z: float) -> QGraphicsRectItem:
        """A hidden amber rectangle over the mosaic (a marked cell, channel or window)."""
        item = QGraphicsRectItem()
        pen = pg.mkPen(ACCENT, width=width)
        pen.setCosmetic(True)  # the same thickness however far the view is zoomed
        item.setPen(pen)
        item.setZValue(z)
        item.hide()
        self.box.addItem(item)
        return item

    def set_help(self, text: str) -> None:
        """What this panel shows, as the title's tooltip (never over the values)."""
        self.title.setToolTip(plain_tip(f"{self.title.full}. {text}"))

    def apply_look(self, look: dict, title_font: QFont) -> None:
        """Follow the window's look (desk or presentation); subclasses add their labels."""
        self.set_look(look["panel"], title_font)
        self.readout.setFont(title_font)

    def set_look(self, background: str, title_font: QFont) -> None:
        """Background and title type of the window's look (desk or presentation)."""
        pal = self.palette()
        pal.setColor(pal.ColorRole.Window, QColor(background))
        pal.setColor(pal.ColorRole.WindowText, QColor("#888888"))  # the frame line
        self.setPalette(pal)
        self.view.setBackground(background)
        self.title.setFont(title_font)
        text = self.title.palette()
        text.setColor(text.ColorRole.WindowText, self.parentWidget().palette().windowText().color()
                      if self.parentWidget() else QColor("#000000"))
        self.title.setPalette(text)

    # ----- what subclasses call -------------------------------------------------------
    def set_mosaic(self, mosaic: Mosaic) -> None:
        """Fix the layout (once per model) and frame the view on it."""
        self.mosaic = mosaic
        h, w = mosaic.shape
        self.box.setRange(QRectF(0, 0, w, h), padding=0.02)
        self.box.disableAutoRange()

    def draw_tiles(self, tiles: np.ndarray, levels: tuple[float, float], lut: np.ndarray,
                   fmt: str = "{:.2f}") -> None:
        """Show ``tiles`` ``(count, h, w)`` as the mosaic, with fixed ``levels``.

        Every cell's number goes to the numbers item, which writes them when they can
        be read at the size the panel is shown (see :class:`NumbersItem`).
        """
        assert self.mosaic is not None
        self._current = tiles
        img = self.mosaic.image(tiles)
        self.image.setImage(img, autoLevels=False, levels=levels, lut=lut)
        self.numbers.set_values(img, max(abs(levels[0]), abs(levels[1])), fmt)
        self.frames += 1

    def grow_limit(self, values: np.ndarray) -> float:
        """Symmetric colour level that only ever grows: stable colours, nothing clipped.

        Autolevels per frame would make a map flicker as the pen moves and would hide
        how strong a response is compared with a moment ago.
        """
        peak = max(float(values.max()), -float(values.min())) if values.size else 0.0
        if np.isfinite(peak) and peak > self.limit:
            self.limit = peak
        return self.limit

    # ----- what subclasses provide ----------------------------------------------------
    def set_difference(self, on: bool) -> None:
        """Compare's B − A is showing (``on``): a panel whose axis assumes values of one
        sign (probabilities) switches to a signed one. Maps are drawn diverging anyway."""
    def show_layer(self, layer, previous=None) -> None:
        """Draw ``layer``'s current output (``previous`` is the layer that fed it)."""
        raise NotImplementedError

    def show_empty(self, layer) -> None:
        """An empty canvas: show no activity at all (the cells go blank, no numbers).

        A network's response to nothing (biases, the toy's 0.33/-0.11 on an all-background
        grid) reads to a class as "it sees something in nothing". Panels of things that do
        not depend on the drawing (filters, the input grid) override this to stay drawn.
        """
        if self.mosaic is None:
            return
        count, h, w = self.mosaic.count, self.mosaic.height, self.mosaic.width
        self.draw_tiles(np.full((count, h, w), np.nan, np.float32), self.levels(),
                        DIVERGING_LUT)

    def describe(self, tile: int, row: int, col: int, value: float) -> str:
        """The readout for one cell."""
        return f"{self.name}: tile {tile + 1}, row {row + 1}, col {col + 1}: {value:+.3f}"

    def input_window(self, tile: int, row: int, col: int) -> Window | None:
        """The input rows/cols this cell sees (None when it has no receptive field)."""
        return None

    def tile_title(self, tile: int) -> str:
        return f"{self.name} #{tile + 1}"

    def channels(self) -> int:
        """How many channels this panel shows (0: it has none to follow)."""
        return 0

    def highlight_channel(self, channel: int | None) -> None:
        """Outline ``channel``'s tile (None: no outline). See :meth:`channel_rect`."""
        rect = None if channel is None or self.mosaic is None else self.channel_rect(channel)
        if rect is None:
            self.channel_marker.hide()
            return
        self.channel_marker.setRect(rect)
        self.channel_marker.show()

    def channel_rect(self, channel: int) -> QRectF | None:
        """The mosaic rectangle that shows ``channel`` (one tile, by default)."""
        if self.mosaic is None or not 0 <= channel < self.channels():
            return None
        x, y = self.mosaic.origin(channel)
        return QRectF(x - 0.3, y - 0.3, self.mosaic.width + 0.6, self.mosaic.height + 0.6)

    def channel_of(self, tile: int) -> int | None:
        """The channel a clicked tile belongs to (None if the panel has no channels)."""
        return tile if tile < self.channels() else None

    def show_window(self, window: Window | None) -> None:
        """Outline the input cells a hovered cell sees (only the input panel draws it)."""

    def tile_values(self, tile: int) -> np.ndarray | None:
        """The current 2-D values of one tile (for the enlarged view)."""
        if self._current is None or tile >= len(self._current):
            return None
        return np.array(self._current[tile], np.float32)

    def levels(self) -> tuple[float, float]:
        return (-self.limit, self.limit)

    # ----- pointer --------------------------------------------------------------------
    def _hover(self, pos: QPointF | None) -> None:
        hit = None if pos is None or self.mosaic is None else self.mosaic.locate(pos.x(), pos.y())
        if hit is not None and self._current is not None and not np.isfinite(
                self._current[hit[0]][hit[1], hit[2]]):
            hit = None  # an empty cell (blank canvas) has nothing to read
        if hit is None or self._current is None:
            self.marker.hide()
            self.readout.setText(" ")
            self.cell_hovered.emit(None)
            return
        tile, row, col = hit
        self.last_hover = self.describe(tile, row, col, float(self._current[tile][row, col]))
        self.readout.setText(self.last_hover)
        x, y = self.mosaic.origin(tile)
        self.marker.setRect(QRectF(x + col, y + row, 1, 1))
        self.marker.show()
        self.cell_hovered.emit(self.input_window(tile, row, col))

    def _click(self, pos: QPointF) -> None:
        hit = None if self.mosaic is None else self.mosaic.locate(pos.x(), pos.y())
        if hit is not None:
            self.tile_clicked.emit(self.name, hit[0])

    def save_png(self, path: str) -> bool:
        """Write this panel, title included, as a PNG (False: the disk refused)."""
        from app.pictures import save_png
        from engine import ConvPadError

        try:
            save_png(self, path)
        except ConvPadError:
            return False
        return True
