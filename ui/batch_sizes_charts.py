"""Lesson "Batch, mini-batch, stochastic" (``lessons/batch_sizes.py``): pure Plotly builders
for the batch-size comparison, records in, ``go.Figure`` out.

The records hold full-resolution arrays; the builders thin them (``charts.thin``) so each
figure stays small. No Streamlit here, so tests call every builder directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from ui import charts

# What each x-axis choice measures; the keys are the field names of ``Axes``.
UNITS = {
    "updates": "updates (optimizer steps)",
    "epochs": "epochs",
    "samples": "samples seen",
    "time": "compute time (ms, measured)",
}
BAND_PERCENTILES = (10, 50, 90)  # the band's low edge, the median line, the high edge
CLOSE_UP = 0.15  # the close-up shows the minimum ± this fraction of the contour window


@dataclass(frozen=True)
class Axes:
    """Where each recorded point of a run sits along every x-axis unit (all (m,))."""

    updates: np.ndarray
    epochs: np.ndarray
    samples: np.ndarray
    time: np.ndarray  # ms since the start of gd.fit, the measured total spread over updates

    def along(self, unit: str) -> np.ndarray:
        """The positions in ``unit``, one of ``UNITS``."""
        return getattr(self, unit)


def axes_at(steps: np.ndarray, samples: np.ndarray, n_train: int, ms_per_update: float) -> Axes:
    """The positions of the points recorded after ``steps`` updates, in every unit.

    ``samples`` are the training rows read by then (``Run.samples_seen[steps]``).

    Example:
        >>> axes = axes_at(np.array([0, 3, 4]), np.array([0, 9, 10]), n_train=10,
        ...                ms_per_update=0.5)
        >>> axes.samples.tolist(), axes.epochs.tolist(), axes.time.tolist()
        ([0, 9, 10], [0.0, 0.9, 1.0], [0.0, 1.5, 2.0])
    """
    return Axes(
        updates=steps,
        epochs=samples / n_train,
        samples=samples,
        time=steps * ms_per_update,
    )


@dataclass(frozen=True)
class Curve:
    """One run's full training loss, ready to draw against any unit."""

    label: str
    color: str
    batch_size: int
    updates_per_epoch: int
    x: Axes
    loss: np.ndarray  # (m,) full training loss at each point of ``x``
    diverged: bool


@dataclass(frozen=True)
class Band:
    """One batch size over many seeds: the loss percentiles and where each seed ended."""

    label: str
    color: str
    batch_size: int
    updates_per_epoch: int
    x: Axes
    low: np.ndarray  # (m,) 10th percentile of the full loss over the seeds that finished
    median: np.ndarray  # (m,)
    high: np.ndarray  # (m,) 90th percentile
    ends: np.ndarray  # (k, 2) final parameters of the k seeds that did not diverge
    seeds: int  # seeds run; seeds − k diverged and are left out of the band and the cloud


def _thinned(x: np.ndarray, updates_per_epoch: int) -> np.ndarray:
    return charts.thin(x.size, updates_per_epoch)


def loss_curves_figure(curves: Sequence[Curve], unit: str, log_y: bool = True) -> go.Figure:
    """The full training loss of each run against ``unit``."""
    fig = go.Figure()
    for curve in curves:
        points = _thinned(curve.loss, curve.updates_per_epoch)
        name = f"{curve.label} (diverged)" if curve.diverged else curve.label
        fig.add_trace(
            go.Scatter(
                x=curve.x.along(unit)[points].astype(np.float32),
                y=curve.loss[points].astype(np.float32),
                mode="lines",
                line={"color": curve.color, "width": 1.5},
                name=name,
                hovertemplate=f"<b>{name}</b><br>{UNITS[unit]} %{{x:.4g}}"
                "<br>full training loss %{y:.4g}<extra></extra>",
            )
        )
    return _loss_axes(fig, unit, log_y, "Full training loss, one seed")


def band_figure(bands: Sequence[Band], unit: str, log_y: bool = True) -> go.Figure:
    """Per batch size, the median full loss over the seeds with a 10–90% band around it."""
    fig = go.Figure()
    for band in bands:
        if band.median.size == 0:  # every seed diverged: nothing to draw
            continue
        points = _thinned(band.median, band.updates_per_epoch)
        x = band.x.along(unit)[points].astype(np.float32)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=band.low[points].astype(np.float32),
                mode="lines",
                line={"width": 0, "color": band.color},
                name=f"{band.label}: 10th percentile",
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=band.high[points].astype(np.float32),
                mode="lines",
                fill="tonexty",
                fillcolor=_transparent(band.color),
                line={"width": 0, "color": band.color},
                name=f"{band.label}: 10–90% band",
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=band.median[points].astype(np.float32),
                mode="lines",
                line={"color": band.color, "width": 2.5},
                name=f"{band.label}: median",
                hovertemplate=f"<b>{band.label}</b><br>{UNITS[unit]} %{{x:.4g}}"
                "<br>median full loss %{y:.4g}<extra></extra>",
            )
        )
    seeds = max((band.seeds for band in bands), default=0)
    return _loss_axes(fig, unit, log_y, f"Median over {seeds} seeds, with the 10–90% band")


def contour_with_ends(
    axis0: np.ndarray,
    axis1: np.ndarray,
    loss: np.ndarray,
    minimum: np.ndarray,
    names: tuple[str, str],
    paths: Sequence[charts.Path],
    bands: Sequence[Band],
    close_up: bool = False,
) -> go.Figure:
    """The runs' paths on the loss contours, plus a dot where each seed ended.

    With ``close_up`` the window shrinks to the minimum ± ``CLOSE_UP`` of the full window, a
    range that depends only on the data and the start, so it too stays put between settings.
    """
    title = (
        "Where every seed ended, close up"
        if close_up
        else "Three paths, and where every seed ended"
    )
    fig = charts.contour_figure(axis0, axis1, loss, minimum, names, paths, title=title)
    for band in bands:
        fig.add_trace(
            go.Scatter(
                x=band.ends[:, 0],
                y=band.ends[:, 1],
                mode="markers",
                marker={
                    "color": band.color,
                    "size": 7,
                    "opacity": 0.8,
                    "line": {"color": "white", "width": 0.5},
                },
                name=f"{band.label}: end of each seed",
                showlegend=close_up,
                hovertemplate=f"<b>{band.label}</b><br>{names[0]}=%{{x:.4f}}, "
                f"{names[1]}=%{{y:.4f}}<extra></extra>",
            )
        )
    # The colours already name the runs: the big chart's legend lists the paths only.
    fig.update_traces(showlegend=False, selector=lambda trace: trace.name.endswith(": end"))
    if close_up:
        half0 = CLOSE_UP * (axis0[-1] - axis0[0])
        half1 = CLOSE_UP * (axis1[-1] - axis1[0])
        fig.update_xaxes(range=[minimum[0] - half0, minimum[0] + half0])
        fig.update_yaxes(range=[minimum[1] - half1, minimum[1] + half1])
    return fig


def _loss_axes(fig: go.Figure, unit: str, log_y: bool, title: str) -> go.Figure:
    fig.update_xaxes(title_text=UNITS[unit])
    if log_y:  # label whole decades as powers of ten, as charts.loss_figure does
        charts.log_scale(fig)
    fig.update_yaxes(title_text="full training loss")
    return charts.layout(fig, title)


def _transparent(color: str, alpha: float = 0.2) -> str:
    """``#RRGGBB`` as an ``rgba`` string, for a band that lets the others show through."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"
