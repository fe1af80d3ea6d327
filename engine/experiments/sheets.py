"""A contact sheet: every replayed drawing of an experiment on one picture, with its answer.

Wrong answers (the label disagrees) get a red frame and caption, right ones a green
frame, unlabelled ones grey — a class sees at a glance which drawings fooled the network.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.errors import ExperimentError
from engine.experiments.records import Replayed, _reason
from engine.storage.files import write_bytes_atomic

# ----- contact sheet ------------------------------------------------------------------
WRONG = (200, 0, 0)
RIGHT = (0, 130, 60)
PLAIN = (150, 150, 150)


@dataclass
class Sheet:
    """A contact sheet: the picture, and each cell's caption and verdict in order."""

    image: Image.Image
    captions: list[str]
    verdicts: list[bool | None]  # True right, False wrong, None no label
    cell: int
    columns: int
    caption_height: int

    def cell_box(self, i: int) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` of cell ``i``, caption included."""
        r, c = divmod(i, self.columns)
        h = self.cell + self.caption_height
        return c * self.cell, r * h, (c + 1) * self.cell, (r + 1) * h


def caption(prediction: str | None, confidence: float | None, label: str | None) -> str:
    """``"7 98%"``; ``"7 98% wrong (label 1)"`` when the label disagrees; ``"no ink"``."""
    if prediction is None or confidence is None:
        text = "no ink"
    else:
        text = f"{prediction} {confidence:.0%}"
    if label is not None and label != prediction:
        text += f" wrong (label {label})"
    return text


def contact_sheet(
    items: Iterable[Replayed], columns: int | None = None, cell: int = 160
) -> Sheet:
    """A grid of the drawings, dark ink on white, each captioned with its answer.

    A cell whose answer disagrees with its label gets a red frame and a red caption; a
    labelled right one a green frame; an unlabelled one a grey frame.
    """
    items = list(items)
    n = len(items)
    columns = columns or max(1, min(8, int(np.ceil(np.sqrt(n)))))
    rows = max(1, int(np.ceil(n / columns)))
    pad = max(2, cell // 40)
    texts = [caption(it.prediction, it.confidence, it.row.label) for it in items]
    # Each caption on at most two lines (answer; verdict), in the largest type at which
    # every line fits its own cell: a caption never runs into the next drawing.
    lines = [_two_lines(t) for t in texts]
    font = _fitting_font([ln for pair in lines for ln in pair], cell - 4 * pad,
                         max(10, cell // 9))
    line_h = sum(font.getmetrics()) + 2
    cap_h = 2 * line_h + 2 * pad
    sheet = Image.new("RGB", (columns * cell, rows * (cell + cap_h)), "white")
    draw = ImageDraw.Draw(sheet)
    verdicts = []
    for i, item in enumerate(items):
        r, c = divmod(i, columns)
        left, top = c * cell, r * (cell + cap_h)
        verdict = item.correct
        frame = pad if verdict is None else 2 * pad
        inner = cell - 2 * pad - 2 * frame - 2 * pad  # inside the frame, with a margin
        drawing = Image.fromarray(255 - item.image, mode="L")
        drawing.thumbnail((inner, inner), Image.Resampling.LANCZOS)
        sheet.paste(drawing.convert("RGB"), (left + (cell - drawing.width) // 2,
                                             top + (cell - drawing.height) // 2))
        colour = PLAIN if verdict is None else RIGHT if verdict else WRONG
        draw.rectangle((left + pad, top + pad, left + cell - pad - 1, top + cell - pad - 1),
                       outline=colour, width=frame)
        for k, line in enumerate(lines[i]):
            draw.text((left + 2 * pad, top + cell + pad + k * line_h), line, font=font,
                      fill=WRONG if verdict is False else (0, 0, 0))
        verdicts.append(verdict)
    return Sheet(sheet, texts, verdicts, cell, columns, cap_h)


def _two_lines(text: str) -> tuple[str, ...]:
    """"7 98% wrong (label 1)" → ("7 98%", "wrong (label 1)")."""
    head, sep, tail = text.partition(" wrong ")
    return (head, "wrong " + tail) if sep else (text,)


def _fitting_font(lines: list[str], width: int, size: int) -> ImageFont.FreeTypeFont:
    """The default font at ``size`` px, or smaller until every line is ``width`` wide."""
    while True:
        font = ImageFont.load_default(size=size)
        if size <= 8 or all(font.getlength(ln) <= width for ln in lines):
            return font
        size -= 1


def save_contact_sheet(sheet: Sheet, path: str | Path) -> Path:
    """Write ``sheet`` as a PNG atomically; :class:`ExperimentError` if it cannot."""
    path = Path(path)
    buf = io.BytesIO()
    sheet.image.save(buf, format="PNG")
    try:
        write_bytes_atomic(path, buf.getvalue())
    except OSError as exc:
        raise ExperimentError(_reason(exc, path.parent)) from None
    return path
