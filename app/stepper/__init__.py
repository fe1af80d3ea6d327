"""Step through it: the lecture's convolution pages and every layer of the live network,
cell by cell, with the engine's own numbers (issue #9).

Entry points:

- :func:`install(host) <install>` adds a "Step through" menu and a dock to ConvPad's
  main window, through its :class:`~app.host.WindowHost` surface only;
- :class:`StepperPanel`, the whole feature as one widget (a stage can host it);
- :class:`LessonsWindow`, the same on its own window for a full screen
  (``python -m app.stepper``).

The arithmetic and the lecture's pages live in :mod:`engine.lecture`; this package only
draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDockWidget

    from app.host import WindowHost
    from app.stepper.panel import LessonsWindow, StepperPanel

__all__ = ["LessonsWindow", "StepperPanel", "install"]


def install(host: WindowHost) -> tuple[StepperPanel, QDockWidget]:
    """Add the step-through through ``host``: a dock and a "Step through" menu.

    The panel follows the one live model: a new model rebuilds its layer pages, each
    trace updates the page on screen, and features a student edits become the live
    model (every view follows them, and the title says "(edited)" until *Reset*).
    """
    from PySide6.QtGui import QAction, QKeySequence

    from app.stepper.panel import LessonsWindow, StepperPanel

    panel = StepperPanel(compact=True)
    dock = host.add_panel_dock(panel, "Step through", "stepper_dock")
    live = host.live
    live.model_changed.connect(lambda model, probe: panel.set_model(model, probe))
    live.traced.connect(panel.set_trace)
    if live.model is not None:
        panel.set_model(live.model)
    if live.last_b is not None:  # installed after the first answer: start from the drawing
        panel.set_trace(*live.last_b)
    panel.notice.connect(host.show_notice)
    panel.model_edited.connect(live.use_model)
    panel.features.model_saved.connect(host.offer_model)

    menu = host.menu("Step &through", "stepper_menu")
    show = QAction("Step-through panel", menu)
    show.setObjectName("act_stepper_panel")
    show.setCheckable(True)
    show.setShortcut(QKeySequence("Ctrl+Shift+T"))
    show.setToolTip("Show the lecture's pages and the network, step by step (Ctrl+Shift+T)")
    show.toggled.connect(dock.setVisible)
    dock.visibilityChanged.connect(show.setChecked)
    show.toggled.connect(lambda on: on and panel.setFocus())
    menu.addAction(show)

    windows: list = []

    def full_screen() -> None:
        name = live.model.name if live.model is not None else "xo-toy"
        w = LessonsWindow(model=name)
        windows[:] = [w]  # keep it alive; one at a time
        w.showFullScreen()

    lessons = QAction("Lessons full screen", menu)
    lessons.setObjectName("act_stepper_lessons")
    lessons.setToolTip("The step-through on its own full screen (F11 toggles, Esc leaves)")
    lessons.triggered.connect(full_screen)
    menu.addAction(lessons)
    for text, key, name in (("Next page", "PageDown", "next"), ("Previous page", "PageUp", "prev")):
        act = QAction(f"{text} ({key})", menu)
        act.setObjectName(f"act_stepper_{name}")
        act.triggered.connect(lambda _=False, k=key: panel.handle_key(
            QKeySequence(k)[0].key()))
        menu.addAction(act)
    panel.setProperty("stepper_menu", menu.title())
    return panel, dock


def __getattr__(name: str):
    if name in ("LessonsWindow", "StepperPanel"):
        from app.stepper import panel

        return getattr(panel, name)
    raise AttributeError(f"module 'app.stepper' has no attribute {name!r}")
