"""The generated PyTorch and Keras 3 scripts, run for real, print the page's numbers.

Each case writes ``ui.codegen.pytorch_code`` to a temporary directory, runs it with this
Python in a subprocess, and compares what it prints (every epoch's ``loss`` and ``val_loss``,
and the final weights) with ``gd.fit`` for the same settings, to 1e-10 relative. The cases
cover both momentum conventions, shuffle on and off (the page's row order, replayed by the
script's sampler), decay with momentum, Nesterov, all four models (the network's 49 weights
included), and an uploaded CSV of every shape the page accepts: each file of ``tests/data``
that ``gd.datasets.from_csv`` takes, and the sample file the page offers, copied byte for byte
to ``data.csv``. The cases in Keras's convention run ``ui.codegen.keras3_code`` too, on Keras
3's torch backend, which computes in float32: to 2e-6.

torch and keras are test-only extras (``requirements-verify.txt``); without them these tests
skip.
"""

import ast
import importlib.util
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gd
from gd.datasets import DataError, from_csv
from ui.codegen import CSV_FILE, keras3_code, pytorch_code
from ui.controls import Settings

pytest.importorskip(
    "torch",
    reason="torch is not installed: `python3 -m pip install -r requirements-verify.txt` "
    "runs the generated PyTorch scripts",
)

TIMEOUT = 180  # seconds for one script: importing torch takes 2-3 s, training well under 1 s
RTOL = 1e-10
# Keras 3 on the torch backend computes in float32 (docs/semantics.md): as in
# tests/test_mlp_frameworks.py, each number carries about 6e-8 of rounding, and updates carry it on.
KERAS_RTOL = 2e-6

# Momentum with a decaying rate, where the two conventions part, and a last batch of 16 rows
# (160 training rows in batches of 24).
PARTING = {"decay": 0.05, "momentum": 0.9, "validation_split": 0.2, "batch_size": 24}
CASES = {
    "keras, shuffled": Settings(convention="keras", shuffle=True, epochs=8, seed=3, **PARTING),
    "keras, in order, nesterov": Settings(
        convention="keras", shuffle=False, nesterov=True, epochs=8, **PARTING
    ),
    "pytorch, shuffled, nesterov": Settings(
        convention="pytorch", shuffle=True, nesterov=True, epochs=8, seed=5, **PARTING
    ),
    "pytorch, in order": Settings(convention="pytorch", shuffle=False, epochs=8, **PARTING),
    # The logistic settings (rate 1.0, momentum 0.9, offset 3), where Keras's clipped
    # sigmoid form lost the gradient of misclassified rows.
    "logistic, keras, shuffled": Settings(
        model="logistic",
        x_mean=3.0,
        learning_rate=1.0,
        momentum=0.9,
        decay=0.01,
        convention="keras",
        shuffle=True,
        epochs=10,
        seed=11,
    ),
    "tanh, pytorch, shuffled, nesterov": Settings(
        model="tanh",
        w0=0.5,
        b0=0.5,
        convention="pytorch",
        shuffle=True,
        nesterov=True,
        epochs=6,
        seed=2,
        **PARTING,
    ),
    # The network: Keras's convention with momentum and decay (KerasSGD over 49 weights), and
    # PyTorch's in file order on a moved and stretched x (the curve's u, then x_mean + x_std·u).
    "network, keras, shuffled": Settings(
        model="network", convention="keras", shuffle=True, epochs=5, seed=4, init_seed=3, **PARTING
    ),
    "network, pytorch, in order, nesterov": Settings(
        model="network",
        x_mean=1.0,
        x_std=2.0,
        convention="pytorch",
        shuffle=False,
        nesterov=True,
        epochs=5,
        **PARTING,
    ),
}


def app_run(settings: Settings, x: np.ndarray, y: np.ndarray) -> gd.Run:
    """What the page computes for these settings on this data."""
    s = settings
    opt = gd.SGD(
        learning_rate=s.learning_rate,
        momentum=s.momentum,
        nesterov=s.nesterov,
        decay=s.decay,
        convention=s.convention,
    )
    return gd.fit(
        s.spec.build(),
        x,
        y,
        opt,
        gd.Training(
            epochs=s.epochs,
            shuffle=s.shuffle,
            seed=s.seed,
            validation_split=s.validation_split,
            init=s.start,
        ),
        batch_size=s.batch_size,
    )


def synthetic_run(settings: Settings) -> gd.Run:
    s = settings
    data = s.spec.generator(n=s.n, noise=s.noise, x_mean=s.x_mean, x_std=s.x_std, seed=s.data_seed)
    return app_run(s, data.x, data.y)


