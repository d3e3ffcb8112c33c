"""Lesson "Hyperparameter maps" (``lessons/maps.py``): cached sweeps, the sentences that read
them, and their heatmaps.

The sweep is one compiled call per seed (``gd.sweep``); each cell equals ``gd.fit`` for its
settings. Heatmaps are drawn on log axes in index-free coordinates (log₁₀ learning rate,
log₂ batch size), so the stability bound and the linear-scaling line are straight lines.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import gd
from gd import Sweep, stability_bound, sweep
from gd.rules import powers_of_two_below
from ui import budget, charts, controls, glossary, lesson
from ui.budget import run_work
from ui.cache import optimizer_for, training_rows, uploaded_csv
from ui.controls import HASH_FUNCS, MOMENTUMS, Settings

SEEDS = "map_seeds"  # the "Seeds per cell" widget's key
PLAYGROUND = "lessons/playground.py"
CELLS = "cells"  # the name of each map's hover-and-click layer
OPEN = "_map_cell_to_open"  # the run a click on a map chose (see ``chart``)
MAP_RATES = np.array([float(f"{r:.2g}") for r in np.geomspace(1e-4, 10.0, 21)])  # (21,)


def batch_sizes_for(n_train: int) -> np.ndarray:
    """Powers of two below the training rows, then full batch."""
    return np.array(sorted({*powers_of_two_below(n_train), n_train}))


@dataclass(frozen=True)
class Unstable:
    """A cell above the stability bound whose run had not diverged by its end, in the numbers
    of its first seed's run: the loss is growing, just not yet past the threshold."""

    row: int
    column: int
    lowest: float  # the run's lowest full training loss
    final: float  # its loss at the end
    threshold: float  # the loss at which ``gd.fit`` calls a run diverged

    @property
    def rising(self) -> bool:
        """The run ended above its own lowest loss: the overshoot had started to grow."""
        return self.final > self.lowest * (1 + 1e-9)


@dataclass(frozen=True)
class Map:
    """One map: the median over seeds of each cell's final loss, and where runs diverged."""

    rates: np.ndarray  # (L,)
    columns: np.ndarray  # (C,) batch sizes or momentums
    loss: np.ndarray  # (L, C) median final training loss over seeds; NaN where any diverged
    diverged: np.ndarray  # (L, C) True if any seed diverged
    start_loss: float  # training loss at the start point, the same for every cell
    unstable: tuple[Unstable, ...] = ()  # above the bound, not diverged yet


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=HASH_FUNCS)
def sweep_seed(settings: Settings, csv: bytes | None, axis: str, seed: int) -> Sweep:
    """One seed of a map: learning rate × batch size, or learning rate × momentum."""
    x, y = training_rows(settings, csv)
    by_batch = axis == "batch_size"
    opt = optimizer_for(settings)
    return sweep(
        settings.spec.build(),
        x,
        y,
        opt if by_batch else dataclasses.replace(opt, nesterov=False),
        gd.Training(epochs=settings.epochs, shuffle=settings.shuffle, init=settings.start),
        learning_rates=MAP_RATES,
        batch_sizes=batch_sizes_for(y.size) if by_batch else [settings.batch_size],
        momentums=None if by_batch else MOMENTUMS,
        seeds=[seed],
    )


SEED_CHOICES = (1, 2, 3, 5)  # the "Seeds per cell" slider's stops
DEFAULT_SEEDS = 3  # the most seeds a cell gets by default, when they fit the work budget


def default_seeds(settings: Settings) -> int:
    """The slider's default: ``DEFAULT_SEEDS``, or the most below it whose work fits, so a
    link without ``map_seeds`` draws maps where it can (the network's 200 rows and 20 epochs
    fit 2 seeds; the page offers fewer epochs when not even 1 fits).

    Example:
        >>> default_seeds(Settings()), default_seeds(Settings(model="network"))
        (3, 2)
    """
    fitting = [k for k in SEED_CHOICES if k <= DEFAULT_SEEDS]
    return budget.nearest(fitting, lambda k: work(settings, k)) or DEFAULT_SEEDS


