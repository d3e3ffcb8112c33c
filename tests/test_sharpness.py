"""gd.sharpness: λmax against closed forms, exact Hessians and dense finite-difference Hessians."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gd
from gd.models import MLP, LinearRegression, LinearStats, LogisticRegression, Model, TanhNeuron
from gd.sharpness import (
    NUDGE,
    Sharpness,
    along,
    edge_of_stability,
    hessian_vector,
    top_eigenvalue,
)
from gd.sweep import heavy_ball_bound, lambda_max, stability_bound


class Quadratic(Model):
    """L(θ) = ½ θᵀAθ for a symmetric A: its Hessian is A, whatever the data."""

    name = "quadratic"
    kernel_id = -1
    DATA = (np.zeros((3, 1)), np.zeros(3))  # x, y: the loss ignores them

    def __init__(self, hessian):
        self.hessian = np.asarray(hessian, dtype=float)

    def param_names(self, n_features):
        return tuple(f"θ{i}" for i in range(self.hessian.shape[0]))

    def loss_and_grad(self, params, x, y):
        return 0.5 * float(params @ self.hessian @ params), self.hessian @ params


def dense_hessian(model, params, x, y, h=1e-5):
    """The symmetrised Hessian, column by column from central differences of the gradient."""
    columns = [
        (model.grad(params + h * e, x, y) - model.grad(params - h * e, x, y)) / (2 * h)
        for e in np.eye(params.size)
    ]
    hessian = np.array(columns)  # (P, P)
    return 0.5 * (hessian + hessian.T)


def logistic_hessian(params, x, y):
    """The exact Hessian of the mean binary cross-entropy: x̃ᵀ diag(p(1 − p)) x̃ / n."""
    design = np.hstack([x, np.ones((x.shape[0], 1))])  # (n, P)
    p = LogisticRegression().predict(params, x)  # (n,)
    return design.T @ (design * (p * (1 - p))[:, None]) / y.size


def linear_data(n, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 1.5, size=(n, k))
    return x, x @ rng.normal(size=k) + 0.3 * rng.normal(size=n)


def classes(n, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k))
    return x, (rng.random(n) < 1 / (1 + np.exp(-x.sum(axis=1)))).astype(float)


def waves(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1))
    return x, 1.5 * np.tanh(2.0 * x[:, 0]) + 0.2 * rng.normal(size=n)


# ---------------------------------------------------------------- Hessian-vector products


def test_hessian_vector_is_exact_for_linear_regression_and_scales_with_v():
    x, y = linear_data(50, 3, seed=1)
    stats = LinearStats.from_data(x, y)
    hessian = 2.0 * (stats.eigenvectors * stats.eigenvalues) @ stats.eigenvectors.T  # 2S (4, 4)
    rng = np.random.default_rng(2)
    params = rng.normal(size=4)
    for scale in (1e-3, 1.0, 1e3):  # H(cv) = c·Hv: the |v| factor is not lost
        v = scale * rng.normal(size=4)
        np.testing.assert_allclose(
            hessian_vector(LinearRegression(), params, x, y, v), hessian @ v, rtol=1e-8
        )
    assert np.array_equal(hessian_vector(LinearRegression(), params, x, y, np.zeros(4)), [0.0] * 4)
    far = 1e6 * params  # the step grows with |θ|∞, above the rounding of θ ± εv̂
    v = rng.normal(size=4)
    np.testing.assert_allclose(
        hessian_vector(LinearRegression(), far, x, y, v), hessian @ v, rtol=1e-8
    )


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_hessian_vector_matches_the_exact_logistic_hessian(scale):
    x, y = classes(200, 2, seed=3)
    rng = np.random.default_rng(4)
    for _ in range(5):
        params = scale * rng.normal(size=3)
        v = rng.normal(size=3)
        exact = logistic_hessian(params, x, y)
        error = hessian_vector(LogisticRegression(), params, x, y, v) - exact @ v
        # the step's error budget (gd.sharpness.STEP): about 1e-10 of ‖H‖·|v|
        assert np.linalg.norm(error) <= 1e-8 * np.linalg.norm(exact, 2) * np.linalg.norm(v)


# ---------------------------------------------------------------- λmax against references


@pytest.mark.parametrize("k", [1, 4])
def test_linear_regression_equals_the_closed_form(k):
    x, y = linear_data(80, k, seed=k)
    expected = LinearStats.from_data(x, y).hessian_max_eigenvalue
    assert expected == pytest.approx(lambda_max(x, y), rel=1e-12)
    rng = np.random.default_rng(k + 10)
    for params in (np.zeros(k + 1), *rng.normal(0.0, 3.0, size=(2, k + 1))):
        sharp = top_eigenvalue(LinearRegression(), params, x, y)
        assert sharp.value == pytest.approx(expected, rel=1e-6)
        assert sharp.converged and sharp.vector.shape == (k + 1,)
        assert np.linalg.norm(sharp.vector) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("model", "data", "size"),
    [
        (TanhNeuron(), waves(40, seed=5), 2),
        (LogisticRegression(), classes(40, 1, seed=6), 2),
        (LogisticRegression(), classes(40, 3, seed=7), 4),
    ],
    ids=["tanh neuron", "logistic k=1", "logistic k=3"],
)
def test_nonlinear_models_equal_the_dense_finite_difference_hessian(model, data, size):
    x, y = data
    rng = np.random.default_rng(size)
    for params in rng.normal(0.0, 1.5, size=(4, size)):
        expected = np.linalg.eigvalsh(dense_hessian(model, params, x, y))[-1]
        sharp = top_eigenvalue(model, params, x, y)
        assert sharp.value == pytest.approx(expected, rel=1e-5)
        hv = hessian_vector(model, params, x, y, sharp.vector)
        np.testing.assert_allclose(hv, sharp.value * sharp.vector, atol=1e-4 * abs(sharp.value))


def test_logistic_regression_equals_the_exact_hessian():
    x, y = classes(100, 2, seed=8)
    for params in np.random.default_rng(9).normal(size=(3, 3)):
        expected = np.linalg.eigvalsh(logistic_hessian(params, x, y))[-1]
        sharp = top_eigenvalue(LogisticRegression(), params, x, y, iterations=500)
        assert sharp.value == pytest.approx(expected, rel=1e-7) and sharp.converged


def test_an_unconverged_result_says_so_and_is_a_lower_bound():
    x, y = classes(100, 2, seed=8)
    params = np.random.default_rng(9).normal(size=(2, 3))[1]  # λ₂/λ₁ = 0.967: slow
    _, middle, high = np.linalg.eigvalsh(logistic_hessian(params, x, y))
    assert middle / high > 0.95
    sharp = top_eigenvalue(LogisticRegression(), params, x, y)
    assert not sharp.converged and sharp.iterations == 200  # both phases used up
    assert middle < sharp.value <= high * (1 + 1e-9)  # a Rayleigh quotient never exceeds λmax
    assert sharp.value == pytest.approx(high, rel=1e-5)


# ---------------------------------------------------------------- the largest *algebraic* one


def test_near_the_tanh_saddle_the_largest_algebraic_eigenvalue_wins():
    x = np.array([[-1.0], [0.0], [1.0], [2.0]])
    y = np.tanh(x[:, 0])
    params = np.array([0.1, -0.1])  # next to the saddle at the origin
    low, high = np.linalg.eigvalsh(dense_hessian(TanhNeuron(), params, x, y))
    assert low < 0 < high < -low  # the premise: the largest magnitude is the negative one
    sharp = top_eigenvalue(TanhNeuron(), params, x, y)
    assert sharp.value == pytest.approx(high, rel=1e-5) and sharp.converged
    origin = top_eigenvalue(TanhNeuron(), np.zeros(2), x, y)  # exactly ±c there
    c = abs(2 * np.mean(x[:, 0] * y))  # ∂²L/∂w∂a = −2·mean(x·y); the diagonal is 0
    assert origin.value == pytest.approx(c, rel=1e-6)


@pytest.mark.parametrize(
    ("hessian", "expected"),
    [
        (np.diag([-3.0, 1.0, 0.5]), 1.0),  # dominant negative, top positive
        ([[0.0, 1.0], [1.0, 0.0]], 1.0),  # ±1: plain power iteration never settles
        (np.diag([-3.0, -1.0, -2.0]), -1.0),  # all negative
        (-2.0 * np.eye(3), -2.0),  # all equal and negative
        (np.zeros((2, 2)), 0.0),
        ([[4.0]], 4.0),  # one parameter
        ([[-4.0]], -4.0),
    ],
)
def test_built_quadratics_give_their_largest_algebraic_eigenvalue(hessian, expected):
    model = Quadratic(hessian)
    size = model.hessian.shape[0]
    rng = np.random.default_rng(size)
    x, y = rng.normal(size=(3, 1)), np.zeros(3)
    for params in (np.zeros(size), rng.normal(size=size)):
        sharp = top_eigenvalue(model, params, x, y, iterations=500)
        assert sharp.value == pytest.approx(expected, abs=1e-8) and sharp.converged
        residual = model.hessian @ sharp.vector - expected * sharp.vector
        assert np.linalg.norm(residual) <= 1e-5 * max(1.0, np.abs(model.hessian).max())


@given(
    seed=st.integers(0, 10_000),
    n=st.integers(3, 40),
    k=st.integers(1, 4),
    scale=st.floats(0.1, 10.0),
)
@settings(max_examples=30, deadline=None)
def test_lambda_max_bounds_every_rayleigh_quotient(seed, n, k, scale):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.normal(), scale, size=(n, k))
    y = rng.normal(size=n)
    stats = LinearStats.from_data(x, y)
    hessian = 2.0 * (stats.eigenvectors * stats.eigenvalues) @ stats.eigenvectors.T
    sharp = top_eigenvalue(LinearRegression(), rng.normal(size=k + 1), x, y, iterations=1000)
    assert sharp.value <= stats.hessian_max_eigenvalue * (1 + 1e-9)  # itself a Rayleigh quotient
    if sharp.converged:  # else it may still sit up to about λmax/(2e·iterations) below λmax
        for v in rng.normal(size=(10, k + 1)):
            assert sharp.value >= (v @ hessian @ v) / (v @ v) * (1 - 1e-5)


@given(seed=st.integers(0, 10_000), size=st.integers(1, 6))
@settings(max_examples=40, deadline=None)
def test_on_indefinite_quadratics_lambda_max_bounds_every_rayleigh_quotient(seed, size):
    rng = np.random.default_rng(seed)
    hessian = rng.normal(size=(size, size))
    hessian = hessian + hessian.T  # (P, P) symmetric, eigenvalues of both signs
    spectrum = np.linalg.eigvalsh(hessian)
    sharp = top_eigenvalue(Quadratic(hessian), rng.normal(size=size), *Quadratic.DATA)
    scale = np.abs(spectrum).max()
    assert sharp.value <= spectrum[-1] + 1e-9 * scale
    if sharp.converged:
        for v in rng.normal(size=(10, size)):
            assert sharp.value >= (v @ hessian @ v) / (v @ v) - 1e-5 * scale
        assert sharp.value == pytest.approx(spectrum[-1], abs=1e-5 * scale)


# ---------------------------------------------------------------- starts, paths, determinism


def test_a_warm_start_at_a_crossing_still_finds_the_top():
    model = Quadratic(np.diag([1.0, 2.0]))  # the start is the eigenvector of the lower one
    x, y = np.zeros((2, 1)), np.zeros(2)
    sharp = top_eigenvalue(model, np.zeros(2), x, y, start=np.array([1.0, 0.0]))
    assert sharp.value == pytest.approx(2.0, rel=1e-9) and sharp.converged
    assert NUDGE > 0


def test_a_warm_start_at_the_answer_saves_iterations():
    x, y = waves(30, seed=11)
    params = np.array([0.8, 1.2])
    cold = top_eigenvalue(TanhNeuron(), params, x, y)
    warm = top_eigenvalue(TanhNeuron(), params, x, y, start=cold.vector)
    assert warm.value == pytest.approx(cold.value, rel=1e-9)
    assert warm.iterations < cold.iterations  # the nudge (NUDGE) costs a few


def test_the_same_seed_gives_the_same_sharpness_bit_for_bit():
    x, y = classes(30, 2, seed=12)
    params = np.array([0.3, -0.2, 0.1])
    first = top_eigenvalue(LogisticRegression(), params, x, y, seed=4)
    again = top_eigenvalue(LogisticRegression(), params, x, y, seed=4)
    assert first.value == again.value and np.array_equal(first.vector, again.vector)
    assert first.iterations == again.iterations


def test_along_is_top_eigenvalue_at_every_row():
    x, y = waves(40, seed=13)
    model = TanhNeuron()
    run = gd.fit(model, x, y, gd.SGD(learning_rate=0.3), gd.Training(epochs=12), batch_size=40)
    path = run.params[::3]  # (5, 2)
    values = along(model, path, x, y)
    assert values.shape == (path.shape[0],)
    expected = [top_eigenvalue(model, row, x, y).value for row in path]
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert len(set(np.round(values, 6))) > 1  # the curvature moved along the path


def test_along_a_linear_regression_path_is_the_constant_closed_form():
    x, y = linear_data(60, 2, seed=14)
    run = gd.fit(
        LinearRegression(), x, y, gd.SGD(learning_rate=0.05), gd.Training(epochs=4), batch_size=60
    )
    values = along(LinearRegression(), run.params, x, y)
    np.testing.assert_allclose(values, lambda_max(x, y), rtol=1e-6)
    assert along(LinearRegression(), run.params[:1], x, y).shape == (1,)


def test_an_overflowing_gradient_gives_nan_without_a_warning():
    x, y = np.array([[1e150], [-1e150]]), np.zeros(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sharp = top_eigenvalue(LinearRegression(), np.array([1e150, 0.0]), x, y)
        values = along(LinearRegression(), np.array([[1e150, 0.0], [0.0, 0.0]]), x, y)
    assert np.isnan(sharp.value) and not sharp.converged
    assert np.isnan(values[0]) and values[1] == pytest.approx(2e300, rel=1e-6)  # 2·mean(x²)


# ---------------------------------------------------------------- the line it is drawn against


def test_edge_of_stability_is_the_stability_bound_read_the_other_way():
    assert edge_of_stability(0.1) == pytest.approx(20.0)
    assert edge_of_stability(0.1, momentum=0.9) == heavy_ball_bound(0.1, 0.9)
    x, y = linear_data(50, 2, seed=15)
    for momentum in (0.0, 0.5):  # η = stability_bound ⇔ λmax = edge_of_stability(η)
        rate = stability_bound(x, y, momentum)
        assert edge_of_stability(rate, momentum) == pytest.approx(lambda_max(x, y), rel=1e-12)


# ---------------------------------------------------------------- a neural network


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_mlp_equals_the_dense_finite_difference_hessian(activation):
    model = MLP(hidden=3, activation=activation)
    rng = np.random.default_rng(16)
    x = rng.normal(size=(20, 1))
    y = np.sin(2.0 * x[:, 0])
    for seed in range(3):
        params = model.init_params(1, seed=seed) + 0.3 * rng.normal(size=10)  # (10,)
        expected = np.linalg.eigvalsh(dense_hessian(model, params, x, y))[-1]
        sharp = top_eigenvalue(model, params, x, y)
        assert sharp.value == pytest.approx(expected, rel=1e-5) and sharp.converged


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_along_an_mlp_path_is_top_eigenvalue_at_every_row(activation):
    model = MLP(hidden=4, activation=activation)
    rng = np.random.default_rng(17)
    x = rng.normal(size=(30, 2))
    y = np.sin(x[:, 0]) - 0.5 * x[:, 1]
    start, end = model.init_params(2, seed=0), model.init_params(2, seed=1)  # (17,) each
    path = start + np.linspace(0.0, 1.0, 6)[:, None] * (end - start)  # (6, 17)
    values = along(model, path, x, y)
    expected = [np.linalg.eigvalsh(dense_hessian(model, row, x, y))[-1] for row in path]
    np.testing.assert_allclose(values, expected, rtol=1e-5)


# ---------------------------------------------------------------- validation


def test_sharpness_has_a_short_repr_and_is_frozen():
    sharp = top_eigenvalue(Quadratic([[2.0]]), np.zeros(1), np.zeros((1, 1)), np.zeros(1))
    assert repr(sharp) == "Sharpness(value=2, iterations=1, converged=True)"
    with pytest.raises(AttributeError):
        sharp.value = 3.0  # type: ignore[misc]
    assert isinstance(sharp, Sharpness)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda x, y: top_eigenvalue(LinearRegression(), [0.0, 0.0, 0.0], x, y),
            ValueError,
            "The 'params' parameter must have shape (2,) for linear regression with 1 "
            "feature(s), one value per parameter. Got shape (3,) instead.",
        ),
        (
            lambda x, y: hessian_vector(LinearRegression(), [np.nan, 0.0], x, y, [1.0, 0.0]),
            ValueError,
            "The 'params' parameter must be finite. Got nan instead.",
        ),
        (
            lambda x, y: hessian_vector(LinearRegression(), [0.0, 0.0], x, y, [1.0]),
            ValueError,
            "The 'v' parameter must have shape (2,), one value per parameter. "
            "Got shape (1,) instead.",
        ),
        (
            lambda x, y: hessian_vector(LinearRegression(), ["a", "b"], x, y, [1.0, 0.0]),
            TypeError,
            "The 'params' parameter must be an array of real numbers (int or float). "
            "Got strings such as 'a' instead.",
        ),
        (
            lambda x, y: top_eigenvalue(LinearRegression(), [0.0, 0.0], x, y, iterations=0),
            ValueError,
            "The 'iterations' parameter must be an integer >= 1. Got 0 instead.",
        ),
        (
            lambda x, y: top_eigenvalue(LinearRegression(), [0.0, 0.0], x, y, iterations=2.5),
            ValueError,
            "The 'iterations' parameter must be an integer >= 1. Got 2.5 instead.",
        ),
        (
            lambda x, y: top_eigenvalue(LinearRegression(), [0.0, 0.0], x, y, tol=0.0),
            ValueError,
            "The 'tol' parameter must be > 0. Got 0.0 instead.",
        ),
        (
            lambda x, y: top_eigenvalue(LinearRegression(), [0.0, 0.0], x, y, start=[0, 0]),
            ValueError,
            "The 'start' parameter must be a nonzero vector. Got zeros instead.",
        ),
        (
            lambda x, y: top_eigenvalue(LinearRegression(), [0.0, 0.0], x, y, seed=-1),
            ValueError,
            "The 'seed' parameter must be an integer >= 0. Got -1 instead.",
        ),
        (
            lambda x, y: along(LinearRegression(), [0.0, 0.0], x, y),
            ValueError,
            "The 'path' parameter must have shape (K, 2) for linear regression with 1 "
            "feature(s), one row per point. Got shape (2,) instead.",
        ),
        (
            lambda x, y: along(LinearRegression(), [[0.0, np.inf]], x, y),
            ValueError,
            "The 'path' parameter must be finite. Got inf instead.",
        ),
        (
            lambda x, y: top_eigenvalue(LogisticRegression(), [0.0, 0.0], x, y + 2),
            ValueError,
            "The 'y' parameter must be 0 or 1 in every row",
        ),
        (
            lambda x, y: edge_of_stability(0.0),
            ValueError,
            "The 'learning_rate' parameter must be > 0. Got 0.0 instead.",
        ),
        (
            lambda x, y: edge_of_stability(0.1, momentum=1.5),
            ValueError,
            "The 'momentum' parameter must be in [0, 1]. Got 1.5 instead.",
        ),
    ],
)
def test_bad_arguments_are_refused_in_the_house_style(call, error, message):
    x, y = np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 1.0])
    with pytest.raises(error) as raised:
        call(x, y)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_nesterovs_edge_is_where_keras_nesterov_on_a_quadratic_stops_being_stable(momentum):
    """Keras's Nesterov step on L = λθ²/2, just below and just above its edge: the first
    shrinks θ, the second blows it up."""

    def size_after(curvature: float) -> float:
        theta, velocity, rate = 1.0, 0.0, 0.1
        for _ in range(3000):
            gradient = curvature * theta
            velocity = momentum * velocity - rate * gradient
            theta = theta + momentum * velocity - rate * gradient
        return abs(theta)

    edge = edge_of_stability(0.1, momentum, nesterov=True)
    assert size_after(0.99 * edge) < 1.0 < size_after(1.01 * edge)
    if momentum:
        assert edge < edge_of_stability(0.1, momentum)  # lower than the heavy ball's
