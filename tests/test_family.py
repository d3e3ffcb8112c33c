"""gd.family: every run of a family is the gd.fit run with that knob set, at every kept point."""

import dataclasses
import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gd
import gd.engine
from gd import rules
from gd.family import KNOBS
from gd.models import LinearRegression, LogisticRegression, TanhNeuron

MODELS = [LinearRegression(), LogisticRegression(), TanhNeuron()]
TOLERANCE = 1e-12


def make_data(model, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    if isinstance(model, LogisticRegression):
        return x, (rng.random(n) < 0.5).astype(float)
    if isinstance(model, TanhNeuron):
        return x, 1.5 * np.tanh(2.0 * x) + 0.3 * rng.normal(size=n)
    return x, 2.0 * x + 1.0 + 0.5 * rng.normal(size=n)


def knob_values(knob, draw):
    if knob == "learning_rate":
        return draw(st.lists(st.floats(1e-3, 0.3) | st.just(1e4), min_size=1, max_size=5))
    if knob == "batch_size":
        return draw(st.lists(st.integers(1, 45), min_size=1, max_size=5))
    if knob == "momentum":
        return draw(
            st.lists(st.sampled_from([0.0, 0.5, 0.9]) | st.floats(0, 1), min_size=1, max_size=5)
        )
    return draw(
        st.lists(st.sampled_from([0.0, 0.01, 0.5]) | st.floats(0, 2), min_size=1, max_size=5)
    )


@st.composite
def configurations(draw):
    model = draw(st.sampled_from(MODELS))
    n = draw(st.integers(2, 40))
    x, y = make_data(model, n, draw(st.integers(0, 2**32 - 1)))
    knob = draw(st.sampled_from(KNOBS))
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9]))
    opt = gd.SGD(
        draw(st.floats(1e-3, 0.3)),
        momentum=momentum,
        nesterov=momentum > 0 and draw(st.booleans()),
        decay=draw(st.sampled_from([0.0, 0.01, 0.5])),
        convention=draw(st.sampled_from(["keras", "pytorch"])),
    )
    batch_size = draw(st.integers(1, n + 3))
    training = gd.Training(
        epochs=draw(st.integers(1, 4)),
        shuffle=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
        validation_split=draw(st.sampled_from([0.0, 0.25])),
    )
    setup = (training, batch_size)
    return model, x, y, opt, knob, knob_values(knob, draw), setup, draw(st.integers(2, 12))


def run_for(model, x, y, opt, knob, value, setup, engine):
    training, batch_size = setup
    if knob == "batch_size":
        return gd.fit(model, x, y, opt, training, batch_size=int(value), engine=engine)
    changes = {knob: value}
    if knob == "momentum" and value == 0.0:
        changes["nesterov"] = False
    return gd.fit(
        model,
        x,
        y,
        dataclasses.replace(opt, **changes),
        training,
        batch_size=batch_size,
        engine=engine,
    )


def close(actual, expected, name):
    scale = max(1.0, np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0))
    np.testing.assert_allclose(
        actual, expected, rtol=TOLERANCE, atol=TOLERANCE * scale, err_msg=name
    )


def check_family(model, x, y, opt, knob, values, setup, max_points, engine):
    training, batch_size = setup
    fam = gd.family(
        model,
        x,
        y,
        opt,
        training,
        knob=knob,
        values=values,
        batch_size=batch_size,
        max_points=max_points,
        engine=engine,
    )
    assert fam.runs == len(values)
    for r, value in enumerate(values):
        run = run_for(model, x, y, opt, knob, value, setup, engine)
        length = fam.lengths[r]
        steps = fam.steps[r, :length]
        assert steps[0] == 0 and steps[-1] == run.updates
        assert set(run.epoch_ends.tolist()) <= set(steps.tolist())  # every epoch boundary kept
        assert set(steps.tolist()) <= set(run.loss_steps.tolist())
        close(fam.params[r, :length], run.params[steps], "params")
        close(fam.loss[r, :length], run.loss[np.searchsorted(run.loss_steps, steps)], "loss")
        applied = steps < run.updates
        close(fam.learning_rate[r, :length][applied], run.learning_rate[steps[applied]], "lr")
        assert fam.diverged(r) == run.diverged_at
        assert fam.batch_size[r] == run.batch_size
        assert fam.updates_per_epoch[r] == run.updates_per_epoch
        width, bins = fam.batch_width[r], fam.batch_bins[r]
        assert bins == -(-run.updates // width)
        for m in range(bins):
            chunk = run.batch_loss[m * width : (m + 1) * width]
            close(fam.batch_low[r, m], chunk.min(), "batch_low")
            close(fam.batch_high[r, m], chunk.max(), "batch_high")
        assert fam.completed[r] == run.epoch_loss.size
        close(fam.epoch_loss[r, : run.epoch_loss.size], run.epoch_loss, "epoch_loss")
        if run.val_loss is None:
            assert fam.val_loss is None
        else:
            close(fam.val_loss[r, : run.val_loss.size], run.val_loss, "val_loss")
        assert length <= max_points + run.epochs + 2


@given(configurations())
@settings(max_examples=150, deadline=None)
def test_every_run_of_a_family_is_the_fit_run(configuration):
    check_family(*configuration, engine="auto")


@given(configurations())
@settings(max_examples=40, deadline=None)
def test_the_numpy_reference_gives_the_same_family(configuration):
    check_family(*configuration, engine="numpy")


def test_without_numba_the_family_uses_the_reference(monkeypatch):
    data = gd.datasets.linear(n=60, seed=2)
    args = (
        LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.05, momentum=0.9, decay=0.01),
        gd.Training(epochs=3),
    )
    kwargs = {"knob": "learning_rate", "values": [0.01, 0.1], "batch_size": 7}
    compiled = gd.family(*args, **kwargs)
    monkeypatch.setattr(gd.engine, "compiled", None)
    fallback = gd.family(*args, **kwargs)
    close(fallback.params, compiled.params, "params")