def work(settings: Settings, seeds: int) -> int:
    """Both maps' work for one request (``ui.budget``): every learning rate at every batch
    size, then at every momentum at the chosen batch size, ``seeds`` times; and the loss
    surface whose ✕ the colours are measured from (``lesson.trained_work``: for the network,
    the settings' run, the best point found and the slice)."""
    s = settings

    def at(batch_size: int) -> int:
        return run_work(s.model, s.n_train, int(batch_size), s.epochs)

    by_batch = sum(at(size) for size in batch_sizes_for(s.n_train))
    by_momentum = len(MOMENTUMS) * at(s.batch_size)
    return seeds * MAP_RATES.size * (by_batch + by_momentum) + lesson.trained_work(s)


def offer(settings: Settings, seeds: int) -> lesson.Offer | None:
    """The nearest setting within the work budget: fewer seeds per cell, else fewer epochs."""
    fewer = budget.nearest([k for k in SEED_CHOICES if k < seeds], lambda k: work(settings, k))
    if fewer is not None:
        return lesson.Offer(f"Use {fewer} seed{'s' * (fewer > 1)} per cell", widgets={SEEDS: fewer})
    less = lesson.epochs_offer(lambda e: work(dataclasses.replace(settings, epochs=e), 1), settings)
    return None if less is None else dataclasses.replace(less, widgets={SEEDS: 1})


def combine(sweeps: list[Sweep], axis: str, start_loss: float) -> Map:
    """Median over seeds; a cell counts as diverged when any of its seeds diverged."""
    squeeze = (slice(None), slice(None), 0) if axis == "batch_size" else (slice(None), 0)
    loss = np.stack([s.final_loss[squeeze][..., 0] for s in sweeps], axis=-1)  # (L, C, S)
    diverged = np.stack([s.diverged[squeeze][..., 0] for s in sweeps], axis=-1).any(axis=-1)
    columns = sweeps[0].batch_sizes if axis == "batch_size" else sweeps[0].momentums
    with np.errstate(all="ignore"):
        median = np.where(diverged, np.nan, np.median(loss, axis=-1))
    return Map(sweeps[0].learning_rates, columns, median, diverged, start_loss)


def start_loss(settings: Settings) -> float:
    """Training loss at the start point: a cell that ends above it made things worse."""
    return settings.spec.build().loss(
        settings.start, *training_rows(settings, uploaded_csv(settings))
    )


def column_bounds(bound: float | None, result: Map, axis: str) -> np.ndarray | None:
    """The stability bound of each column: ``bound`` for a batch-size map (at its momentum),
    ``bound·(1 + μ)`` for a momentum map (``bound`` is then 2/λmax); None without a bound."""
    if bound is None:
        return None
    if axis == "batch_size":
        return np.full(result.columns.size, bound)
    return bound * (1 + result.columns.astype(float))


def above_bound(result: Map, bounds: np.ndarray | None) -> list[tuple[int, int]]:
    """Cells whose rate is above their column's bound but whose runs did not diverge."""
    if bounds is None:
        return []
    rows, columns = np.nonzero((result.rates[:, None] > bounds[None, :]) & ~result.diverged)
    return list(zip(rows.tolist(), columns.tolist(), strict=True))


@st.cache_data(
    max_entries=32, show_spinner="Checking the runs just above the bound…", hash_funcs=HASH_FUNCS
)
def _unstable(
    settings: Settings, csv: bytes | None, axis: str, cells: tuple[tuple[float, float], ...]
) -> tuple[tuple[float, float, float], ...]:
    """(lowest loss, final loss, threshold) of each cell's first-seed run."""
    x, y = training_rows(settings, csv)
    out = []
    for rate, column in cells:
        s = cell_settings(settings, rate, column, axis)
        run = gd.fit(
            s.spec.build(),
            x,
            y,
            optimizer_for(s),
            gd.Training(epochs=s.epochs, shuffle=s.shuffle, seed=s.seed, init=s.start),
            batch_size=s.batch_size,
        )
        out.append((float(np.nanmin(run.loss)), float(run.loss[-1]), run.divergence_threshold))
    return tuple(out)


