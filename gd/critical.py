"""How big should the batch be? The gradient noise scale, and the critical batch size measured.

Two answers from the research on large-batch training, computed on the learner's own data:

* **The gradient noise scale** (McCandlish et al. 2018, "An Empirical Model of Large-Batch
  Training", eq. 2.8): with ``gᵢ`` the gradient of row i's own loss at ``params``,
  ``G = (1/N) Σ gᵢ`` the full-data gradient and ``Σ = (1/N) Σ (gᵢ − G)(gᵢ − G)ᵀ`` their
  covariance,

      B_simple = tr(Σ) / |G|²

  A batch of about B_simple rows has a gradient whose noise is as large as the gradient itself:
  below it, doubling the batch halves the noise and is worth a step; far above it, the extra
  rows barely change the update.

* **The critical batch size, measured** (Shallue et al. 2018, "Measuring the Effects of Data
  Parallelism on Neural Network Training"): for each batch size B, train with every learning
  rate of a grid and several shuffling seeds, and count the updates S(B) until the full training
  loss reaches a target *and stays there* for the next epoch (a touch of the target inside
  the SGD noise ball is not convergence), as the median over the seeds, for the best learning
  rate. Then fit McCandlish's trade-off (eq. 2.11)

      S = S_min · (1 + B_crit / B),      E = E_min · (1 + B / B_crit),   E_min = S_min · B_crit

  by least squares on log S, with S_min at most the fewest steps measured (it is the floor no
  batch size goes below). Doubling the batch at B saves the fraction
  ``1 − S(2B)/S(B) = B_crit / (2(B + B_crit))`` of the steps: nearly half far below B_crit
  (perfect scaling), a quarter at B_crit, and ever less above it, where the samples read (E,
  in epochs here) grow.

Every run of ``critical_batch`` is the run ``gd.fit`` makes with those settings (``gd.fit.prepare``:
the same row orders, start and divergence threshold), and "reaches" is read where ``gd.fit``
scores the full loss (``Run.loss_steps``: every update for linear regression; see ``reach``).
With numba, each batch size runs its learning rates in lockstep (``gd._kernels.train``), its
seeds on two threads; without it the NumPy reference loop gives the same numbers.

Example:
    >>> import gd
    >>> data = gd.datasets.linear(n=200, seed=0)
    >>> model = gd.models.LinearRegression()
    >>> ns = noise_scale(model, data.x, data.y, model.init_params(1))
    >>> round(ns.b_simple, 2) == round(ns.trace_cov / ns.grad_norm_sq, 2)
    True
    >>> cb = critical_batch(model, data.x, data.y, gd.SGD(0.1), gd.Training(epochs=5),
    ...                     batch_sizes=[1, 8, 64, 200], learning_rates=[0.01, 0.1, 0.5],
    ...                     target_loss=1.0)
    >>> cb.reached.tolist(), bool(cb.steps[0] > cb.steps[-1])
    ([True, True, True, True], True)
    >>> bool(cb.s_min <= cb.steps.min()), bool(cb.fit_error >= 0)
    (True, True)
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from gd import engine as engines
from gd import rules
from gd.fit import Problem, Training, check_training, fit, loss_steps, prepare
from gd.loop import train_loop
from gd.models import LinearStats, Model
from gd.optim import SGD
from gd.validation import (
    check_data,
    check_grid,
    check_int,
    check_rate,
    check_real,
    check_seed,
    check_sizes,
)

_CHUNK_ROWS = 4096  # rows of per-sample gradients held at once: (4096, P) floats
_THREADS = 2  # this product's servers have two cores; each compiled loop releases the GIL
# Horizons, in epochs, at which the search stops to see which learning rates can still win
# (``horizons``). Runs restart from the start each time (the kernels hold no momentum between
# calls), so each horizon is 4× the last: in the worst case the earlier rounds add at most 4/3
# of the last one's work (sum(horizons(20)) = 30 epochs for a 20-epoch search), and far less is
# run when the target is reached early. ``ui.budget`` counts every round.
_HORIZON_GROWTH = 4
_FIRST_HORIZON = 1


@dataclass(frozen=True)
class NoiseScale:
    """The gradient noise scale at one point (McCandlish et al. 2018, eq. 2.8).

    Attributes:
        b_simple: ``trace_cov / grad_norm_sq``, in rows; ``inf`` where the gradient is zero.
        trace_cov: tr(Σ) = (1/N) Σᵢ |gᵢ − G|², the spread of single-row gradients
            (``gd.noise.per_sample_variance``).
        grad_norm_sq: |G|², the squared length of the full-data gradient.
    """

    b_simple: float
    trace_cov: float
    grad_norm_sq: float


def noise_scale(model: Model, x: np.ndarray, y: np.ndarray, params: np.ndarray) -> NoiseScale:
    """The gradient noise scale ``B_simple = tr(Σ)/|G|²`` of ``model`` on ``x, y`` at ``params``.

    Two passes over the rows in chunks of ``_CHUNK_ROWS`` (the mean first, then the spread
    around it, which avoids the cancellation of ``mean|gᵢ|² − |G|²``), so 10 000 rows or a
    million hold only one chunk of per-sample gradients at a time.

    Args:
        model: a ``gd.models`` model (its ``per_sample_grad``).
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        params: the point, (P,).

    Returns:
        A frozen ``NoiseScale``.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> x = np.array([0.0, 0.0]); y = np.array([1.0, 3.0])  # gᵢ = (0, −2yᵢ): (0, −2), (0, −6)
        >>> noise_scale(LinearRegression(), x, y, np.zeros(2))    # G = (0, −4), tr Σ = 4
        NoiseScale(b_simple=0.25, trace_cov=4.0, grad_norm_sq=16.0)
    """
    x, y = check_data(x, y)
    model.check_features(x.shape[1])
    model.check_targets(y)
    names = model.param_names(x.shape[1])
    params = np.asarray(params, dtype=np.float64)
    if params.shape != (len(names),):
        raise ValueError(
            f"params must have shape ({len(names)},) for {model.name} with {x.shape[1]} "
            f"feature(s), one value per parameter {names}. Got shape {params.shape} instead."
        )
    n = y.size
    with np.errstate(all="ignore"):  # overflowing gradients give inf/NaN, shown, not raised
        mean = np.zeros(params.size)
        for start in range(0, n, _CHUNK_ROWS):
            rows = slice(start, start + _CHUNK_ROWS)
            mean += model.per_sample_grad(params, x[rows], y[rows]).sum(axis=0)  # (P,)
        mean /= n
        spread = 0.0
        for start in range(0, n, _CHUNK_ROWS):
            rows = slice(start, start + _CHUNK_ROWS)
            deviation = model.per_sample_grad(params, x[rows], y[rows]) - mean  # (c, P)
            spread += float(np.sum(deviation * deviation))
        trace_cov = spread / n
        grad_norm_sq = float(mean @ mean)
        b_simple = trace_cov / grad_norm_sq if grad_norm_sq > 0 else math.inf
    return NoiseScale(float(b_simple), float(trace_cov), grad_norm_sq)


@dataclass(frozen=True, eq=False)
class CriticalBatch:
    """Steps to a target loss against batch size, with the learning rate tuned per batch size.

    Attributes:
        batch_sizes: (B,) as requested, ascending.
        learning_rates: (L,) the grid each batch size was tuned over.
        steps: (B,) the fewest updates to reach ``target_loss`` and stay there (``reach``): per
            learning rate the median over seeds (a seed that never reaches counts as
            infinite), then the minimum over learning rates. ``inf`` where no learning rate
            reached it.
        epochs: (B,) at that learning rate, the median over seeds of the training rows read
            by then (``Run.samples_seen``), in passes over the data.
        best_learning_rate: (B,) the learning rate of ``steps`` (the smallest of a tie); NaN
            where none reached.
        best_at_edge: (B,) True where the best rate is the grid's largest: a larger one might
            do better still, so widen the grid.
        reached: (B,) True where ``steps`` is finite.
        s_min, b_crit: the fit of ``S = s_min·(1 + b_crit/B)`` by least squares on log S over
            the batch sizes that reached after at least one update (NaN with fewer than two),
            with ``s_min`` at most their fewest steps (``fit_steps``). ``b_crit`` is searched
            in [min(B)·10⁻⁶, max(B)·10⁶]; near either end the data show no bend.
        e_min: ``s_min·b_crit / n_train``: the fewest epochs, approached at small batches.
        fit_error: the largest ``|S / S_fit − 1|`` over the fitted points (NaN without a fit):
            0.1 means every measured point is within 10 % of the curve.
        fit_r2: R² of the fit on log S (1 is perfect; NaN without a fit or when every
            fitted S is equal).
        target_loss: the full training loss to reach.
        stay_epochs: how long a run must stay at or below the target to count (``reach``).
        loss_points_per_epoch: where the full loss was scored (``scoring_grid``).
        seeds: (S,) the shuffling seeds.
        opt: the optimizer every run shared (each with its own learning rate of the grid).
        max_epochs, n_train: as run.
    """

    batch_sizes: np.ndarray
    learning_rates: np.ndarray
    steps: np.ndarray
    epochs: np.ndarray
    best_learning_rate: np.ndarray
    best_at_edge: np.ndarray
    reached: np.ndarray
    s_min: float
    e_min: float
    b_crit: float
    fit_error: float
    fit_r2: float
    target_loss: float
    stay_epochs: int
    loss_points_per_epoch: int | None
    seeds: np.ndarray
    opt: SGD
    max_epochs: int
    n_train: int

    def fitted_steps(self, batch_sizes: np.ndarray) -> np.ndarray:
        """The fitted curve ``s_min·(1 + b_crit/B)`` at ``batch_sizes``."""
        return self.s_min * (1.0 + self.b_crit / np.asarray(batch_sizes, dtype=np.float64))

    def fitted_epochs(self, batch_sizes: np.ndarray) -> np.ndarray:
        """The fitted ``e_min·(1 + B/b_crit)`` at ``batch_sizes``, in epochs."""
        return self.e_min * (1.0 + np.asarray(batch_sizes, dtype=np.float64) / self.b_crit)

    def doubling_saving(self, batch_sizes) -> np.ndarray:
        """The share of the steps the fit saves by doubling the batch at ``batch_sizes``
        (``doubling_saving``)."""
        return doubling_saving(batch_sizes, self.b_crit)

    def __repr__(self) -> str:
        return (
            f"CriticalBatch({self.batch_sizes.size} batch sizes × "
            f"{self.learning_rates.size} learning rates × {self.seeds.size} seeds, "
            f"{int(self.reached.sum())} reached {self.target_loss:.4g}, "
            f"b_crit {self.b_crit:.3g})"
        )


def doubling_saving(batch_sizes, b_crit: float) -> np.ndarray:
    """The share of the steps that doubling the batch at B saves on ``S = S_min(1 + b_crit/B)``:
    ``1 − S(2B)/S(B) = b_crit / (2(B + b_crit))``: ½ far below ``b_crit`` (perfect scaling),
    ¼ at ``b_crit``, and towards 0 above it.

    Example:
        >>> doubling_saving(np.array([2.0, 8.0, 32.0]), b_crit=8.0).tolist()
        [0.4, 0.25, 0.1]
    """
    sizes = np.asarray(batch_sizes, dtype=np.float64)
    return b_crit / (2.0 * (sizes + b_crit))


class _Lanes(NamedTuple):
    """What one batch size's runs to a horizon keep, per learning rate (lane)."""

    params: np.ndarray  # (L, K, P) the points after ``keep`` updates
    diverged_at: np.ndarray  # (L,) the update each lane blew up at, or rules.NEVER


