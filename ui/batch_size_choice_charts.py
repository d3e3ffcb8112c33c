"""Lesson "How big should my batch be?" (``lessons/batch_size_choice.py``): pure builders,
records in, Plotly figures and sentences out.

Every sentence quotes the numbers of the records it is given, and the tests check it against
them. No Streamlit here; the cached calls live in ``ui.batch_size_choice``.

The three regimes of Shallue et al. (2018) are read off the fitted ``S = S_min(1 + B_crit/B)``,
and only when it fits (``fit_holds``): below ``B_crit / 4`` the steps are within 25 % of perfect
scaling (S ∝ 1/B; doubling the batch saves 40–50 % of them), above ``4·B_crit`` within 25 % of
the floor S_min (maximal data parallelism; a doubling saves 10 % or less), and between them each
doubling buys less than the last (diminishing returns; 25 % at B_crit). A sentence about
doubling gives the saving the fit implies at that B (``CriticalBatch.doubling_saving``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from gd.critical import CriticalBatch, StepCost
from gd.optim import SGD
from ui import charts, glossary

REGIME_FACTOR = 4.0  # the regimes' edges: B_crit / 4 and 4·B_crit (25 % from either asymptote)
# The fit is read (regimes, doubling savings) only when every measured point lies within this
# share of the curve: past it, a point can sit a regime away from where the curve puts it.
FIT_TOLERANCE = 0.35
# B_crit this far beyond the measured batch sizes is the fit running to the end of its search:
# the points show no bend, so S_min (or the scaling) is not measured.
BEND_RANGE = 100.0
KERAS_BATCH = 32  # fit()'s default batch_size
# The best rate "levels off" when it grew less than half as much as the batch (the rule's k×).
LEVELS_OFF = 0.5
REGIMES = (
    ("perfect scaling", charts.GREEN),
    ("diminishing returns", charts.YELLOW),
    ("maximal data parallelism", charts.VERMILION),
)


@dataclass(frozen=True)
class NoiseAlong:
    """The gradient noise scale along one run, from its start to where it reaches the target."""

    batch_size: int
    learning_rate: float
    updates: np.ndarray  # (m,) update indices, ascending, from 0
    b_simple: np.ndarray  # (m,) B_simple at the point after each of ``updates``
    loss: np.ndarray  # (m,) full training loss there
    marks: tuple[int, int, int]  # indices into ``updates``: start, middle, end
    reached: bool  # True when the end is where the run reached the target (and stayed)


@dataclass(frozen=True)
class Fastest:
    """The batch size that reaches the target soonest under one cost model."""

    batch_size: int
    ms: float  # steps × ms per step
    steps: float


def regime_edges(b_crit: float) -> tuple[float, float]:
    """(B_crit / 4, 4·B_crit): where perfect scaling ends and maximal parallelism begins.

    Example:
        >>> regime_edges(10.0)
        (2.5, 40.0)
    """
    return b_crit / REGIME_FACTOR, b_crit * REGIME_FACTOR


def bend_in_view(result: CriticalBatch) -> bool:
    """Whether the fitted B_crit lies within ``BEND_RANGE``× of the measured batch sizes: the
    points bend there, so S_min and B_crit are measured.

    Example:
        >>> from dataclasses import replace
        >>> bend_in_view(_example()), bend_in_view(replace(_example(), b_crit=5e7))
        (True, False)
    """
    low, high = result.batch_sizes.min() / BEND_RANGE, result.batch_sizes.max() * BEND_RANGE
    return bool(math.isfinite(result.b_crit) and low <= result.b_crit <= high)


def fit_holds(result: CriticalBatch) -> bool:
    """Whether the page reads the fit: a bend in view, every measured point within
    ``FIT_TOLERANCE`` of the curve, and no batch size that missed the target with more updates
    than the curve says it needs (``contradicted``).

    Example:
        >>> from dataclasses import replace
        >>> fit_holds(_example()), fit_holds(replace(_example(), fit_error=0.6))
        (True, False)
    """
    return (
        bend_in_view(result)
        and bool(result.fit_error <= FIT_TOLERANCE)
        and contradicted(result) is None
    )


def contradicted(result: CriticalBatch) -> tuple[int, float, int] | None:
    """The smallest batch size that did not reach the target although it had more updates
    than the fitted curve says it needs: (B, the curve's steps, the updates it had to reach
    the target and stay there for ``stay_epochs``); None when no such batch size exists.

    Example:
        >>> contradicted(_example())  # B = 64: 2 updates an epoch, 2 epochs to reach in, 4 < 4.5
        >>> from dataclasses import replace
        >>> contradicted(replace(_example(), max_epochs=100))  # 4·(1 + 8/64) = 4.5 < 198
        (64, 4.5, 198)
    """
    for size in result.batch_sizes[~result.reached].tolist():
        had = (result.max_epochs - result.stay_epochs) * math.ceil(result.n_train / size)
        needs = float(result.fitted_steps(np.array([size]))[0])
        if needs < had:
            return int(size), needs, had
    return None


def worst_miss(result: CriticalBatch) -> tuple[int, float]:
    """(the batch size whose measured steps lie farthest from the fit, ``S/S_fit − 1`` there).

    Example:
        >>> size, miss = worst_miss(_example())   # 40 against 4·(1 + 8) = 36: 11 % above
        >>> size, round(miss, 4)
        (1, 0.1111)
    """
    moved = result.reached & (result.steps > 0)
    sizes, steps = result.batch_sizes[moved], result.steps[moved]
    misses = steps / result.fitted_steps(sizes) - 1.0
    i = int(np.argmax(np.abs(misses)))
    return int(sizes[i]), float(misses[i])


def time_to_target(result: CriticalBatch, cost: StepCost) -> np.ndarray:
    """(B,) milliseconds to the target: steps × cost per step; inf where it was not reached.

    Example:
        >>> import numpy as np
        >>> result = _example()
        >>> time_to_target(result, StepCost(1.0, 0.5)).tolist()    # 40·1.5, 12·3, 6·9, inf
        [60.0, 36.0, 54.0, inf]
    """
    return np.where(result.reached, result.steps * cost.ms_per_step(result.batch_sizes), np.inf)


def fastest(result: CriticalBatch, cost: StepCost) -> Fastest | None:
    """The batch size with the least time to the target (the smaller of a tie), or None.

    Example:
        >>> fastest(_example(), StepCost(1.0, 0.5))
        Fastest(batch_size=4, ms=36.0, steps=12.0)
    """
    ms = time_to_target(result, cost)
    if not np.isfinite(ms).any():
        return None
    i = int(np.argmin(ms))
    return Fastest(int(result.batch_sizes[i]), float(ms[i]), float(result.steps[i]))


def _sizes(result: CriticalBatch) -> np.ndarray:
    """A dense, log-spaced set of batch sizes across the measured ones, for smooth curves."""
    return np.geomspace(result.batch_sizes.min(), result.batch_sizes.max(), 200)


def _log_range(values: np.ndarray, pad: float = 1.6) -> list[float]:
    """A log10 axis range around the finite positive ``values``, padded by ``pad``×."""
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size == 0:
        return [0.0, 1.0]
    return [math.log10(finite.min() / pad), math.log10(finite.max() * pad)]


def _regime_traces(
    fig: go.Figure, result: CriticalBatch, y_range: list[float], names: bool = True
) -> None:
    """The three regimes as shaded bands, each named at its top unless ``names`` is off (a
    half-width chart, whose bands take the full-width chart's colours) (filled traces, so they
    sit in data coordinates on log axes); none when the fit does not hold (``fit_holds``)."""
    if not fit_holds(result):
        return
    low, high = regime_edges(result.b_crit)
    left, right = result.batch_sizes.min() / 1.5, result.batch_sizes.max() * 1.5
    edges = [left, max(min(low, right), left), max(min(high, right), left), right]
    bottom, top = 10 ** y_range[0], 10 ** y_range[1]
    for (name, color), x0, x1 in zip(REGIMES, edges[:-1], edges[1:], strict=True):
        if x1 <= x0:
            continue
        fig.add_trace(
            go.Scatter(
                x=[x0, x1, x1, x0, x0],
                y=[bottom, bottom, top, top, bottom],
                fill="toself",
                fillcolor=_tint(color),
                line={"width": 0},
                mode="lines",
                name=name,
                hoverinfo="skip",
                showlegend=False,
            )
        )
        if not names:
            continue
        fig.add_trace(
            go.Scatter(
                x=[math.sqrt(x0 * x1)],
                y=[10 ** (y_range[1] - 0.06 * (y_range[1] - y_range[0]))],
                mode="text",
                text=[name],
                textfont={"size": 11, "color": "#333333"},
                hoverinfo="skip",
                showlegend=False,
            )
        )


def _tint(color: str, alpha: float = 0.16) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _log_axes(
    fig: go.Figure, sizes: np.ndarray, x_title: str, y_title: str, y_range: list[float]
) -> go.Figure:
    """Log axes: the x ticks at the measured batch sizes, the y ticks at 1, 2, 5 × 10ᵏ."""
    fig.update_xaxes(type="log", title_text=x_title, tickvals=sizes.tolist())
    ticks = _ticks(y_range)
    fig.update_yaxes(
        type="log",
        title_text=y_title,
        range=y_range,
        tickvals=ticks,
        ticktext=[f"{tick:g}" for tick in ticks],
    )
    return fig


def _ticks(log_range: list[float]) -> list[float]:
    """1, 2, 5 × 10ᵏ inside a log10 range (only the decades when it spans more than three).

    Example:
        >>> _ticks([0.0, 2.0])
        [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    """
    low, high = math.floor(log_range[0]), math.ceil(log_range[1])
    steps = (1.0,) if high - low > 3 else (1.0, 2.0, 5.0)
    values = [m * 10.0**k for k in range(low, high + 1) for m in steps]
    return [float(f"{v:.12g}") for v in values if log_range[0] <= math.log10(v) <= log_range[1]]


def steps_figure(result: CriticalBatch, title: str = "Steps to the target against batch size"):
    """Updates to the target against batch size, log–log: measured points, the perfect-scaling
    line, the fitted curve and the three regimes (the curve grey and dashed, and no regimes,
    when the fit does not hold)."""
    fig = go.Figure()
    reached = result.reached
    sizes, steps = result.batch_sizes[reached], result.steps[reached]
    y_range = _log_range(np.append(steps, result.s_min) if fit_holds(result) else steps)
    _regime_traces(fig, result, y_range)
    dense = _sizes(result)
    if sizes.size:
        fig.add_trace(
            go.Scatter(
                x=dense,
                y=steps[0] * sizes[0] / dense,
                mode="lines",
                line={"color": charts.GREY, "dash": "dot", "width": 1.5},
                name=f"perfect scaling: twice the batch, half the steps (from B = {sizes[0]})",
                hoverinfo="skip",
            )
        )
    if math.isfinite(result.b_crit):
        holds = fit_holds(result)
        fig.add_trace(
            go.Scatter(
                x=dense,
                y=result.fitted_steps(dense),
                mode="lines",
                line={"color": charts.BLUE, "width": 2.5}
                if holds
                else {"color": charts.GREY, "width": 1.5, "dash": "dash"},
                name=f"fit S = {result.s_min:.3g}·(1 + {result.b_crit:.3g}/B)"
                + ("" if holds else ": does not fit, not read"),
                hovertemplate="B %{x:.3g}<br>fitted %{y:.3g} updates<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=sizes,
            y=steps,
            mode="markers",
            marker={"color": charts.BLUE, "size": 9, "line": {"color": "white", "width": 1}},
            customdata=result.best_learning_rate[reached],
            name=f"measured: median of {result.seeds.size} seeds, best learning rate",
            hovertemplate="batch size %{x}<br>%{y:.4g} updates<br>learning rate "
            "%{customdata:.3g}<extra></extra>",
        )
    )
    _log_axes(
        fig, result.batch_sizes, "batch size B (rows per update)", "updates to the target", y_range
    )
    return charts.layout(fig, title)


def epochs_figure(result: CriticalBatch) -> go.Figure:
    """Passes over the data to the target against batch size: flat, then rising past B_crit."""
    fig = go.Figure()
    reached = result.reached
    sizes, epochs = result.batch_sizes[reached], result.epochs[reached]
    y_range = _log_range(np.append(epochs, result.e_min) if fit_holds(result) else epochs)
    _regime_traces(fig, result, y_range, names=False)
    if fit_holds(result):
        dense = _sizes(result)
        fig.add_trace(
            go.Scatter(
                x=dense,
                y=result.fitted_epochs(dense),
                mode="lines",
                line={"color": charts.PURPLE, "width": 2.5},
                name=f"fit E = {result.e_min:.3g}·(1 + B/{result.b_crit:.3g}) epochs",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=sizes,
            y=epochs,
            mode="markers",
            marker={"color": charts.PURPLE, "size": 9, "line": {"color": "white", "width": 1}},
            name="measured",
            hovertemplate="batch size %{x}<br>%{y:.3g} epochs<extra></extra>",
        )
    )
    _log_axes(
        fig, result.batch_sizes, "batch size B (rows per update)", "epochs to the target", y_range
    )
    return charts.layout(fig, "Passes over the data to the target")


def noise_figure(along: NoiseAlong, b_crit: float) -> go.Figure:
    """B_simple along one run, with the start, the middle and the end marked."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=along.updates,
            y=along.b_simple,
            mode="lines",
            line={"color": charts.BLUE, "width": 2},
            name=(
                f"B_simple along the run (B = {along.batch_size}, learning rate "
                f"{along.learning_rate:.3g})"
            ),
            customdata=along.loss,
            hovertemplate="update %{x}<br>B_simple %{y:.3g}<br>loss %{customdata:.4g}"
            "<extra></extra>",
        )
    )
    marks = list(along.marks)
    fig.add_trace(
        go.Scatter(
            x=along.updates[marks],
            y=along.b_simple[marks],
            mode="markers+text",
            marker={"color": charts.VERMILION, "size": 10},
            text=[
                f"{label}: {along.b_simple[i]:.3g}" for label, i in zip(MARKS, marks, strict=True)
            ],
            textposition=["top right", "bottom right", "middle left"],
            name="start, middle, end",
            hoverinfo="skip",
        )
    )
    values = along.b_simple
    if math.isfinite(b_crit):
        values = np.append(values, b_crit)
        fig.add_trace(
            go.Scatter(
                x=[along.updates[0], along.updates[-1]],
                y=[b_crit, b_crit],
                mode="lines",
                line={"color": charts.GREY, "dash": "dash"},
                name=f"fitted B_crit = {b_crit:.3g}",
                hoverinfo="skip",
            )
        )
    fig.update_xaxes(title_text="update")
    y_range = _log_range(values, 3.0)
    ticks = _ticks(y_range)
    fig.update_yaxes(
        type="log",
        title_text="B_simple (rows)",
        range=y_range,
        tickvals=ticks,
        ticktext=[f"{tick:g}" for tick in ticks],
    )
    falls = "The noise scale grows as the loss falls"
    return charts.layout(fig, falls if grows(along) else "The noise scale along the run")


