"""What a feature may ask of the window: :class:`WindowHost`, and nothing else.

napari hands its plugins a ``Viewer`` API, not its ``QMainWindow``. ConvPad's features
— the step-through, Teach, the experiments, class mode — receive a ``WindowHost``: the
live model and its loop, the canvas, notices, a dock area, a menu, the stage. They never
reach into the window's widgets, and the window holds none of their state; so a feature
can be added, tested against a stand-in host, or removed without touching the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

    from app.canvas import Canvas
    from app.live import Live
    from app.stage import Stage


class WindowHost(Protocol):
    """The window's surface for features (see the module docstring)."""

    #: The one live model, its loop, input mode and compare A/B.
    live: Live
    #: The drawing, its undo stack, and its ``changed`` signal.
    canvas: Canvas

    def show_notice(self, message: str) -> None:
        """Show one line in the banner above the window (non-modal; the app goes on)."""

    def add_panel_dock(self, widget: QWidget, title: str, name: str) -> QDockWidget:
        """Dock ``widget`` beside the layers, hidden until asked for (View ▸ Panels)."""

    def menu(self, title: str, name: str) -> QMenu:
        """The menu-bar menu called ``name`` (object name), made with ``title`` if new."""

    def offer_model(self, name: str, title: str) -> None:
        """Offer a saved model (``name``: its card's path) in the model picker."""

    def add_close_guard(self, guard: Callable[[], bool]) -> None:
        """``guard()`` is asked before the window closes; False keeps it open."""

    def add_presenter_keys(self, handler: Callable[[Qt.Key], bool]) -> None:
        """``handler(key)`` is asked first for presenter keys on the stage; True: taken."""

    def pen_down(self) -> bool:
        """Whether a stroke is going on (any thread): background work gives way to it."""

    @property
    def stage(self) -> Stage:
        """The classroom stage (its steps; a feature may give one its data)."""

    @property
    def presenting(self) -> bool:
        """Whether the classroom stage is on (F11)."""
