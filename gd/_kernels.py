"""Numba twins of the training loop: the NumPy reference's numbers, hundreds of times faster.

One loop, ``_descend``, serves every caller. It advances L *lanes* in lockstep: runs that share
the data, the row orders and the batch size, each with its own learning rate, momentum and
decay (``Lanes``). Lanes are independent, so the processor overlaps them instead of waiting on
one run's parameter → gradient → velocity chain at every update. What it keeps along the way
is a ``Trace``:

* ``train_loop`` is ``gd.loop.train_loop`` compiled: one lane, every point kept.
* ``train`` runs any lanes and keeps the points a ``Trace`` asks for (``gd.family``).
* ``sweep`` runs a grid of (batch size, seed) groups on all cores, keeping only each end.

Each model is a block of scalar loops picked by ``kernel_id`` (``Model.kernel_id``: linear
regression, logistic regression, the tanh neuron, and the network ``MLP`` with either
activation); ``_batch_loss_and_grad`` is the only place that switches on it, and ``_losses``
scores the network at many points at once. Keras's bookkeeping (batches per epoch, a batch's
rows, the schedule, the divergence test) is ``gd.rules``, compiled here from the same
functions. Each update allocates nothing: the batch is read through indices into the row order.

The loop is a line-by-line copy of the reference, and ``tests/test_kernels.py`` holds the two
to 1e-12. They are not bit-identical: NumPy sums with pairwise summation and BLAS, in a
different order than these sequential loops.

numba is imported at the top on purpose: without it, importing this module raises ImportError,
and ``gd.engine`` serves the NumPy reference alone. Kernels compile on first use and are cached
on disk (``cache=True``); call ``warm_up()`` once per process to pay that cost up front. They
release the GIL (``nogil=True``): one session's long run does not stall the others.

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
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numba
import numpy as np

from gd import rules
from gd.loop import Trajectory
from gd.models import MLP_KERNELS, LinearRegression, LogisticRegression, Model, TanhNeuron
from gd.optim import SGD

# Model.kernel_id values: each model's own, named here for the branches.
LINEAR, LOGISTIC = LinearRegression.kernel_id, LogisticRegression.kernel_id
TANH = TanhNeuron.kernel_id
MLP_TANH, MLP_RELU = MLP_KERNELS["tanh"], MLP_KERNELS["relu"]
# Update rules: gd.optim.keras_step and gd.optim.pytorch_step.
KERAS, PYTORCH = 0, 1
_CONVENTIONS = {"keras": KERAS, "pytorch": PYTORCH}
# Seconds a cold compile of every kernel takes on this project's 2-core machine (39–40 s measured
# with the network's kernels, docs/benchmarks.md "Cold start"): the one statement of it, which
# the pages and docs quote.
COMPILE_SECONDS = 40

# The compiled functions Python calls; numba caches each in its own index file.
ENTRY_KERNELS = ("_train", "_sweep", "_losses", "_plane_losses")

# numba's fallback threading layer ("workqueue") aborts the process when two threads launch
# parallel kernels at once, and Streamlit runs each session in its own thread.
_PARALLEL_LOCK = threading.Lock()

_NEVER = rules.NEVER
_batches_per_epoch = numba.njit(cache=True, inline="always")(rules.batches_per_epoch)
_batch_bounds = numba.njit(cache=True, inline="always")(rules.batch_bounds)
_learning_rate_at = numba.njit(cache=True, inline="always")(rules.learning_rate_at)
_blew_up = numba.njit(cache=True, inline="always")(rules.blew_up)


class Lanes(NamedTuple):
    """The optimizer's scalars for L runs taken in lockstep; numba receives it whole."""

    learning_rate: np.ndarray  # (L,) base rates η
    momentum: np.ndarray  # (L,) μ
    decay: np.ndarray  # (L,) Keras's legacy decay
    nesterov: bool  # shared by every lane
    convention: int  # KERAS or PYTORCH, shared


class Trace(NamedTuple):
    """What a run keeps as it goes; every lane keeps the same updates.

    ``params[l, k]`` is lane l's point after ``keep[k]`` updates (``keep`` sorted, from 0).
    ``batch_low[l, m]`` and ``batch_high[l, m]`` are the smallest and largest batch loss of
    updates ``[m·width, (m + 1)·width)``; with ``width`` 1 both hold every batch loss.
    ``epoch_total[l, e]`` sums epoch e's batch losses, each times its batch's rows: divided by
    n_train it is Keras's epoch ``loss``.
    """

    keep: np.ndarray  # (K,) int64
    params: np.ndarray  # (L, K, P)
    batch_low: np.ndarray  # (L, M)
    batch_high: np.ndarray  # (L, M)
    epoch_total: np.ndarray  # (L, E), or (L, 0) when not wanted
    width: int