MARKS = ("start", "middle", "end")


def rate_figure(result: CriticalBatch) -> go.Figure:
    """The best learning rate against batch size, with the linear-scaling rule and B_crit."""
    fig = go.Figure()
    reached = result.reached
    sizes, rates = result.batch_sizes[reached], result.best_learning_rate[reached]
    values = np.append(rates, result.learning_rates)
    y_range = _log_range(values, 1.3)
    if sizes.size:
        dense = _sizes(result)
        fig.add_trace(
            go.Scatter(
                x=dense,
                y=rates[0] * dense / sizes[0],
                mode="lines",
                line={"color": charts.GREY, "dash": "dot", "width": 1.5},
                name=f"linear-scaling rule: {glossary.explain('linear-scaling rule')}",
                hoverinfo="skip",
            )
        )
    if fit_holds(result):
        fig.add_trace(
            go.Scatter(
                x=[result.b_crit, result.b_crit],
                y=[10 ** y_range[0], 10 ** y_range[1]],
                mode="lines",
                line={"color": charts.BLUE, "dash": "dash"},
                name=f"B_crit = {result.b_crit:.3g}",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=sizes,
            y=rates,
            mode="lines+markers",
            line={"color": charts.ORANGE, "width": 2},
            marker={"size": 9},
            name="best learning rate: the fewest updates to the target",
            hovertemplate="batch size %{x}<br>learning rate %{y:.3g}<extra></extra>",
        )
    )
    _log_axes(
        fig, result.batch_sizes, "batch size B (rows per update)", "best learning rate", y_range
    )
    return charts.layout(fig, "The best learning rate against batch size")


