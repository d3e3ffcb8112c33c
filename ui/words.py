"""Shared layer (every lesson): counts and numbers in words, for people.

One home for plurals, for the app's one way of counting updates, and for how a measured number
is written.

Counting updates: "update u of U" names the point after u updates. Update 0 is the start,
before any update; update U, the total, is the end of the run; update 1 is the first step
(its batch is ``run.batch_loss[0]`` in 0-based code). Every scrubber, stepper and sentence in
the app counts this way. A stepper that looks inside one update (Inside one mini-batch) runs
from update 1 to U: update u is the step from the point after u − 1 updates to the point after u
(``run.params[u − 1]`` → ``run.params[u]``); its batch is batch u − 1 in 0-based code, and
Keras's decay counts t = u − 1 updates before it.

Example:
    >>> plural(1, "update"), plural(140, "update"), plural(1_000, "batch", "batches")
    ('1 update', '140 updates', '1,000 batches')
    >>> plural(1, "epoch", number=False), plural(2, "epoch", number=False)
    ('epoch', 'epochs')
    >>> import numpy as np; plural(np.int64(1), "row")
    '1 row'
    >>> number(0.261749), number(31234.5), number(float("inf"))
    ('0.2617', '3.123e+04', '∞')
    >>> gap_text(3.185, 0.2617), gap_text(0.2617 - 5e-17, 0.2617)
    ('2.923', '0')
"""

from __future__ import annotations

import math
import numbers


def plural(count: int | float, noun: str, many: str | None = None, *, number: bool = True) -> str:
    """``count`` and ``noun``, the noun plural unless the count is exactly 1.

    Args:
        count: how many; an int is written with thousands separators, a float with ``:g``.
        noun: the singular ("update").
        many: the plural when it is not ``noun + "s"`` ("batches").
        number: False leaves the count out, for "updates per epoch" after a number shown
            elsewhere.
    """
    word = noun if count == 1 else (many or noun + "s")
    if not number:
        return word
    shown = f"{int(count):,}" if isinstance(count, numbers.Integral) else f"{count:g}"
    return f"{shown} {word}"


def number(value: float) -> str:
    """A loss, a gap or a parameter as the app writes it: 4 significant digits (Python's
    ``:.4g``, which the stage's ``g4`` in ``canvas.js`` copies), "∞" when not finite."""
    return f"{value:.4g}" if math.isfinite(value) else "∞"


# A loss gap this small, relative to the minimum (or 1), is rounding, not distance: "0". The
# stage's frames compute theirs from float32 losses (``gapText`` in canvas.js: 1e-6).
GAP_ROUNDING = 1e-12


def gap_text(loss: float, minimum: float) -> str:
    """How far a loss is above the minimum, as the cards write it (``number``; "0" within
    rounding of the minimum)."""
    gap = loss - minimum
    return "0" if abs(gap) <= GAP_ROUNDING * max(1.0, abs(minimum)) else number(gap)
