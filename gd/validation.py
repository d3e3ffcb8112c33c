"""Validation at the public boundary, every message in scikit-learn's form.

``The 'momentum' parameter must be in [0, 1]. Got 1.2 instead.`` Values are shown as the
learner typed them: NumPy scalars as plain numbers (``Got 0``, never ``Got np.int64(0)``).
Each public ``gd`` function checks its arguments here once; nothing inside the loops checks
again.

Example:
    >>> check_int("epochs", 0)
    Traceback (most recent call last):
    ...
    ValueError: The 'epochs' parameter must be an integer >= 1. Got 0 instead.
    >>> check_number("momentum", 1.2, 0.0, 1.0, "in [0, 1]")
    Traceback (most recent call last):
    ...
    ValueError: The 'momentum' parameter must be in [0, 1]. Got 1.2 instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from gd.rules import validation_split_at


def shown(value: object) -> str:
    """``repr`` for messages, with NumPy scalars shown as the Python numbers they hold."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _fail(name: str, requirement: str, value: object) -> ValueError:
    return ValueError(f"The '{name}' parameter must be {requirement}. Got {shown(value)} instead.")


def check_int(name: str, value: object, low: int = 1) -> int:
    """An integer (not a bool, not a float such as 2.5) that is at least ``low``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise _fail(name, f"an integer >= {low}", value)
    if value < low:
        raise _fail(name, f"an integer >= {low}", value)
    return int(value)


def check_number(name: str, value: object, low: float, high: float, interval: str) -> float:
    """A finite real number in ``[low, high]``; ``interval`` words the range for the message."""
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise _fail(name, interval, value)
    return float(value)


def check_rate(name: str, value: object) -> float:
    """A learning rate or a decay: a finite number >= 0."""
    return check_number(name, value, 0.0, math.inf, "a finite number >= 0")


def check_momentum(name: str, value: object) -> float:
    """A momentum μ in [0, 1]."""
    return check_number(name, value, 0.0, 1.0, "in [0, 1]")


def check_seed(name: str, value: object) -> int:
    """A seed: an integer >= 0."""
    return check_int(name, value, low=0)


def check_bool(name: str, value: object) -> bool:
    """A bool (NumPy's too)."""
    if not isinstance(value, bool | np.bool_):
        raise _fail(name, "a bool", value)
    return bool(value)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise _fail(name, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def check_grid(
    name: str, values: object, check: Callable[[str, object], object], dtype: type
) -> np.ndarray:
    """A non-empty 1-D sequence, each value checked as the single setting would be."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise _fail(name, "a non-empty 1-D sequence", values)
    return np.array([check(name, value) for value in array.tolist()], dtype=dtype)


def check_data(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """x as (n, k) and y as (n,), finite float64, C-contiguous."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n,) or (n, k). Got shape {x.shape} instead.")
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,). Got shape {y.shape} instead.")
    if x.shape[0] != y.size:
        raise ValueError(
            f"x and y must have the same number of rows. Got {x.shape[0]} and {y.size} instead."
        )
    if y.size == 0:
        raise ValueError("x and y are empty; pass at least one row.")
    for name, values in (("x", x), ("y", y)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or inf; remove or fill those values.")
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def check_split(n: int, validation_split: object) -> int:
    """A ``validation_split`` in [0, 1) that leaves rows on both sides; returns n_train."""
    validation_split = check_number(
        "validation_split", validation_split, 0.0, math.nextafter(1.0, 0.0), "in [0, 1)"
    )
    n_train = validation_split_at(n, validation_split)
    if n_train == 0:
        raise ValueError(
            f"validation_split={validation_split} leaves none of the {n} rows for training; "
            "lower validation_split or add samples."
        )
    if validation_split > 0 and n_train == n:
        raise ValueError(
            f"validation_split={validation_split} holds out none of the {n} rows; "
            "raise validation_split or set it to 0."
        )
    return n_train


def check_init(
    init: object, names: tuple[str, ...], model_name: str, n_features: int
) -> np.ndarray:
    """A finite start point with one value per parameter ``names``; returns a copy."""
    init = np.asarray(init, dtype=np.float64)
    if init.shape != (len(names),):
        raise ValueError(
            f"init must have shape ({len(names)},) for {model_name} with {n_features} "
            f"feature(s), one value per parameter {names}. Got shape {init.shape} instead."
        )
    if not np.all(np.isfinite(init)):
        raise ValueError("init contains NaN or inf; start from finite parameters.")
    return init.copy()


def check_real(
    name: str, value: object, *, low: float | None = None, strict: bool = False
) -> float:
    """A finite real number, at least ``low`` (above it when ``strict``) when ``low`` is given."""
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, int | float | np.integer | np.floating)
        or not math.isfinite(value)
    ):
        raise _fail(name, "a finite number", value)
    if low is not None and (value <= low if strict else value < low):
        raise _fail(name, f"{'>' if strict else '>='} {low:g}", value)
    return float(value)


def check_sizes(name: str, values: object, n: int) -> np.ndarray:
    """A non-empty 1-D list of integers in [1, n] (batch sizes of n rows), as int64."""
    sizes = np.asarray(values)
    if (
        sizes.ndim != 1
        or sizes.size == 0
        or sizes.dtype.kind not in "iu"
        or sizes.min() < 1
        or sizes.max() > n
    ):
        raise _fail(name, f"a list of integers in [1, {n}]", list(np.atleast_1d(sizes).tolist()))
    return sizes.astype(np.int64)
