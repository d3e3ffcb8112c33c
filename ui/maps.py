"""Lesson "Hyperparameter maps" (``lessons/maps.py``): cached sweeps, the sentences that read
them, and their heatmaps.

The sweep is one compiled call per seed (``gd.sweep``); each cell equals ``gd.fit`` for its
settings. Heatmaps are drawn on log axes in index-free coordinates (log₁₀ learning rate,
log₂ batch size), so the stability bound and the linear-scaling line are straight lines.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gd import Sweep, stability_bound, sweep
from gd.rules import powers_of_two_below
from ui import budget, charts, lesson
from ui.budget import run_work
from ui.cache import training_rows, uploaded_csv
from ui.controls import MOMENTUMS, Settings

SEEDS = "map_seeds"  # the "Seeds per cell" widget's key
MAP_RATES = np.array([float(f"{r:.2g}") for r in np.geomspace(1e-4, 10.0, 21)])  # (21,)


def batch_sizes_for(n_train: int) -> np.ndarray:
    """Powers of two below the training rows, then full batch."""
    return np.array(sorted({*powers_of_two_below(n_train), n_train}))


@dataclass(frozen=True)
class Map:
    """One map: the median over seeds of each cell's final loss, and where runs diverged."""

    rates: np.ndarray  # (L,)
    columns: np.ndarray  # (C,) batch sizes or momentums
    loss: np.ndarray  # (L, C) median final training loss over seeds; NaN where any diverged
    diverged: np.ndarray  # (L, C) True if any seed diverged
    start_loss: float  # training loss at the start point, the same for every cell


@st.cache_data(max_entries=32, show_spinner=False)
def sweep_seed(settings: Settings, csv: bytes | None, axis: str, seed: int) -> Sweep:
    """One seed of a map: learning rate × batch size, or learning rate × momentum."""
    x, y = training_rows(settings, csv)
    by_batch = axis == "batch_size"
    return sweep(
        settings.spec.build(),
        x,
        y,
        learning_rates=MAP_RATES,
        batch_sizes=batch_sizes_for(y.size) if by_batch else [settings.batch_size],
        momentums=[settings.momentum] if by_batch else MOMENTUMS,
        seeds=[seed],
        epochs=settings.epochs,
        decay=settings.decay,
        nesterov=settings.nesterov and by_batch,
        convention=settings.convention,
        shuffle=settings.shuffle,
        init=settings.start,
    )


SEED_CHOICES = (1, 2, 3, 5)  # the "Seeds per cell" slider's stops


def work(settings: Settings, seeds: int) -> int:
    """Both maps' work for one request (``ui.budget``): every learning rate at every batch
    size, then at every momentum at the chosen batch size, ``seeds`` times."""
    s = settings

    def at(batch_size: int) -> int:
        return run_work(s.model, s.n_train, int(batch_size), s.epochs)

    by_batch = sum(at(size) for size in batch_sizes_for(s.n_train))
    by_momentum = len(MOMENTUMS) * at(s.batch_size)
    return seeds * MAP_RATES.size * (by_batch + by_momentum)


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


def largest_stable_rate(result: Map, column: int) -> float | None:
    """The largest learning rate whose runs neither diverged nor ended above the start loss."""
    with np.errstate(invalid="ignore"):
        improved = result.loss[:, column] < result.start_loss  # NaN (diverged) compares False
    stable = result.rates[improved]
    return float(stable.max()) if stable.size else None


def best_cell(result: Map) -> tuple[int, int]:
    """(rate index, column index) of the lowest median final loss."""
    if np.all(np.isnan(result.loss)):
        return 0, 0
    row, column = np.unravel_index(np.nanargmin(result.loss), result.loss.shape)
    return int(row), int(column)


def bound_for(settings: Settings, momentum: float) -> float | None:
    """The full-batch stability bound of a model with a closed form, or None for the others."""
    if not settings.spec.closed_form:
        return None
    return stability_bound(*training_rows(settings, uploaded_csv(settings)), momentum)


def cell_settings(settings: Settings, rate: float, column: float, axis: str) -> Settings:
    """The Playground settings of one cell."""
    change = {"learning_rate": float(rate), axis: column}
    if axis == "momentum" and column == 0.0:
        change["nesterov"] = False
    return dataclasses.replace(settings, **change)