def with_unstable(settings: Settings, result: Map, axis: str, bound: float | None) -> Map:
    """``result`` with its cells above the bound that had not diverged, each with its run's
    own lowest and final loss (``Unstable``)."""
    cells = above_bound(result, column_bounds(bound, result, axis))
    if not cells:
        return result
    keys = tuple((float(result.rates[i]), result.columns[j].item()) for i, j in cells)
    numbers = _unstable(settings, uploaded_csv(settings), axis, keys)
    found = tuple(Unstable(i, j, *n) for (i, j), n in zip(cells, numbers, strict=True))
    return dataclasses.replace(result, unstable=found)


def largest_stable_rate(result: Map, column: int) -> float | None:
    """The largest learning rate whose runs neither diverged, nor ended above the start loss,
    nor sit above the stability bound (``Map.unstable``: growing, not diverged yet)."""
    with np.errstate(invalid="ignore"):
        improved = result.loss[:, column] < result.start_loss  # NaN (diverged) compares False
    for u in result.unstable:
        if u.column == column:
            improved[u.row] = False
    stable = result.rates[improved]
    return float(stable.max()) if stable.size else None


def _settled(result: Map) -> np.ndarray:
    """The final losses with the cells above the bound (``Map.unstable``) left out: (L, C)."""
    loss = result.loss.copy()
    for u in result.unstable:
        loss[u.row, u.column] = np.nan
    return loss


def best_rate(result: Map, column: int) -> float | None:
    """The learning rate with the lowest final loss in one column, leaving out diverged cells
    and those above the bound (None if nothing is left)."""
    loss = _settled(result)[:, column]
    if np.all(np.isnan(loss)):
        return None
    return float(result.rates[int(np.nanargmin(loss))])


def gaps(result: Map, minimum: float) -> np.ndarray:
    """(L, C) each cell's final loss above the minimum of the training loss, what the maps
    colour: on a log scale the good region's band shows (in plain loss, every converged cell
    is one colour). A gap within rounding of 0 counts as a millionth of the minimum (or 1)."""
    with np.errstate(invalid="ignore"):
        return np.maximum(result.loss - minimum, 1e-6 * max(abs(minimum), 1.0))


def loss_scale(*maps: Map, minimum: float = 0.0) -> tuple[float, float]:
    """One colour range for every map on the page: their smallest and largest final loss
    above ``minimum`` (the cells that did not diverge)."""
    every = np.concatenate([gaps(m, minimum).ravel() for m in maps])
    every = every[np.isfinite(every) & (every > 0)]
    return (float(every.min()), float(every.max())) if every.size else (0.1, 10.0)


def best_cell(result: Map) -> tuple[int, int]:
    """(rate index, column index) of the lowest median final loss, leaving out the cells above
    the bound (``Map.unstable``), which would blow up with more epochs."""
    loss = _settled(result)
    if np.all(np.isnan(loss)):
        return 0, 0
    row, column = np.unravel_index(np.nanargmin(loss), loss.shape)
    return int(row), int(column)


def bound_for(settings: Settings, momentum: float) -> float | None:
    """The full-batch stability bound of a model with a closed form, or None for the others."""
    if not settings.spec.closed_form:
        return None
    return stability_bound(*training_rows(settings, uploaded_csv(settings)), momentum)


# Said once, where a map would draw the bound, for a model without one (``bound_for``).
NO_BOUND = (
    "This model has no closed-form stability bound 2(1 + μ)/λmax, so the maps draw no dashed "
    "line: its curvature changes as it trains (see the sharpness chart on the Playground)."
)


def batch_caption(bound: float | None) -> str:
    """What the batch-size map's marks and its dotted line mean, and where the rule fails."""
    ringed = (
        "; ringed cells sit above the stability bound and had not diverged yet" if bound else ""
    )
    limit = "the rate meets the stability bound" if bound else "the rate is too large to be stable"
    return (
        f"Crossed-out cells diverged{ringed}. The dotted line, lr ∝ batch size through the best "
        f"cell, is the {glossary.first('linear-scaling rule')} of Goyal et al. (2017): with the "
        "same number of epochs, k times larger batches take k times fewer steps, so each step "
        f"may be k times longer. It fails once {limit}, and for batches so small that noise "
        "dominates."
    )


