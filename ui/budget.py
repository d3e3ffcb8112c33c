"""Shared rule (every lesson): the work budget of one request, and the bytes a record takes.

One request (one rerun of a page) may do at most ``BUDGET`` units of work:

    work = Σ over the runs it computes of  updates × (rows per update × cost + update work)

where ``rows per update`` is the batch size, ``cost`` is the model's relative cost per row
(``ModelSpec.cost`` in ``ui.models``: logistic regression pays an exp and a log per row), and
``update work`` is the fixed cost of one update (recording it, the optimizer step): for the
regressions ``ui.models.UPDATE_ROWS`` rows' worth (``ModelSpec.update_work``), for the network
one row's. A request above it is not computed: the page says what it would take and offers the
nearest setting that fits (``nearest``). The figures and how they were measured are in
``docs/budget.md``.

Pure functions, no Streamlit: pages and tests call the same rule.

Example:
    >>> run_work("linear", n_train=9000, batch_size=1, epochs=100)  # 900 000 updates
    15300000
    >>> fits(run_work("linear", 9000, 1, 100) * 2)  # both conventions on "From Keras to here"
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from gd.rules import batches_per_epoch
from ui.models import MODELS

BUDGET = 120_000_000  # work units per request: about 2 s of server time at most (docs/budget.md)
RUN_BYTES_PER_UPDATE = 48  # a Run keeps params (2), loss, loss_steps, batch_loss and rate
T = TypeVar("T")


def updates(n_train: int, batch_size: int, epochs: int) -> int:
    """Planned updates: ``epochs · ceil(n_train / batch_size)`` (batch size capped at n_train).

    Example:
        >>> updates(200, 32, 20)
        140
    """
    n_train = max(n_train, 1)
    return epochs * batches_per_epoch(n_train, min(max(batch_size, 1), n_train))


def run_work(model: str, n_train: int, batch_size: int, epochs: int) -> int:
    """The work of one run (see the module docstring)."""
    rows = min(max(batch_size, 1), max(n_train, 1))
    spec = MODELS[model]
    return updates(n_train, batch_size, epochs) * (rows * spec.cost + spec.update_work)


# A pass of the loss alone, with no gradient (a loss surface's grid, a family's kept points),
# takes about half a training pass: 28 ns a row for the tanh neuron (1.7 units of 16.7 ns,
# cost 3) and 45 ns for logistic regression (2.7 units, cost 6), measured under
# load (docs/budget.md).
SCORE_SHARE = 0.5


def score_work(model: str, n_train: int, passes: int) -> int:
    """The work of ``passes`` passes of the loss alone over the ``n_train`` rows.

    Example:
        >>> score_work("logistic", n_train=500, passes=10)
        15000
    """
    return round(SCORE_SHARE * loss_work(model, n_train, passes))


def loss_work(model: str, n_train: int, points: int) -> int:
    """The work of evaluating the full training loss at ``points`` points: a pass over the
    ``n_train`` rows each.

    Example:
        >>> loss_work("logistic", n_train=500, points=10)
        30000
    """
    return points * n_train * MODELS[model].cost


def search_work(
    model: str, n_train: int, batch_size: int, rounds: Sequence[int], runs: int, scored: int = 0
) -> int:
    """The work of ``runs`` runs at ``batch_size`` searched round by round, as
    ``gd.critical_batch`` does in the worst case: each round trains from the start to its
    epochs (``rounds``: ``gd.critical.horizons``), and each run evaluates the full loss at
    ``scored`` points in all (``gd.critical.losses_scored``).

    Example:
        >>> search_work("linear", n_train=500, batch_size=1, rounds=[2, 8, 20], runs=155)
        39525000
    """
    train = sum(run_work(model, n_train, batch_size, epochs) for epochs in rounds)
    return runs * (train + loss_work(model, n_train, scored))


def fits(work: int) -> bool:
    """Whether a request of ``work`` units may run."""
    return work <= BUDGET


def nearest(options: Sequence[T], work_of: Callable[[T], int]) -> T | None:
    """The largest of ``options`` (in their order, smallest first) whose work fits, or None.

    Example:
        >>> nearest([1, 2, 3, 5, 10], lambda seeds: seeds * 30_000_000)
        3
    """
    fitting = [option for option in options if fits(work_of(option))]
    return fitting[-1] if fitting else None


def times_over(work: int) -> str:
    """How far above the budget ``work`` is, in words: "about 8 times"."""
    ratio = work / BUDGET
    return f"about {ratio:.0f} times" if ratio >= 2 else f"about {ratio:.1f} times"


def run_bytes(n_train: int, batch_size: int, epochs: int) -> int:
    """The bytes a ``gd.Run`` of these settings holds: the per-update arrays and the row
    orders (epochs × n_train int64). A cache bounded in bytes sorts its entries by this.

    Example:
        >>> run_bytes(10_000, 1, 100) // 1_000_000  # MB at the largest settings
        56
    """
    planned = updates(n_train, batch_size, epochs)
    per_epoch = 3 * 8  # epoch_loss, val_loss and the epoch ends
    return (planned + 1) * RUN_BYTES_PER_UPDATE + epochs * (n_train * 8 + per_epoch)
