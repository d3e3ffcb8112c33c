"""Every invalid argument gets a scikit-learn-style message at the public boundary."""

import dataclasses
import io
import re
import warnings

import numpy as np
import pytest

import gd

X = np.linspace(0, 1, 10)
Y = 2 * X


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"learning_rate": -0.1},
            "The 'learning_rate' parameter must be a finite number >= 0. Got -0.1 instead.",
        ),
        (
            {"learning_rate": float("nan")},
            "The 'learning_rate' parameter must be a finite number >= 0. Got nan instead.",
        ),
        ({"momentum": 1.2}, "The 'momentum' parameter must be in [0, 1]. Got 1.2 instead."),
        ({"momentum": -0.1}, "The 'momentum' parameter must be in [0, 1]. Got -0.1 instead."),
        ({"decay": -1.0}, "The 'decay' parameter must be a finite number >= 0. Got -1.0 instead."),
        (
            {"nesterov": True},
            "nesterov=True needs momentum > 0 (got momentum=0.0); raise momentum or turn nesterov off.",
        ),
        (
            {"nesterov": "yes", "momentum": 0.5},
            "The 'nesterov' parameter must be a bool. Got 'yes' instead.",
        ),
        (
            {"convention": "tf1"},
            "The 'convention' parameter must be one of 'keras', 'pytorch'. Got 'tf1' instead.",
        ),
    ],
)
def test_sgd_messages(kwargs, message):
    with pytest.raises(ValueError) as error:
        gd.SGD(**kwargs)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "The 'batch_size' parameter must be an integer >= 1. Got 0 instead."),
        (
            {"batch_size": 2.5},
            "The 'batch_size' parameter must be an integer >= 1. Got 2.5 instead.",
        ),
        ({"epochs": 0}, "The 'epochs' parameter must be an integer >= 1. Got 0 instead."),
        ({"seed": -1}, "The 'seed' parameter must be an integer >= 0. Got -1 instead."),
        ({"shuffle": "no"}, "The 'shuffle' parameter must be a bool. Got 'no' instead."),
        (
            {"validation_split": 1.0},
            "The 'validation_split' parameter must be in [0, 1). Got 1.0 instead.",
        ),
        (
            {"validation_split": -0.2},
            "The 'validation_split' parameter must be in [0, 1). Got -0.2 instead.",
        ),
        (
            {"validation_split": 1e-17},
            "validation_split=1e-17 holds out none of the 10 rows; raise validation_split or set it to 0.",
        ),
        (
            {"init": np.zeros(3)},
            "init must have shape (2,) for linear regression with 1 feature(s), one value per parameter ('w', 'b'). Got shape (3,) instead.",
        ),
        (
            {"init": np.array([np.nan, 0.0])},
            "init contains NaN or inf; start from finite parameters.",
        ),
        (
            {"engine": "cuda"},
            "The 'engine' parameter must be one of 'auto', 'numba', 'numpy'. Got 'cuda' instead.",
        ),
    ],
)
def test_fit_messages(kwargs, message):
    fields = {field.name for field in dataclasses.fields(gd.Training)}
    training = {name: value for name, value in kwargs.items() if name in fields}
    rest = {name: value for name, value in kwargs.items() if name not in fields}
    with pytest.raises(ValueError) as error:
        gd.fit(gd.models.LinearRegression(), X, Y, gd.SGD(), gd.Training(**training), **rest)
    assert str(error.value) == message


def test_training_must_be_a_training_record():
    with pytest.raises(ValueError) as error:
        gd.fit(gd.models.LinearRegression(), X, Y, gd.SGD(), {"epochs": 2})
    assert str(error.value) == (
        "The 'training' parameter must be a gd.Training. Got {'epochs': 2} instead."
    )


def test_training_is_a_hashable_record_that_keeps_the_start_exactly():
    start = np.array([0.1, 1 / 3])
    training = gd.Training(epochs=2, init=start)
    assert training == gd.Training(epochs=2, init=[0.1, 1 / 3])
    assert hash(training) == hash(gd.Training(epochs=2, init=tuple(start)))
    run = gd.fit(gd.models.LinearRegression(), X, Y, gd.SGD(0.0), training)
    np.testing.assert_array_equal(run.params[-1], start)  # a rate of 0 never moves: bit for bit