def lanes(opts: Sequence[SGD]) -> Lanes:
    """Pack optimizers that share ``convention`` (and ``nesterov`` where μ > 0) into ``Lanes``.

    A lane with μ = 0 may join Nesterov lanes: with no momentum, Nesterov's step is the plain
    step, bit for bit (Keras: w + 0·v − lr·g; PyTorch: w − lr·(g + 0·b)).
    """
    return Lanes(
        _frozen([opt.learning_rate for opt in opts]),
        _frozen([opt.momentum for opt in opts]),
        _frozen([opt.decay for opt in opts]),
        any(opt.nesterov for opt in opts),
        _CONVENTIONS[opts[0].convention],
    )


def new_trace(
    n_lanes: int, keep: np.ndarray, n_params: int, bins: int, width: int, epochs: int
) -> Trace:
    """A trace for ``n_lanes`` lanes keeping the points after ``keep`` updates, batch losses in
    ``bins`` bins of ``width`` updates, and ``epochs`` epoch totals (0 for none of them).
    ``keep`` is copied: a read-only array (``gd.family`` caches its plans) would compile the
    kernels again for another type."""
    return Trace(
        np.array(keep, dtype=np.int64),
        np.empty((n_lanes, len(keep), n_params)),
        np.empty((n_lanes, bins)),
        np.empty((n_lanes, bins)),
        np.zeros((n_lanes, epochs)),
        int(width),
    )


@numba.njit(cache=True, inline="always")
def _tanh(z: float) -> float:
    """tanh(z) within a few units in the last place, three times faster than ``math.tanh``
    here: e/(e + 2) with e = expm1(2z), and ±1 beyond |z| = 20, where tanh rounds to ±1."""
    if abs(z) > 20.0:
        return math.copysign(1.0, z)
    e = math.expm1(2.0 * z)
    return e / (e + 2.0)


@numba.njit(cache=True, inline="always")
def _unit(
    kernel_id: int,
    n_features: int,
    hidden: int,
    states: np.ndarray,
    lane: int,
    x: np.ndarray,
    i: int,
    h: int,
) -> tuple[float, float]:
    """Hidden unit h of the network ``states[lane]`` on row i: its activation f(z) and its
    slope f'(z), with z = x[i]·W1[:, h] + b1[h] (``gd.models.MLP``'s layout)."""
    z = 0.0
    for j in range(n_features):
        z += x[i, j] * states[lane, j * hidden + h]
    z = z + states[lane, n_features * hidden + h]
    if kernel_id == MLP_TANH:
        activation = _tanh(z)
        return activation, 1.0 - activation * activation
    return max(z, 0.0), 1.0 if z > 0.0 else 0.0


