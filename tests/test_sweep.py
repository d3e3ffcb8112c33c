"""gd.sweep: each cell is the gd.fit run with those settings; the stability bound is sharp."""

import dataclasses

import numpy as np
import pytest

import gd
import gd.engine
from gd.models import LinearRegression, LogisticRegression, TanhNeuron
from gd.sweep import stability_bound, sweep

MODELS = [LinearRegression(), LogisticRegression(), TanhNeuron()]
GRID = {
    "learning_rates": [0.003, 0.1, 0.6, 1e3],  # from slow to blowing up at once
    "batch_sizes": [1, 4, 23, 100],  # 23 is the full batch; 100 is clamped to it
    "momentums": [0.0, 0.9],
    "seeds": [0, 5, 11],
    "training": gd.Training(epochs=3),
}
DECAY = 0.05  # every run of GRID's sweeps decays


def make_data(model, n=23, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    if isinstance(model, LogisticRegression):
        return x, (rng.random(n) < 0.5).astype(float)
    if isinstance(model, TanhNeuron):
        return x, 1.5 * np.tanh(2.0 * x) + 0.3 * rng.normal(size=n)
    return x, 2.0 * x - 1.0 + 0.5 * rng.normal(size=n)


def fit_cell(model, x, y, result, cell, **settings):
    rate, size, momentum, seed = cell
    opt = gd.SGD(
        float(result.learning_rates[rate]),
        momentum=float(result.momentums[momentum]),
        decay=DECAY,
        **settings,
    )
    return gd.fit(
        model,
        x,
        y,
        opt,
        dataclasses.replace(GRID["training"], seed=int(result.seeds[seed])),
        batch_size=int(result.batch_sizes[size]),
    )


@pytest.mark.parametrize("model", MODELS, ids=repr)
@pytest.mark.parametrize("convention", ["keras", "pytorch"])
def test_every_sampled_cell_equals_its_fit_run(model, convention):
    x, y = make_data(model)
    result = sweep(model, x, y, gd.SGD(0.1, decay=DECAY, convention=convention), **GRID)
    shape = (4, 4, 2, 3)
    assert result.final_loss.shape == result.diverged.shape == result.updates.shape == shape
    assert result.diverged.dtype == bool and result.updates.dtype.kind == "i"
    rng = np.random.default_rng([MODELS.index(model), convention == "pytorch"])
    cells = {tuple(int(rng.integers(s)) for s in shape) for _ in range(12)} | {(3, 0, 1, 2)}
    for cell in sorted(cells):
        run = fit_cell(model, x, y, result, cell, convention=convention)
        np.testing.assert_allclose(result.final_loss[cell], run.loss[-1], rtol=1e-12)
        assert result.diverged[cell] == (run.diverged_at is not None), cell
        assert result.updates[cell] == run.updates, cell


def test_a_validation_split_trains_every_cell_on_the_rows_before_it():
    model = TanhNeuron()
    x, y = make_data(model, n=40)
    grid = {"learning_rates": [0.01, 0.3, 1e3], "batch_sizes": [1, 7, 40], "seeds": [0, 4]}
    split = sweep(model, x, y, gd.SGD(0.1), gd.Training(epochs=2, validation_split=0.25), **grid)
    before = sweep(model, x[:30], y[:30], gd.SGD(0.1), gd.Training(epochs=2), **grid)
    for field in ("final_loss", "diverged", "updates"):
        np.testing.assert_array_equal(getattr(split, field), getattr(before, field), field)
    run = gd.fit(
        model, x, y, gd.SGD(0.3), gd.Training(epochs=2, seed=4, validation_split=0.25), batch_size=7
    )
    assert split.final_loss[1, 1, 0, 1] == run.loss[-1]


def test_diverged_runs_are_marked_and_stop_early():
    model = LinearRegression()
    x, y = make_data(model)
    result = sweep(model, x, y, gd.SGD(0.1, decay=DECAY), **GRID)
    assert result.diverged[3].all()  # learning rate 1000
    assert not result.diverged[0].any()  # learning rate 0.003
    planned = GRID["training"].epochs * -(-23 // np.minimum(result.batch_sizes, 23))  # (B,)
    assert (result.updates[3] < planned[:, None, None]).all()
    assert (result.updates[0] == planned[:, None, None]).all()


def test_the_numpy_fallback_gives_the_same_sweep(monkeypatch):
    model = TanhNeuron()
    x, y = make_data(model)
    grid = GRID | {"learning_rates": [0.003, 0.1, 1e3], "seeds": [3], "batch_sizes": [1, 23]}
    grid["momentums"] = [0.5]
    opt = gd.SGD(0.1, momentum=0.5, nesterov=True, decay=DECAY)
    compiled = sweep(model, x, y, opt, **grid)
    monkeypatch.setattr(gd.engine, "compiled", None)  # as if numba were not installed
    fallback = sweep(model, x, y, opt, **grid)
    np.testing.assert_allclose(fallback.final_loss, compiled.final_loss, rtol=1e-10)
    np.testing.assert_array_equal(fallback.diverged, compiled.diverged)
    np.testing.assert_array_equal(fallback.updates, compiled.updates)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_full_batch_gd_converges_just_below_the_bound_and_diverges_just_above(momentum):
    x = np.tile([1.0, -1.0], 10)  # x̃ᵀx̃/n = I: the Hessian is 2I, λmax = 2
    y = 3.0 * x - 1.0  # noise-free, so a converging run reaches loss 0; the start loss is 10
    bound = stability_bound(x, y, momentum=momentum)
    assert bound == pytest.approx(2.0 * (1.0 + momentum) / 2.0, rel=1e-12)
    result = sweep(
        LinearRegression(),
        x,
        y,
        gd.SGD(bound, momentum=momentum),
        gd.Training(epochs=500),
        learning_rates=[0.98 * bound, 1.02 * bound],
        batch_sizes=[x.size],
    )
    below, above = result.final_loss[:, 0, 0, 0]
    assert below < 1e-6
    assert list(result.diverged[:, 0, 0, 0]) == [False, True]
    assert above > 10.0 or np.isnan(above)


MESSAGES = [
    (
        {"learning_rates": [0.1, -1.0]},
        "The 'learning_rates' parameter must be a finite number >= 0. Got -1.0 instead.",
    ),
    (
        {"learning_rates": []},
        "The 'learning_rates' parameter must be a non-empty 1-D sequence. Got [] instead.",
    ),
    ({"batch_sizes": [0]}, "The 'batch_sizes' parameter must be an integer >= 1. Got 0 instead."),
    (
        {"batch_sizes": 8},
        "The 'batch_sizes' parameter must be a non-empty 1-D sequence. Got 8 instead.",
    ),
    ({"momentums": [1.5]}, "The 'momentums' parameter must be in [0, 1]. Got 1.5 instead."),
    ({"seeds": [-1]}, "The 'seeds' parameter must be an integer >= 0. Got -1 instead."),
    (
        {"training": {"epochs": 1}},
        "The 'training' parameter must be a gd.Training. Got {'epochs': 1} instead.",
    ),
    (
        {"opt": gd.SGD(0.1, momentum=0.9, nesterov=True), "momentums": [0.0, 0.9]},
        "nesterov=True needs momentum > 0 (got momentum=0.0); raise momentum or turn nesterov off.",
    ),
    ({"opt": 0.1}, "The 'opt' parameter must be a gd.SGD. Got 0.1 instead."),
]


@pytest.mark.parametrize(("kwargs", "message"), MESSAGES)
def test_sweep_messages(kwargs, message):
    settings = {"opt": gd.SGD(0.1), "batch_sizes": [2]} | kwargs
    with pytest.raises(ValueError) as error:
        sweep(LinearRegression(), np.arange(4.0), np.arange(4.0), **settings)
    assert str(error.value) == message


def test_the_grid_axes_default_to_the_optimizers_own_values():
    x, y = make_data(LinearRegression())
    opt = gd.SGD(0.05, momentum=0.5, nesterov=True, decay=0.01, convention="pytorch")
    result = sweep(LinearRegression(), x, y, opt, gd.Training(epochs=2), batch_sizes=[4])
    assert result.learning_rates.tolist() == [0.05] and result.momentums.tolist() == [0.5]
    run = gd.fit(LinearRegression(), x, y, opt, gd.Training(epochs=2), batch_size=4)
    assert result.final_loss[0, 0, 0, 0] == pytest.approx(run.loss[-1], rel=1e-12)


def test_a_last_point_above_the_threshold_counts_as_diverged_in_a_sweep():
    x, y = np.array([1.0, 2.0]), np.array([2.0, 4.0])
    result = sweep(LinearRegression(), x, y, gd.SGD(1e5), gd.Training(epochs=1), batch_sizes=[2])
    assert result.diverged[0, 0, 0, 0]
    assert result.updates[0, 0, 0, 0] == 1
