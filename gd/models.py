"""Models: loss, gradient, per-sample gradients and loss surfaces, forward next to backward.

Every model maps a flat parameter vector ``params`` (shape ``(P,)``) and inputs ``x`` (shape
``(n, k)``) to predictions, and scores them with the *batch-mean* loss that Keras and PyTorch use
(see ``docs/semantics.md`` §7). So the gradient of a batch is the mean of its rows'
per-sample gradients: one averaged gradient, one update.

Example:
    >>> import numpy as np
    >>> model = LinearRegression()
    >>> x = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> model.loss(np.array([2.0, 1.0]), x, y)          # y = 2x + 1 fits exactly
    0.0
    >>> model.grad(np.array([0.0, 0.0]), x, y)          # 2/B · [xᵀr, Σr] with r = -y
    array([-8.66666667, -6.        ])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from gd.validation import check_choice, check_int, check_labels

# Chunk size for losses evaluated at many parameter vectors: keeps (chunk, n) temporaries small.
_CHUNK_ELEMENTS = 2_000_000


def _with_bias(x: np.ndarray) -> np.ndarray:
    """Append a column of ones: (n, k) -> (n, k + 1), so that ``x̃ @ params`` is ``x·w + b``."""
    return np.hstack([x, np.ones((x.shape[0], 1))])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, written with tanh so that it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


_COARSE = 41  # points per axis of ``Model.minimum``'s coarse grid
_NEWTON_STEPS = 100  # its Newton steps at most
# ``MLP.descent``: full-batch heavy-ball descent, this many updates at momentum 0.9, at the first
# of these rates that does not blow up, keeping every ``_DESCENT_EVERY``-th point.
_DESCENT_UPDATES = 600
_DESCENT_RATES = (0.1, 0.02)
_DESCENT_EVERY = 10


class Model:
    """Shared plumbing; subclasses define ``loss_and_grad``, ``per_sample_grad`` and ``predict``."""

    name: ClassVar[str]
    kernel_id: ClassVar[int]  # which twin in gd._kernels computes this model
    cheap_losses: ClassVar[bool] = False  # True when ``losses`` needs no pass over the samples
    labels: ClassVar[tuple[float, ...] | None] = None  # the only targets it fits, or any real
    row_elements: ClassVar[int] = 1  # numbers ``sample_losses`` holds a (point, row): chunking

    def param_names(self, n_features: int) -> tuple[str, ...]:
        """Names of the parameters, in the order of the parameter vector."""
        if n_features == 1:
            return ("w", "b")
        return (*(f"w{i + 1}" for i in range(n_features)), "b")

    def n_params(self, n_features: int) -> int:
        """P, the length of the parameter vector for ``n_features`` inputs."""
        return len(self.param_names(n_features))

    def init_params(self, n_features: int, seed: int = 0) -> np.ndarray:
        """The default start: all zeros (Keras starts the bias at zero too). ``seed`` draws the
        start of a model whose start is random (``MLP``); here it changes nothing."""
        return np.zeros(n_features + 1)

    def check_features(self, n_features: int) -> None:
        """Raise ValueError if this model cannot take ``n_features`` input columns."""

    def check_targets(self, y: np.ndarray) -> None:
        """Raise ValueError if the targets ``y`` (n,) hold a value other than this model's
        ``labels`` (when it has labels).

        Example:
            >>> LogisticRegression().check_targets(np.array([-1.0, 1.0]))
            Traceback (most recent call last):
            ...
            ValueError: The 'y' parameter must be 0 or 1 in every row ... Got -1.0 instead.
        """
        if self.labels is not None:
            check_labels("y", y, self.labels, self.name)

    def loss_and_grad(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def loss(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        """Batch-mean loss at ``params`` on rows ``x`` (n, k), ``y`` (n,)."""
        return self.loss_and_grad(params, x, y)[0]

    def grad(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Gradient of the batch-mean loss, shape (P,)."""
        return self.loss_and_grad(params, x, y)[1]

    def sample_losses(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Loss of each row on its own, shape (n,) for one ``params`` or (m, n) for (m, P)."""
        raise NotImplementedError

    def losses(self, param_rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Mean loss over all rows at each of many parameter vectors: (m, P) -> (m,)."""
        param_rows = np.atleast_2d(param_rows)
        chunk = max(1, _CHUNK_ELEMENTS // max(1, x.shape[0] * self.row_elements))
        out = np.empty(param_rows.shape[0])
        for start in range(0, param_rows.shape[0], chunk):
            block = param_rows[start : start + chunk]  # (c, P)
            out[start : start + chunk] = self.sample_losses(block, x, y).mean(axis=1)
        return out

    def loss_grid(
        self,
        x: np.ndarray,
        y: np.ndarray,
        axis0: np.ndarray,
        axis1: np.ndarray,
        base: np.ndarray | None = None,
    ) -> np.ndarray:
        """Loss surface over parameters 0 and 1, the others held at ``base``.

        Args:
            x, y: the data, (n, k) and (n,).
            axis0: values of parameter 0 (for example w), shape (g0,).
            axis1: values of parameter 1 (for example b), shape (g1,).
            base: the full parameter vector supplying any other parameters.

        Returns:
            Array (g1, g0): row i is ``axis1[i]``, column j is ``axis0[j]``, as Plotly's
            ``go.Contour(x=axis0, y=axis1, z=...)`` expects.
        """
        n_params = self.n_params(x.shape[1]) if base is None else base.size
        grid = np.tile(np.zeros(n_params) if base is None else base, (axis1.size, axis0.size, 1))
        grid[:, :, 0] = axis0[None, :]
        grid[:, :, 1] = axis1[:, None]
        return self.losses(grid.reshape(-1, n_params), x, y).reshape(axis1.size, axis0.size)

    def plane_losses(
        self,
        x: np.ndarray,
        y: np.ndarray,
        basis: np.ndarray,
        axis0: np.ndarray,
        axis1: np.ndarray,
    ) -> np.ndarray:
        """The loss on a plane of parameter space, for drawing: at θ = o + α·d₁ + β·d₂ for
        each α of ``axis0`` (g0,) and β of ``axis1`` (g1,), where ``basis`` is (3, P) = [o, d₁,
        d₂]. Returns (g1, g0), as ``loss_grid``; here exactly ``losses`` of those points.
        """
        points = basis[0] + axis0[None, :, None] * basis[1] + axis1[:, None, None] * basis[2]
        return self.losses(points.reshape(-1, basis.shape[1]), x, y).reshape(
            axis1.size, axis0.size
        )  # (g1, g0)

    def grid_passes(self, g0: int, g1: int) -> int:
        """How many passes over the rows ``loss_grid`` makes for a (g1, g0) grid: one a point
        here (a budget counts it; ``LinearRegression`` and ``TanhNeuron`` need fewer).

        Example:
            >>> LogisticRegression().grid_passes(61, 61), TanhNeuron().grid_passes(61, 61)
            (3721, 61)
        """
        return g0 * g1

    def equivalent(self, params: np.ndarray) -> list[np.ndarray]:
        """Parameter vectors with exactly the same predictions as ``params`` (symmetries)."""
        return [params]

    def minimum_passes(self) -> int:
        """How many passes over the rows ``minimum`` makes at most (a budget counts it): its
        coarse grid, then ``_NEWTON_STEPS`` steps of a gradient, a Hessian's four and a line
        search's few."""
        return self.grid_passes(_COARSE, _COARSE) + _NEWTON_STEPS * 8

    def minimum(self, x: np.ndarray, y: np.ndarray, near: np.ndarray) -> np.ndarray:
        """Parameters of the lowest full-data loss near ``near``, for marking the target.

        Damped Newton steps (Hessian from central differences of ``grad``) with a backtracking
        line search, starting from the best point of a coarse grid around ``near``. When the
        Hessian is not positive definite the step falls back to the negative gradient.
        """
        span = np.linspace(-4.0, 4.0, _COARSE)
        grid = self.loss_grid(x, y, near[0] + span, near[1] + span, base=near)  # (41, 41)
        i, j = np.unravel_index(np.nanargmin(grid), grid.shape)
        params = near.copy()
        params[:2] = near[0] + span[j], near[1] + span[i]
        for _ in range(_NEWTON_STEPS):
            loss, grad = self.loss_and_grad(params, x, y)
            hessian = np.array(
                [
                    (self.grad(params + h, x, y) - self.grad(params - h, x, y)) / 2e-6
                    for h in np.eye(params.size) * 1e-6
                ]
            )
            try:
                step = -np.linalg.solve(0.5 * (hessian + hessian.T), grad)
                if step @ grad >= 0:
                    step = -grad
            except np.linalg.LinAlgError:
                step = -grad
            size = 1.0
            while size > 1e-10 and not self.loss(params + size * step, x, y) < loss:
                size *= 0.5
            if size <= 1e-10:
                break
            params = params + size * step
        return params

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@dataclass(frozen=True, repr=False)
class LinearRegression(Model):
    """``ŷ = x·w + b`` scored by the mean squared error: Keras ``Dense(1)`` with ``loss="mse"``.

    Math, for a batch of B rows with residual ``r = x·w + b − y``:
        L = (1/B) Σ rᵢ²,   ∂L/∂w = (2/B) xᵀr,   ∂L/∂b = (2/B) Σ rᵢ.

    The full-data loss at any parameters comes from sufficient statistics (``LinearStats``) in
    O(P²), with no pass over the samples.
    """

    name: ClassVar[str] = "linear regression"
    kernel_id: ClassVar[int] = 0
    cheap_losses: ClassVar[bool] = True

    def grid_passes(self, g0: int, g1: int) -> int:
        return 1  # the sufficient statistics (LinearStats), then no pass at all

    def minimum_passes(self) -> int:
        return 1  # least squares in closed form

    def predict(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return x @ params[:-1] + params[-1]  # (n,)

    def loss_and_grad(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        residual = x @ params[:-1] + params[-1] - y  # (B,)
        scale = 2.0 / y.size
        grad = np.append(scale * (x.T @ residual), scale * residual.sum())  # (P,)
        return float(np.mean(residual**2)), grad

    def per_sample_grad(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Row i is the gradient of row i's own loss rᵢ²: (n, P). Their mean is ``grad``."""
        residual = x @ params[:-1] + params[-1] - y  # (n,)
        return 2.0 * residual[:, None] * _with_bias(x)

    def sample_losses(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        prediction = params[..., :-1] @ x.T + params[..., -1:]  # (n,) or (m, n)
        return (prediction - y) ** 2

    def losses(self, param_rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return LinearStats.from_data(x, y).losses(np.atleast_2d(param_rows))

    def minimum(self, x: np.ndarray, y: np.ndarray, near: np.ndarray) -> np.ndarray:
        """The least-squares solution θ* (``near`` is not needed: the loss is convex)."""
        return LinearStats.from_data(x, y).optimum


@dataclass(frozen=True)
class LinearStats:
    """Sufficient statistics of least squares: the full-data MSE at any θ in O(P²).

    With x̃ = [x, 1] and a least-squares solution θ*, the loss splits exactly into
    ``L(θ) = L* + (θ − θ*)ᵀ S (θ − θ*)`` where ``S = x̃ᵀx̃ / n`` (half the Hessian). Written this
    way it never suffers the cancellation of ``θᵀSθ − 2cᵀθ + q`` near the minimum, and it is
    never negative.

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.0], [1.0], [2.0]]); y = np.array([0.0, 1.0, 1.0])
        >>> stats = LinearStats.from_data(x, y)
        >>> bool(np.isclose(stats.losses(np.array([[0.0, 0.0]]))[0], 2 / 3))
        True
    """

    optimum: np.ndarray  # θ*, (P,)
    min_loss: float  # L* = L(θ*)
    eigenvalues: np.ndarray  # of S, ascending, (P,)
    eigenvectors: np.ndarray  # columns, (P, P)

    @classmethod
    def from_data(cls, x: np.ndarray, y: np.ndarray) -> LinearStats:
        design = _with_bias(x)  # (n, P)
        optimum = np.linalg.lstsq(design, y, rcond=None)[0]
        eigenvalues, eigenvectors = np.linalg.eigh(design.T @ design / y.size)
        min_loss = float(np.mean((design @ optimum - y) ** 2))
        return cls(optimum, min_loss, np.maximum(eigenvalues, 0.0), eigenvectors)

    def losses(self, param_rows: np.ndarray) -> np.ndarray:
        """Full-data loss at each row of ``param_rows`` (m, P) -> (m,)."""
        projected = (param_rows - self.optimum) @ self.eigenvectors  # (m, P)
        return self.min_loss + (projected**2) @ self.eigenvalues

    @property
    def hessian_max_eigenvalue(self) -> float:
        """λmax of the Hessian 2S: full-batch GD is stable for ``learning_rate < 2/λmax``."""
        return 2.0 * float(self.eigenvalues[-1])


@dataclass(frozen=True, repr=False)
class LogisticRegression(Model):
    """``p = σ(x·w + b)`` scored by binary cross-entropy, labels 0/1.

    Math, with logit ``z = x·w + b``:
        L = (1/B) Σ [softplus(zᵢ) − yᵢ zᵢ],
        ∂L/∂w = (1/B) xᵀ(σ(z) − y),   ∂L/∂b = (1/B) Σ(σ(z) − y).

    This equals Keras's ``BinaryCrossentropy(from_logits=True)`` exactly, and its sigmoid form
    wherever |z| < 15, where Keras's clipping of p to [1e-7, 1 − 1e-7] does not act.
    """

    name: ClassVar[str] = "logistic regression"
    kernel_id: ClassVar[int] = 1
    labels: ClassVar[tuple[float, ...]] = (0.0, 1.0)  # binary cross-entropy's classes

    def predict(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Probability of class 1, (n,)."""
        return _sigmoid(x @ params[:-1] + params[-1])

    def loss_and_grad(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        logit = x @ params[:-1] + params[-1]  # (B,)
        error = _sigmoid(logit) - y  # (B,)
        grad = np.append(x.T @ error, error.sum()) / y.size  # (P,)
        return float(np.mean(np.logaddexp(0.0, logit) - y * logit)), grad

    def per_sample_grad(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        error = _sigmoid(x @ params[:-1] + params[-1]) - y  # (n,)
        return error[:, None] * _with_bias(x)

    def sample_losses(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        logit = params[..., :-1] @ x.T + params[..., -1:]  # (n,) or (m, n)
        # softplus(z) = max(z, 0) + log1p(exp(-|z|)): stable, and faster than np.logaddexp
        return np.maximum(logit, 0.0) + np.log1p(np.exp(-np.abs(logit))) - y * logit


@dataclass(frozen=True, repr=False)
class TanhNeuron(Model):
    """The tiny non-convex net ``ŷ = a·tanh(w·x)``, params ``[w, a]``, mean squared error.

    Its loss surface has two mirror-image minima, (w, a) and (−w, −a), and a saddle at the
    origin, where the gradient is zero: a start on the axis a = 0 or w = 0 goes nowhere fast.

    Math, with ``h = tanh(w·x)`` and residual ``r = a·h − y``:
        L = (1/B) Σ rᵢ²,   ∂L/∂w = (2/B) Σ rᵢ a (1 − hᵢ²) xᵢ,   ∂L/∂a = (2/B) Σ rᵢ hᵢ.
    """

    name: ClassVar[str] = "tanh neuron (non-convex)"
    kernel_id: ClassVar[int] = 2

    def param_names(self, n_features: int) -> tuple[str, ...]:
        return ("w", "a")

    def init_params(self, n_features: int, seed: int = 0) -> np.ndarray:
        return np.array([0.5, 0.5])

    def equivalent(self, params: np.ndarray) -> list[np.ndarray]:
        """(w, a) and (−w, −a) give the same function: a·tanh(w·x) = (−a)·tanh(−w·x)."""
        return [params, -params]

    def check_features(self, n_features: int) -> None:
        if n_features != 1:
            raise ValueError(
                f"TanhNeuron takes exactly one input feature. Got {n_features} instead; "
                "pass x with shape (n,) or (n, 1)."
            )

    def predict(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return params[1] * np.tanh(params[0] * x[:, 0])

    def loss_and_grad(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        w, a = params
        hidden = np.tanh(w * x[:, 0])  # (B,)
        residual = a * hidden - y  # (B,)
        scale = 2.0 / y.size
        grad = np.array(
            [
                scale * np.sum(residual * a * (1.0 - hidden**2) * x[:, 0]),
                scale * np.sum(residual * hidden),
            ]
        )
        return float(np.mean(residual**2)), grad

    def per_sample_grad(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        w, a = params
        hidden = np.tanh(w * x[:, 0])  # (n,)
        residual = a * hidden - y  # (n,)
        return 2.0 * residual[:, None] * np.column_stack([a * (1.0 - hidden**2) * x[:, 0], hidden])

    def grid_passes(self, g0: int, g1: int) -> int:
        return g0  # one tanh a (w, row): see loss_grid

    def loss_grid(
        self,
        x: np.ndarray,
        y: np.ndarray,
        axis0: np.ndarray,
        axis1: np.ndarray,
        base: np.ndarray | None = None,
    ) -> np.ndarray:
        """The surface in closed form per w: with h = tanh(w·x),
        L(w, a) = mean(y²) − 2a·mean(h·y) + a²·mean(h²), so one tanh per (w, row) suffices."""
        hidden = np.tanh(axis0[:, None] * x[:, 0])  # (g0, n)
        cross = hidden @ y / y.size  # (g0,)
        power = np.einsum("ij,ij->i", hidden, hidden) / y.size  # (g0,)
        a = axis1[:, None]  # (g1, 1)
        return np.maximum(np.mean(y**2) - 2.0 * a * cross + a * a * power, 0.0)  # (g1, g0)

    def sample_losses(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        w = params[..., 0:1]  # (1,) or (m, 1)
        a = params[..., 1:2]
        return (a * np.tanh(w * x[:, 0]) - y) ** 2


ACTIVATIONS = ("tanh", "relu")  # MLP's hidden activations, as Keras names them


@dataclass(frozen=True)
class MLP(Model):
    """One hidden layer, then a linear output, scored by the mean squared error.

    Exactly ``keras.Sequential([Dense(hidden, activation), Dense(1)])`` compiled with
    ``loss="mse"``, or PyTorch's ``nn.Sequential(Linear(k, hidden), Tanh(), Linear(hidden, 1))``.

    Parameters, one flat vector of P = k·H + 2H + 1 values for k inputs and H = ``hidden`` units,
    in the order of Keras's ``model.get_weights()``, each flattened row-major:
        W1 (k, H) the first kernel, b1 (H,), W2 (H,) the second kernel (H, 1), b2 (1,).
    So ``params[j·H + h]`` is the weight from input j to unit h.

    Math, for a batch of B rows, with ``z = x·W1 + b1`` (B, H), ``a = f(z)`` and residual
    ``r = a·W2 + b2 − y`` (B,):
        L = (1/B) Σ rᵢ²;   with δ = (2/B)·r (B,) and ε = δ·W2ᵀ ⊙ f'(z) (B, H):
        ∂L/∂W2 = aᵀδ,   ∂L/∂b2 = Σδ,   ∂L/∂W1 = xᵀε,   ∂L/∂b1 = Σ_rows ε,
    where f'(z) = 1 − a² for tanh and [z > 0] for relu (0 at z = 0, as TensorFlow and PyTorch).

    Example:
        >>> model = MLP(hidden=2)
        >>> params = np.array([1.0, -1.0, 0.0, 0.0, 1.0, 1.0, 0.5])  # W1, b1, W2, b2
        >>> model.predict(params, np.array([[0.0], [1.0]]))  # 0.5 + tanh(x) + tanh(−x) = 0.5
        array([0.5, 0.5])
        >>> model.param_names(1)
        ('W1[0,0]', 'W1[0,1]', 'b1[0]', 'b1[1]', 'W2[0]', 'W2[1]', 'b2')
    """

    hidden: int = 16  # units in the hidden layer (Keras's Dense(hidden))
    activation: str = "tanh"  # "tanh" or "relu"

    def __post_init__(self) -> None:
        check_int("hidden", self.hidden)
        check_choice("activation", self.activation, ACTIVATIONS)

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"neural network ({self.hidden} {self.activation} units)"

    @property
    def kernel_id(self) -> int:  # type: ignore[override]
        return MLP_KERNELS[self.activation]

    def n_params(self, n_features: int) -> int:
        """P = k·H + 2H + 1: the two kernels and the two biases."""
        return (n_features + 2) * self.hidden + 1

    def param_names(self, n_features: int) -> tuple[str, ...]:
        units = range(self.hidden)
        return (
            *(f"W1[{j},{h}]" for j in range(n_features) for h in units),
            *(f"b1[{h}]" for h in units),
            *(f"W2[{h}]" for h in units),
            "b2",
        )

    def init_params(self, n_features: int, seed: int = 0) -> np.ndarray:
        """Keras's default start: Glorot-uniform kernels, zero biases, drawn from
        ``np.random.default_rng(seed)`` (W1 first, then W2).

        Glorot uniform draws each weight of a (fan_in, fan_out) kernel from
        U(−l, l) with l = √(6 / (fan_in + fan_out)).

        Example:
            >>> start = MLP(hidden=4).init_params(1, seed=0)
            >>> start.shape, bool(np.all(np.abs(start[:4]) <= np.sqrt(6 / 5)))
            ((13,), True)
        """
        rng = np.random.default_rng(seed)
        h = self.hidden
        params = np.zeros(self.n_params(n_features))
        params[: n_features * h] = rng.uniform(-1.0, 1.0, n_features * h) * np.sqrt(
            6.0 / (n_features + h)
        )
        params[n_features * h + h : n_features * h + 2 * h] = rng.uniform(-1.0, 1.0, h) * np.sqrt(
            6.0 / (h + 1)
        )
        return params

    def weights(self, params: np.ndarray, n_features: int) -> list[np.ndarray]:
        """The flat vector as Keras's ``get_weights()``: [W1 (k, H), b1 (H,), W2 (H, 1), b2 (1,)].

        Example:
            >>> model = MLP(hidden=2)
            >>> params = np.arange(7.0)
            >>> [w.shape for w in model.weights(params, 1)]
            [(1, 2), (2,), (2, 1), (1,)]
            >>> bool(np.array_equal(model.flatten(model.weights(params, 1)), params))
            True
        """
        w1, b1, w2, b2 = self._layers(np.asarray(params, dtype=np.float64), n_features)
        return [w1.copy(), b1.copy(), w2.reshape(-1, 1).copy(), np.array([b2])]

    @staticmethod
    def flatten(weights: list[np.ndarray]) -> np.ndarray:
        """Keras's ``get_weights()`` list as the flat parameter vector (the inverse of
        ``weights``)."""
        return np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in weights])

    def check_params(self, n_params: int, n_features: int) -> None:
        if n_params != self.n_params(n_features):
            raise ValueError(
                f"{self.name} with {n_features} feature(s) has {self.n_params(n_features)} "
                f"parameters. Got {n_params} instead."
            )

    def equivalent(self, params: np.ndarray) -> list[np.ndarray]:
        """tanh is odd: flipping the signs of every unit's weights in and out (W1, b1, W2)
        gives the same function. (Any relabelling of the units does too; those are not listed.)
        """
        if self.activation != "tanh":
            return [params]
        flipped = -params
        flipped[-1] = params[-1]  # b2 stays
        return [params, flipped]

    def _layers(
        self, params: np.ndarray, n_features: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """W1 (..., k, H), b1 (..., H), W2 (..., H), b2 (...) as views of ``params`` (..., P)."""
        self.check_params(params.shape[-1], n_features)
        k, h = n_features, self.hidden
        lead = params.shape[:-1]
        return (
            params[..., : k * h].reshape(*lead, k, h),
            params[..., k * h : k * h + h],
            params[..., k * h + h : k * h + 2 * h],
            params[..., -1],
        )

    def _activate(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0.0)

    def _slope(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """f'(z), from the activations ``a`` already computed."""
        return 1.0 - a * a if self.activation == "tanh" else (z > 0.0).astype(np.float64)

    def predict(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = self._layers(params, x.shape[1])
        return self._activate(x @ w1 + b1) @ w2 + b2  # (n,)

    def loss_and_grad(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        w1, b1, w2, b2 = self._layers(params, x.shape[1])
        z = x @ w1 + b1  # (B, H)
        a = self._activate(z)  # (B, H)
        residual = a @ w2 + b2 - y  # (B,)
        delta = (2.0 / y.size) * residual  # (B,) ∂L/∂output of each row
        error = delta[:, None] * w2 * self._slope(z, a)  # (B, H) ∂L/∂z
        grad = np.concatenate(
            [(x.T @ error).ravel(), error.sum(axis=0), a.T @ delta, [delta.sum()]]
        )  # (P,) in the layout of params
        return float(np.mean(residual**2)), grad

    def per_sample_grad(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Row i is the gradient of row i's own loss rᵢ²: (n, P). Their mean is ``grad``."""
        w1, b1, w2, b2 = self._layers(params, x.shape[1])
        z = x @ w1 + b1  # (n, H)
        a = self._activate(z)  # (n, H)
        delta = 2.0 * (a @ w2 + b2 - y)  # (n,)
        error = delta[:, None] * w2 * self._slope(z, a)  # (n, H)
        outer = (x[:, :, None] * error[:, None, :]).reshape(y.size, -1)  # (n, k·H)
        return np.hstack([outer, error, delta[:, None] * a, delta[:, None]])

    def sample_losses(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = self._layers(params, x.shape[1])
        z = np.einsum("nk,...kh->...nh", x, w1) + b1[..., None, :]  # (n, H) or (m, n, H)
        output = np.einsum("...nh,...h->...n", self._activate(z), w2) + b2[..., None]
        return (output - y) ** 2  # (n,) or (m, n)

    @property
    def row_elements(self) -> int:  # type: ignore[override]
        return self.hidden

    def grid_passes(self, g0: int, g1: int) -> int:
        """An eighth of a pass a cell: every page draws the network's loss on a plane
        (``plane_losses``: its first layer computed once for the plane, the cells on both
        cores), and 61 × 61 cells of 200 rows take 23 ms, 1.9 units of 16.7 ns a cell and row
        (``ui.budget``), against a pass of the loss alone's 16.5.

        Example:
            >>> MLP().grid_passes(61, 61)
            466
        """
        return -(-g0 * g1 // 8)

    def descent(self, x: np.ndarray, y: np.ndarray, near: np.ndarray) -> np.ndarray:
        """The path of full-batch gradient descent from ``near``: what marks the network's
        target and spans its contour slice (a network has no closed-form minimum, and a grid
        search in 49 dimensions is hopeless).

        ``_DESCENT_UPDATES`` heavy-ball updates v ← 0.9·v − η·∇L(θ), θ ← θ + v on every row,
        at η = 0.1, or at 0.02 when 0.1 blows up (a point that is not finite, or an end above
        the start's loss). Returns (K, P): ``near``, then every ``_DESCENT_EVERY``-th point;
        ``near`` alone if every rate blows up.

        Example:
            >>> x = np.linspace(-3, 3, 40)[:, None]; y = np.sin(x[:, 0])
            >>> model = MLP(hidden=4)
            >>> path = model.descent(x, y, model.init_params(1))
            >>> path.shape, [round(model.loss(path[k], x, y), 3) for k in (0, -1)]
            ((61, 13), [2.439, 0.004])
        """
        start_loss = self.loss(near, x, y)
        for rate in _DESCENT_RATES:
            params, velocity, path = near.copy(), np.zeros_like(near), [near]
            with np.errstate(all="ignore"):
                for update in range(1, _DESCENT_UPDATES + 1):
                    velocity = 0.9 * velocity - rate * self.grad(params, x, y)
                    params = params + velocity
                    if update % _DESCENT_EVERY == 0:
                        path.append(params)
                loss = self.loss(params, x, y)
            if np.all(np.isfinite(path)) and loss <= start_loss:
                return np.array(path)
        return near[None, :]  # every rate blew up: the start is the best point found

    def minimum_passes(self) -> int:
        """``descent``'s passes over the rows at most: each update's gradient, at each rate."""
        return _DESCENT_UPDATES * len(_DESCENT_RATES)

    def minimum(self, x: np.ndarray, y: np.ndarray, near: np.ndarray) -> np.ndarray:
        """The lowest-loss point of ``descent`` from ``near``: a local minimum, or close to
        one, that full-batch descent from the start reaches."""
        path = self.descent(x, y, near)
        return path[int(np.nanargmin(self.losses(path, x, y)))]

    def losses(self, param_rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Mean loss at each of many parameter vectors (m, P) -> (m,): compiled, on all cores,
        when ``gd.engine`` has its kernels; else in NumPy chunks (``Model.losses``)."""
        from gd import engine

        param_rows = np.atleast_2d(param_rows)
        self.check_params(param_rows.shape[1], x.shape[1])
        kernels = engine.kernels()
        if kernels is None:
            return super().losses(param_rows, x, y)
        return kernels.losses(self, param_rows, x, y)

    def plane_parts(
        self, x: np.ndarray, basis: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The network on the plane ``basis`` = [o, d₁, d₂] (3, P) is linear before its
        activations: z(o + α·d₁ + β·d₂) = z(o) + α·z(d₁) + β·z(d₂) with z(θ) = x·W1 + b1, and
        likewise W2 and b2. Returns those pieces: z (3, n, H), W2 (3, H), b2 (3,)."""
        w1, b1, w2, b2 = self._layers(basis, x.shape[1])
        return np.einsum("nk,ekh->enh", x, w1) + b1[:, None, :], w2, b2

    def plane_losses(
        self,
        x: np.ndarray,
        y: np.ndarray,
        basis: np.ndarray,
        axis0: np.ndarray,
        axis1: np.ndarray,
    ) -> np.ndarray:
        """``Model.plane_losses``, compiled when ``gd.engine`` has its kernels: from
        ``plane_parts``, the cells in parallel, tanh to within 3e-7 (the drawn surface only;
        every loss a page prints comes from ``losses``). 80×80 cells at n = 1 000 and 16
        units take about 0.1 s on 2 cores (``bench/network.py``)."""
        from gd import engine

        kernels = engine.kernels()
        if kernels is None:
            return super().plane_losses(x, y, basis, axis0, axis1)
        return kernels.plane_losses(self, self.plane_parts(x, basis), axis0, axis1, y)


# MLP's kernel ids in gd._kernels, by activation (the other models' are 0, 1 and 2).
MLP_KERNELS = {"tanh": 3, "relu": 4}
