"""A model's page on the desk: its layer panels in a grid, in data-flow order.

:func:`panels_for` picks a panel for each layer of a trace; :class:`Page` lays them out
(an arrow into every panel, reading order = data-flow order) and shows a trace on them,
all at once or one panel at a time (the deck paces that, :mod:`app.panels.deck`).
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import SimpleNamespace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

ANSWER = ""  # the layer name of the answer panel that no layer feeds (see panels_for)

if TYPE_CHECKING:
    from app.panels.base import LayerPanel


_warming: list[threading.Thread] = []


def warm_up() -> None:
    """Import the panels, and pyqtgraph with them, in a background thread, now.

    At launch the GUI thread waits for the first model while torch imports in the
    loader; the panels' imports (0.15 s, most of it pyqtgraph) came after, in the GUI
    thread, before the first answer. Beside torch's import they cost little (imports
    read files with Python's lock let go), so the first prediction comes 70 ms sooner.
    Nothing at these modules' top level makes a Qt object that belongs to a thread.
    :func:`panels_for` waits for this thread before it imports anything itself, so the
    two never import the same modules at once.
    """
    if not _warming and "app.panels.base" not in sys.modules:
        thread = threading.Thread(target=_import_panels, name="convpad-import-panels",
                                  daemon=True)
        _warming.append(thread)
        thread.start()


def _import_panels() -> None:
    for name in ("filters", "input", "maps", "probabilities", "vector", "votes"):
        importlib.import_module(f"app.panels.{name}_panel")


def panels_for(trace, parent: QWidget | None = None) -> list[tuple[LayerPanel, str]]:
    """The panels for ``trace``'s layers, in data-flow order, each with the layer it shows.

    A conv layer gets two: its filters, then its feature maps. (The panels, and
    pyqtgraph with them, are imported here, when the first model's page is built: the
    window is on screen before that.)
    """
    for thread in _warming:
        thread.join()
    from app.panels.filters_panel import FiltersPanel
    from app.panels.input_panel import InputPanel
    from app.panels.maps_panel import MapsPanel
    from app.panels.probabilities_panel import ProbabilitiesPanel
    from app.panels.vector_panel import VectorPanel
    from app.panels.votes_panel import VotesPanel

    out: list[tuple[LayerPanel, str]] = []
    for layer in trace.layers:
        if InputPanel.accepts(layer):
            out.append((InputPanel(layer, parent), layer.name))
        elif MapsPanel.accepts(layer):
            if FiltersPanel.accepts(layer):
                out.append((FiltersPanel(layer, parent), layer.name))
            out.append((MapsPanel(layer, parent), layer.name))
        elif VectorPanel.accepts(layer):
            out.append((VectorPanel(layer, trace.classes, parent), layer.name))
        elif VotesPanel.accepts(layer):
            out.append((VotesPanel(layer, trace.classes, parent), layer.name))
        elif ProbabilitiesPanel.accepts(layer):
            out.append((ProbabilitiesPanel(layer, trace.classes, parent), layer.name))
    if not any(isinstance(p, (ProbabilitiesPanel, VotesPanel)) for p, _ in out):
        # A network ending in logits, a log-softmax or scores (an opened Keras/ONNX
        # file) has no softmax layer: the answer panel shows the trace's probabilities.
        answer = SimpleNamespace(name="answer", kind="softmax", output=trace.probabilities)
        out.append((ProbabilitiesPanel(answer, trace.classes, parent), ANSWER))
    return out


class Page(QWidget):
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
        """Every panel shows ``trace`` now."""
        for k in range(len(self.panels)):
            self.show_panel(k, trace, blank)

    def show_panel(self, k: int, trace, blank: bool) -> None:
        """Panel ``k`` shows ``trace`` (its layer, or the answer)."""
        panel, name = self.panels[k]
        panel.set_difference(getattr(trace, "difference", False))
        if name == ANSWER:
            panel.show_probabilities(None if blank else trace.probabilities)
            return
        layers = trace.layers
        i = next(j for j, layer in enumerate(layers) if layer.name == name)
        if blank:
            panel.show_empty(layers[i])
        else:
            panel.show_layer(layers[i], layers[i - 1] if i else None)