def momentum_intro(settings: Settings, bound: float | None) -> str:
    """The momentum map's heading paragraph: what momentum does to the bound, drawn or not."""
    where = "(the dashed line)" if bound else "on a quadratic loss"
    return (
        f"The same sweep at batch size {settings.batch_size}, now across momentum. "
        f"{glossary.first('Heavy-ball momentum')} widens the stable range of learning rates to "
        f"2(1 + μ)/λmax {where}, but near μ = 1 the path rings for many steps, so the final "
        "loss can still be poor."
    )


def takeaway(bound: float | None) -> str:
    """What both maps show, with the bound or without one (``NO_BOUND``)."""
    if bound is None:
        return (
            "The good region is a band: the learning rate that works best grows with the batch "
            "size, until the runs blow up. Where that happens has no closed form for this "
            "model; the crossed-out cells mark it."
        )
    return (
        "The good region is a diagonal band: the learning rate that works best grows with the "
        "batch size until it meets the stability bound, which no batch size can cross. Just "
        "above the bound a short run may not have blown up yet; it is unstable all the same."
    )


def cell_settings(settings: Settings, rate: float, column: float, axis: str) -> Settings:
    """The Playground settings of one cell."""
    change = {"learning_rate": float(rate), axis: column}
    if axis == "momentum" and column == 0.0:
        change["nesterov"] = False
    return dataclasses.replace(settings, **change)


def heatmap(
    result: Map,
    axis: str,
    bound: float | None,
    title: str,
    scale: tuple[float, float] | None = None,
    minimum: float = 0.0,
    target: str = "minimum",
) -> go.Figure:
    """Final loss above ``minimum`` per cell (``gaps``) on a log colour scale labelled in loss
    (``scale``: the range shared by every map on the page); diverged cells are blank AND
    crossed out (not only coloured); cells above the bound that had not diverged yet are ringed.

    ``bound`` is the stability bound at the map's momentum for a batch-size map, and at
    momentum 0 (2/λmax) for a momentum map, whose line is then 2(1 + μ)/λmax.
    """
    by_batch = axis == "batch_size"
    x = cell_x(result, axis)
    y = np.log10(result.rates)
    with np.errstate(all="ignore"):
        z = np.log10(gaps(result, minimum))
    low, high = scale if scale is not None else loss_scale(result, minimum=minimum)
    column_labels = [f"{c:g}" for c in result.columns]
    fig = go.Figure(
        go.Heatmap(
            x=x,
            y=y,
            z=z,
            zmin=np.log10(low),
            zmax=np.log10(high),
            colorscale=charts.LOSS_SCALE,
            colorbar={
                **charts.loss_colorbar(low, high),
                "title": {"text": f"final loss − {target}" if minimum else "final loss"},
            },
            name="final loss",
            hoverinfo="skip",  # the cells trace below says it in numbers, not log₁₀
        )
    )
    rows, columns = np.nonzero(result.diverged)
    if rows.size:
        fig.add_trace(
            go.Scatter(
                x=x[columns],
                y=y[rows],
                mode="markers",
                name="diverged",
                marker={
                    "symbol": "x-thin",
                    "size": 9,
                    "line": {"width": 2, "color": charts.VERMILION},
                },
                hoverinfo="skip",
            )
        )
    if result.unstable:
        cells = result.unstable
        fig.add_trace(
            go.Scatter(
                x=[x[u.column] for u in cells],
                y=[y[u.row] for u in cells],
                mode="markers",
                name="above the bound, not diverged yet",
                marker={
                    "symbol": "circle-open",
                    "size": 13,
                    "color": charts.SKY,
                    "line": {"width": 3, "color": charts.SKY},
                },
                hoverinfo="skip",
            )
        )
    if bound is not None:
        # by batch size: the bound at the chosen momentum; by momentum: 2(1 + μ)/λmax per column
        bound_y = np.log10(np.full(x.size, bound) if by_batch else bound * (1 + result.columns))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=bound_y,
                mode="lines",
                name="full-batch stability bound 2(1+μ)/λmax",
                line={"color": charts.BLACK, "width": 2, "dash": "dash"},
                hoverinfo="skip",
            )
        )
    row, column = best_cell(result)
    fig.add_trace(
        go.Scatter(
            x=[x[column]],
            y=[y[row]],
            mode="markers",
            name="lowest final loss",
            marker={
                "symbol": "star",
                "size": 16,
                "color": charts.YELLOW,
                "line": {"color": charts.BLACK, "width": 1},
            },
            hoverinfo="skip",
        )
    )
    if by_batch and not np.all(np.isnan(result.loss)):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y[row] + (x - x[column]) * np.log10(2),
                mode="lines",
                name="lr ∝ batch size through the best cell (rule of thumb)",
                line={"color": charts.ORANGE, "width": 2, "dash": "dot"},
                hoverinfo="skip",
            )
        )
    rows, columns = np.indices(result.loss.shape)  # (L, C) each: every cell, row by row
    fig.add_trace(
        go.Scatter(  # invisible, on top: hovering or clicking anywhere finds the nearest cell
            x=x[columns.ravel()],
            y=y[rows.ravel()],
            mode="markers",
            name=CELLS,
            showlegend=False,
            marker={"opacity": 0, "size": 1},
            customdata=[[text] for text in cell_texts(result, axis)],
            hovertemplate="%{customdata[0]}<extra></extra>",
            hoverlabel={
                "align": "left",
                "bgcolor": charts.WHITE,
                "bordercolor": charts.BLACK,
                "font": {"color": charts.BLACK, "size": 14},
            },
        )
    )
    fig.update_xaxes(
        title_text="batch size" if by_batch else "momentum μ",
        tickvals=x,
        ticktext=column_labels,
        range=[x[0] - 0.5, x[-1] + 0.5],
    )
    decades = np.arange(np.ceil(y[0] - 1e-9), np.floor(y[-1] + 1e-9) + 1)
    fig.update_yaxes(
        title_text="learning rate",
        tickvals=decades,
        ticktext=[charts.number_label(10.0**d) for d in decades],
        range=[y[0] - 0.1, y[-1] + 0.1],
    )
    fig = charts.layout(fig, title)
    # The nearest cell at any distance: the cells tile the plot, so that is the one under the
    # pointer. Dragging zooms, as before the map took clicks (Streamlit would make it pan).
    fig.update_layout(hovermode="closest", hoverdistance=-1, dragmode="zoom")
    return fig


