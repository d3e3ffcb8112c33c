"""gd.hogwild: stale gradients, against gd.fit at staleness 0 and by hand at staleness 1, 2."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gd
from gd.hogwild import fit_async
from gd.models import LinearRegression, LogisticRegression, TanhNeuron

MODELS = {"linear": LinearRegression, "logistic": LogisticRegression, "tanh": TanhNeuron}
DATA = {"linear": gd.datasets.linear, "logistic": gd.datasets.logistic, "tanh": gd.datasets.tanh}
FIELDS = ("params", "loss", "loss_steps", "batch_loss", "learning_rate", "epoch_loss", "order")


def assert_same_run(a: gd.Run, b: gd.Run) -> None:
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    for field in ("updates_per_epoch", "diverged_at", "batch_size", "n_train", "epochs"):
        assert getattr(a, field) == getattr(b, field), field


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(MODELS)),
    n=st.integers(2, 30),
    epochs=st.integers(1, 3),
    seed=st.integers(0, 1000),
    rate=st.sampled_from([0.01, 0.1, 0.5, 5.0]),  # 5.0 blows up
    momentum=st.sampled_from([0.0, 0.9]),
    decay=st.sampled_from([0.0, 0.1]),
    convention=st.sampled_from(["keras", "pytorch"]),
    shuffle=st.booleans(),
    workers=st.integers(1, 8),
)
def test_staleness_zero_is_gd_fit_with_batch_size_one(
    name, n, epochs, seed, rate, momentum, decay, convention, shuffle, workers
):
    data = DATA[name](n=n, seed=seed)
    opt = gd.SGD(rate, momentum=momentum, decay=decay, convention=convention)
    model = MODELS[name]()
    training = gd.Training(epochs=epochs, seed=seed, shuffle=shuffle)
    stale = fit_async(model, data.x, data.y, opt, training, workers=workers, staleness=0)
    exact = gd.fit(model, data.x, data.y, opt, training, batch_size=1, engine="numpy")
    assert_same_run(stale, exact)


def test_a_validation_split_holds_out_the_same_rows_as_gd_fit():
    data = gd.datasets.tanh(n=40, seed=3)
    training = gd.Training(epochs=2, seed=5, validation_split=0.25)
    opt = gd.SGD(0.1, momentum=0.9)
    stale = fit_async(TanhNeuron(), data.x, data.y, opt, training, workers=2, staleness=0)
    exact = gd.fit(TanhNeuron(), data.x, data.y, opt, training, batch_size=1, engine="numpy")
    assert (stale.n_train, stale.n_val) == (30, 10)
    np.testing.assert_array_equal(stale.val_loss, exact.val_loss)
    assert_same_run(stale, exact)


def test_staleness_one_by_hand():
    # Rows in order (shuffle off). w_0 = (0, 0); gᵢ(w) = 2(w·xᵢ + b − yᵢ)·(xᵢ, 1).
    x = np.array([1.0, 2.0, -1.0])
    y = np.array([2.0, 4.0, 0.0])
    run = fit_async(
        LinearRegression(),
        x,
        y,
        gd.SGD(0.1),
        gd.Training(epochs=1, shuffle=False),
        workers=2,
        staleness=1,
    )
    w1 = np.array([0.0, 0.0]) - 0.1 * np.array([-4.0, -4.0])  # g₀ at w_0: r = −2
    np.testing.assert_allclose(run.params[1], w1)  # (0.4, 0.4)
    w2 = w1 - 0.1 * np.array([-16.0, -8.0])  # g₁ at the stale w_0: r = −4
    np.testing.assert_allclose(run.params[2], w2)  # (2.0, 1.2)
    r = -0.4 + 0.4 - 0.0  # g₂ at w_1 = (0.4, 0.4), row (−1, 0): r = −0.4 + 0.4 − 0 = 0
    w3 = w2 - 0.1 * 2 * r * np.array([-1.0, 1.0])
    np.testing.assert_allclose(run.params[3], w3)
    # Each batch loss is the row's loss at the point its worker read.
    np.testing.assert_allclose(run.batch_loss, [4.0, 16.0, 0.0])
    assert run.batch_size == 1 and run.updates_per_epoch == 3


def test_staleness_two_by_hand_with_momentum():
    # Keras momentum on the shared weights: v ← μv − ηg, w ← w + v; g read two updates back.
    # Every row is (x, y) = (1, 1), so g(w, b) = 2(w + b − 1)·(1, 1).
    ones = np.ones(4)
    run = fit_async(
        LinearRegression(),
        ones,
        ones,
        gd.SGD(0.1, momentum=0.5),
        gd.Training(epochs=1, shuffle=False, init=np.array([1.0, 0.5])),
        workers=3,
        staleness=2,
    )
    expected = [
        [1.0, 0.5],
        [0.9, 0.4],  # t = 0 reads w_0: g = (1, 1), v = −0.1
        [0.75, 0.25],  # t = 1 reads w_0 again: v = 0.5·(−0.1) − 0.1 = −0.15
        [0.575, 0.075],  # t = 2 reads w_0 again: v = −0.075 − 0.1 = −0.175
        [0.4275, -0.0725],  # t = 3 reads w_1: g = (0.6, 0.6), v = −0.0875 − 0.06 = −0.1475
    ]
    np.testing.assert_allclose(run.params, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(run.batch_loss, [0.25, 0.25, 0.25, 0.09])  # r² at the read point


def test_stale_gradients_blow_up_where_the_averaged_batch_is_stable():
    data = gd.datasets.linear(n=200, seed=0)
    model = LinearRegression()
    opt = gd.SGD(0.3)
    batch = gd.fit(model, data.x, data.y, opt, gd.Training(epochs=3), batch_size=16)
    stale = fit_async(model, data.x, data.y, opt, gd.Training(epochs=3), workers=16, staleness=15)
    assert batch.diverged_at is None
    assert stale.diverged_at is not None
    assert stale.params.shape[0] == stale.diverged_at + 1  # the path stops at the blow-up


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workers": 0}, "The 'workers' parameter must be an integer >= 1. Got 0 instead."),
        ({"staleness": -1}, "The 'staleness' parameter must be an integer >= 0. Got -1 instead."),
        (
            {"workers": 4, "staleness": 4},
            "staleness (4) needs at least 5 workers, but workers is 4; raise workers or lower "
            "staleness.",
        ),
        (
            {"training": {"epochs": 1}},
            "The 'training' parameter must be a gd.Training. Got {'epochs': 1} instead.",
        ),
        ({"opt": 0.1}, "The 'opt' parameter must be a gd.SGD. Got 0.1 instead."),
    ],
)
def test_bad_arguments_are_explained(change, message):
    kwargs = dict(opt=gd.SGD(0.1), workers=4, staleness=3) | change
    opt = kwargs.pop("opt")
    with pytest.raises(ValueError) as error:
        fit_async(LinearRegression(), [0.0, 1.0], [1.0, 2.0], opt, **kwargs)
    assert str(error.value) == message
