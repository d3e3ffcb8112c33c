"""The one training loop: Keras ``model.fit`` semantics for mini-batch SGD, as a pure function.

``fit`` splits off the validation rows, draws one permutation per epoch, walks the batches,
applies one optimizer update per batch, and returns a frozen ``Run``. Its bookkeeping follows
``shared/spec/sgd-semantics.md`` §4:

* ``validation_split`` keeps the **last** ``n − floor(n·(1 − split))`` rows for validation,
  before any shuffling; they are never trained on.
* Each epoch has ``ceil(n_train / batch_size)`` updates; the last batch is smaller, not dropped.
* ``shuffle=True`` draws a fresh uniform permutation of the training rows each epoch from one
  ``np.random.default_rng(seed)``.
* A batch's loss is taken at the weights *before* its update, and Keras's epoch ``loss`` is the
  batch-size-weighted mean of those batch losses, not the loss of the end-of-epoch weights.

Example:
    >>> import numpy as np
    >>> from gd.models import LinearRegression
    >>> from gd.optim import SGD
    >>> x = np.arange(5.0); y = 2 * x + 1
    >>> run = fit(LinearRegression(), x, y, SGD(learning_rate=0.05), batch_size=2, epochs=3,
    ...           engine="numpy")
    >>> run.updates_per_epoch, run.updates       # ceil(5/2) = 3 per epoch, the last of 1 row
    (3, 9)
    >>> run.order[0, :2]                           # rows of the first batch of epoch 0
    array([2, 4])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from gd.models import Model
from gd.optim import SGD

try:
    from gd import _kernels
except ImportError:  # numba is missing: the NumPy reference serves alone, with the same numbers.
    _kernels = None

# A run has diverged when a batch loss is non-finite or exceeds this factor times
# max(starting full loss, 1). A stable run's batch loss stays far below it: one batch's mean
# loss is at most n_train (<= 100 000) times the full-data loss.
DIVERGENCE_FACTOR = 1e6

# For models without a closed-form loss, the full training loss is evaluated at no more than
# LOSS_BUDGET / n_train updates (plus the start, the end and every epoch boundary).
LOSS_BUDGET = 4_000_000

Engine = Literal["auto", "numba", "numpy"]


class Trajectory(NamedTuple):
    """What the inner loop produces; ``fit`` derives everything else from it."""

    params: np.ndarray  # (U+1, P): the start, then after each update
    batch_loss: np.ndarray  # (U,): each batch's loss at the pre-update parameters
    learning_rate: np.ndarray  # (U,)
    diverged_at: int | None  # index into params of the first blown-up point


@dataclass(frozen=True, eq=False)
class Run:
    """A frozen record of one training run (U = updates applied, E = epochs completed).

    Attributes:
        params: (U+1, P) the start, then the parameters after each update.
        loss: full training-set loss at ``params[loss_steps]``.
        loss_steps: which updates ``loss`` was taken at; every update for linear regression,
            a thinned set (always with the start, the end and each epoch boundary) otherwise.
        batch_loss: (U,) each batch's loss at its pre-update parameters (what Keras logs).
        learning_rate: (U,) the rate used by each update.
        epoch_loss: (E,) Keras's reported ``loss``: the batch-size-weighted mean of the epoch's
            batch losses.
        val_loss: (E,) validation loss at each epoch's end parameters, or None without a split.
        order: (epochs, n_train) each epoch's row order; batch j is ``order[e, j*B:(j+1)*B]``.
        updates_per_epoch: ``ceil(n_train / batch_size)``.
        diverged_at: the number of updates after which the run had blown up, or None.
        batch_size: the batch size used; ``requested_batch_size`` is what was asked. A request
            larger than ``n_train`` is clamped to full batch, as Keras does.
        n_train, n_val: rows trained on and held out.
        epochs: epochs requested.
        divergence_threshold: the batch loss above which the run counts as diverged.
    """

    params: np.ndarray
    loss: np.ndarray
    loss_steps: np.ndarray
    batch_loss: np.ndarray
    learning_rate: np.ndarray
    epoch_loss: np.ndarray
    val_loss: np.ndarray | None
    order: np.ndarray
    updates_per_epoch: int
    diverged_at: int | None
    batch_size: int
    requested_batch_size: int
    n_train: int
    n_val: int
    epochs: int
    divergence_threshold: float

    @property
    def updates(self) -> int:
        """Number of updates actually applied."""
        return self.batch_loss.size

    @property
    def batch_size_clamped(self) -> bool:
        """True when the requested batch size exceeded the training rows."""
        return self.requested_batch_size != self.batch_size

    @property
    def samples_seen(self) -> np.ndarray:
        """(U+1,) training rows consumed before each point: the x axis "samples seen"."""
        u = np.arange(self.updates + 1)
        epoch, slot = np.divmod(u, self.updates_per_epoch)
        return epoch * self.n_train + np.minimum(slot * self.batch_size, self.n_train)

    def batch_rows(self, update: int) -> np.ndarray:
        """Indices (into the training rows) of the batch that update ``update`` used."""
        epoch, slot = divmod(update, self.updates_per_epoch)
        return self.order[epoch, slot * self.batch_size : (slot + 1) * self.batch_size]

    def __repr__(self) -> str:
        if self.diverged_at is None:
            end = f"final loss {self.loss[-1]:.4g}"
        else:
            end = f"diverged at update {self.diverged_at}"
        return (
            f"Run({self.updates} updates, {self.updates_per_epoch} per epoch, "
            f"batch_size={self.batch_size}, n_train={self.n_train}, {end})"
        )


def validation_split_at(n: int, validation_split: float) -> int:
    """Rows kept for training: ``floor(n·(1 − validation_split))``, computed as Keras does."""
    return math.floor(n * (1.0 - validation_split))


def batches_per_epoch(n_train: int | np.ndarray, batch_size: int | np.ndarray) -> int | np.ndarray:
    """Keras's steps per epoch, ``ceil(n_train / batch_size)``: the last, smaller batch is kept.

    Works on ints or NumPy arrays of batch sizes.

    Example:
        >>> batches_per_epoch(200, 32)                  # 6 batches of 32, then one of 8
        7
    """
    return -(-n_train // batch_size)


def row_orders(n_train: int, epochs: int, shuffle: bool, seed: int) -> np.ndarray:
    """(epochs, n_train) row orders: one fresh permutation per epoch, drawn in epoch order from
    one ``np.random.default_rng(seed)`` (or the identity when ``shuffle`` is off)."""
    rng = np.random.default_rng(seed)
    order = np.empty((epochs, n_train), dtype=np.int64)
    for epoch in range(epochs):
        order[epoch] = rng.permutation(n_train) if shuffle else np.arange(n_train)
    return order


def divergence_threshold(model: Model, init: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The batch loss above which a run counts as diverged: ``DIVERGENCE_FACTOR`` × max(start
    loss, 1), or 0 (diverged at once) when the start loss is not finite."""
    start_loss = model.loss(init, x, y)
    return DIVERGENCE_FACTOR * max(start_loss, 1.0) if math.isfinite(start_loss) else 0.0


