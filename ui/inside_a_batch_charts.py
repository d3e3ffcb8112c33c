"""Lesson "Inside one mini-batch" (``lessons/inside_a_batch.py``): pure builders, records in,
figures, tables and sentences out.

No Streamlit here (the cached helpers live in ``ui.inside_a_batch``), so tests call these directly.
The update's own pictures (each row's step ``−η·gᵢ``, their mean, the full-data step and the
step taken) are drawn in the browser by ``ui.inside_stage``. Colours are ``ui.charts``'s
Okabe-Ito.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import gd
from gd.noise import EpochTiming, Inside
from gd.rules import powers_of_two_below
from ui import charts

MAX_ARROWS = 256  # per-sample arrows drawn; more would only grow the payload
ARROWS_NAME = "each row's own step −η·∇ℓᵢ"


@dataclass(frozen=True)
class Zoom:
    """The loss over a window around one epoch of the trajectory."""

    axis0: np.ndarray  # (g,)
    axis1: np.ndarray  # (g,)
    loss: np.ndarray  # (g, g)


@dataclass(frozen=True)
class NoiseCurve:
    """Gradient noise E‖g_B − g‖² against batch size B, measured and in theory, at one point."""

    sizes: np.ndarray  # (S,) batch sizes measured, all below n
    measured: np.ndarray  # (S,)
    dense_sizes: np.ndarray  # (D,) for the theory line
    theory: np.ndarray  # (D,) σ²/B · (n − B)/(n − 1)
    sigma2: float  # per-sample gradient variance (trace)
    n: int  # training rows
    draws: int  # random batches per size
    batch_size: int  # the run's batch size
    measured_at_batch: float
    theory_at_batch: float

    @property
    def finite(self) -> bool:
        return bool(np.all(np.isfinite(self.measured)) and np.isfinite(self.sigma2))


# --- Where to look ---------------------------------------------------------------------------


def inspectable_updates(run: gd.Run) -> int:
    """How many leading updates have finite parameters both before and after them.

    Example:
        >>> import numpy as np
        >>> from gd.models import LinearRegression
        >>> run = gd.fit(LinearRegression(), np.arange(4.0), np.arange(4.0),
        ...              gd.SGD(learning_rate=0.01), batch_size=2, engine="numpy")
        >>> inspectable_updates(run)
        2
    """
    finite = np.all(np.isfinite(run.params), axis=1)  # (U+1,)
    both = finite[:-1] & finite[1:]  # (U,)
    return int(both.size if both.all() else np.argmin(both))


def epoch_step_radius(
    model: gd.models.Model, run: gd.Run, x: np.ndarray, y: np.ndarray, epoch: int, last: int
) -> float:
    """Half-width of a window that shows the steps of every update in ``epoch`` (up to ``last``).

    It is 1.3 × the larger of the 95th percentile of the rows' own step lengths ‖η·gᵢ‖ and the
    longest step taken in the epoch, so one size serves the whole epoch: the window follows the
    current point but does not change scale while the learner scrubs within the epoch.
    """
    first = epoch * run.updates_per_epoch
    stop = min((epoch + 1) * run.updates_per_epoch, last + 1)
    lengths = []
    with np.errstate(all="ignore"):
        for update in range(first, stop):
            rows = run.batch_rows(update)
            grads = model.per_sample_grad(run.params[update], x[rows], y[rows])  # (B, P)
            lengths.append(run.learning_rate[update] * np.linalg.norm(grads[:, :2], axis=1))
        taken = np.linalg.norm(np.diff(run.params[first : stop + 1, :2], axis=0), axis=1)
        rows_95 = np.percentile(np.concatenate(lengths), 95)
        radius = 1.3 * max(float(rows_95), float(taken.max()))
    scale = 1.0 + float(np.abs(run.params[first, :2]).max())
    if not (np.isfinite(radius) and radius > 1e-9 * scale):  # a point that does not move
        radius = 1e-3 * scale
    return radius


def noise_sizes(n: int, batch_size: int) -> np.ndarray:
    """Powers of two below ``n`` and the run's batch size (if below ``n``), sorted.

    Example:
        >>> noise_sizes(20, 5).tolist()
        [1, 2, 4, 5, 8, 16]
    """
    own = {batch_size} if batch_size < n else set()
    return np.array(sorted({*powers_of_two_below(n), *own}))


def timing_sizes(n: int) -> tuple[int, ...]:
    """The batch sizes timed for every run: 1, 4, 16, 64, 256 (those below n) and full batch.

    Example:
        >>> timing_sizes(100)
        (1, 4, 16, 64, 100)
    """
    return (*(size for size in (1, 4, 16, 64, 256) if size < n), n)


def merge_timings(first: EpochTiming, second: EpochTiming) -> EpochTiming:
    """One table of both measurements, sorted by batch size."""
    sizes = np.concatenate([first.batch_sizes, second.batch_sizes])
    order = np.argsort(sizes, kind="stable")
    return EpochTiming(
        sizes[order],
        np.concatenate([first.updates_per_epoch, second.updates_per_epoch])[order],
        np.concatenate([first.seconds, second.seconds])[order],
    )


# --- Figures ---------------------------------------------------------------------------------


def noise_figure(curve: NoiseCurve) -> go.Figure:
    """Log-log: measured E‖g_B − g‖² (markers) against the sampling formula (line)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=curve.dense_sizes,
            y=curve.dense_sizes.astype(float) ** -1 * curve.sigma2,
            mode="lines",
            name="σ²/B (drawing with replacement)",
            line={"color": charts.GREY, "width": 1.5, "dash": "dot"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=curve.dense_sizes,
            y=curve.theory,
            mode="lines",
            line={"color": charts.BLUE, "width": 2.5},
            name="theory σ²/B · (N − B)/(N − 1)",
            hovertemplate="B = %{x}<br>theory %{y:.4g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=curve.sizes,
            y=curve.measured,
            mode="markers",
            name=f"measured over {curve.draws} random batches",
            marker={"color": charts.VERMILION, "size": 9, "line": {"color": "black", "width": 1}},
            hovertemplate="B = %{x}<br>measured %{y:.4g}<extra></extra>",
        )
    )
    fig.add_vline(curve.batch_size, line={"color": charts.ORANGE, "width": 2, "dash": "dash"})
    fig.add_annotation(
        x=np.log10(curve.batch_size),
        y=1,
        yref="paper",
        text=f"this run: B = {curve.batch_size}",
        showarrow=False,
        xanchor="left",
        yanchor="top",
        font={"color": charts.ORANGE},
    )
    fig.update_xaxes(type="log", title_text="batch size B (rows per update)")
    fig.update_yaxes(type="log", exponentformat="power", title_text="E‖g_B − g‖² (gradient noise)")
    return charts.layout(fig, "Gradient noise against batch size")


