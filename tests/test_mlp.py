"""The network ``gd.models.MLP``: its layout, its start, its backprop and its compiled twin.

The gradients against finite differences, the per-sample gradients and the numba engine are
also covered for every model in tests/test_models.py and tests/test_kernels.py; Keras and
PyTorch themselves are in tests/test_mlp_frameworks.py.
"""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gd
from gd.fit import LOSS_BUDGET, loss_steps
from gd.models import MLP

_kernels = pytest.importorskip("gd._kernels")

NETWORKS = [MLP(hidden=4), MLP(hidden=4, activation="relu")]


def curve_rows(n=40, seed=0):
    data = gd.datasets.curve(n, "sine", seed=seed)
    return data.x[:, None], data.y


@pytest.mark.parametrize("n_features", [1, 3])
def test_the_layout_is_kerass_get_weights_flattened_row_major(n_features):
    model = MLP(hidden=5)
    params = np.arange(model.n_params(n_features), dtype=float)
    w1, b1, w2, b2 = model.weights(params, n_features)
    assert [w.shape for w in (w1, b1, w2, b2)] == [(n_features, 5), (5,), (5, 1), (1,)]
    assert w1[n_features - 1, 4] == params[(n_features - 1) * 5 + 4]  # input j, unit h: j·H + h
    assert b1[0] == params[n_features * 5] and b2[0] == params[-1]
    np.testing.assert_array_equal(model.flatten([w1, b1, w2, b2]), params)
    x = np.random.default_rng(1).normal(size=(6, n_features))
    # the forward pass written from the Keras-shaped weights, as Dense computes it
    expected = (np.tanh(x @ w1 + b1) @ w2 + b2)[:, 0]
    np.testing.assert_allclose(model.predict(params, x), expected, rtol=1e-14)
    assert len(model.param_names(n_features)) == params.size


def test_the_start_is_glorot_uniform_kernels_and_zero_biases_from_the_seed():
    model = MLP(hidden=16)
    start = model.init_params(1, seed=3)
    w1, b1, w2, b2 = model.weights(start, 1)
    assert np.all(b1 == 0) and b2[0] == 0
    assert np.abs(w1).max() <= np.sqrt(6 / 17) and np.abs(w2).max() <= np.sqrt(6 / 17)
    assert np.abs(w1).max() > 0.8 * np.sqrt(6 / 17)  # the draws fill their range
    np.testing.assert_array_equal(start, model.init_params(1, seed=3))
    assert not np.array_equal(start, model.init_params(1, seed=4))
    run = gd.fit(model, *curve_rows(), gd.SGD(0.1), training=gd.Training(epochs=1))
    np.testing.assert_array_equal(run.params[0], model.init_params(1))  # fit starts at seed 0


@pytest.mark.parametrize("model", NETWORKS, ids=repr)
def test_a_step_is_the_hand_computed_backprop(model):
    # one hidden unit, one row: every derivative by the chain rule, written out
    net = MLP(hidden=1, activation=model.activation)
    w1, b1, w2, b2, x, y = 0.7, -0.2, 1.3, 0.1, 2.0, 0.5
    z = w1 * x + b1
    a = np.tanh(z) if net.activation == "tanh" else max(z, 0.0)
    slope = 1 - a * a if net.activation == "tanh" else float(z > 0)
    r = w2 * a + b2 - y
    loss, grad = net.loss_and_grad(np.array([w1, b1, w2, b2]), np.array([[x]]), np.array([y]))
    assert loss == pytest.approx(r * r, rel=1e-15)
    expected = [2 * r * w2 * slope * x, 2 * r * w2 * slope, 2 * r * a, 2 * r]
    np.testing.assert_allclose(grad, expected, rtol=1e-15)


def test_relu_has_slope_zero_at_zero_as_tensorflow_and_pytorch():
    model = MLP(hidden=1, activation="relu")
    grad = model.grad(np.array([1.0, 0.0, 1.0, 0.0]), np.array([[0.0]]), np.array([1.0]))
    assert grad[0] == 0.0 and grad[1] == 0.0  # z = 0 exactly: no gradient into the unit
    assert grad[3] == -2.0


@pytest.mark.parametrize("model", NETWORKS, ids=repr)
@given(seed=st.integers(0, 10_000), n_features=st.integers(1, 3))
@settings(max_examples=25, deadline=None)
def test_backprop_matches_central_differences_with_several_inputs(model, seed, n_features):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(12, n_features)), rng.normal(size=12)
    params = rng.normal(size=model.n_params(n_features))
    numeric = np.array(
        [
            (model.loss(params + h, x, y) - model.loss(params - h, x, y)) / 2e-6
            for h in np.eye(params.size) * 1e-6
        ]
    )
    np.testing.assert_allclose(model.grad(params, x, y), numeric, rtol=1e-5, atol=1e-7)
    per_sample = model.per_sample_grad(params, x, y)
    for i in (0, 11):  # row i is the gradient of row i's own loss
        np.testing.assert_allclose(
            per_sample[i], model.grad(params, x[i : i + 1], y[i : i + 1]), rtol=1e-12
        )


@pytest.mark.parametrize("model", NETWORKS, ids=repr)
def test_the_compiled_losses_equal_the_reference_at_many_points(model, monkeypatch):
    x, y = curve_rows(n=50)
    points = np.random.default_rng(2).normal(size=(300, model.n_params(1)))
    compiled = model.losses(points, x, y)
    monkeypatch.setattr(gd.engine, "compiled", None)
    reference = model.losses(points, x, y)
    np.testing.assert_allclose(compiled, reference, rtol=1e-12)
    np.testing.assert_allclose(reference[:3], [model.loss(p, x, y) for p in points[:3]])