def time_figure(
    result: CriticalBatch, server: StepCost, learner: StepCost | None = None
) -> go.Figure:
    """Time to the target against batch size on this server, and on the learner's machine."""
    fig = go.Figure()
    curves = [("this server (NumPy loop, measured)", server, charts.BLUE)]
    if learner is not None:
        curves.append(("your machine (scaled to your ms/step)", learner, charts.VERMILION))
    values = []
    for name, cost, color in curves:
        ms = time_to_target(result, cost)
        values.append(ms)
        fig.add_trace(
            go.Scatter(
                x=result.batch_sizes[result.reached],
                y=ms[result.reached],
                mode="lines+markers",
                line={"color": color, "width": 2},
                name=name,
                hovertemplate="batch size %{x}<br>%{y:.3g} ms to the target<extra></extra>",
            )
        )
        best = fastest(result, cost)
        if best is not None:
            fig.add_trace(
                go.Scatter(
                    x=[best.batch_size],
                    y=[best.ms],
                    mode="markers",
                    marker={"color": color, "size": 16, "symbol": "star"},
                    name=f"fastest: B = {best.batch_size}",
                    hoverinfo="skip",
                )
            )
    _log_axes(
        fig,
        result.batch_sizes,
        "batch size B (rows per update)",
        "time to the target (ms)",
        _log_range(np.concatenate(values)),
    )
    return charts.layout(fig, "Time to the target = steps × (fixed cost + B × cost per row)")