def train_loop(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    opt: SGD,
    init: np.ndarray,
    threshold: float,
) -> Trajectory:
    """The reference loop: one averaged gradient and one update per mini-batch.

    Args:
        model: scores a batch and returns its mean loss and gradient.
        x, y: training rows, (n_train, k) and (n_train,).
        order: (epochs, n_train) the row order of each epoch.
        batch_size: rows per batch; the last batch of an epoch may be smaller.
        opt: the optimizer; ``opt.step`` applies Keras's or PyTorch's rule.
        init: the starting parameters, (P,).
        threshold: a batch loss above this (or non-finite) means the run has diverged.

    Returns:
        The trajectory; it ends early at the first blown-up point.
    """
    epochs, n_train = order.shape
    updates_per_epoch = batches_per_epoch(n_train, batch_size)
    total = epochs * updates_per_epoch
    params = np.empty((total + 1, init.size))  # (U+1, P)
    params[0] = init
    batch_loss = np.empty(total)
    learning_rate = np.empty(total)
    velocity = np.zeros_like(init)
    t = 0  # updates applied so far, across epochs; Keras's optimizer.iterations
    for epoch in range(epochs):
        for slot in range(updates_per_epoch):
            rows = order[epoch, slot * batch_size : (slot + 1) * batch_size]  # (B,)
            loss, grad = model.loss_and_grad(params[t], x[rows], y[rows])
            if not loss <= threshold:  # also catches NaN
                return Trajectory(params[: t + 1], batch_loss[:t], learning_rate[:t], t)
            batch_loss[t] = loss
            learning_rate[t] = opt.learning_rate_at(t)
            params[t + 1], velocity = opt.step(params[t], velocity, grad, t)
            t += 1
    return Trajectory(params, batch_loss, learning_rate, None)


