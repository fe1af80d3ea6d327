"""The classroom stage: the network one step at a time, like the lecture's slides.

``Stage`` is fed a trace per pen frame (``set_trace``) and shows one stage of the
network's story — what the network sees, filtering, pooling, ReLU, votes or dense
layers, the answer — under a pipeline strip of all stages. It stores what it is given
and schedules one repaint: a frame only ever paints the stage on screen, and any
number of requests between two frames (pen strokes, clicker presses) cost one paint.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, QRect, QRectF, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from app.look import DARK, LIGHT, Look, Type, line_height, look_for, text_width
from app.stage.base import Frame, Limits, StageBase
from app.stage.build import build_stages, structure
from app.stage.ink import Ink, Painted, Shown
from app.stage.strip import PipelineStrip
from app.stage.view import StageView

DRAW_SOMETHING = "draw something — this step fills in as you draw"
COMPARING = ("B − A: how much each number changed from the pinned drawing A "
             "(probabilities in points)")


class Stage(QWidget):
    """The network shown one stage at a time, for a projector.

    Feed it with :meth:`set_trace`; step with :meth:`next_stage`/:meth:`previous_stage`,
    :meth:`go` or the strip; choose a channel with :meth:`set_channel` or a click.
    A stage whose channels do not fit one page at a readable size shows them a page at a
    time: next/previous step through the pages first (``page``, ``page_count``).
    """

    stage_changed = Signal(int)
    channel_selected = Signal(int)
    step_changed = Signal(int, int)  # (stage, page) on every step, pages included

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stage")
        self.setMinimumSize(640, 360)  # below this no page can hold a readable 7×7 table
        self._trace = None
        self._blank = True
        self._explanation: tuple | None = None  # (Explanation, drawing): the Explain step
        self._feature_step: StageBase | None = None  # a feature's own last step (the wall)
        self._structure: tuple | None = None
        self._weights: tuple = ()  # the weight arrays the stages were built from
        self._stages: list[StageBase] = []
        self._index = 0
        self._page = 0
        self._selection: dict[str, int] = {}
        self._limits = Limits()
        self._look: Look = DARK
        self._type = Type(1280, 720)
        self._title: QRectF = QRectF()
        self._subtitle: QRectF = QRectF()
        self._pager: QRectF = QRectF()
        self._rate: QRectF = QRectF()
        self.rate_text: str | None = None  # the update-rate readout (None: turned off)
        self._rate_clock = QElapsedTimer()
        self._rate_clock.start()
        self._body: QRectF = QRectF()
        self.strip = PipelineStrip(self)
        self.view = StageView(self)
        self.strip.clicked.connect(self.go)
        self.view.clicked.connect(self._click)
        self._relayout()

    # ===== public API =================================================================
    def set_trace(self, trace, blank: bool, paced: bool = False) -> None:
        """Show ``trace`` (an engine Trace); ``blank`` for an empty canvas (no activity).

        Another network rebuilds the stages; other weights of the same network (features
        a student edited, a training checkpoint) rebuild them too but keep the step,
        the page and the chosen channels, so the stage never shows weights that are not
        the live model's.
        """
        s = structure(trace)
        weights = tuple(id(lay.weights) for lay in trace.layers)
        diff = getattr(trace, "difference", False)
        # the same network, weights, emptiness and comparison: only the maps can change
        same = (s, weights, bool(blank), diff) == (
            self._structure, self._weights, self._blank, getattr(self._trace, "difference", diff))
        self._trace, self._blank = trace, bool(blank)
        if s != self._structure:
            self._rebuild(trace, s)
        elif weights != self._weights:
            self._stages = self._built(trace)
            self._layout_stages()
        self._weights = weights
        v = self.view
        if not paced:
            v.new_trace()
            v.update()
        else:
            v.want(self._live_pieces() if same else None)
        if paced and not v.pace.isActive():
            # While the pen moves, the stage repaints at most half the time: after a
            # paint of P ms it waits P ms, so the ink's paints always get their turn.
            v.pace.start(max(0, int(v.paint_ms - v.since_paint.elapsed())))

    def set_explanation(self, explanation, drawing) -> None:
        """The Explain step's map (an ``engine.explain.Explanation`` of ``drawing``, the
        canvas raster), or None while it is being computed or stale."""
        self._explanation = None if explanation is None else (explanation, drawing)
        if self.showing_explain:
            self.view.update()

    @property
    def showing_explain(self) -> bool:
        """Whether the Explain step is on screen (its map is wanted now)."""
        return bool(self._stages) and self._stages[self._index].short == "explain" \
            and self.isVisible()

    def set_feature_step(self, step: StageBase | None) -> None:
        """A feature's own step after the network's (class mode's wall), or None."""
        if step is self._feature_step:
            return
        self._feature_step = step
        if self._trace is not None:
            self._rebuild(self._trace, self._structure)

    def set_rate_text(self, text: str | None) -> None:
        """The update-rate readout at the right of the subtitle row (None: none). While
        the pen moves it is repainted at most once a second: its own small repaint."""
        shown = self.rate_text
        self.rate_text = text
        if text is None or shown is None or self._rate_clock.elapsed() >= 1000:
            self._rate_clock.restart()
            self.view.update(self._rate.toAlignedRect())

    def refresh_step(self, step: StageBase) -> None:
        """``step``'s data changed: repaint if it is on screen."""
        if self._stages and self._stages[self._index] is step:
            self.view.update()

    def _built(self, trace) -> list[StageBase]:
        stages = build_stages(trace)
        if self._feature_step is not None:
            self._feature_step.layout(QRectF(self._body), self._type)
            stages.append(self._feature_step)
        return stages

    def stage_titles(self) -> list[str]:
        return [s.titles[0] for s in self._stages]

    @property
    def stage_index(self) -> int:
        return self._index

    @property
    def page(self) -> int:
        return self._page

    @property
    def page_count(self) -> int:
        return self._stages[self._index].pages if self._stages else 1

    @property
    def stages(self) -> list[StageBase]:
        return list(self._stages)

    def go(self, i: int, page: int | None = None) -> None:
        """Show stage ``i`` (the page of the chosen channel, or ``page``); one repaint."""
        if not self._stages:
            return
        i = min(max(int(i), 0), len(self._stages) - 1)
        stage = self._stages[i]
        if page is None:
            page = stage.page_of(self._selection.get(stage.block or "", 0)) \
                if stage.pages > 1 else 0
        self._show(i, min(max(page, 0), stage.pages - 1))

    def next_stage(self) -> None:
        """The next page of this stage, else the first page of the next stage."""
        if not self._stages:
            return
        if self._page + 1 < self.page_count:
            self._show(self._index, self._page + 1)
        elif self._index + 1 < len(self._stages):
            self._show(self._index + 1, 0)

    def previous_stage(self) -> None:
        """The previous page of this stage, else the last page of the previous stage."""
        if not self._stages:
            return
        if self._page > 0:
            self._show(self._index, self._page - 1)
        elif self._index > 0:
            self._show(self._index - 1, self._stages[self._index - 1].pages - 1)

    def first_stage(self) -> None:
        self._show(0, 0)

    def channel(self, block: str | None = None) -> int:
        """The chosen channel of conv layer ``block`` (default: the current stage's)."""
        block = block or self._block()
        return self._selection.get(block or "", 0)

    def set_channel(self, c: int) -> None:
        """Choose channel ``c`` of the current stage's conv layer (the first one elsewhere)."""
        self._select(self._block(), int(c))

    def set_dark(self, on: bool) -> None:
        """White on black (presentation, the default) or black on white."""
        self._set_look(DARK if on else LIGHT)

    def set_look(self, look: dict) -> None:
        """Follow one of app.theme's looks (DESK or PRESENTATION)."""
        self._set_look(look_for(look))

    # ----- what tests and the screenshot script read ----------------------------------
    def shown_texts(self) -> list[Shown]:
        """Every string the last paint of the current stage drew (title row included)."""
        return list(self.view.shown)

    def shown_numbers(self) -> list[Shown]:
        """The values (and weights) the last paint drew: label, value, box, pixel size."""
        return [s for s in self.view.shown if s.role in ("number", "weight")]

    def painted(self) -> list[Painted]:
        """The colour areas the last paint drew ("activity" or "weight")."""
        return list(self.view.painted)

    @property
    def paints(self) -> int:
        return self.view.paints

    # ===== internals ==================================================================
    def _block(self) -> str | None:
        if self._stages and self._stages[self._index].block:
            return self._stages[self._index].block
        return next((s.block for s in self._stages if s.block), None)

    def _live_pieces(self) -> list[QRect] | None:
        """What a new trace can change on the page shown (None: anything)."""
        rects = self._stages[self._index].live_rects(self._page) if self._stages else None
        return None if rects is None else [r.toAlignedRect() for r in rects]

    def _rebuild(self, trace, s: tuple) -> None:
        self._structure = s
        self._stages = self._built(trace)
        self._limits = Limits()
        self._selection = {}
        old = self._index
        self._index = min(self._index, len(self._stages) - 1)
        self._page = 0
        self.strip.set_items([(st.short, st.shape) for st in self._stages])
        self._layout_stages()
        self.strip.set_current(self._index)
        if self._index != old:
            self.stage_changed.emit(self._index)

    def _show(self, i: int, page: int) -> None:
        changed = i != self._index
        moved = changed or page != self._page
        self._index, self._page = i, page
        stage = self._stages[i]
        if stage.pages > 1 and stage.block:
            units = stage.page_units(page)
            if self._selection.get(stage.block, 0) not in units:
                self._select(stage.block, units.start, follow=False)
        self.strip.set_current(i)
        self.view.update()
        if changed:
            self.stage_changed.emit(i)
        if moved:
            self.step_changed.emit(i, page)

    def _select(self, block: str | None, c: int, follow: bool = True) -> None:
        if not block:
            return
        units = next((s.units for s in self._stages if s.block == block), 1)
        c = min(max(c, 0), units - 1)
        if self._selection.get(block, 0) == c and block in self._selection:
            return
        self._selection[block] = c
        stage = self._stages[self._index] if self._stages else None
        if follow and stage is not None and stage.block == block and stage.pages > 1:
            page = stage.page_of(c)
            if page != self._page:
                self._page = page
                self.step_changed.emit(self._index, page)
        self.view.update()
        self.channel_selected.emit(c)

    def _click(self, pos: QPointF) -> None:
        if not self._stages:
            return
        hot = self._stages[self._index].hit(pos, self._page)
        if hot is not None:
            self._select(hot.block, hot.channel)

    def _set_look(self, look: Look) -> None:
        self._look = look
        self.strip.set_style(look, self._type)
        self.update()
        self.view.update()

    # ----- layout ---------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def event(self, event: QEvent) -> bool:
        kinds = {QEvent.Type.ScreenChangeInternal,
                 getattr(QEvent.Type, "DevicePixelRatioChange", QEvent.Type.ScreenChangeInternal)}
        if event.type() in kinds:
            self._relayout()
        return super().event(event)

    def _relayout(self) -> None:
        w, h = max(self.width(), 1), max(self.height(), 1)
        self._type = Type(w, h, self.devicePixelRatioF())
        t = self._type
        sh = PipelineStrip.height_for(t)
        self.strip.setGeometry(0, 0, w, sh)
        self.view.setGeometry(0, sh, w, h - sh)
        self.strip.set_style(self._look, t)
        g = t.gap
        m = max(g, round(w / 80))
        pager_w = text_width("88 / 88", t.label_px) + g
        th, sl = line_height(t.title_px), line_height(t.label_px)
        self._title = QRectF(m, g, w - 2 * m - pager_w - g, th)
        self._pager = QRectF(w - m - pager_w, g, pager_w, th)
        self._subtitle = QRectF(m, g + th, w - 2 * m, sl)
        rate_w = text_width("stage 888/s · network 88.8 ms", t.label_px)
        self._rate = QRectF(w - m - rate_w, g + th, rate_w, sl)
        top = self._subtitle.bottom() + 2 * g
        self._body = QRectF(m, top, w - 2 * m, (h - sh) - top - 2 * g)
        self._layout_stages()
        self.view.update()

    def _layout_stages(self) -> None:
        for s in self._stages:
            s.layout(QRectF(self._body), self._type)
        if self._stages:
            self._page = min(self._page, self._stages[self._index].pages - 1)

    # ----- paint ----------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(self._look.background))
        p.end()

    def _paint(self, p: QPainter, clip: QRectF | None = None) -> Ink:
        """Paint the stage; ``clip``: only that part is being repainted (a piece)."""
        look, t = self._look, self._type
        p.fillRect(self.view.rect() if clip is None else clip, QColor(look.background))
        ink = Ink(p, look, t, clip)
        if not self._stages or self._trace is None:
            ink.fit_text(self._subtitle, (DRAW_SOMETHING, "draw something"), t.label_px,
                         align="left", color=look.accent)
            return ink
        if self.rate_text:
            ink.fit_text(self._rate, (self.rate_text,), t.label_px, align="right",
                         color=look.dim, bold=False)
        stage = self._stages[self._index]
        if not ink.fit_text(self._title, stage.titles, t.title_px, align="left"):
            ink.fit_text(self._title, stage.titles, t.min_px, align="left")
        if stage.pages > 1:
            ink.fit_text(self._pager, (f"{self._page + 1} / {stage.pages}",), t.label_px,
                         align="right", color=look.dim)
        if self._blank and stage.needs_drawing:
            ink.fit_text(self._subtitle, (DRAW_SOMETHING, "draw something"), t.label_px,
                         align="left", color=look.accent)
        elif getattr(self._trace, "difference", False):
            ink.fit_text(self._subtitle, (COMPARING, "B − A: changes from the pinned A"),
                         t.label_px, align="left", color=look.accent)
        elif not t.compact:
            sub = QRectF(self._subtitle)
            if self.rate_text:  # the readout keeps the right of the row
                sub.setRight(self._rate.left() - t.gap)
            ink.fit_text(sub, (stage.subtitle,), t.label_px, align="left", color=look.dim,
                         bold=False)
        frame = Frame(self._trace.layers, list(self._trace.classes),
                      self._trace.probabilities, self._blank, self._selection, self._limits,
                      getattr(self._trace, "difference", False), self._explanation)
        stage.paint(ink, frame, self._page)
        return ink