def cell_x(result: Map, axis: str) -> np.ndarray:
    """The columns' x positions, (C,): log₂ batch size, or the momentum's index."""
    if axis == "batch_size":
        return np.log2(result.columns.astype(float))
    return np.arange(result.columns.size, dtype=float)


def cell_texts(result: Map, axis: str) -> list[str]:
    """What hovering each cell says, row by row (rate, then column), in plain numbers:
    "learning rate 0.056, batch size 32, final loss 0.2617", then what the marks on it mean.

    Example:
        >>> m = Map(np.array([0.1, 1.0]), np.array([1, 2]), np.array([[0.5, 0.4], [np.nan, 2]]),
        ...         np.array([[False, False], [True, False]]), 5.0)
        >>> for line in cell_texts(m, "batch_size")[1].split("<br>"):
        ...     print(line)
        learning rate 0.1, batch size 2, final loss 0.4
        the lowest final loss on the map (star)
        Click to open this run in the Playground
        >>> cell_texts(m, "momentum")[2].split("<br>")[0]
        'learning rate 1, momentum 1, diverged (crossed out)'
    """
    name = "batch size" if axis == "batch_size" else "momentum"
    best = best_cell(result) if not np.all(np.isnan(result.loss)) else None
    ringed = {(u.row, u.column): u for u in result.unstable}
    texts = []
    for i, rate in enumerate(result.rates):
        for j, column in enumerate(result.columns):
            loss = result.loss[i, j]
            state = "diverged (crossed out)" if result.diverged[i, j] else f"final loss {loss:.4g}"
            lines = [f"learning rate {rate:g}, {name} {column:g}, {state}"]
            if (i, j) == best:
                lines.append("the lowest final loss on the map (star)")
            if (i, j) in ringed:
                u = ringed[i, j]
                lines += [
                    f"above the stability bound (ringed): its loss fell to {u.lowest:.4g}",
                    f"and ended at {u.final:.4g}; with more epochs it blows up",
                ]
            lines.append("Click to open this run in the Playground")
            texts.append("<br>".join(lines))
    return texts


