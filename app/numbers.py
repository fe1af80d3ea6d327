"""The one rule for printing a value, on the desk, the stage and the step-through alike.

The lecture prints 7/9 as 0.77: values are **cut**, not rounded, to their decimals, so
ConvPad's tables read exactly like the slides' (0.77, −0.11 …). A negative value gets a
real minus sign (U+2212), as wide as a digit, where a hyphen is a dot from the back of a
room; a value that cuts to zero is "0.00", never "−0.00". No Qt here.

Two more conventions every view keeps:

- maps, features, filters, units, rows and columns are counted **from 1** wherever a
  person reads them ("map 1" is the first map on the desk, the stage and the
  step-through alike);
- the toy's weights are the lecture's ±1 features with the match divided by 9. A view
  says so once, in both forms (:func:`matching_words`: "±1 ÷ 9 = ±0.11"), and then
  prints the ±1 form only.
"""

from __future__ import annotations

import math

import numpy as np

MINUS = "\u2212"


def matching_words(n: int) -> str:
    """The lecture's form of a ±1/n weight and its decimal, together: "±1 ÷ 9 = ±0.11"."""
    return f"±1 ÷ {n} = ±{value_text(1.0 / n)}"


def value_text(v: float, decimals: int = 2) -> str:
    """``v`` cut (not rounded) to ``decimals`` places, as the lecture prints it.

    The tiny nudge before cutting keeps a float32 0.78 (0.77999997) from showing as 0.77.
    """
    v = float(v)
    if not math.isfinite(v):
        return str(v)
    scale = 10**decimals
    cut = math.trunc(v * scale + math.copysign(1e-3, v)) / scale
    text = f"{abs(cut):.{decimals}f}"
    return MINUS + text if cut < 0 else text


def integer_text(v: float) -> str:
    """A whole number (the ±1 grid, a count), with a real minus sign."""
    n = round(float(v))
    return f"{MINUS}{-n}" if n < 0 else str(n)


def decimals_for(values: np.ndarray) -> int:
    """How many decimals make ``values`` readable: 0 for whole numbers, 3 for small ones."""
    a = np.asarray(values, np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0 or np.allclose(a, np.round(a), atol=1e-6):
        return 0
    nonzero = np.abs(a[np.abs(a) > 1e-9])
    return 3 if nonzero.size and float(np.median(nonzero)) < 0.1 else 2


def percent_text(p: float) -> str:
    """A probability as a whole percentage; "<1%" and ">99%" rather than a misleading
    "0%" or "100%" for a network that is almost, not quite, sure."""
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1:
        return ">99%"
    return f"{p * 100:.0f}%"


def signed_points(d: float) -> str:
    """A difference of probabilities in percentage points: "+12", "−3", "0" (B − A)."""
    n = round(float(d) * 100)
    return "0" if n == 0 else (f"+{n}" if n > 0 else f"{MINUS}{-n}")


def score_text(v: float) -> str:
    """A logit or a difference of votes with its sign and about three significant
    digits (+0.42, −12.3, +153), cut like every value (:func:`value_text`)."""
    a = abs(float(v))
    text = value_text(v, 2 if a < 10 else 1 if a < 100 else 0)
    return text if text.startswith(MINUS) or not math.isfinite(v) else "+" + text
