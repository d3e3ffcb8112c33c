"""Every invalid argument gets a scikit-learn-style message at the public boundary."""

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
    with pytest.raises(ValueError) as error:
        gd.fit(gd.models.LinearRegression(), X, Y, gd.SGD(), **kwargs)
    assert str(error.value) == message


def test_validation_split_that_leaves_no_training_rows():
    with pytest.raises(ValueError) as error:
        gd.fit(gd.models.LinearRegression(), X[:1], Y[:1], gd.SGD(), validation_split=0.5)
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
    run = gd.fit(gd.models.LinearRegression(), x, y, gd.SGD(0.1), batch_size=8, epochs=40)
    np.testing.assert_allclose(run.params[-1], [1.0, -2.0, 0.5, 0.3], atol=1e-3)
