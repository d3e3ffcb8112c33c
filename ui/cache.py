"""Shared layer (every lesson): Streamlit's caches around the ``gd`` calls, keyed on scalar
settings and bounded.

The cache is shared by every session of the server: two students with the same settings get
the same ``Run``, computed once. Every function here is deterministic in its arguments (one
seeded generator per run), which is what makes sharing sound.

The functions a release of the live stage calls are called with keyword arguments: for each
positional argument of a call, Streamlit 1.67's cache key asks ``inspect.signature`` for its
name (about 10 µs each), which was a fifteenth of a release's time. What a release reads
several times (the data, the loss surface and its widened windows) is in resource caches:
each call gets the one value, its arrays read-only (``frozen``), where a data cache would
unpickle a new copy for every call.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

import gd
from gd.rules import validation_split_at
from ui import charts
from ui.budget import loss_work, run_bytes, score_work
from ui.controls import HASH_FUNCS, Settings
from ui.models import MODELS

CSV_KEY = "_csv"  # session key holding the bytes of the last upload that parsed


def uploaded_csv(settings: Settings) -> bytes | None:
    """The bytes of this session's uploaded CSV when the data source is "Upload CSV"."""
    return st.session_state.get(CSV_KEY) if settings.source == "csv" else None


@st.cache_resource(max_entries=64, show_spinner=False)
def dataset(
    model: str, n: int, noise: float, x_mean: float, x_std: float, seed: int, csv: bytes | None
) -> gd.Dataset:
    """The synthetic data for these settings, or the parsed upload when ``csv`` is given.

    A resource cache hands every caller the one ``gd.Dataset`` (its arrays are read-only), where
    a data cache would unpickle a copy on each of the several calls a release makes."""
    if csv is not None:
        return gd.datasets.from_csv(io.BytesIO(csv), name="uploaded CSV")
    return MODELS[model].generator(n=n, noise=noise, x_mean=x_mean, x_std=x_std, seed=seed)


def dataset_for(settings: Settings, csv: bytes | None) -> gd.Dataset:
    """The data these settings describe; ``csv`` is the upload, or None for synthetic data.

    Cached functions take ``csv`` as an argument (it is part of their key) and call this,
    never ``data_for``, which reads the session.
    """
    return _dataset(settings.model, _data_key(settings), csv)


def _data_key(settings: Settings) -> tuple[int, float, float, float, int]:
    """What synthetic data depends on besides the model: n, noise, x mean and spread, seed."""
    s = settings
    return s.n, s.noise, s.x_mean, s.x_std, s.data_seed


def _dataset(model: str, data_key: tuple, csv: bytes | None) -> gd.Dataset:
    n, noise, x_mean, x_std, seed = data_key
    return dataset(model=model, n=n, noise=noise, x_mean=x_mean, x_std=x_std, seed=seed, csv=csv)


def data_for(settings: Settings) -> gd.Dataset:
    """The data this session's page shows."""
    return dataset_for(settings, uploaded_csv(settings))


def training_rows(settings: Settings, csv: bytes | None) -> tuple[np.ndarray, np.ndarray]:
    """The rows Keras trains on, the first ``n_train``: x (n_train, 1), y (n_train,)."""
    data, rows = dataset_for(settings, csv), settings.n_train
    return data.x[:rows, None], data.y[:rows]


def optimizer_for(settings: Settings) -> gd.SGD:
    return gd.SGD(
        learning_rate=settings.learning_rate,
        momentum=settings.momentum,
        nesterov=settings.nesterov,
        decay=settings.decay,
        convention=settings.convention,
    )


@dataclass(frozen=True)
class Tier:
    """One bucket of a cache bounded in bytes: entries of at most ``limit`` bytes."""

    limit: int
    entries: int


MB = 1_000_000
# Runs: at most 64 × 2 MB + 6 × 16 MB + 3 × 60 MB (the largest Run the app allows is ~56 MB).
# Three of the largest: "From Keras to here" shows a run and both conventions of its
# illustrative pair, and with two a visit evicted what its next visit needed.
RUN_TIERS = (Tier(2 * MB, 64), Tier(16 * MB, 6), Tier(60 * MB, 3))


