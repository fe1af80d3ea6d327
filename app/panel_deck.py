"""The desk dashboard: one page of layer panels per model, built once and kept.

Switching models shows another page; nothing is destroyed while the app runs. Pages
used to be torn down and rebuilt on every model switch, with pen and hover events for
the old panels still in flight: a fuzz of model switches mid-stroke crashed the
interpreter inside ``pyqtgraph.ViewBox.__init__``. Keeping each model's page alive also
makes switching back instant, and each page keeps the colour levels it has grown.

Panels talk to the rest of the window through the deck's signals (values, not widgets):
``cell_hovered(window)`` and ``tile_clicked(panel name, tile)``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QStackedWidget, QWidget

from app.panels import LayerPanel, panels_for


class _Page(QWidget):
    """One model's panels in a grid, in data-flow order."""

    def __init__(self, trace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panels: list[tuple[LayerPanel, str]] = panels_for(trace, self)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        grid.setHorizontalSpacing(2)
        n = len(self.panels)
        cols = 5 if n > 8 else 2  # the toy's few small maps get wide panels: numbers fit
        # Reading order is data-flow order: left to right, an arrow into every panel,
        # and "↳" where a row continues the one above.
        for i, (panel, _) in enumerate(self.panels):
            r, c = divmod(i, cols)
            if i:
                arrow = QLabel("→" if c else "↳")
                arrow.setObjectName("flow_arrow")
                arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
                arrow.setToolTip("data flows this way: each panel reads the one before it")
                grid.addWidget(arrow, r, 2 * c)
            grid.addWidget(panel, r, 2 * c + 1)
        for c in range(cols):
            grid.setColumnStretch(2 * c + 1, 1)
        for r in range(-(-n // cols)):
            grid.setRowStretch(r, 1)

    def block_of(self, name: str) -> list[LayerPanel]:
        """The panels that show the same channels as panel ``name``: a conv layer's
        filters and maps, and the ReLU and pooling after it (until the next conv)."""
        names = [p.name for p, _ in self.panels]
        i = names.index(name)
        start = i
        while start > 0 and self.panels[start][0].channels() and not names[start].endswith(
                ".filters"):
            start -= 1
        block = []
        for panel, _ in self.panels[start:]:
            if block and panel.name.endswith(".filters"):
                break
            if not panel.channels():
                if block:
                    break
                continue
            block.append(panel)
        return block

    def show_trace(self, trace, blank: bool) -> None:
        layers = trace.layers
        index = {layer.name: i for i, layer in enumerate(layers)}
        for panel, name in self.panels:
            i = index[name]
            if blank:
                panel.show_empty(layers[i])
            else:
                panel.show_layer(layers[i], layers[i - 1] if i else None)


class PanelDeck(QStackedWidget):
    """A page of panels per model name; ``show_trace`` updates the visible page only."""

    cell_hovered = Signal(object)
    tile_clicked = Signal(str, int)
    channel_followed = Signal(str, int)  # (panel name, channel): a map was clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel_deck")
        self._pages: dict[tuple, _Page] = {}
        self._look: tuple[dict, QFont] | None = None

    def show_model(self, name: str, blank_trace, example_trace) -> None:
        """Show ``name``'s page, building it (once) from a blank and an example trace.

        Pages are keyed by the name and the layers' shapes: a model retrained under the
        same name with other classes gets a page of its own.
        """
        key = (name, tuple((layer.name, layer.output.shape) for layer in blank_trace.layers))
        page = self._pages.get(key)
        if page is None:
            page = _Page(blank_trace, self)
            for panel, _ in page.panels:
                panel.cell_hovered.connect(self.cell_hovered)
                panel.tile_clicked.connect(self.tile_clicked)
                panel.tile_clicked.connect(self.follow)
            if self._look is not None:
                for panel, _ in page.panels:
                    panel.apply_look(*self._look)
            # Calibrate the colour levels on the example before the first stroke.
            page.show_trace(example_trace, blank=False)
            self._pages[key] = page
            self.addWidget(page)
        self.setCurrentWidget(page)

    def show_trace(self, trace, blank: bool) -> None:
        page = self.currentWidget()
        if isinstance(page, _Page):
            page.show_trace(trace, blank)

    def panels(self) -> list[LayerPanel]:
        """The visible page's panels, in data-flow order."""
        page = self.currentWidget()
        return [p for p, _ in page.panels] if isinstance(page, _Page) else []

    def panel(self, name: str) -> LayerPanel:
        """The visible panel called ``name`` (a layer name, or ``conv1.filters``)."""
        for p in self.panels():
            if p.name == name:
                return p
        raise KeyError(f"no panel {name!r}; panels are {[p.name for p in self.panels()]}")

    def apply_look(self, look: dict, title_font: QFont) -> None:
        """Every page, built or not yet, follows the window's look."""
        self._look = (look, title_font)
        for page in self._pages.values():
            for panel, _ in page.panels:
                panel.apply_look(look, title_font)

    def follow(self, panel_name: str, tile: int) -> None:
        """Follow the channel of a clicked tile through its filter, ReLU and pooling."""
        page = self.currentWidget()
        if not isinstance(page, _Page):
            return
        panel = self.panel(panel_name)
        channel = panel.channel_of(tile)
        for p in self.panels():
            p.highlight_channel(None)
        if channel is None:
            return
        for p in page.block_of(panel_name):
            p.highlight_channel(channel)
        self.channel_followed.emit(panel_name, channel)

    def outline_input(self, window) -> None:
        """Outline, on the visible input panel, the input cells a hovered cell sees."""
        for panel in self.panels():
            panel.show_window(window)
