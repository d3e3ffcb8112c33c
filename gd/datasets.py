"""Datasets for the lessons: seeded synthetic data, and a user's CSV read with clear errors.

Every dataset is one feature ``x`` and one target ``y``, both float64 of shape (n,). The
generators draw from exactly one ``np.random.default_rng(seed)`` per call, so the same arguments
give bit-identical arrays. ``from_csv`` accepts what spreadsheets actually save and rejects
everything else with a :class:`DataError` that says what is wrong and how to fix it.

Example:
    >>> import io
    >>> linear(n=100, seed=0)
    Dataset(name='linear (n=100, seed 0)', n=100)
    >>> from_csv(io.BytesIO(b"x,y\\n0,1\\n2,5\\n")).y
    array([1., 5.])
"""

from __future__ import annotations

import io
import math
import os
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from gd.validation import MAX_ABS, MAX_ABS_TEXT, check_choice, check_int, check_real, check_reals

# ASCII control bytes that never occur in a text CSV (tab, LF, VT, FF and CR are allowed).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
# A text file has almost none; random bytes have about 11 % (28 of 256 byte values).
_MAX_CONTROL_FRACTION = 0.05
_SNIFF_BYTES = 8192

# A row made only of these characters is blank (spreadsheets save empty rows as ",").
_BLANK = string.whitespace + ","
# The generated Keras and PyTorch scripts read an accepted file by these same rules (the
# encodings, blank rows, the header): ui.codegen.CSV_READER, kept equal by tests/test_codegen.py.


class DataError(ValueError):
    """Raised when an uploaded file cannot be used; the message says what to fix.

    Example:
        >>> from_csv(io.BytesIO(b""))
        Traceback (most recent call last):
        ...
        gd.datasets.DataError: The file is empty. ...
    """


@dataclass(frozen=True, eq=False)
class Dataset:
    """One feature and one target: ``x`` and ``y``, read-only float64 arrays of shape (n,).

    The arrays are copied on construction and made read-only, so a cached ``Dataset`` can be
    shared by every page without one of them changing it under the others.

    Args:
        x: the feature, shape (n,).
        y: the target, shape (n,).
        name: what the page shows, e.g. ``"linear (n=200, seed 0)"``.

    Example:
        >>> data = Dataset(x=[0, 1, 2], y=[1, 3, 5], name="three points")
        >>> data
        Dataset(name='three points', n=3)
        >>> data.x
        array([0., 1., 2.])
        >>> data.x.flags.writeable
        False
    """

    x: np.ndarray  # (n,) float64, read-only
    y: np.ndarray  # (n,) float64, read-only
    name: str

    def __post_init__(self) -> None:
        x = check_reals("x", self.x).copy()  # a copy: the caller's array stays theirs
        y = check_reals("y", self.y).copy()
        if x.ndim != 1 or x.shape != y.shape:
            raise ValueError(
                "x and y must be 1-D arrays of the same length. "
                f"Got shapes {x.shape} and {y.shape} instead."
            )
        x.flags.writeable = False
        y.flags.writeable = False
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    @property
    def n(self) -> int:
        """The number of samples (rows)."""
        return len(self.x)

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, n={self.n})"


