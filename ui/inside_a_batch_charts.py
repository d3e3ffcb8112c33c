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
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import gd
from gd.noise import EpochTiming, Inside
from gd.rules import powers_of_two_below
from ui import charts, glossary
from ui.words import plural

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


def update_step_radius(inside: Inside) -> float:
    """Half-width of a window around the parameters before one update that its arrows fill:
    1.25 × the longest of the batch step, the full-data step, the step taken and the median
    row's own step. The zoom follows the update, so the arrows are long enough to see at every
    update (a blow-up's growing steps included); the longest row arrows may run off the edge.

    Example:
        >>> steps = np.array([[1.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
        >>> inside = Inside(0, np.zeros(2), np.arange(3), 0.1, steps, np.array([0.3, 0.0]),
        ...                 np.array([0.4, 0.0]), np.array([0.3, 0.0]))
        >>> update_step_radius(inside)        # the median row's step, 3, is the longest
        3.75
    """
    with np.errstate(all="ignore"):
        rows = np.linalg.norm(inside.sample_steps[:, :2], axis=1)
        lengths = [
            np.linalg.norm(inside.batch_step[:2]),
            np.linalg.norm(inside.full_step[:2]),
            np.linalg.norm(inside.taken_step[:2]),
            np.median(rows) if rows.size else 0.0,
        ]
    finite = [float(v) for v in lengths if np.isfinite(v)]
    radius = 1.25 * max(finite, default=0.0)
    scale = 1.0 + float(np.nanmax(np.abs(inside.params[:2])))
    if not (np.isfinite(radius) and radius > 1e-9 * scale):  # a point that does not move
        radius = 1e-3 * scale if np.isfinite(scale) else 1.0
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
            marker={
                "color": charts.VERMILION,
                "size": 9,
                "line": {"color": charts.BLACK, "width": 1},
            },
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
    sizes = np.concatenate([curve.dense_sizes, curve.sizes, [curve.batch_size]]).astype(float)
    charts.log_axis(fig, "x", sizes.min(), sizes.max(), "batch size B (rows per update)")
    values = np.concatenate([curve.theory, curve.measured, [curve.sigma2]])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:
        charts.log_axis(fig, "y", values.min(), values.max(), "E‖g_B − g‖² (gradient noise)")
    return charts.layout(fig, "Gradient noise against batch size")


def noise_summary(curve: NoiseCurve) -> str:
    """The noise chart in one sentence, with its numbers.

    Example:
        >>> c = NoiseCurve(np.array([1, 4]), np.array([8.0, 1.9]), np.array([1, 4]),
        ...                np.array([8.0, 2.0]), 8.0, 10, 500, 4, 1.9, 2.0)
        >>> noise_summary(c)[:60]
        'Gradient noise falls from 8 at B = 1 to 1.9 at B = 4 (measur'
    """
    if not curve.sizes.size:
        return "The full batch has no gradient noise: every batch is all the rows."
    return (
        f"Gradient noise falls from {curve.measured[0]:.3g} at B = {curve.sizes[0]} to "
        f"{curve.measured[-1]:.3g} at B = {curve.sizes[-1]} (measured over {curve.draws} "
        f"batches each); at this run's B = {curve.batch_size} it is "
        f"{curve.measured_at_batch:.3g} measured and {curve.theory_at_batch:.3g} in theory."
    )


def timing_figure(timing: EpochTiming, batch_size: int) -> go.Figure:
    """Milliseconds per epoch (by the cost model) and updates per epoch against batch size,
    log scales labelled 1, 10, 100 …"""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=timing.batch_sizes,
            y=timing.ms_per_epoch,
            mode="lines+markers",
            name="ms per epoch (cost model)",
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
    sizes = timing.batch_sizes.astype(float)
    charts.log_axis(fig, "x", sizes.min(), max(sizes.max(), 2.0), "batch size B")
    ms = timing.ms_per_epoch
    low, high = float(ms.min()), float(ms.max())
    values, labels = charts.log_ticks(low / 1.2, high * 1.2)
    fig.update_yaxes(
        type="log",
        title_text="ms per epoch",
        tickvals=values,
        ticktext=labels,
        secondary_y=False,
    )
    updates = timing.updates_per_epoch.astype(float)
    values, labels = charts.log_ticks(updates.min(), max(updates.max(), 2.0))
    fig.update_yaxes(
        type="log",
        title_text="updates per epoch",
        secondary_y=True,
        showgrid=False,
        tickvals=values,
        ticktext=labels,
    )
    return charts.layout(fig, "One epoch's cost at each batch size")  # whole on a phone


def timing_table(timing: EpochTiming):
    """The cost model's numbers per batch size, for ``st.table`` (no index column)."""
    frame = pd.DataFrame(
        {
            "B": timing.batch_sizes,
            "updates / epoch": timing.updates_per_epoch,
            "ms / epoch": timing.ms_per_epoch,
            "µs / update": timing.us_per_update,
        }
    )
    return frame.style.hide(axis="index").format({"ms / epoch": "{:.3g}", "µs / update": "{:.3g}"})


