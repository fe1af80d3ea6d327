"""One panel per layer kind; :func:`panels_for` picks them for a trace, in data-flow order.

A flatten layer gets no panel of its own: it only reorders the pooled maps shown just
before it (the X/O toy's votes panel shows that list as the values that vote).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Loaded on first use: the panels bring pyqtgraph, which the window needs only once a
# model's page is built, after it is on screen.
_HOME = {
    "LayerPanel": "base", "PanelDeck": "deck", "panels_for": "page",
    "FiltersPanel": "filters_panel", "InputPanel": "input_panel", "MapsPanel": "maps_panel",
    "ProbabilitiesPanel": "probabilities_panel", "VectorPanel": "vector_panel",
    "VotesPanel": "votes_panel", "ZoomView": "zoom_view",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"app.panels.{_HOME[name]}"), name)
    raise AttributeError(f"module 'app.panels' has no attribute {name!r}")


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