def timing_figure(timing: EpochTiming, batch_size: int) -> go.Figure:
    """Milliseconds per epoch and updates per epoch against batch size, both log scale."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=timing.batch_sizes,
            y=timing.ms_per_epoch,
            mode="lines+markers",
            name="milliseconds per epoch (measured)",
            line={"color": charts.BLUE, "width": 2.5},
            marker={"size": 8},
            hovertemplate="B = %{x}<br>%{y:.3g} ms per epoch<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=timing.batch_sizes,
            y=timing.updates_per_epoch,
            mode="lines+markers",
            name="updates per epoch ⌈N / B⌉",
            line={"color": charts.ORANGE, "dash": "dash"},
            marker={"size": 7, "symbol": "diamond"},
            hovertemplate="B = %{x}<br>%{y} updates per epoch<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.add_vline(batch_size, line={"color": charts.GREY, "width": 1, "dash": "dot"})
    fig.update_xaxes(type="log", title_text="batch size B")
    fig.update_yaxes(type="log", title_text="ms per epoch", secondary_y=False)
    fig.update_yaxes(
        type="log",
        title_text="updates per epoch",
        secondary_y=True,
        showgrid=False,
        dtick=1,
        exponentformat="power",
    )
    return charts.layout(fig, "One epoch of the NumPy loop, timed on this server")


def timing_table(timing: EpochTiming) -> dict[str, list]:
    """Columns for ``st.dataframe``: what was measured, per batch size."""
    return {
        "batch size B": timing.batch_sizes.tolist(),
        "updates per epoch": timing.updates_per_epoch.tolist(),
        "ms per epoch": np.round(timing.ms_per_epoch, 2).tolist(),
        "µs per update": np.round(timing.us_per_update, 1).tolist(),
    }


# --- Words -----------------------------------------------------------------------------------


def where_in_run(run: gd.Run, update: int) -> str:
    """ "epoch 2, batch 3 of 7" for an update index."""
    epoch, slot = divmod(update, run.updates_per_epoch)
    return f"epoch {epoch + 1}, batch {slot + 1} of {run.updates_per_epoch}"


def takeaway(inside: Inside, curve: NoiseCurve, timing: EpochTiming) -> str:
    """The closing sentences, with this run's numbers (``curve.batch_size`` is the run's)."""
    b = inside.batch_size
    text = (
        f"At update {inside.update}, the {b} rows of the batch gave {b} per-sample gradients; "
        f"NumPy computed them in one matrix product and averaged them into **one** gradient, "
        f"and the optimizer moved the weights **once**. No row updated the weights on its own."
    )
    angle = inside.angle_to_full
    if np.isfinite(angle):
        text += f" That one step pointed {angle:.0f}° away from the full-data step."
    if curve.finite and curve.batch_size < curve.n:
        text += (
            f" At batch_size = {curve.batch_size} the gradient noise E‖g_B − g‖² is "
            f"{curve.measured_at_batch:.3g} measured ({curve.theory_at_batch:.3g} in theory); "
            "quadrupling the batch size cuts it about fourfold."
        )
    own = int(np.flatnonzero(timing.batch_sizes == curve.batch_size)[0])
    text += (
        f" On this server one epoch at batch_size = {curve.batch_size} took "
        f"{timing.ms_per_epoch[own]:.3g} ms for {timing.updates_per_epoch[own]} updates; at "
        f"batch_size = 1 it took {timing.ms_per_epoch[0]:.3g} ms for "
        f"{timing.updates_per_epoch[0]} updates."
    )
    return text