def timing_summary(timing: EpochTiming, batch_size: int) -> str:
    """The timing chart in one sentence: batch size 1 against full batch and this run.

    Example:
        >>> t = EpochTiming(np.array([1, 10]), np.array([10, 1]), np.array([2e-4, 3e-5]))
        >>> print(timing_summary(t, 10))  # doctest: +NORMALIZE_WHITESPACE
        One epoch of 10 rows: 0.2 ms in 10 updates at B = 1, 0.03 ms in 1 update at B = 10
        (6.67× less); this run (B = 10) 0.03 ms.
    """
    own = int(np.flatnonzero(timing.batch_sizes == batch_size)[0])
    first, last = 0, timing.batch_sizes.size - 1
    ms, updates = timing.ms_per_epoch, timing.updates_per_epoch.tolist()
    n = int(timing.batch_sizes[last])

    def said(i: int) -> str:
        return (
            f"{ms[i]:.3g} ms in {updates[i]} update{'s' * (updates[i] != 1)} "
            f"at B = {timing.batch_sizes[i]}"
        )

    ratio = ms[first] / ms[last] if ms[last] > 0 else np.inf
    return (
        f"One epoch of {n} rows: {said(first)}, {said(last)} ({ratio:.3g}× less); this run "
        f"(B = {batch_size}) {ms[own]:.3g} ms."
    )


# --- Words -----------------------------------------------------------------------------------


def slice_axis_titles(names: tuple[str, str]) -> tuple[str, str]:
    """The page's axis titles on the network's slice (α along the start's way to this run's
    end, β on toward the best point found), short, and with none of the Playground's marks.

    Example:
        >>> slice_axis_titles(("α", "β"))
        ("α: toward this run's end", 'β: toward the best found')
    """
    return f"{names[0]}: toward this run's end", f"{names[1]}: toward the best found"


def gradient_names(plane: gd.plane.Plane | None) -> str:
    """What the names in the model's gradient line hold (``ModelSpec.gradient_line``): the
    rows and the parameters, or the network's layers (``plane``: its slice, for the count).

    Example:
        >>> gradient_names(None)
        "X_b holds the batch's rows with a column of ones for the bias; w holds the parameters."
    """
    if plane is None:
        return (
            "X_b holds the batch's rows with a column of ones for the bias; w holds the parameters."
        )
    return (
        f"x_b holds the batch's rows; W1, b1, W2 and b2 hold the network's {plane.n_params} "
        "weights, layer by layer, as Keras's get_weights() lists them."
    )


def where_in_run(run: gd.Run, update: int) -> str:
    """ "epoch 2, batch 3 of 7" for gd's update index t (update t + 1)."""
    epoch, slot = divmod(update, run.updates_per_epoch)
    return f"epoch {epoch + 1}, batch {slot + 1} of {run.updates_per_epoch}"


def takeaway(inside: Inside, curve: NoiseCurve, timing: EpochTiming) -> str:
    """The closing sentences, with this run's numbers (``curve.batch_size`` is the run's);
    ``inside.update`` is gd's index t, said as update t + 1."""
    b = inside.batch_size
    text = (
        f"At update {inside.update + 1}, the {plural(b, 'row')} of the batch gave "
        f"{plural(b, 'per-sample gradient')} ({glossary.explain('per-sample gradient')}); "
        "NumPy computed them together, in matrix products over the batch's rows, and averaged "
        "them into **one** gradient, "
        f"and the optimizer moved the weights **once**. No row updated the weights on its own."
    )
    angle = inside.angle_to_full
    if np.isfinite(angle):
        text += f" That one step pointed {angle:.0f}° away from the full-data step."
    if curve.finite and curve.batch_size < curve.n:
        text += (
            f" At batch_size = {curve.batch_size} the gradient noise E‖g_B − g‖² is "
            f"{curve.measured_at_batch:.3g} measured ({curve.theory_at_batch:.3g} in theory); "
            "quadrupling the batch size cuts this squared error about fourfold (and the typical "
            "error ‖g_B − g‖, its square root, in half)."
        )
    own = int(np.flatnonzero(timing.batch_sizes == curve.batch_size)[0])
    updates = timing.updates_per_epoch.tolist()
    text += (
        f" By the cost model every page uses, one epoch at batch_size = {curve.batch_size} "
        f"costs {timing.ms_per_epoch[own]:.3g} ms for {updates[own]} "
        f"update{'s' * (updates[own] != 1)}; at batch_size = 1, "
        f"{timing.ms_per_epoch[0]:.3g} ms for {updates[0]} update{'s' * (updates[0] != 1)}."
    )
    return text
