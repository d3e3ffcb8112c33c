"""The generated Keras 3, legacy Keras 2 and PyTorch scripts, and the per-update CSV export."""

import ast
import csv
import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import gd
from ui.codegen import keras2_code, keras3_code, pytorch_code, run_csv
from ui.controls import DECAYS, LEARNING_RATES, MOMENTUMS, Settings
from ui.models import MODELS

GENERATORS = (keras3_code, keras2_code, pytorch_code)


@st.composite
def any_settings(draw) -> Settings:
    """Valid sidebar settings: preset values, batch sizes up to the training rows."""
    n = draw(st.sampled_from((20, 50, 200, 1000)))
    split = draw(st.sampled_from((0.0, 0.1, 0.2, 0.25, 0.5)))
    momentum = draw(st.sampled_from(MOMENTUMS))
    base = Settings(
        source=draw(st.sampled_from(("synthetic", "csv"))),
        model=draw(st.sampled_from(list(MODELS))),
        n=n,
        noise=draw(st.sampled_from((0.0, 0.1, 0.5))),
        x_mean=draw(st.sampled_from((-2.0, 0.0, 3.0))),
        data_seed=draw(st.integers(0, 2**31 - 1)),
        validation_split=split,
        learning_rate=draw(st.sampled_from(LEARNING_RATES)),
        decay=draw(st.sampled_from(DECAYS)),
        momentum=momentum,
        nesterov=draw(st.booleans()) and momentum > 0,
        epochs=draw(st.integers(1, 100)),
        shuffle=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31 - 1)),
        w0=draw(st.sampled_from((-1.0, 0.1, 2.5))),
        b0=draw(st.sampled_from((2.0, -0.3, 0.0))),
    )
    batch_size = draw(st.integers(1, base.n_train))
    return Settings(**{**vars(base), "batch_size": batch_size})


def calls(code: str, name: str) -> list[ast.Call]:
    """Every call in ``code`` whose function is named ``name`` (bare or as an attribute)."""
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called == name:
                found.append(node)
    return found


def keywords(call: ast.Call) -> dict[str, object]:
    """A call's keyword arguments that are literals (names like ``learning_rate`` omitted)."""
    out = {}
    for kw in call.keywords:
        try:
            out[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            continue
    return out


@settings(max_examples=60, deadline=None)
@given(any_settings())
def test_every_script_parses_and_carries_the_settings(s):
    for generate in GENERATORS:
        code = generate(s)
        ast.parse(code)
        assert f"default_rng({s.data_seed})" in code or s.source == "csv"
        assert repr(s.w0) in code and repr(s.b0) in code  # the same start point


@settings(max_examples=60, deadline=None)
@given(any_settings())
def test_keras3_uses_inverse_time_decay_exactly_when_decay_is_positive(s):
    code = keras3_code(s)
    schedules = calls(code, "InverseTimeDecay")
    assert bool(schedules) == (s.decay > 0)
    if schedules:
        assert keywords(schedules[0]) == {
            "initial_learning_rate": s.learning_rate,
            "decay_steps": 1,
            "decay_rate": s.decay,
        }
    else:
        assert f"learning_rate = {s.learning_rate!r}" in code
    (sgd,) = calls(code, "SGD")
    assert keywords(sgd) == {"momentum": s.momentum, "nesterov": s.nesterov}
    assert isinstance(keywords(sgd)["momentum"], float)  # Keras 3 rejects an int momentum
    assert "decay=" not in ast.unparse(sgd) and "lr=" not in ast.unparse(sgd)
    (fit,) = calls(code, "fit")
    assert keywords(fit) == {
        "batch_size": s.batch_size,
        "epochs": s.epochs,
        "shuffle": s.shuffle,
        "validation_split": s.validation_split,
        "verbose": 0,
    }
    assert ("val_loss" in code) == (s.validation_split > 0)


@settings(max_examples=60, deadline=None)
@given(any_settings())
def test_legacy_keras_uses_lr_and_decay_and_epochs(s):
    code = keras2_code(s)
    (sgd,) = calls(code, "SGD")
    assert keywords(sgd) == {
        "lr": s.learning_rate,
        "decay": s.decay,
        "momentum": s.momentum,
        "nesterov": s.nesterov,
    }
    (fit,) = calls(code, "fit")
    assert keywords(fit)["epochs"] == s.epochs and keywords(fit)["batch_size"] == s.batch_size
    assert "nb_epoch" in code  # the comment on the Keras 1 rename


@settings(max_examples=60, deadline=None)
@given(any_settings())
def test_pytorch_uses_a_dataloader_and_lambda_lr_only_with_decay(s):
    code = pytorch_code(s)
    (loader,) = calls(code, "DataLoader")
    assert keywords(loader) == {"batch_size": s.batch_size, "shuffle": s.shuffle}
    (sgd,) = calls(code, "SGD")
    assert keywords(sgd) == {"lr": s.learning_rate, "momentum": s.momentum, "nesterov": s.nesterov}
    assert bool(calls(code, "LambdaLR")) == (s.decay > 0)
    assert ("scheduler.step()" in code) == (s.decay > 0)
    if s.decay > 0:  # stepped per batch, after the optimizer
        assert code.index("optimizer.step()") < code.index("scheduler.step()")
        assert f"1.0 / (1.0 + {s.decay!r} * t)" in code
    assert ("differ from Keras" in code) == (s.decay > 0 and s.momentum > 0)
    assert f"1.0 - {s.validation_split!r}" in code  # the last rows are validation


def test_data_lines_rebuild_the_page_data():
    """Executing the data part of a script gives gd.datasets' arrays, bit for bit."""
    for model, make in (
        ("linear", gd.datasets.linear),
        ("logistic", gd.datasets.logistic),
        ("tanh", gd.datasets.tanh),
    ):
        s = Settings(model=model, n=50, noise=0.3, x_mean=1.0, x_std=2.0, data_seed=7)
        code = keras3_code(s)
        start, stop = code.index("# gd.datasets"), code.index("x, y = x.reshape")
        scope = {"np": np}
        exec(code[start:stop], scope)
        data = make(n=50, noise=0.3, x_mean=1.0, x_std=2.0, seed=7)
        np.testing.assert_array_equal(scope["x"], data.x)
        np.testing.assert_array_equal(scope["y"], data.y)


def test_csv_has_one_row_per_update_and_the_header():
    data = gd.datasets.linear(n=50, seed=0)
    run = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.05, decay=0.1),
        batch_size=16,
        epochs=3,
        validation_split=0.2,
    )
    rows = list(csv.DictReader(io.StringIO(run_csv(run, ("w", "b")))))
    assert list(rows[0]) == [
        "update",
        "epoch",
        "batch_size",
        "learning_rate",
        "batch_loss",
        "w",
        "b",
        "full_loss",
    ]
    assert len(rows) == run.updates == 9  # ceil(40 / 16) = 3 per epoch
    assert [int(r["batch_size"]) for r in rows[:3]] == [16, 16, 8]
    assert [int(r["epoch"]) for r in rows] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert [float(r["learning_rate"]) for r in rows] == run.learning_rate.tolist()
    assert float(rows[-1]["w"]) == run.params[-1, 0]
    assert float(rows[-1]["full_loss"]) == run.loss[-1]