def test_validation_split_that_leaves_no_training_rows():
    with pytest.raises(ValueError) as error:
        gd.fit(
            gd.models.LinearRegression(), X[:1], Y[:1], gd.SGD(), gd.Training(validation_split=0.5)
        )
    assert str(error.value) == (
        "validation_split=0.5 leaves none of the 1 rows for training; "
        "lower validation_split or add samples."
    )


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (
            np.zeros((3, 1, 1)),
            np.zeros(3),
            "x must have shape (n,) or (n, k). Got shape (3, 1, 1) instead.",
        ),
        (np.zeros(3), np.zeros((3, 2)), "y must have shape (n,). Got shape (3, 2) instead."),
        (
            np.zeros(3),
            np.zeros(4),
            "x and y must have the same number of rows. Got 3 and 4 instead.",
        ),
        (
            np.array([0.0, np.inf]),
            np.zeros(2),
            "x contains NaN or inf; remove or fill those values.",
        ),
        (
            np.zeros(2),
            np.array([np.nan, 0.0]),
            "y contains NaN or inf; remove or fill those values.",
        ),
        (np.zeros(0), np.zeros(0), "x and y are empty; pass at least one row."),
    ],
)
def test_shape_messages(x, y, message):
    with pytest.raises(ValueError) as error:
        gd.fit(gd.models.LinearRegression(), x, y, gd.SGD())
    assert str(error.value) == message


def test_multi_feature_linear_regression_fits():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3
    run = gd.fit(
        gd.models.LinearRegression(), x, y, gd.SGD(0.1), gd.Training(epochs=40), batch_size=8
    )
    np.testing.assert_allclose(run.params[-1], [1.0, -2.0, 0.5, 0.3], atol=1e-3)


# --- Inputs that can only be mistakes (issue 17, "gd says no clearly") -----------------------

REAL = "The '{}' parameter must be an array of real numbers (int or float). Got {} instead."
LIMIT = (
    "The '{}' parameter must be in [-1e150, 1e150] (larger values overflow float64 when "
    "squared; rescale it). Got {} instead."
)
LABELS = (
    "The 'y' parameter must be 0 or 1 in every row (the labels of logistic regression). "
    "Got {} instead."
)
LINEAR, LOGISTIC = gd.models.LinearRegression(), gd.models.LogisticRegression()


@pytest.mark.parametrize(
    ("x", "y", "error", "message"),
    [
        (
            np.array([1 + 2j, 3 + 0j]),
            np.zeros(2),
            TypeError,
            REAL.format("x", "complex numbers such as (1+2j)"),
        ),
        (
            np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"),
            np.zeros(2),
            TypeError,
            REAL.format("x", "dates (datetime64) such as '2024-01-01'"),
        ),
        (
            np.array([1, 2], dtype="timedelta64[s]"),
            np.zeros(2),
            TypeError,
            REAL.format("x", "time spans (timedelta64) such as '1 seconds'"),
        ),
        (
            np.array([True, False]),
            np.zeros(2),
            TypeError,
            REAL.format("x", "booleans such as True"),
        ),
        (np.zeros(2), [True, False], TypeError, REAL.format("y", "booleans such as True")),
        (["1", "2.5"], np.zeros(2), TypeError, REAL.format("x", "strings such as '1'")),
        (np.zeros(2), ["a", "b"], TypeError, REAL.format("y", "strings such as 'a'")),
        ([1.0, "a"], np.zeros(2), TypeError, REAL.format("x", "strings such as '1.0'")),
        ([1.0, None], np.zeros(2), TypeError, REAL.format("x", "None")),
        (None, np.zeros(2), TypeError, REAL.format("x", "None")),
        (np.zeros(2), None, TypeError, REAL.format("y", "None")),
        (
            [[1.0, 2.0], [3.0]],
            np.zeros(2),
            ValueError,
            "The 'x' parameter must be an array of real numbers (int or float) with rows of "
            "one length. Got a nested sequence of ragged rows instead.",
        ),
        (np.array([1e200, 1.0]), np.zeros(2), ValueError, LIMIT.format("x", "1e+200")),
        (np.zeros(2), np.array([0.0, -2e150]), ValueError, LIMIT.format("y", "-2e+150")),
        ([10**400, 1], np.zeros(2), ValueError, LIMIT.format("x", "an integer of 401 digits")),
    ],
)
def test_data_that_is_not_real_numbers_or_too_large_is_refused(x, y, error, message):
    with pytest.raises(error) as raised:
        gd.fit(LINEAR, x, y, gd.SGD())
    assert str(raised.value) == message


