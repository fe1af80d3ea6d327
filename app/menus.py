"""The window's menus and toolbar, built from its actions (app/actions.py).

A ``QAction`` per command makes the menu entry, the toolbar button and the shortcut one
thing (STYLE §9); this module only arranges them, and builds the pen-size box and the
lecture-pictures button the toolbar holds.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QPainter, QPaintEvent
from PySide6.QtWidgets import QSpinBox, QToolBar, QToolButton

from app import settings
from app.canvas import BRUSH_RANGE
from engine import PRESETS

# (title, object name, actions) of each menu, in the menu bar's order.
MENUS = (
    ("&File", "file_menu", ("act_open", "act_open_model", "act_save_window",
                            "act_save_panel", "act_quit")),
    ("&Edit", "edit_menu", ("act_undo", "act_redo", "act_clear", "act_eraser",
                            "act_thinner", "act_thicker")),
    ("&Presets", "presets_menu", ()),
    ("&Compare", "compare_menu", ("act_pin", "act_unpin", "act_compare_diff",
                                  "act_compare_a")),
    ("&View", "view_menu", ("act_present", "act_show_rate")),
)


class FlatToolBar(QToolBar):
    """A toolbar with a plain background: Fusion's gradient cost 1.3 ms per full repaint
    at 1080p (a tenth of the window's paint); a flat fill looks the same on a projector."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        painter.end()


def build_menus_and_toolbar(window) -> None:
    """Menus, toolbar, pen size and presets for ``window`` (its actions built)."""
    act = window.actions_
    stack = window.canvas.undo_stack
    act["act_undo"].setEnabled(stack.canUndo())
    act["act_redo"].setEnabled(stack.canRedo())
    stack.canUndoChanged.connect(act["act_undo"].setEnabled)
    stack.canRedoChanged.connect(act["act_redo"].setEnabled)
    window.controls.clear_button.clicked.connect(act["act_clear"].trigger)
    window.controls.clear_button.setToolTip(act["act_clear"].toolTip())
    window.brush_size = QSpinBox()
    window.brush_size.setObjectName("brush_size")
    window.brush_size.setRange(*BRUSH_RANGE)
    window.brush_size.setSingleStep(4)
    window.brush_size.setValue(window.remembered.get("pen", int(window.canvas.brush)))
    window.canvas.brush = float(window.brush_size.value())
    window.brush_size.setSuffix(" px pen")
    window.brush_size.setToolTip("Pen thickness, in canvas pixels ([ and ] change it)")
    window.brush_size.valueChanged.connect(lambda v: setattr(window.canvas, "brush", float(v)))
    window.brush_size.valueChanged.connect(lambda v: settings.save(pen=v))
    window.preset_actions = []
    for i, name in enumerate(PRESETS, start=1):
        preset = QAction(name, window)
        preset.setObjectName(f"act_preset_{i}")
        preset.setShortcut(QKeySequence(f"Ctrl+{i}"))
        preset.setToolTip(f"Put the lecture's 9×9 {name} on the canvas (Ctrl+{i})")
        preset.triggered.connect(lambda _=False, n=name: window.load_preset(n))
        window.addAction(preset)
        window.preset_actions.append(preset)
    for title, name, names in MENUS:
        menu = window.menu(title, name)
        for key in names:
            menu.addAction(act[key])
    for preset in window.preset_actions:
        window.menu("&Presets", "presets_menu").addAction(preset)
    window.panels_menu = window.menu("&View", "view_menu").addMenu("Panels")
    window.toolbar = FlatToolBar("Tools")
    window.toolbar.setObjectName("toolbar")
    window.toolbar.setMovable(False)
    window.addToolBar(window.toolbar)
    for key in ("act_clear", "act_undo", "act_redo", "act_eraser"):
        window.toolbar.addAction(act[key])
    window.toolbar.addWidget(window.brush_size)
    window.toolbar.addSeparator()
    # The three presets behind one button: a row of three long names overflowed
    # the toolbar at 1280×720.
    presets = QToolButton()
    presets.setObjectName("presets_button")
    presets.setText("Lecture pictures")
    presets.setToolTip("The lecture's X, trickier X and O (Ctrl+1…3)")
    presets.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    presets.setMenu(window.menu("&Presets", "presets_menu"))
    window.toolbar.addWidget(presets)
    for key in ("act_open", None, "act_save_window", "act_present"):
        window.toolbar.addAction(act[key]) if key else window.toolbar.addSeparator()
