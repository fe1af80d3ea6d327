"""The classroom presentation stage: the network one step at a time (see widget.py)."""

from app.stage.widget import Stage

__all__ = ["Stage"]