# ---- words ------------------------------------------------------------------------------------


def question(seeds: int) -> str:
    """The page's question, and how it is measured."""
    return (
        "**“`fit()` defaults to `batch_size=32`. Should mine be bigger? How big is too big?”** "
        "Here is the measurement that answers it. For each batch size, every learning rate of a "
        f"grid trains with {seeds} shuffling seeds, and we count the updates until the full "
        "training loss reaches a target and stays there, for the best learning rate. Then the "
        "numbers are read the way McCandlish et al. (2018) and Shallue et al. (2018) read them, "
        f"to find the data's critical batch size {glossary.first('B_crit')}."
    )


def epochs_caption(result: CriticalBatch) -> str:
    """How to read the epochs chart (its bands only when the fit holds)."""
    bands = " (bands: the regimes above)" if fit_holds(result) else ""
    return (
        f"Epochs are updates × B / rows{bands}. While doubling the batch halves the steps, a "
        "pass over the data buys the same progress whatever the batch; once the steps stop "
        "falling, larger batches read more rows for the same result. That is why "
        f"{glossary.first('full batch')} wastes data."
    )


NOISE_SCALE = (
    "McCandlish et al. predict B_crit from the gradient noise scale "
    f"{glossary.first('B_simple')}, which changes as training goes on. It is tr Σ / |G|²: "
    f"tr Σ is {glossary.explain('tr Σ')}, and |G|² is the squared length of G, the gradient "
    "over all the rows."
)


