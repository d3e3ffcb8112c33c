"""Lesson "Batch, mini-batch, stochastic" (``lessons/batch_sizes.py``): cached runs for one
data set and one start at several batch sizes; its figures are in ``ui.batch_sizes_charts``.

``runs`` trains once per batch size; ``seed_ensemble`` runs many shuffling seeds per batch size
and keeps only percentiles and end points, never the runs. Both are cached, keyed on the frozen
``Settings`` and a few scalars, and bounded. Time is not clocked per run: it comes from the one
measured cost model, ``cost_model`` (a fixed cost per update plus a cost per row, timed once per
model and process on small data), which "Inside one mini-batch" uses too. Everything else here
is a pure function of these records: the words, the winners and the table the page shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

import gd
from gd.rules import powers_of_two_below
from ui import budget, cache, charts, lesson
from ui.batch_sizes_charts import BAND_PERCENTILES, UNITS, Band, Curve, axes_at, spread
from ui.budget import run_bytes, run_work
from ui.controls import DEFAULTS, HASH_FUNCS, Settings
from ui.cost import CostModel, cost_model

DEFAULT_MINI_BATCH = 32
DEFAULT_SEEDS = 10
MAX_SEEDS = 50
TARGET_FRACTION = 0.01  # "close": within 1% of the way from the start loss down to the minimum
COLORS = {"stochastic": charts.ORANGE, "mini": charts.GREEN, "full": charts.PURPLE}


@dataclass(frozen=True)
class Ensemble:
    """Many seeds at one batch size, reduced to what the page draws."""

    batch_size: int
    updates_per_epoch: int
    n_train: int
    steps: np.ndarray  # (m,) updates at which the percentiles are taken
    samples: np.ndarray  # (m,) training rows read by then (``Run.samples_seen``)
    percentiles: np.ndarray  # (3, m) BAND_PERCENTILES of the full loss over finished seeds
    ends: np.ndarray  # (k, P) final parameters of the k seeds that did not diverge
    seeds: int


def mini_batch_sizes(n_train: int) -> list[int]:
    """The choices for the middle run: powers of two strictly between 1 and ``n_train``.

    Example:
        >>> mini_batch_sizes(40)
        [2, 4, 8, 16, 32]
    """
    return powers_of_two_below(n_train)[1:]


def default_mini_batch(options: Sequence[int]) -> int:
    """Keras's default 32 when it is a choice, else the largest choice."""
    return DEFAULT_MINI_BATCH if DEFAULT_MINI_BATCH in options else options[-1]


def batch_sizes(n_train: int, mini_batch: int | None) -> tuple[int, ...]:
    """Stochastic, the mini-batch (if any fits) and full batch, without repeats."""
    return tuple(sorted({1, n_train} | ({mini_batch} if mini_batch else set())))


def label(batch_size: int, n_train: int) -> str:
    if batch_size == 1:
        return "batch size 1 (stochastic)"
    if batch_size == n_train:
        return f"full batch ({n_train})"
    return f"mini-batch {batch_size}"


def color(batch_size: int, n_train: int) -> str:
    if batch_size == 1:
        return COLORS["stochastic"]
    return COLORS["full"] if batch_size == n_train else COLORS["mini"]


def _normalized(settings: Settings) -> Settings:
    """The settings with batch_size reset: this page sets its own, so it must not key the cache."""
    return dataclasses.replace(settings, batch_size=DEFAULTS.batch_size)


def _fit(settings: Settings, csv: bytes | None, batch_size: int, seed: int) -> gd.Run:
    s = dataclasses.replace(settings, batch_size=batch_size, seed=seed)
    data = cache.dataset_for(s, csv)
    return gd.fit(
        s.spec.build(), data.x, data.y, cache.optimizer_for(s), s.training, batch_size=s.batch_size
    )


def runs(settings: Settings, sizes: tuple[int, ...], csv: bytes | None) -> tuple[gd.Run, ...]:
    """One run per batch size (seed ``settings.seed``), from a cache bounded in bytes
    (``TIMED_TIERS``)."""
    s = settings
    nbytes = sum(run_bytes(s.n_train, size, s.epochs) for size in sizes)
    return _timed_runs(nbytes, settings, sizes, csv)


def _each(settings: Settings, sizes: tuple[int, ...], csv: bytes | None) -> tuple[gd.Run, ...]:
    return tuple(_fit(settings, csv, size, settings.seed) for size in sizes)