class SizedCache:
    """A cache shared by every session, bounded in bytes as well as entries: one cache per
    ``Tier``, and each call goes to the first tier whose limit holds the value's predicted size.

    The size is predicted from the arguments (``ui.budget.run_bytes``), before computing, so
    a large value never lands among many small ones. Most bytes held: ``bound``.

    It is ``st.cache_resource``, not ``st.cache_data``: cache_data pickles each value when it is
    stored and unpickles a copy on every hit, which for a 50 MB ``Run`` costs a second and
    50 MB on every rerun of every session. A cached value here is handed out as it is, so its
    arrays are made read-only (``frozen``): no page can change what another session sees.
    """

    def __init__(self, function, tiers: tuple[Tier, ...], show_spinner: bool | str = False):
        self.tiers = tiers
        self.caches = [
            st.cache_resource(
                max_entries=tier.entries, show_spinner=show_spinner, hash_funcs=HASH_FUNCS
            )(_renamed(function, f"{function.__qualname__}_upto_{tier.limit}"))
            for tier in tiers
        ]

    def clear(self) -> None:
        for cached in self.caches:
            cached.clear()

    @property
    def bound(self) -> int:
        """The most bytes all tiers together can hold."""
        return sum(tier.limit * tier.entries for tier in self.tiers)

    def __call__(self, nbytes: int, *args):
        for tier, cached in zip(self.tiers, self.caches, strict=True):
            if nbytes <= tier.limit:
                return cached(args=args)
        raise ValueError(f"A value of {nbytes:,} bytes is larger than this cache's largest tier.")


def _renamed(function, name: str):
    """A wrapper of ``function`` with its own name: Streamlit keys a cache by the name."""

    def wrapper(args: tuple):
        return frozen(function(*args))

    wrapper.__qualname__ = wrapper.__name__ = name
    wrapper.__module__ = function.__module__
    wrapper.__doc__ = function.__doc__
    return wrapper


def frozen(value):
    """``value`` with every NumPy array in it (fields of dataclasses, items of tuples) made
    read-only, so a value shared between sessions cannot be changed by one of them."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            frozen(item)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            frozen(getattr(value, f.name))
    return value


def run(settings: Settings, csv: bytes | None) -> gd.Run:
    """``gd.fit`` for these settings (``csv`` is the upload, part of the cache key), from a
    cache bounded in bytes (``RUN_TIERS``)."""
    return _runs(run_bytes(settings.n_train, settings.batch_size, settings.epochs), settings, csv)


def _fit(settings: Settings, csv: bytes | None) -> gd.Run:
    data = dataset_for(settings, csv)
    return gd.fit(
        settings.spec.build(),
        data.x,
        data.y,
        optimizer_for(settings),
        settings.training,
        batch_size=settings.batch_size,
    )


_runs = SizedCache(_fit, RUN_TIERS)


def run_for(settings: Settings) -> gd.Run:
    return run(settings, uploaded_csv(settings))


def surface_size(model: gd.models.Model) -> int:
    """Points per axis of ``surface``'s grid: the SVG contour redraw grows with the grid."""
    return 81 if model.cheap_losses else 61


def grid_work(settings: Settings, g0: int, g1: int | None = None) -> int:
    """The work (``ui.budget`` units) of the loss on a (g1, g0) grid (square by default) of
    the training rows: a pass over the rows each time ``loss_grid`` makes one
    (``gd.Model.grid_passes``), a pass of the loss alone (``ui.budget.score_work``)."""
    s = settings
    passes = s.spec.build().grid_passes(g0, g0 if g1 is None else g1)
    return score_work(s.model, s.n_train, passes)


def surface_work(settings: Settings) -> int:
    """The work of ``surface_for``: the loss on its grid, and the search for the minimum (a
    shared cache, but the first request of a setting computes it: at 10 000 rows of logistic
    regression, 2.4 s of a core)."""
    s = settings
    model = s.spec.build()
    return grid_work(s, surface_size(model)) + loss_work(s.model, s.n_train, model.minimum_passes())


