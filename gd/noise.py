"""Inside one mini-batch: per-sample gradients, gradient noise against batch size, and timing.

A batch of B rows gives ONE gradient, the mean of its rows' per-sample gradients
``g_B = (1/B) Σ_{i∈batch} gᵢ``, and ONE update. How far ``g_B`` strays from the full-data
gradient ``g = (1/N) Σ gᵢ`` is the gradient noise. For a batch drawn uniformly WITHOUT
replacement from N rows (as one epoch of shuffled batches does), sampling theory gives

    E‖g_B − g‖² = σ²/B · (N − B)/(N − 1),   σ² = (1/N) Σᵢ ‖gᵢ − g‖²,

where σ² is the trace of the per-sample gradient covariance. The factor (N − B)/(N − 1) is the
finite-population correction: it is 1 at B = 1 and 0 at B = N, where the batch is all the data.

Example:
    >>> import numpy as np
    >>> from gd.models import LinearRegression
    >>> x = np.arange(4.0)[:, None]; y = np.array([0.0, 1.0, 1.0, 3.0])
    >>> theory_variance(LinearRegression(), np.zeros(2), x, y, [1, 2, 4]).tolist()  # σ² = 54.75
    [54.75, 18.25, 0.0]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from gd.fit import Run, Training, fit
from gd.models import Model
from gd.optim import SGD
from gd.rules import batches_per_epoch
from gd.validation import check_int, check_sizes

# Draws are processed in chunks so that the (chunk, N, P) prefix sums stay near this many floats.
_CHUNK_ELEMENTS = 2_000_000


def per_sample_variance(model: Model, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """σ² = (1/N) Σᵢ ‖gᵢ − g‖²: the trace of the per-sample gradient covariance at ``params``.

    Args:
        model: a ``gd.models`` model.
        params: the parameters, (P,).
        x, y: the training rows, (N, k) and (N,).

    Returns:
        σ², the mean squared distance of a single row's gradient from the full-data gradient.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> x = np.zeros((2, 1)); y = np.array([1.0, -1.0])   # gᵢ = (0, −2yᵢ), g = (0, 0)
        >>> per_sample_variance(LinearRegression(), np.zeros(2), x, y)
        4.0
    """
    grads = model.per_sample_grad(params, x, y)  # (N, P)
    deviation = grads - grads.mean(axis=0)  # (N, P)
    return float(np.mean(np.sum(deviation**2, axis=1)))


def theory_variance(
    model: Model, params: np.ndarray, x: np.ndarray, y: np.ndarray, batch_sizes: Sequence[int]
) -> np.ndarray:
    """E‖g_B − g‖² = σ²/B · (N − B)/(N − 1) for batches drawn without replacement.

    Args:
        model, params, x, y: as in ``per_sample_variance``.
        batch_sizes: the batch sizes B, each in [1, N].

    Returns:
        The expected squared distance of a batch gradient from the full-data gradient, one per
        batch size: σ² at B = 1 and exactly 0 at B = N.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> x = np.zeros((5, 1)); y = np.arange(5.0)
        >>> theory_variance(LinearRegression(), np.zeros(2), x, y, [1, 5]).tolist()
        [8.0, 0.0]
    """
    n = y.size
    sizes = check_sizes("batch_sizes", batch_sizes, n)
    if n == 1:
        return np.zeros(sizes.size)
    sigma2 = per_sample_variance(model, params, x, y)
    return sigma2 / sizes * (n - sizes) / (n - 1)


def minibatch_gradient_variance(
    model: Model,
    params: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    batch_sizes: Sequence[int],
    draws: int,
    seed: int,
) -> np.ndarray:
    """The measured E‖g_B − g‖²: the mean over ``draws`` random batches of each size B.

    Each draw is one uniform random permutation of the N rows; its first B rows are a batch of
    size B drawn without replacement, so every size shares the same draws (each estimate is
    unbiased; estimates at different B are correlated). The batch gradient is the mean of the
    batch's per-sample gradients, which is exactly what ``model.grad`` returns for those rows.

    Args:
        model, params, x, y: as in ``per_sample_variance``.
        batch_sizes: the batch sizes B, each in [1, N].
        draws: random batches per size.
        seed: seeds the one generator of this measurement.

    Returns:
        One mean squared distance per batch size; exactly 0 at B = N.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> x = np.zeros((3, 1)); y = np.array([1.0, 2.0, 6.0])
        >>> minibatch_gradient_variance(LinearRegression(), np.zeros(2), x, y, [3], 10, 0)
        array([0.])
    """
    n = y.size
    sizes = check_sizes("batch_sizes", batch_sizes, n)
    draws = check_int("draws", draws)
    grads = model.per_sample_grad(params, x, y)  # (N, P)
    deviation = grads - grads.mean(axis=0)  # (N, P): gᵢ − g
    rng = np.random.default_rng(seed)
    total = np.zeros(sizes.size)
    chunk = max(1, _CHUNK_ELEMENTS // (n * grads.shape[1]))
    for start in range(0, draws, chunk):
        count = min(chunk, draws - start)
        perms = np.argsort(rng.random((count, n)), axis=1)  # (c, N) uniform permutations
        prefix = np.cumsum(deviation[perms], axis=1)  # (c, N, P): Σ of the first B rows
        means = prefix[:, sizes - 1, :] / sizes[None, :, None]  # (c, S, P): g_B − g
        total += np.sum(means**2, axis=2).sum(axis=0)
    measured = total / draws
    # The only batch of N rows is all the data, so g_B = g exactly; rounding would leave ~1e-33.
    measured[sizes == n] = 0.0
    return measured


class Inside(NamedTuple):
    """What one update is made of, every step in parameter units (multiplied by −η)."""

    update: int  # which update, 0-based
    params: np.ndarray  # (P,) the parameters before the update
    rows: np.ndarray  # (B,) the batch's row indices into the training rows
    learning_rate: float  # η of this update
    sample_steps: np.ndarray  # (B, P) −η·gᵢ: where each row alone would push the parameters
    batch_step: np.ndarray  # (P,) −η·g_B: the mean of ``sample_steps``
    full_step: np.ndarray  # (P,) −η·g: the step the full training set would give
    taken_step: np.ndarray  # (P,) params[u+1] − params[u]: the step taken, with momentum

    @property
    def batch_size(self) -> int:
        return self.rows.size

    @property
    def angle_to_full(self) -> float:
        """Degrees between the batch step and the full-data step (nan if either is zero)."""
        norms = np.linalg.norm(self.batch_step) * np.linalg.norm(self.full_step)
        if not norms > 0:
            return float("nan")
        cosine = np.clip(self.batch_step @ self.full_step / norms, -1.0, 1.0)
        return float(np.degrees(np.arccos(cosine)))


def inside_update(model: Model, run: Run, x: np.ndarray, y: np.ndarray, update: int) -> Inside:
    """Take apart update ``update`` of ``run``: its batch, per-sample steps and the step taken.

    Args:
        model: the model the run trained.
        run: the run.
        x, y: the run's training rows, (n_train, k) and (n_train,).
        update: an applied update, in [0, run.updates).

    Returns:
        An ``Inside`` record.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> x = np.arange(6.0)[:, None]; y = 2 * x[:, 0]
        >>> run = fit(LinearRegression(), x, y, SGD(learning_rate=0.01), batch_size=3,
        ...           engine="numpy")
        >>> inside = inside_update(LinearRegression(), run, x, y, 1)
        >>> bool(np.allclose(inside.batch_step, inside.taken_step))   # no momentum
        True
    """
    if not 0 <= update < run.updates:
        raise ValueError(
            f"The 'update' parameter must be in [0, {run.updates}). Got {update!r} instead."
        )
    params = run.params[update]
    rows = run.batch_rows(update)
    rate = float(run.learning_rate[update])
    with np.errstate(all="ignore"):  # a run on its way to diverging may overflow here
        sample_steps = -rate * model.per_sample_grad(params, x[rows], y[rows])  # (B, P)
        return Inside(
            update=update,
            params=params,
            rows=rows,
            learning_rate=rate,
            sample_steps=sample_steps,
            batch_step=sample_steps.mean(axis=0),
            full_step=-rate * model.grad(params, x, y),
            taken_step=run.params[update + 1] - params,
        )


class EpochTiming(NamedTuple):
    """Wall-clock time of one epoch of ``gd.fit`` (NumPy engine) at several batch sizes."""

    batch_sizes: np.ndarray  # (S,)
    updates_per_epoch: np.ndarray  # (S,) ceil(N / B)
    seconds: np.ndarray  # (S,) best of the repeats, for one epoch

    @property
    def ms_per_epoch(self) -> np.ndarray:
        return 1e3 * self.seconds

    @property
    def us_per_update(self) -> np.ndarray:
        return 1e6 * self.seconds / self.updates_per_epoch


def time_epochs(
    model: Model, x: np.ndarray, y: np.ndarray, batch_sizes: Sequence[int], repeats: int = 3
) -> EpochTiming:
    """Time one epoch of the NumPy reference loop at each batch size (best of ``repeats``).

    Each update costs one Python-level step plus matrix products over B rows, so one epoch
    costs about ⌈N/B⌉ · (overhead + B · per-row work): larger batches amortise the overhead.
    The numba engine removes most of the overhead, which is why the NumPy one is timed here.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> timing = time_epochs(LinearRegression(), np.zeros((8, 1)), np.zeros(8), [1, 8], 1)
        >>> timing.updates_per_epoch.tolist()
        [8, 1]
    """
    sizes = check_sizes("batch_sizes", batch_sizes, y.size)
    opt = SGD(learning_rate=1e-3)  # small: no batch size diverges within one epoch
    seconds = np.empty(sizes.size)
    for i, size in enumerate(sizes):
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            fit(model, x, y, opt, Training(epochs=1), batch_size=int(size), engine="numpy")
            best = min(best, time.perf_counter() - start)
        seconds[i] = best
    return EpochTiming(sizes, batches_per_epoch(y.size, sizes), seconds)
