"""The reference training loop, in NumPy: one averaged gradient and one update per mini-batch.

This is the loop a learner reads ("Show the code" renders it with ``inspect.getsource``), and
the one ``gd._kernels`` compiles line by line. ``gd.fit`` picks between the two
(``gd.engine``) and derives every reported number from the ``Trajectory`` either returns.

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

from typing import NamedTuple

import numpy as np

from gd import rules
from gd.models import Model
from gd.optim import SGD


class Trajectory(NamedTuple):
    """What the inner loop produces; ``fit`` derives everything else from it."""

    params: np.ndarray  # (U+1, P): the start, then after each update
    batch_loss: np.ndarray  # (U,): each batch's loss at the pre-update parameters
    diverged_at: int | None  # index into params of the first blown-up point


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
    updates_per_epoch = rules.batches_per_epoch(n_train, batch_size)
    total = epochs * updates_per_epoch
    params = np.empty((total + 1, init.size))  # (U+1, P)
    params[0] = init
    batch_loss = np.empty(total)
    velocity = np.zeros_like(init)  # Keras's velocity or PyTorch's buffer
    t = 0  # updates applied so far, across epochs; Keras's optimizer.iterations
    for epoch in range(epochs):
        for slot in range(updates_per_epoch):
            start, stop = rules.batch_bounds(slot, batch_size, n_train)
            rows = order[epoch, start:stop]  # (B,)
            loss, grad = model.loss_and_grad(params[t], x[rows], y[rows])
            if rules.blew_up(loss, threshold):
                return Trajectory(params[: t + 1], batch_loss[:t], t)
            batch_loss[t] = loss
            params[t + 1], velocity = opt.step(params[t], velocity, grad, t)
            t += 1
    return Trajectory(params, batch_loss, None)
