"""Step through it: the lecture's convolution pages and every layer of the live network,
cell by cell, with the engine's own numbers (issue #9).

Entry points:

- :func:`install(window) <install>` adds a "Step through" menu and a dock to ConvPad's
  main window, through its public surface only (``menuBar()``, ``add_panel_dock``,
  ``live``, ``show_notice``);
- :class:`StepperPanel`, the whole feature as one widget (a stage can host it);
- :class:`LessonsWindow`, the same on its own window for a full screen
  (``python -m app.stepper``).

The arithmetic lives in :mod:`engine.steps` and the lecture's pages in
:mod:`engine.lessons`; this package only draws them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QDockWidget

    from app.stepper.panel import LessonsWindow, StepperPanel

__all__ = ["LessonsWindow", "StepperPanel", "install", "use_edited_model"]


def use_edited_model(window, model) -> None:
    """Trace the live drawing through ``model`` (a copy with edited features) from now on.

    Choosing a model in the picker brings the shipped weights back (and resets the
    features page).
    """
    window.live.use_model(model)


def install(window, apply_edits: bool = True) -> tuple[StepperPanel, QDockWidget]:
    """Add the step-through to ConvPad's main ``window``: a dock and a "Step through" menu.

    The panel follows ``window.live``: a new model rebuilds its layer pages, each trace
    updates the page on screen. With ``apply_edits``, edited toy features become the
    live model (:func:`use_edited_model`), so every panel of the window follows them.
    """
    from PySide6.QtGui import QAction, QKeySequence

    from app.stepper.panel import LessonsWindow, StepperPanel

    panel = StepperPanel(compact=True)
    dock = window.add_panel_dock(panel, "Step through", "stepper_dock")
    dock.hide()
    live = window.live
    live.model_changed.connect(lambda model, probe: panel.set_model(model, probe))
    live.traced.connect(panel.set_trace)
    if live.model is not None:
        panel.set_model(live.model)
    panel.notice.connect(window.show_notice)
    if apply_edits:
        panel.model_edited.connect(lambda model: use_edited_model(window, model))

    menu = window.menuBar().addMenu("Step &through")
    show = QAction("Step-through panel", window)
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

    lessons = QAction("Lessons full screen", window)
    lessons.setObjectName("act_stepper_lessons")
    lessons.setToolTip("The step-through on its own full screen (F11 toggles, Esc leaves)")
    lessons.triggered.connect(full_screen)
    menu.addAction(lessons)
    for text, key, name in (("Next page", "PageDown", "next"), ("Previous page", "PageUp", "prev")):
        act = QAction(f"{text} ({key})", window)
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
