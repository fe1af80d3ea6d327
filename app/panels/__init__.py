"""One panel per layer kind; :func:`panels_for` picks them for a trace, in data-flow order.

A flatten layer gets no panel of its own: it only reorders the pooled maps shown just
before it (the X/O toy's votes panel shows that list as the values that vote).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.panels.base import LayerPanel
from app.panels.filters_panel import FiltersPanel
from app.panels.input_panel import InputPanel
from app.panels.maps_panel import MapsPanel
from app.panels.probabilities_panel import ProbabilitiesPanel
from app.panels.vector_panel import VectorPanel
from app.panels.votes_panel import VotesPanel
from app.panels.zoom_view import ZoomView

__all__ = [
    "FiltersPanel",
    "InputPanel",
    "LayerPanel",
    "MapsPanel",
    "ProbabilitiesPanel",
    "VectorPanel",
    "VotesPanel",
    "ZoomView",
    "panels_for",
]


def panels_for(trace, parent: QWidget | None = None) -> list[tuple[LayerPanel, str]]:
    """The panels for ``trace``'s layers, in data-flow order, each with the layer it shows.

    A conv layer gets two: its filters, then its feature maps.
    """
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
    return out