def test_a_long_run_is_thinned_but_keeps_its_epoch_boundaries_and_the_whole_noise():
    data = gd.datasets.linear(n=500, seed=0)
    fam = gd.family(
        LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.01),
        gd.Training(epochs=4),
        knob="batch_size",
        values=[1, 500],
        max_points=50,
    )
    assert fam.lengths[0] <= 50 + 4 + 2 and fam.steps[0, fam.lengths[0] - 1] == 2000
    assert fam.batch_width[0] == 40 and fam.batch_bins[0] == 50
    run = gd.fit(
        LinearRegression(), data.x, data.y, gd.SGD(0.01), gd.Training(epochs=4), batch_size=1
    )
    assert fam.batch_low[0].min() == run.batch_loss.min()
    assert fam.batch_high[0].max() == run.batch_loss.max()
    assert fam.lengths[1] == 5  # full batch: one update per epoch, all kept


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"knob": "epochs", "values": [1]},
            "The 'knob' parameter must be one of 'learning_rate', 'batch_size', 'momentum', 'decay'. Got 'epochs' instead.",
        ),
        (
            {"knob": "momentum", "values": [1.5]},
            "The 'values' parameter must be in [0, 1]. Got 1.5 instead.",
        ),
        (
            {"knob": "batch_size", "values": [2.5]},
            "The 'values' parameter must be an integer >= 1. Got 2.5 instead.",
        ),
        (
            {"knob": "decay", "values": []},
            "The 'values' parameter must be a non-empty 1-D sequence. Got [] instead.",
        ),
        (
            {"knob": "decay", "values": [0.1], "max_points": 1},
            "The 'max_points' parameter must be an integer >= 2. Got 1 instead.",
        ),
    ],
)
def test_messages(kwargs, message):
    with pytest.raises(ValueError) as error:
        gd.family(LinearRegression(), np.arange(5.0), np.arange(5.0), gd.SGD(), **kwargs)
    assert str(error.value) == message


def test_never_is_minus_one_in_arrays_and_none_on_run():
    assert rules.NEVER == -1


@pytest.mark.parametrize("knob", KNOBS)
def test_two_threads_give_the_same_family_as_one(monkeypatch, knob):
    module = importlib.import_module("gd.family")  # gd.family itself is the function
    data = gd.datasets.linear(n=300, seed=3)
    args = (
        LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.05, momentum=0.5, decay=0.01),
        gd.Training(epochs=3),
    )
    values = {"batch_size": [1, 7, 32, 300], "momentum": [0.0, 0.5, 0.9]}.get(
        knob, [0.001, 0.01, 0.05, 0.1, 0.3]
    )
    kwargs = {"knob": knob, "values": values, "batch_size": 16}
    monkeypatch.setattr(module, "PARALLEL_WORK", 10**12)
    one = gd.family(*args, **kwargs)
    monkeypatch.setattr(module, "PARALLEL_WORK", 0)
    two = gd.family(*args, **kwargs)
    for field in ("params", "loss", "batch_low", "batch_high", "epoch_loss", "steps"):
        np.testing.assert_array_equal(getattr(two, field), getattr(one, field), err_msg=field)