def _rows(value: float) -> str:
    """A batch size for a sentence: whole rows from 10 up, two significant digits below."""
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def _percent(share: float) -> str:
    """A share as a whole percentage: 0.25 → "25 %"."""
    return f"{100 * share:.0f} %"


def _steps(value: float) -> str:
    """Updates for a sentence: a median of an even count of seeds may end in .5."""
    return f"{value:,.4g}"


def reach_sentence(stay_epochs: int, seeds: int) -> str:
    """What reaching the target means on this page."""
    span = "the next epoch" if stay_epochs == 1 else f"the next {stay_epochs} epochs"
    return (
        "A run **reaches** the target at the first update from which its full training loss "
        f"stays at or below it for {span} (⌈rows/B⌉ updates: every row read once more), so a "
        "brief dip below the target, made by the noise of small batches, does not count. "
        f"A batch size's steps are the median over the {seeds} seeds at its best learning rate."
    )


def fewest(result: CriticalBatch) -> tuple[float, int]:
    """(the fewest measured steps, the smallest batch size that needed them).

    Example:
        >>> fewest(_example())
        (6.0, 16)
    """
    reached = result.reached & (result.steps > 0)
    steps = result.steps[reached]
    i = int(np.argmin(steps))
    return float(steps[i]), int(result.batch_sizes[reached][i])


def span(result: CriticalBatch) -> float:
    """How many times fewer steps the largest batch size needed than the smallest (inf or NaN
    where one of them did not reach).

    Example:
        >>> from dataclasses import replace
        >>> span(replace(_example(), reached=np.ones(4, bool), steps=np.array([40, 12, 6, 4])))
        10.0
    """
    return float(result.steps[0] / result.steps[-1])


def fit_cards(result: CriticalBatch) -> list[tuple[str, str, str]]:
    """The fit's numbers for metric cards, with its quality beside them: (label, value, help).
    Empty without a fit; only its quality when it shows no bend (S_min and B_crit are then not
    measured, and ``fit_sentence`` says so)."""
    if not math.isfinite(result.b_crit):
        return []
    size, miss = worst_miss(result)
    read = [
        ("S_min", f"{result.s_min:.3g} updates", glossary.help("S_min")),
        ("B_crit", f"{_rows(result.b_crit)} rows", glossary.help("B_crit")),
    ]
    return (read if bend_in_view(result) else []) + [
        (
            "Fit: largest miss",
            f"{_percent(abs(miss))} at B = {size:,}",
            "The largest |S / S_fit − 1| over the measured points: how far the farthest "
            "measured point lies from the fitted curve. The page reads the curve (its regimes, "
            f"what a doubling saves) only when every point is within {_percent(FIT_TOLERANCE)}"
            f" of it. R² of the fit on log S: {result.fit_r2:.3f}.",
        ),
    ]


