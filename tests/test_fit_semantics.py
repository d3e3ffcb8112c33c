"""Keras/PyTorch semantics of gd.fit, checked against steps computed by hand.

The hand-worked case: x = [1, 2], y = [2, 4], linear regression from (w, b) = (0, 0),
batch_size=1, shuffle=False, so update 0 sees row 0 and update 1 sees row 1.
learning_rate=0.1, momentum=0.5, decay=1.0, so lr_0 = 0.1 and lr_1 = 0.1 / (1 + 1) = 0.05.

update 0: r = 0·1 + 0 − 2 = −2,  g = 2·r·[x, 1] = [−4, −4]
update 1 (at the Keras point w1 = [0.4, 0.4]): r = 0.4·2 + 0.4 − 4 = −2.8, g = [−11.2, −5.6]
update 1 (at the Nesterov point w1 = [0.6, 0.6]): r = −2.2, g = [−8.8, −4.4]
"""

import numpy as np
import pytest

import gd

X = np.array([1.0, 2.0])
Y = np.array([2.0, 4.0])
ENGINES = ["numpy", "numba"]


def hand_run(engine, **opt):
    settings = {"learning_rate": 0.1, "momentum": 0.5, "decay": 1.0} | opt
    return gd.fit(
        gd.models.LinearRegression(),
        X,
        Y,
        gd.SGD(**settings),
        gd.Training(epochs=1, shuffle=False),
        batch_size=1,
        engine=engine,
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # Keras: v1 = −0.1·g0 = [0.4, 0.4]; v2 = 0.5·v1 − 0.05·g1 = [0.76, 0.48]; w2 = w1 + v2
        ({"convention": "keras"}, [[0.4, 0.4], [1.16, 0.88]]),
        # Keras Nesterov: w1 = 0.5·v1 − 0.1·g0 = [0.6, 0.6]; v2 = 0.5·0.4 − 0.05·g1 = [0.64, 0.42]
        # w2 = w1 + 0.5·v2 − 0.05·g1 = [0.6 + 0.32 + 0.44, 0.6 + 0.21 + 0.22]
        ({"convention": "keras", "nesterov": True}, [[0.6, 0.6], [1.36, 1.03]]),
        # PyTorch: b1 = g0, w1 = −0.1·g0; b2 = 0.5·b1 + g1 = [−13.2, −7.6]; w2 = w1 − 0.05·b2
        ({"convention": "pytorch"}, [[0.4, 0.4], [1.06, 0.78]]),
        # PyTorch Nesterov: w1 = −0.1·(g0 + 0.5·g0) = [0.6, 0.6]; b2 = 0.5·b1 + g1 = [−10.8, −6.4]
        # w2 = w1 − 0.05·(g1 + 0.5·b2) = w1 − 0.05·[−14.2, −7.6]
        ({"convention": "pytorch", "nesterov": True}, [[0.6, 0.6], [1.31, 0.98]]),
        # Nesterov at a constant rate, μ = 0.9: the two conventions must agree. Keras:
        # v1 = [0.4, 0.4]; w1 = 0.9·v1 − 0.1·g0 = [0.76, 0.76]; r = −1.72, g1 = [−6.88, −3.44];
        # v2 = 0.9·v1 − 0.1·g1 = [1.048, 0.704]; w2 = w1 + 0.9·v2 − 0.1·g1 = [2.3912, 1.7376]
        (
            {"convention": "keras", "nesterov": True, "momentum": 0.9, "decay": 0.0},
            [[0.76, 0.76], [2.3912, 1.7376]],
        ),
        # PyTorch: w1 = −0.1·(g0 + 0.9·g0) = [0.76, 0.76]; b2 = 0.9·g0 + g1 = [−10.48, −7.04];
        # w2 = w1 − 0.1·(g1 + 0.9·b2) = w1 − 0.1·[−16.312, −9.776] = [2.3912, 1.7376]
        (
            {"convention": "pytorch", "nesterov": True, "momentum": 0.9, "decay": 0.0},
            [[0.76, 0.76], [2.3912, 1.7376]],
        ),
        # No momentum, no decay: w2 = w1 − 0.1·g1 = [0.4 + 1.12, 0.4 + 0.56]
        ({"momentum": 0.0, "decay": 0.0}, [[0.4, 0.4], [1.52, 0.96]]),
    ],
)
def test_hand_computed_updates(engine, settings, expected):
    run = hand_run(engine, **settings)
    np.testing.assert_allclose(run.params, [[0.0, 0.0], *expected], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("engine", ENGINES)
def test_decay_counts_updates_from_zero_and_losses_are_pre_update(engine):
    run = hand_run(engine)
    np.testing.assert_allclose(run.learning_rate, [0.1, 0.05])  # t = 0, then t = 1
    np.testing.assert_allclose(run.batch_loss, [4.0, 2.8**2])  # r² at the pre-update weights
    np.testing.assert_allclose(run.epoch_loss, [(4.0 + 7.84) / 2])


@pytest.mark.parametrize("engine", ENGINES)
def test_decay_is_never_reset_at_epoch_boundaries(engine):
    run = gd.fit(
        gd.models.LinearRegression(),
        np.arange(5.0),
        np.arange(5.0),
        gd.SGD(0.01, decay=0.5),
        gd.Training(epochs=3),
        batch_size=2,
        engine=engine,
    )
    t = np.arange(9)  # 3 updates per epoch × 3 epochs, one counter
    np.testing.assert_allclose(run.learning_rate, 0.01 / (1 + 0.5 * t))


@pytest.mark.parametrize("engine", ENGINES)
def test_last_partial_batch_is_kept_and_epoch_loss_is_weighted(engine):
    x = np.linspace(-1, 1, 5)
    y = 3 * x + 0.5
    run = gd.fit(
        gd.models.LinearRegression(),
        x,
        y,
        gd.SGD(0.1),
        gd.Training(epochs=2, shuffle=False),
        batch_size=2,
        engine=engine,
    )
    assert run.updates_per_epoch == 3  # ceil(5 / 2)
    assert run.updates == 6
    assert [run.batch_rows(u).tolist() for u in range(3)] == [[0, 1], [2, 3], [4]]
    losses = run.batch_loss[:3]
    assert run.epoch_loss[0] == pytest.approx((2 * losses[0] + 2 * losses[1] + losses[2]) / 5)
    assert run.epoch_loss[0] != pytest.approx(losses.mean())  # not the unweighted mean


def test_batch_loss_is_the_loss_of_that_batch_at_pre_update_params():
    data = gd.datasets.linear(n=50, seed=3)
    model = gd.models.LinearRegression()
    run = gd.fit(
        model, data.x, data.y, gd.SGD(0.05, momentum=0.9), gd.Training(epochs=3), batch_size=8
    )
    x = data.x[:, None]
    for u in (0, 6, 7, 20):
        rows = run.batch_rows(u)
        assert run.batch_loss[u] == pytest.approx(model.loss(run.params[u], x[rows], data.y[rows]))


def test_full_loss_is_recorded_at_every_point_for_linear_regression():
    data = gd.datasets.linear(n=40, seed=1)
    model = gd.models.LinearRegression()
    run = gd.fit(model, data.x, data.y, gd.SGD(0.05), gd.Training(epochs=2), batch_size=4)
    np.testing.assert_array_equal(run.loss_steps, np.arange(run.updates + 1))
    direct = [model.sample_losses(p, data.x[:, None], data.y).mean() for p in run.params]
    np.testing.assert_allclose(run.loss, direct, rtol=1e-10)


def test_validation_split_takes_the_last_rows_before_shuffling():
    x = np.arange(37.0)
    y = np.arange(37.0)
    run = gd.fit(
        gd.models.LinearRegression(),
        x,
        y,
        gd.SGD(1e-4),
        gd.Training(epochs=4, validation_split=0.25, seed=5),
        batch_size=8,
    )
    assert (run.n_train, run.n_val) == (27, 10)  # floor(37 · 0.75) = 27, as Keras trains on [0:27]
    for epoch_order in run.order:
        assert sorted(epoch_order.tolist()) == list(range(27))  # a permutation of training rows
    assert run.val_loss.shape == (4,)
    model = gd.models.LinearRegression()
    end_of_epoch_1 = run.params[run.updates_per_epoch]
    expected = model.sample_losses(end_of_epoch_1, x[27:, None], y[27:]).mean()
    assert run.val_loss[0] == pytest.approx(expected)


def test_each_epoch_draws_a_new_permutation_and_shuffle_false_keeps_order():
    data = gd.datasets.linear(n=30, seed=0)
    shuffled = gd.fit(
        gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.01), gd.Training(epochs=3)
    )
    assert not np.array_equal(shuffled.order[0], shuffled.order[1])
    fixed = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.01),
        gd.Training(epochs=3, shuffle=False),
    )
    np.testing.assert_array_equal(fixed.order, np.tile(np.arange(30), (3, 1)))