def critical_batch(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    opt: SGD,
    training: Training,
    *,
    batch_sizes: Sequence[int] | np.ndarray,
    learning_rates: Sequence[float] | np.ndarray,
    target_loss: float,
    seeds: Sequence[int] | np.ndarray = (0, 1, 2),
    stay_epochs: int = 1,
    loss_points_per_epoch: int | None = None,
    engine: engines.Engine = "auto",
) -> CriticalBatch:
    """Measure the steps to ``target_loss`` at each batch size, tuning the learning rate.

    Run ``(B, η, s)`` is ``gd.fit(model, x, y, dataclasses.replace(opt, learning_rate=η),
    dataclasses.replace(training, seed=s), batch_size=B)``; it reaches
    the target at the first update from which its full loss (``run.loss`` at
    ``run.loss_steps``) stays at or below ``target_loss`` for ``stay_epochs`` epochs
    (``reach``). The search stops early once no learning rate can still beat the best one
    found (see ``_HORIZON_GROWTH``); the numbers are those of the full runs.

    Args:
        model: a ``gd.models`` model.
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        opt: every setting of the optimizer but its learning rate, shared by every run.
        training: as in ``gd.fit``; its ``epochs`` is the longest run (a batch size that never
            reaches the target in it counts as not reached), and ``seeds`` replace its seed.
        batch_sizes: integers in [1, n_train], e.g. powers of two and n_train.
        learning_rates: the grid to tune over, each a finite number >= 0.
        target_loss: the full training loss to reach.
        seeds: shuffling seeds; the median over them is taken.
        stay_epochs: how many epochs (of ``ceil(n/B)`` updates each: the same rows read at
            every batch size) the loss must then stay at or below the target; 0 counts the
            first touch, however brief.
        loss_points_per_epoch: None scores the full loss where ``gd.fit`` does
            (``Run.loss_steps``); a number scores a model whose loss needs a pass over the
            rows at most that many evenly spaced updates per epoch, plus every epoch's end
            (``scoring_grid``), so the search's cost does not grow with rows × updates.
        engine: as in ``gd.fit``; both give the same numbers.

    Returns:
        A frozen ``CriticalBatch``.
    """
    if not isinstance(opt, SGD):
        raise ValueError(f"The 'opt' parameter must be a gd.SGD. Got {opt!r} instead.")
    seeds = check_grid("seeds", seeds, check_seed, np.int64)
    training = check_training(training)
    problems = [prepare(model, x, y, replace(training, seed=seed)) for seed in seeds.tolist()]
    x, y = problems[0].train
    max_epochs = training.epochs
    sizes = np.unique(check_sizes("batch_sizes", batch_sizes, y.size))
    rates = check_grid("learning_rates", learning_rates, check_rate, np.float64)
    target = check_real("target_loss", target_loss)
    stay_epochs = check_int("stay_epochs", stay_epochs, low=0)
    if loss_points_per_epoch is not None:
        loss_points_per_epoch = check_int("loss_points_per_epoch", loss_points_per_epoch)
    opts = [replace(opt, learning_rate=float(rate)) for rate in rates]
    kernels = engines.kernels(engine)
    stats = LinearStats.from_data(x, y) if model.cheap_losses else None
    with np.errstate(all="ignore"), ThreadPoolExecutor(_THREADS) as pool:
        first = np.stack(
            [
                _first_reach(
                    kernels,
                    model,
                    problems,
                    opts,
                    int(size),
                    _Scoring(target, stats, stay_epochs, loss_points_per_epoch),
                    pool,
                )
                for size in sizes.tolist()
            ]
        )  # (B, L, S): the update each run reached the target at (and stayed), inf for never
    n_train = y.size
    median = np.median(first, axis=2)  # (B, L)
    best = np.argmin(median, axis=1)  # (B,) the first of a tie
    steps = median[np.arange(sizes.size), best]
    reached = np.isfinite(steps)
    samples = _samples_seen(first[np.arange(sizes.size), best], sizes[:, None], n_train)
    epochs = np.median(samples, axis=1) / n_train
    return _with_fit(
        CriticalBatch(
            batch_sizes=sizes,
            learning_rates=rates,
            steps=steps,
            epochs=np.where(reached, epochs, np.inf),
            best_learning_rate=np.where(reached, rates[best], np.nan),
            best_at_edge=reached & (rates[best] == rates.max()),
            reached=reached,
            s_min=math.nan,
            e_min=math.nan,
            b_crit=math.nan,
            fit_error=math.nan,
            fit_r2=math.nan,
            target_loss=target,
            stay_epochs=stay_epochs,
            loss_points_per_epoch=loss_points_per_epoch,
            seeds=seeds,
            opt=opt,
            max_epochs=max_epochs,
            n_train=n_train,
        )
    )