def fit_sentence(result: CriticalBatch) -> str:
    """What the fitted curve says, with its numbers and its quality: the regimes and what a
    doubling saves when it holds (``fit_holds``), and why it is not read when it does not."""
    if not math.isfinite(result.b_crit):
        reached = int((result.reached & (result.steps > 0)).sum())
        return (
            f"Only {reached} batch size{'s' if reached != 1 else ''} reached the target, too few "
            "to fit a curve: raise the longest run or choose an easier target."
        )
    low_steps, low_size = fewest(result)
    size, miss = worst_miss(result)
    if not bend_in_view(result):
        shape = (
            "keep falling in proportion to 1/B up to the largest batch size"
            if result.b_crit > result.batch_sizes.max()
            else "barely change from the smallest batch size on"
        )
        return (
            f"The measured steps {shape}, so they show no bend: the fit S = S_min·(1 + B_crit/B) "
            f"runs to the end of its search (B_crit = {result.b_crit:.3g}), and this page does "
            "not read S_min, B_crit or three regimes off it. The measured points are the answer: "
            f"the fewest steps were {_steps(low_steps)}, at batch size {low_size:,}."
        )
    head = (
        f"The fit S = S_min·(1 + B_crit/B) gives **S_min = {result.s_min:.3g} updates**, "
        f"{glossary.explain('S_min')} (the fewest measured: {_steps(low_steps)}, at batch size "
        f"{low_size:,}), and **B_crit = {_rows(result.b_crit)} rows**. "
    )
    against = contradicted(result)
    if against is not None:
        size, needs, had = against
        return head + (
            f"But by the curve batch size {size:,} needs about {_steps(needs)} updates, and it "
            f"did not reach the target (and stay) in the {had:,} it had: the measured points "
            "contradict the curve, so this page does not read three regimes, or what a "
            "doubling saves, off it: the measured points are the answer."
        )
    if not fit_holds(result):
        return head + (
            f"But the curve misses the measured point at batch size {size:,} by "
            f"**{_percent(abs(miss))}**, more than the {_percent(FIT_TOLERANCE)} this page "
            "accepts, so it does not read three regimes, or what a doubling saves, off the "
            "curve: the measured points are the answer."
        )
    low, high = regime_edges(result.b_crit)
    return head + (
        f"Every measured point lies within **{_percent(abs(miss))}** of the curve (the farthest "
        f"at batch size {size:,}). By the fit, doubling the batch at B saves "
        "B_crit / (2(B + B_crit)) of the steps: 40 % or more below about "
        f"{_rows(low)} rows (perfect scaling: up to half), a quarter at B_crit, and 10 % or less "
        f"above about {_rows(high)} rows (maximal data parallelism), where the steps stay within "
        "25 % of the floor S_min; in between, each doubling buys less than the last."
    )


def doubling_sentence(result: CriticalBatch, batch_size: int = KERAS_BATCH) -> str:
    """What doubling ``batch_size`` saves by the fit, next to the measured steps when both
    batch sizes were measured; "" when the fit does not hold or ``batch_size`` is outside it.

    Example:
        >>> doubling_sentence(_example(), 4)  # 8/(2·12) = 33 %; measured 12 → 6: 50 %
        'At batch size 4, doubling to 8 saves **33 %** of the steps by the fit (B_crit / (2(B + B_crit))).'
    """  # noqa: E501
    sizes = result.batch_sizes
    if not fit_holds(result) or not sizes.min() <= batch_size <= sizes.max() / 2:
        return ""
    saving = float(result.doubling_saving(batch_size))
    text = (
        f"At batch size {batch_size:,}, doubling to {2 * batch_size:,} saves "
        f"**{_percent(saving)}** of the steps by the fit (B_crit / (2(B + B_crit)))"
    )
    measured = dict(zip(sizes.tolist(), result.steps.tolist(), strict=True))
    before, after = measured.get(batch_size), measured.get(2 * batch_size)
    if before and after and math.isfinite(before) and math.isfinite(after):
        text += (
            f"; measured, {_steps(before)} → {_steps(after)} updates "
            f"({_percent(1 - after / before)})"
        )
    return text + "."


