"""The desk dashboard: one page of layer panels per model, built once and kept.

Switching models shows another page; nothing is destroyed while the app runs. Pages
used to be torn down and rebuilt on every model switch, with pen and hover events for
the old panels still in flight: a fuzz of model switches mid-stroke crashed the
interpreter inside ``pyqtgraph.ViewBox.__init__``. Keeping each model's page alive also
makes switching back instant, and each page keeps the colour levels it has grown.

Panels talk to the rest of the window through the deck's signals (values, not widgets):
``cell_hovered(window)`` and ``tile_clicked(panel name, tile)``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QStackedWidget, QWidget

from app.panels.page import Page

#: The most of the GUI thread's time the panels take while the pen moves.
DUTY = float(os.environ.get("CONVPAD_PANEL_DUTY", "0.8"))
#: A round never waits longer than this for a gap between the pen's moves (ms): a pen
#: whose next move is always judged due still sees its panels follow.
MAX_WAIT_MS = 150

if TYPE_CHECKING:
    from app.panels.base import LayerPanel
    from app.panels.zoom_view import ZoomView


class PanelDeck(QStackedWidget):
    """A page of panels per model name; ``show_trace`` updates the visible page only.

    **Ink first** (issue #24): while the pen moves, :meth:`show_trace` with a
    ``budget_ms`` updates panels in data-flow order only until the budget is spent, and
    goes on at the next turn of the event loop, after the pen's queued events — so a pen
    event never waits for more than one slice of panel work, and each frame repaints
    only the panels updated in it. A round puts one trace on every panel, so the
    panels always show one drawing, each map the input of the next; a newer trace waits
    for the round to end, and the next round takes the newest (the ones between are
    dropped). Until 2026-12-03 the panels not yet updated took a newer trace at once and
    the round began again for the others: at 4K, where traces came faster than a round,
    rounds hardly ever ended and the panels showed several drawings at once.
    ``round_done(rate)`` fires when a round ends (:attr:`shown` is its trace): how many
    rounds a second the machine keeps up (the rate readout).
    A hidden deck (the stage on, the dashboard covered) does no work at all, and shows
    the latest trace when it comes back.
    """

    round_done = Signal(float)

    cell_hovered = Signal(object)
    tile_clicked = Signal(str, int)
    channel_followed = Signal(str, int)  # (panel name, channel): a map was clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel_deck")
        self._pages: dict[tuple, Page] = {}
        self._look: tuple[dict, QFont] | None = None
        self._zooms: dict[tuple[str, int], ZoomView] = {}
        self._spare_zooms: list[ZoomView] = []
        self.cell_hovered.connect(self.outline_input)
        self.tile_clicked.connect(self.open_zoom)
        self._pending: tuple | None = None  # the newest (trace, blank) not yet everywhere
        self._round: tuple | None = None  # the (trace, blank) the round under way shows
        self.shown: object = None  # the trace of the last round: every panel showed it
        self._shown_by: list[object] = []  # per panel of the page: the trace it shows
        self._next = 0  # where the round goes on
        self._budget_ms = 0.0
        self._slice = QTimer(self)
        self._slice.setSingleShot(True)
        self._slice.timeout.connect(self._work)
        #: ms until the pen's next move (inf: no stroke); the window sets the canvas's.
        self.pen_gap: Callable[[], float] = lambda: math.inf
        self.ink_pending: Callable[[], bool] = lambda: False  # the canvas's, not painted yet
        self._waits = 0
        self._idle = QElapsedTimer()  # since a panel last took a trace, in a round
        self._idle.start()
        self._round_clock = QElapsedTimer()
        self._round_clock.start()
        self._rounds: list[int] = []  # when rounds ended, ms (the last second's: the rate)
        self._cost: list[float] = []  # per panel: its last update + paint, ms
        self._work_ms = 0.0  # the round's work so far (updates and their paints), ms
        self._round_ms = 0.0  # … the last whole round's
        self._since_round = QElapsedTimer()
        self._since_round.start()
        self._hidden_since: tuple | None = None

    def show_model(self, name: str, blank_trace, example_trace) -> None:
        """Show ``name``'s page, building it (once) from a blank and an example trace.

        Pages are keyed by the name and the layers' shapes: a model retrained under the
        same name with other classes gets a page of its own.
        """
        key = (name, tuple((layer.name, layer.output.shape) for layer in blank_trace.layers))
        page = self._pages.get(key)
        if page is None:
            page = Page(blank_trace, self)
            for panel, _ in page.panels:
                panel.cell_hovered.connect(self.cell_hovered)
                panel.tile_clicked.connect(self.tile_clicked)
                panel.tile_clicked.connect(self.follow)
            if self._look is not None:
                for panel, _ in page.panels:
                    panel.apply_look(*self._look)
            # Calibrate the colour levels on the example before the first stroke.
            page.show_trace(example_trace, blank=False)
            self._pages[key] = page
            self.addWidget(page)
        self.setCurrentWidget(page)
        self._slice.stop()
        self._pending, self._round, self._shown_by, self._next = None, None, [], 0

    def show_trace(self, trace, blank: bool, budget_ms: float | None = None) -> None:
        """Show ``trace`` on the visible page: now (``budget_ms`` None), or in slices of
        ``budget_ms`` of work each (see the class docstring)."""
        page = self.currentWidget()
        if not isinstance(page, Page):
            return
        if not self.isVisible():
            self._hidden_since = (trace, blank)  # nobody sees it: no work until shown
            return
        if len(self._shown_by) != len(page.panels):
            self._shown_by = [None] * len(page.panels)
        if budget_ms is None:
            self._slice.stop()
            self._pending = self._round = None
            page.show_trace(trace, blank)
            self._shown_by = [trace] * len(page.panels)
            self._refresh_zooms()
            self._round_ended(trace)
            return
        if self._pending is None:
            self._idle.restart()
        self._pending, self._budget_ms = (trace, blank), budget_ms
        if not self._slice.isActive():
            self._slice.start(max(0, int(self._rest_ms() - self._since_round.elapsed())))

    def _work(self) -> None:
        """One slice: panels take the round's trace (the newest when the round began),
        as many as the budget and the gap before the pen's next move leave time for (at
        least one, when the pen allows)."""
        page = self.currentWidget()
        if self._pending is None or not isinstance(page, Page) or not self.isVisible():
            self._pending = self._round = None
            return
        self._round = self._round or self._pending
        trace, blank = self._round
        n = len(page.panels)
        if len(self._shown_by) != n:
            self._shown_by = [None] * n
        if len(self._cost) != n:
            self._cost = [0.0] * n
        gap = self.pen_gap()
        if gap != math.inf and self._waits < 3 and self.ink_pending():
            self._waits += 1  # the ink's own repaint first (posted: before this timer)
            self._slice.start(0)
            return
        self._waits = 0
        clock = QElapsedTimer()
        clock.start()
        painting = 0.0  # what the panels updated will cost to repaint (their last paints)
        done = 0
        for _ in range(n):
            k = self._next % n
            if self._shown_by[k] is trace:
                self._next = (k + 1) % n
                continue
            spent = clock.nsecsElapsed() / 1e6 + painting
            if done and spent + self._cost[k] > self._budget_ms:
                break
            if spent + self._cost[k] > gap - 1.0 and self._idle.elapsed() < MAX_WAIT_MS:
                if not done:  # the pen's next move is due: its ink first, then on
                    self._slice.start(int(gap) + 1)
                    return
                break
            before = clock.nsecsElapsed()
            page.show_panel(k, trace, blank)
            self._shown_by[k] = trace
            view = page.panels[k][0].view
            self._measured(k, (clock.nsecsElapsed() - before) / 1e6 + view.paint_ms)
            painting += view.paint_ms
            done += 1
            self._idle.restart()
            self._next = (k + 1) % n
        self._work_ms += clock.nsecsElapsed() / 1e6 + painting
        if any(t is not trace for t in self._shown_by):
            # The rest after the repaint of these, and the pen's queued events.
            self._slice.start(0)
            return
        self._round_ms, self._work_ms = self._work_ms, 0.0
        self._since_round.restart()
        self._round = None
        if self._pending[0] is not trace:  # a newer drawing came: its round, after a rest
            self._slice.start(int(self._rest_ms()))
        else:
            self._pending = None
            self._refresh_zooms()
        self._round_ended(trace)

    def _measured(self, k: int, cost: float) -> None:
        """Panel ``k`` took ``cost`` ms. Each panel's estimate is its own last cost, so a
        slow spell (the machine busy for a moment) left every estimate too high for the
        pen's gaps, and the panels waited a whole stroke, one forced update per
        MAX_WAIT_MS. When a panel that was slow is now fast, the machine is: the others'
        estimates come down in the same proportion."""
        old = self._cost[k]
        self._cost[k] = cost
        if old > 2.0 and cost < 0.5 * old:
            scale = cost / old
            self._cost = [c * scale if j != k else c for j, c in enumerate(self._cost)]

    def _rest_ms(self) -> float:
        """The rest between rounds: the panels' share of the GUI thread stays at most
        DUTY — after a round of W ms of work, the next waits W·(1 − DUTY)/DUTY. A slow
        machine shows fewer rounds a second; the pen's events never queue behind them."""
        return self._round_ms * (1 - DUTY) / DUTY

    def _round_ended(self, trace) -> None:
        self.shown = trace
        now = self._round_clock.elapsed()
        self._rounds = [t for t in self._rounds if now - t < 1000] + [now]
        self.round_done.emit(float(len(self._rounds)))

    @property
    def settled(self) -> bool:
        """Every panel shows the newest trace it was given (no slice pending)."""
        return self._pending is None

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._hidden_since is not None:
            trace, blank = self._hidden_since
            self._hidden_since = None
            self.show_trace(trace, blank)

    def _refresh_zooms(self) -> None:
        for (name, tile), view in list(self._zooms.items()):
            self._refresh_zoom(name, tile, view)

    def panels(self) -> list[LayerPanel]:
        """The visible page's panels, in data-flow order."""
        page = self.currentWidget()
        return [p for p, _ in page.panels] if isinstance(page, Page) else []

    def panel(self, name: str) -> LayerPanel:
        """The visible panel called ``name`` (a layer name, or ``conv1.filters``)."""
        for p in self.panels():
            if p.name == name:
                return p
        raise KeyError(f"no panel {name!r}; panels are {[p.name for p in self.panels()]}")

    def apply_look(self, look: dict, title_font: QFont) -> None:
        """Every page, built or not yet, follows the window's look."""
        self._look = (look, title_font)
        for page in self._pages.values():
            for panel, _ in page.panels:
                panel.apply_look(look, title_font)

    def follow(self, panel_name: str, tile: int) -> None:
        """Follow the channel of a clicked tile through its filter, ReLU and pooling."""
        page = self.currentWidget()
        if not isinstance(page, Page):
            return
        panel = self.panel(panel_name)
        channel = panel.channel_of(tile)
        for p in self.panels():
            p.highlight_channel(None)
        if channel is None:
            return
        for p in page.block_of(panel_name):
            p.highlight_channel(channel)
        self.channel_followed.emit(panel_name, channel)

    def outline_input(self, window) -> None:
        """Outline, on the visible input panel, the input cells a hovered cell sees."""
        for panel in self.panels():
            panel.show_window(window)

    # ----- enlarged tiles -----------------------------------------------------------------
    def open_zoom(self, panel_name: str, tile: int) -> ZoomView:
        """Enlarge one tile of a panel, with a colour bar; it stays live.

        Closed views are kept and reused rather than deleted: a pyqtgraph view is
        costly to build, and one per click grew the process by gigabytes in a fuzz.
        """
        key = (panel_name, tile)
        view = self._zooms.get(key)
        if view is None:
            panel = self.panel(panel_name)
            from app.panels.zoom_view import ZoomView

            view = self._spare_zooms.pop() if self._spare_zooms else ZoomView("", self.window())
            view.retitle(panel.tile_title(tile))
            self._zooms[key] = view
            view.finished.connect(lambda _=0, k=key, v=view: self._release_zoom(k, v))
        self._refresh_zoom(panel_name, tile, view)
        view.show()
        view.raise_()
        return view

    def _release_zoom(self, key: tuple[str, int], view: ZoomView) -> None:
        if self._zooms.get(key) is view:
            del self._zooms[key]
        view.finished.disconnect()
        if view not in self._spare_zooms:
            self._spare_zooms.append(view)

    def _refresh_zoom(self, panel_name: str, tile: int, view: ZoomView) -> None:
        try:
            panel = self.panel(panel_name)
        except KeyError:  # another model's page is showing: the tile is gone
            view.close()
            return
        values = panel.tile_values(tile)
        if values is not None:
            view.show_values(values, panel.levels())

    def close_zooms(self) -> None:
        """Close every enlarged tile (the model changed, the window is closing)."""
        for view in list(self._zooms.values()):
            view.close()
