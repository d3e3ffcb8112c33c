"""Properties on any valid finite input: gd.fit and gd.sweep never raise, never leak a NumPy
warning (pytest turns RuntimeWarning into an error), and return finite numbers or a recorded
divergence. Also: without numba, fit falls back to the reference with the same numbers."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gd
import gd.engine

MODELS = [
    gd.models.LinearRegression(),
    gd.models.LogisticRegression(),
    gd.models.TanhNeuron(),
    gd.models.MLP(hidden=3),
    gd.models.MLP(hidden=3, activation="relu"),
]
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw):
    model = draw(st.sampled_from(MODELS))
    n = draw(st.integers(2, 40))
    x = np.array(draw(st.lists(finite, min_size=n, max_size=n)))
    y = np.array(draw(st.lists(finite, min_size=n, max_size=n)))
    if isinstance(model, gd.models.LogisticRegression):
        y = (y > 0).astype(float)
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]))
    size = model.n_params(1)
    opt = gd.SGD(
        learning_rate=draw(st.floats(0.0, 1e3)),
        momentum=momentum,
        nesterov=momentum > 0 and draw(st.booleans()),
        decay=draw(st.floats(0.0, 10.0)),
        convention=draw(st.sampled_from(["keras", "pytorch"])),
    )
    options = {
        "batch_size": draw(st.integers(1, 2 * n)),
        "training": gd.Training(
            epochs=draw(st.integers(1, 5)),
            shuffle=draw(st.booleans()),
            seed=draw(st.integers(0, 2**31)),
            validation_split=draw(st.sampled_from([0.0, 0.25])),
            init=np.array(draw(st.lists(st.floats(-10, 10), min_size=size, max_size=size))),
        ),
    }
    return model, x, y, opt, options


@given(problems())
@settings(max_examples=150, deadline=None)
def test_fit_never_raises_and_returns_finite_values_or_a_divergence(problem):
    model, x, y, opt, options = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning at all fails the property
        run = gd.fit(model, x, y, opt, **options)
    assert np.all(np.isfinite(run.batch_loss))  # losses before a blow-up are all finite
    if run.diverged_at is None:
        assert np.all(np.isfinite(run.params)) and np.all(np.isfinite(run.loss))
        assert np.all(np.isfinite(run.epoch_loss))
    else:
        assert run.params.shape[0] == run.diverged_at + 1
        assert np.all(np.isfinite(run.params[:-1]))


@given(problems())
@settings(max_examples=60, deadline=None)
def test_sweep_never_raises_and_flags_every_blow_up(problem):
    model, x, y, opt, options = problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = gd.sweep(
            model,
            x,
            y,
            opt,
            gd.Training(epochs=options["training"].epochs, init=options["training"].init),
            learning_rates=[opt.learning_rate, 10 * opt.learning_rate + 1.0],
            batch_sizes=[1, options["batch_size"]],
        )
    assert np.all(np.isfinite(result.final_loss) | result.diverged)


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_without_numba_fit_uses_the_reference_with_the_same_numbers(monkeypatch, model):
    data = gd.datasets.tanh(n=50, seed=1) if model.kernel_id == 2 else gd.datasets.linear(n=50)
    y = (data.y > 0).astype(float) if model.kernel_id == 1 else data.y
    args = (model, data.x, y, gd.SGD(0.05, momentum=0.9, decay=0.01))
    compiled = gd.fit(*args, batch_size=7, engine="numba", training=gd.Training(epochs=3))
    monkeypatch.setattr(gd.engine, "compiled", None)  # as if numba were not installed
    fallback = gd.fit(*args, batch_size=7, training=gd.Training(epochs=3))  # engine="auto"
    np.testing.assert_allclose(fallback.params, compiled.params, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="engine='numba' needs the numba package"):
        gd.fit(*args, engine="numba")