def edge_note(result: CriticalBatch) -> str:
    """A warning when some best rates sit at the grid's top: the grid may be too narrow."""
    at_edge = result.batch_sizes[result.best_at_edge]
    if at_edge.size == 0:
        return ""
    sizes = ", ".join(str(int(size)) for size in at_edge)
    return (
        f"At batch size {sizes} the best learning rate was the grid's largest, "
        f"{result.learning_rates.max():.3g}: a larger one might need fewer steps still."
    )


def grows(along: NoiseAlong) -> bool:
    """Whether B_simple ends the run above where it started (the figure's title and the
    sentence say the same)."""
    start, end = (float(along.b_simple[i]) for i in (along.marks[0], along.marks[2]))
    return end > start


def noise_sentence(along: NoiseAlong) -> str:
    """How B_simple changes along the run, and what that means for the batch size."""
    start, middle, end = (float(along.b_simple[i]) for i in along.marks)
    loss = [float(along.loss[i]) for i in along.marks]
    halfway, last = (int(along.updates[i]) for i in along.marks[1:])
    where = "where it reaches the target to stay" if along.reached else "at its last update"
    trend = (
        "It grows as the loss falls: the gradient shrinks faster than its noise, so a larger "
        "batch becomes worth its rows as training goes on. **Batches can grow during "
        "training**, instead of the learning rate decaying (Smith et al. 2018, \"Don't decay "
        'the learning rate, increase the batch size").'
        if grows(along)
        else "Here it did not grow along the run, so a fixed batch size loses little."
    )
    return (
        f"Along the run at batch size {along.batch_size} (learning rate "
        f"{along.learning_rate:.3g}), B_simple is **{start:.3g}** at the start (loss "
        f"{loss[0]:.4g}), **{middle:.3g}** in the middle (update {halfway}, loss "
        f"{loss[1]:.4g}) and **{end:.3g}** {where} (update {last}, loss {loss[2]:.4g}). "
        f"{trend}"
    )


def agreement_sentence(result: CriticalBatch, b_simple_start: float, b_simple_end: float) -> str:
    """Does the measured B_crit match the noise scale at the start, within a factor of two?
    If not, why, with the numbers ("" when the fit does not hold)."""
    if not fit_holds(result):
        return ""
    ratio = result.b_crit / b_simple_start
    head = (
        f"McCandlish et al. predict B_crit ≈ B_simple. Measured: B_crit = "
        f"{_rows(result.b_crit)}, and B_simple = {_rows(b_simple_start)} at the start"
    )
    if 0.5 <= ratio <= 2.0:
        return f"{head}: they agree within a factor of two ({ratio:.2g}×)."
    if not (math.isfinite(b_simple_end) and b_simple_start < result.b_crit < b_simple_end):
        return (
            f"{head}, {ratio:.2g}× apart. The prediction assumes a well-conditioned problem "
            "and an optimally tuned learning rate at every batch size; a coarse grid or a "
            "curved valley moves the measured B_crit."
        )
    return (
        f"{head}, {ratio:.2g}× apart, and {_rows(b_simple_end)} near the target. No single "
        "value of B_simple is the critical batch when it changes this much along the run: "
        f"B_crit = {_rows(result.b_crit)} sums up the whole run and lies between the two. "
        "The closer the target lies to the minimum, the more of the steps are spent where "
        "the noise scale is large, and the larger B_crit grows."
    )


def cost_sentence(cost: StepCost) -> str:
    """The measured cost model, in µs."""
    per_row = (
        f"**{1000 * cost.per_row_ms:.3g} µs per row**"
        if cost.per_row_ms > 0
        else "a cost per row too small to measure next to it"
    )
    return (
        "Time = updates × (fixed cost + B × cost per row). Measured on this server with the "
        f"NumPy loop: **{1000 * cost.fixed_ms:.3g} µs per update** plus {per_row}."
    )


RATE_CRITERION = (
    "the learning rate of the grid that reaches the target (and stays) in the fewest updates, "
    "median over the seeds"
)