def combine(parts: Sequence[CriticalBatch]) -> CriticalBatch:
    """One record from searches of the same problem at different batch sizes, refitted.

    ``critical_batch`` of a list of batch sizes equals ``combine`` of its calls one batch
    size at a time: a page can run them one by one, with a progress bar between them.

    Example:
        >>> import gd
        >>> data = gd.datasets.linear(n=50, seed=0)
        >>> kwargs = dict(learning_rates=[0.1, 0.5], target_loss=1.0)
        >>> model, opt, training = gd.models.LinearRegression(), gd.SGD(0.1), gd.Training(epochs=3)
        >>> whole = critical_batch(model, data.x, data.y, opt, training, batch_sizes=[1, 5, 50],
        ...                        **kwargs)
        >>> parts = [critical_batch(model, data.x, data.y, opt, training, batch_sizes=[b],
        ...                         **kwargs) for b in (50, 1, 5)]
        >>> combine(parts).b_crit == whole.b_crit
        True
    """
    first = parts[0]
    for part in parts[1:]:
        same = (
            np.array_equal(part.learning_rates, first.learning_rates)
            and np.array_equal(part.seeds, first.seeds)
            and (part.target_loss, part.stay_epochs, part.loss_points_per_epoch)
            == (first.target_loss, first.stay_epochs, first.loss_points_per_epoch)
            and replace(part.opt, learning_rate=first.opt.learning_rate) == first.opt
            and (part.max_epochs, part.n_train) == (first.max_epochs, first.n_train)
        )
        if not same:
            raise ValueError(
                "combine needs searches of one problem: the same learning rates, seeds, "
                "target_loss, stay_epochs, optimizer, max_epochs and rows; only batch_sizes "
                "may differ."
            )
    order = np.argsort(np.concatenate([part.batch_sizes for part in parts]), kind="stable")

    def joined(field: str) -> np.ndarray:
        return np.concatenate([getattr(part, field) for part in parts])[order]

    return _with_fit(
        dataclasses.replace(
            first,
            **{
                field: joined(field)
                for field in (
                    "batch_sizes",
                    "steps",
                    "epochs",
                    "best_learning_rate",
                    "best_at_edge",
                    "reached",
                )
            },
        )
    )


