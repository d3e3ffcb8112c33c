"""gd.noise: measured gradient noise against the sampling formula, and one update taken apart."""

import numpy as np
import pytest

import gd
from gd import noise
from gd.models import LinearRegression, LogisticRegression, TanhNeuron

MODELS = [LinearRegression(), LogisticRegression(), TanhNeuron()]
SIZES = [1, 2, 5, 20, 50, 199, 200]


def data_for(model, n=200):
    generator = {
        "linear regression": gd.datasets.linear,
        "logistic regression": gd.datasets.logistic,
    }.get(model.name, gd.datasets.tanh)
    data = generator(n=n, seed=3)
    return data.x[:, None], data.y


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_measured_variance_matches_the_formula(model):
    x, y = data_for(model)
    params = np.array([0.3, -0.4])
    measured = noise.minibatch_gradient_variance(model, params, x, y, SIZES, draws=4000, seed=1)
    theory = noise.theory_variance(model, params, x, y, SIZES)
    assert measured[-1] == 0.0  # B = N: the batch is all the data
    assert theory[-1] == 0.0
    np.testing.assert_allclose(measured[:-1], theory[:-1], rtol=0.10)


def test_theory_is_sigma2_at_one_and_zero_at_n():
    model = LinearRegression()
    x, y = data_for(model, n=50)
    params = np.array([1.0, 0.5])
    sigma2 = noise.per_sample_variance(model, params, x, y)
    theory = noise.theory_variance(model, params, x, y, [1, 50])
    assert theory[0] == pytest.approx(sigma2)
    assert theory[1] == 0.0
    assert sigma2 > 0


def test_measurement_is_reproducible_with_a_seed():
    model = LinearRegression()
    x, y = data_for(model, n=30)
    args = (model, np.zeros(2), x, y, [1, 4, 16])
    a = noise.minibatch_gradient_variance(*args, draws=50, seed=7)
    b = noise.minibatch_gradient_variance(*args, draws=50, seed=7)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_per_sample_mean_is_the_batch_gradient(model):
    x, y = data_for(model, n=37)
    params = np.array([0.7, -1.2])
    per_sample = model.per_sample_grad(params, x, y)  # (37, 2)
    np.testing.assert_allclose(per_sample.mean(axis=0), model.grad(params, x, y), rtol=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_inside_update_takes_one_update_apart(momentum):
    model = LinearRegression()
    x, y = data_for(model, n=50)
    run = gd.fit(
        model,
        x,
        y,
        gd.SGD(learning_rate=0.05, momentum=momentum),
        gd.Training(epochs=2),
        batch_size=16,
        engine="numpy",
    )
    for update in (0, 3, 5):  # update 3 is an epoch's last batch: 50 - 3·16 = 2 rows
        inside = noise.inside_update(model, run, x, y, update)
        rows = run.batch_rows(update)
        np.testing.assert_array_equal(inside.rows, rows)
        assert inside.sample_steps.shape == (rows.size, 2)
        expected = -run.learning_rate[update] * model.grad(run.params[update], x[rows], y[rows])
        np.testing.assert_allclose(inside.batch_step, expected, rtol=1e-12)
        np.testing.assert_allclose(
            inside.full_step, -run.learning_rate[update] * model.grad(run.params[update], x, y)
        )
        taken = run.params[update + 1] - run.params[update]
        np.testing.assert_array_equal(inside.taken_step, taken)
        if momentum == 0.0:
            np.testing.assert_allclose(inside.taken_step, inside.batch_step, rtol=1e-12)
    assert noise.inside_update(model, run, x, y, 3).batch_size == 2


def test_bad_arguments_say_what_to_change():
    model = LinearRegression()
    x, y = data_for(model, n=10)
    with pytest.raises(
        ValueError, match=r"'batch_sizes' parameter must be a list of integers in \[1, 10\]"
    ):
        noise.theory_variance(model, np.zeros(2), x, y, [0, 4])
    with pytest.raises(ValueError, match="'draws' parameter"):
        noise.minibatch_gradient_variance(model, np.zeros(2), x, y, [2], draws=0, seed=0)


def test_time_epochs_counts_updates():
    model = LinearRegression()
    x, y = data_for(model, n=20)
    timing = noise.time_epochs(model, x, y, [1, 4, 20], repeats=1)
    assert timing.updates_per_epoch.tolist() == [20, 5, 1]
    assert np.all(timing.seconds > 0)
    assert timing.us_per_update.shape == (3,)
