"""Every model's gradient against finite differences, and its fast paths against direct sums."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gd.models import MLP, LinearRegression, LinearStats, LogisticRegression, TanhNeuron

MODELS = [
    LinearRegression(),
    LogisticRegression(),
    TanhNeuron(),
    MLP(hidden=3),
    MLP(hidden=3, activation="relu"),
]


def make_data(model, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 1.5, size=(n, 1))
    if isinstance(model, LogisticRegression):
        return x, (rng.random(n) < 0.5).astype(float)
    return x, rng.normal(size=n)


def finite_difference(model, params, x, y, h=1e-6):
    grad = np.empty_like(params)
    for i in range(params.size):
        step = np.zeros_like(params)
        step[i] = h
        grad[i] = (model.loss(params + step, x, y) - model.loss(params - step, x, y)) / (2 * h)
    return grad


@pytest.mark.parametrize("model", MODELS, ids=repr)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12))
@settings(max_examples=40, deadline=None)
def test_gradient_matches_central_differences(model, seed, n):
    x, y = make_data(model, n, seed)
    params = np.random.default_rng(seed + 1).normal(size=model.n_params(1))
    np.testing.assert_allclose(
        model.grad(params, x, y), finite_difference(model, params, x, y), rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_batch_gradient_is_the_mean_of_per_sample_gradients(model):
    x, y = make_data(model, 9, seed=3)
    params = np.random.default_rng(4).normal(size=model.n_params(1))
    per_sample = model.per_sample_grad(params, x, y)
    assert per_sample.shape == (9, model.n_params(1))
    np.testing.assert_allclose(per_sample.mean(axis=0), model.grad(params, x, y), rtol=1e-12)
    for i in range(9):  # row i is the gradient of row i's own loss
        np.testing.assert_allclose(per_sample[i], model.grad(params, x[i : i + 1], y[i : i + 1]))


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_losses_and_grid_equal_direct_evaluation(model):
    x, y = make_data(model, 30, seed=5)
    axis0 = np.linspace(-2, 2, 7)
    axis1 = np.linspace(-1, 3, 5)
    grid = model.loss_grid(x, y, axis0, axis1)
    assert grid.shape == (5, 7)
    for i, j in [(0, 0), (4, 6), (2, 3)]:
        point = np.zeros(model.n_params(1))
        point[:2] = axis0[j], axis1[i]
        expected = model.loss(point, x, y)
        assert grid[i, j] == pytest.approx(expected, rel=1e-10)


def test_linear_stats_are_exact_and_never_negative_at_the_optimum():
    rng = np.random.default_rng(0)
    x = rng.normal(10.0, 0.1, size=(200, 1))  # a narrow, ill-conditioned valley
    y = 2 * x[:, 0] - 1  # noise-free: the minimum loss is 0
    stats = LinearStats.from_data(x, y)
    np.testing.assert_allclose(stats.optimum, [2.0, -1.0], rtol=1e-8)
    assert stats.losses(stats.optimum[None, :])[0] >= 0.0
    params = rng.normal(size=(20, 2))
    direct = [np.mean((x[:, 0] * w + b - y) ** 2) for w, b in params]
    np.testing.assert_allclose(stats.losses(params), direct, rtol=1e-9)


def test_hessian_eigenvalue_is_twice_the_largest_eigenvalue_of_the_second_moment():
    x = np.array([[1.0], [-1.0], [1.0], [-1.0]])  # x̃ᵀx̃/n = identity
    stats = LinearStats.from_data(x, np.zeros(4))
    assert stats.hessian_max_eigenvalue == pytest.approx(2.0)


def test_logistic_loss_is_stable_for_huge_logits():
    model = LogisticRegression()
    x = np.array([[1000.0], [-1000.0]])
    y = np.array([0.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = model.loss(np.array([1.0, 0.0]), x, y)
    assert loss == pytest.approx(1000.0)


def test_tanh_neuron_has_a_saddle_at_the_origin_and_mirror_minima():
    model = TanhNeuron()
    x, y = make_data(model, 25, seed=8)
    np.testing.assert_allclose(model.grad(np.zeros(2), x, y), 0.0, atol=1e-15)
    params = np.array([1.3, -0.4])
    assert model.loss(params, x, y) == pytest.approx(model.loss(-params, x, y), rel=1e-14)


def test_tanh_neuron_takes_one_feature():
    with pytest.raises(ValueError, match=r"exactly one input feature\. Got 2 instead"):
        TanhNeuron().check_features(2)


def test_equivalent_parameters_predict_the_same():
    x, _ = make_data(TanhNeuron(), 20, seed=2)
    for model in MODELS:
        params = np.random.default_rng(1).normal(size=model.n_params(1))
        for other in model.equivalent(params):
            np.testing.assert_allclose(model.predict(other, x), model.predict(params, x))
    assert len(TanhNeuron().equivalent(np.array([1.0, 2.0]))) == 2
    assert len(MLP(hidden=3).equivalent(np.ones(10))) == 2  # every tanh unit flipped
    assert len(MLP(hidden=3, activation="relu").equivalent(np.ones(10))) == 1
