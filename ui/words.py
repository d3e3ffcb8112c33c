"""Shared layer (every lesson): counts in words, for people.

One home for plurals and for counting as people count: "1 update", "140 updates", and update 1 is
the first one. Code stays 0-based (``run.params[0]`` is the start, ``run.batch_loss[0]`` the first
update's loss); only the words shown add 1.

Example:
    >>> plural(1, "update"), plural(140, "update"), plural(1_000, "batch", "batches")
    ('1 update', '140 updates', '1,000 batches')
    >>> plural(1, "epoch", number=False), plural(2, "epoch", number=False)
    ('epoch', 'epochs')
    >>> import numpy as np; plural(np.int64(1), "row")
    '1 row'
"""

from __future__ import annotations

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