def test_row_orders_are_successive_permutations_of_one_generator():
    data = gd.datasets.linear(n=30, seed=0)
    run = gd.fit(
        gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.01), gd.Training(epochs=4, seed=7)
    )
    rng = np.random.default_rng(7)  # one generator for the whole run, never reseeded per epoch
    np.testing.assert_array_equal(run.order, [rng.permutation(30) for _ in range(4)])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_last_point_above_the_threshold_counts_as_diverged(engine):
    # One full-batch update at rate 1e5: the batch loss before it is fine, the point after it
    # is far above a million times the start loss, so the run ends diverged after 1 update.
    run = gd.fit(gd.models.LinearRegression(), X, Y, gd.SGD(1e5), batch_size=2, engine=engine)
    assert run.updates == 1
    assert run.diverged_at == 1


def test_same_seed_gives_identical_run_and_other_seed_differs():
    data = gd.datasets.linear(n=64, seed=2)
    args = (gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.05, momentum=0.9))
    a = gd.fit(*args, batch_size=5, training=gd.Training(epochs=4, seed=11))
    b = gd.fit(*args, batch_size=5, training=gd.Training(epochs=4, seed=11))
    for field in ("params", "loss", "batch_loss", "learning_rate", "epoch_loss", "order"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = gd.fit(*args, batch_size=5, training=gd.Training(epochs=4, seed=12))
    assert not np.array_equal(a.params, c.params)


@pytest.mark.parametrize("engine", ENGINES)
def test_full_batch_is_the_same_for_any_seed(engine):
    data = gd.datasets.linear(n=50, seed=4)
    runs = [
        gd.fit(
            gd.models.LinearRegression(),
            data.x,
            data.y,
            gd.SGD(0.1, momentum=0.5),
            gd.Training(epochs=10, seed=seed),
            batch_size=50,
            engine=engine,
        )
        for seed in (0, 1, 99)
    ]
    for run in runs[1:]:  # only the summation order differs
        np.testing.assert_allclose(run.params, runs[0].params, rtol=1e-12, atol=1e-14)


def test_batch_size_larger_than_training_rows_is_clamped_to_full_batch():
    data = gd.datasets.linear(n=20, seed=0)
    run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1), batch_size=512)
    assert (run.batch_size, run.requested_batch_size, run.batch_size_clamped) == (20, 512, True)
    assert run.updates_per_epoch == 1