def rate_sentence(result: CriticalBatch) -> str:
    """How the best learning rate grew with the batch size, naming what "best" means here."""
    reached = result.reached
    if reached.sum() < 2:
        return ""
    sizes, rates = result.batch_sizes[reached], result.best_learning_rate[reached]
    grew, batch = rates[-1] / rates[0], sizes[-1] / sizes[0]
    if grew < LEVELS_OFF * batch:
        where = "past B_crit" if fit_holds(result) else "at large batches"
        how = (
            "The linear-scaling rule (dotted) holds while the batch's noise limits the step; "
            f"{where} the shape of the loss limits it, and the best rate levels off below the "
            f"{glossary.first('stability bound')}."
        )
    else:
        how = (
            "It follows the linear-scaling rule (dotted) up to the largest batch size that "
            "reached the target: the batch's noise limits the step all the way."
        )
    return (
        f"Best learning rate here means {RATE_CRITERION}. From batch size {sizes[0]} to "
        f"{sizes[-1]} it went from {rates[0]:.3g} to {rates[-1]:.3g}, {grew:.3g}× for a "
        f"{batch:.3g}× larger batch. {how} (The maps pick the rate with the lowest loss after a "
        "fixed number of epochs instead, so their best rates differ.)"
    )


def time_sentence(server: Fastest | None, learner: Fastest | None, learner_at: int) -> str:
    """The fastest batch size on this server and, if given, on the learner's machine."""
    if server is None:
        return "No batch size reached the target, so there is no fastest one."
    text = (
        f"On this server the fastest to the target is **batch size {server.batch_size}**: "
        f"{server.steps:.3g} updates, {server.ms:.3g} ms."
    )
    if learner is not None:
        text += (
            f" With your ms/step at batch size {learner_at}, it is **batch size "
            f"{learner.batch_size}** ({learner.ms:.3g} ms)."
        )
    return text


def takeaway(result: CriticalBatch, server: Fastest | None, learner: Fastest | None) -> str:
    """The answer to the page's question, in the run's numbers: what a doubling saves by the
    fit when it holds, the measured steps otherwise."""
    if not math.isfinite(result.b_crit):
        return fit_sentence(result)
    low_steps, low_size = fewest(result)
    if fit_holds(result):
        low, high = regime_edges(result.b_crit)
        text = (
            f"**Up to about {_rows(low)} rows per batch, doubling the batch saves 40–50 % of "
            f"the steps; at B_crit ≈ {_rows(result.b_crit)} rows a quarter; beyond about "
            f"{_rows(high)} rows 10 % or less**, down to a floor of about {result.s_min:.3g} "
            f"updates ({_steps(low_steps)} measured, at batch size {low_size:,}). "
        )
    else:
        sizes, steps = result.batch_sizes[result.reached], result.steps[result.reached]
        missed = result.batch_sizes[~result.reached]
        text = (
            f"**Measured: from batch size {sizes[0]:,} to {sizes[-1]:,} the steps to the target "
            f"go from {_steps(steps[0])} to {_steps(steps[-1])}**"
            + (
                f" (batch size {', '.join(f'{b:,}' for b in missed.tolist())} did not reach it)"
                if missed.size
                else ""
            )
            + f"; the fewest were {_steps(low_steps)}, at batch size {low_size:,}. The curve "
            "does not fit these points well enough to read regimes off it. "
        )
    if server is not None:
        text += f"On this server the fastest to the target was batch size {server.batch_size}."
    if learner is not None and (server is None or learner.batch_size != server.batch_size):
        text += f" On your machine it would be batch size {learner.batch_size}."
    return text


def _example() -> CriticalBatch:
    """A small record for the doctests: steps 40, 12, 6 and one batch size not reached."""
    return CriticalBatch(
        batch_sizes=np.array([1, 4, 16, 64]),
        learning_rates=np.array([0.1, 0.2]),
        steps=np.array([40.0, 12.0, 6.0, np.inf]),
        epochs=np.array([0.4, 0.48, 0.96, np.inf]),
        best_learning_rate=np.array([0.1, 0.2, 0.2, np.nan]),
        best_at_edge=np.array([False, True, True, False]),
        reached=np.array([True, True, True, False]),
        s_min=4.0,
        e_min=0.3,
        b_crit=8.0,
        fit_error=1 / 9,  # 40 against the fit's 36; 12 and 6 on it
        fit_r2=0.99,
        target_loss=1.0,
        stay_epochs=1,
        loss_points_per_epoch=None,
        seeds=np.array([0, 1, 2]),
        opt=SGD(0.1),
        max_epochs=3,  # too few for batch size 64, which the curve says needs 4.5 updates
        n_train=100,
    )
