"""The stage's canvas: paints the current step, and paces its repaints behind the pen.

While the pen moves (issue #24), a repaint of the stage — every number of the busiest
step, at 4K several milliseconds — must not share a repaint with the pen's newest ink:
:meth:`StageView.paced_update` repaints only when the pen's next move leaves time for
it, else right after that move and after that move's ink is painted, and waits as long
as its last paint took before the next one, so the stage takes at most half of the GUI
thread while a stroke goes on. A paint that never fits between two moves is made
anyway every :data:`MAX_WAIT_MS`.

A step whose maps are all that a new trace changes (``StageBase.live_rects``) is
repainted in pieces, one per gap between the pen's moves — conv2's step at 1080p is
three: its input maps, its chosen map and the 64 it picks from — each a third of the
work and of the copy to the screen, so each fits a gap where the whole did not. A
piece waits for a gap as long as its own last paint (at 4K conv2's 64 maps took twice
what its input maps did; judged by the last piece painted, the dear one ran into the
pen's next move).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QElapsedTimer, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QRegion
from PySide6.QtWidgets import QWidget

from app.stage.ink import Painted, Shown, painted_from, shown_from

#: The longest the stage waits for a gap in the pen's moves: where its paint never fits
#: between two moves (a 4K stage on a slow machine), it is painted anyway this often,
#: so the room never watches a frozen stage while the pen moves.
MAX_WAIT_MS = 150


class StageView(QWidget):
    """Paints the current stage: its title row and its body."""

    clicked = Signal(QPointF)
    #: ``caught_up(rate)``: the stage shows the newest trace whole again; ``rate`` is how
    #: many times it did in the last second (the update-rate readout).
    caught_up = Signal(float)

    def __init__(self, stage) -> None:
        super().__init__(stage)
        self.setObjectName("stage_view")
        self._stage = stage
        self.paints = 0  # how many times the stage was painted (tests read it)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # it paints every pixel
        self.records: list[tuple] = []
        self._painted: tuple[list, list] = ([], [])  # (Painted, batches) of the last paint
        self.paint_ms = 0.0  # the last paint's cost, and the time since (pacing)
        self.since_paint = QElapsedTimer()
        self.since_paint.start()
        self.pace = QTimer(self)  # a paced repaint, waiting its turn
        self.pace.setSingleShot(True)
        self.pace.timeout.connect(self.paced_update)
        self.pen_gap = lambda: math.inf  # ms until the pen's next move (the window's)
        self.ink_pending = lambda: False  # the canvas has ink not yet painted
        self.tracing = lambda: False  # the network is tracing a drawing in its worker
        self._waited = 0
        self._pieces: list[QRect] | None = []  # what paced repaints still owe (None: all)
        self.owed = QElapsedTimer()  # since the stage fell behind the newest trace
        self._costs: dict[tuple | None, float] = {}  # ms, per piece's last paint (None: whole)
        self._round_open = False  # a trace came that the stage does not show whole yet
        self._caught: list[int] = []  # when it last caught up, ms (the last second's)
        self._clock = QElapsedTimer()
        self._clock.start()

    def want(self, pieces: list[QRect] | None) -> None:
        """A new trace changes ``pieces`` of the stage (None: anything): the paced
        repaints paint them, oldest owed first."""
        if not self.behind:
            self.owed.start()
        self.new_trace()
        if pieces is None or self._pieces is None:
            self._pieces = None
        else:
            self._pieces += [p for p in pieces if p not in self._pieces]

    def new_trace(self) -> None:
        """A newer trace came: the next paint that leaves nothing owed shows it whole
        (counted for the update-rate readout)."""
        self._round_open = True

    @property
    def behind(self) -> bool:
        """Some of the stage still shows an older trace than the newest it was given."""
        return self._pieces is None or bool(self._pieces)

    def paced_update(self) -> None:
        """Repaint now if the pen's next move leaves time for it, else right after it:
        a paint of the stage never shares a repaint with the pen's newest ink."""
        if self._pieces == []:  # a full repaint since has painted what was owed
            return
        gap = self.pen_gap()
        starved = self.owed.isValid() and self.owed.elapsed() > MAX_WAIT_MS
        # What the next paint will cost: that piece's last paint (pieces differ: conv2's
        # 64 maps cost twice its input maps), else the last paint's.
        next_piece = None if self._pieces is None else _key(self._pieces[0])
        cost = self._costs.get(next_piece, self.paint_ms)
        if gap < cost + 1.0 and not starved:
            self.pace.start(int(gap) + 1)
        elif self.tracing() and not starved:
            # Not beside the worker's trace: both want Python's lock, and together they
            # ran several times as long, into the pen's next move. Its trace comes soon.
            self.pace.start(1)
        elif self.ink_pending() and self._waited < 3 and not starved:
            # The pen's newest ink is not painted yet: a repaint now would paint it
            # together with the stage, and the ink would wait for every number. Its own
            # repaint first (posted, so it comes before this timer's next turn).
            self._waited += 1
            self.pace.start(0)
        else:
            self._waited = 0
            # Painted now, in the gap found, and timed with its copy to the screen: an
            # update() would wait for the next repaint, which the pen's next ink may share.
            clock = QElapsedTimer()
            clock.start()
            if self._pieces is None:
                self._pieces = []
                self.repaint()
            elif starved:  # behind too long: everything owed at once
                owed = QRegion()
                for piece in self._pieces:
                    owed = owed.united(piece)
                self._pieces = []
                self.repaint(owed)
            else:
                self.repaint(self._pieces.pop(0))  # one piece: a fraction of the work
            self.paint_ms = clock.nsecsElapsed() / 1e6
            if not starved:
                self._costs[next_piece] = self.paint_ms
            if self._pieces:  # the next piece in a later gap, after the ink's turn
                self.pace.start(max(1, int(self.paint_ms)))

    @property
    def shown(self) -> list[Shown]:
        return shown_from(self.records)

    @property
    def painted(self) -> list[Painted]:
        return painted_from(*self._painted)

    def paintEvent(self, event: QPaintEvent) -> None:
        clock = QElapsedTimer()
        clock.start()
        whole = QRegion(self.rect()).subtracted(event.region()).isEmpty()
        if whole:
            self._pieces = []  # everything is painted from the newest trace
        p = QPainter(self)
        try:  # an exception must not leave the painter open: Qt would crash on the next paint
            ink = self._stage._paint(p, None if whole else QRectF(event.rect()))
        finally:
            p.end()
        self.records, self._painted = ink.records, (ink.painted, ink.batches)
        self.paints += 1
        if self._round_open and not self.behind:  # the newest trace is on screen whole
            self._round_open = False
            now = self._clock.elapsed()
            self._caught = [t for t in self._caught if now - t < 1000] + [now]
            self.caught_up.emit(float(len(self._caught)))
        self.paint_ms = clock.nsecsElapsed() / 1e6
        self.since_paint.start()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(event.position())
            event.accept()
            return
        super().mousePressEvent(event)


def _key(rect: QRect) -> tuple[int, int, int, int]:
    return rect.x(), rect.y(), rect.width(), rect.height()
