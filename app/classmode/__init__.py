"""Class mode in the window (issue #23): the class server, the wall, the stage's step.

:mod:`app.class_server` is the server (no Qt): students' phones post drawings, the live
model answers. This package is the window's side, installed through the
:class:`~app.host.WindowHost` like every feature:

- *Class ▸ Open the class…* starts the server (``convpad --class`` does it at launch)
  and shows the join address with its QR code on the wall (a dock) and on the stage
  (its *class* step). *Close the class* stops it: the address stops working at once.
- Drawings reach the GUI thread by a queued signal (the server calls back from its
  store thread) and go on the wall, newest first; a click puts one on the canvas as
  if drawn there (undoable), so every view shows it.
- *Ask the class* sets a prompt shown on every student's page; drawings sent while it
  is open are sorted matched / missed / fooled it (:mod:`.sorting`), and the wall sums
  them up with a confusion table.
- *Collect for Teach* adds drawings to the Teach data set, labelled with the class the
  prompt asked for (or the Teach panel's selected class when none was asked).

Drawings are kept in the user data folder, ``class/<date-time>/`` (one PNG and one JSON
record each, written atomically by :mod:`app.class_server.store`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence

from app.class_server.store import Drawing
from app.classmode.sorting import Prompt, Summary, sort
from app.classmode.wall import WallPanel
from app.host import WindowHost
from app.stage.wall import Tile, WallStage, WallView
from engine import ConvPadError
from engine.storage import user_data_folder

if TYPE_CHECKING:
    from app.class_server.server import ClassServer

__all__ = ["ClassMode", "Entry", "install"]

MAX_TILES = 200  # drawings the stage keeps to paint (the wall keeps them all)
#: Milliseconds of wall updates per slice, and the pause between slices of a burst.
DRAIN_MS = 4
DRAIN_PAUSE_MS = 8
#: While the pen moves, the wall takes drawings at most every PEN_PERIOD_MS, in a gap
#: between the pen's moves, waiting at most PEN_WAIT_MS for one: the teacher's ink
#: first, the wall a moment later (and all at once when the pen lifts).
PEN_PERIOD_MS = 250
PEN_WAIT_MS = 500


@dataclass
class Entry:
    """One drawing on the wall, with the prompt that was open when it came."""

    drawing: Drawing
    prompt: Prompt | None
    status: str


class _Bridge(QObject):
    """Carries a drawing from the server's store thread to the GUI thread (queued)."""

    arrived = Signal(object)