SLICE_NAMES = ("α", "β")  # a slice's coordinates along its two directions
FAR = 10.0  # a slice's window leaves out a run's end this many times farther than the ✕


@dataclass(frozen=True)
class Surface:
    """The loss over a fixed window of the chart's plane, with its minimum.

    For a model with two parameters the plane is the parameters themselves. For the network it
    is a slice through its 49 (``plane``): the plane through the start, the end of the settings'
    run and the lowest point that full-batch descent from the start found
    (``gd.models.MLP.minimum``), which stands in for the minimum. Those three points lie on it
    exactly; every other point of a run is drawn as its projection (``project``). The plane
    follows the settings' run, so a page draws the other runs it compares on that run's plane
    (the live stage keeps it while a knob is dragged).
    """

    axis0: np.ndarray  # (g0,)
    axis1: np.ndarray  # (g1,)
    loss: np.ndarray  # (g1, g0)
    minimum: np.ndarray  # (2,) the lowest-loss point near the start, in the chart's coordinates
    min_loss: float
    names: tuple[str, str]  # the chart's axes: the parameters', or the slice's α and β
    plane: gd.plane.Plane | None = None  # the slice, for a model with more than two parameters
    best_params: np.ndarray | None = None  # (P,) the slice's ✕ in parameter space

    def project(self, points: np.ndarray) -> np.ndarray:
        """Parameter vectors (..., P) as the chart's coordinates (..., 2)."""
        return charts.plane_coordinates(self.plane, points)

    @property
    def best(self) -> np.ndarray:
        """The lowest-loss parameters themselves, (P,): ``minimum`` before any projection."""
        return self.minimum if self.best_params is None else self.best_params

    @property
    def slice_line(self) -> str:
        """The one line a chart of the network says about its plane ("" for two parameters)."""
        if self.plane is None:
            return ""
        return (
            f"A slice through the {self.plane.n_params} weights: the plane through the start (○), "
            "the end of this run (●) and the best point that full-batch descent from the start "
            "found (✕)."
        )

    @property
    def slice_note(self) -> str:
        """What the slice shows and what it does not, for a caption under the chart."""
        if self.plane is None:
            return ""
        return (
            f"{self.slice_line} Those three points lie on it; every other point of a run is "
            "drawn as its shadow on the plane, without its moves in the other directions, so a "
            "path can cross a contour its loss never met: the loss chart has its true loss."
        )

    @property
    def axis_titles(self) -> tuple[str, str]:
        """The chart's axis titles: the parameters' names, or which directions α and β are."""
        if self.plane is None:
            return self.names
        return "α: from the start (○) toward where this run ends", "β: on toward the best found (✕)"


def plane_loss(
    model: gd.models.Model,
    x: np.ndarray,
    y: np.ndarray,
    plane: gd.plane.Plane | None,
    axis0: np.ndarray,
    axis1: np.ndarray,
) -> np.ndarray:
    """The loss over a (g1, g0) grid of the chart's plane: the parameters' own grid, or the
    network's slice (``gd.plane.loss_on_plane``)."""
    if plane is None:
        return model.loss_grid(x, y, axis0, axis1)
    return gd.plane.loss_on_plane(model, x, y, plane, axis0, axis1)