@numba.njit(cache=True, inline="always")
def _batch_loss_and_grad(
    kernel_id: int,
    n_features: int,
    n_params: int,
    states: np.ndarray,
    lane: int,
    x: np.ndarray,
    y: np.ndarray,
    rows: np.ndarray,
    start: int,
    stop: int,
    grad: np.ndarray,
    scratch: np.ndarray,
) -> float:
    """The batch-mean loss at ``states[lane]``; writes its gradient into ``grad`` (P,).

    The batch is rows ``rows[start:stop]`` of ``x`` (n, k = n_features) and ``y`` (n,), and
    P = ``n_params`` (k + 1, or the network's k·H + 2H + 1). The same expressions, in the same
    order, as each model's ``loss_and_grad`` in ``gd.models``. Indices rather than slices: a
    slice is a reference-counted view, which would cost more than the math. ``scratch`` holds
    at least 2H numbers: a network's activations and slopes for one row.
    """
    batch = stop - start
    for j in range(n_params):
        grad[j] = 0.0
    total = 0.0
    if kernel_id == LINEAR:  # r = x·w + b − y;  L = Σr²/B;  ∇ = (2/B)·[xᵀr, Σr]
        bias = states[lane, n_features]
        for slot in range(start, stop):
            i = rows[slot]
            residual = 0.0
            for j in range(n_features):
                residual += x[i, j] * states[lane, j]
            residual = residual + bias - y[i]
            for j in range(n_features):
                grad[j] += x[i, j] * residual
            grad[n_features] += residual
            total += residual * residual
        scale = 2.0 / batch
        for j in range(n_features + 1):
            grad[j] *= scale
    elif kernel_id == LOGISTIC:  # z = x·w + b;  L = Σ[softplus(z) − y·z]/B;  ∇ = [xᵀe, Σe]/B
        bias = states[lane, n_features]
        for slot in range(start, stop):
            i = rows[slot]
            logit = 0.0
            for j in range(n_features):
                logit += x[i, j] * states[lane, j]
            logit = logit + bias
            error = 0.5 * (1.0 + math.tanh(0.5 * logit)) - y[i]  # σ(z) − y, never overflows
            for j in range(n_features):
                grad[j] += x[i, j] * error
            grad[n_features] += error
            # np.logaddexp(0, z) = max(z, 0) + log1p(exp(−|z|)): exp never overflows
            total += (max(logit, 0.0) + math.log1p(math.exp(-abs(logit)))) - y[i] * logit
        for j in range(n_features + 1):
            grad[j] /= batch
    elif kernel_id == TANH:  # params [w, a]: r = a·tanh(w·x) − y;  L = Σr²/B
        w, a = states[lane, 0], states[lane, 1]
        for slot in range(start, stop):
            i = rows[slot]
            hidden = math.tanh(w * x[i, 0])
            residual = a * hidden - y[i]
            grad[0] += residual * a * (1.0 - hidden * hidden) * x[i, 0]
            grad[1] += residual * hidden
            total += residual * residual
        scale = 2.0 / batch
        grad[0] *= scale
        grad[1] *= scale
    else:
        total = _network_loss_and_grad(
            kernel_id, n_features, n_params, states, lane, x, y, rows, start, stop, grad, scratch
        )
    return total / batch


@numba.njit(cache=True)
def _network_loss_and_grad(
    kernel_id: int,
    n_features: int,
    n_params: int,
    states: np.ndarray,
    lane: int,
    x: np.ndarray,
    y: np.ndarray,
    rows: np.ndarray,
    start: int,
    stop: int,
    grad: np.ndarray,
    scratch: np.ndarray,
) -> float:
    """``_batch_loss_and_grad`` for the network: the batch's summed squared residuals, and
    its gradient into ``grad``. A call, not inlined: one compiled copy serves every loop.

    z = x·W1 + b1;  a = f(z);  r = a·W2 + b2 − y;  L = Σr²/B  (``gd.models.MLP``).
    """
    hidden = (n_params - 1) // (n_features + 2)
    b1, w2, b2 = n_features * hidden, n_features * hidden + hidden, n_params - 1
    total = 0.0
    for slot in range(start, stop):
        i = rows[slot]
        output = 0.0
        for h in range(hidden):
            activation, scratch[hidden + h] = _unit(
                kernel_id, n_features, hidden, states, lane, x, i, h
            )
            scratch[h] = activation
            output += activation * states[lane, w2 + h]
        residual = output + states[lane, b2] - y[i]
        for h in range(hidden):
            error = residual * states[lane, w2 + h] * scratch[hidden + h]
            for j in range(n_features):
                grad[j * hidden + h] += x[i, j] * error
            grad[b1 + h] += error
            grad[w2 + h] += residual * scratch[h]
        grad[b2] += residual
        total += residual * residual
    scale = 2.0 / (stop - start)
    for j in range(n_params):
        grad[j] *= scale
    return total


@numba.njit(cache=True, inline="always")
def _update(
    opt: Lanes, lane: int, n_params: int, states: np.ndarray, velocity: np.ndarray, grad, lr
) -> None:
    """One SGD update of lane ``lane``'s point ``states[lane]`` (P,), in place.

    gd.optim's step functions, element by element (both buffers start at zero):
    Keras: v ← μ·v − lr·g; w ← w + v (Nesterov: w + μ·v − lr·g).
    PyTorch: b ← μ·b + g; w ← w − lr·b (Nesterov: w − lr·(g + μ·b)).
    """
    momentum = opt.momentum[lane]
    for j in range(n_params):
        g = grad[j]
        if opt.convention == KERAS:
            v = momentum * velocity[lane, j] - lr * g
            velocity[lane, j] = v
            states[lane, j] = (
                states[lane, j] + momentum * v - lr * g if opt.nesterov else (states[lane, j] + v)
            )
        else:
            b = momentum * velocity[lane, j] + g
            velocity[lane, j] = b
            states[lane, j] = states[lane, j] - lr * (g + momentum * b if opt.nesterov else b)


