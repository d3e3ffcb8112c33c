"""The one training loop: Keras ``model.fit`` semantics for mini-batch SGD, as a pure function.

``fit`` splits off the validation rows, draws one permutation per epoch, walks the batches,
applies one optimizer update per batch, and returns a frozen ``Run``. Its bookkeeping follows
``docs/semantics.md`` §3–§6:

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
    >>> run = fit(LinearRegression(), x, y, SGD(learning_rate=0.05), Training(epochs=3),
    ...           batch_size=2, engine="numpy")
    >>> run.updates_per_epoch, run.updates       # ceil(5/2) = 3 per epoch, the last of 1 row
    (3, 9)
    >>> run.order[0, :2]                           # rows of the first batch of epoch 0
    array([2, 4])
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gd import engine as engines
from gd import rules
from gd.engine import Engine
from gd.loop import Trajectory
from gd.models import Model
from gd.optim import SGD
from gd.validation import (
    check_bool,
    check_data,
    check_init,
    check_int,
    check_number,
    check_reals,
    check_seed,
    check_split,
)

# For models without a closed-form loss, the full training loss is evaluated at no more than
# LOSS_BUDGET / (n_train · Model.row_elements) updates (plus the start, the end and every epoch
# boundary): a network's point takes a pass through its hidden units for every row.
LOSS_BUDGET = 4_000_000


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

    @property
    def epoch_ends(self) -> np.ndarray:
        """(E,) update indices of the completed epochs' last points: k·updates_per_epoch."""
        return rules.epoch_ends(self.updates_per_epoch, self.epoch_loss.size)

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


@dataclass(frozen=True)
class Training:
    """What every run of one call shares besides the data and the optimizer: Keras's ``fit``
    arguments but the batch size, and the start.

    ``gd.fit``, ``gd.family``, ``gd.sweep``, ``gd.critical_batch`` and ``gd.fit_async`` take
    it. The batch size is not here: like the learning rate it is a knob, which ``family``,
    ``sweep`` and ``critical_batch`` vary from run to run, so it is an argument of each.

    Attributes:
        epochs: passes over the training rows (Keras's default is 1).
        shuffle: draw a new row order every epoch.
        seed: seeds the one random generator of a run (its row orders).
        validation_split: fraction of rows, taken from the end, held out for ``val_loss``.
        init: starting parameters (P,) in the model's ``param_names`` order, kept as a tuple so
            that the record is hashable; None means ``model.init_params``.

    Example:
        >>> Training(epochs=5, init=np.array([0.5, -1.0]))
        Training(epochs=5, shuffle=True, seed=0, validation_split=0.0, init=(0.5, -1.0))
        >>> Training(epochs=0)
        Traceback (most recent call last):
        ...
        ValueError: The 'epochs' parameter must be an integer >= 1. Got 0 instead.
    """

    epochs: int = 1
    shuffle: bool = True
    seed: int = 0
    validation_split: float = 0.0
    init: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        checked = {
            "epochs": check_int("epochs", self.epochs),
            "shuffle": check_bool("shuffle", self.shuffle),
            "seed": check_seed("seed", self.seed),
            "validation_split": check_number(
                "validation_split",
                self.validation_split,
                0.0,
                math.nextafter(1.0, 0.0),
                "in [0, 1)",
            ),
            "init": None if self.init is None else _tuples(check_reals("init", self.init).tolist()),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)


def _tuples(values: object) -> object:
    """``ndarray.tolist()``'s nested lists as nested tuples: hashable, and exact for float64."""
    return tuple(_tuples(v) for v in values) if isinstance(values, list) else values


class Problem(NamedTuple):
    """What every run of one ``fit`` call shares: the checked data, split, orders and start."""

    train: tuple[np.ndarray, np.ndarray]  # x (n_train, k), y (n_train,)
    val: tuple[np.ndarray, np.ndarray]  # x (n_val, k), y (n_val,): the last rows
    order: np.ndarray  # (epochs, n_train) each epoch's row order
    init: np.ndarray  # (P,)
    threshold: float  # a batch loss above this means the run has diverged


