"""Playground, for a model without a closed-form stability bound (the network): λmax measured
along the run and drawn against the edge of stability 2/η, the picture of Cohen et al. (2021),
"Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability".

Linear regression's Hessian is constant, so its bound 2(1 + μ)/λmax is one number
(``gd.heavy_ball_bound``). A network's Hessian changes as it trains, so ``curve`` measures its
top eigenvalue at a few points of the run (``gd.sharpness.along``, power iteration on
Hessian-vector products) and ``figure`` draws it against ``gd.sharpness.edge_of_stability`` at
each point's learning rate. ``work`` is what ``curve`` costs in ``ui.budget`` units, so a page
can refuse it first. Everything but ``curve`` is a pure function of a ``Curve``: the figure, its
summary, its caption and the run's status sentence.

Example:
    >>> import gd
    >>> data = gd.datasets.curve(n=60, seed=0)
    >>> x, y = data.x[:, None], data.y
    >>> opt = gd.SGD(learning_rate=0.05)
    >>> run = gd.fit(gd.models.MLP(), data.x, data.y, opt, gd.Training(epochs=5), batch_size=60)
    >>> measured = measure(gd.models.MLP(), run, x, y, opt)
    >>> measured.updates.tolist(), measured.edge.tolist()  # 2/η = 40 at every point
    ([0, 1, 2, 3, 4, 5], [40.0, 40.0, 40.0, 40.0, 40.0, 40.0])
    >>> status(measured)[:42]
    'λmax stayed below the edge 2/η throughout:'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import gd
from ui import budget, cache, charts, glossary
from ui.controls import HASH_FUNCS, Settings

POINTS = 40  # λmax at most this many points of a run, evenly spread: the shape of the curve
# shows at 40, and on the network's default 200 rows the 40 take about 0.1 s.
NEAR = 0.9  # λmax at 90 % of the edge or more counts as at it: on the chart's log axis that
# gap is 0.05 of a decade, hard to tell from touching; mini-batch runs settle a little below
# the line, as their batches' own curvature is larger (Jastrzębski et al. 2020).
PRODUCT_PASSES = 2  # a Hessian-vector product is two gradients (gd.sharpness.hessian_vector)
PHASES = 2  # top_eigenvalue's worst case: plain power iteration, then the shifted one
NICE = np.array([1.0, 2.0, 3.0, 5.0, 7.0, 10.0])  # a log axis ends at one of these × 10ᵏ
# Hessian-vector products per point and phase at most. Warm-started from the previous point, a
# point converges in 10 to 25 (on the network's default runs, 25 give gd.sharpness.along's own
# 100's values exactly), and the budget counts the cap: a quarter of the default's work.
ITERATIONS = 25


@dataclass(frozen=True)
class Curve:
    """λmax at the measured points of one run, and the edge of stability at each."""

    updates: np.ndarray  # (K,) the points measured: update u is the point after u updates
    sharpness: np.ndarray  # (K,) λmax of the full-data Hessian there (nan if it overflowed)
    edge: np.ndarray  # (K,) edge_of_stability(η_u, μ), η_u the rate of the update from there
    momentum: float
    nesterov: bool
    decays: bool  # the rate decays, so the edge rises with the update
    full_batch: bool
    diverged_at: int | None  # the run's ``diverged_at``

    @property
    def ratio(self) -> np.ndarray:
        """(K,) λmax over the edge: above 1, plain GD on the local quadratic is unstable."""
        return self.sharpness / self.edge

    @property
    def symbol(self) -> str:
        """The edge as the chart and the words write it: "2/η", "2(1 + μ)/η", "2/ηₜ"."""
        base = "2(1 + μ)/η" if self.momentum else "2/η"
        if self.nesterov and self.momentum:
            base = "2(1 + μ)/((1 + 2μ)η)"
        return base + ("ₜ" if self.decays else "")

    def when(self, k: int) -> str:
        """ "at update u" for the k-th point, or "by update u" when updates before it were
        skipped (the line was met somewhere between two measured points)."""
        exact = k == 0 or self.updates[k] - self.updates[k - 1] == 1
        return f"{'at' if exact else 'by'} update {self.updates[k]:,}"


def measured_updates(run: gd.Run, most: int = POINTS) -> np.ndarray:
    """At most ``most`` updates of the run, evenly spread from the start to its last finite
    point: a run that blew up ends at its ``diverged_at`` (``gd.fit`` stops there), and its
    last parameters may have overflowed.

    Example:
        >>> import gd
        >>> data = gd.datasets.linear(n=20, seed=0)
        >>> run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1),
        ...              gd.Training(epochs=50), batch_size=20)
        >>> measured_updates(run, most=6).tolist()
        [0, 10, 20, 30, 40, 50]
    """
    finite = np.all(np.isfinite(run.params), axis=1)  # (U + 1,)
    last = run.updates if finite.all() else int(np.argmin(finite)) - 1
    return np.unique(np.linspace(0, last, min(most, last + 1)).round().astype(int))


def measure(
    model: gd.models.Model,
    run: gd.Run,
    x: np.ndarray,
    y: np.ndarray,
    optimizer: gd.SGD,
    points: int = POINTS,
) -> Curve:
    """λmax at ``measured_updates(run, points)`` on the training rows x (n_train, 1), y
    (n_train,), with ``gd.sharpness.along``'s own tolerance and iterations, and the edge at each
    point from the rate of the update that follows it (``optimizer.learning_rate_at``).

    Under inverse-time decay the edge 2(1 + μ)(1 + decay·t)/η is linear in t, so the straight
    segments between measured points draw the schedule's line exactly.
    """
    updates = measured_updates(run, points)
    sharpness = gd.sharpness.along(model, run.params[updates], x, y, iterations=ITERATIONS)
    rates = optimizer.learning_rate_at(updates)
    edge = np.array(
        [
            gd.sharpness.edge_of_stability(rate, optimizer.momentum, optimizer.nesterov)
            for rate in rates
        ]
    )
    return Curve(
        updates=updates,
        sharpness=sharpness,
        edge=edge,
        momentum=optimizer.momentum,
        nesterov=optimizer.nesterov,
        decays=optimizer.decay > 0,
        full_batch=run.batch_size == run.n_train,
        diverged_at=run.diverged_at,
    )


@st.cache_data(max_entries=32, show_spinner="Measuring λmax along the run…", hash_funcs=HASH_FUNCS)
def curve(settings: Settings, csv: bytes | None, points: int = POINTS) -> Curve:
    """``measure`` on this session's run (``cache.run``) and training rows; ``csv`` is the
    upload or None, part of the key as in ``ui.cache``. Its cost is ``work``."""
    return measure(
        settings.spec.build(),
        cache.run(settings, csv),
        *cache.training_rows(settings, csv),
        cache.optimizer_for(settings),
        points,
    )


def no_edge(settings: Settings) -> str:
    """Why there is no edge to draw λmax against, in one line ("" when there is one): with
    momentum 1 the heavy ball has no friction, and on a quadratic no rate is stable (every
    eigen-direction's two roots have |z| = √μ = 1: each swing keeps its size).

    Example:
        >>> no_edge(Settings(model="network"))
        ''
        >>> no_edge(Settings(model="network", momentum=1.0))[:30]
        'With momentum 1 there is no fr'
    """
    if settings.momentum < 1:
        return ""
    return (
        "With momentum 1 there is no friction: on a quadratic no learning rate is stable (each "
        "swing keeps its size), so there is no edge of stability to draw λmax against."
    )


def measured_for(settings: Settings) -> bool:
    """Whether a page measures λmax for these settings: a model without a closed-form bound
    (the regressions' bound is exact), with an edge to draw it against (``no_edge``)."""
    return not settings.spec.closed_form and not no_edge(settings)


def work(settings: Settings, points: int = POINTS) -> int:
    """The work (``ui.budget`` units) of ``curve``, at worst, beyond the run itself: at each
    point (no more than the run's planned updates + 1) ``PHASES`` × ``ITERATIONS``
    Hessian-vector products of ``PRODUCT_PASSES`` gradient passes over the training rows each.
    A gradient pass costs what a training pass does (``ui.budget.loss_work``).

    Warm-started from the previous point, a point usually takes 10 to 25 products, not 200.

    Example:
        >>> from ui.models import MODELS
        >>> work(Settings(model="network")) == 40 * 100 * 200 * MODELS["network"].cost
        True
    """
    s = settings
    planned = budget.updates(s.n_train, s.batch_size, s.epochs) + 1
    passes = min(points, planned) * PHASES * ITERATIONS * PRODUCT_PASSES
    return budget.loss_work(s.model, s.n_train, passes)


def _value(value: float) -> str:
    """λmax or the edge, as the chart's label and the words both write it."""
    return f"{value:.3g}"


def _percent(ratio: float) -> str:
    return f"{100 * ratio:.0f} %"


def _edge_words(c: Curve) -> str:
    """The edge with its value: "2/η = 40", or "2/ηₜ = 40 → 96" when the rate decays."""
    first, last = _value(c.edge[0]), _value(c.edge[-1])
    return f"{c.symbol} = {first}" if first == last else f"{c.symbol} = {first} → {last}"


def figure(c: Curve) -> go.Figure:
    """λmax at each measured update (blue, dots), the edge of stability (vermilion, dashed;
    it follows the schedule when the rate decays), labelled at the end where λmax leaves it
    room (``_label_end``), and the last point measured before the run blew up (black ×). The
    y axis is logarithmic (``charts.log_axis``) while every value is positive: a blow-up's
    λmax is thousands of times the edge."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=c.updates,
            y=c.sharpness,
            mode="lines+markers",
            line={"color": charts.BLUE, "width": 2},
            marker={"color": charts.BLUE, "size": 6},
            name="λmax, the top eigenvalue of the Hessian",
            hovertemplate="update %{x}<br>λmax %{y:.4g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=c.updates,
            y=c.edge,
            mode="lines",
            line={"color": charts.VERMILION, "width": 2, "dash": "dash"},
            name=f"edge of stability {_edge_words(c)}",
            hovertemplate=f"update %{{x}}<br>{c.symbol} %{{y:.4g}}<extra></extra>",
        )
    )
    if c.diverged_at is not None:
        fig.add_trace(
            go.Scatter(
                x=c.updates[-1:],
                y=c.sharpness[-1:],
                mode="markers",
                marker={"color": charts.BLACK, "size": 12, "symbol": "x"},
                name=f"blew up at update {c.diverged_at:,}",
                hovertemplate=f"blew up at update {c.diverged_at:,}<extra></extra>",
                cliponaxis=False,
            )
        )
    log = _log(c)
    end = _label_end(c)
    fig.add_annotation(  # the line's label, at its end farther from λmax, on the other side
        x=c.updates[end],
        y=np.log10(c.edge[end]) if log else c.edge[end],  # a log axis places it in log10
        text=c.symbol,
        showarrow=False,
        xanchor="left" if end == 0 else "right",
        yanchor="top" if c.sharpness[end] > c.edge[end] else "bottom",
        font={"color": charts.VERMILION, "size": 14},
    )
    if log:
        low, high = _log_range(c)
        charts.log_axis(fig, "y", low, high, "sharpness λmax")
        fine = np.log10(high / low) <= charts.FINE_DECADES  # as charts.log_ticks decides
        fig.update_yaxes(minor={"dtick": "D1" if fine else "D2"})  # at 2 … 9, or 2 and 5
    else:
        fig.update_yaxes(title_text="sharpness λmax")
    fig.update_xaxes(title_text="update")
    return charts.layout(fig, "Sharpness against the edge of stability")


def _label_end(c: Curve) -> int:
    """Which end of the line (0 or -1) its label goes at: where λmax is farther from it (in
    ratio; an overflowed λmax leaves that end free).

    Example:
        >>> c = Curve(np.array([0, 9]), np.array([12.0, 39.0]), np.full(2, 40.0),
        ...           0.0, False, False, False, None)
        >>> _label_end(c)
        0
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.nan_to_num(np.abs(np.log10(c.ratio[[0, -1]])), nan=np.inf)  # (2,) decades
    return 0 if gap[0] >= gap[1] else -1


def _log_range(c: Curve) -> tuple[float, float]:
    """The y axis's ends: every value with a margin (room for the line's label), rounded out
    (``NICE``), so that even a narrow range shows two labelled ticks.

    Example:
        >>> c = Curve(np.array([0, 1]), np.array([12.7, 18.5]), np.full(2, 40.0),
        ...           0.0, False, False, False, None)
        >>> _log_range(c)
        (10.0, 50.0)
    """
    values = _finite(c)
    low, high = np.log10(values.min()), np.log10(values.max())  # decades
    margin = 0.08 * max(high - low, 0.5)
    return _round_out(10 ** (low - margin), 10 ** (high + margin))


def _round_out(low: float, high: float) -> tuple[float, float]:
    """``low`` rounded down and ``high`` up to one of ``NICE`` times a power of ten.

    Example:
        >>> _round_out(0.031, 4100.0)
        (0.03, 5000.0)
    """
    below = 10.0 ** np.floor(np.log10(low)) * NICE  # (6,) in low's decade
    above = 10.0 ** np.floor(np.log10(high)) * NICE
    return float(f"{below[below <= low][-1]:.12g}"), float(f"{above[above >= high][0]:.12g}")


def _log(c: Curve) -> bool:
    """Whether the chart's y axis is logarithmic: while every value is positive (a negative
    λmax, near a saddle, would vanish from a log axis)."""
    return bool(np.all(_finite(c) > 0))


def _finite(c: Curve) -> np.ndarray:
    """Every finite value the chart draws: λmax and the edge."""
    values = np.concatenate([c.sharpness, c.edge])
    return values[np.isfinite(values)]


def summary(c: Curve) -> str:
    """The chart in one sentence, with its numbers (``charts.alt``).

    Example:
        >>> c = Curve(np.array([0, 5, 10]), np.array([12.0, 30.0, 39.0]), np.full(3, 40.0),
        ...           0.0, False, False, False, None)
        >>> summary(c)
        'λmax at 3 points from update 0 to 10: 12 at the start, 39 at the end, against the edge 2/η = 40.'
    """  # noqa: E501
    seen = np.flatnonzero(np.isfinite(c.sharpness))
    if not seen.size:
        return f"λmax could not be measured: the gradient overflowed; the edge is {_edge_words(c)}."
    first, last = seen[0], seen[-1]
    return (
        f"λmax at {c.updates.size} points from update {c.updates[0]:,} to {c.updates[-1]:,}: "
        f"{_value(c.sharpness[first])} at the start, {_value(c.sharpness[last])} at the end, "
        f"against the edge {_edge_words(c)}."
    )


def caption(c: Curve) -> str:
    """What the chart shows and why its line is only a local bound (Cohen et al. 2021)."""
    parts = [
        f"{glossary.first('λmax')}: the top eigenvalue of the loss's Hessian on all the "
        f"training rows, measured by power iteration at {c.updates.size} points of this run. "
        "The dashed line 2/η is where plain gradient descent with learning rate η, on a "
        "quadratic loss with that curvature, stops being stable: each step overshoots the "
        "bottom by more than the last.",
    ]
    if c.momentum:
        parts.append(
            f"With momentum μ = {c.momentum:g} the edge is 2(1 + μ)/η, {1 + c.momentum:g} times "
            f"higher: the bound of {glossary.first('heavy-ball momentum')}."
            + (
                f" With Nesterov's momentum it is 2(1 + μ)/((1 + 2μ)η), {1 + 2 * c.momentum:g} "
                "times lower than that: the line drawn."
                if c.nesterov
                else ""
            )
        )
    if c.decays:
        parts.append("The learning rate decays, so its edge rises along the run: 2/ηₜ.")
    parts.append(
        "The bound is local: it holds only where the loss is close to its quadratic "
        "approximation, and this model's curvature changes as it trains. On neural networks, "
        "Cohen et al. (2021) found that λmax typically rises (progressive sharpening) until it "
        "reaches 2/η, then hovers there while the loss keeps falling, unevenly. So crossing "
        "the line is a warning, not a verdict."
    )
    if not c.full_batch:
        parts.append(
            "Each mini-batch has its own curvature, which can exceed the λmax of all the rows "
            "drawn here."
        )
    return " ".join(parts)


def status(c: Curve) -> str:
    """What λmax did against the edge in this run, in one sentence that agrees with the chart.

    The rule, on the ratio r = λmax / edge at the measured points (``NEAR`` = 0.9):
    1. The run blew up: where r first exceeded 1 (at the start, or at an update), or that it
       never did at a measured point.
    2. Else r stayed below ``NEAR``: below the edge throughout, with its peak.
    3. Else from where r first reached ``NEAR``, by its last value: still within
       [``NEAR``, 1/``NEAR``], it hovered there (with its range since); below, it fell back;
       above, it went on past the edge without blowing up.
    """
    ratio = c.ratio
    seen = np.isfinite(ratio)
    if not seen.any():
        return "λmax could not be measured: the gradient overflowed at every point."
    if c.diverged_at is not None:
        return _blew_up(c, ratio, seen)
    near = np.flatnonzero(seen & (ratio >= NEAR))
    if not near.size:
        peak = int(np.nanargmax(ratio))
        return (
            f"λmax stayed below the edge {c.symbol} throughout: at most {_percent(ratio[peak])} of "
            f"it ({_value(c.sharpness[peak])} against {_value(c.edge[peak])}, "
            f"at update {c.updates[peak]:,})."
        )
    k = int(near[0])
    if k == 0:
        reached = (
            f"was at the edge {c.symbol} = {_value(c.edge[0])} from the start "
            f"({ratio[0]:.2g} times it)"
        )
    else:
        reached = f"rose to the edge {c.symbol} = {_value(c.edge[k])} {c.when(k)}"
    since = ratio[k:][seen[k:]]
    end = since[-1]
    if end < NEAR:
        return f"λmax {reached}, then fell back: it ended at {_percent(end)} of the edge."
    if end > 1 / NEAR:
        crossed = k + int(np.argmax(ratio[k:] > 1))  # the end is above 1, so one point is
        crossing = "" if crossed == k else f", crossed it {c.when(crossed)}"
        return (
            f"λmax {reached}{crossing} and went on past it, ending at {end:.2g} times the edge "
            "without blowing up: the bound is local."
        )
    return (
        f"λmax {reached} and hovered there, between {since.min():.2g} and {since.max():.2g} "
        "times the edge from then on."
    )


def _blew_up(c: Curve, ratio: np.ndarray, seen: np.ndarray) -> str:
    """``status`` for a run that blew up at ``c.diverged_at``."""
    blew = f"the run blew up at update {c.diverged_at:,}"
    above = np.flatnonzero(seen & (ratio > 1))
    if not above.size:
        why = (
            "the bound is local, and a step left the region where the quadratic holds"
            if c.full_batch
            else "a mini-batch's own curvature can exceed the λmax of all the rows"
        )
        return (
            f"λmax stayed below the edge {c.symbol} at every point measured (at most "
            f"{_percent(np.nanmax(ratio))} of it), yet {blew}: {why}."
        )
    k = int(above[0])
    if k == 0:
        return (
            f"λmax was above the edge from the start: {_value(c.sharpness[0])} against "
            f"{c.symbol} = {_value(c.edge[0])}, and {blew}."
        )
    return f"λmax crossed the edge {c.symbol} = {_value(c.edge[k])} {c.when(k)}, and {blew}."