@numba.njit(cache=True, inline="always")
def _descend(
    n_features: int,
    n_params: int,
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    opt: Lanes,
    threshold: float,
    states: np.ndarray,
    diverged_at: np.ndarray,
    trace: Trace,
) -> None:
    """The loop of ``gd.loop.train_loop`` for every lane at once: one update per batch.

    Lane l starts from ``states[l]`` (L, P) and ends there: at its last point, or at the point
    where its batch loss blew up, whose update ``diverged_at[l]`` records (``rules.NEVER``
    otherwise). Each lane does exactly the reference's arithmetic in the same order.
    """
    lanes = states.shape[0]
    epochs, n_train = order.shape
    updates_per_epoch = _batches_per_epoch(n_train, batch_size)
    velocity = np.zeros((lanes, n_params))  # Keras's velocity or PyTorch's buffer
    grad = np.empty(n_params)
    scratch = np.empty(2 * n_params)  # a network's activations and slopes for one row
    diverged_at[:] = _NEVER
    running = lanes
    kept = 0  # entries of trace.keep already written
    if trace.keep.size and trace.keep[0] == 0:
        trace.params[:, 0] = states
        kept = 1
    t = 0  # updates applied so far, across epochs; Keras's optimizer.iterations
    bin_, into_bin = 0, 0  # t = bin_·width + into_bin, kept by counting: no division per update
    for epoch in range(epochs):
        rows = order[epoch]
        for slot in range(updates_per_epoch):
            start, stop = _batch_bounds(slot, batch_size, n_train)
            binned = bin_ < trace.batch_low.shape[1]
            totalled = epoch < trace.epoch_total.shape[1]
            for lane in range(lanes):
                if diverged_at[lane] != _NEVER:
                    continue
                loss = _batch_loss_and_grad(
                    kernel_id,
                    n_features,
                    n_params,
                    states,
                    lane,
                    x,
                    y,
                    rows,
                    start,
                    stop,
                    grad,
                    scratch,
                )
                if _blew_up(loss, threshold):
                    diverged_at[lane] = t
                    running -= 1
                    continue
                if totalled:
                    trace.epoch_total[lane, epoch] += loss * (stop - start)
                if binned:
                    if into_bin == 0 or loss < trace.batch_low[lane, bin_]:
                        trace.batch_low[lane, bin_] = loss
                    if into_bin == 0 or loss > trace.batch_high[lane, bin_]:
                        trace.batch_high[lane, bin_] = loss
                lr = _learning_rate_at(opt.learning_rate[lane], opt.decay[lane], t)
                _update(opt, lane, n_params, states, velocity, grad, lr)
            t += 1
            into_bin += 1
            if into_bin == trace.width:
                bin_, into_bin = bin_ + 1, 0
            if kept < trace.keep.size and trace.keep[kept] == t:
                for lane in range(lanes):  # element by element: a slice would build views
                    for j in range(n_params):
                        trace.params[lane, kept, j] = states[lane, j]
                kept += 1
            if running == 0:
                return


@numba.njit(cache=True, inline="always")
def _descend_any(
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    opt: Lanes,
    threshold: float,
    states: np.ndarray,
    diverged_at: np.ndarray,
    trace: Trace,
) -> None:
    """``_descend`` for any number of features and parameters. Every lesson has one feature,
    and for the two-parameter models a constant 1 unrolls the loops over features and
    parameters (each row 2.5× cheaper than in the general version, which serves the rest)."""
    if x.shape[1] == 1 and kernel_id not in (MLP_TANH, MLP_RELU):
        _descend(
            1, 2, kernel_id, x, y, order, batch_size, opt, threshold, states, diverged_at, trace
        )
    else:
        _descend(
            x.shape[1],
            states.shape[1],
            kernel_id,
            x,
            y,
            order,
            batch_size,
            opt,
            threshold,
            states,
            diverged_at,
            trace,
        )