def test_a_parameter_vector_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match=r"has 13 parameters\. Got 12 instead"):
        MLP(hidden=4).loss(np.zeros(12), np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="init must have shape \\(13,\\)"):
        gd.fit(MLP(hidden=4), np.zeros(3), np.zeros(3), gd.SGD(0.1), gd.Training(init=np.zeros(2)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"hidden": 0}, "The 'hidden' parameter must be an integer >= 1. Got 0 instead."),
        ({"hidden": 2.5}, "The 'hidden' parameter must be an integer >= 1. Got 2.5 instead."),
        ({"activation": "sigmoid"}, "must be one of 'tanh', 'relu'. Got 'sigmoid' instead."),
    ],
)
def test_bad_settings_say_what_is_allowed(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MLP(**options)


@pytest.mark.parametrize("kind", gd.datasets.CURVES)
def test_sixteen_tanh_units_fit_each_curve_that_a_line_cannot(kind):
    data = gd.datasets.curve(1000, kind, noise=0.1, seed=0)
    design = np.column_stack([data.x, np.ones(data.n)])
    line = np.mean((design @ np.linalg.lstsq(design, data.y, rcond=None)[0] - data.y) ** 2)
    run = gd.fit(MLP(), data.x, data.y, gd.SGD(0.1, momentum=0.9), gd.Training(epochs=100))
    assert run.loss[-1] < 0.02  # the noise alone is 0.01
    assert line > 0.15  # a line leaves ten times that and more


def test_curves_are_seeded_and_checked():
    first = gd.datasets.curve(30, "step", seed=5)
    np.testing.assert_array_equal(first.y, gd.datasets.curve(30, "step", seed=5).y)
    assert np.all(np.abs(first.x) <= 3.0)
    with pytest.raises(ValueError, match="'kind' parameter must be one of 'sine', 'step'"):
        gd.datasets.curve(30, "zigzag")


@pytest.mark.parametrize("model", NETWORKS, ids=repr)
def test_the_drawn_plane_is_the_loss_at_its_points_to_within_a_millionth(model, monkeypatch):
    x, y = curve_rows(n=60)
    basis = np.random.default_rng(5).normal(size=(3, model.n_params(1)))
    axis0, axis1 = np.linspace(-2, 2, 9), np.linspace(-1, 3, 7)
    drawn = model.plane_losses(x, y, basis, axis0, axis1)
    assert drawn.shape == (7, 9)
    point = basis[0] + axis0[8] * basis[1] + axis1[2] * basis[2]  # column 8, row 2
    assert drawn[2, 8] == pytest.approx(model.loss(point, x, y), rel=1e-6)
    monkeypatch.setattr(gd.engine, "compiled", None)  # the NumPy reference: exact
    np.testing.assert_allclose(model.plane_losses(x, y, basis, axis0, axis1), drawn, rtol=1e-6)


def test_a_network_scores_fewer_points_as_each_costs_a_pass_through_its_units():
    planned, per_epoch, n = 100_000, 1000, 1000
    network = loss_steps(MLP(hidden=16), planned, per_epoch, n, planned)
    neuron = loss_steps(gd.models.TanhNeuron(), planned, per_epoch, n, planned)
    assert network.size <= LOSS_BUDGET // (n * 16) + 100 + 2  # the grid, the epoch ends, start, end
    assert np.isin(np.arange(0, planned + 1, per_epoch), network).all()  # every epoch's end
    assert network.size < neuron.size / 4


def test_a_curve_moved_or_stretched_keeps_its_targets_and_moves_its_inputs():
    plain = gd.datasets.curve(n=30, seed=2)
    moved = gd.datasets.curve(n=30, x_mean=3.0, x_std=2.0, seed=2)
    np.testing.assert_array_equal(moved.y, plain.y)
    np.testing.assert_allclose(moved.x, 3.0 + 2.0 * plain.x, rtol=1e-15)
    with pytest.raises(ValueError, match="x_std"):
        gd.datasets.curve(x_std=0.0)


def test_descent_from_the_start_lowers_the_loss_and_its_best_point_is_the_minimum():
    data = gd.datasets.curve(n=200, noise=0.5, seed=0)
    x, y = data.x[:, None], data.y
    model = MLP()
    start = model.init_params(1, seed=0)
    path = model.descent(x, y, start)
    np.testing.assert_array_equal(path[0], start)
    losses = model.losses(path, x, y)
    assert losses[-1] < 0.3 * losses[0]
    best = model.minimum(x, y, start)
    assert model.loss(best, x, y) == pytest.approx(losses.min(), rel=1e-9)


def test_descent_falls_back_to_a_smaller_rate_where_the_first_blows_up(monkeypatch):
    data = gd.datasets.curve(n=200, seed=0)
    x, y = data.x[:, None], data.y
    model = MLP()
    start = model.init_params(1, seed=0)
    monkeypatch.setattr(gd.models, "_DESCENT_RATES", (1e3, 0.1))  # 1 000 flies off at once
    path = model.descent(x, y, start)
    assert np.all(np.isfinite(path))
    assert model.loss(path[-1], x, y) < model.loss(start, x, y)
    monkeypatch.setattr(gd.models, "_DESCENT_RATES", (1e3,))
    np.testing.assert_array_equal(model.descent(x, y, start), start[None, :])