def linear(
    n: int = 200,
    slope: float = 2.0,
    intercept: float = -1.0,
    noise: float = 0.5,
    x_mean: float = 0.0,
    x_std: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """Noisy points around a line: ``y = slope·x + intercept + noise·ε``.

    ``x ~ Normal(x_mean, x_std)`` and ``ε ~ Normal(0, 1)``. ``x_mean`` and ``x_std`` set how
    ill-conditioned the (w, b) valley of the MSE loss is. Its Hessian is
    ``2·[[mean(x²), mean(x)], [mean(x), 1]] ≈ 2·[[x_mean² + x_std², x_mean], [x_mean, 1]]``.
    The defaults (0, 1) give a round bowl with condition number 1. A large ``|x_mean|`` relative
    to ``x_std`` makes a long, narrow valley tilted along ``b + x_mean·w = const``, and plain SGD
    zig-zags across it: ``x_mean=5, x_std=1`` gives a condition number of about 730.

    Args:
        n: number of samples, >= 2.
        slope: the true weight w.
        intercept: the true bias b.
        noise: standard deviation of the Gaussian noise on y, >= 0.
        x_mean: mean of x.
        x_std: standard deviation of x, > 0.
        seed: seed of the one ``np.random.default_rng`` used, >= 0.

    Returns:
        A Dataset named like ``"linear (n=200, seed 0)"``.

    Example:
        >>> data = linear(n=200, slope=3.0, intercept=1.0, noise=0.0, seed=0)
        >>> data
        Dataset(name='linear (n=200, seed 0)', n=200)
        >>> bool(np.array_equal(data.y, 3.0 * data.x + 1.0))
        True
    """
    slope = check_real("slope", slope)
    intercept = check_real("intercept", intercept)
    x, noise_draw = _draw(n, noise, x_mean, x_std, seed)
    y = slope * x + intercept + noise_draw  # (n,)
    return Dataset(x, y, name=f"linear (n={n}, seed {seed})")


def logistic(
    n: int = 200,
    slope: float = 2.0,
    intercept: float = -1.0,
    noise: float = 0.5,
    x_mean: float = 0.0,
    x_std: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """Binary labels from a noisy threshold: ``y = 1 if slope·x + intercept + noise·ε > 0``.

    ``x ~ Normal(x_mean, x_std)`` and ``ε ~ Normal(0, 1)``; ``noise`` blurs the boundary at
    ``x = -intercept / slope`` (label noise through the latent score), and ``noise=0`` makes the
    classes perfectly separable. Both classes appear as long as that boundary lies within a few
    ``x_std`` of ``x_mean``: the defaults put about 30 % of the points in class 1.

    Args:
        n: number of samples, >= 2.
        slope: weight of the latent score.
        intercept: bias of the latent score.
        noise: standard deviation of the Gaussian noise on the latent score, >= 0.
        x_mean: mean of x.
        x_std: standard deviation of x, > 0.
        seed: seed of the one ``np.random.default_rng`` used, >= 0.

    Returns:
        A Dataset whose ``y`` holds only 0.0 and 1.0, named like ``"logistic (n=200, seed 0)"``.

    Example:
        >>> data = logistic(n=200, seed=0)
        >>> np.unique(data.y)
        array([0., 1.])
        >>> bool(np.array_equal(logistic(noise=0.0).y, logistic(noise=0.0).x > 0.5))
        True
    """
    slope = check_real("slope", slope)
    intercept = check_real("intercept", intercept)
    x, noise_draw = _draw(n, noise, x_mean, x_std, seed)
    y = (slope * x + intercept + noise_draw > 0).astype(np.float64)  # (n,) of 0.0 / 1.0
    return Dataset(x, y, name=f"logistic (n={n}, seed {seed})")


def tanh(
    n: int = 200,
    w: float = 1.5,
    a: float = 2.0,
    noise: float = 0.2,
    x_mean: float = 0.0,
    x_std: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """Data for the tiny non-convex model ``y = a·tanh(w·x)``: ``y = a·tanh(w·x) + noise·ε``.

    ``x ~ Normal(x_mean, x_std)`` and ``ε ~ Normal(0, 1)``. Fitting (w, a) to it is non-convex:
    (w, a) and (-w, -a) fit equally well, and the loss is flat where ``w·x`` saturates tanh.

    Args:
        n: number of samples, >= 2.
        w: the true inner weight.
        a: the true amplitude.
        noise: standard deviation of the Gaussian noise on y, >= 0.
        x_mean: mean of x.
        x_std: standard deviation of x, > 0.
        seed: seed of the one ``np.random.default_rng`` used, >= 0.

    Returns:
        A Dataset named like ``"tanh (n=200, seed 0)"``.

    Example:
        >>> data = tanh(n=50, w=1.5, a=2.0, noise=0.0, seed=0)
        >>> bool(np.array_equal(data.y, 2.0 * np.tanh(1.5 * data.x)))
        True
    """
    w = check_real("w", w)
    a = check_real("a", a)
    x, noise_draw = _draw(n, noise, x_mean, x_std, seed)
    y = a * np.tanh(w * x) + noise_draw  # (n,)
    return Dataset(x, y, name=f"tanh (n={n}, seed {seed})")


CURVES = ("sine", "step", "bump")  # the shapes ``curve`` draws


def curve(
    n: int = 200,
    kind: str = "sine",
    noise: float = 0.1,
    x_mean: float = 0.0,
    x_std: float = 1.0,
    seed: int = 0,
) -> Dataset:
    """A 1-D regression that a line cannot fit and a small network can: ``y = f(u) + noise·ε``
    at ``x = x_mean + x_std·u``.

    ``u ~ Uniform(−3, 3)`` and ``ε ~ Normal(0, 1)``, with ``f`` one of:
        "sine": sin(1.5x), a wave of four half-periods;
        "step": tanh(4x), a soft step from −1 to 1 at 0;
        "bump": 2·exp(−2x²) − 0.5, a hump in the middle.
    The best line leaves most of the variance of "sine" and "bump" and a fifth of "step's";
    sixteen tanh units (``gd.models.MLP()``) fit each to within the noise
    (``tests/test_mlp.py``). Moving or stretching x (``x_mean``, ``x_std``) keeps the shape
    and makes the network's start, drawn for inputs near 0 with a spread near 1, a worse fit
    for it, as for the other generators.

    Args:
        n: number of samples, >= 2.
        kind: "sine", "step" or "bump".
        noise: standard deviation of the Gaussian noise on y, >= 0.
        x_mean: where the curve's middle sits on x.
        x_std: how far x is stretched, > 0.
        seed: seed of the one ``np.random.default_rng`` used, >= 0.

    Returns:
        A Dataset named like ``"sine curve (n=200, seed 0)"``.

    Example:
        >>> data = curve(n=50, kind="bump", noise=0.0, seed=0)
        >>> data
        Dataset(name='bump curve (n=50, seed 0)', n=50)
        >>> bool(np.allclose(data.y, 2 * np.exp(-2 * data.x**2) - 0.5))
        True
    """
    check_choice("kind", kind, CURVES)
    n = check_int("n", n, low=2)
    noise = check_real("noise", noise, low=0.0)
    x_mean = check_real("x_mean", x_mean)
    x_std = check_real("x_std", x_std, low=0.0, strict=True)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    u = rng.uniform(-3.0, 3.0, size=n)  # (n,)
    shape = {
        "sine": lambda u: np.sin(1.5 * u),
        "step": lambda u: np.tanh(4.0 * u),
        "bump": lambda u: 2.0 * np.exp(-2.0 * u**2) - 0.5,
    }[kind]
    y = shape(u) + noise * rng.standard_normal(n)  # (n,)
    return Dataset(x_mean + x_std * u, y, name=f"{kind} curve (n={n}, seed {seed})")


def sample_csv() -> bytes:
    """A small valid CSV to download and edit: header ``x,y`` and 50 rows of ``linear(n=50)``.

    Returns:
        UTF-8 bytes with LF line ends, values to 6 significant digits.

    Example:
        >>> sample_csv().splitlines()[:2]
        [b'x,y', b'0.12573,-0.569849']
        >>> from_csv(io.BytesIO(sample_csv())).n
        50
    """
    data = linear(n=50, seed=0)
    rows = [f"{x:.6g},{y:.6g}" for x, y in zip(data.x, data.y, strict=True)]
    return "\n".join(["x,y", *rows, ""]).encode()


def from_csv(
    file: str | os.PathLike[str] | BinaryIO,
    *,
    max_rows: int = 100_000,
    name: str | None = None,
) -> Dataset:
    """Read two numeric columns, x then y, from a comma-separated file.

    Accepted: a header row or none (the first row is a header when none of its cells is a
    number; only the first row may be), LF, CRLF or CR line ends, spaces around cells, a UTF-8
    BOM, scientific notation (``1e3``, ``-2.5E-2``), no final newline, blank rows (skipped, but
    still counted in row numbers), and UTF-8 or Latin-1 text. Row numbers in messages are
    1-based, as a spreadsheet shows them. Parsing stops at data row ``max_rows + 1``; the rows
    after it are only counted, for the message.

    Args:
        file: a path, or a binary file-like object such as Streamlit's ``UploadedFile`` (with
            ``read()`` returning bytes and optionally ``name``). ``BytesIO``-like objects are
            read whole with ``getvalue()``, whatever their position.
        max_rows: the most data rows accepted, >= 2.
        name: the dataset's name; defaults to ``"uploaded CSV: <file name>"``.

    Returns:
        A Dataset with float64 ``x`` and ``y`` in file order.

    Raises:
        DataError: when the content is unusable (empty, binary, wrong separator or column
            count, non-numeric, NaN, inf or too-large cells, or too few or too many rows).

    Example:
        >>> data = from_csv(io.BytesIO(b"x,y\\r\\n1e3, -2.5E-2\\r\\n2,4"), name="demo")
        >>> data.x, data.y
        (array([1000.,    2.]), array([-0.025,  4.   ]))
        >>> from_csv(io.BytesIO(b"x;y\\n1,5;2\\n"))
        Traceback (most recent call last):
        ...
        gd.datasets.DataError: Row 1 looks semicolon-separated ('x;y'). ...
    """
    max_rows = check_int("max_rows", max_rows, low=2)
    data, file_name = _read(file)
    if _looks_utf16(data[:_SNIFF_BYTES]):
        raise DataError(
            "The file is saved as UTF-16 (Excel's 'Unicode Text'), not as UTF-8. Save it as "
            "UTF-8 ('CSV UTF-8 (comma-delimited)' in Excel, or choose UTF-8 as the encoding) "
            "and upload that file."
        )
    if b"\x00" in data or _control_fraction(data[:_SNIFF_BYTES]) > _MAX_CONTROL_FRACTION:
        raise DataError(
            "The file does not look like a text CSV file: it contains NUL or other binary "
            "bytes. If it is a spreadsheet (.xlsx, .ods, .numbers), export it as "
            "'CSV (comma-separated)' and upload that file."
        )
    x, y = _parse(_decode(data), max_rows)
    if name is None:
        name = f"uploaded CSV: {file_name}" if file_name else "uploaded CSV"
    return Dataset(x, y, name=name)


def _draw(
    n: int, noise: float, x_mean: float, x_std: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Validate the arguments every generator shares, then draw x and noise·ε from one rng."""
    n = check_int("n", n, low=2)
    noise = check_real("noise", noise, low=0.0)
    x_mean = check_real("x_mean", x_mean)
    x_std = check_real("x_std", x_std, low=0.0, strict=True)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    x = rng.normal(x_mean, x_std, size=n)  # (n,)
    return x, noise * rng.standard_normal(n)  # (n,), (n,)


def _read(file: str | os.PathLike[str] | BinaryIO) -> tuple[bytes, str | None]:
    """Return the file's bytes and its base name (None when a file object has no name)."""
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        return path.read_bytes(), path.name
    # getvalue() (BytesIO, UploadedFile) ignores the read position, so a rerun that hands back
    # an already-read upload still sees every byte.
    data = file.getvalue() if hasattr(file, "getvalue") else file.read()
    file_name = getattr(file, "name", None)
    return bytes(data), Path(file_name).name if isinstance(file_name, str) else None


def _looks_utf16(sample: bytes) -> bool:
    """A UTF-16 byte-order mark, or text whose every other byte is NUL (UTF-16 without one)."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    even, odd = sample[0::2], sample[1::2]
    return len(sample) >= 4 and max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.9


def _control_fraction(sample: bytes) -> float:
    """The fraction of bytes in ``sample`` that are ASCII control codes (0 for no bytes)."""
    n_control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return n_control / max(len(sample), 1)


def _decode(data: bytes) -> str:
    """Decode UTF-8 (dropping a BOM), else Latin-1, which every older Excel export decodes as."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _parse(text: str, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """One pass over the rows: detect the header, check each row, stop past ``max_rows``."""
    rows = _nonblank_rows(text)
    header: str | None = None
    xs: list[float] = []
    ys: list[float] = []
    for row, line in rows:
        cells = _cells(row, line)
        if header is None and not xs and not any(map(_is_number, cells)):
            header = line  # the first non-blank row, and none of its cells is a number
            continue
        if len(xs) == max_rows:
            total = max_rows + 1 + sum(1 for _ in rows)  # count the rest without parsing it
            raise DataError(
                f"The file has {total} data rows, more than the limit of {max_rows}. "
                f"Keep at most {max_rows} rows, e.g. a random sample of them."
            )
        xs.append(_number(cells[0], row, "x"))
        ys.append(_number(cells[1], row, "y"))
    if header is None and not xs:
        raise DataError(
            "The file is empty. Upload a CSV file with two comma-separated columns, x then y, "
            "and at least 2 rows of numbers."
        )
    if not xs:
        raise DataError(
            f"The file has a header row ({_quote(header)}) but no data rows. "
            "Add at least 2 rows of numbers, x then y, below it."
        )
    if len(xs) < 2:
        raise DataError(
            "The file has only 1 data row, but at least 2 are needed. "
            "Add more rows of numbers, x then y."
        )
    return np.array(xs), np.array(ys)


def _nonblank_rows(text: str) -> Iterator[tuple[int, str]]:
    """Yield (row number, line) for every non-blank line; blank lines still count as rows."""
    for row, line in enumerate(io.StringIO(text, newline=None), start=1):  # LF, CRLF or CR
        if line.strip(_BLANK):
            yield row, line.rstrip("\n")


def _cells(row: int, line: str) -> list[str]:
    """Split a line into its two stripped cells, or raise saying what the row looks like."""
    cells = [cell.strip() for cell in line.split(",")]
    if len(cells) == 2:
        return cells
    fix = "Save the file with commas between x and y (in a spreadsheet: 'CSV (comma-separated)')"
    if ";" in line:
        raise DataError(
            f"Row {row} looks semicolon-separated ({_quote(line)}). "
            f"{fix}, and use '.' as the decimal mark."
        )
    if "\t" in line:
        raise DataError(f"Row {row} looks tab-separated ({_quote(line)}). {fix}.")
    found = f"{len(cells)} column" + ("s" if len(cells) > 1 else "")
    change = "Add the missing column" if len(cells) == 1 else "Delete the extra columns"
    raise DataError(
        f"Row {row} has {found} ({_quote(line)}), but exactly 2 are needed: x then y, "
        f"separated by a comma. {change} so that every row reads 'x,y'."
    )


def _is_number(cell: str) -> bool:
    """Whether Python's float() reads the cell (this includes 'nan' and 'inf')."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _number(cell: str, row: int, column: str) -> float:
    """The cell's value, or a DataError naming the row, the column and the cell."""
    where = f"Row {row}, column {column}"
    if not cell:
        raise DataError(f"{where} is empty. Fill in a number or delete the row.")
    try:
        value = float(cell)
    except ValueError:
        raise DataError(
            f"{where}: {_quote(cell)} is not a number. Fix the cell or delete the row "
            "(only the first row may be a text header)."
        ) from None
    if math.isnan(value) or (math.isinf(value) and "inf" in cell.lower()):
        raise DataError(
            f"{where} holds {_quote(cell)}, a missing (NaN) or infinite value. "
            "Remove the row or fill in a finite number."
        )
    if not abs(value) <= MAX_ABS:  # also a literal like 1e400, which float() reads as inf
        raise DataError(
            f"{where} holds {_quote(cell)}, larger in magnitude than {MAX_ABS_TEXT}: summing the "
            "squares of such values overflows float64. Rescale the column, e.g. divide it by a "
            "power of ten."
        )
    return value


def _quote(text: str, limit: int = 30) -> str:
    """Quote a cell or line for a message, cut to ``limit`` characters."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
