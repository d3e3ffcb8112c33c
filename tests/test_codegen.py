"""The generated Keras 3, legacy Keras 2 and PyTorch scripts, and the per-update CSV export."""

import ast
import csv
import io
import string
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gd
from gd.datasets import DataError, from_csv
from ui.codegen import (
    CSV_FILE,
    KERAS2_NAME,
    data_lines,
    keras2_code,
    keras3_code,
    pytorch_code,
    run_csv,
)
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
        init_seed=draw(st.integers(0, 2**31 - 1)),
        convention=draw(st.sampled_from(("keras", "pytorch"))),
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
        assert all(repr(value) in code for value in s.start.tolist())  # the same start point


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
    assert_fit_replays_the_page_order(code, s)
    assert ("val_loss" in code) == (s.validation_split > 0)


def assert_fit_replays_the_page_order(code: str, s: Settings) -> None:
    """One ``fit`` call: all epochs in order, or (shuffle on) one epoch per call on rows put
    in the page's order, never with Keras's own shuffle."""
    (fit,) = calls(code, "fit")
    assert keywords(fit) == {
        "batch_size": s.batch_size,
        "epochs": 1 if s.shuffle else s.epochs,
        "shuffle": False,
        "validation_split": s.validation_split,
        "verbose": 0,
    }
    assert (f"order_rng = np.random.default_rng({s.seed})" in code) == s.shuffle


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
    assert_fit_replays_the_page_order(code, s)
    assert "nb_epoch" in code  # the comment on the Keras 1 rename
    (lr_line,) = [line for line in code.splitlines() if line.strip().startswith("lr=")]
    assert "Keras 3 rejects lr=" in lr_line  # the question's spelling, marked where it stands


@settings(max_examples=60, deadline=None)
@given(any_settings())
def test_pytorch_uses_a_dataloader_and_lambda_lr_only_with_decay(s):
    code = pytorch_code(s)
    (loader,) = calls(code, "DataLoader")
    if s.shuffle:  # the page's order, from a sampler; never torch's own shuffle
        assert keywords(loader) == {"batch_size": s.batch_size}
        (sampler,) = calls(code, "PageOrder")
        assert ast.unparse(sampler) == f"PageOrder(n_train, {s.seed})"
    else:
        assert keywords(loader) == {"batch_size": s.batch_size, "shuffle": False}
        assert "PageOrder" not in code
    parting = s.convention == "keras" and s.momentum > 0 and s.decay > 0
    (sgd,) = calls(code, "KerasSGD" if parting else "SGD")
    assert keywords(sgd) == {"lr": s.learning_rate, "momentum": s.momentum, "nesterov": s.nesterov}
    assert ("class KerasSGD" in code) == parting
    assert bool(calls(code, "LambdaLR")) == (s.decay > 0)
    assert ("scheduler.step()" in code) == (s.decay > 0)
    if s.decay > 0:  # stepped per batch, after the optimizer
        assert code.index("optimizer.step()") < code.index("scheduler.step()")
        assert f"1.0 / (1.0 + {s.decay!r} * t)" in code
    assert ("differ from Keras" in code) == (
        s.convention == "pytorch" and s.decay > 0 and s.momentum > 0
    )
    assert f"1.0 - {s.validation_split!r}" in code  # the last rows are validation


def clipped_form(code: str) -> bool:
    """Whether a script names Keras's clipped form: a "sigmoid" activation or the
    "binary_crossentropy" loss given as a string."""
    return any(
        isinstance(node, ast.Constant) and node.value in ("sigmoid", "binary_crossentropy")
        for node in ast.walk(ast.parse(code))
    )