class ClassMode(QObject):
    """See the module docstring. ``collect(raster_label_pairs) -> message`` adds drawings
    to Teach's data set (the window passes Teach's; None: the action says it is absent)."""

    opened = Signal(str)  # the join URL
    closed = Signal()

    def __init__(self, host: WindowHost,
                 collect: Callable[[list[tuple[np.ndarray, str | None]]], str] | None = None,
                 folder: Path | None = None) -> None:
        super().__init__(host.canvas)
        self.setObjectName("class_mode")
        self.host, self._collect = host, collect
        self._clock = host.canvas.clock  # the pen's clock: read by the server's threads
        self.folder = folder or user_data_folder() / "class"
        self.server: ClassServer | None = None
        self.entries: list[Entry] = []
        self.prompt: Prompt | None = None
        self._bridge = _Bridge()
        self._bridge.arrived.connect(self._arrived)  # queued: emitted in a server thread
        self._incoming: deque[Drawing] = deque()
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.timeout.connect(self._drain)
        self._since_drain = QElapsedTimer()  # since the wall last took drawings
        self._since_drain.start()
        self.wall = WallPanel()
        self.dock = host.add_panel_dock(self.wall, "The class", "dock_class")
        self.step: WallStage | None = None
        w = self.wall
        w.open_wanted.connect(self._open_from_menu)
        w.close_wanted.connect(self.close)
        w.ask.connect(self.ask)
        w.chosen.connect(self.show_on_canvas)
        w.collect.connect(self.collect)
        host.live.model_changed.connect(lambda model, _probe: w.set_classes(list(model.classes)))
        if host.live.model is not None:
            w.set_classes(list(host.live.model.classes))
        host.add_close_guard(lambda: self.close() or True)

        menu = host.menu("&Class", "class_menu")
        self.act_open = QAction("Open the class…", menu)
        self.act_open.setObjectName("act_class_open")
        self.act_open.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.act_open.triggered.connect(self._open_from_menu)
        self.act_close = QAction("Close the class", menu)
        self.act_close.setObjectName("act_class_close")
        self.act_close.triggered.connect(self.close)
        self.act_ask = QAction("Ask the class…", menu)
        self.act_ask.setObjectName("act_class_ask")
        self.act_ask.triggered.connect(self._focus_prompt)
        self.act_collect = QAction("Collect for Teach", menu)
        self.act_collect.setObjectName("act_class_collect")
        self.act_collect.triggered.connect(lambda: self.collect([]))
        for act in (self.act_open, self.act_close, self.act_ask, self.act_collect):
            menu.addAction(act)
        menu.addAction(self.dock.toggleViewAction())
        self._enable()

    # ----- open and close ---------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.server is not None

    def open(self, host: str | None = None, port: int = 0) -> str:
        """Start the server (a no-op returning the URL when it runs); the join URL.
        Raises OSError naming the address when it cannot listen."""
        if self.server is not None:
            return self.server.url
        from app.class_server import ClassServer, classifier, qr_png  # aiohttp: only when asked

        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        server = ClassServer(classifier(self._model, self.host.live.input_mode),
                             self.folder / stamp, host=host, port=port,
                             on_drawing=self._bridge.arrived.emit,
                             pen_down=self.host.pen_down, pen_gap=self._pen_gap)
        url = server.start()
        self.server = server
        server.prompt = self.prompt.text if self.prompt else None
        png = qr_png(url, scale=10, border=2)
        self.wall.set_open(url, png)
        qr = QImage.fromData(png)
        self.step = WallStage(WallView(url, qr))
        self._update_step()
        self.host.stage.set_feature_step(self.step)
        self.dock.show()
        self._enable()
        self.opened.emit(url)
        return url

    def _pen_gap(self) -> float:
        """ms until the pen's next move is due (``inf``: none): asked by the server's
        threads, so it reads the pen's clock, a plain Python object, never a widget."""
        return self._clock.gap_ms(time.perf_counter())

    def close(self) -> None:
        """Stop the server: the address stops working at once. The wall stays."""
        if self.server is None:
            return
        server, self.server = self.server, None
        server.stop()
        self.wall.set_open(None, None)
        self.host.stage.set_feature_step(None)
        self.step = None
        self._enable()
        self.closed.emit()

    def _open_from_menu(self) -> None:
        try:
            url = self.open()
        except (OSError, ConvPadError) as exc:
            self.host.show_notice(f"Cannot open the class: {exc}")
            return
        self.host.show_notice(f"The class is open: students open {url} (or scan the code).")

    def _model(self):
        return self.host.live.model

    def _enable(self) -> None:
        self.act_open.setEnabled(self.server is None)
        self.act_close.setEnabled(self.server is not None)

    # ----- prompts ----------------------------------------------------------------------
    def ask(self, prompt: Prompt | None) -> None:
        """Show ``prompt`` on every student's page (None: stop asking)."""
        self.prompt = prompt
        if self.server is not None:
            self.server.prompt = prompt.text if prompt else None
        self.wall.show_prompt(prompt)
        self._update_step()

    def _focus_prompt(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.wall.prompt.setFocus()

    # ----- drawings ---------------------------------------------------------------------
    def _arrived(self, drawing: Drawing) -> None:
        """A drawing reached the GUI thread: it waits its turn (see :meth:`_drain`)."""
        if not self._incoming:
            self._since_drain.restart()  # the wait for a gap in the pen starts now
        self._incoming.append(drawing)
        if not self._drain_timer.isActive():
            self._drain_timer.start(0)

    def _drain(self) -> None:
        """Put waiting drawings on the wall, a few milliseconds' worth at a time.

        A class sends in bursts (thirty phones at the bell, up to 64 answered in one
        batch): one wall update per drawing, each redoing the summary and the stage's
        tiles, held the pen up to 100 ms. Here a burst costs one summary and one stage
        update per slice, and the pen's events get their turn between slices.

        While the teacher draws, the wall takes a slice at most every
        :data:`PEN_PERIOD_MS`, in a gap between the pen's moves long enough for it (at
        most :data:`PEN_WAIT_MS` late), as the desk's panels do: the wall's slices and
        their repaints, every 12 ms through a burst, had made each pen event a third
        dearer (``benchmarks/class_pen.py``: the repaint per pen event 1.76× its time
        without the class, 1.31× with the wall's updates left out).
        """
        budget = DRAIN_MS
        if self.host.pen_down():
            waited, gap = self._since_drain.elapsed(), self.host.canvas.pen_gap_ms()
            if waited < PEN_PERIOD_MS:
                self._drain_timer.start(PEN_PERIOD_MS - waited)
                return
            if gap < DRAIN_MS + 1 and waited < PEN_WAIT_MS:
                # After the pen's next move (then its gap is the longest), or look again.
                self._drain_timer.start(int(min(gap, DRAIN_PAUSE_MS)) + 1)
                return
            budget = max(1.0, min(DRAIN_MS, gap - 1))
        clock = QElapsedTimer()
        clock.start()
        while self._incoming and clock.nsecsElapsed() < budget * 1e6:
            drawing = self._incoming.popleft()
            prompt = self.prompt if self.prompt and drawing.prompt == self.prompt.text \
                else None
            entry = Entry(drawing, prompt, sort(drawing.answer.label, prompt))
            self.entries.append(entry)
            p = drawing.answer.probabilities.get(drawing.answer.label, float("nan"))
            self.wall.add(len(self.entries) - 1, drawing.raster, drawing.name,
                          drawing.answer.label, p, entry.status)
        self.wall.show_summary(self.summary())
        self._update_step()
        self._since_drain.restart()
        if self._incoming:
            self._drain_timer.start(DRAIN_PAUSE_MS)

    def summary(self) -> Summary:
        return Summary([(e.prompt.asked, e.drawing.answer.label, e.status)
                        for e in self.entries if e.prompt is not None and e.prompt.asked])

    def show_on_canvas(self, index: int) -> None:
        """Put drawing ``index`` on the canvas (undoable), as if drawn there."""
        d = self.entries[index].drawing
        self.host.canvas.replace(d.raster, f"drawing by {d.name or 'a student'}")

    def collect(self, indices: list[int]) -> None:
        """Add drawings to Teach: ``indices``, or (empty) all sent under the open prompt."""
        if not indices:
            indices = [i for i, e in enumerate(self.entries)
                       if self.prompt is not None and e.prompt == self.prompt]
        if not indices:
            self.host.show_notice("Nothing to collect: ask the class for something first, "
                                  "or select drawings on the wall.")
            return
        if self._collect is None:
            self.host.show_notice("Teach is not available in this window.")
            return
        pairs = [(self.entries[i].drawing.raster,
                  self.entries[i].prompt.asked if self.entries[i].prompt else None)
                 for i in indices]
        self.host.show_notice(self._collect(pairs))

    def _update_step(self) -> None:
        if self.step is None:
            return
        v = self.step.view
        v.prompt = self.prompt.text if self.prompt else None
        v.summary = self.summary().line() if any(e.prompt for e in self.entries) else (
            f"{len(self.entries)} drawing{'s' if len(self.entries) != 1 else ''}"
            if self.entries else "")
        v.tiles = [Tile(e.drawing.raster, e.drawing.name, e.drawing.answer.label, e.status)
                   for e in reversed(self.entries[-MAX_TILES:])]
        self.host.stage.refresh_step(self.step)


def install(host: WindowHost, collect=None, folder: Path | None = None) -> ClassMode:
    """Add class mode (menu, wall dock, stage step) to the window behind ``host``."""
    return ClassMode(host, collect, folder)