@numba.njit(cache=True, nogil=True)
def _train(
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    opt: Lanes,
    threshold: float,
    states: np.ndarray,
    diverged_at: np.ndarray,
    trace: Trace,
) -> None:
    """``_descend_any`` on one thread; the GIL is released while it runs."""
    _descend_any(kernel_id, x, y, order, batch_size, opt, threshold, states, diverged_at, trace)


def train(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    opt: Lanes,
    init: np.ndarray,
    threshold: float,
    trace: Trace,
) -> tuple[np.ndarray, np.ndarray]:
    """Run L lanes from ``init`` (P,) in lockstep, keeping what ``trace`` asks for.

    Args:
        model: its ``kernel_id`` picks the loss and gradient.
        x, y: training rows, (n_train, k) and (n_train,).
        order: (epochs, n_train) the row order of each epoch.
        batch_size: rows per batch; the last batch of an epoch may be smaller.
        opt: each lane's learning rate, momentum and decay.
        init: the starting parameters, shared by every lane.
        threshold: a batch loss above this (or non-finite) means the run has diverged.
        trace: filled in place.

    Returns:
        Each lane's last point (L, P), and the update each blew up at (L,), or ``rules.NEVER``.
    """
    n_lanes = opt.learning_rate.size
    states = np.tile(np.asarray(init, dtype=np.float64), (n_lanes, 1))  # (L, P)
    diverged_at = np.empty(n_lanes, dtype=np.int64)
    _train(
        model.kernel_id,
        _frozen(x),
        _frozen(y),
        _frozen(order, np.int64),
        int(batch_size),
        opt,
        float(threshold),
        states,
        diverged_at,
        trace,
    )
    return states, diverged_at


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
    """Compiled ``gd.loop.train_loop``: the same arguments, the same ``Trajectory``."""
    total = order.shape[0] * rules.batches_per_epoch(order.shape[1], batch_size)
    trace = new_trace(1, np.arange(total + 1), init.size, total, 1, 0)
    _, diverged_at = train(model, x, y, order, batch_size, lanes([opt]), init, threshold, trace)
    params, batch_loss = trace.params[0], trace.batch_low[0]
    if diverged_at[0] == rules.NEVER:
        return Trajectory(params, batch_loss, None)
    done = int(diverged_at[0])
    return Trajectory(params[: done + 1], batch_loss[:done], done)


@numba.njit(cache=True, parallel=True, nogil=True)
def _sweep(
    kernel_id: int,
    x: np.ndarray,
    y: np.ndarray,
    orders: np.ndarray,
    batch_sizes: np.ndarray,
    opt: Lanes,
    init: np.ndarray,
    threshold: float,
    nothing: Trace,
) -> tuple[np.ndarray, np.ndarray]:
    """Every (batch size, seed) group of a grid in parallel, each running all lanes.

    ``orders`` is (seeds, epochs, n_train); ``nothing`` is a trace that keeps nothing. Returns
    the final parameters (groups, L, P) and the update each run blew up at (groups, L), groups
    in C order (batch size, seed).
    """
    n_bs, n_seed, n_lanes = batch_sizes.size, orders.shape[0], opt.learning_rate.size
    final = np.empty((n_bs * n_seed, n_lanes, init.size))
    diverged_at = np.empty((n_bs * n_seed, n_lanes), dtype=np.int64)
    for group in numba.prange(n_bs * n_seed):
        rest = np.int64(group)  # prange's index may be unsigned; mixed with int64 it turns float
        size, seed = divmod(rest, n_seed)
        states = np.empty((n_lanes, init.size))  # (L, P): one point per lane
        for lane in range(n_lanes):
            states[lane] = init
        lane_diverged_at = np.empty(n_lanes, dtype=np.int64)
        _descend_any(
            kernel_id,
            x,
            y,
            orders[seed],
            batch_sizes[size],
            opt,
            threshold,
            states,
            lane_diverged_at,
            nothing,
        )
        final[group] = states
        diverged_at[group] = lane_diverged_at
    return final, diverged_at