def run_script(code: str, directory) -> dict[str, list[float]]:
    """Run a script in ``directory``; its printed lines ``name [numbers]`` as a dict."""
    path = directory / "page_run.py"
    path.write_text(code)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # tiny tensors: one thread is fastest
    done = subprocess.run(
        [sys.executable, path.name],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = {}
    for line in done.stdout.splitlines():
        name, values = line.split(" ", 1)
        printed[name] = ast.literal_eval(values)
    return printed


def assert_same_history(
    printed: dict[str, list[float]], run: gd.Run, rtol: float = RTOL, weights_atol: float = 0.0
) -> None:
    assert run.diverged_at is None  # a run worth comparing digit for digit
    assert len(printed["loss"]) == run.epochs
    np.testing.assert_allclose(printed["loss"], run.epoch_loss, rtol=rtol, atol=0)
    if run.val_loss is None:
        assert "val_loss" not in printed
    else:
        np.testing.assert_allclose(printed["val_loss"], run.val_loss, rtol=rtol, atol=0)
    np.testing.assert_allclose(printed["weights"], run.params[-1], rtol=rtol, atol=weights_atol)


@pytest.mark.parametrize("settings", CASES.values(), ids=CASES.keys())
def test_the_pytorch_script_prints_the_page_numbers(settings, tmp_path):
    assert_same_history(run_script(pytorch_code(settings), tmp_path), synthetic_run(settings))


KERAS_CASES = {name: s for name, s in CASES.items() if s.convention == "keras"}


@pytest.mark.skipif(
    importlib.util.find_spec("keras") is None, reason="keras is in requirements-verify.txt"
)
@pytest.mark.parametrize("settings", KERAS_CASES.values(), ids=KERAS_CASES.keys())
def test_the_keras_3_script_prints_the_page_numbers(settings, tmp_path):
    run = synthetic_run(settings)
    scale = np.abs(run.params[-1]).max()  # a weight near 0 carries the others' rounding
    printed = run_script(keras3_code(settings), tmp_path)
    assert_same_history(printed, run, rtol=KERAS_RTOL, weights_atol=KERAS_RTOL * scale)


def test_the_cases_would_catch_a_wrong_order_or_convention():
    """Each shuffled case's order differs from the identity, and the two conventions differ,
    so a script that ignored either could not pass."""
    for name, settings in CASES.items():
        run = synthetic_run(settings)
        if settings.shuffle:
            assert not np.array_equal(run.order[0], np.arange(run.n_train)), name
        other = "pytorch" if settings.convention == "keras" else "keras"
        twin = synthetic_run(Settings(**{**vars(settings), "convention": other}))
        if settings.momentum > 0 and settings.decay > 0:
            gap = np.max(np.abs(twin.params[-1] - run.params[-1]) / np.abs(run.params[-1]))
            assert gap > 1e-3, name


def test_an_uploaded_csv_of_misclassified_rows_still_learns(tmp_path):
    """The issue's reproduction, on an upload: rows x = 2 and 3, both labelled 1, start
    (w, b) = (−10, 0), so the logits are −20 and −30. Keras's clipped sigmoid form gives
    them zero gradient and leaves (−10, 0); the page, and the script's logit loss, move."""
    x, y = np.array([2.0, 3.0]), np.array([1.0, 1.0])
    (tmp_path / CSV_FILE).write_text("x,y\n2,1\n3,1\n")
    settings = Settings(
        source="csv",
        model="logistic",
        n=2,
        learning_rate=0.5,
        batch_size=2,
        epochs=1,
        shuffle=False,
        w0=-10.0,
        b0=0.0,
    )
    run = app_run(settings, x, y)
    np.testing.assert_allclose(run.params[-1], [-8.75, 0.5], rtol=1e-6)  # w += 0.5·2.5, b += 0.5
    assert_same_history(run_script(pytorch_code(settings), tmp_path), run)


# --- Every CSV file the page accepts ----------------------------------------------------------

DATA = Path(__file__).parent / "data"


def accepted(path: Path) -> bool:
    try:
        from_csv(path)
    except DataError:
        return False
    return True


# Every corpus file from_csv takes (tests/data/README.md marks them valid), and the sample
# file the page offers (50 rows, a header) with a validation split: name -> bytes, changes.
UPLOADS = {
    **{path.name: (path.read_bytes(), {}) for path in sorted(DATA.glob("*.csv")) if accepted(path)},
    "sample_csv() with a split": (
        gd.datasets.sample_csv(),
        {"batch_size": 8, "epochs": 5, "validation_split": 0.2},
    ),
}


def csv_settings(data: gd.Dataset, **changes) -> Settings:
    """Settings of an upload: every update counts (momentum with a decaying rate, the two
    conventions' parting point, a last batch smaller than the others), at a rate below
    1/(1 + max x²), where no batch of these rows can blow up."""
    rate = 0.1 / (1.0 + float(np.max(data.x**2)))
    return Settings(
        **{
            "source": "csv",
            "n": data.n,
            "batch_size": max(1, data.n - 1),
            "epochs": 4,
            "shuffle": True,
            "seed": 7,
            "learning_rate": rate,
            "momentum": 0.9,
            "decay": 0.05,
            "convention": "keras",
            "w0": 0.5,
            "b0": -0.5,
            **changes,
        }
    )


@pytest.mark.parametrize(("content", "changes"), UPLOADS.values(), ids=UPLOADS.keys())
def test_the_pytorch_script_reproduces_every_accepted_csv(content, changes, tmp_path):
    """No header, blank `,` rows, a Latin-1 header, CR line ends, ...: the page reads the
    upload with from_csv and trains; the script reads the same bytes from data.csv."""
    (tmp_path / CSV_FILE).write_bytes(content)
    data = from_csv(io.BytesIO(content))
    settings = csv_settings(data, **changes)
    run = app_run(settings, data.x, data.y)
    assert_same_history(run_script(pytorch_code(settings), tmp_path), run)