@pytest.mark.parametrize("shuffle", [True, False])
def test_logistic_scripts_take_the_loss_on_the_logit(shuffle):
    """Dense(1) and a from-logits loss: Keras's sigmoid + "binary_crossentropy" clips p, so a
    misclassified row with |z| > 16 would get no gradient (the issue's reproduction)."""
    s = Settings(model="logistic", shuffle=shuffle)
    keras3, keras2, torch = keras3_code(s), keras2_code(s), pytorch_code(s)
    for code in (keras3, keras2, torch):
        assert not calls(code, "sigmoid") and not clipped_form(code)
    for code in (keras3, keras2):
        (dense,) = calls(code, "Dense")
        assert "activation" not in keywords(dense)
        (compile_call,) = calls(code, "compile")
        (loss,) = [kw.value for kw in compile_call.keywords if kw.arg == "loss"]
        assert not isinstance(loss, ast.Constant)  # not the string "binary_crossentropy"
    (loss,) = calls(keras3, "BinaryCrossentropy")
    assert keywords(loss) == {"from_logits": True}
    assert "loss=keras.losses.BinaryCrossentropy(from_logits=True)" in keras3
    (legacy,) = calls(keras2, "binary_crossentropy")  # K.binary_crossentropy, on the logit
    assert keywords(legacy) == {"from_logits": True}
    assert "loss=binary_crossentropy_from_logits" in keras2
    assert "loss_fn = torch.nn.BCEWithLogitsLoss()" in torch  # on the model's raw output


def test_each_script_states_its_backend_and_precision_honestly():
    s = Settings()
    keras3, keras2, torch = keras3_code(s), keras2_code(s), pytorch_code(s)
    for code in (keras3, keras2, torch):
        assert "the page computes in float64" not in code
    backend = 'os.environ["KERAS_BACKEND"] = "torch"'
    assert keras3.index(backend) < keras3.index("import keras")
    assert "float32" in keras3 and "about 7" in keras3
    assert 'keras.config.set_floatx("float64")' in keras3
    assert keras2.index('os.environ["KERAS_BACKEND"] = "tensorflow"') < keras2.index(
        "from keras import"
    )
    assert "torch.set_default_dtype(torch.float64)" in torch and "about 15" in torch


def fake_keras(monkeypatch) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    """Stand in for Keras, recording every ``model.fit(x, y, **kwargs)``."""
    fits = []

    def fit(x, y, **kwargs):
        fits.append((np.asarray(x).copy(), np.asarray(y).copy(), kwargs))
        names = ["loss", "val_loss"] if kwargs["validation_split"] > 0 else ["loss"]
        return SimpleNamespace(history={name: [0.0] * kwargs["epochs"] for name in names})

    keras = mock.MagicMock(name="keras")
    keras.Sequential.return_value.fit.side_effect = fit
    for name in ("keras", "keras.layers", "keras.models", "keras.optimizers"):
        monkeypatch.setitem(sys.modules, name, keras)
    monkeypatch.setenv("KERAS_BACKEND", "unset")  # the scripts set it; restored afterwards
    return fits


