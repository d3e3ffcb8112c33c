"""Sweep a grid of settings: how every (learning rate, batch size, momentum, seed) run ends.

Each cell of the grid is exactly the run ``gd.fit`` would make with those settings: the same
row orders from ``np.random.default_rng(seed)``, the same divergence threshold, the same clamp
of the batch size to the training rows, the same rule for a run that ends above the threshold.
Only each run's end is kept. With numba every run executes in compiled code, on all cores, with
no Python per run; without it, the sweep loops over ``gd.fit`` (slow, same numbers).

``stability_bound`` gives the learning rate above which full-batch gradient descent on linear
regression must diverge: the line to draw on a sweep's learning-rate axis.

Example:
    >>> import gd
    >>> data = gd.datasets.linear(n=100, seed=0)
    >>> result = sweep(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.01),
    ...                gd.Training(epochs=5), learning_rates=[0.01, 0.1, 10.0],
    ...                batch_sizes=[1, 100])
    >>> result
    Sweep(3 learning rates × 2 batch sizes × 1 momentum × 1 seed, 2 of 6 runs diverged)
    >>> result.diverged[:, :, 0, 0]                  # rows: learning rates; columns: batch sizes
    array([[False, False],
           [False, False],
           [ True,  True]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from gd import engine, rules
from gd.fit import Training, fit, prepare, row_orders
from gd.models import LinearStats, Model
from gd.optim import SGD
from gd.validation import (
    check_data,
    check_grid,
    check_int,
    check_momentum,
    check_rate,
    check_seed,
)


@dataclass(frozen=True, eq=False)
class Sweep:
    """How each run of a grid ended: one cell per run, indexed [rate, batch, momentum, seed].

    ``final_loss``, ``diverged`` and ``updates`` have shape (L, B, M, S).

    Attributes:
        learning_rates: (L,) base learning rates.
        batch_sizes: (B,) batch sizes as requested (a run clamps them to the training rows).
        momentums: (M,) momentum values.
        seeds: (S,) seeds of the row orders.
        final_loss: full training loss at each run's last point (``gd.fit(...).loss[-1]``).
        diverged: True where the run blew up (``run.diverged_at is not None``).
        updates: updates each run applied (``run.updates``).
    """

    learning_rates: np.ndarray
    batch_sizes: np.ndarray
    momentums: np.ndarray
    seeds: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    updates: np.ndarray

    def __repr__(self) -> str:
        axes = (
            (self.learning_rates, "learning rate"),
            (self.batch_sizes, "batch size"),
            (self.momentums, "momentum"),
            (self.seeds, "seed"),
        )
        sizes = " × ".join(f"{v.size} {name}{'s' if v.size > 1 else ''}" for v, name in axes)
        return f"Sweep({sizes}, {int(self.diverged.sum())} of {self.diverged.size} runs diverged)"


def sweep(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    opt: SGD,
    training: Training = Training(),
    *,
    learning_rates: Sequence[float] | np.ndarray | None = None,
    batch_sizes: Sequence[int] | np.ndarray,
    momentums: Sequence[float] | np.ndarray | None = None,
    seeds: Sequence[int] | np.ndarray | None = None,
) -> Sweep:
    """Train once for every combination of the grid, keeping how each run ended.

    Cell ``[i, j, k, s]`` equals ``gd.fit(model, x, y, dataclasses.replace(opt,
    learning_rate=learning_rates[i], momentum=momentums[k]), dataclasses.replace(training,
    seed=seeds[s]), batch_size=batch_sizes[j])``.

    Args:
        model: a ``gd.models`` model.
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        opt: the optimizer every run starts from: its decay, Nesterov and convention are
            shared; its rate and momentum are the grid's when the grid gives them.
        training: what every run shares, as in ``gd.fit``; its seed is the grid's when the
            grid gives seeds.
        learning_rates: base rates to try, each a finite number >= 0; None: ``opt``'s.
        batch_sizes: batch sizes to try, each an integer >= 1 (larger than n means full batch).
        momentums: momentum values to try, each in [0, 1]; None: ``opt``'s.
        seeds: seeds of the row orders, each an integer >= 0; more seeds show the spread.
            None: ``training``'s.

    Returns:
        A frozen ``Sweep``.
    """
    if not isinstance(opt, SGD):
        raise ValueError(f"The 'opt' parameter must be a gd.SGD. Got {opt!r} instead.")
    problem = prepare(model, x, y, training)
    learning_rates = check_grid(
        "learning_rates",
        [opt.learning_rate] if learning_rates is None else learning_rates,
        check_rate,
        np.float64,
    )
    batch_sizes = check_grid("batch_sizes", batch_sizes, check_int, np.int64)
    momentums = check_grid(
        "momentums", [opt.momentum] if momentums is None else momentums, check_momentum, np.float64
    )
    seeds = check_grid("seeds", [training.seed] if seeds is None else seeds, check_seed, np.int64)
    for momentum in momentums:  # checks Nesterov with μ = 0
        replace(opt, learning_rate=float(learning_rates[0]), momentum=float(momentum))
    axes = (learning_rates, batch_sizes, momentums, seeds)
    kernels = engine.kernels()
    if kernels is None:
        return _sweep_with_fit(model, x, y, axes, training, opt)

    (x, y), init, threshold = problem.train, problem.init, problem.threshold
    epochs, n_train = problem.order.shape
    clamped = np.minimum(batch_sizes, n_train)  # as fit: a batch never exceeds the rows
    orders = np.stack([row_orders(n_train, epochs, training.shuffle, seed) for seed in seeds])
    with np.errstate(all="ignore"):  # divergence is data: no warning leaves the sweep
        ends = kernels.sweep(
            model,
            x,
            y,
            orders,
            clamped,
            learning_rates,
            momentums,
            opt,
            init,
            threshold,
        )
        final_loss = model.losses(ends.params.reshape(-1, init.size), x, y)
    final_loss = final_loss.reshape(ends.diverged_at.shape)  # (L, B, M, S)
    stopped_early = ends.diverged_at != rules.NEVER  # blew up before its last update
    # (B,) updates of a run that never blows up
    planned = epochs * rules.batches_per_epoch(n_train, clamped)
    return Sweep(
        *axes,
        final_loss=final_loss,
        diverged=stopped_early | np.vectorize(rules.blew_up)(final_loss, threshold),  # fit's rule
        updates=np.where(stopped_early, ends.diverged_at, planned[None, :, None, None]),
    )


def stability_bound(x: np.ndarray, y: np.ndarray, momentum: float = 0.0) -> float:
    """The learning rate above which full-batch GD on linear regression diverges.

    Math: the mean squared error of linear regression is a quadratic with the constant Hessian
    ``H = (2/n)·x̃ᵀx̃`` (x̃ = [x, 1]). Full-batch gradient descent maps the error θ − θ* to
    ``(I − ηH)(θ − θ*)``, so along the eigenvector of H's largest eigenvalue λmax the error is
    multiplied by ``1 − ηλmax`` at each step: it shrinks iff ``η < 2/λmax``. With heavy-ball
    momentum μ (Polyak, 1964; Keras and PyTorch take the same steps at a constant rate), each
    eigen-direction follows ``e_{t+1} = (1 + μ − ηλ)·e_t − μ·e_{t−1}``; both roots of
    ``z² − (1 + μ − ηλ)·z + μ`` lie inside the unit circle iff ``0 < ηλ < 2(1 + μ)`` (Jury's
    test, for 0 ≤ μ < 1). So the bound is ``2(1 + μ)/λmax``, which is ``2/λmax`` without
    momentum.

    It holds for a constant rate (``decay = 0``) and ``nesterov=False``. Small batches can blow
    up well below it, because one batch's curvature can exceed λmax; and just above it the loss
    grows slowly, so a short run may end before crossing ``gd.fit``'s divergence threshold.

    Args:
        x: inputs, (n,) or (n, k).
        y: targets, (n,); the bound does not depend on them.
        momentum: μ in [0, 1].

    Returns:
        ``2(1 + μ)/λmax`` with λmax from ``LinearStats.hessian_max_eigenvalue``.

    Example:
        >>> x = [1.0, -1.0, 1.0, -1.0]                 # x̃ᵀx̃/n = I, so H = 2I and λmax = 2
        >>> stability_bound(x, [0.0, 0.0, 0.0, 0.0]), stability_bound(x, [0.0] * 4, momentum=0.5)
        (1.0, 1.5)
    """
    momentum = check_momentum("momentum", momentum)
    return heavy_ball_bound(lambda_max(x, y), momentum)


def lambda_max(x: np.ndarray, y: np.ndarray) -> float:
    """λmax, the largest eigenvalue of linear regression's constant Hessian ``(2/n)·x̃ᵀx̃``: the
    steepest curvature of its mean squared error (``stability_bound`` explains its role).

    Example:
        >>> lambda_max([1.0, -1.0, 1.0, -1.0], [0.0] * 4)  # x̃ᵀx̃/n = I, so H = 2I
        2.0
    """
    x, y = check_data(x, y)
    return float(LinearStats.from_data(x, y).hessian_max_eigenvalue)


def heavy_ball_bound(lambda_max: float, momentum: float = 0.0) -> float:
    """``2(1 + μ)/λmax``: the one home of the stability bound's formula (``stability_bound``
    derives it), for a curvature already known.

    Example:
        >>> heavy_ball_bound(2.0), heavy_ball_bound(2.0, 0.5)
        (1.0, 1.5)
    """
    return 2.0 * (1.0 + momentum) / lambda_max


def _sweep_with_fit(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    axes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    training: Training,
    opt: SGD,
) -> Sweep:
    """The same grid as one ``gd.fit`` per cell on the NumPy engine: the path without numba."""
    learning_rates, batch_sizes, momentums, seeds = axes
    shape = tuple(axis.size for axis in axes)
    final_loss = np.empty(shape)
    diverged = np.empty(shape, dtype=bool)
    updates = np.empty(shape, dtype=np.int64)
    for cell in np.ndindex(shape):
        rate, size, momentum, seed = cell
        run = fit(
            model,
            x,
            y,
            replace(
                opt,
                learning_rate=float(learning_rates[rate]),
                momentum=float(momentums[momentum]),
            ),
            replace(training, seed=int(seeds[seed])),
            batch_size=int(batch_sizes[size]),
            engine="numpy",
        )
        final_loss[cell] = run.loss[-1]
        diverged[cell] = run.diverged_at is not None
        updates[cell] = run.updates
    return Sweep(*axes, final_loss=final_loss, diverged=diverged, updates=updates)