@st.cache_resource(max_entries=32, show_spinner=False)
def surface(
    model_name: str,
    data_key: tuple,
    validation_split: float,
    start: tuple[float, ...],
    csv: bytes | None,
) -> Surface:
    """Loss contours on the training rows, over a window that holds the start and the minimum.

    The window depends only on the data and the start, never on the optimizer settings, so
    the picture stays put while the learner moves the training sliders.
    """
    model, x, y = _training_rows(model_name, data_key, validation_split, csv)
    start_point = np.array(start)
    with np.errstate(all="ignore"):
        minimum = model.minimum(x, y, start_point)
        shown = np.array([start_point, *model.equivalent(minimum)])  # every minimum in view
        low = shown.min(axis=0)
        high = shown.max(axis=0)
        pad = np.maximum(0.35 * (high - low), 1.0)
        size = surface_size(model)
        axis0 = np.linspace(low[0] - pad[0], high[0] + pad[0], size)
        axis1 = np.linspace(low[1] - pad[1], high[1] + pad[1], size)
        loss = model.loss_grid(x, y, axis0, axis1)
        min_loss = float(model.loss(minimum, x, y))
    names = model.param_names(1)
    return frozen(Surface(axis0, axis1, loss, minimum, min_loss, (names[0], names[1])))


@st.cache_resource(max_entries=32, show_spinner=False)
def best_found(plane_key: tuple, csv: bytes | None) -> np.ndarray:
    """The lowest point near the start, (P,): ``Model.minimum``, for the network its stand-in,
    the lowest point full-batch descent from the start finds (``gd.models.MLP.minimum``). It
    depends on the data and the start only; its work is ``surface_work``'s search."""
    model_name, data_key, validation_split, start = plane_key
    model, x, y = _training_rows(model_name, data_key, validation_split, csv)
    return frozen(model.minimum(x, y, np.array(start)))


def best_for(settings: Settings, csv: bytes | None) -> np.ndarray:
    """``best_found`` for these settings, from the shared cache."""
    return best_found(_plane_key(settings), csv)


@st.cache_resource(max_entries=32, show_spinner=False)
def slice_surface(plane_key: tuple, csv: bytes | None, end: tuple[float, ...]) -> Surface:
    """``Surface`` for a model with many parameters: the slice through the start, ``end`` (the
    last finite point of the settings' run) and ``best_found``, over a window that holds the
    three with room around; an end ``FAR`` times farther from the start than the best point (a
    blow-up's last finite point) is left out of the window, which the stage widens to follow."""
    model_name, data_key, validation_split, start = plane_key
    model, x, y = _training_rows(model_name, data_key, validation_split, csv)
    best = best_found(plane_key, csv)
    start, end = np.array(start), np.array(end)
    plane = gd.plane.Plane.through(start, end, best)
    reach = FAR * max(float(np.linalg.norm(best - start)), 1e-12)
    points = np.array([start, best] + ([end] if np.linalg.norm(end - start) <= reach else []))
    axis0, axis1 = gd.plane.window(plane, points, margin=0.3).grid(surface_size(model))
    with np.errstate(all="ignore"):
        loss = gd.plane.loss_on_plane(model, x, y, plane, axis0, axis1)
        min_loss = float(model.loss(best, x, y))
    return frozen(
        Surface(axis0, axis1, loss, plane.project(best), min_loss, SLICE_NAMES, plane, best)
    )


def run_end(settings: Settings, csv: bytes | None) -> tuple[float, ...]:
    """The last finite parameters of the settings' run (before a blow-up), as a cache key."""
    params = run(settings, csv).params
    finite = np.flatnonzero(np.all(np.isfinite(params), axis=1))
    return tuple(params[finite[-1]].tolist())


def _training_rows(
    model_name: str, data_key: tuple, validation_split: float, csv: bytes | None
) -> tuple[gd.models.Model, np.ndarray, np.ndarray]:
    """The model and the rows it trains on: x (n_train, 1), y (n_train,)."""
    data = _dataset(model_name, data_key, csv)
    n_train = validation_split_at(data.n, validation_split)
    return MODELS[model_name].build(), data.x[:n_train, None], data.y[:n_train]


@dataclass(frozen=True)
class Widened:
    """``surface``'s loss over its window widened about its centre, once per factor."""

    factors: np.ndarray  # (Z,) each window's half-widths over the surface's
    axis0: np.ndarray  # (Z, g)
    axis1: np.ndarray  # (Z, g)
    loss: np.ndarray  # (Z, g, g)