def _with_fit(result: CriticalBatch) -> CriticalBatch:
    """``result`` with ``s_min``, ``b_crit``, ``e_min`` and the fit's quality fitted to its
    measured steps."""
    moved = result.reached & (result.steps > 0)  # a target met at the start says nothing
    sizes, steps = result.batch_sizes[moved], result.steps[moved]
    s_min, b_crit = fit_steps(sizes, steps)
    error, r2 = fit_quality(sizes, steps, s_min, b_crit)
    return dataclasses.replace(
        result,
        s_min=s_min,
        b_crit=b_crit,
        e_min=s_min * b_crit / result.n_train,
        fit_error=error,
        fit_r2=r2,
    )


def fit_steps(batch_sizes: np.ndarray, steps: np.ndarray) -> tuple[float, float]:
    """``(s_min, b_crit)`` minimising ``Σ (log Sᵢ − log(s_min·(1 + b_crit/Bᵢ)))²`` with
    ``s_min ≤ min Sᵢ``.

    S_min is the floor that no batch size goes below, so it may not exceed a measured S:
    for a given ``b_crit`` the best ``log s_min`` is the mean of
    ``log Sᵢ − log(1 + b_crit/Bᵢ)``, capped at ``log min Sᵢ``, so only ``log b_crit`` is
    searched: a grid over [min(B)·10⁻⁶, max(B)·10⁶], then golden section around its best
    point. NaNs with fewer than two points.

    Example:
        >>> sizes = np.array([1.0, 4.0, 16.0, 64.0])
        >>> s_min, b_crit = fit_steps(sizes, 100 * (1 + 8 / sizes))   # exact data: recovered
        >>> round(s_min, 6), round(b_crit, 6)
        (100.0, 8.0)
        >>> s_min, b_crit = fit_steps(sizes, np.array([90.0, 30.0, 14.0, 9.0]))
        >>> bool(s_min <= 9.0)                                         # never above a point
        True
    """
    sizes = np.asarray(batch_sizes, dtype=np.float64)
    log_steps = np.log(np.asarray(steps, dtype=np.float64))
    if sizes.size < 2:
        return math.nan, math.nan
    cap = float(log_steps.min())

    def misfit(log_b: float) -> tuple[float, float]:
        shape = np.log1p(np.exp(log_b) / sizes)  # log(1 + b/Bᵢ), (n,)
        log_s = min(float(np.mean(log_steps - shape)), cap)
        return float(np.sum((log_steps - log_s - shape) ** 2)), log_s

    low, high = math.log(sizes.min() * 1e-6), math.log(sizes.max() * 1e6)
    grid = np.linspace(low, high, 1201)
    shapes = np.log1p(np.exp(grid)[:, None] / sizes)  # (grid, n)
    log_s = np.minimum(np.mean(log_steps - shapes, axis=1), cap)  # (grid,)
    residuals = log_steps - shapes - log_s[:, None]
    i = int(np.argmin(np.sum(residuals**2, axis=1)))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):  # golden section: the bracket shrinks 0.618× per step
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if misfit(c)[0] <= misfit(d)[0]:
            b = d
        else:
            a = c
    log_b = (a + b) / 2
    return math.exp(misfit(log_b)[1]), math.exp(log_b)


