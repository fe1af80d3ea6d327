"""The scroll area a feature's dock holds its panel in (``add_panel_dock`` of the window).

A panel's minimum width is known only once it is on screen: the step-through sizes its
type to the screen (a 4K projector's buttons are three times a laptop's), and that
happens after the dock is made. Fixed when the dock was made, the width stayed what the
panel needed before: on a 3840×2160 screen the step-through needed 820 px and was shown
in 527, its right half behind a scroll bar. So the minimum follows the panel's every
re-layout, up to a quarter of the screen (the layers keep the rest; past it, it scrolls).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

#: The scroll bar's room beside the panel (px).
BAR = 24


class DockScroll(QScrollArea):
    """``panel`` in a frameless scroll area at least as wide as the panel needs, but
    never more than a quarter of the screen it is on."""

    def __init__(self, panel: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(panel)  # QScrollArea filters the panel's events from here on
        self.fit()

    def most(self) -> int:
        """The widest the panel's minimum may make the dock: a quarter of the screen
        (asked each time, never kept: a window moves between screens, a screen goes)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry().width() // 4 if screen else 320

    def fit(self) -> None:
        """Minimum width: what the panel needs now (and its scroll bar), up to :meth:`most`."""
        panel = self.widget()
        if panel is not None:
            self.setMinimumWidth(min(panel.minimumSizeHint().width() + BAR, self.most()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.fit()
        return super().eventFilter(watched, event)