def clicked_cell(result: Map, axis: str, point: dict) -> tuple[int, int]:
    """(rate index, column index) of the cell nearest a clicked point (Streamlit's selection
    gives the point's ``x`` and ``y`` in the chart's coordinates: log₁₀ rate, ``cell_x``)."""
    row = int(np.argmin(np.abs(np.log10(result.rates) - float(point["y"]))))
    column = int(np.argmin(np.abs(cell_x(result, axis) - float(point["x"]))))
    return row, column


def summary(result: Map, axis: str) -> str:
    """The map in one sentence, with its numbers (under the chart, for screen readers).

    Example:
        >>> m = Map(np.array([0.1, 1.0]), np.array([1, 2]), np.array([[0.5, 0.4], [np.nan, 2]]),
        ...         np.array([[False, False], [True, False]]), 5.0)
        >>> print(summary(m, "batch_size"))  # doctest: +NORMALIZE_WHITESPACE
        Of 4 runs, 1 diverged (crossed out); the lowest final loss, 0.4, came from batch size 2
        at learning rate 0.1.
    """
    name = "batch size" if axis == "batch_size" else "momentum"
    cells = result.loss.size
    text = f"Of {cells} runs, {int(result.diverged.sum())} diverged (crossed out)"
    if result.unstable:
        text += (
            f" and {len(result.unstable)} sat above the stability bound without diverging yet "
            "(ringed)"
        )
    if np.all(np.isnan(result.loss)):
        return text + "."
    row, column = best_cell(result)
    return (
        f"{text}; the lowest final loss, {result.loss[row, column]:.4g}, came from {name} "
        f"{result.columns[column]:g} at learning rate {result.rates[row]:g}."
    )