def fit_quality(
    batch_sizes: np.ndarray, steps: np.ndarray, s_min: float, b_crit: float
) -> tuple[float, float]:
    """How well ``S = s_min(1 + b_crit/B)`` fits: (the largest ``|Sᵢ/S_fit(Bᵢ) − 1|``, R² on
    log S). NaNs without a fit; R² is NaN when every ``Sᵢ`` is the same.

    Example:
        >>> sizes = np.array([1.0, 2.0, 4.0])
        >>> error, r2 = fit_quality(sizes, np.array([18.0, 10.0, 6.0]), 2.0, 8.0)
        >>> round(error, 3), round(r2, 3)     # the fit gives 18, 10 and 6: exact
        (0.0, 1.0)
        >>> round(fit_quality(sizes, np.array([18.0, 12.0, 6.0]), 2.0, 8.0)[0], 3)
        0.2
    """
    if not (math.isfinite(s_min) and math.isfinite(b_crit)):
        return math.nan, math.nan
    sizes = np.asarray(batch_sizes, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.float64)
    fitted = s_min * (1.0 + b_crit / sizes)
    error = float(np.max(np.abs(steps / fitted - 1.0)))
    log_steps = np.log(steps)
    total = float(np.sum((log_steps - log_steps.mean()) ** 2))
    r2 = 1.0 - float(np.sum((log_steps - np.log(fitted)) ** 2)) / total if total > 0 else math.nan
    return error, r2


@dataclass(frozen=True)
class StepCost:
    """What one update costs: ``fixed_ms + per_row_ms · B`` milliseconds at batch size B.

    The cost model of ``gd.noise.time_epochs``: each update pays a fixed cost (the Python
    step, a kernel launch on a GPU) plus work for each of its B rows. ``time_steps``
    measures it.

    Example:
        >>> cost = StepCost(fixed_ms=0.01, per_row_ms=0.001)
        >>> cost.ms_per_step(np.array([1, 10])).round(6).tolist()
        [0.011, 0.02]
        >>> float(cost.scaled_to(ms_per_step=0.4, batch_size=10).ms_per_step(10))  # 20× slower
        0.4
    """

    fixed_ms: float
    per_row_ms: float

    def ms_per_step(self, batch_size):
        """Milliseconds per update at ``batch_size`` (an int or an array)."""
        return self.fixed_ms + self.per_row_ms * np.asarray(batch_size, dtype=np.float64)

    def scaled_to(self, ms_per_step: float, batch_size: int) -> StepCost:
        """The same split between fixed and per-row cost, scaled so that ``batch_size`` costs
        ``ms_per_step`` (one measurement cannot separate the two on another machine)."""
        ms_per_step = check_real("ms_per_step", ms_per_step, low=0.0, strict=True)
        batch_size = check_int("batch_size", batch_size)
        base = float(self.ms_per_step(batch_size))
        if not base > 0:
            raise ValueError("This cost model costs nothing per step; it cannot be scaled.")
        scale = ms_per_step / base
        return StepCost(self.fixed_ms * scale, self.per_row_ms * scale)


def step_cost(batch_sizes, ms_per_epoch, n_train: int) -> StepCost:
    """Fit ``StepCost`` to the time of one epoch at several batch sizes:
    ``ms = ⌈n/B⌉·fixed + n·per_row``, by least squares (a coefficient that comes out
    negative is set to 0 and the other refitted).

    Example:
        >>> sizes = np.array([1, 4, 16, 100])
        >>> ms = np.ceil(100 / sizes) * 0.02 + 100 * 0.001     # exact data
        >>> cost = step_cost(sizes, ms, 100)
        >>> round(cost.fixed_ms, 6), round(cost.per_row_ms, 6)
        (0.02, 0.001)
    """
    sizes = np.asarray(batch_sizes, dtype=np.float64)
    ms = np.asarray(ms_per_epoch, dtype=np.float64)
    columns = np.column_stack(
        [rules.batches_per_epoch(n_train, sizes), np.full_like(sizes, n_train)]
    )  # (S, 2): updates, rows
    fixed, per_row = np.linalg.lstsq(columns, ms, rcond=None)[0]
    if fixed < 0 or per_row < 0:
        keep = 0 if fixed >= per_row * n_train else 1  # the term that explains more
        alone = float(np.linalg.lstsq(columns[:, keep : keep + 1], ms, rcond=None)[0][0])
        fixed, per_row = (max(alone, 0.0), 0.0) if keep == 0 else (0.0, max(alone, 0.0))
    return StepCost(float(fixed), float(per_row))


