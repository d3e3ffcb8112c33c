"""Keras's bookkeeping of ``fit``, each fact in one small function.

Plain Python and NumPy, so the reference loop calls them as they are, and ``gd._kernels``
compiles these same functions with ``numba.njit`` (an njit function is also callable from
Python). Sources: ``docs/semantics.md`` §1 (the schedule) and §3 (the batches).

Example:
    >>> batches_per_epoch(200, 32), learning_rate_at(0.1, 0.5, 2), blew_up(float("nan"), 1e6)
    (7, 0.05, True)
"""

from __future__ import annotations

import math

import numpy as np

# A run has diverged when a batch loss is non-finite or exceeds this factor times
# max(starting full loss, 1). A stable run's batch loss stays far below it: one batch's mean
# loss is at most n_train (<= 100 000) times the full-data loss.
DIVERGENCE_FACTOR = 1e6

# "Never diverged" inside arrays (the kernels, ``SweepEnds``, ``Family``); ``Run`` says None.
NEVER = -1


def validation_split_at(n: int, validation_split: float) -> int:
    """Rows kept for training: ``floor(n·(1 − validation_split))``, computed as Keras does.

    Example:
        >>> validation_split_at(37, 0.25)               # Keras trains on rows [0:27]
        27
    """
    return math.floor(n * (1.0 - validation_split))


def batches_per_epoch(n_train, batch_size):
    """Keras's steps per epoch, ``ceil(n_train / batch_size)``: the last, smaller batch is kept.

    Works on ints or NumPy arrays of batch sizes.

    Example:
        >>> batches_per_epoch(200, 32)                  # 6 batches of 32, then one of 8
        7
    """
    return -(-n_train // batch_size)


def batch_bounds(slot, batch_size, n_train):
    """Rows ``[start, stop)`` of the epoch's row order that batch ``slot`` (0-based) takes.

    Example:
        >>> batch_bounds(6, 32, 200)                    # the last batch has 8 rows
        (192, 200)
    """
    start = slot * batch_size
    return start, min(start + batch_size, n_train)


def learning_rate_at(learning_rate, decay, t):
    """The rate of update t (0-based, counted across epochs, never reset): η / (1 + decay·t).

    Example:
        >>> learning_rate_at(0.1, 0.01, 0)              # the first update uses the full rate
        0.1
    """
    return learning_rate / (1.0 + decay * t)


def blew_up(loss, threshold):
    """True when a loss is above the divergence threshold or is NaN (``not loss <= threshold``).

    ``fit`` checks each batch loss before its update, and the full loss of the last point.
    """
    return not loss <= threshold


def divergence_threshold(start_loss: float) -> float:
    """The batch loss above which a run counts as diverged: ``DIVERGENCE_FACTOR`` × max(start
    loss, 1), or 0 (diverged at once) when the start loss is not finite.

    Example:
        >>> divergence_threshold(0.5), divergence_threshold(3.0)
        (1000000.0, 3000000.0)
    """
    return DIVERGENCE_FACTOR * max(start_loss, 1.0) if math.isfinite(start_loss) else 0.0


def powers_of_two_below(n: int) -> list[int]:
    """1, 2, 4, … up to but not including ``n``: the batch sizes every page offers.

    Example:
        >>> powers_of_two_below(200)
        [1, 2, 4, 8, 16, 32, 64, 128]
    """
    return [2**i for i in range(max(1, int(n - 1).bit_length())) if 2**i < n]


def epoch_ends(updates_per_epoch: int, completed_epochs: int) -> np.ndarray:
    """Update indices at which each completed epoch ends: k·updates_per_epoch, k = 1…E.

    Example:
        >>> epoch_ends(7, 3)
        array([ 7, 14, 21])
    """
    return updates_per_epoch * np.arange(1, completed_epochs + 1)
