"""One panel per layer kind; :func:`panels_for` picks them for a trace, in data-flow order.

A flatten layer gets no panel of its own: it only reorders the pooled maps shown just
before it (the X/O toy's votes panel shows that list as the values that vote).
"""

from __future__ import annotations

from app.panels.base import LayerPanel
from app.panels.deck import PanelDeck, panels_for
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
    "PanelDeck",
    "ProbabilitiesPanel",
    "VectorPanel",
    "VotesPanel",
    "ZoomView",
    "panels_for",
]