def time_steps(
    model: Model, x: np.ndarray, y: np.ndarray, batch_sizes, repeats: int = 3
) -> StepCost:
    """Measure ``StepCost`` on this machine with the NumPy reference engine of ``gd.fit``.

    At each batch size, ``gd.fit`` runs for 1 and for 2 epochs (best of ``repeats`` each);
    their difference is one epoch without what a call pays once. ``step_cost`` then splits
    the epochs into a fixed cost per update and a cost per row. The reference engine, as on
    the other pages: the compiled one removes most of the fixed cost.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> cost = time_steps(LinearRegression(), np.zeros(64), np.zeros(64), [1, 8, 64], 1)
        >>> cost.fixed_ms >= 0 and cost.per_row_ms >= 0
        True
    """
    x, y = check_data(x, y)
    sizes = check_sizes("batch_sizes", batch_sizes, y.size)
    repeats = check_int("repeats", repeats)
    opt = SGD(learning_rate=1e-6)  # tiny: nothing diverges while the clock runs
    ms = np.empty(sizes.size)
    for i, size in enumerate(sizes.tolist()):
        best = {}
        for epochs in (1, 2):
            times = []
            for _ in range(repeats):
                begin = time.perf_counter()
                fit(model, x, y, opt, Training(epochs=epochs), batch_size=size, engine="numpy")
                times.append(time.perf_counter() - begin)
            best[epochs] = min(times)
        ms[i] = 1000.0 * max(best[2] - best[1], 0.0)
    return step_cost(sizes, ms, y.size)


def _samples_seen(updates: np.ndarray, batch_size, n_train: int) -> np.ndarray:
    """Training rows read after ``updates`` updates (``Run.samples_seen``); inf stays inf."""
    per_epoch = rules.batches_per_epoch(n_train, batch_size)
    finite = np.isfinite(updates)
    whole = np.where(finite, updates, 0).astype(np.int64)
    epoch, slot = np.divmod(whole, per_epoch)
    seen = epoch * n_train + np.minimum(slot * batch_size, n_train)
    return np.where(finite, seen.astype(np.float64), np.inf)


def reach(
    updates: np.ndarray,
    losses: np.ndarray,
    target: float,
    window: int,
    known_to: int,
    blew_up_at=None,
):
    """The first of ``updates`` from which the loss stays at or below ``target`` for ``window``
    more updates, or inf: the one definition of "reaches the target".

    Update t reaches when the loss at every scored update in ``[t, t + window]`` is at most
    ``target``, the run is known up to ``t + window`` (``known_to``: its last update), and it
    had not blown up by then. ``window`` 0 is the first touch.

    Args:
        updates: (m,) the scored updates, ascending (``Run.loss_steps``).
        losses: (m,) the full training loss at each (``Run.loss``), or (L, m) for L runs
            scored at the same updates.
        target: the loss to reach.
        window: updates the loss must stay there: ``stay_epochs × ceil(n/B)``.
        known_to: the last update of the runs (or of the part run so far).
        blew_up_at: the update each run blew up at (``Run.diverged_at``): None, an int, or
            (L,) with ``rules.NEVER`` for a run that did not.

    Returns:
        A float, or (L,) floats for (L, m) losses.

    Example:
        >>> updates = np.arange(8)
        >>> losses = np.array([9.0, 3.0, 0.9, 1.2, 0.8, 0.7, 0.9, 0.6])
        >>> reach(updates, losses, 1.0, window=0, known_to=7)   # the first touch
        2.0
        >>> reach(updates, losses, 1.0, window=2, known_to=7)   # 3 is above: from 4 on
        4.0
        >>> reach(updates, losses, 1.0, window=4, known_to=7)   # 4 + 4 is past the end
        inf
        >>> reach(updates, np.stack([losses, losses]), 1.0, 2, 7, np.array([-1, 6])).tolist()
        [4.0, inf]
    """
    updates = np.asarray(updates)
    at = np.inf if blew_up_at is None else np.asarray(blew_up_at, dtype=np.float64)
    at = np.where(at == rules.NEVER, np.inf, at)[..., None]  # (L, 1) or (1,)
    ok = (np.asarray(losses) <= target) & (updates < at)  # NaN and inf (a blow-up) are not
    bad = np.where(ok, np.inf, updates.astype(np.float64))  # (L, m)
    following = np.minimum.accumulate(bad[..., ::-1], axis=-1)[..., ::-1]  # the next bad one
    end = updates + window  # (m,)
    hits = ok & (np.minimum(following, at) > end) & (end <= known_to)  # (L, m)
    first = np.where(hits.any(axis=-1), updates[hits.argmax(axis=-1)], np.inf)
    return float(first) if first.ndim == 0 else first


def run_reach(
    run, target: float, stay_epochs: int = 1, loss_points_per_epoch: int | None = None
) -> float:
    """``reach`` read from a ``gd.Run``, at the updates ``critical_batch`` scores
    (``scoring_grid``): the update at which it reached ``target`` and stayed there for
    ``stay_epochs`` epochs, or inf (what ``critical_batch`` counts, run by run)."""
    planned = run.epochs * run.updates_per_epoch
    grid = scoring_grid(
        run.loss_steps, run.updates_per_epoch, planned, loss_points_per_epoch, cheap=False
    )
    kept = np.isin(run.loss_steps, grid)
    return reach(
        run.loss_steps[kept],
        run.loss[kept],
        target,
        stay_epochs * run.updates_per_epoch,
        planned,
        run.diverged_at,
    )