def test_keras_and_pytorch_agree_at_constant_lr_and_differ_with_decay():
    data = gd.datasets.linear(n=60, seed=7)
    model = gd.models.LinearRegression()

    def final(convention, decay):
        opt = gd.SGD(0.05, momentum=0.9, decay=decay, convention=convention)
        return gd.fit(model, data.x, data.y, opt, gd.Training(epochs=3), batch_size=10).params[-1]

    np.testing.assert_allclose(final("keras", 0.0), final("pytorch", 0.0), rtol=1e-10)
    assert np.abs(final("keras", 0.2) - final("pytorch", 0.2)).max() > 1e-3


@pytest.mark.parametrize("engine", ENGINES)
def test_divergence_stops_the_run_and_is_recorded_without_warnings(engine):
    data = gd.datasets.linear(n=100, seed=0)
    with np.errstate(all="raise"):  # any leaked floating-point warning would raise here
        run = gd.fit(
            gd.models.LinearRegression(),
            data.x,
            data.y,
            gd.SGD(learning_rate=5.0),
            gd.Training(epochs=500),
            batch_size=100,
            engine=engine,
        )
    assert run.diverged_at is not None
    assert run.updates < 500
    assert run.params.shape[0] == run.diverged_at + 1
    assert np.all(np.isfinite(run.batch_loss))
    assert run.batch_loss[-1] <= run.divergence_threshold


def test_stable_run_has_no_divergence():
    data = gd.datasets.linear(n=100, seed=0)
    run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1), gd.Training(epochs=20))
    assert run.diverged_at is None
    assert run.loss[-1] < 0.3  # noise 0.5 → the optimum's MSE is about 0.25


@pytest.mark.parametrize("engine", ENGINES)
def test_divergence_inside_the_first_epoch_keeps_an_empty_epoch_history(engine):
    data = gd.datasets.linear(n=200, seed=0)
    run = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(10.0, momentum=0.9),
        gd.Training(epochs=3, validation_split=0.2),
        batch_size=1,
        engine=engine,
    )
    assert run.diverged_at is not None and run.diverged_at < run.updates_per_epoch
    assert run.epoch_loss.shape == (0,) and run.val_loss.shape == (0,)