def fit(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    opt: SGD,
    *,
    batch_size: int = 32,
    epochs: int = 1,
    shuffle: bool = True,
    seed: int = 0,
    validation_split: float = 0.0,
    init: np.ndarray | None = None,
    engine: Engine = "auto",
) -> Run:
    """Train ``model`` with mini-batch SGD exactly as Keras's ``model.fit`` would.

    Args:
        model: a ``gd.models`` model.
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        opt: the optimizer settings, ``gd.SGD``.
        batch_size: rows averaged into each gradient (Keras's default is 32). Larger than the
            training rows means full batch.
        epochs: passes over the training rows (Keras's default is 1).
        shuffle: draw a new row order every epoch.
        seed: seeds the one random generator of this run.
        validation_split: fraction of rows, taken from the end, held out for ``val_loss``.
        init: starting parameters (P,); None means ``model.init_params``.
        engine: "numba" (compiled), "numpy" (the readable reference), or "auto" (numba when
            it is installed). Both give the same numbers.

    Returns:
        A frozen ``Run``; see its docstring for every field.
    """
    x, y = _check_data(x, y)
    model.check_features(x.shape[1])
    if not isinstance(opt, SGD):
        raise ValueError(f"The 'opt' parameter must be a gd.SGD. Got {opt!r} instead.")
    batch_size = _check_int("batch_size", batch_size)
    epochs = _check_int("epochs", epochs)
    seed = _check_int("seed", seed, low=0)
    if not isinstance(shuffle, bool | np.bool_):
        raise ValueError(f"The 'shuffle' parameter must be a bool. Got {shuffle!r} instead.")
    n_train = _split(y.size, validation_split)
    init = _check_init(model, init, x.shape[1])
    loop = _loop(engine)

    x_train, y_train = x[:n_train], y[:n_train]
    x_val, y_val = x[n_train:], y[n_train:]
    effective_batch = min(batch_size, n_train)
    order = row_orders(n_train, epochs, shuffle, seed)

    with np.errstate(all="ignore"):  # divergence is data: no warning leaves the loop
        threshold = divergence_threshold(model, init, x_train, y_train)
        trajectory = loop(model, x_train, y_train, order, effective_batch, opt, init, threshold)
        return _record(
            model,
            trajectory,
            order,
            effective_batch,
            batch_size,
            (x_train, y_train),
            (x_val, y_val),
            threshold,
        )


def _record(
    model: Model,
    trajectory: Trajectory,
    order: np.ndarray,
    batch_size: int,
    requested_batch_size: int,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    threshold: float,
) -> Run:
    """Derive the losses Keras reports from a trajectory (shared by both engines)."""
    epochs, n_train = order.shape
    updates_per_epoch = batches_per_epoch(n_train, batch_size)
    done = trajectory.batch_loss.size
    steps = loss_steps(model, epochs * updates_per_epoch, updates_per_epoch, n_train, done)
    every = steps.size == trajectory.params.shape[0]  # then a view, not a copy, of the path
    loss = model.losses(trajectory.params if every else trajectory.params[steps], *train)
    diverged_at = trajectory.diverged_at
    if diverged_at is None and not loss[-1] <= threshold:
        diverged_at = done

    completed = done // updates_per_epoch
    slot_sizes = np.minimum(batch_size, n_train - batch_size * np.arange(updates_per_epoch))
    per_epoch = trajectory.batch_loss[: completed * updates_per_epoch].reshape(
        completed, updates_per_epoch
    )  # (E, updates per epoch); E may be 0 when the run blew up in its first epoch
    epoch_loss = per_epoch @ slot_sizes / n_train  # batch-size-weighted mean, (E,)
    val_loss = None
    if val[1].size:
        ends = updates_per_epoch * np.arange(1, completed + 1)
        val_loss = model.losses(trajectory.params[ends], *val)
    return Run(
        params=trajectory.params,
        loss=loss,
        loss_steps=steps,
        batch_loss=trajectory.batch_loss,
        learning_rate=trajectory.learning_rate,
        epoch_loss=epoch_loss,
        val_loss=val_loss,
        order=order,
        updates_per_epoch=updates_per_epoch,
        diverged_at=diverged_at,
        batch_size=batch_size,
        requested_batch_size=requested_batch_size,
        n_train=n_train,
        n_val=val[1].size,
        epochs=epochs,
        divergence_threshold=threshold,
    )


