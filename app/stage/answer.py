"""The last steps: the answer in one word, and (Explain) which ink made it.

The answer is what the room waits for; the explanation answers the question a student
asks next — "which part of my drawing made it say that?" — with the drawing, a heat
map over it (red: ink that pushed toward the class, blue: away) and the class's
probability, all at the stage's sizes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF

from app.look import Type, fit_px, line_height
from app.numbers import percent_text as percent
from app.numbers import signed_points
from app.stage.base import Frame, StageBase
from app.stage.ink import Ink, Painted


class AnswerStage(StageBase):
    """The network's answer in one word and one percentage, the runners-up below."""

    short = "answer"
    titles = ("The answer", "Answer")
    subtitle = "the class with the largest share"

    def __init__(self, classes: list[str], votes: bool = False) -> None:
        super().__init__()
        self.classes = list(classes)
        self.what = "of the votes" if votes else "sure"

    @property
    def shape(self) -> str:
        return ""

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g = t.gap
        word = max(self.classes, key=len)
        self.big_px = fit_px(word, body.width() * 0.45, body.height() * 0.55, 10_000)
        self.pct_px = fit_px(f">99% {self.what}", body.width() * 0.45, body.height() * 0.25,
                             10_000)
        self.rest_px = max(t.min_px, min(t.title_px, t.label_px * 3 // 2))
        bh, ph = line_height(self.big_px), line_height(self.pct_px)
        rh = line_height(self.rest_px) * 1.2
        self.rest_n = max(0, min(len(self.classes) - 1, 3,
                                 int((body.height() - bh - 2 * g) // rh)))
        top = body.center().y() - (bh + g + self.rest_n * rh) / 2
        self.big = QRectF(body.center().x() - body.width() * 0.45 - g, top, body.width() * 0.45,
                          bh)
        self.pct = QRectF(body.center().x() + g, top + (bh - ph) / 2, body.width() * 0.45, ph)
        self.rest = [QRectF(body.left(), top + bh + g + j * rh, body.width(), rh)
                     for j in range(self.rest_n)]

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        if f.blank:
            return
        p = np.asarray(f.probabilities, np.float64)
        if f.difference:
            self.paint_difference(ink, p)
            return
        order = np.argsort(-p, kind="stable")
        win = int(order[0])
        ink.text(self.big, self.classes[win], self.big_px, align="right", color=ink.look.accent,
                 role="number", label="answer", value=float(p[win]))
        ink.text(self.pct, f"{percent(float(p[win]))} {self.what}", self.pct_px, align="left",
                 role="number", label="answer%", value=float(p[win]))
        for j, cell in enumerate(self.rest):
            k = int(order[j + 1])
            ink.fit_text(cell, (f"then {self.classes[k]}: {percent(float(p[k]))}",),
                         self.rest_px, color=ink.look.dim, role="number",
                         label=f"runner-up[{j}]", value=float(p[k]))

    def paint_difference(self, ink: Ink, d: np.ndarray) -> None:
        """B − A: the class whose probability moved most, by how many points."""
        order = np.argsort(-np.abs(d), kind="stable")
        big = int(order[0])
        ink.text(self.big, self.classes[big], self.big_px, align="right",
                 color=ink.look.accent, role="number", label="answer", value=float(d[big]))
        ink.fit_text(self.pct, (f"{signed_points(float(d[big]))} points", signed_points(
            float(d[big]))), self.pct_px, align="left", role="number", label="answer%",
            value=float(d[big]))
        for j, cell in enumerate(self.rest):
            k = int(order[j + 1])
            ink.fit_text(cell, (f"then {self.classes[k]}: {signed_points(float(d[k]))} points",),
                         self.rest_px, color=ink.look.dim, role="number",
                         label=f"runner-up[{j}]", value=float(d[k]))



class ExplainStage(StageBase):
    """Explain: the drawing with its heat map, and the explained class's probability.

    The map comes from the window's Explain feature (a worker computes it after each
    stroke); until it arrives, or with nothing drawn, the step says so instead of
    showing a map of another drawing.
    """

    short = "explain"
    titles = ("Explain: which ink made the network say it", "Explain: which ink did it",
              "Explain")
    subtitle = "red: ink that pushed toward the class · blue: ink that pushed away"

    def __init__(self, classes: list[str]) -> None:
        super().__init__()
        self.classes = list(classes)

    @property
    def shape(self) -> str:
        return ""

    def layout(self, body: QRectF, t: Type) -> None:
        super().layout(body, t)
        g = t.gap
        side = min(body.height(), body.width() * 0.55)
        self.picture = QRectF(body.left(), body.center().y() - side / 2, side, side)
        right = QRectF(self.picture.right() + 2 * g, body.top(),
                       body.right() - self.picture.right() - 2 * g, body.height())
        word = max(self.classes, key=len)
        self.big_px = max(t.min_px, fit_px(f"{word} 100%", right.width(), right.height() * 0.3,
                                           10_000))
        bh = line_height(self.big_px)
        lh = line_height(t.label_px) * 1.2
        top = right.center().y() - (bh + 4 * lh) / 2
        self.big = QRectF(right.left(), top, right.width(), bh)
        self.lines = [QRectF(right.left(), top + bh + g + k * lh, right.width(), lh)
                      for k in range(4)]

    def paint(self, ink: Ink, f: Frame, page: int) -> None:
        from PySide6.QtGui import QImage

        from engine.explain import overlay_rgba

        t = ink.type
        e, drawing = f.explanation if f.explanation is not None else (None, None)
        if f.blank or e is None or e.target is None or drawing is None:
            ink.fit_text(self.lines[0], ("explaining… (a moment after the pen lifts)",
                                         "explaining…"), t.label_px, align="left",
                         color=ink.look.dim)
            return
        rgba = np.ascontiguousarray(overlay_rgba(e.image_map, drawing))
        h, w = rgba.shape[:2]
        image = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
        ink.p.drawImage(self.picture, image)
        ink.painted.append(Painted(self.picture, "activity", "explain"))
        ink.outline(self.picture, ink.look.line)
        name = self.classes[e.target]
        p = float(e.probabilities[e.target])
        ink.text(self.big, f"{name} {percent(p)}", self.big_px, align="left",
                 color=ink.look.accent, role="number", label="explain", value=p)
        what = "the answer" if e.target == e.answer else "not the answer"
        lines = (
            (f"why {name}? ({what})", f"why {name}?"),
            (f"red: ink that pushed toward {name}", "red: toward"),
            (f"blue: ink that pushed away from {name}", "blue: away"),
            (f"method: {e.method}" + (f" on {e.layer}" if e.layer else ""), e.method),
        )
        for cell, variants in zip(self.lines, lines, strict=True):
            ink.fit_text(cell, variants, t.label_px, align="left")
