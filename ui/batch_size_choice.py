"""Lesson "How big should my batch be?" (``lessons/batch_size_choice.py``): cached calls to
``gd.critical_batch``, ``gd.noise_scale`` and the cost model; its figures and words are in
``ui.batch_size_choice_charts``.

Every cached function is keyed on the frozen ``Settings`` (with the knobs this page does not
use reset, so they do not split the cache), a few scalars and the uploaded CSV's bytes, and
is bounded with ``max_entries``. The work is bounded too: a grid whose rows × epochs × runs
exceed ``WORK_BUDGET`` is run with fewer epochs, and the page says so.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

import gd
from gd import stability_bound
from gd.critical import (
    CriticalBatch,
    StepCost,
    combine,
    critical_batch,
    noise_scale,
)
from gd.rules import powers_of_two_below
from ui import cache
from ui.batch_size_choice_charts import NoiseAlong
from ui.controls import DEFAULTS, HASH_FUNCS, Settings

TARGETS = (0.9, 0.99, 0.999, 0.9999, 0.99999)  # fraction of the way from start to minimum
DEFAULT_TARGET = 0.9999
EPOCH_CHOICES = (10, 20, 50, 100)
DEFAULT_EPOCHS = 100
SEEDS = (0, 1, 2)
RATES = 16  # learning rates per batch size
# Rows × epochs × runs of one grid: the benchmark grid (n = 1 000, 100 epochs,
# 12 × 16 × 3 runs) is 58 million and takes well under a second in the worst case.
WORK_BUDGET = 60_000_000
NOISE_POINTS = 40  # B_simple is measured at about this many points along the run


def batch_sizes_for(n_train: int) -> np.ndarray:
    """Powers of two below the training rows, then full batch.

    Example:
        >>> batch_sizes_for(100).tolist()
        [1, 2, 4, 8, 16, 32, 64, 100]
    """
    return np.array(sorted({*powers_of_two_below(n_train), n_train}))


def target_label(fraction: float) -> str:
    """A target as a percentage of the way down.

    Example:
        >>> target_label(0.9), target_label(0.9999)
        ('90 %', '99.99 %')
    """
    return f"{100 * fraction:.6g} %"


def epochs_within_budget(n_train: int, wanted: int) -> int:
    """The most epochs, up to ``wanted``, whose grid fits ``WORK_BUDGET``.

    Example:
        >>> epochs_within_budget(1000, 100), epochs_within_budget(10_000, 100)
        (100, 8)
    """
    runs = batch_sizes_for(n_train).size * RATES * len(SEEDS)
    return max(1, min(wanted, WORK_BUDGET // (n_train * runs)))


def _normalized(settings: Settings) -> Settings:
    """The knobs this page sets itself reset to their defaults: they must not key the cache."""
    return dataclasses.replace(
        settings,
        batch_size=DEFAULTS.batch_size,
        learning_rate=DEFAULTS.learning_rate,
        decay=DEFAULTS.decay,
        nesterov=False,
        epochs=DEFAULTS.epochs,
        shuffle=True,
        seed=DEFAULTS.seed,
    )


def learning_rates_for(settings: Settings, csv: bytes | None) -> np.ndarray:
    """The grid each batch size is tuned over: 16 rates, geometric.

    With a closed form (linear regression) it spans the stability bound 2(1 + μ)/λmax down
    by 1000×, so the largest stable rates are in it whatever the data's scale; otherwise
    10⁻³ to 30.
    """
    if settings.spec.closed_form:
        bound = stability_bound(*cache.training_rows(settings, csv), settings.momentum)
        return np.geomspace(bound / 1000, bound, RATES)
    return np.geomspace(1e-3, 30.0, RATES)


@dataclass(frozen=True)
class Measured:
    """One measurement of the page: the search, and the losses its target came from."""

    result: CriticalBatch
    start_loss: float
    min_loss: float
    fraction: float
    b_simple_start: float


def _losses(settings: Settings, csv: bytes | None) -> tuple[float, float]:
    """(the training loss at the start, the lowest training loss near it)."""
    x, y = cache.training_rows(settings, csv)
    model = settings.spec.build()
    with np.errstate(all="ignore"):
        lowest = model.loss(model.minimum(x, y, settings.start), x, y)
        return float(model.loss(settings.start, x, y)), float(lowest)


def target_loss(start: float, lowest: float, fraction: float) -> float:
    """The loss ``fraction`` of the way from ``start`` down to ``lowest``.

    Example:
        >>> target_loss(10.0, 2.0, 0.75)
        4.0
    """
    return start - fraction * (start - lowest)


@st.cache_data(max_entries=256, show_spinner=False, hash_funcs=HASH_FUNCS)
def _measure_one(
    settings: Settings, csv: bytes | None, fraction: float, max_epochs: int, batch_size: int
) -> CriticalBatch:
    """The search at one batch size (one cache entry each, so a progress bar can move)."""
    x, y = cache.training_rows(settings, csv)
    start, lowest = _losses(settings, csv)
    return critical_batch(
        settings.spec.build(),
        x,
        y,
        batch_sizes=[batch_size],
        learning_rates=learning_rates_for(settings, csv),
        target_loss=target_loss(start, lowest, fraction),
        momentum=settings.momentum,
        max_epochs=max_epochs,
        seeds=SEEDS,
        convention=settings.convention,
        init=settings.start,
    )


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=HASH_FUNCS)
def _start_noise(settings: Settings, csv: bytes | None) -> float:
    x, y = cache.training_rows(settings, csv)
    return noise_scale(settings.spec.build(), x, y, settings.start).b_simple


def measure(
    settings: Settings,
    fraction: float,
    max_epochs: int,
    progress: Callable[[int, int], object] | None = None,
) -> Measured:
    """The critical-batch search for these settings, one cached batch size at a time;
    ``progress(done, total)`` is called after each."""
    s = _normalized(settings)
    csv = cache.uploaded_csv(s)
    sizes = batch_sizes_for(cache.training_rows(s, csv)[1].size)
    parts = []
    for size in sizes.tolist():
        parts.append(_measure_one(s, csv, fraction, max_epochs, size))
        if progress is not None:
            progress(len(parts), sizes.size)
    start, lowest = _losses(s, csv)
    return Measured(combine(parts), start, lowest, fraction, _start_noise(s, csv))


@st.cache_data(
    max_entries=16, show_spinner="Measuring the noise scale along a run…", hash_funcs=HASH_FUNCS
)
def _noise_along(
    settings: Settings,
    csv: bytes | None,
    batch_size: int,
    learning_rate: float,
    target: float,
    max_epochs: int,
) -> NoiseAlong:
    x, y = cache.training_rows(settings, csv)
    model = settings.spec.build()
    run = gd.fit(
        model,
        x,
        y,
        gd.SGD(learning_rate, momentum=settings.momentum, convention=settings.convention),
        batch_size=batch_size,
        epochs=max_epochs,
        seed=SEEDS[0],
        init=settings.start,
    )
    hits = np.flatnonzero(run.loss <= target)
    reached = bool(hits.size)
    end = int(run.loss_steps[hits[0]]) if reached else run.updates
    middle = end // 2
    updates = np.unique(
        np.concatenate(
            [np.round(np.linspace(0, end, NOISE_POINTS)).astype(np.int64), [0, middle, end]]
        )
    )
    with np.errstate(all="ignore"):
        scales = np.array([noise_scale(model, x, y, run.params[u]).b_simple for u in updates])
        losses = model.losses(run.params[updates], x, y)
    marks = tuple(int(np.searchsorted(updates, u)) for u in (0, middle, end))
    return NoiseAlong(batch_size, learning_rate, updates, scales, losses, marks, reached)


def noise_along(settings: Settings, measured: Measured) -> NoiseAlong | None:
    """B_simple along the seed-0 run at the measured batch size nearest B_crit, at its best
    learning rate, up to where it first reaches the target (None if no batch size reached)."""
    result = measured.result
    if not result.reached.any():
        return None
    sizes = result.batch_sizes[result.reached]
    centre = result.b_crit if math.isfinite(result.b_crit) else sizes[0]
    i = int(np.argmin(np.abs(np.log(sizes / centre))))
    rate = float(result.best_learning_rate[result.reached][i])
    s = _normalized(settings)
    return _noise_along(
        s, cache.uploaded_csv(s), int(sizes[i]), rate, result.target_loss, result.max_epochs
    )


def training_rows(settings: Settings) -> int:
    """How many rows the runs train on (the upload's, when there is one)."""
    return cache.training_rows(settings, cache.uploaded_csv(settings))[1].size


def server_cost(settings: Settings) -> StepCost:
    """The fixed and per-row cost of one update on this server: the one cost model of every
    page that shows compute time (``ui.cache.cost_model``, measured once per model)."""
    return cache.cost_model(settings.model).cost