def loss_steps(
    model: Model, planned: int, updates_per_epoch: int, n_train: int, done: int
) -> np.ndarray:
    """Updates at which the full training loss is recorded (see ``LOSS_BUDGET``).

    Example:
        >>> from gd.models import TanhNeuron
        >>> loss_steps(TanhNeuron(), planned=10, updates_per_epoch=5, n_train=3, done=7)
        array([0, 1, 2, 3, 4, 5, 6, 7])
    """
    if model.cheap_losses or (planned + 1) * n_train <= LOSS_BUDGET:
        return np.arange(done + 1)
    stride = -(-planned * n_train // LOSS_BUDGET)
    steps = np.union1d(
        np.arange(0, planned + 1, stride), np.arange(0, planned + 1, updates_per_epoch)
    )
    return np.union1d(steps[steps <= done], [done])


def _loop(engine: Engine):
    if engine not in ("auto", "numba", "numpy"):
        raise ValueError(
            "The 'engine' parameter must be one of 'auto', 'numba', 'numpy'. "
            f"Got {engine!r} instead."
        )
    if engine == "numpy" or (engine == "auto" and _kernels is None):
        return train_loop
    if _kernels is None:
        raise ValueError(
            "engine='numba' needs the numba package; install it or use engine='numpy'."
        )
    return _kernels.train_loop


def _check_int(name: str, value: int, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(
            f"The '{name}' parameter must be an integer >= {low}. Got {value!r} instead."
        )
    return int(value)


def _check_data(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n,) or (n, k). Got shape {x.shape} instead.")
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,). Got shape {y.shape} instead.")
    if x.shape[0] != y.size:
        raise ValueError(
            f"x and y must have the same number of rows. Got {x.shape[0]} and {y.size} instead."
        )
    if y.size == 0:
        raise ValueError("x and y are empty; pass at least one row.")
    for name, values in (("x", x), ("y", y)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or inf; remove or fill those values.")
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def _split(n: int, validation_split: float) -> int:
    if (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, int | float | np.integer | np.floating)
        or not 0.0 <= validation_split < 1.0
    ):
        raise ValueError(
            f"The 'validation_split' parameter must be in [0, 1). Got {validation_split!r} instead."
        )
    n_train = validation_split_at(n, validation_split)
    if n_train == 0:
        raise ValueError(
            f"validation_split={validation_split} leaves none of the {n} rows for training; "
            "lower validation_split or add samples."
        )
    if validation_split > 0 and n_train == n:
        raise ValueError(
            f"validation_split={validation_split} holds out none of the {n} rows; "
            "raise validation_split or set it to 0."
        )
    return n_train


def _check_init(model: Model, init: np.ndarray | None, n_features: int) -> np.ndarray:
    expected = len(model.param_names(n_features))
    if init is None:
        return model.init_params(n_features)
    init = np.asarray(init, dtype=np.float64)
    if init.shape != (expected,):
        raise ValueError(
            f"init must have shape ({expected},) for {model.name} with {n_features} feature(s), "
            f"one value per parameter {model.param_names(n_features)}. "
            f"Got shape {init.shape} instead."
        )
    if not np.all(np.isfinite(init)):
        raise ValueError("init contains NaN or inf; start from finite parameters.")
    return init.copy()