def test_no_numpy_warning_or_message_leaks_through():
    """NumPy would drop an imaginary part with a ComplexWarning, or say "could not convert
    string to float: 'a'"; gd speaks first, and warns about nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in (np.array([1 + 1j, 2 + 0j]), ["a", "b"], ["1", "2"]):
            with pytest.raises(TypeError, match=r"^The 'x' parameter must be an array of real"):
                gd.fit(LINEAR, x, np.zeros(2), gd.SGD())


ABOVE = float(np.nextafter(1e150, np.inf))


@pytest.mark.parametrize(
    ("x", "look_alike", "got"),
    [
        ([0, 1, 2], ["0", "1", "2"], "strings such as '0'"),  # Python ints; numeric text
        (
            np.array([0, 1, 1], dtype=np.uint8),
            np.array([False, True, True]),
            "booleans such as False",
        ),
        (
            np.array([0.0, 1.0, 2.0], dtype=np.float32),
            np.array([0.0, 1.0, 2.0], dtype=np.complex64),  # no imaginary part, still complex
            "complex numbers such as 0j",
        ),
        (np.array([0, 1.0, np.float64(2.0)], dtype=object), np.array([0, 1.0, None]), "None"),
        ([-1e150, 0.0, 1e150], [-1e150, 0.0, ABOVE], repr(ABOVE)),  # the CSV reader's limit
    ],
)
def test_real_numbers_of_any_dtype_are_taken_as_float64_and_look_alikes_are_not(x, look_alike, got):
    y = np.array([0.0, 1.0, 0.0])
    run = gd.fit(LINEAR, x, y, gd.SGD(0.0), batch_size=3)
    reference = gd.fit(LINEAR, np.asarray(x, dtype=np.float64), y, gd.SGD(0.0), batch_size=3)
    np.testing.assert_array_equal(run.batch_loss, reference.batch_loss)
    with pytest.raises((TypeError, ValueError)) as raised:
        gd.fit(LINEAR, look_alike, y, gd.SGD(0.0), batch_size=3)
    assert str(raised.value) in (REAL.format("x", got), LIMIT.format("x", got))


def test_the_magnitude_limit_has_one_home():
    """gd.fit and the CSV reader refuse the same values: MAX_ABS, in gd.validation."""
    assert gd.datasets.MAX_ABS is gd.validation.MAX_ABS == 1e150
    above = float(np.nextafter(gd.validation.MAX_ABS, np.inf))
    with pytest.raises(gd.DataError, match="larger in magnitude than 1e150"):
        gd.datasets.from_csv(io.BytesIO(f"0,0\n1,{above!r}\n".encode()))
    with pytest.raises(ValueError, match=re.escape(LIMIT.format("y", repr(above)))):
        gd.fit(LINEAR, [0.0, 1.0], [0.0, above], gd.SGD())
    data = gd.datasets.from_csv(io.BytesIO(b"0,0\n1,1e150\n"))
    gd.fit(LINEAR, data.x, data.y, gd.SGD(0.0))  # what the reader accepts, fit accepts


@pytest.mark.parametrize(
    ("y", "shown"),
    [
        ([0.0, 2.0, 0.0, 2.0], "2.0"),
        ([-1.0, 1.0, 1.0, -1.0], "-1.0"),
        ([0.5, 1.0, 0.0, 0.0], "0.5"),
        ([0.1, 0.2, 0.3, 0.4], "0.1, 0.2, 0.3, …"),
    ],
)
def test_logistic_labels_outside_zero_and_one_are_refused(y, shown):
    with pytest.raises(ValueError) as raised:
        gd.fit(LOGISTIC, np.arange(4.0), y, gd.SGD())
    assert str(raised.value) == LABELS.format(shown)


def test_labels_are_checked_at_every_entry_that_trains():
    x, y = np.arange(4.0), np.array([0.0, 2.0, 0.0, 2.0])
    message = re.escape(LABELS.format("2.0"))
    with pytest.raises(ValueError, match=message):
        gd.family(LOGISTIC, x, y, gd.SGD(), knob="learning_rate", values=[0.1, 0.2])
    with pytest.raises(ValueError, match=message):
        gd.fit_async(LOGISTIC, x, y, gd.SGD(), gd.Training(epochs=1), workers=2, staleness=1)
    with pytest.raises(ValueError, match=message):
        gd.critical_batch(
            LOGISTIC,
            x,
            y,
            gd.SGD(),
            gd.Training(epochs=100),
            batch_sizes=[1, 2],
            learning_rates=[0.1],
            target_loss=0.1,
        )
    for model in (LINEAR, gd.models.TanhNeuron()):  # any real target
        gd.fit(model, x, y, gd.SGD(0.01))


def test_sweep_checks_the_labels():
    with pytest.raises(ValueError, match=re.escape(LABELS.format("2.0"))):
        gd.sweep(
            LOGISTIC,
            np.arange(4.0),
            [0.0, 2.0, 0.0, 2.0],
            gd.SGD(0.1),
            gd.Training(epochs=1),
            batch_sizes=[2],
        )


def test_noise_scale_checks_the_labels():
    with pytest.raises(ValueError, match=re.escape(LABELS.format("2.0"))):
        gd.noise_scale(LOGISTIC, np.arange(4.0), [0.0, 2.0, 0.0, 2.0], np.zeros(2))


ENTRIES = {
    "family": lambda x, y: gd.family(LINEAR, x, y, gd.SGD(), knob="momentum", values=[0.0, 0.5]),
    "fit_async": lambda x, y: gd.fit_async(
        LINEAR, x, y, gd.SGD(), gd.Training(epochs=1), workers=1, staleness=0
    ),
    "sweep": lambda x, y: gd.sweep(
        LINEAR, x, y, gd.SGD(0.1), gd.Training(epochs=1), batch_sizes=[1]
    ),
    "critical_batch": lambda x, y: gd.critical_batch(
        LINEAR,
        x,
        y,
        gd.SGD(),
        gd.Training(epochs=100),
        batch_sizes=[1],
        learning_rates=[0.1],
        target_loss=0.1,
    ),
    "noise_scale": lambda x, y: gd.noise_scale(LINEAR, x, y, np.zeros(2)),
    "lambda_max": gd.lambda_max,
    "stability_bound": gd.stability_bound,
}


@pytest.mark.parametrize("call", ENTRIES.values(), ids=ENTRIES.keys())
def test_every_entry_refuses_what_fit_refuses(call):
    with pytest.raises(
        TypeError, match=re.escape(REAL.format("x", "complex numbers such as (1+2j)"))
    ):
        call(np.array([1 + 2j, 0j]), np.zeros(2))
    with pytest.raises(TypeError, match=re.escape(REAL.format("y", "strings such as '1'"))):
        call(np.zeros(2), ["1", "2"])
    with pytest.raises(ValueError, match=re.escape(LIMIT.format("x", "1e+200"))):
        call(np.array([1e200, 0.0]), np.zeros(2))


def test_a_dataset_holds_real_numbers():
    with pytest.raises(TypeError) as raised:
        gd.Dataset(x=np.array([1 + 2j, 0j]), y=[0.0, 1.0], name="mine")
    assert str(raised.value) == REAL.format("x", "complex numbers such as (1+2j)")
    with pytest.raises(TypeError) as raised:
        gd.Dataset(x=[0.0, 1.0], y=["0", "1"], name="mine")
    assert str(raised.value) == REAL.format("y", "strings such as '0'")


def test_init_must_be_real_numbers_too():
    with pytest.raises(TypeError) as raised:
        gd.fit(LINEAR, X, Y, gd.SGD(), gd.Training(init=np.array([1j, 0])))
    assert str(raised.value) == REAL.format("init", "complex numbers such as 1j")