# Three whole runs per entry: at most 16 × 2 MB + 4 × 16 MB + 1 × 160 MB (3 runs of ≤ 56 MB).
# (The names say "timed" for tests/test_budget.py, which checks the bound.)
TIMED_TIERS = (cache.Tier(2 * cache.MB, 16), cache.Tier(16 * cache.MB, 4))
TIMED_TIERS += (cache.Tier(160 * cache.MB, 1),)
_timed_runs = cache.SizedCache(_each, TIMED_TIERS, show_spinner="Training each batch size…")


@st.cache_data(max_entries=16, show_spinner="Running every seed…", hash_funcs=HASH_FUNCS)
def seed_ensemble(
    settings: Settings, sizes: tuple[int, ...], seeds: int, csv: bytes | None
) -> tuple[Ensemble, ...]:
    """``seeds`` runs per batch size, seeds ``seed, seed + 1, …``, reduced as each finishes.

    Seed s draws the same row orders at every batch size (the permutations do not depend on
    the batch size), so the batch sizes differ only in how they cut those orders into batches.
    Only one run is alive at a time: each seed leaves its thinned full loss (m ≤ a few
    thousand points) and its end point, and the percentiles are taken over those. An entry
    holds 3 × (3 + 2) × m floats or so, well under a megabyte.
    """
    return tuple(_ensemble(settings, size, seeds, csv) for size in sizes)


def _ensemble(settings: Settings, size: int, seeds: int, csv: bytes | None) -> Ensemble:
    """One batch size's seeds, streamed (see ``seed_ensemble``)."""
    losses: list[np.ndarray] = []  # (m,) per finished seed: the thinned full loss
    ends: list[np.ndarray] = []  # (P,) per finished seed
    steps = samples = np.zeros(0, dtype=int)
    first = None
    for k in range(seeds):
        run = _fit(settings, csv, size, settings.seed + k)
        first = first or (run.updates_per_epoch, run.n_train)
        if run.diverged_at is None:
            if not losses:  # finished runs share loss_steps: they depend only on the plan
                kept = charts.thin(run.loss_steps.size, run.updates_per_epoch)
                steps = run.loss_steps[kept]
                samples = run.samples_seen[steps]
            losses.append(run.loss[kept].copy())  # a copy: the view would keep the run alive
            ends.append(run.params[-1].copy())
        del run  # released before the next seed runs: one run alive at a time
    if losses:
        percentiles = np.percentile(np.stack(losses), BAND_PERCENTILES, axis=0)  # (3, m)
    else:
        percentiles = np.zeros((3, 0))
    updates_per_epoch, n_train = first
    return Ensemble(
        size,
        updates_per_epoch,
        n_train,
        steps,
        samples,
        percentiles,
        np.array(ends).reshape(len(ends), len(settings.spec.parameters)),
        seeds,
    )


def offer(settings: Settings, mini_batch: int | None, seeds: int) -> lesson.Offer | None:
    """The nearest setting within the work budget: fewer seeds, else fewer epochs."""
    fewer = budget.nearest(range(1, seeds), lambda k: work(settings, mini_batch, k))
    if fewer is not None:
        return lesson.Offer(f"Use {fewer} seeds per batch size", widgets={"seeds": fewer})
    less = lesson.epochs_offer(
        lambda e: work(dataclasses.replace(settings, epochs=e), mini_batch, 1), settings
    )
    return None if less is None else dataclasses.replace(less, widgets={"seeds": 1})


def work(settings: Settings, mini_batch: int | None, seeds: int) -> int:
    """This page's work for one request (``ui.budget``): each batch size runs ``seeds`` times
    for the bands and once more for the paths; then the loss surface (with the run it goes
    through, ``plane_settings``, trained once more for the network's slice) and the window
    that follows the paths."""
    s = settings
    sizes = batch_sizes(s.n_train, mini_batch)
    each = sum(run_work(s.model, s.n_train, size, s.epochs) for size in sizes)
    plane = plane_settings(s, mini_batch)
    slice_runs = 0 if s.spec.two_parameters else 1  # a two-parameter surface needs no run
    contours = lesson.trained_work(plane, runs=slice_runs)
    return each * (seeds + 1) + contours + cache.grid_work(s, cache.WIDE_GRID)


