"""A dock's scroll area is as wide as its panel needs once the panel is on screen."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.dock_scroll import BAR, DockScroll


def test_the_docks_width_follows_its_panel_as_it_grows_up_to_a_quarter_of_the_screen(
        qtbot) -> None:
    # The step-through sizes its type to the screen after it is docked: on a 4K screen
    # it then needed 820 px and was shown in 527, its right half behind a scroll bar.
    panel = QWidget()
    inner = QWidget()
    QHBoxLayout(panel).addWidget(inner)
    inner.setMinimumWidth(100)
    scroll = DockScroll(panel)
    qtbot.addWidget(scroll)
    scroll.show()
    start = scroll.minimumWidth()
    assert start == panel.minimumSizeHint().width() + BAR
    inner.setMinimumWidth(150)  # the panel's type grew
    qtbot.waitUntil(lambda: scroll.minimumWidth() == start + 50, timeout=2_000)
    inner.setMinimumWidth(10_000)  # more than any dock should take
    quarter = scroll.screen().availableGeometry().width() // 4
    qtbot.waitUntil(lambda: scroll.minimumWidth() == quarter, timeout=2_000)
