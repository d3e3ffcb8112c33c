"""Sharpness: the largest eigenvalue λmax of the loss's Hessian, at a point and along a path.

For linear regression the Hessian is a constant and ``gd.sweep.stability_bound`` gives the
learning rate above which full-batch gradient descent diverges in closed form. For any other
model (logistic regression, the tanh neuron, a neural network) the Hessian changes from point to
point, so its top eigenvalue is measured where the parameters are: power iteration on
Hessian-vector products, each one central difference of the model's own gradient.

The bound is local. Near a point θ the loss is approximately the quadratic of its Taylor
expansion, with Hessian H(θ); on that quadratic, full-batch GD with rate η is stable iff
λmax(H) < 2/η, and with heavy-ball momentum μ iff λmax < 2(1 + μ)/η (``edge_of_stability``
returns it; ``gd.sweep.stability_bound`` derives the formula). It says what GD does near θ, not
along a whole run: as the parameters move, λmax moves with them. Cohen et al. (2021), "Gradient
Descent on Neural Networks Typically Occurs at the Edge of Stability", draw λmax along a
full-batch run against the line 2/η: it rises ("progressive sharpening") until it reaches the
line, then hovers at it while the loss keeps falling, non-monotonically. ``along`` computes the
points of that picture. The Hessian here is the full-data one, as a full-batch step sees it;
one mini-batch's curvature can exceed it.

Example:
    >>> import gd
    >>> data = gd.datasets.linear(n=200, seed=0)
    >>> model = gd.models.LinearRegression()
    >>> sharp = top_eigenvalue(model, model.init_params(1), data.x, data.y)
    >>> bool(np.isclose(sharp.value, gd.lambda_max(data.x, data.y), rtol=1e-9))
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gd.models import Model
from gd.sweep import heavy_ball_bound
from gd.validation import (
    check_data,
    check_int,
    check_momentum,
    check_real,
    check_reals,
    check_seed,
    check_vector,
    shown,
)

# The central-difference step, relative to max(1, |θ|∞). A step ε errs by O(ε²)·(third
# derivatives) from truncation and by O(eps_machine/ε)·(size of the gradient) from rounding;
# ε = eps_machine^(1/3) ≈ 6.1e-6 balances the two (Nocedal & Wright, Numerical Optimization,
# §8.1), for an error near eps_machine^(2/3) ≈ 4e-11 of the Hessian's scale. The factor
# max(1, |θ|∞) keeps the step far above the rounding of θ ± εv̂ at the largest coordinate.
# Measured against exact Hessians (logistic regression, the tanh neuron, |θ| ~ 1 to 40): errors
# of 4e-11 to 7e-9 of ‖H‖, where the suggested 1e-4 gives 5e-9 to 4e-7.
STEP = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)
# A warm start is mixed with a random vector this much smaller. Along a path two eigenvalues can
# cross; the previous top eigenvector is then an eigenvector of the new second one, and power
# iteration started exactly there would stay there. With the nudge it can stop there only if that
# eigenvalue is within about tol / NUDGE of λmax (0.1 % at the default tol).
NUDGE = 1e-3


@dataclass(frozen=True, eq=False)
class Sharpness:
    """The top eigenvalue of the Hessian at one point, as power iteration found it.

    Attributes:
        value: λmax, the largest algebraic eigenvalue of the full-data Hessian (nan when the
            gradient overflows at the point).
        vector: (P,) its unit eigenvector; pass it as ``start`` at a nearby point.
        iterations: Hessian-vector products used (each is two gradients).
        converged: True when the residual ‖Hv − λv‖ met ``tol`` (see ``top_eigenvalue``).
    """

    value: float
    vector: np.ndarray
    iterations: int
    converged: bool

    def __repr__(self) -> str:
        return (
            f"Sharpness(value={self.value:.6g}, iterations={self.iterations}, "
            f"converged={self.converged})"
        )


def hessian_vector(
    model: Model, params: np.ndarray, x: np.ndarray, y: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """The Hessian of the full-data (batch-mean) loss at ``params``, times ``v``.

    Math, with v̂ = v/|v| and the step ε = ``STEP``·max(1, |θ|∞):
        H v ≈ (∇L(θ + εv̂) − ∇L(θ − εv̂)) / (2ε) · |v|,
    a central difference of ``model.grad`` along v̂. Its error is O(ε²) times the loss's third
    derivatives plus O(eps_machine/ε) rounding (see ``STEP``): about 1e-10 of ‖H‖ on the
    models here. For a quadratic loss (linear regression) the gradient is linear and the
    difference is exact up to rounding.

    Args:
        model: a ``gd.models`` model.
        params: the point θ, (P,).
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        v: the direction, (P,); any length (zero gives zero).

    Returns:
        H v, shape (P,).

    Example:
        >>> import gd
        >>> x = [1.0, -1.0, 1.0, -1.0]                 # x̃ᵀx̃/n = I, so H = 2I
        >>> hessian_vector(gd.models.LinearRegression(), [0.5, 0.0], x, [0.0] * 4, [1.0, 3.0])
        array([2., 6.])
    """
    x, y, params = _check_point(model, x, y, params)
    v = _check_vector("v", v, params.size)
    with np.errstate(all="ignore"):  # an overflowing gradient gives nan, not a warning
        return _hessian_vector(model, params, x, y, v)


def top_eigenvalue(
    model: Model,
    params: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    start: np.ndarray | None = None,
    iterations: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
) -> Sharpness:
    """λmax, the largest algebraic eigenvalue of the full-data Hessian at ``params``.

    Math: power iteration v ← Hv/|Hv| (Hv from ``hessian_vector``) converges to the eigenvector
    of the eigenvalue of largest *magnitude*, and the Rayleigh quotient λ = vᵀHv (|v| = 1) to
    that eigenvalue. That is λmax when it is >= 0. Near a saddle it can be a negative one
    instead (at the tanh neuron's origin the eigenvalues are ±c), so when the first phase
    finds a negative eigenvalue, or does not converge, a second phase iterates on the shifted
    matrix H + ρI, with ρ the largest |Hv| seen (≈ the spectral radius). Its eigenvalues are
    λᵢ + ρ >= 0, so its dominant one is λmax + ρ. Every Rayleigh quotient is at most λmax; the
    answer is the converged one, or the larger of the two.

    The iteration stops when the residual ‖Hv − λv‖ <= tol·|λ| (in the shifted phase, tol·ρ):
    then an eigenvalue lies within that distance of λ, and λ itself is usually much closer
    (its error is about ‖Hv − λv‖² / gap). Each phase takes at most ``iterations`` products,
    and it converges at the rate |λ₂/λ₁| per product: slowly when the top two eigenvalues are
    close. An unconverged value is still a Rayleigh quotient, so never above λmax, but it can
    sit below it (by up to 5e-4 of the spectral radius on random 6 × 6 matrices, at the
    default 100 products). The finite differences limit the reachable tol to about 1e-9.

    Args:
        model: a ``gd.models`` model.
        params: the point θ, (P,).
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        start: (P,) a first guess of the eigenvector, such as the previous point's
            ``Sharpness.vector`` on a path; nudged by a random vector ``NUDGE`` times its
            length. None starts from a random vector.
        iterations: at most this many Hessian-vector products per phase, an integer >= 1.
        tol: the relative residual at which to stop, a number > 0.
        seed: seeds ``np.random.default_rng`` for the random start or the nudge.

    Returns:
        A frozen ``Sharpness``: the value, its unit eigenvector, the products used and
        whether the residual met ``tol``.

    Example:
        >>> import gd
        >>> x = np.array([-1.0, 0.0, 1.0, 2.0]); y = np.tanh(x)
        >>> top_eigenvalue(gd.models.TanhNeuron(), [1.0, 1.0], x, y)
        Sharpness(value=1.19406, iterations=6, converged=True)
        >>> origin = top_eigenvalue(gd.models.TanhNeuron(), [0.1, -0.1], x, y)  # near the saddle
        >>> bool(origin.value > 0) and origin.converged
        True
    """
    x, y, params = _check_point(model, x, y, params)
    iterations = check_int("iterations", iterations)
    tol = check_real("tol", tol, low=0.0, strict=True)
    rng = np.random.default_rng(check_seed("seed", seed))
    if start is None:
        first = rng.standard_normal(params.size)  # (P,)
    else:
        first = _check_vector("start", start, params.size)
        if not np.any(first):
            raise ValueError("The 'start' parameter must be a nonzero vector. Got zeros instead.")
        nudge = rng.standard_normal(params.size)  # (P,)
        first = first / _length(first) + NUDGE * nudge / _length(nudge)
    with np.errstate(all="ignore"):  # an overflowing gradient gives nan, not a warning
        return _top(model, params, x, y, first / _length(first), iterations, tol)


def along(
    model: Model,
    path: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    iterations: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
) -> np.ndarray:
    """λmax at each point of a path, each warm-started from the previous point's eigenvector.

    Row i is ``top_eigenvalue(model, path[i], x, y, ...).value`` (to its tolerance), started
    from row i − 1's ``Sharpness.vector`` and nudged the same way; row 0 starts at random. One
    generator, ``np.random.default_rng(seed)``, serves the whole path. Drawn against
    ``edge_of_stability`` over the updates of a full-batch run, this is the picture of Cohen et
    al. (2021).

    Args:
        model: a ``gd.models`` model.
        path: (K, P) points, such as ``gd.fit(...).params``.
        x: inputs, (n,) or (n, k).
        y: targets, (n,).
        iterations, tol, seed: as in ``top_eigenvalue``, for every point.

    Returns:
        (K,) λmax at each row of ``path``.

    Example:
        >>> import gd
        >>> data = gd.datasets.linear(n=100, seed=0)
        >>> model = gd.models.LinearRegression()
        >>> run = gd.fit(model, data.x, data.y, gd.SGD(learning_rate=0.1), gd.Training(epochs=3),
        ...              batch_size=100)
        >>> values = along(model, run.params, data.x, data.y)  # the Hessian is constant here
        >>> values.shape, bool(np.allclose(values, gd.lambda_max(data.x, data.y)))
        ((4,), True)
    """
    x, y = _check_model_data(model, x, y)
    n_params = len(model.param_names(x.shape[1]))
    path = check_reals("path", path)
    if path.ndim != 2 or path.shape[1] != n_params:
        raise ValueError(
            f"The 'path' parameter must have shape (K, {n_params}) for {model.name} with "
            f"{x.shape[1]} feature(s), one row per point. Got shape {path.shape} instead."
        )
    _check_finite("path", path)
    iterations = check_int("iterations", iterations)
    tol = check_real("tol", tol, low=0.0, strict=True)
    rng = np.random.default_rng(check_seed("seed", seed))
    values = np.empty(path.shape[0])  # (K,)
    vector = rng.standard_normal(n_params)  # (P,) the first point's random start
    with np.errstate(all="ignore"):  # an overflowing gradient gives nan, not a warning
        for i, params in enumerate(path):
            if i > 0:  # warm start, nudged as top_eigenvalue nudges a start
                nudge = rng.standard_normal(n_params)  # (P,)
                vector = vector + NUDGE * nudge / _length(nudge)
            sharp = _top(model, params, x, y, vector / _length(vector), iterations, tol)
            values[i] = sharp.value
            vector = sharp.vector  # a finite unit vector, even where the value is nan
    return values


def edge_of_stability(learning_rate: float, momentum: float = 0.0, nesterov: bool = False) -> float:
    """The sharpness at which full-batch GD with this rate stops being stable: 2/η, or
    2(1 + μ)/η with heavy-ball momentum μ, or 2(1 + μ)/((1 + 2μ)η) with Nesterov's.

    The stability condition ηλ < 2(1 + μ) (``gd.sweep.stability_bound`` derives it) is
    symmetric in η and λ, so this is ``gd.sweep.heavy_ball_bound`` with the rate in place of the
    curvature. With Nesterov (Keras's θ ← θ + μv − ηg after v ← μv − ηg), an eigen-direction
    of curvature λ evolves by z² − (1 + μ)(1 − a)z + μ(1 − a) with a = ηλ; its root z = −1 is
    at a = 2(1 + μ)/(1 + 2μ), so the line is lower by 1 + 2μ. It is the line that ``along`` is
    drawn against, and it is local (see the module docstring).

    Args:
        learning_rate: η, a finite number > 0.
        momentum: μ in [0, 1].
        nesterov: Nesterov's momentum instead of the heavy ball's.

    Returns:
        The edge, as above.

    Example:
        >>> edge_of_stability(0.1), edge_of_stability(0.1, momentum=0.5)
        (20.0, 30.0)
        >>> edge_of_stability(0.1, momentum=0.5, nesterov=True)
        15.0
    """
    learning_rate = check_real("learning_rate", learning_rate, low=0.0, strict=True)
    momentum = check_momentum("momentum", momentum)
    edge = heavy_ball_bound(learning_rate, momentum)
    return edge / (1 + 2 * momentum) if nesterov else edge


def _hessian_vector(
    model: Model, params: np.ndarray, x: np.ndarray, y: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """``hessian_vector`` on checked arguments."""
    length = _length(v)
    if length == 0.0:
        return np.zeros_like(params)
    step = STEP * max(1.0, float(np.max(np.abs(params))))
    unit = v / length  # (P,)
    ahead = model.grad(params + step * unit, x, y)  # (P,)
    behind = model.grad(params - step * unit, x, y)  # (P,)
    return (ahead - behind) * (length / (2.0 * step))  # (P,)


def _top(
    model: Model,
    params: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    first: np.ndarray,
    iterations: int,
    tol: float,
) -> Sharpness:
    """``top_eigenvalue`` on checked arguments, from the unit vector ``first`` (P,)."""

    def product(v: np.ndarray) -> np.ndarray:
        return _hessian_vector(model, params, x, y, v)

    # 1. Plain power iteration: the eigenvalue of largest magnitude.
    value, vector, used, converged, radius = _power(product, first, iterations, tol, shift=0.0)
    if (converged and value >= 0.0) or math.isnan(value):
        return Sharpness(value, vector, used, converged and not math.isnan(value))

    # 2. It was negative (a saddle) or did not settle (eigenvalues ±c, or a slow positive one):
    # iterate on H + ρI, whose eigenvalues λᵢ + ρ are >= 0, so that its dominant one is
    # λmax + ρ. A positive λ's vector is a head start; a negative one's is the worst start.
    again = vector if value >= 0.0 else first
    shifted, shifted_vector, more, shifted_converged, _ = _power(
        product, again, iterations, tol, shift=radius
    )
    if shifted_converged or shifted >= value or math.isnan(shifted):
        value, vector = shifted, shifted_vector  # both are Rayleigh quotients, <= λmax
    return Sharpness(value, vector, used + more, shifted_converged and not math.isnan(value))


def _power(
    product: Callable[[np.ndarray], np.ndarray],
    vector: np.ndarray,
    iterations: int,
    tol: float,
    shift: float,
) -> tuple[float, np.ndarray, int, bool, float]:
    """Power iteration on H + shift·I from the unit ``vector`` (P,).

    Returns the Rayleigh quotient of H (shift removed) at the last vector, that vector, the
    products used, whether the residual met tol (relative to |λ| unshifted, to the shift
    otherwise), and the largest |Hv| seen (a lower bound on the spectral radius).
    """
    radius = 0.0
    value = math.nan
    for used in range(1, iterations + 1):
        hv = product(vector)  # (P,)
        if not np.all(np.isfinite(hv)):
            return math.nan, vector, used, False, radius
        radius = max(radius, _length(hv))
        image = hv + shift * vector  # (P,) (H + shift·I) v
        rayleigh = float(vector @ image)  # |vector| = 1
        value = rayleigh - shift
        residual = _length(image - rayleigh * vector)
        if residual <= tol * (shift if shift > 0.0 else abs(value)):  # also when image = 0
            return value, vector, used, True, radius
        vector = image / _length(image)
    return value, vector, iterations, False, radius


def _length(v: np.ndarray) -> float:
    """The Euclidean norm of a finite vector, scaled first so that squares of values up to
    float64's largest (a Hessian of data near ``MAX_ABS``) cannot overflow."""
    largest = float(np.max(np.abs(v)))
    return 0.0 if largest == 0.0 else largest * float(np.linalg.norm(v / largest))


def _check_model_data(model: Model, x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """The data checked as ``gd.fit`` checks it, for this model."""
    x, y = check_data(x, y)
    model.check_features(x.shape[1])
    model.check_targets(y)
    return x, y


def _check_point(
    model: Model, x: object, y: object, params: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data, and ``params`` as a finite float vector with one value per model parameter."""
    x, y = _check_model_data(model, x, y)
    n_params = len(model.param_names(x.shape[1]))
    params = check_reals("params", params)
    if params.shape != (n_params,):
        raise ValueError(
            f"The 'params' parameter must have shape ({n_params},) for {model.name} with "
            f"{x.shape[1]} feature(s), one value per parameter. Got shape {params.shape} "
            "instead."
        )
    _check_finite("params", params)
    return x, y, params


def _check_vector(name: str, values: object, n_params: int) -> np.ndarray:
    """A finite float vector of shape (P,)."""
    values = check_vector(name, values, n_params)
    _check_finite(name, values)
    return values


def _check_finite(name: str, values: np.ndarray) -> None:
    """Every value finite, or a ValueError showing the first that is not."""
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"The '{name}' parameter must be finite. Got {shown(values[bad][0])} instead."
        )
