"""Numba twins of the training loop: the NumPy reference's numbers, hundreds of times faster.

* ``train_loop`` is ``gd.fit.train_loop`` (same arguments, same ``Trajectory``), compiled.
* ``sweep`` runs that loop for every cell of a grid of settings on all cores, keeping only each
  run's final parameters.

Each model is a block of scalar loops picked by ``kernel_id`` (``Model.kernel_id``: 0 linear
regression, 1 logistic regression, 2 tanh neuron); ``_batch_loss_and_grad`` is the only place
that switches on it. Each update allocates nothing: the batch is read through indices into the
row order, and the gradient and velocity live in two buffers allocated once per run.

The loop is a line-by-line copy of the reference, and ``tests/test_kernels.py`` holds the two
to 1e-12. They are not bit-identical: NumPy sums with pairwise summation and BLAS, in a
different order than these sequential loops.

numba is imported at the top on purpose: without it, importing this module raises ImportError,
and ``gd.fit`` serves the NumPy reference alone. Kernels compile on first use and are cached on
disk (``cache=True``); call ``warm_up()`` once per process to pay that cost up front.

Example:
    >>> import numpy as np
    >>> from gd.models import LinearRegression
    >>> from gd.optim import SGD
    >>> x = np.array([[1.0], [2.0]]); y = np.array([2.0, 4.0])
    >>> order = np.array([[0, 1]])                  # one epoch, rows in order
    >>> trajectory = train_loop(LinearRegression(), x, y, order, 1, SGD(0.1), np.zeros(2), 1e6)
    >>> trajectory.params[1]                        # g = 2·(0 − 2)·[1, 1] = [−4, −4]
    array([0.4, 0.4])
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, NamedTuple

import numba
import numpy as np

if TYPE_CHECKING:
    from gd.fit import Trajectory
    from gd.models import Model
    from gd.optim import SGD

# Model.kernel_id values.
LINEAR, LOGISTIC, TANH = 0, 1, 2
# Update rules: gd.optim.keras_step and gd.optim.pytorch_step.
KERAS, PYTORCH = 0, 1
_CONVENTIONS = {"keras": KERAS, "pytorch": PYTORCH}

# numba's fallback threading layer ("workqueue") aborts the process when two threads launch
# parallel kernels at once, and Streamlit runs each session in its own thread.
_PARALLEL_LOCK = threading.Lock()


@numba.njit(cache=True, inline="always")
def _batch_loss_and_grad(
    kernel_id: int,
    n_features: int,
    states: np.ndarray,
    at: int,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    epoch: int,
    start: int,
    stop: int,
    grad: np.ndarray,
) -> float:
    """The batch-mean loss at ``states[at]``; writes its gradient into ``grad`` (P,).

    The batch is rows ``order[epoch, start:stop]`` of ``x`` (n, k = n_features) and ``y`` (n,),
    and P = k + 1. The same expressions, in the same order, as each model's ``loss_and_grad``
    in ``gd.models``. Indices rather than slices: a slice is a reference-counted view, which
    would cost more than the math.
    """
    batch = stop - start
    for j in range(n_features + 1):
        grad[j] = 0.0
    total = 0.0
    if kernel_id == LINEAR:  # r = x·w + b − y;  L = Σr²/B;  ∇ = (2/B)·[xᵀr, Σr]
        bias = states[at, n_features]
        for slot in range(start, stop):
            i = order[epoch, slot]
            residual = 0.0
            for j in range(n_features):
                residual += x[i, j] * states[at, j]
            residual = residual + bias - y[i]
            for j in range(n_features):
                grad[j] += x[i, j] * residual
            grad[n_features] += residual
            total += residual * residual
        scale = 2.0 / batch
        for j in range(n_features + 1):
            grad[j] *= scale
    elif kernel_id == LOGISTIC:  # z = x·w + b;  L = Σ[softplus(z) − y·z]/B;  ∇ = [xᵀe, Σe]/B
        bias = states[at, n_features]
        for slot in range(start, stop):
            i = order[epoch, slot]
            logit = 0.0
            for j in range(n_features):
                logit += x[i, j] * states[at, j]
            logit = logit + bias
            error = 0.5 * (1.0 + math.tanh(0.5 * logit)) - y[i]  # σ(z) − y, never overflows
            for j in range(n_features):
                grad[j] += x[i, j] * error
            grad[n_features] += error
            # np.logaddexp(0, z) = max(z, 0) + log1p(exp(−|z|)): exp never overflows
            total += (max(logit, 0.0) + math.log1p(math.exp(-abs(logit)))) - y[i] * logit
        for j in range(n_features + 1):
            grad[j] /= batch
    else:  # TANH, params [w, a]: r = a·tanh(w·x) − y;  L = Σr²/B
        w, a = states[at, 0], states[at, 1]
        for slot in range(start, stop):
            i = order[epoch, slot]
            hidden = math.tanh(w * x[i, 0])
            residual = a * hidden - y[i]
            grad[0] += residual * a * (1.0 - hidden * hidden) * x[i, 0]
            grad[1] += residual * hidden
            total += residual * residual
        scale = 2.0 / batch
        grad[0] *= scale
        grad[1] *= scale
    return total / batch


@numba.njit(cache=True, inline="always")
def _update(
    convention: int,
    n_params: int,
    states: np.ndarray,
    at: int,
    to: int,
    velocity: np.ndarray,
    grad: np.ndarray,
    lr: float,
    momentum: float,
    nesterov: bool,
    first: bool,
) -> None:
    """One SGD update of ``n_params`` values from ``states[at]`` into ``states[to]`` (or in place).

    gd.optim's step functions, element by element:
    Keras: v ← μ·v − lr·g; w ← w + v (Nesterov: w + μ·v − lr·g).
    PyTorch: b ← g on the first step, then μ·b + g; w ← w − lr·b (Nesterov: w − lr·(g + μ·b)).
    """
    for j in range(n_params):
        g = grad[j]
        if convention == KERAS:
            v = momentum * velocity[j] - lr * g
            velocity[j] = v
            states[to, j] = states[at, j] + momentum * v - lr * g if nesterov else states[at, j] + v
        else:
            b = g if first else momentum * velocity[j] + g
            velocity[j] = b
            states[to, j] = states[at, j] - lr * (g + momentum * b if nesterov else b)


@numba.njit(cache=True, inline="always")
def _descend(
    record: bool,
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    learning_rate: float,
    decay: float,
    momentum: float,
    nesterov: bool,
    convention: int,
    threshold: float,
    states: np.ndarray,
    batch_loss: np.ndarray,
    rates: np.ndarray,
) -> int:
    """The loop of ``gd.fit.train_loop``: one update per batch, stopping at a blow-up.

    The run starts from ``states[0]`` (P,). With ``record``, update t writes ``states[t + 1]``,
    ``batch_loss[t]`` and ``rates[t]``: the full trajectory. Without it, ``states`` has one row,
    which every update overwrites, so only the end is kept. Callers pass ``record`` as a
    constant, and inlining compiles a separate loop for each value.

    Returns:
        The number of updates applied before the run blew up, or -1 if it never did.
    """
    # Every lesson has one feature: compiled with a constant 1, the loops over features unroll,
    # which makes each row 2.5× cheaper than in the general version.
    if x.shape[1] == 1:
        return _descend_with(
            1,
            record,
            kernel_id,
            x,
            y,
            order,
            batch_size,
            learning_rate,
            decay,
            momentum,
            nesterov,
            convention,
            threshold,
            states,
            batch_loss,
            rates,
        )
    return _descend_with(
        x.shape[1],
        record,
        kernel_id,
        x,
        y,
        order,
        batch_size,
        learning_rate,
        decay,
        momentum,
        nesterov,
        convention,
        threshold,
        states,
        batch_loss,
        rates,
    )


@numba.njit(cache=True, inline="always")
def _descend_with(
    n_features: int,
    record: bool,
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    learning_rate: float,
    decay: float,
    momentum: float,
    nesterov: bool,
    convention: int,
    threshold: float,
    states: np.ndarray,
    batch_loss: np.ndarray,
    rates: np.ndarray,
) -> int:
    """``_descend`` for ``x`` with ``n_features`` columns."""
    epochs, n_train = order.shape
    updates_per_epoch = -(-n_train // batch_size)  # ceil: the last, smaller batch is kept
    velocity = np.zeros(n_features + 1)  # Keras's velocity or PyTorch's buffer
    grad = np.empty(n_features + 1)
    t = 0  # updates applied so far, across epochs; Keras's optimizer.iterations
    for epoch in range(epochs):
        for slot in range(updates_per_epoch):
            start = slot * batch_size
            stop = min(start + batch_size, n_train)
            at = t if record else 0
            loss = _batch_loss_and_grad(
                kernel_id, n_features, states, at, x, y, order, epoch, start, stop, grad
            )
            if not loss <= threshold:  # also catches NaN
                return t
            lr = learning_rate / (1.0 + decay * t)
            if record:
                batch_loss[t] = loss
                rates[t] = lr
            _update(
                convention,
                n_features + 1,
                states,
                at,
                at + record,
                velocity,
                grad,
                lr,
                momentum,
                nesterov,
                t == 0,
            )
            t += 1
    return -1


@numba.njit(cache=True)
def _train(
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    learning_rate: float,
    decay: float,
    momentum: float,
    nesterov: bool,
    convention: int,
    init: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Allocate the full trajectory, then run ``_descend`` recording every update."""
    epochs, n_train = order.shape
    total = epochs * -(-n_train // batch_size)
    trace = np.empty((total + 1, init.size))  # (U+1, P)
    trace[0] = init
    batch_loss = np.empty(total)
    rates = np.empty(total)
    stopped = _descend(
        True,
        kernel_id,
        x,
        y,
        order,
        batch_size,
        learning_rate,
        decay,
        momentum,
        nesterov,
        convention,
        threshold,
        trace,
        batch_loss,
        rates,
    )
    return trace, batch_loss, rates, stopped


@numba.njit(cache=True, inline="always")
def _descend_lanes(
    n_features: int,
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    learning_rates: np.ndarray,
    decay: float,
    momentum: float,
    nesterov: bool,
    convention: int,
    threshold: float,
    states: np.ndarray,
    stopped: np.ndarray,
) -> None:
    """``_descend`` (without recording) for every learning rate at once, one lane each.

    Runs that share the batch size, momentum and row orders take their batches in lockstep:
    lane i starts from ``states[i]`` (L, P) and ends there, and ``stopped[i]`` is the update it
    blew up at, or -1. Each lane does exactly ``_descend``'s arithmetic in the same order, so
    its numbers are identical; the lanes are independent, so the processor overlaps them
    instead of waiting on one run's parameter → gradient → velocity chain at every update.
    """
    lanes = learning_rates.size
    epochs, n_train = order.shape
    updates_per_epoch = -(-n_train // batch_size)
    velocity = np.zeros((lanes, n_features + 1))  # Keras's velocity or PyTorch's buffer, per lane
    grad = np.empty(n_features + 1)
    stopped[:] = -1
    running = lanes
    t = 0
    for epoch in range(epochs):
        for slot in range(updates_per_epoch):
            start = slot * batch_size
            stop = min(start + batch_size, n_train)
            for lane in range(lanes):
                if stopped[lane] >= 0:
                    continue
                loss = _batch_loss_and_grad(
                    kernel_id, n_features, states, lane, x, y, order, epoch, start, stop, grad
                )
                if not loss <= threshold:  # also catches NaN
                    stopped[lane] = t
                    running -= 1
                    continue
                lr = learning_rates[lane] / (1.0 + decay * t)
                _update(
                    convention,
                    n_features + 1,
                    states,
                    lane,
                    lane,
                    velocity[lane],
                    grad,
                    lr,
                    momentum,
                    nesterov,
                    t == 0,
                )
            if running == 0:
                return
            t += 1


@numba.njit(cache=True, parallel=True)
def _sweep(
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    orders: np.ndarray,
    batch_sizes: np.ndarray,
    learning_rates: np.ndarray,
    momentums: np.ndarray,
    decay: float,
    nesterov: bool,
    convention: int,
    init: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Every cell (learning rate, batch size, momentum, seed) of the grid, in parallel.

    ``orders`` is (seeds, epochs, n_train). Each thread takes one (batch size, momentum, seed)
    group and runs all its learning rates in lockstep (``_descend_lanes``). Returns the final
    parameters (cells, P) and the update each run blew up at (or -1), cells flattened in
    C order.
    """
    n_rate, n_bs, n_mom, n_seed = (
        learning_rates.size,
        batch_sizes.size,
        momentums.size,
        orders.shape[0],
    )
    final = np.empty((n_rate * n_bs * n_mom * n_seed, init.size))
    stopped = np.empty(n_rate * n_bs * n_mom * n_seed, dtype=np.int64)
    for group in numba.prange(n_bs * n_mom * n_seed):
        rest = np.int64(group)  # prange's index may be unsigned; mixed with int64 it turns float
        size, rest = divmod(rest, n_mom * n_seed)
        mom, seed = divmod(rest, n_seed)
        states = np.empty((n_rate, init.size))  # (L, P): one point per learning rate
        for lane in range(n_rate):
            states[lane] = init
        stops = np.empty(n_rate, dtype=np.int64)
        # Every lesson has one feature: a constant 1 unrolls the loops over features.
        features = 1 if x.shape[1] == 1 else x.shape[1]
        if features == 1:
            _descend_lanes(
                1,
                kernel_id,
                x,
                y,
                orders[seed],
                batch_sizes[size],
                learning_rates,
                decay,
                momentums[mom],
                nesterov,
                convention,
                threshold,
                states,
                stops,
            )
        else:
            _descend_lanes(
                features,
                kernel_id,
                x,
                y,
                orders[seed],
                batch_sizes[size],
                learning_rates,
                decay,
                momentums[mom],
                nesterov,
                convention,
                threshold,
                states,
                stops,
            )
        for rate in range(n_rate):
            cell = ((rate * n_bs + size) * n_mom + mom) * n_seed + seed
            final[cell] = states[rate]
            stopped[cell] = stops[rate]
    return final, stopped


def _frozen(values: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """A read-only, C-contiguous view: numba then compiles one signature for every caller.

    Datasets are read-only and test arrays are not; numba types the two differently, and a
    writable array passes where a read-only one is expected, never the other way round.
    """
    view = np.ascontiguousarray(values, dtype=dtype).view()
    view.flags.writeable = False
    return view


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
    """Compiled ``gd.fit.train_loop``: the same arguments, the same ``Trajectory``.

    Args:
        model: its ``kernel_id`` picks the loss and gradient.
        x, y: training rows, (n_train, k) and (n_train,).
        order: (epochs, n_train) the row order of each epoch.
        batch_size: rows per batch; the last batch of an epoch may be smaller.
        opt: the optimizer settings; ``opt.convention`` picks Keras's or PyTorch's rule.
        init: the starting parameters, (P,).
        threshold: a batch loss above this (or non-finite) means the run has diverged.

    Returns:
        The trajectory; it ends early at the first blown-up point.
    """
    from gd.fit import Trajectory  # here, not on top: gd.fit imports this module

    trace, batch_loss, rates, stopped = _train(
        model.kernel_id,
        _frozen(x),
        _frozen(y),
        _frozen(order, np.int64),
        int(batch_size),
        float(opt.learning_rate),
        float(opt.decay),
        float(opt.momentum),
        bool(opt.nesterov),
        _CONVENTIONS[opt.convention],
        _frozen(init),
        float(threshold),
    )
    if stopped < 0:
        return Trajectory(trace, batch_loss, rates, None)
    return Trajectory(trace[: stopped + 1], batch_loss[:stopped], rates[:stopped], int(stopped))


class SweepEnds(NamedTuple):
    """Where each run of a sweep ended; cells are (learning rate, batch size, momentum, seed)."""

    params: np.ndarray  # (L, B, M, S, P) the last point of each run
    diverged_at: np.ndarray  # (L, B, M, S) the update each run blew up at, or -1


def sweep(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    orders: np.ndarray,
    batch_sizes: np.ndarray,
    learning_rates: np.ndarray,
    momentums: np.ndarray,
    decay: float,
    nesterov: bool,
    convention: str,
    init: np.ndarray,
    threshold: float,
) -> SweepEnds:
    """Run ``train_loop`` for every cell of a grid on all cores; keep only each run's end.

    Args:
        model: its ``kernel_id`` picks the loss and gradient.
        x, y: training rows, (n_train, k) and (n_train,).
        orders: (S, epochs, n_train) the row orders of each seed.
        batch_sizes: (B,) each at most n_train.
        learning_rates: (L,) base rates.
        momentums: (M,) momentum values.
        decay, nesterov, convention: as in ``gd.SGD``, shared by every cell.
        init: the starting parameters, (P,).
        threshold: a batch loss above this (or non-finite) means the run has diverged.

    Returns:
        The final parameters and divergence update of each cell.
    """
    shape = (learning_rates.size, batch_sizes.size, momentums.size, orders.shape[0])
    # Threads take (batch size, momentum, seed) groups one at a time rather than one fixed share
    # each: groups differ in length (batch size 1 is the longest, blown-up runs stop early) and
    # a core may be busy with another session (docs/benchmarks.md, "Sweep").
    with _PARALLEL_LOCK, numba.parallel_chunksize(1):
        final, stopped = _sweep(
            model.kernel_id,
            _frozen(x),
            _frozen(y),
            _frozen(orders, np.int64),
            _frozen(batch_sizes, np.int64),
            _frozen(learning_rates),
            _frozen(momentums),
            float(decay),
            bool(nesterov),
            _CONVENTIONS[convention],
            _frozen(init),
            float(threshold),
        )
    return SweepEnds(final.reshape(*shape, init.size), stopped.reshape(shape))


def warm_up() -> None:
    """Compile (or load from numba's disk cache) every kernel, on tiny data.

    The first call in a process takes ~0.5 s from the cache (several seconds when compiling
    from scratch); later calls take microseconds. One signature serves every model and dataset,
    because the wrappers pass every array read-only, C-contiguous, and of a fixed dtype.
    """
    from gd.models import LinearRegression, LogisticRegression, TanhNeuron
    from gd.optim import SGD

    x = np.array([[0.0], [1.0]])
    y = np.array([0.0, 1.0])
    order = np.array([[0, 1], [1, 0]])
    for model in (LinearRegression(), LogisticRegression(), TanhNeuron()):
        init = np.full(2, 0.5)
        train_loop(model, x, y, order, 1, SGD(0.1, momentum=0.5), init, 1e6)
        sweep(
            model,
            x,
            y,
            order[None],
            np.array([1]),
            np.array([0.1]),
            np.array([0.5]),
            0.0,
            False,
            "keras",
            init,
            1e6,
        )
