"""Lesson "How big should my batch be?" (``lessons/batch_size_choice.py``): the page's problem,
its work budget, its link values, and cached calls to ``gd.critical_batch``, ``gd.noise_scale``
and the cost model; its figures and words are in ``ui.batch_size_choice_charts``.

**The page's own example data.** The shared defaults (200 rows around a line, a round bowl) are
solved in a handful of updates by any batch size, so the question has no answer there. Unless
the learner switches to the sidebar's data (``SIDEBAR_DATA``, in the link as
``critical_sidebar_data=true``) or uploads a CSV, the page trains on ``EXAMPLES[model]``: more
rows and a narrower valley, where the measured steps fall more than tenfold from batch size 1 to
full batch and show all three regimes. The sidebar says which data are used.

**Reaching the target** means staying there: a run reaches it at the first update from which
its full training loss stays at or below the target for the next epoch (``STAY_EPOCHS``;
``gd.critical.reach``), so a lucky touch inside the SGD noise is not counted.

Every cached function is keyed on the frozen ``Settings`` (with the knobs this page does not
use reset, so they do not split the cache), a few scalars and the uploaded CSV's bytes, and is
bounded with ``max_entries``. The work is bounded too: ``work`` counts it in ``ui.budget``'s one
unit, every round of the search included, and a request above the budget is not computed
(``offer`` gives the nearest setting that fits).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

import gd
from gd import stability_bound
from gd.critical import (
    CriticalBatch,
    StepCost,
    combine,
    critical_batch,
    horizons,
    losses_scored,
    noise_scale,
    run_reach,
)
from gd.rules import powers_of_two_below
from ui import budget, cache, glossary, lesson
from ui.batch_size_choice_charts import NoiseAlong
from ui.controls import DEFAULTS, HASH_FUNCS, SAMPLES, Settings
from ui.cost import cost_model

# The page's widgets: their keys are their names in the link.
TARGET = "target_fraction"
MAX_EPOCHS = "critical_max_epochs"
SIDEBAR_DATA = "critical_sidebar_data"
MY_MS = "my_ms_per_step"
MY_BATCH = "my_batch_size"

TARGETS = (0.9, 0.99, 0.999, 0.9999, 0.99999)  # fraction of the way from start to minimum
DEFAULT_TARGET = 0.99
EPOCH_CHOICES = (10, 20, 50, 100)
DEFAULT_EPOCHS = 20  # the example's full batch stays at the target after about 10 epochs
# Five seeds: between 16 disjoint sets of five, the median steps move by at most 13 % (8 % on
# average over the batch sizes) and B_crit by 11 %, and every set passes issue 17's held-out
# check; three seeds move 15 % and one set in 16 fails it; nine only bring 11 % and 10 %, for
# 1.8× the work (docs/benchmarks.md, "How many seeds the median needs").
SEEDS = (0, 1, 2, 3, 4)
STAY_EPOCHS = 1  # a run reaches the target when it stays there for the next epoch
RATES = 31  # learning rates per batch size with a closed form: three decades, ten per decade
# Without a closed form there is no stability bound to anchor the grid: fewer rates over a wider
# span (10⁻² to 30, five per decade), and the full loss, a pass over the rows each time, scored
# at most LOSS_POINTS times an epoch (``gd.critical.scoring_grid``), so the search fits the work
# budget at a few hundred rows.
OTHER_RATES = 18
LOSS_POINTS = 8
NOISE_POINTS = 40  # B_simple is measured at about this many points along the run
MAX_MS = 1e6  # the largest ms/step a learner can enter: 1000 s


@dataclass(frozen=True)
class Example:
    """This page's data for one model: synthetic rows where the question has an answer."""

    n: int
    noise: float
    x_mean: float
    x_std: float
    data_seed: int = 0

    def words(self) -> str:
        """The data in the sidebar's words.

        Example:
            >>> Example(500, 0.5, 1.0, 1.0).words()
            '500 samples, noise 0.5, feature offset 1, feature scale 1, data seed 0'
        """
        return (
            f"{self.n:,} samples, noise {self.noise:g}, feature offset {self.x_mean:g}, "
            f"feature scale {self.x_std:g}, data seed {self.data_seed}"
        )