@pytest.mark.parametrize("generate", [keras3_code, keras2_code])
@pytest.mark.parametrize("split", [0.0, 0.2])
@pytest.mark.parametrize("shuffle", [True, False])
def test_keras_scripts_fit_the_page_rows_in_the_page_order(
    generate, split, shuffle, monkeypatch, capsys
):
    """Run a Keras script against a stand-in Keras: the rows it fits, epoch by epoch, are the
    page's row order (``gd.fit``'s ``Run.order``), with the validation rows last."""
    s = Settings(n=50, batch_size=8, epochs=4, seed=9, validation_split=split, shuffle=shuffle)
    data = gd.datasets.linear(n=s.n, seed=s.data_seed)
    run = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(s.learning_rate),
        gd.Training(
            epochs=s.epochs, shuffle=s.shuffle, seed=s.seed, validation_split=s.validation_split
        ),
        batch_size=s.batch_size,
    )
    fits = fake_keras(monkeypatch)
    exec(compile(generate(s), "script.py", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.count("loss") == (2 if split else 1)
    held_out = np.arange(run.n_train, s.n)  # Keras cuts them off the end of what it is given
    if shuffle:
        assert len(fits) == s.epochs
        for epoch, (x, y, kwargs) in enumerate(fits):
            rows = np.concatenate([run.order[epoch], held_out])
            np.testing.assert_array_equal(x[:, 0], data.x[rows])
            np.testing.assert_array_equal(y[:, 0], data.y[rows])
            assert kwargs["epochs"] == 1 and kwargs["shuffle"] is False
            assert kwargs["validation_split"] == split
    else:
        ((x, y, kwargs),) = fits
        np.testing.assert_array_equal(x[:, 0], data.x)
        assert kwargs["epochs"] == s.epochs and kwargs["shuffle"] is False


def test_data_lines_rebuild_the_page_data():
    """Executing the data part of a script gives gd.datasets' arrays, bit for bit."""
    for model, make in (
        ("linear", gd.datasets.linear),
        ("logistic", gd.datasets.logistic),
        ("tanh", gd.datasets.tanh),
        ("network", gd.datasets.curve),
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
        gd.Training(epochs=3, validation_split=0.2),
        batch_size=16,
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


# --- An uploaded CSV: the scripts read it as the page did -------------------------------------

DATA = Path(__file__).parent / "data"


def accepted_files() -> list[Path]:
    """Every file of the corpus that from_csv takes."""
    found = []
    for path in sorted(DATA.glob("*.csv")):
        try:
            from_csv(path)
        except DataError:
            continue
        found.append(path)
    return found


def script_reads(content: bytes, directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """x and y as a script's data lines read ``content``, saved in ``directory``."""
    path = directory / CSV_FILE
    path.write_bytes(content)
    code = "\n".join(data_lines(Settings(source="csv")))
    assert code.count(f'"{CSV_FILE}"') == 1
    scope = {"np": np, "io": io, "string": string}
    exec(code.replace(f'"{CSV_FILE}"', repr(str(path))), scope)
    return scope["x"], scope["y"]


@pytest.mark.parametrize("path", accepted_files(), ids=lambda path: path.name)
def test_the_scripts_read_every_accepted_file_as_the_page(path, tmp_path):
    """No header, blank `,` rows, a Latin-1 header, CR line ends: the same rows, bit for bit."""
    data = from_csv(path)
    x, y = script_reads(path.read_bytes(), tmp_path)
    np.testing.assert_array_equal(x, data.x, strict=True)
    np.testing.assert_array_equal(y, data.y, strict=True)


CELLS = st.floats(-1e150, 1e150, allow_nan=False, allow_infinity=False)
SPACES = st.sampled_from(["", " ", "  ", "\t"])
BLANK_ROWS = st.sampled_from(["", " ", ",", " , ", ",,", "\t"])


@st.composite
def accepted_csv(draw) -> bytes:
    """A file from_csv accepts, in any of its shapes: a header or none, blank rows anywhere,
    numbers written several ways with spaces around them, any line end, with or without a
    final one, UTF-8 (with or without a BOM) or Latin-1."""
    header = draw(st.sampled_from([None, "x,y", "x , y", "température,y", '"x","y"']))
    rows = []
    for value_x, value_y in draw(st.lists(st.tuples(CELLS, CELLS), min_size=2, max_size=8)):
        written = [
            draw(st.sampled_from([repr(v), f"{v:.6g}", f"{v:E}", f"{v:.17e}"]))
            for v in (value_x, value_y)
        ]
        rows.append(",".join(draw(SPACES) + cell + draw(SPACES) for cell in written))
    lines = ([header] if header else []) + rows
    blanks = draw(st.lists(st.tuples(st.integers(0, len(lines)), BLANK_ROWS), max_size=4))
    for at, blank in sorted(blanks, reverse=True):
        lines.insert(at, blank)
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
    return text.encode(encoding)


@settings(max_examples=80, deadline=None)
@given(accepted_csv())
def test_the_scripts_read_any_accepted_file_as_the_page(content):
    data = from_csv(io.BytesIO(content))
    with tempfile.TemporaryDirectory() as directory:
        x, y = script_reads(content, Path(directory))
    np.testing.assert_array_equal(x, data.x, strict=True)
    np.testing.assert_array_equal(y, data.y, strict=True)


@pytest.mark.parametrize("generate", [keras3_code, keras2_code])
@pytest.mark.parametrize("file_name", ["blank_rows_between.csv", "latin1_header.csv"])
def test_keras_scripts_fit_the_uploaded_rows(generate, file_name, tmp_path, monkeypatch, capsys):
    """A whole Keras script, run against a stand-in Keras on an upload with blank rows and no
    header, or a Latin-1 header: it imports what its reader needs and fits the page's rows."""
    data = from_csv(DATA / file_name)
    (tmp_path / CSV_FILE).write_bytes((DATA / file_name).read_bytes())
    monkeypatch.chdir(tmp_path)
    fits = fake_keras(monkeypatch)
    s = Settings(source="csv", n=data.n, batch_size=2, epochs=3, shuffle=False)
    exec(compile(generate(s), "script.py", "exec"), {"__name__": "__main__"})
    ((x, y, kwargs),) = fits
    np.testing.assert_array_equal(x[:, 0], data.x)
    np.testing.assert_array_equal(y[:, 0], data.y)
    assert kwargs["epochs"] == 3
    assert capsys.readouterr().out.count("loss") == 1


def test_the_legacy_script_and_its_tab_name_the_same_keras():
    """One name, KERAS2_NAME, for the tab and the script's first line (issue 17, "Labels")."""
    assert keras2_code(Settings()).startswith(f'"""{KERAS2_NAME}: ')
    lesson = (Path(__file__).parents[1] / "lessons" / "keras_to_here.py").read_text()
    (tabs,) = calls(lesson, "tabs")
    labels = [ast.unparse(label) for label in tabs.args[0].elts]
    assert labels == ["'Keras 3'", "codegen.KERAS2_NAME", "'PyTorch'"]


# --- The network (issue 18): two Dense layers, started at the page's 49 weights ---------------


@pytest.mark.parametrize("init_seed", [0, 7])
@pytest.mark.parametrize("generate", GENERATORS)
def test_network_scripts_start_at_the_page_start_in_keras_layout(generate, init_seed):
    """Executing a script's start lines gives the arrays of Keras's ``get_weights()`` for the
    page's start, bit for bit: W1 (1, 16), b1 (16,), W2 (16, 1), b2 (1,)."""
    s = Settings(model="network", init_seed=init_seed)
    code = generate(s)
    scope = {"np": np}
    exec(code[code.index("# The page's start") : code.index("\nmodel = ")], scope)
    expected = gd.models.MLP().weights(s.start, 1)
    for name, array in zip(("W1", "b1", "W2", "b2"), expected, strict=True):
        np.testing.assert_array_equal(scope[name], array, strict=True)


@pytest.mark.parametrize("generate", [keras3_code, keras2_code])
def test_network_keras_scripts_build_dense_16_tanh_then_dense_1(generate):
    code = generate(Settings(model="network"))
    hidden, output = calls(code, "Dense")
    assert [ast.literal_eval(arg) for arg in hidden.args] == [16]
    assert keywords(hidden)["activation"] == "tanh"
    assert [ast.literal_eval(arg) for arg in output.args] == [1] and not output.keywords
    (weights,) = calls(code, "set_weights")
    assert ast.unparse(weights.args[0]) == "[W1, b1, W2, b2]"
    assert not calls(code, "Constant")  # no scalar initialisers left from the 2-weight models


def test_network_pytorch_script_transposes_the_kernels():
    code = pytorch_code(Settings(model="network"))
    first, second = calls(code, "Linear")
    assert [ast.literal_eval(arg) for arg in (*first.args, *second.args)] == [1, 16, 16, 1]
    assert calls(code, "Tanh")
    copies = [ast.unparse(call) for call in calls(code, "copy_")]
    assert copies == [
        "model[0].weight.copy_(torch.tensor(W1.T))",
        "model[0].bias.copy_(torch.tensor(b1))",
        "model[2].weight.copy_(torch.tensor(W2.T))",
        "model[2].bias.copy_(torch.tensor(b2))",
    ]
