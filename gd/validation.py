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

import datetime
import math
from collections.abc import Callable

import numpy as np

from gd.rules import validation_split_at

# |value| above this is refused, in data passed to gd and in an uploaded CSV alike: 100 000
# squares of 1e150 (the CSV reader's row limit) sum to 1e305, just under float64's largest
# number (1.8e308), so the mean squared error of any accepted data set stays finite.
MAX_ABS = 1e150
MAX_ABS_TEXT = f"{MAX_ABS:.0e}".replace("e+", "e")  # "1e150", as messages write it
REAL_NUMBERS = "an array of real numbers (int or float)"
# What a learner passed instead of real numbers, by NumPy's dtype kind (``dtype.kind``).
_NOT_REAL = {
    "b": "booleans",
    "c": "complex numbers",
    "M": "dates (datetime64)",
    "m": "time spans (timedelta64)",
    "U": "strings",
    "S": "byte strings",
    "V": "records",
}


def shown(value: object) -> str:
    """``repr`` for messages, with NumPy scalars shown as the Python numbers they hold."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _fail(name: str, requirement: str, value: object) -> ValueError:
    return ValueError(f"The '{name}' parameter must be {requirement}. Got {shown(value)} instead.")


def check_reals(name: str, values: object) -> np.ndarray:
    """``values`` as a float64 array of any shape, or a TypeError naming what they hold instead
    of real numbers: None, strings (numeric ones too: ``"1"`` is text, not a number), booleans,
    complex numbers (whose imaginary part NumPy would drop with only a warning), dates.

    Example:
        >>> check_reals("x", [1, 2.5])
        array([1. , 2.5])
        >>> check_reals("x", ["1", "2"])
        Traceback (most recent call last):
        ...
        TypeError: The 'x' parameter must be an array of real ... Got strings such as '1' instead.
    """
    if values is None:
        raise TypeError(f"The '{name}' parameter must be {REAL_NUMBERS}. Got None instead.")
    try:
        array = np.asarray(values)
    except ValueError:  # a ragged nested sequence
        raise ValueError(
            f"The '{name}' parameter must be {REAL_NUMBERS} with rows of one length. "
            "Got a nested sequence of ragged rows instead."
        ) from None
    if array.dtype.kind in "iuf":
        return np.asarray(array, dtype=np.float64)
    flat = array.ravel()
    if array.dtype.kind == "O":
        odd = [value for value in flat.tolist() if not _is_real(value)]
        if not odd:
            try:
                return np.asarray(array, dtype=np.float64)
            except OverflowError:  # a Python int beyond float64's range
                big = next(v for v in flat.tolist() if abs(v) > MAX_ABS)
                raise _magnitude(name, f"an integer of {len(str(abs(big)))} digits") from None
        example = odd[0]
        what = "None" if example is None else f"{_noun(example)} such as {shown(example)}"
    else:
        if array.dtype.kind == "c" and np.any(flat.imag != 0):
            flat = flat[flat.imag != 0]  # show a value with an imaginary part
        what = _NOT_REAL.get(array.dtype.kind, f"values of dtype {array.dtype}")
        if flat.size:
            example = flat[0]
            what += f" such as {repr(str(example)) if array.dtype.kind in 'Mm' else shown(example)}"
    raise TypeError(f"The '{name}' parameter must be {REAL_NUMBERS}. Got {what} instead.")


def _is_real(value: object) -> bool:
    """A real number for ``check_reals``: an int or a float, NumPy's too, never a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _noun(value: object) -> str:
    """What ``value`` is, in the plural, for a message: "strings", "booleans", ..."""
    if isinstance(value, bool | np.bool_):
        return "booleans"
    if isinstance(value, complex | np.complexfloating):
        return "complex numbers"
    if isinstance(value, str | bytes):
        return "strings"
    if isinstance(value, datetime.date | np.datetime64):
        return "dates"
    if isinstance(value, datetime.timedelta | np.timedelta64):
        return "time spans"
    return f"{type(value).__name__} objects"


def _magnitude(name: str, got: str) -> ValueError:
    """The message for a value beyond ``MAX_ABS``; ``got`` shows the value."""
    return ValueError(
        f"The '{name}' parameter must be in [-{MAX_ABS_TEXT}, {MAX_ABS_TEXT}] (larger values "
        f"overflow float64 when squared; rescale it). Got {got} instead."
    )


def check_magnitude(name: str, values: np.ndarray) -> None:
    """Every value of a finite float array within ``MAX_ABS``, or a ValueError showing one."""
    big = np.abs(values) > MAX_ABS
    if big.any():
        raise _magnitude(name, shown(values[big][0]))


def check_labels(name: str, values: np.ndarray, labels: tuple[float, ...], whose: str) -> None:
    """Every value one of ``labels`` (e.g. 0 and 1 for logistic regression), or a ValueError
    showing the first few that are not.

    Example:
        >>> check_labels("y", np.array([0.0, 2.0, 1.0]), (0.0, 1.0), "logistic regression")
        Traceback (most recent call last):
        ...
        ValueError: The 'y' parameter must be 0 or 1 in every row ... Got 2.0 instead.
    """
    known = np.isin(values, labels)
    if known.all():
        return
    odd = np.unique(values[~known])  # sorted
    shown_odd = ", ".join(shown(value) for value in odd[:3]) + (", …" if odd.size > 3 else "")
    words = " or ".join(f"{label:g}" for label in labels)
    raise ValueError(
        f"The '{name}' parameter must be {words} in every row (the labels of {whose}). "
        f"Got {shown_odd} instead."
    )


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
    """x as (n, k) and y as (n,), real, finite and within ``MAX_ABS``, float64, C-contiguous."""
    x = check_reals("x", x)
    y = check_reals("y", y)
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
        check_magnitude(name, values)
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
    init = check_reals("init", init)
    if init.shape != (len(names),):
        raise ValueError(
            f"init must have shape ({len(names)},) for {model_name} with {n_features} "
            f"feature(s), one value per parameter {names}. Got shape {init.shape} instead."
        )
    if not np.all(np.isfinite(init)):
        raise ValueError("init contains NaN or inf; start from finite parameters.")
    return init.copy()


def check_vector(name: str, values: object, n_params: int) -> np.ndarray:
    """Real float64 values of shape (P,), one per parameter.

    Example:
        >>> check_vector("start", [1.0, 2.0, 3.0], 2)
        Traceback (most recent call last):
        ...
        ValueError: The 'start' parameter must have shape (2,), ... Got shape (3,) instead.
    """
    values = check_reals(name, values)
    if values.shape != (n_params,):
        raise ValueError(
            f"The '{name}' parameter must have shape ({n_params},), one value per parameter. "
            f"Got shape {values.shape} instead."
        )
    return values


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
