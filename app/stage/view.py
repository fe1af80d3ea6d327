"""The stage's canvas: paints the current step, and paces its repaints behind the pen.

While the pen moves (issue #24), a repaint of the stage — every number of the busiest
step, at 4K several milliseconds — must not share a repaint with the pen's newest ink:
:meth:`StageView.paced_update` repaints only when the pen's next move leaves time for
it, else right after that move and after that move's ink is painted, and waits as long
as its last paint took before the next one, so the stage takes at most half of the GUI
thread while a stroke goes on. A paint that never fits between two moves is made
anyway every :data:`MAX_WAIT_MS`.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QElapsedTimer, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from app.stage.ink import Painted, Shown, shown_from

#: The longest the stage waits for a gap in the pen's moves: where its paint never fits
#: between two moves (a 4K stage on a slow machine), it is painted anyway this often,
#: so the room never watches a frozen stage while the pen moves.
MAX_WAIT_MS = 150


class StageView(QWidget):
    """Paints the current stage: its title row and its body."""

    clicked = Signal(QPointF)

    def __init__(self, stage) -> None:
        super().__init__(stage)
        self.setObjectName("stage_view")
        self._stage = stage
        self.paints = 0  # how many times the stage was painted (tests read it)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # it paints every pixel
        self.records: list[tuple] = []
        self.painted: list[Painted] = []
        self.paint_ms = 0.0  # the last paint's cost, and the time since (pacing)
        self.since_paint = QElapsedTimer()
        self.since_paint.start()
        self.pace = QTimer(self)  # a paced repaint, waiting its turn
        self.pace.setSingleShot(True)
        self.pace.timeout.connect(self.paced_update)
        self.pen_gap = lambda: math.inf  # ms until the pen's next move (the window's)
        self.ink_pending = lambda: False  # the canvas has ink not yet painted
        self._waited = 0

    def paced_update(self) -> None:
        """Repaint now if the pen's next move leaves time for it, else right after it:
        a paint of the stage never shares a repaint with the pen's newest ink."""
        gap = self.pen_gap()
        starved = self.since_paint.elapsed() > MAX_WAIT_MS
        if gap < self.paint_ms + 1.0 and not starved:
            self.pace.start(int(gap) + 1)
        elif self.ink_pending() and self._waited < 3 and not starved:
            # The pen's newest ink is not painted yet: a repaint now would paint it
            # together with the stage, and the ink would wait for every number. Its own
            # repaint first (posted, so it comes before this timer's next turn).
            self._waited += 1
            self.pace.start(0)
        else:
            self._waited = 0
            self.update()

    @property
    def shown(self) -> list[Shown]:
        return shown_from(self.records)

    def paintEvent(self, event: QPaintEvent) -> None:
        clock = QElapsedTimer()
        clock.start()
        p = QPainter(self)
        try:  # an exception must not leave the painter open: Qt would crash on the next paint
            ink = self._stage._paint(p)
        finally:
            p.end()
        self.records, self.painted = ink.records, ink.painted
        self.paints += 1
        self.paint_ms = clock.nsecsElapsed() / 1e6
        self.since_paint.start()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(event.position())
            event.accept()
            return
        super().mousePressEvent(event)