def heatmap(result: Map, axis: str, bound: float | None, title: str) -> go.Figure:
    """log₁₀ final loss per cell; diverged cells are blank AND crossed out (not only coloured).

    ``bound`` is the stability bound at the map's momentum for a batch-size map, and at
    momentum 0 (2/λmax) for a momentum map, whose line is then 2(1 + μ)/λmax.
    """
    by_batch = axis == "batch_size"
    x = np.log2(result.columns) if by_batch else np.arange(result.columns.size, dtype=float)
    y = np.log10(result.rates)
    with np.errstate(all="ignore"):
        z = np.log10(result.loss)
    text = [[f"{rate:g}" for _ in result.columns] for rate in result.rates]
    column_labels = [f"{c:g}" for c in result.columns]
    fig = go.Figure(
        go.Heatmap(
            x=x,
            y=y,
            z=z,
            colorscale="Viridis",
            colorbar={"title": {"text": "log₁₀ final loss", "side": "right"}, "thickness": 12},
            customdata=np.array(text),
            name="final loss",
            hovertemplate=f"{'batch size' if by_batch else 'momentum'} %{{x}}"
            "<br>learning rate %{customdata}<br>log₁₀ loss %{z:.3f}<extra></extra>",
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
    if bound is not None:
        # by batch size: the bound at the chosen momentum; by momentum: 2(1 + μ)/λmax per column
        bound_y = np.log10(np.full(x.size, bound) if by_batch else bound * (1 + result.columns))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=bound_y,
                mode="lines",
                name="full-batch stability bound 2(1+μ)/λmax",
                line={"color": "black", "width": 2, "dash": "dash"},
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
                "line": {"color": "black", "width": 1},
            },
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
            )
        )
    fig.update_xaxes(
        title_text="batch size" if by_batch else "momentum μ",
        tickvals=x,
        ticktext=column_labels,
        range=[x[0] - 0.5, x[-1] + 0.5],
    )
    decades = np.arange(np.floor(y[0]), np.ceil(y[-1]) + 1)
    fig.update_yaxes(
        title_text="learning rate",
        tickvals=decades,
        ticktext=[f"{10**d:g}" for d in decades],
        range=[y[0] - 0.1, y[-1] + 0.1],
    )
    return charts.layout(fig, title)


def describe(result: Map, settings: Settings, bound: float | None) -> str:
    """Two or three sentences that read the batch-size map with its actual numbers."""
    columns = result.columns
    chosen = int(np.argmin(np.abs(columns - settings.batch_size)))
    parts = []
    for column in dict.fromkeys([chosen, columns.size - 1]):
        rate = largest_stable_rate(result, column)
        size = f"{int(columns[column])}" + (" (full batch)" if column == columns.size - 1 else "")
        parts.append(
            f"at batch size {size} the largest rate that still lowered the loss was {rate:g}"
            if rate is not None
            else f"at batch size {size} no rate on the map lowered the loss"
        )
    row, column = best_cell(result)
    text = "After " + f"{settings.epochs} epochs, " + "; ".join(parts) + ". "
    if not np.all(np.isnan(result.loss)):
        text += (
            f"The lowest final loss, {result.loss[row, column]:.4g}, came from batch size "
            f"{int(columns[column])} with learning rate {result.rates[row]:g}. "
        )
    if bound is not None:
        text += (
            f"Full-batch gradient descent cannot be stable above {bound:.3g} = 2(1 + μ)/λmax "
            "(dashed line), whatever the batch size; smaller batches add noise and tend to "
            "blow up a little earlier."
        )
    return text


def cell_picker(result: Map, axis: str, settings: Settings, key: str) -> None:
    """Choose a cell (default: the best) and open exactly that run in the Playground."""
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
    )
    value = result.columns[cell[1]].item()
    chosen = cell_settings(settings, result.rates[cell[0]], value, axis)
    st.page_link(
        "lessons/playground.py",
        label="Open this run in the Playground",
        icon=":material/open_in_new:",
        query_params=chosen.url(),
    )