# Linear regression: 500 rows and a feature offset of 1 (condition number 7): full batch needs
# about 8 updates, batch size 1 about 220, and B_crit comes out near 26 at the 99 % target, so
# every regime holds measured points. The others are chosen to fit the work budget at the
# default longest run (their loss needs a pass over the rows at every scored update): tanh,
# 100 noisy rows (B_crit near 16); logistic regression, 50 rows with noisy labels, whose steps
# keep halving up to full batch (no bend: the page says so). The network costs 33 units a row:
# 30 rows are what fit at 20 epochs (107 M units). With x spread three times as wide its plain
# SGD reaches the 99 % target in 544 updates at batch size 1 and 65 at 8; 16 and 30 rows do
# not within 20 epochs (40 and 20 updates), and at 90 % every batch size does (164 to 14).
# At the shared feature scale 1, none reaches even 90 % in 300 epochs.
EXAMPLES = {
    "linear": Example(n=500, noise=0.5, x_mean=1.0, x_std=1.0),
    "logistic": Example(n=50, noise=2.0, x_mean=0.0, x_std=1.0),
    "tanh": Example(n=100, noise=1.0, x_mean=0.0, x_std=1.0),
    "network": Example(n=30, noise=0.5, x_mean=0.0, x_std=3.0),
}


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


def uses_example(settings: Settings, sidebar_data: bool) -> bool:
    """Whether the page trains on its example: unless asked for the sidebar's data, or the
    data are an upload (always the learner's own)."""
    return not sidebar_data and settings.source != "csv"


def problem(settings: Settings, sidebar_data: bool = False) -> Settings:
    """The settings the page trains on: the sidebar's, with the data replaced by the model's
    ``EXAMPLES`` entry unless ``uses_example`` says otherwise. The model, the validation
    split, the start, the momentum and the convention stay the sidebar's.

    Example:
        >>> problem(DEFAULTS).n, problem(DEFAULTS, sidebar_data=True).n
        (500, 200)
    """
    if not uses_example(settings, sidebar_data):
        return settings
    return dataclasses.replace(settings, **dataclasses.asdict(EXAMPLES[settings.model]))


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


def lowest_words(settings: Settings) -> tuple[str, str]:
    """What the target's lowest loss is, in a sentence and short (the target slider): the
    minimum, or for the network the best that full-batch descent from the start found
    (``gd.models.MLP.minimum``), which stands in for it.

    Example:
        >>> lowest_words(DEFAULTS)
        ('the minimum', 'the minimum')
        >>> lowest_words(dataclasses.replace(DEFAULTS, model="network"))[1]
        'the best found'
    """
    if settings.spec.two_parameters:
        return "the minimum", "the minimum"
    return "the lowest loss full-batch descent from the start found", "the best found"


def rate_grid_note(settings: Settings) -> str:
    """Where the learning-rate grid ends, in one line: at the stability bound, in closed form,
    or at a fixed rate for a model without one (``learning_rates_for``).

    Example:
        >>> print(rate_grid_note(dataclasses.replace(DEFAULTS, model="network")))
        ... # doctest: +NORMALIZE_WHITESPACE
        The grid is fixed: this model's loss has no closed-form stability bound to end it at
        (its curvature changes as it trains).
    """
    if settings.spec.closed_form:
        return (
            f"The grid ends at the stability bound {glossary.first('2(1 + μ)/λmax')} of these "
            "rows, in closed form."
        )
    return (
        "The grid is fixed: this model's loss has no closed-form stability bound to end it at "
        "(its curvature changes as it trains)."
    )


def learning_rates_for(settings: Settings, csv: bytes | None) -> np.ndarray:
    """The grid each batch size is tuned over: ten rates per decade, geometric.

    With a closed form (linear regression) it spans the stability bound 2(1 + μ)/λmax down
    by 1000×, so the largest stable rates are in it whatever the data's scale; otherwise
    10⁻² to 30 in ``OTHER_RATES`` steps.
    """
    if settings.spec.closed_form:
        bound = stability_bound(*cache.training_rows(settings, csv), settings.momentum)
        return np.geomspace(bound / 1000, bound, RATES)
    return np.geomspace(1e-2, 30.0, OTHER_RATES)


# ---- the work budget ---------------------------------------------------------------------------


def work(settings: Settings, csv: bytes | None, max_epochs: int) -> int:
    """This page's work for one request (``ui.budget``), for the settings it trains on
    (``problem``): at every batch size, every learning rate × seed searched round by round
    (``gd.critical.horizons``) with the full loss scored along the way, in the worst case
    (no run reaches the target); then one run to follow the noise scale along, the noise
    scale at ``NOISE_POINTS`` points (two passes over the rows each), and the search for the
    lowest loss the target is measured from (``Model.minimum_passes``)."""
    s = settings
    n_train = s.n_train
    model = s.spec.build()
    rounds = horizons(max_epochs, STAY_EPOCHS)
    runs = len(learning_rates_for(s, csv)) * len(SEEDS)
    sizes = batch_sizes_for(n_train).tolist()
    search = sum(
        budget.search_work(
            s.model,
            n_train,
            size,
            rounds,
            runs,
            losses_scored(model, n_train, size, max_epochs, STAY_EPOCHS, LOSS_POINTS),
        )
        for size in sizes
    )
    follow = max(budget.run_work(s.model, n_train, size, max_epochs) for size in sizes)
    scored = budget.loss_work(s.model, n_train, 2 * NOISE_POINTS + model.minimum_passes())
    return search + follow + scored