@st.cache_resource(max_entries=32, show_spinner=False)
def widened(
    plane_key: tuple,
    csv: bytes | None,
    factors: tuple[float, ...],
    size: int,
    end: tuple[float, ...] | None,
) -> Widened:
    """The loss on coarser grids (``size`` × ``size``) that reach ``factors`` times as far
    from the centre of the surface (``_surface``): what the live stage draws while a path
    flies off the window."""
    model_name, data_key, validation_split, _ = plane_key
    plane = _surface(plane_key, csv, end)
    model, x, y = _training_rows(model_name, data_key, validation_split, csv)
    unit = np.linspace(-1.0, 1.0, size)
    axes = []
    for axis in (plane.axis0, plane.axis1):
        centre, half = (axis[0] + axis[-1]) / 2, (axis[-1] - axis[0]) / 2
        axes.append(centre + np.multiply.outer(np.array(factors), half * unit))  # (Z, g)
    with np.errstate(all="ignore"):
        loss = np.stack(
            [plane_loss(model, x, y, plane.plane, a0, a1) for a0, a1 in zip(*axes, strict=True)]
        )
    return frozen(Widened(np.array(factors), axes[0], axes[1], loss))


@dataclass(frozen=True)
class Contours:
    """The loss over the window a contour chart shows."""

    axis0: np.ndarray  # (g,)
    axis1: np.ndarray  # (g,)
    loss: np.ndarray  # (g, g)


WIDE_GRID = 61  # points per axis of a window widened to follow a blow-up


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs=HASH_FUNCS)
def _window(
    settings: Settings, csv: bytes | None, range0: tuple[float, float], range1: tuple[float, float]
) -> Contours:
    x, y = training_rows(settings, csv)
    axis0 = np.linspace(*range0, WIDE_GRID)
    axis1 = np.linspace(*range1, WIDE_GRID)
    plane = surface_for_data(settings, csv).plane
    with np.errstate(all="ignore"):
        loss = plane_loss(settings.spec.build(), x, y, plane, axis0, axis1)
    return Contours(axis0, axis1, loss)


def contours_following(settings: Settings, paths: Sequence[charts.Path]) -> Contours:
    """The settings' usual contour window, or, when a path leaves it (a blow-up), a wider one
    that follows its first steps (``charts.blowup_window``), with the loss computed over it."""
    surface = surface_for(settings)
    window = charts.blowup_window(paths, surface.axis0, surface.axis1)
    if window is None:
        return Contours(surface.axis0, surface.axis1, surface.loss)
    return _window(settings, uploaded_csv(settings), *window)


def surface_for(settings: Settings) -> Surface:
    return surface_for_data(settings, uploaded_csv(settings))


def _plane_key(settings: Settings) -> tuple[str, tuple, float, tuple[float, ...]]:
    """What a loss surface depends on: the model, the data, the split and the start."""
    s = settings
    return s.model, _data_key(s), s.validation_split, tuple(s.start.tolist())


def surface_for_data(settings: Settings, csv: bytes | None) -> Surface:
    return _surface(_plane_key(settings), csv, _end(settings, csv))


def _end(settings: Settings, csv: bytes | None) -> tuple[float, ...] | None:
    """What a surface depends on beyond ``_plane_key``: for the network's slice, the end of the
    settings' run (``run_end``); nothing for a model with two parameters."""
    return None if settings.spec.two_parameters else run_end(settings, csv)


def _surface(plane_key: tuple, csv: bytes | None, end: tuple[float, ...] | None) -> Surface:
    if end is not None:
        return slice_surface(plane_key=plane_key, csv=csv, end=end)
    model_name, data_key, validation_split, start = plane_key
    return surface(
        model_name=model_name,
        data_key=data_key,
        validation_split=validation_split,
        start=start,
        csv=csv,
    )


def widened_for_data(
    settings: Settings, csv: bytes | None, factors: tuple[float, ...], size: int
) -> Widened:
    return widened(
        plane_key=_plane_key(settings),
        csv=csv,
        factors=factors,
        size=size,
        end=_end(settings, csv),
    )
