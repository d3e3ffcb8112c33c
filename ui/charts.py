"""Shared layer (every lesson): pure Plotly builders, records in, ``go.Figure`` out. No
Streamlit here, so tests call them.

Figures are drawn from a thinned copy of long runs (the arithmetic never thins): thinning keeps
the start, the end and every epoch boundary, so each figure's payload stays near 150 KB even at
a million updates. Colours are the Okabe-Ito palette, which stays distinct for colour-blind
viewers, and every axis says what it measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

import gd
from ui.models import ModelSpec

# Okabe & Ito (2008), "Color Universal Design".
BLUE, ORANGE, GREEN, VERMILION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
PURPLE, SKY, YELLOW, GREY = "#CC79A7", "#56B4E9", "#F0E442", "#7F7F7F"
MAX_POINTS = 1500  # per trace, after thinning


@dataclass(frozen=True)
class Path:
    """One trajectory to draw on the contours."""

    label: str
    params: np.ndarray  # (m, 2), thinned
    update: np.ndarray  # (m,) update index of each point
    epoch: np.ndarray  # (m,) epochs completed at each point (fractional)
    loss: np.ndarray  # (m,) full training loss at (or nearest to) each point
    epoch_ends: np.ndarray  # (k, 2) parameters at each epoch boundary
    color: str


def thin(count: int, keep_every: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most about ``max_points`` of ``count`` points, always keeping the first,
    the last and every multiple of ``keep_every`` (the epoch boundaries).

    Example:
        >>> thin(12, keep_every=5, max_points=4).tolist()  # stride 3, boundaries 0, 5, 10
        [0, 3, 5, 6, 9, 10, 11]
    """
    if count <= max_points:
        return np.arange(count)
    stride = -(-count // max_points)
    boundaries = np.arange(0, count, keep_every) if count // keep_every <= max_points else []
    return np.union1d(np.union1d(np.arange(0, count, stride), boundaries), [count - 1])


def _loss_at(run: gd.Run, points: np.ndarray) -> np.ndarray:
    """Full loss at each point, taking the nearest recorded one when the loss was thinned."""
    nearest = np.clip(np.searchsorted(run.loss_steps, points), 0, run.loss_steps.size - 1)
    return run.loss[nearest]


def _epochs(run: gd.Run) -> np.ndarray:
    return run.samples_seen / run.n_train


def path_from_run(run: gd.Run, label: str, color: str = BLUE) -> Path:
    points = thin(run.params.shape[0], run.updates_per_epoch)
    return Path(
        label=label,
        params=run.params[points, :2],
        update=points,
        epoch=_epochs(run)[points],
        loss=_loss_at(run, points),
        epoch_ends=run.params[run.epoch_ends, :2],
        color=color,
    )


def _compact(values: np.ndarray) -> np.ndarray:
    """float32 halves the payload; keep float64 when a value would overflow float32."""
    values = np.asarray(values, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    return values.astype(np.float32) if finite.size == 0 or finite.max() < 3e38 else values


def _finite_log10(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(np.isfinite(values) & (values > 0), values, np.nan))


def contour_figure(
    axis0: np.ndarray,
    axis1: np.ndarray,
    loss: np.ndarray,
    minimum: np.ndarray,
    names: tuple[str, str],
    paths: Sequence[Path],
    title: str = "Parameter trajectory on the loss contours",
) -> go.Figure:
    """Loss contours (log scale) with each path, its start, end and epoch boundaries marked."""
    fig = go.Figure()
    fig.add_trace(
        go.Contour(
            x=axis0,
            y=axis1,
            z=_compact(_finite_log10(loss)),
            ncontours=18,
            colorscale="Blues",
            reversescale=True,
            showscale=True,
            line={"width": 0.5},
            colorbar={"title": {"text": "log₁₀ loss", "side": "right"}, "thickness": 12},
            hovertemplate=f"{names[0]}=%{{x:.3f}}<br>{names[1]}=%{{y:.3f}}"
            "<br>log₁₀ loss=%{z:.3f}<extra></extra>",
            name="loss",
        )
    )
    for path in paths:
        hover = (
            f"<b>{path.label}</b><br>update %{{customdata[0]}} · epoch %{{customdata[1]:.2f}}"
            f"<br>{names[0]}=%{{x:.4f}}, {names[1]}=%{{y:.4f}}<br>loss %{{customdata[2]:.4g}}"
            "<extra></extra>"
        )
        custom = _compact(np.column_stack([path.update, path.epoch, path.loss]))
        fig.add_trace(
            go.Scatter(
                x=_compact(path.params[:, 0]),
                y=_compact(path.params[:, 1]),
                mode="lines",
                line={"color": path.color, "width": 2},
                name=path.label,
                customdata=custom,
                hovertemplate=hover,
            )
        )
        if path.epoch_ends.size:
            fig.add_trace(
                go.Scatter(
                    x=path.epoch_ends[:, 0],
                    y=path.epoch_ends[:, 1],
                    mode="markers",
                    marker={"color": path.color, "size": 6, "symbol": "circle-open"},
                    name=f"{path.label}: epoch ends",
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=path.params[-1:, 0],
                y=path.params[-1:, 1],
                mode="markers",
                marker={
                    "color": path.color,
                    "size": 12,
                    "symbol": "x",
                    "line": {"color": "white", "width": 1},
                },
                name=f"{path.label}: end",
                hovertemplate="end<extra></extra>",
            )
        )
    if paths:
        start = paths[0].params[0]
        fig.add_trace(
            go.Scatter(
                x=[start[0]],
                y=[start[1]],
                mode="markers",
                marker={"color": "black", "size": 11, "symbol": "circle"},
                name="start",
                hovertemplate="start<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[minimum[0]],
            y=[minimum[1]],
            mode="markers",
            marker={
                "color": YELLOW,
                "size": 16,
                "symbol": "star",
                "line": {"color": "black", "width": 1},
            },
            name="minimum",
            hovertemplate="minimum of the training loss<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=names[0], range=[axis0[0], axis0[-1]])
    fig.update_yaxes(title_text=names[1], range=[axis1[0], axis1[-1]])
    return layout(fig, title)


def data_figure(
    spec: ModelSpec,
    x: np.ndarray,
    y: np.ndarray,
    n_train: int,
    params: np.ndarray,
    highlight: np.ndarray | None = None,
    when: str = "at the final parameters",
) -> go.Figure:
    """The samples, the model's fit at ``params`` (labelled "fit ``when``", or "P(y = 1)
    ``when``" for a classifier: ``spec.fit_label``), and optionally one batch highlighted."""
    shown = thin(x.size, x.size + 1, max_points=2000)
    fig = go.Figure()
    train = shown[shown < n_train]
    val = shown[shown >= n_train]
    fig.add_trace(
        go.Scatter(
            x=x[train],
            y=y[train],
            mode="markers",
            name="training rows",
            marker={"color": SKY, "size": 6, "opacity": 0.7},
        )
    )
    if val.size:
        fig.add_trace(
            go.Scatter(
                x=x[val],
                y=y[val],
                mode="markers",
                name="validation rows (the last ones)",
                marker={"color": ORANGE, "size": 7, "symbol": "diamond", "opacity": 0.8},
            )
        )
    if highlight is not None:
        fig.add_trace(
            go.Scatter(
                x=x[highlight],
                y=y[highlight],
                mode="markers",
                name="this mini-batch",
                marker={"color": VERMILION, "size": 11, "line": {"color": "black", "width": 1}},
            )
        )
    grid = np.linspace(x.min(), x.max(), 200)
    with np.errstate(all="ignore"):
        fitted = spec.build().predict(params, grid[:, None])
    label = f"{spec.fit_label} {when}"
    if np.all(np.isfinite(fitted)):
        fig.add_trace(
            go.Scatter(x=grid, y=fitted, mode="lines", name=label, line={"color": BLUE, "width": 3})
        )
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    return layout(fig, "Data and the model's fit")


def log_scale(fig: go.Figure) -> go.Figure:
    """A log y axis labelled at whole decades (10⁻¹, 1, 10…), with minor grid lines between."""
    return fig.update_yaxes(type="log", dtick=1, exponentformat="power", minor={"showgrid": True})


def layout(fig: go.Figure, title: str, legend: bool = True) -> go.Figure:
    """The shared look: a title, the legend in a row between title and plot (clear of the
    axis titles), and fixed margins so that figures line up side by side."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "y": 0.98, "yanchor": "top", "font": {"size": 16}},
        height=460,
        margin={"l": 60, "r": 20, "t": 95, "b": 50},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "font": {"size": 11}},
        hoverlabel={"namelength": -1},
    )
    return fig
