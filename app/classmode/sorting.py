"""Asking the class: a prompt, how each drawing that answers it is sorted, the summary.

No Qt here. A prompt asks for a class ("draw a 7") or to fool the network ("fool it: a
3 it reads as an 8"). Each drawing sent while it is open is then:

- **matched**: the network read the asked class (the class drew it so it reads);
- **missed**: a "draw" prompt the network read as something else;
- **fooled it**: a "fool" prompt the network read as something else (as the wanted
  class, when the prompt names one; otherwise as anything but the asked class). A
  "fool" drawing the network read correctly is *matched*: it was not fooled.

:class:`Summary` counts them, says per asked class how many the network got right,
and tabulates the confusions — what was asked against what the network said.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

MATCHED, MISSED, FOOLED = "matched", "missed", "fooled it"


@dataclass(frozen=True)
class Prompt:
    """What the teacher asked: the words shown to students, the asked class, and for a
    "fool it" prompt the class the network should be fooled into (None: any other)."""

    text: str
    asked: str | None = None
    fool: bool = False
    fooled_as: str | None = None


def parse_prompt(text: str, classes: list[str]) -> Prompt:
    """Read the asked class (and a "fool" prompt's target) out of the teacher's words.

    The first class name that stands as a word ("7", "X") is the asked class; with
    "fool" or "trick" in the prompt it is a fool prompt, and a second class named is
    the one to be read as. A prompt naming no class is kept as words only (nothing is
    sorted). The teacher can correct both in the panel.
    """
    text = " ".join(str(text).split())
    found: list[str] = []
    for word in re.findall(r"[^\s,.:;!?\"'“”()]+", text):
        for c in classes:
            if word.casefold() == c.casefold() and c not in found:
                found.append(c)
    fool = bool(re.search(r"\b(fool|trick)", text, re.IGNORECASE))
    return Prompt(text, found[0] if found else None, fool,
                  found[1] if fool and len(found) > 1 else None)


def sort(answer: str, prompt: Prompt | None) -> str:
    """``MATCHED``, ``MISSED``, ``FOOLED`` — or "" when no class was asked."""
    if prompt is None or prompt.asked is None:
        return ""
    if answer == prompt.asked:
        return MATCHED
    if not prompt.fool:
        return MISSED
    return FOOLED if prompt.fooled_as in (None, answer) else MISSED


@dataclass
class Summary:
    """The counts over drawings sent while prompts were open: ``(asked, answer, status)``."""

    rows: list[tuple[str, str, str]]

    @property
    def total(self) -> int:
        return len(self.rows)

    def counts(self) -> Counter:
        return Counter(status for _, _, status in self.rows)

    def right_per_class(self) -> dict[str, tuple[int, int]]:
        """Per asked class: (read as asked, drawings)."""
        out: dict[str, list[int]] = {}
        for asked, answer, _ in self.rows:
            n = out.setdefault(asked, [0, 0])
            n[0] += answer == asked
            n[1] += 1
        return {c: (a, b) for c, (a, b) in sorted(out.items())}

    def confusion(self) -> tuple[list[str], list[str], list[list[int]]]:
        """(asked classes, answers, counts[asked][answer]), both sorted."""
        asked = sorted({a for a, _, _ in self.rows})
        said = sorted({s for _, s, _ in self.rows})
        counts = Counter((a, s) for a, s, _ in self.rows)
        return asked, said, [[counts[(a, s)] for s in said] for a in asked]

    def line(self) -> str:
        """One line for the wall and the stage: "12 drawings: 9 matched, 2 missed, 1 fooled it"."""
        c = self.counts()
        parts = [f"{c[k]} {k}" for k in (MATCHED, MISSED, FOOLED) if c[k]]
        n = self.total
        return f"{n} drawing{'s' if n != 1 else ''}" + (": " + ", ".join(parts) if parts else "")