def plane_settings(settings: Settings, mini_batch: int | None) -> Settings:
    """The settings whose loss surface every contour chart of the page draws on: the middle
    run's (the mini-batch, else full batch). For the network its slice goes through the end
    of that run (``ui.cache.Surface``); a model with two parameters draws the same surface at
    any batch size."""
    s = _normalized(settings)
    sizes = batch_sizes(s.n_train, mini_batch)
    return dataclasses.replace(s, batch_size=sizes[len(sizes) // 2])


@dataclass(frozen=True)
class Comparison:
    """Everything the page shows, for one set of settings."""

    runs: tuple[gd.Run, ...]
    curves: tuple[Curve, ...]
    bands: tuple[Band, ...]
    paths: tuple[charts.Path, ...]
    start_loss: float
    target_loss: float
    cost: CostModel
    contour_settings: Settings  # what the contours are drawn for (``plane_settings``)
    surface: cache.Surface  # their loss surface: the parameters, or the network's slice

    @property
    def plane_run(self) -> str:
        """The label of the run the network's slice goes through (``plane_settings``)."""
        size = self.contour_settings.batch_size
        return next(band.label for band in self.bands if band.batch_size == size)


def compare_for(settings: Settings, mini_batch: int | None, seeds: int) -> Comparison:
    """The runs and the seed ensembles for these settings, as drawable records; time comes
    from the measured cost model (``cost_model``)."""
    s = _normalized(settings)
    csv = cache.uploaded_csv(s)
    sizes = batch_sizes(s.n_train, mini_batch)
    trained = runs(s, sizes, csv)
    ensembles = seed_ensemble(s, sizes, seeds, csv)
    model = cost_model(s.model)
    contour_settings = plane_settings(s, mini_batch)
    surface = cache.surface_for(contour_settings)
    curves, bands, paths = [], [], []
    for run, ensemble in zip(trained, ensembles, strict=True):
        name, hue = label(run.batch_size, run.n_train), color(run.batch_size, run.n_train)
        ends = gd.rules.epoch_ends(run.updates_per_epoch, run.epoch_loss.size)
        curves.append(
            Curve(
                name,
                hue,
                run.batch_size,
                run.updates_per_epoch,
                axes_at(run.loss_steps, run.samples_seen[run.loss_steps], run.n_train, model),
                run.loss,
                run.diverged_at is not None,
                axes_at(ends, run.samples_seen[ends], run.n_train, model),
                run.epoch_loss,
            )
        )
        low, median, high = ensemble.percentiles
        bands.append(
            Band(
                name,
                hue,
                run.batch_size,
                run.updates_per_epoch,
                axes_at(ensemble.steps, ensemble.samples, run.n_train, model),
                low,
                median,
                high,
                ensemble.ends,
                surface.project(ensemble.ends),
                ensemble.seeds,
            )
        )
        paths.append(charts.path_from_run(run, name, hue, plane=surface.plane))
    start = float(trained[0].loss[0])
    minimum = surface.min_loss
    return Comparison(
        tuple(trained),
        tuple(curves),
        tuple(bands),
        tuple(paths),
        start,
        minimum + TARGET_FRACTION * (start - minimum),
        model,
        contour_settings,
        surface,
    )


def contours_for(comparison: Comparison) -> cache.Contours:
    """The contour window for the comparison's paths (``cache.contours_following``)."""
    return cache.contours_following(comparison.contour_settings, comparison.paths)


def paths_in(comparison: Comparison, window: cache.Contours) -> tuple[charts.Path, ...]:
    """The comparison's paths, each stopped where it first leaves ``window`` (a blow-up
    followed as far as the window widens: ``charts.path_from_run``)."""
    ranges = (
        (float(window.axis0[0]), float(window.axis0[-1])),
        (float(window.axis1[0]), float(window.axis1[-1])),
    )
    plane = comparison.surface.plane
    return tuple(
        charts.path_from_run(run, path.label, path.color, path.dash, window=ranges, plane=plane)
        for run, path in zip(comparison.runs, comparison.paths, strict=True)
    )


def first_reach(band: Band, target: float, unit: str) -> float | None:
    """Where ``band``'s median loss first gets to ``target`` or below, in ``unit``; else None.

    Example:
        >>> from ui.batch_sizes_charts import Axes
        >>> x, loss = np.arange(4.0), np.array([4, 3, 1, 0.5])
        >>> band = Band("b", "#000000", 1, 1, Axes(x, x, x, x), loss, loss, loss, x[:0], x[:0], 1)
        >>> first_reach(band, 2.0, "updates"), first_reach(band, 0.1, "updates")
        (2.0, None)
    """
    hits = np.flatnonzero(band.median <= target)
    return float(band.x.along(unit)[hits[0]]) if hits.size else None


def _amount(value: float, unit: str) -> str:
    if unit == "updates":
        return f"{value:,.0f} update{'s' * (value != 1)}"
    if unit == "samples":
        return f"{value:,.0f} sample{'s' * (value != 1)}"
    if unit == "epochs":
        return f"{value:.3g} epoch{'s' * (value != 1)}"
    return f"{value:.3g} ms"


@dataclass(frozen=True)
class Race:
    """Who reached the target first in one unit, and by how much."""

    unit: str
    order: tuple[tuple[Band, float], ...]  # (band, where it first got there), first first
    missed: tuple[Band, ...]  # the batch sizes that never got there

    @property
    def winner(self) -> Band | None:
        return self.order[0][0] if self.order else None

    def sentence(self) -> str:
        """``counting updates, **batch size 1** (24 updates), 3.5× fewer than mini-batch 32
        (84 updates)``: the winner, where, and its margin over the runner-up."""
        if not self.order:
            return f"counting {UNITS[self.unit]}, nobody"
        (first, at), rest = self.order[0], self.order[1:]
        text = f"counting {UNITS[self.unit]}, **{first.label}** ({_amount(at, self.unit)})"
        if rest:
            second, later = rest[0]
            fewer = "less" if self.unit == "time" else "fewer"
            if later <= at:
                text += f", tied with {second.label}"
            elif at > 0:
                text += (
                    f", {later / at:.3g}× {fewer} than {second.label} ({_amount(later, self.unit)})"
                )
        elif self.missed:
            text += ", the only one to get there"
        return text


def race(bands: Sequence[Band], target: float, unit: str) -> Race:
    """The batch sizes in the order they first reach ``target`` in ``unit`` (a tie goes to
    the smaller batch size)."""
    reached = [(first_reach(b, target, unit), i) for i, b in enumerate(bands)]
    order = tuple((bands[i], x) for x, i in sorted((x, i) for x, i in reached if x is not None))
    missed = tuple(bands[i] for x, i in reached if x is None)
    return Race(unit, order, missed)


def winners(bands: Sequence[Band], target: float) -> dict[str, Band | None]:
    """For each unit, the batch size whose median first reaches ``target`` (None if none does).

    A tie goes to the smaller batch size.
    """
    return {unit: race(bands, target, unit).winner for unit in UNITS}


def winners_sentence(
    bands: Sequence[Band], target: float, start: float, minimum: float, where: str = "the minimum"
) -> str:
    """Which batch size gets close to the minimum (``where``: what the contours' ✕ is,
    ``charts.target_words``) first, unit by unit with its margin over the next, and whether
    the units agree."""
    goal = (
        f"Call a batch size *close* once the median full training loss over its seeds is at or "
        f"below {target:.4g}, that is {1 - TARGET_FRACTION:.0%} of the way from the start "
        f"({start:.4g}) down to {where} ({minimum:.4g})."
    )
    races = [race(bands, target, unit) for unit in UNITS]
    if all(r.winner is None for r in races):
        return f"{goal} No batch size gets there within these epochs, so no unit has a winner."
    names = {r.winner.label for r in races if r.winner is not None}
    ties = any(", tied with " in r.sentence() for r in races if r.winner is not None)
    if len(names) > 1:
        verdict = (
            "**Different units crown different winners**: a step, a pass over the data and a "
            "millisecond are not the same cost."
        )
    elif ties:  # a tie in some unit: "wins in every unit" would contradict it
        verdict = "No other batch size gets there first in any unit, though some tie it."
    else:
        verdict = "Here the same batch size wins in every unit."
    missed = sorted({b.label for r in races for b in r.missed})
    never = f" Never there: {', '.join(missed)}." if missed else ""
    parts = "; ".join(r.sentence() for r in races if r.winner is not None)
    return f"{goal} First there, {parts}.{never} {verdict}"


def last_epoch_spread(run: gd.Run) -> float | None:
    """RMS distance of the last epoch's parameters (its start and each update) from their mean:
    how much the path still moved in its last epoch, drift and jitter alike (so full batch,
    which has no sampling noise, can read higher than a mini-batch that has settled).

    Example:
        >>> import gd
        >>> data = gd.datasets.linear(n=20, seed=0)
        >>> run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1),
        ...              gd.Training(epochs=3), batch_size=20)
        >>> round(last_epoch_spread(run), 6) == round(float(np.linalg.norm(run.params[3] -
        ...     run.params[2])) / 2, 6)
        True
    """
    if run.diverged_at is not None:
        return None
    return spread(run.params[run.updates - run.updates_per_epoch :])  # (updates_per_epoch + 1, P)


def end_spread(band: Band) -> float | None:
    """RMS distance of the seeds' final parameters from their mean (None with no finished seed)."""
    return spread(band.ends) if band.ends.shape[0] else None


def table(comparison: Comparison) -> pd.DataFrame:
    """One row per batch size, each column a number with its unit in its name (a diverged run
    is said in the warning above and the takeaway, and has no final loss here)."""
    rows = []
    model = comparison.cost
    for run, band in zip(comparison.runs, comparison.bands, strict=True):
        diverged = run.diverged_at is not None
        rows.append(
            {
                "run": band.label,
                "batch size": run.batch_size,
                "updates / epoch": run.updates_per_epoch,
                "updates": run.updates,
                "ms / epoch": model.ms_per_epoch(run.batch_size, run.n_train),
                "final loss": None if diverged else float(run.loss[-1]),
                "last-epoch spread": last_epoch_spread(run),
                "end spread": end_spread(band),
            }
        )
    return pd.DataFrame(rows)


TABLE_FORMATS = {  # how each row of ``table_view`` shows its numbers
    "batch size": "{:,.0f}",  # whole numbers (a transposed table holds floats only)
    "updates / epoch": "{:,.0f}",
    "updates": "{:,.0f}",
    "ms / epoch": "{:.3g}",
    "final loss": "{:.4g}",
    "last-epoch spread": "{:.3g}",
    "end spread": "{:.3g}",
}


def table_view(comparison: Comparison):
    """``table`` for ``st.table``, one column per run and one row per quantity, so it stays
    four columns wide and fits a 360-px phone as well as a projector: numbers to 3 or 4
    significant digits, an empty cell where a run diverged.

    Example:
        >>> comparison = compare_for(Settings(n=20, epochs=2), 8, 2)
        >>> view = table_view(comparison)
        >>> view.data.columns.tolist()
        ['batch size 1 (stochastic)', 'mini-batch 8', 'full batch (20)']
        >>> view.data.loc["updates / epoch"].tolist() == [20, 3, 1]
        True
        >>> view.to_html().count(">20<"), view.to_html().count(">20.0<")
        (2, 0)
    """
    frame = table(comparison).set_index("run").T  # (quantities, runs)
    frame.columns.name = None
    styler = frame.style
    for row, form in TABLE_FORMATS.items():
        styler = styler.format(form, subset=pd.IndexSlice[[row], :], na_rep="—")
    return styler


def run_ms(comparison: Comparison, run: gd.Run) -> float:
    """The cost model's milliseconds for the updates ``run`` applied."""
    return float(comparison.cost.ms(run.updates, run.samples_seen[run.updates]))


def takeaway(comparison: Comparison) -> str:
    """What the charts showed, in the runs' own numbers."""
    sentences = []
    for run, band in zip(comparison.runs, comparison.bands, strict=True):
        cost = f"{run_ms(comparison, run):.3g} ms by the cost model"
        if run.diverged_at is not None:
            sentences.append(
                f"{band.label} diverged at update {run.diverged_at:,} ({cost} to get there)"
            )
            continue
        spread = end_spread(band)
        kept = band.ends.shape[0]
        where = (
            ""
            if spread is None
            else f", and its {kept} seeds' end points lie {spread:.2g} (RMS) from their mean"
        )
        sentences.append(
            f"{band.label} reached loss {run.loss[-1]:.4g} after {run.updates:,} updates and "
            f"{cost}{where}"
        )
    return (
        "; ".join(sentences)
        + ". Per epoch, smaller batches take more steps, each cheaper and noisier; the full "
        "batch takes one exact step, so its seeds differ only in rounding."
    )


def seeds_note(comparison: Comparison) -> str | None:
    """Which batch sizes lost seeds to divergence, if any."""
    lost = [
        f"{band.seeds - band.ends.shape[0]} of {band.seeds} seeds at {band.label}"
        for band in comparison.bands
        if band.ends.shape[0] < band.seeds
    ]
    if not lost:
        return None
    return f"Diverged and left out of the band and the dots: {', '.join(lost)}."
