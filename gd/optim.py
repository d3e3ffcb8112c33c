"""SGD with Keras's legacy ``decay`` and momentum, in the Keras or the PyTorch convention.

The two conventions take identical steps while the learning rate is constant, and part ways as
soon as it changes (``decay > 0``), because they store different things:

* **Keras** (all legacy optimizers, tf.keras, Keras 3) keeps a *velocity* that already contains
  each step's learning rate::

      lr_t = learning_rate / (1 + decay·t)        # t = updates already applied, from 0
      v   ← μ·v − lr_t·g                          # v starts at 0
      w   ← w + v                                 # Nesterov: w ← w + μ·v − lr_t·g

* **PyTorch** (``torch.optim.SGD`` + ``LambdaLR(lambda t: 1/(1 + decay·t))`` stepped per batch)
  keeps a *buffer* of raw gradients and multiplies the whole buffer by the current rate::

      b   ← g on the first step, then μ·b + g
      w   ← w − lr_t·b                            # Nesterov: w ← w − lr_t·(g + μ·b)

So with decay, Keras's old gradients keep their own (larger) rate and Keras steps further.
Sources: ``docs/semantics.md`` §1 and §2.

Example:
    >>> import numpy as np
    >>> opt = SGD(learning_rate=0.1, momentum=0.9)
    >>> params, velocity = opt.step(np.array([1.0]), np.zeros(1), np.array([2.0]), t=0)
    >>> params, velocity                            # v = 0.9·0 − 0.1·2 = −0.2
    (array([0.8]), array([-0.2]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gd import rules
from gd.validation import check_bool, check_choice, check_momentum, check_rate

Convention = Literal["keras", "pytorch"]


def keras_step(
    params: np.ndarray,
    velocity: np.ndarray,
    grad: np.ndarray,
    lr: float,
    momentum: float,
    nesterov: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One Keras SGD update: the velocity carries the learning rate of each step.

    Keras ``SGD.update_step`` (``keras/src/optimizers/sgd.py``), which equals legacy
    ``keras/optimizers.py`` and the ``ApplyKerasMomentum`` kernel. The velocity starts at zero.
    """
    velocity = momentum * velocity - lr * grad  # v ← μ·v − lr·g
    if nesterov:
        return params + momentum * velocity - lr * grad, velocity  # w ← w + μ·v − lr·g
    return params + velocity, velocity  # w ← w + v


def pytorch_step(
    params: np.ndarray,
    buffer: np.ndarray,
    grad: np.ndarray,
    lr: float,
    momentum: float,
    nesterov: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One ``torch.optim.SGD`` update (dampening 0): the buffer holds raw gradients.

    ``_single_tensor_sgd`` in ``torch/optim/sgd.py`` sets the buffer to a copy of the gradient
    on the first step; here the buffer starts at zero, so its first value μ·0 + g is exactly g.
    The current learning rate multiplies the whole buffer.
    """
    buffer = momentum * buffer + grad  # b ← μ·b + g, which is g on the first step
    direction = grad + momentum * buffer if nesterov else buffer
    return params - lr * direction, buffer  # w ← w − lr·(…)


_STEPS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "keras": keras_step,
    "pytorch": pytorch_step,
}


@dataclass(frozen=True)
class SGD:
    """Mini-batch SGD's settings: Keras's ``SGD(learning_rate, momentum, nesterov, decay)``.

    Note there is no batch size here, exactly as in Keras: the batch size belongs to
    ``fit(batch_size=...)``, which decides how many rows are averaged into each gradient.

    Args:
        learning_rate: base rate η, >= 0. Keras's default is 0.01.
        momentum: μ in [0, 1]. 0 is plain SGD.
        nesterov: the Sutskever look-ahead form; needs momentum > 0.
        decay: Keras's legacy learning-rate decay: ``lr_t = η / (1 + decay·t)``, with t counting
            updates (batches), not epochs, from 0 and never reset.
        convention: ``"keras"`` or ``"pytorch"``; see the module docstring for the difference.

    Example:
        >>> SGD(learning_rate=0.1, decay=0.5).learning_rate_at(2)  # 0.1 / (1 + 0.5·2)
        0.05
    """

    learning_rate: float = 0.01
    momentum: float = 0.0
    nesterov: bool = False
    decay: float = 0.0
    convention: Convention = "keras"

    def __post_init__(self) -> None:
        object.__setattr__(self, "learning_rate", check_rate("learning_rate", self.learning_rate))
        object.__setattr__(self, "momentum", check_momentum("momentum", self.momentum))
        object.__setattr__(self, "decay", check_rate("decay", self.decay))
        object.__setattr__(self, "nesterov", check_bool("nesterov", self.nesterov))
        check_choice("convention", self.convention, tuple(_STEPS))
        if self.nesterov and self.momentum == 0.0:
            raise ValueError(
                "nesterov=True needs momentum > 0 (got momentum=0.0); "
                "raise momentum or turn nesterov off."
            )

    def learning_rate_at(self, t: int | np.ndarray) -> float | np.ndarray:
        """The rate used by update t (0-based, counted across epochs): η / (1 + decay·t)."""
        return rules.learning_rate_at(self.learning_rate, self.decay, t)

    def step(
        self, params: np.ndarray, velocity: np.ndarray, grad: np.ndarray, t: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Apply update t; returns the new parameters and the new velocity (or buffer)."""
        rule = _STEPS[self.convention]
        lr = self.learning_rate_at(t)
        return rule(params, velocity, grad, lr, self.momentum, self.nesterov)

    @property
    def rule(self) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
        """The update function of this convention, for showing its source to learners."""
        return _STEPS[self.convention]
