"""The numba engine against the NumPy reference: every field of every Run, to 1e-12."""

import dataclasses

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import gd
from gd.models import MLP, LinearRegression, LogisticRegression, TanhNeuron

_kernels = pytest.importorskip("gd._kernels")

MODELS = [
    LinearRegression(),
    LogisticRegression(),
    TanhNeuron(),
    MLP(hidden=3),
    MLP(hidden=2, activation="relu"),
]


def make_data(model, n, n_features, seed):
    """Rows a lesson might use: standard-normal inputs, targets the model can (nearly) fit."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    if isinstance(model, LogisticRegression):
        return x, (rng.random(n) < 0.5).astype(float)
    if isinstance(model, TanhNeuron | MLP):
        return x, 1.5 * np.tanh(2.0 * x[:, 0]) + 0.3 * rng.normal(size=n)
    return x, x @ rng.normal(size=n_features) + 1.0 + 0.5 * rng.normal(size=n)


@st.composite
def configurations(draw):
    model = draw(st.sampled_from(MODELS))
    n = draw(st.integers(1, 40))
    n_features = 1 if isinstance(model, TanhNeuron) else draw(st.integers(1, 3))
    x, y = make_data(model, n, n_features, draw(st.integers(0, 2**32 - 1)))
    momentum = draw(st.sampled_from([0.0, 0.5, 0.9]) | st.floats(0.0, 1.0))
    # A rate far past the stable range blows up within a few updates; rates in between can be
    # chaotic, where one rounding difference grows without bound, so they are not drawn. The
    # network's sharpness is higher: at 0.25 and batch size 1 its weights swing to ±170 and
    # one rounding grows to 1e-9 of them.
    stable = 0.05 if isinstance(model, MLP) else 0.3
    learning_rate = draw(st.floats(1e-3, stable) | st.just(1e4))
    opt = gd.SGD(
        learning_rate,
        momentum=momentum,
        nesterov=momentum > 0 and draw(st.booleans()),
        decay=draw(st.sampled_from([0.0, 0.01, 0.5])),
        convention=draw(st.sampled_from(["keras", "pytorch"])),
    )
    fit_kwargs = {
        "batch_size": draw(st.integers(1, n + 3)),  # includes 1, n ∤ B, and B > n (clamped)
        "training": gd.Training(
            epochs=draw(st.integers(1, 4)),
            shuffle=draw(st.booleans()),
            seed=draw(st.integers(0, 2**32 - 1)),
            validation_split=draw(st.sampled_from([0.0, 0.25])) if n >= 2 else 0.0,
            init=draw(
                st.none()
                | st.just(np.random.default_rng(n).normal(size=model.n_params(n_features)))
            ),
        ),
    }
    return model, x, y, opt, fit_kwargs


def assert_close(fast, reference, name, terms=1.0):
    """Sums run in another order, so values differ by rounding relative to the scale of the
    array, or of the terms summed into it (``terms``) where those are larger: a logit of
    huge parameters is a difference of huge products, and its rounding stays that large."""
    finite = np.abs(reference[np.isfinite(reference)])
    scale = max(1.0, terms, finite.max()) if finite.size else max(1.0, terms)
    np.testing.assert_allclose(fast, reference, rtol=1e-12, atol=1e-12 * scale, err_msg=name)


def term_scale(run, x) -> float:
    """The largest |parameter · input| a loss of this run sums: its rounding's scale."""
    params = np.abs(run.params[np.isfinite(run.params).all(axis=1)])
    return float(params.max(initial=0.0) * max(1.0, np.abs(x).max(initial=0.0)))


@given(configurations())
@settings(max_examples=250, deadline=None)
@example(
    configuration=(  # logistic regression at rate 1e4: parameters ~1e4, logits cancel
        LogisticRegression(),
        np.array(
            [[2.04091912, -2.55566503], [0.41809885, -0.56776961], [-0.45264929, -0.21559716]]
        ),
        np.array([1.0, 1.0, 0.0]),
        gd.SGD(1e4),
        {
            "batch_size": 1,
            "training": gd.Training(
                shuffle=False, init=np.array([2.04091912, -2.55566503, 0.41809885])
            ),
        },
    )
)
def test_numba_engine_matches_the_numpy_reference(configuration):
    model, x, y, opt, fit_kwargs = configuration
    fast = gd.fit(model, x, y, opt, engine="numba", **fit_kwargs)
    reference = gd.fit(model, x, y, opt, engine="numpy", **fit_kwargs)
    terms = term_scale(reference, x)
    for field in dataclasses.fields(gd.Run):
        fast_value, reference_value = getattr(fast, field.name), getattr(reference, field.name)
        if isinstance(reference_value, np.ndarray) and reference_value.dtype.kind == "f":
            assert fast_value.shape == reference_value.shape, field.name
            assert_close(fast_value, reference_value, field.name, terms)
        elif isinstance(reference_value, np.ndarray):  # order, loss_steps: integers
            np.testing.assert_array_equal(fast_value, reference_value, err_msg=field.name)
        else:  # diverged_at, updates_per_epoch, batch_size, ..., and val_loss when None
            assert fast_value == reference_value, field.name


@pytest.mark.parametrize("model", MODELS, ids=repr)
@pytest.mark.parametrize("convention", ["keras", "pytorch"])
def test_a_huge_learning_rate_stops_at_the_same_update_in_both_engines(model, convention):
    x, y = make_data(model, 20, 1, seed=4)
    opt = gd.SGD(1e4, momentum=0.9, convention=convention)
    runs = [
        gd.fit(model, x, y, opt, gd.Training(epochs=3), batch_size=4, engine=e)
        for e in ("numba", "numpy")
    ]
    # Logistic regression's gradient is bounded, so its loss grows only linearly: no blow-up.
    expected = None if isinstance(model, LogisticRegression) else 1
    assert runs[0].diverged_at == runs[1].diverged_at == expected
    assert runs[0].updates == runs[1].updates
    assert_close(runs[0].params, runs[1].params, "params")


def test_warm_up_compiles_one_signature_for_read_only_and_writable_data():
    _kernels.warm_up()
    data = gd.datasets.linear(n=50, seed=1)  # read-only arrays
    assert not data.x.flags.writeable
    for x, y in [(data.x, data.y), (data.x.copy(), data.y.copy())]:
        gd.fit(
            LinearRegression(),
            x,
            y,
            gd.SGD(0.1),
            gd.Training(epochs=2),
            batch_size=8,
            engine="numba",
        )
    assert len(_kernels._train.signatures) == 1  # no compile outside warm_up


def test_a_family_reuses_its_cached_plans_without_compiling_again():
    """``gd.family`` caches its plans read-only; the kernels' trace copies them, so a second
    family at the same batch size runs on the signature warm_up compiled."""
    _kernels.warm_up()
    data = gd.datasets.linear(n=50, seed=1)
    first, second = (
        gd.family(
            LinearRegression(),
            data.x,
            data.y,
            gd.SGD(0.1),
            gd.Training(epochs=2),
            knob="learning_rate",
            values=values,
            batch_size=8,
            engine="numba",
        )
        for values in ([0.1, 0.2], [0.3, 0.4])
    )
    assert np.array_equal(first.steps, second.steps)
    assert len(_kernels._train.signatures) == 1
