"""What ``batch_size`` is NOT: threads that each write their own update from stale weights.

A Keras beginner may picture ``fit(batch_size=32)`` as 32 threads, each taking one row and
updating the shared weights. That scheme exists: asynchronous SGD without locks, "Hogwild!"
(Niu, Recht, Ré & Wright, 2011). Each worker reads the weights, computes its row's gradient,
and adds its step while the others have moved the weights on, so every gradient is *stale*.
Simulated deterministically, with ``τ`` = ``staleness``::

    g_t     = ∇ℓ_{row t}(w_{t−τ})          # read τ updates ago (w_0 before the start)
    w_{t+1} = w_t + step(g_t)               # the optimizer's rule, applied to the CURRENT w_t

Rows come in the seeded order of ``gd.fit`` (``gd.fit.prepare``), one row per update: it is
batch size 1 with delay. With ``τ = 0`` it is exactly ``gd.fit(batch_size=1)``. Keras does
something else: one batch's rows give one averaged gradient at one point, and one update.

With K workers in a round robin each worker's read is followed by the other K − 1 workers'
writes before its own, so the staleness is at most K − 1.

What multi-GPU Keras (``tf.distribute.MirroredStrategy``) and PyTorch DDP do instead is
*synchronous* data parallelism, ``data_parallel``: K workers each take a shard of the batch,
compute their shard's mean gradient, and the gradients are averaged (each weighted by its
rows) before ONE update. That is the same update as the whole batch at once, to rounding.

Example:
    >>> import numpy as np
    >>> from gd.models import LinearRegression
    >>> from gd.optim import SGD
    >>> x = np.array([1.0, 2.0]); y = np.array([2.0, 4.0])
    >>> run = fit_async(LinearRegression(), x, y, SGD(0.1), Training(shuffle=False), workers=2,
    ...                 staleness=1)
    >>> run.params[2]      # both gradients taken at w_0 = (0, 0): −0.1·((−4, −4) + (−16, −8))
    array([2. , 1.2])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gd import rules
from gd.fit import Run, Training, prepare, record
from gd.loop import Trajectory
from gd.models import Model
from gd.optim import SGD
from gd.validation import check_int


@dataclass(frozen=True, eq=False)
class DataParallel:
    """One batch's gradient computed by K workers, and by one, at the same point.

    Attributes:
        shards: K arrays of row indices, the batch cut into near-equal consecutive parts.
        worker_grads: (K, P) each worker's mean gradient over its shard.
        combined: (P,) Σₖ (|shardₖ|/B)·gₖ: the all-reduced gradient.
        single: (P,) the batch's mean gradient computed in one piece (``model.grad``).
    """

    shards: tuple[np.ndarray, ...]
    worker_grads: np.ndarray
    combined: np.ndarray
    single: np.ndarray

    @property
    def max_difference(self) -> float:
        """The largest |combined − single| over the parameters: rounding only."""
        return float(np.max(np.abs(self.combined - self.single)))


def data_parallel(
    model: Model,
    params: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    rows: np.ndarray,
    workers: int,
) -> DataParallel:
    """The gradient of batch ``rows`` as ``workers`` synchronous workers compute it.

    Each worker takes a shard of about B/K rows, computes its shard's mean gradient, and the
    K gradients are averaged with weights |shardₖ|/B: the mean of all B rows' gradients.

    Args:
        model: a ``gd.models`` model.
        params: the point, (P,).
        x, y: the training rows, (n, k) and (n,).
        rows: the batch's row indices, (B,).
        workers: K, an integer in [1, B].

    Returns:
        A ``DataParallel`` record.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> x = np.arange(6.0)[:, None]; y = 2 * x[:, 0] + 1
        >>> result = data_parallel(LinearRegression(), np.zeros(2), x, y, np.arange(6), 3)
        >>> [shard.tolist() for shard in result.shards]
        [[0, 1], [2, 3], [4, 5]]
        >>> result.combined, result.single            # the same update, to rounding
        (array([-41.66666667, -12.        ]), array([-41.66666667, -12.        ]))
    """
    rows = np.asarray(rows, dtype=np.int64)
    workers = check_int("workers", workers)
    if workers > rows.size:
        raise ValueError(
            f"workers ({workers}) is larger than the {rows.size} rows of the batch; lower "
            "workers or use a larger batch."
        )
    shards = tuple(np.array_split(rows, workers))
    with np.errstate(all="ignore"):
        grads = np.array([model.grad(params, x[shard], y[shard]) for shard in shards])  # (K, P)
        weights = np.array([shard.size for shard in shards]) / rows.size  # (K,)
        return DataParallel(shards, grads, weights @ grads, model.grad(params, x[rows], y[rows]))


def fit_async(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    opt: SGD,
    training: Training = Training(),
    *,
    workers: int,
    staleness: int,
) -> Run:
    """Train as ``workers`` lock-free threads would, each gradient ``staleness`` updates old.

    Args:
        model: a ``gd.models`` model.
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        opt: the rule each worker applies to the shared weights, ``gd.SGD``; its update
            counter t counts every worker's writes.
        training: epochs, row orders, validation split and start, exactly as in ``gd.fit``.
        workers: threads taking rows in turn, an integer >= 1.
        staleness: how many other writes land between a worker's read and its own write,
            in [0, workers − 1].

    Returns:
        A ``gd.Run`` with batch size 1, built by ``gd.fit.record``, so every derived field
        (full loss, epoch loss, divergence) means what it means for ``gd.fit``.
        ``batch_loss[t]`` is the row's loss at the stale point the worker read.
    """
    if not isinstance(opt, SGD):
        raise ValueError(f"The 'opt' parameter must be a gd.SGD. Got {opt!r} instead.")
    workers = check_int("workers", workers)
    staleness = check_int("staleness", staleness, low=0)
    if staleness > workers - 1:
        raise ValueError(
            f"staleness ({staleness}) needs at least {staleness + 1} workers, but workers is "
            f"{workers}; raise workers or lower staleness."
        )
    problem = prepare(model, x, y, training)
    with np.errstate(all="ignore"):  # divergence is data: no warning leaves the loop
        trajectory = stale_loop(
            model, *problem.train, problem.order, opt, problem.init, problem.threshold, staleness
        )
        return record(model, problem, trajectory, opt, 1, 1)


def stale_loop(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    opt: SGD,
    init: np.ndarray,
    threshold: float,
    staleness: int,
) -> Trajectory:
    """``gd.loop.train_loop`` with batch size 1, each gradient taken ``staleness`` updates ago.

    Args:
        model, x, y, order, opt, init, threshold: as in ``gd.loop.train_loop``.
        staleness: τ >= 0; the gradient of update t is taken at ``params[max(t − τ, 0)]``.

    Returns:
        The trajectory; it ends early at the first blown-up point.
    """
    epochs, n_train = order.shape
    total = epochs * n_train
    params = np.empty((total + 1, init.size))  # (U+1, P)
    params[0] = init
    batch_loss = np.empty(total)
    velocity = np.zeros_like(init)  # Keras's velocity or PyTorch's buffer
    t = 0  # updates applied so far, by every worker together
    for epoch in range(epochs):
        for slot in range(n_train):
            rows = order[epoch, slot : slot + 1]  # (1,) this worker's row
            read = params[max(t - staleness, 0)]  # the weights as they were τ updates ago
            loss, grad = model.loss_and_grad(read, x[rows], y[rows])
            if rules.blew_up(loss, threshold):
                return Trajectory(params[: t + 1], batch_loss[:t], t)
            batch_loss[t] = loss
            params[t + 1], velocity = opt.step(params[t], velocity, grad, t)
            t += 1
    return Trajectory(params, batch_loss, None)