def offer(
    settings: Settings, csv: bytes | None, max_epochs: int, sidebar_data: bool
) -> lesson.Offer | None:
    """The nearest setting within the work budget: a shorter longest run; else, for synthetic
    data the learner chose, the most samples that fit at the shortest run, with the longest run
    that then fits (an upload's rows are its own); else None."""
    s = problem(settings, sidebar_data)
    epochs = budget.nearest([e for e in EPOCH_CHOICES if e < max_epochs], lambda e: work(s, csv, e))
    if epochs is not None:
        return lesson.Offer(f"Use a longest run of {epochs} epochs", widgets={MAX_EPOCHS: epochs})
    if csv is not None or uses_example(settings, sidebar_data):
        return None
    shortest = min(EPOCH_CHOICES[0], max_epochs)
    samples = budget.nearest(
        [n for n in SAMPLES if n < s.n],
        lambda n: work(dataclasses.replace(s, n=n), None, shortest),
    )
    if samples is None:
        return None
    fewer = dataclasses.replace(s, n=samples)
    epochs = budget.nearest(
        [e for e in EPOCH_CHOICES if e <= max_epochs], lambda e: work(fewer, None, e)
    )
    return lesson.Offer(
        f"Use {samples:,} samples and a longest run of {epochs} epochs",
        settings={"n": samples},
        widgets={MAX_EPOCHS: epochs},
    )


# ---- link values -------------------------------------------------------------------------------


def link_values(params: dict[str, str], n_train: int | None) -> tuple[dict[str, Any], list[str]]:
    """This page's own values in a link (``params``, as ``st.query_params.to_dict()``): each
    one the link names, parsed (a bad one replaced by its default), and a notice for each value
    that could not be used.

    A link is user text: a value that does not parse, is not finite or is out of range falls
    back to the default with a notice. The widgets bound to the link (the target, the longest
    run, the data switch) drop such a value themselves, silently; the two number inputs are
    not bound (``int("inf")`` raised OverflowError in Streamlit's parsing) and take the values
    here. The target is written as its label, the way the slider writes it (``99.9 %``). The
    learner's batch size is read only once ``n_train`` is known.

    Example:
        >>> values, notices = link_values({"my_batch_size": "inf", "target_fraction": "0.999"}, 500)
        >>> values
        {'target_fraction': 0.99, 'my_batch_size': 32}
        >>> notices[1]
        'my_batch_size=inf is not a whole number from 1 to 500, so the default 32 is used.'
    """
    values: dict[str, Any] = {}
    notices: list[str] = []

    def take(key: str, value: Any, ok: bool, wanted: str, default: Any, shown: str) -> None:
        values[key] = value if ok else default
        if not ok:
            text = params[key] if len(params[key]) <= 40 else params[key][:39] + "…"
            notices.append(f"{key}={text} is not {wanted}, so the default {shown} is used.")

    if TARGET in params:
        labels = {target_label(t): t for t in TARGETS}
        value = labels.get(params[TARGET])
        wanted = "one of " + ", ".join(labels)
        take(
            TARGET,
            value,
            value in TARGETS,
            wanted,
            DEFAULT_TARGET,
            target_label(DEFAULT_TARGET),
        )
    if MAX_EPOCHS in params:
        value = _number(params[MAX_EPOCHS])
        wanted = "one of " + ", ".join(str(e) for e in EPOCH_CHOICES) + " epochs"
        ok = value in EPOCH_CHOICES
        take(MAX_EPOCHS, int(value) if ok else None, ok, wanted, DEFAULT_EPOCHS, DEFAULT_EPOCHS)
    if SIDEBAR_DATA in params:
        text = params[SIDEBAR_DATA].lower()
        ok = text in ("true", "false")
        take(SIDEBAR_DATA, text == "true", ok, "true or false", False, "false")
    if MY_MS in params:
        value = _number(params[MY_MS])
        ok = value is not None and 0.0 <= value <= MAX_MS
        wanted = f"a number of milliseconds from 0 to {MAX_MS:,.0f}"
        take(MY_MS, value, ok, wanted, 0.0, 0)
    if MY_BATCH in params and n_train is not None:
        value = _number(params[MY_BATCH])
        ok = value is not None and value.is_integer() and 1 <= value <= n_train
        wanted = f"a whole number from 1 to {n_train:,}"
        default = default_my_batch(n_train)
        take(MY_BATCH, int(value) if ok else None, ok, wanted, default, default)
    return values, notices