def describe(result: Map, settings: Settings, bound: float | None) -> str:
    """What the batch-size map shows, in its own numbers: the largest stable rate at the
    chosen batch size and at full batch, what caps it (or ``NO_BOUND``), the cells above the
    bound that had not blown up yet (with their runs' losses), and how the best rate grows
    with the batch."""
    columns = result.columns
    # Without a bound, stable can only mean it did not diverge in these epochs.
    stable = "stayed stable" if bound is not None else "did not diverge"
    chosen = int(np.argmin(np.abs(columns - settings.batch_size)))
    full = columns.size - 1
    rates = {column: largest_stable_rate(result, column) for column in (chosen, full)}

    def size(column: int) -> str:
        return f"{int(columns[column])}" + (
            f" (full batch: {glossary.explain('full batch')})" if column == full else ""
        )

    if len(set(rates.values())) == 1 and chosen != full:
        rate = rates[chosen]
        parts = [
            f"at batch size {size(chosen)} and at {size(full)} alike, the largest rate that "
            f"lowered the loss and {stable} was {rate:g}"
            if rate is not None
            else f"at batch size {size(chosen)} and at {size(full)} no rate on the map lowered "
            f"the loss and {stable}"
        ]
    else:
        parts = [
            f"at batch size {size(column)} the largest rate that lowered the loss and {stable} "
            f"was {rate:g}"
            if rate is not None
            else f"at batch size {size(column)} no rate on the map lowered the loss and {stable}"
            for column, rate in rates.items()
        ]
    text = f"After {settings.epochs} epochs, " + "; ".join(parts) + "."
    same = chosen != full and None not in rates.values() and len(set(rates.values())) == 1
    if bound is not None:
        capped = " Both are capped by" if same else " No batch size can cross"
        text += (
            f"{capped} the full-batch stability bound {bound:.3g} = 2(1 + μ)/λmax (dashed "
            f"line), {glossary.explain('stability bound')}; λmax is "
            f"{glossary.explain('λmax')}. Smaller batches add noise and can blow up a little "
            "below the bound."
        )
    else:
        text += f" {NO_BOUND}"
    mine = [u for u in result.unstable if u.column == chosen] or list(result.unstable)
    if mine:
        u = min(mine, key=lambda cell: result.rates[cell.row])
        rate = result.rates[u.row]
        where = f"batch size {int(columns[u.column])}"
        trend = (
            f"its loss fell to {u.lowest:.4g} and then rose again to {u.final:.4g}"
            if u.rising
            else f"its loss was still {u.final:.4g}, the lowest of the run, as the other "
            "direction settled while the overshoot grew"
        )
        text += (
            f" The ringed cells sit above the bound but had not diverged yet: every step there "
            f"overshoots the valley a little more than the last, too slowly to pass the "
            f"divergence threshold {u.threshold:.3g} ({glossary.explain('divergence threshold')}) "
            f"in {settings.epochs} epochs. At "
            f"{where} and rate {rate:g}, {trend}. With more epochs they blow up."
        )
    best = [(int(columns[j]), best_rate(result, j)) for j in range(columns.size)]
    best = [(size, rate) for size, rate in best if rate is not None]
    if len(best) >= 2:
        (b0, r0), (b1, r1) = best[0], best[-1]
        held = ", held back by the bound" if bound is not None else ""
        grows = (
            f"{r1 / r0:.3g}× for a {b1 / b0:.3g}× larger batch"
            if r1 > r0
            else f"no larger here{held}"
        )
        until = ", until the bound stops it" if bound is not None else ""
        text += (
            f" What a bigger batch wants is a bigger *best* rate: the lowest final loss at batch "
            f"size {b0} came at rate {r0:g}, at batch size {b1} at rate {r1:g} ({grows}){until}. "
            "(“How big should my batch be?” picks the rate that reaches a target loss, and stays "
            "there, in the fewest updates instead, so its best rates differ.)"
        )
    return text


def chart(fig: go.Figure, result: Map, axis: str, settings: Settings, key: str) -> None:
    """Draw a map whose cells open their runs in the Playground when clicked.

    Plotly's click selects the nearest point of the invisible cells layer; Streamlit reports it
    to ``_clicked`` before the next run, and that run opens the page (a callback cannot).
    """
    st.plotly_chart(
        fig,
        key=key,
        on_select=functools.partial(_clicked, key, result, axis, settings),
        selection_mode="points",
    )
    target = st.session_state.pop(OPEN, None)
    if target is not None:
        controls.open_page(PLAYGROUND, target)


def _clicked(key: str, result: Map, axis: str, settings: Settings) -> None:
    points = st.session_state[key]["selection"]["points"]
    if points:
        row, column = clicked_cell(result, axis, points[0])
        value = result.columns[column].item()
        st.session_state[OPEN] = cell_settings(settings, result.rates[row], value, axis)


def cell_picker(result: Map, axis: str, settings: Settings, key: str) -> None:
    """Choose a cell (default: the best) and open exactly that run in the Playground: the way
    to a cell from the keyboard or a screen reader, where a click on the map is the mouse's."""
    row, column = best_cell(result)
    cells = [(i, j) for i in range(result.rates.size) for j in range(result.columns.size)]
    name = "batch size" if axis == "batch_size" else "momentum"

    def label(cell: tuple[int, int]) -> str:
        i, j = cell
        state = "diverged" if result.diverged[i, j] else f"final loss {result.loss[i, j]:.4g}"
        return f"learning rate {result.rates[i]:g}, {name} {result.columns[j]:g}: {state}"

    cell = st.selectbox(
        "Open a cell in the Playground",
        cells,
        index=cells.index((row, column)),
        format_func=label,
        key=key,
        help="Or click the cell on the map.",
    )
    value = result.columns[cell[1]].item()
    controls.page_link(
        st,
        PLAYGROUND,
        cell_settings(settings, result.rates[cell[0]], value, axis),
        label="Open this run in the Playground",
        icon=":material/open_in_new:",
    )