@numba.njit(cache=True, parallel=True, nogil=True)
def _losses(kernel_id: int, points: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The network's full-data mean loss at each row of ``points`` (m, P), rows in parallel."""
    m, n_params = points.shape
    n_features = x.shape[1]
    hidden = (n_params - 1) // (n_features + 2)
    w2 = n_features * hidden + hidden
    out = np.empty(m)
    for point in numba.prange(m):
        total = 0.0
        for i in range(y.size):
            output = 0.0
            for h in range(hidden):
                activation, _ = _unit(kernel_id, n_features, hidden, points, point, x, i, h)
                output += activation * points[point, w2 + h]
            residual = output + points[point, n_params - 1] - y[i]
            total += residual * residual
        out[point] = total / y.size
    return out


# Reordered sums and fused multiply-adds let a row's units run in vector lanes; no "nnan" or
# "ninf", so a far-off cell's overflow still reads as inf.
_VECTOR_MATH = {"reassoc", "contract", "arcp", "nsz"}


@numba.njit(cache=True, inline="always", fastmath=_VECTOR_MATH)
def _drawn_tanh(z: float) -> float:
    """tanh to within 3e-7, in arithmetic a vector unit runs (``math.tanh`` is a library call,
    one value at a time): Eigen's rational approximation for float32, z·p(z²)/q(z²) on
    |z| ≤ 7.905, where float32's tanh is already ±1. Only for drawn surfaces."""
    z = min(max(z, -7.90531110763549805), 7.90531110763549805)
    z2 = z * z
    p = z2 * -2.76076847742355e-16 + 2.00018790482477e-13
    p = p * z2 + -8.60467152213735e-11
    p = p * z2 + 5.12229709037114e-08
    p = p * z2 + 1.48572235717979e-05
    p = p * z2 + 6.37261928875436e-04
    p = p * z2 + 4.89352455891786e-03
    q = z2 * 1.19825839466702e-06 + 1.18534705686654e-04
    q = q * z2 + 2.26843463243900e-03
    q = q * z2 + 4.89352518554385e-03
    return z * p / q


@numba.njit(cache=True, parallel=True, nogil=True, fastmath=_VECTOR_MATH)
def _plane_losses(
    kernel_id: int,
    z: np.ndarray,
    w2: np.ndarray,
    b2: np.ndarray,
    axis0: np.ndarray,
    axis1: np.ndarray,
    y: np.ndarray,
) -> np.ndarray:
    """The network's loss on a plane θ = o + α·d₁ + β·d₂ of parameter space, (g1, g0).

    Its hidden pre-activations are linear in θ: ``z[0] + α·z[1] + β·z[2]`` (3, n, H), and so
    are its output weights ``w2`` (3, H) and bias ``b2`` (3,). Cells in parallel; tanh by
    ``_drawn_tanh``, so a cell's loss is within about 1e-6 of the exact one.
    """
    _, n, hidden = z.shape
    g0 = axis0.size
    out = np.empty((axis1.size, g0))
    for cell in numba.prange(axis1.size * g0):
        row, column = divmod(np.int64(cell), g0)
        alpha, beta = axis0[column], axis1[row]
        weight = np.empty(hidden)
        for h in range(hidden):
            weight[h] = w2[0, h] + alpha * w2[1, h] + beta * w2[2, h]
        bias = b2[0] + alpha * b2[1] + beta * b2[2]
        total = 0.0
        for i in range(n):
            output = 0.0
            for h in range(hidden):
                pre = z[0, i, h] + alpha * z[1, i, h] + beta * z[2, i, h]
                unit = _drawn_tanh(pre) if kernel_id == MLP_TANH else max(pre, 0.0)
                output += unit * weight[h]
            residual = output + bias - y[i]
            total += residual * residual
        out[row, column] = total / n
    return out


def plane_losses(
    model: Model,
    parts: tuple[np.ndarray, np.ndarray, np.ndarray],
    axis0: np.ndarray,
    axis1: np.ndarray,
    y: np.ndarray,
) -> np.ndarray:
    """``gd.models.MLP.plane_losses`` compiled: ``parts`` are its linear pieces z (3, n, H),
    w2 (3, H) and b2 (3,); returns (g1, g0)."""
    with _PARALLEL_LOCK:
        return _plane_losses(
            model.kernel_id,
            *(_frozen(part) for part in parts),
            _frozen(axis0),
            _frozen(axis1),
            _frozen(y),
        )


def losses(model: Model, points: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``gd.models.MLP.losses`` compiled: the full-data loss at each row of ``points`` (m, P)."""
    with _PARALLEL_LOCK:
        return _losses(model.kernel_id, _frozen(points), _frozen(x), _frozen(y))


class SweepEnds(NamedTuple):
    """Where each run of a sweep ended; cells are (learning rate, batch size, momentum, seed)."""

    params: np.ndarray  # (L, B, M, S, P) the last point of each run
    diverged_at: np.ndarray  # (L, B, M, S) the update each run blew up at, or rules.NEVER


def sweep(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    orders: np.ndarray,
    batch_sizes: np.ndarray,
    learning_rates: np.ndarray,
    momentums: np.ndarray,
    opt: SGD,
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
        opt: its decay, Nesterov and convention are shared by every cell.
        init: the starting parameters, (P,).
        threshold: a batch loss above this (or non-finite) means the run has diverged.

    Returns:
        The final parameters and divergence update of each cell.
    """
    rate, momentum = np.meshgrid(learning_rates, momentums, indexing="ij")  # lanes: (L, M)
    packed = Lanes(
        _frozen(rate.ravel()),
        _frozen(momentum.ravel()),
        _frozen(np.full(rate.size, opt.decay)),
        bool(opt.nesterov),
        _CONVENTIONS[opt.convention],
    )
    # Threads take (batch size, seed) groups one at a time rather than one fixed share each:
    # groups differ in length (batch size 1 is the longest, blown-up runs stop early) and a
    # core may be busy with another session (docs/benchmarks.md, "Sweep").
    with _PARALLEL_LOCK, numba.parallel_chunksize(1):
        final, diverged_at = _sweep(
            model.kernel_id,
            _frozen(x),
            _frozen(y),
            _frozen(orders, np.int64),
            _frozen(batch_sizes, np.int64),
            packed,
            _frozen(init),
            float(threshold),
            new_trace(rate.size, np.empty(0), init.size, 0, 1, 0),
        )
    shape = (batch_sizes.size, orders.shape[0], learning_rates.size, momentums.size)
    # (B, S, L, M) -> (L, B, M, S)
    final = final.reshape(*shape, init.size).transpose(2, 0, 3, 1, 4)
    return SweepEnds(final, diverged_at.reshape(shape).transpose(2, 0, 3, 1))


def _frozen(values: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """A read-only, C-contiguous view: numba then compiles one signature for every caller.

    Datasets are read-only and test arrays are not; numba types the two differently, and a
    writable array passes where a read-only one is expected, never the other way round.
    """
    view = np.ascontiguousarray(values, dtype=dtype).view()
    view.flags.writeable = False
    return view


def disk_cache_ready() -> bool:
    """True when numba's disk cache beside this file holds every one of ``ENTRY_KERNELS``
    for this Python, written after the source last
    changed: then ``warm_up`` only loads them (~0.5 s). False means it would compile (about
    ``COMPILE_SECONDS``).

    A heuristic on file names and times, as numba stamps its index with the source's mtime; a
    cache kept elsewhere (``NUMBA_CACHE_DIR``) reads as not ready, which costs time, not
    correctness.
    """
    here = Path(__file__)
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    changed = here.stat().st_mtime
    for name in ENTRY_KERNELS:
        found = (here.parent / "__pycache__").glob(f"{here.stem}.{name}-*.{tag}.nbi")
        if not any(index.stat().st_mtime >= changed for index in found):
            return False
    return True


def warm_up() -> None:
    """Compile (or load from numba's disk cache) every kernel, on tiny data.

    The first call in a process takes ~0.5 s from the cache (much longer when compiling from
    scratch); later calls take microseconds. One signature serves every model and dataset,
    because the wrappers pass every array read-only, C-contiguous, and of a fixed dtype.
    """
    from gd.models import MLP, LinearRegression, LogisticRegression, TanhNeuron

    x = np.array([[0.0], [1.0]])
    y = np.array([0.0, 1.0])
    order = np.array([[0, 1], [1, 0]])
    networks = (MLP(hidden=1), MLP(hidden=1, activation="relu"))
    for model in (LinearRegression(), LogisticRegression(), TanhNeuron(), *networks):
        init = np.full(model.n_params(1), 0.5)
        train_loop(model, x, y, order, 1, SGD(0.1, momentum=0.5), init, 1e6)
        sweep(
            model,
            x,
            y,
            order[None],
            np.array([1]),
            np.array([0.1]),
            np.array([0.5]),
            SGD(0.1),
            init,
            1e6,
        )
    for network in networks:
        losses(network, np.full((1, 4), 0.5), x, y)
        plane_losses(network, network.plane_parts(x, np.full((3, 4), 0.5)), y[:1], y[:1], y)