@functools.lru_cache(maxsize=4)
def row_orders(n_train: int, epochs: int, shuffle: bool, seed: int) -> np.ndarray:
    """(epochs, n_train) row orders: one fresh permutation per epoch, drawn in epoch order from
    one ``np.random.default_rng(seed)`` (or the identity when ``shuffle`` is off).

    Read-only, and remembered for the last four arguments: the runs of a family, and the
    families around one setting, share one order (at most 8 MB each at 100 × 10 000 rows).

    Example:
        >>> row_orders(5, 2, True, 0)
        array([[2, 4, 3, 0, 1],
               [4, 1, 2, 0, 3]])
        >>> row_orders(5, 2, True, 0).flags.writeable
        False
    """
    rng = np.random.default_rng(seed)
    order = np.empty((epochs, n_train), dtype=np.int64)
    for epoch in range(epochs):
        order[epoch] = rng.permutation(n_train) if shuffle else np.arange(n_train)
    order.flags.writeable = False
    return order


def divergence_threshold(model: Model, init: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """``rules.divergence_threshold`` of the full training loss at the start."""
    return rules.divergence_threshold(model.loss(init, x, y))


def check_training(training: object) -> Training:
    """A ``gd.Training`` (its fields checked themselves when it was made)."""
    if not isinstance(training, Training):
        raise ValueError(
            f"The 'training' parameter must be a gd.Training. Got {training!r} instead."
        )
    return training


def prepare(model: Model, x: np.ndarray, y: np.ndarray, training: Training) -> Problem:
    """Check ``fit``'s data against ``training`` once and derive what every run shares."""
    check_training(training)
    x, y = check_data(x, y)
    model.check_features(x.shape[1])
    model.check_targets(y)
    n_train = check_split(y.size, training.validation_split)
    epochs, shuffle, seed, init = training.epochs, training.shuffle, training.seed, training.init
    names = model.param_names(x.shape[1])
    init = (
        model.init_params(x.shape[1])
        if init is None
        else check_init(init, names, model.name, x.shape[1])
    )
    train = x[:n_train], y[:n_train]
    with np.errstate(all="ignore"):
        threshold = divergence_threshold(model, init, *train)
    return Problem(
        train,
        (x[n_train:], y[n_train:]),
        row_orders(n_train, epochs, shuffle, seed),
        init,
        threshold,
    )


def fit(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    opt: SGD,
    training: Training = Training(),
    *,
    batch_size: int = 32,
    engine: Engine = "auto",
) -> Run:
    """Train ``model`` with mini-batch SGD exactly as Keras's ``model.fit`` would.

    Keras splits its settings in two: ``SGD(learning_rate, momentum, nesterov, ...)`` is the
    update rule, and ``model.fit(batch_size, epochs, shuffle, validation_split)`` says which
    rows each update averages. Here ``opt`` is the first, ``training`` and ``batch_size`` the
    second.

    Args:
        model: a ``gd.models`` model.
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        opt: the optimizer settings, ``gd.SGD``.
        training: epochs, shuffling, seed, validation split and start, ``gd.Training``.
        batch_size: rows averaged into each gradient (Keras's default is 32). Larger than the
            training rows means full batch.
        engine: "numba" (compiled), "numpy" (the readable reference), or "auto" (numba when
            it is installed). Both give the same numbers.

    Returns:
        A frozen ``Run``; see its docstring for every field.
    """
    if not isinstance(opt, SGD):
        raise ValueError(f"The 'opt' parameter must be a gd.SGD. Got {opt!r} instead.")
    batch_size = check_int("batch_size", batch_size)
    loop = engines.loop(engine)
    problem = prepare(model, x, y, training)
    effective_batch = min(batch_size, problem.order.shape[1])
    with np.errstate(all="ignore"):  # divergence is data: no warning leaves the loop
        trajectory = loop(
            model,
            *problem.train,
            problem.order,
            effective_batch,
            opt,
            problem.init,
            problem.threshold,
        )
        return record(model, problem, trajectory, opt, effective_batch, batch_size)


def record(
    model: Model,
    problem: Problem,
    trajectory: Trajectory,
    opt: SGD,
    batch_size: int,
    requested_batch_size: int,
) -> Run:
    """Derive the losses Keras reports from a trajectory (shared by both engines)."""
    epochs, n_train = problem.order.shape
    updates_per_epoch = rules.batches_per_epoch(n_train, batch_size)
    done = trajectory.batch_loss.size
    steps = loss_steps(model, epochs * updates_per_epoch, updates_per_epoch, n_train, done)
    every = steps.size == trajectory.params.shape[0]  # then a view, not a copy, of the path
    loss = model.losses(trajectory.params if every else trajectory.params[steps], *problem.train)
    diverged_at = trajectory.diverged_at
    if diverged_at is None and rules.blew_up(loss[-1], problem.threshold):
        diverged_at = done

    completed = done // updates_per_epoch
    epoch_loss = epoch_totals(trajectory.batch_loss, batch_size, n_train) / n_train  # (E,)
    val_loss = None
    if problem.val[1].size:
        ends = rules.epoch_ends(updates_per_epoch, completed)
        val_loss = model.losses(trajectory.params[ends], *problem.val)
    return Run(
        params=trajectory.params,
        loss=loss,
        loss_steps=steps,
        batch_loss=trajectory.batch_loss,
        learning_rate=rules.learning_rate_at(opt.learning_rate, opt.decay, np.arange(done)),
        epoch_loss=epoch_loss,
        val_loss=val_loss,
        order=problem.order,
        updates_per_epoch=updates_per_epoch,
        diverged_at=diverged_at,
        batch_size=batch_size,
        requested_batch_size=requested_batch_size,
        n_train=n_train,
        n_val=problem.val[1].size,
        epochs=epochs,
        divergence_threshold=problem.threshold,
    )


def epoch_totals(batch_loss: np.ndarray, batch_size: int, n_train: int) -> np.ndarray:
    """Each completed epoch's batch losses, each times its batch's rows, summed: (E,).

    Divided by n_train this is Keras's epoch ``loss``, the batch-size-weighted mean.

    Example:
        >>> epoch_totals(np.array([1.0, 4.0, 9.0]), batch_size=2, n_train=3)  # 2·1 + 1·4
        array([6.])
    """
    per_epoch = rules.batches_per_epoch(n_train, batch_size)
    completed = batch_loss.size // per_epoch  # 0 when the run blew up in its first epoch
    rows = np.minimum(batch_size, n_train - batch_size * np.arange(per_epoch))  # (per_epoch,)
    return batch_loss[: completed * per_epoch].reshape(completed, per_epoch) @ rows


def loss_steps(
    model: Model, planned: int, updates_per_epoch: int, n_train: int, done: int
) -> np.ndarray:
    """Updates at which the full training loss is recorded (see ``LOSS_BUDGET``).

    Example:
        >>> from gd.models import TanhNeuron
        >>> loss_steps(TanhNeuron(), planned=10, updates_per_epoch=5, n_train=3, done=7)
        array([0, 1, 2, 3, 4, 5, 6, 7])
    """
    point = n_train * model.row_elements  # the work of scoring one point
    if model.cheap_losses or (planned + 1) * point <= LOSS_BUDGET:
        return np.arange(done + 1)
    stride = -(-planned * point // LOSS_BUDGET)
    steps = np.union1d(
        np.arange(0, planned + 1, stride), np.arange(0, planned + 1, updates_per_epoch)
    )
    return np.union1d(steps[steps <= done], [done])