def _number(text: str) -> float | None:
    """A finite number written in ``text``, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def default_my_batch(n_train: int) -> int:
    """The learner's batch size until they enter one: Keras's default, 32 (fewer rows: all)."""
    return min(32, n_train)


# ---- the measurement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One measurement of the page: the search, the settings it ran on, and the losses its
    target came from."""

    result: CriticalBatch
    problem: Settings  # what was trained: the page's example or the sidebar's data
    start_loss: float
    min_loss: float
    fraction: float
    b_simple_start: float


def _losses(settings: Settings, csv: bytes | None) -> tuple[float, float]:
    """(the training loss at the start, the lowest training loss near it: at
    ``cache.best_for``, searched once per data and start and shared)."""
    x, y = cache.training_rows(settings, csv)
    model = settings.spec.build()
    with np.errstate(all="ignore"):
        lowest = model.loss(cache.best_for(settings, csv), x, y)
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
    """The search at one batch size (one cache entry each, so the page can draw as it goes)."""
    x, y = cache.training_rows(settings, csv)
    start, lowest = _losses(settings, csv)
    rates = learning_rates_for(settings, csv)
    return critical_batch(
        settings.spec.build(),
        x,
        y,
        optimizer(settings, float(rates[0])),
        gd.Training(epochs=max_epochs, init=settings.start),
        batch_sizes=[batch_size],
        learning_rates=rates,
        target_loss=target_loss(start, lowest, fraction),
        seeds=SEEDS,
        stay_epochs=STAY_EPOCHS,
        loss_points_per_epoch=LOSS_POINTS,
    )


def optimizer(settings: Settings, learning_rate: float) -> gd.SGD:
    """The page's optimizer at one rate: the sidebar's momentum and convention, no Nesterov
    and no decay (``_normalized``)."""
    return gd.SGD(learning_rate, momentum=settings.momentum, convention=settings.convention)


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs=HASH_FUNCS)
def _start_noise(settings: Settings, csv: bytes | None) -> float:
    x, y = cache.training_rows(settings, csv)
    return noise_scale(settings.spec.build(), x, y, settings.start).b_simple


def measure(
    settings: Settings,
    fraction: float = DEFAULT_TARGET,
    max_epochs: int = DEFAULT_EPOCHS,
    progress: Callable[[int, int], object] | None = None,
    partial: Callable[[CriticalBatch], object] | None = None,
    sidebar_data: bool = False,
) -> Measured:
    """The page's core call: the critical-batch search for these settings, on the page's
    example data unless ``sidebar_data`` (``problem``), one cached batch size at a time.

    After each batch size, ``progress(done, total)`` is called, and ``partial`` with the
    record of the batch sizes measured so far (refitted), so the page can draw them.
    """
    s = _normalized(problem(settings, sidebar_data))
    csv = cache.uploaded_csv(s)
    sizes = batch_sizes_for(s.n_train)
    parts = []
    for size in sizes.tolist():
        parts.append(_measure_one(s, csv, fraction, max_epochs, size))
        if progress is not None:
            progress(len(parts), sizes.size)
        if partial is not None:
            partial(combine(parts))
    start, lowest = _losses(s, csv)
    return Measured(combine(parts), s, start, lowest, fraction, _start_noise(s, csv))


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
        optimizer(settings, learning_rate),
        gd.Training(epochs=max_epochs, seed=SEEDS[0], init=settings.start),
        batch_size=batch_size,
    )
    hit = run_reach(run, target, STAY_EPOCHS, LOSS_POINTS)  # where it reached it and stayed
    reached = math.isfinite(hit)
    end = int(hit) if reached else run.updates
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


def noise_along(measured: Measured) -> NoiseAlong | None:
    """B_simple along the seed-0 run at the measured batch size nearest B_crit, at its best
    learning rate, up to where it reaches the target (None if no batch size reached)."""
    result = measured.result
    if not result.reached.any():
        return None
    sizes = result.batch_sizes[result.reached]
    centre = result.b_crit if math.isfinite(result.b_crit) else sizes[0]
    i = int(np.argmin(np.abs(np.log(sizes / centre))))
    rate = float(result.best_learning_rate[result.reached][i])
    s = measured.problem
    return _noise_along(
        s, cache.uploaded_csv(s), int(sizes[i]), rate, result.target_loss, result.max_epochs
    )


def server_cost(settings: Settings) -> StepCost:
    """The fixed and per-row cost of one update on this server: the one cost model of every
    page that shows compute time (``ui.cost.cost_model``, measured once per model)."""
    return cost_model(settings.model).cost