def scoring_grid(
    fit_grid: np.ndarray,
    per_epoch: int,
    planned: int,
    loss_points_per_epoch: int | None,
    cheap: bool,
) -> np.ndarray:
    """The updates at which the search scores the full loss: ``gd.fit``'s (``fit_grid``,
    ``Run.loss_steps``), or, with ``loss_points_per_epoch`` and a loss that needs a pass over
    the rows (not ``cheap``), every ``ceil(per_epoch / loss_points_per_epoch)``-th update and
    every epoch's end, as far as ``gd.fit`` scores them.

    Example:
        >>> scoring_grid(np.arange(21), 10, 20, 3, cheap=False).tolist()
        [0, 4, 8, 10, 12, 16, 20]
        >>> scoring_grid(np.arange(21), 10, 20, 3, cheap=True).size
        21
    """
    if loss_points_per_epoch is None or cheap:
        return fit_grid
    stride = -(-per_epoch // loss_points_per_epoch)
    every = np.union1d(np.arange(0, planned + 1, stride), np.arange(0, planned + 1, per_epoch))
    return np.intersect1d(fit_grid, every)


def _first_reach(
    kernels,
    model: Model,
    problems: list[Problem],
    opts: list[SGD],
    batch_size: int,
    how: _Scoring,
    pool: ThreadPoolExecutor,
) -> np.ndarray:
    """(L, S) the update each run reached the target at and stayed (``reach``), inf for never.

    Runs go to growing horizons, each seed's lanes on a thread of ``pool``. After each horizon,
    a learning rate is settled when its median over seeds is known, or when even its lowest
    possible median (unknown seeds counted as reaching right after the last update that could
    still be decided) exceeds the best known median: it cannot win, and its entries are left
    at inf (``steps`` and ``best_learning_rate`` are those of the full search). Only the
    unsettled (rate, seed) runs go on to the next horizon.
    """
    n_lanes, n_seeds = len(opts), len(problems)
    max_epochs, n_train = problems[0].order.shape
    per_epoch = rules.batches_per_epoch(n_train, batch_size)
    window = how.stay_epochs * per_epoch
    planned = max_epochs * per_epoch
    scored = scoring_grid(
        loss_steps(model, planned, per_epoch, n_train, planned),
        per_epoch,
        planned,
        how.loss_points_per_epoch,
        model.cheap_losses,
    )
    first = np.full((n_lanes, n_seeds), np.inf)
    known = np.zeros((n_lanes, n_seeds), dtype=bool)
    for horizon in horizons(max_epochs, how.stay_epochs):
        limit = horizon * per_epoch  # updates of a run that lasts the horizon
        keep = scored[scored <= limit]
        final = horizon == max_epochs
        lanes = [np.flatnonzero(~known[:, s]) for s in range(n_seeds)]  # unsettled, per seed
        scoring = _Round(how, window, limit, final)
        scans = pool.map(
            _scan_seed,
            *zip(
                *[
                    (
                        kernels,
                        model,
                        problems[s],
                        [opts[i] for i in lanes[s]],
                        batch_size,
                        horizon,
                        keep,
                        scoring,
                    )
                    for s in range(n_seeds)
                ],
                strict=True,
            ),
        )
        for s, (hits, settled) in enumerate(scans):
            first[lanes[s], s] = hits
            known[lanes[s], s] = settled
        if final:
            break
        known = _settle(first, known, limit - window)
        if known.all():
            break
    return first


def losses_scored(
    model: Model,
    n_train: int,
    batch_size: int,
    max_epochs: int,
    stay_epochs: int = 1,
    loss_points_per_epoch: int | None = None,
) -> int:
    """How many full-loss evaluations (a pass over the training rows each) one run of the
    search makes in the worst case, over all its rounds; 0 for a model whose loss needs no
    pass over the rows (``model.cheap_losses``).

    Example:
        >>> from gd.models import LinearRegression, LogisticRegression
        >>> losses_scored(LinearRegression(), 100, 10, 20)
        0
        >>> losses_scored(LogisticRegression(), 100, 10, 20)   # 21 + 81 + 201 updates scored
        303
        >>> losses_scored(LogisticRegression(), 100, 10, 20, loss_points_per_epoch=2)  # 5 + 17 + 41
        63
    """
    if model.cheap_losses:
        return 0
    per_epoch = rules.batches_per_epoch(n_train, batch_size)
    planned = max_epochs * per_epoch
    scored = scoring_grid(
        loss_steps(model, planned, per_epoch, n_train, planned),
        per_epoch,
        planned,
        loss_points_per_epoch,
        cheap=False,
    )
    return sum(
        int(np.count_nonzero(scored <= h * per_epoch)) for h in horizons(max_epochs, stay_epochs)
    )


def horizons(max_epochs: int, stay_epochs: int = 1) -> list[int]:
    """The epochs each round of the search trains to, from the start each time: the first
    leaves ``_FIRST_HORIZON`` epochs to reach and ``stay_epochs`` more to stay, each next one is
    ``_HORIZON_GROWTH`` times the last, and the last is ``max_epochs``. In the worst case (no
    run reaches the target) every run trains ``sum(horizons(...))`` epochs.

    Example:
        >>> horizons(20), horizons(100), horizons(1)
        ([2, 8, 20], [2, 8, 32, 100], [1])
    """
    horizon = min(_FIRST_HORIZON + stay_epochs, max_epochs)
    rounds = [horizon]
    while horizon < max_epochs:
        horizon = min(horizon * _HORIZON_GROWTH, max_epochs)
        rounds.append(horizon)
    return rounds


class _Scoring(NamedTuple):
    """How the search scores its runs: what ``reach`` needs besides the losses."""

    target: float
    stats: LinearStats | None  # linear regression's losses without a pass over the rows
    stay_epochs: int  # epochs a reach must stay for
    loss_points_per_epoch: int | None  # see ``scoring_grid``


class _Round(NamedTuple):
    """One round of the search: how it scores, and how far it ran."""

    how: _Scoring
    window: int  # updates a reach must stay for
    limit: int  # the horizon's last update
    final: bool  # the horizon is the whole run


def _scan_seed(
    kernels,
    model: Model,
    problem: Problem,
    opts: list[SGD],
    batch_size: int,
    horizon: int,
    keep: np.ndarray,
    scoring: _Round,
) -> tuple[np.ndarray, np.ndarray]:
    """Run one seed's lanes ``opts`` to the horizon and score them all at once: (their
    ``reach`` (L,), whether each is settled (L,)).

    A lane that blew up at update t is scored at the kept updates before t, and no window may
    reach t: ``gd.fit`` scores t itself, where one batch's loss exceeds a million times
    max(start loss, 1), so the full loss exceeds the start loss (n_train < 10⁶ rows) and is
    above any target that the start did not already meet.
    """
    if not opts:
        return np.empty(0), np.empty(0, dtype=bool)
    ran = _run_lanes(kernels, model, problem, horizon, batch_size, opts, keep)
    stats, how = scoring.how.stats, scoring.how
    hits = np.empty(len(opts))
    for lane in range(len(opts)):  # lane by lane: (K,) arrays stay in cache; (L·K,) did not
        points = ran.params[lane]  # (K, P)
        losses = stats.losses(points) if stats is not None else model.losses(points, *problem.train)
        at = int(ran.diverged_at[lane])
        hits[lane] = reach(keep, losses, how.target, scoring.window, scoring.limit, at)
    settled = np.isfinite(hits) | scoring.final | (ran.diverged_at != rules.NEVER)
    return hits, settled


def _settle(first: np.ndarray, known: np.ndarray, limit: int) -> np.ndarray:
    """Settle the learning rates whose place in the search is decided up to update ``limit``.

    ``first`` (L, S) holds the known reaches and inf elsewhere; an entry that is not
    ``known`` is only known to exceed ``limit`` (the horizon less the window a reach must
    stay for). A rate is settled when its median over seeds
    is exact, or when even its lowest possible median (unknown seeds reaching at
    ``limit + 1``) exceeds the best exact median: it cannot win, nor tie, and its unknown
    seeds stay at inf. Returns the new ``known``.

    Example:
        >>> first = np.array([[3.0, 4.0, np.inf], [1.0, np.inf, np.inf]])
        >>> known = np.array([[True, True, False], [True, False, False]])
        >>> _settle(first, known, limit=10).tolist()      # rate 1's median is at least 11
        [[True, True, True], [True, True, True]]
    """
    high = np.median(first, axis=1)  # (L,) unknown seeds at inf
    low = np.median(np.where(known, first, limit + 1), axis=1)  # ... or just past ``limit``
    exact = low == high
    best = np.min(np.where(exact, high, np.inf))
    hopeless = ~exact & (low > best)
    return known | (exact | hopeless)[:, None]


def _run_lanes(
    kernels,
    model: Model,
    problem: Problem,
    horizon: int,
    batch_size: int,
    opts: list[SGD],
    keep: np.ndarray,
) -> _Lanes:
    """The first ``horizon`` epochs of each optimizer's run, keeping the points after ``keep``.

    Compiled: every lane in one lockstep loop. Reference: ``gd.loop.train_loop`` per lane, its
    trajectory cut to the same record (a lane that blew up repeats its last point, as the
    compiled trace does).
    """
    x, y = problem.train
    order = problem.order[:horizon]  # the first epochs of the full run, drawn identically
    if kernels is not None:
        trace = kernels.new_trace(len(opts), keep, problem.init.size, 0, 1, 0)
        _, diverged_at = kernels.train(
            model,
            x,
            y,
            order,
            batch_size,
            kernels.lanes(opts),
            problem.init,
            problem.threshold,
            trace,
        )
        return _Lanes(trace.params, diverged_at)
    params = np.empty((len(opts), keep.size, problem.init.size))
    diverged_at = np.full(len(opts), rules.NEVER, dtype=np.int64)
    for lane, opt in enumerate(opts):
        path = train_loop(model, x, y, order, batch_size, opt, problem.init, problem.threshold)
        done = path.params.shape[0] - 1
        params[lane] = path.params[np.minimum(keep, done)]
        if path.diverged_at is not None:
            diverged_at[lane] = path.diverged_at
    return _Lanes(params, diverged_at)
