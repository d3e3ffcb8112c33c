"""Lesson "Batch, mini-batch, stochastic" (``lessons/batch_sizes.py``): pure Plotly builders
for the batch-size comparison, records in, ``go.Figure`` out.

The records hold full-resolution arrays; the builders thin them (``charts.thin``) so each
figure stays small. No Streamlit here, so tests call every builder directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from ui import charts

if TYPE_CHECKING:  # the records these builders read; ui.cache itself runs Streamlit's caches
    from ui.cache import Contours, Surface

# What each x-axis choice measures; the keys are the field names of ``Axes``. Epochs first:
# the page's default, the unit a Keras user reads in ``fit``'s log.
UNITS = {
    "epochs": "epochs",
    "updates": "updates (optimizer steps)",
    "samples": "samples seen",
    "time": "compute time (ms, cost model)",
}
DEFAULT_UNIT = "epochs"
# Units in which batch sizes differ by orders of magnitude (batch size 1 takes n times the
# updates of the full batch, and most of its time): drawn on a log axis, where each run's
# curve keeps its shape instead of collapsing into the left edge. The start (0) is not on it.
LOG_UNITS = ("updates", "time")
BAND_PERCENTILES = (10, 50, 90)  # the band's low edge, the median line, the high edge
CLOSE_UP = 0.15  # the close-up shows the minimum ± this fraction of the contour window
ENDS_MARGIN = 0.15  # on the network's slice, the close-up spans the end points and this share
# of their extent again on each side: its runs stop far from the ✕ after a few epochs


@dataclass(frozen=True)
class Axes:
    """Where each recorded point of a run sits along every x-axis unit (all (m,))."""

    updates: np.ndarray
    epochs: np.ndarray
    samples: np.ndarray
    time: np.ndarray  # ms from the start, by the cost model: updates × fixed + rows × per row

    def along(self, unit: str) -> np.ndarray:
        """The positions in ``unit``, one of ``UNITS``."""
        return getattr(self, unit)


def axes_at(steps: np.ndarray, samples: np.ndarray, n_train: int, cost) -> Axes:
    """The positions of the points recorded after ``steps`` updates, in every unit.

    ``samples`` are the training rows read by then (``Run.samples_seen[steps]``); ``cost``
    turns updates and rows into milliseconds (``ui.cost.CostModel``, or anything with
    its ``ms(updates, samples)``).

    Example:
        >>> class Cost:
        ...     def ms(self, updates, samples):
        ...         return 0.5 * updates + 0.01 * samples
        >>> axes = axes_at(np.array([0, 3, 4]), np.array([0, 9, 10]), n_train=10, cost=Cost())
        >>> axes.samples.tolist(), axes.epochs.tolist(), axes.time.round(3).tolist()
        ([0, 9, 10], [0.0, 0.9, 1.0], [0.0, 1.59, 2.1])
    """
    return Axes(
        updates=steps,
        epochs=samples / n_train,
        samples=samples,
        time=np.asarray(cost.ms(steps, samples), dtype=float),
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
    epoch_x: Axes  # (E,) where each completed epoch ends
    epoch_loss: np.ndarray  # (E,) Keras's epoch loss (the running mean of the batch losses)

    @property
    def noisy(self) -> bool:
        """More than one update per epoch: each point is one batch's luck, so it is smoothed."""
        return self.updates_per_epoch > 1


@dataclass(frozen=True)
class Smooth:
    """A noisy curve, smoothed: the rolling 10th percentile, median and 90th percentile."""

    low: np.ndarray  # (m,)
    median: np.ndarray  # (m,)
    high: np.ndarray  # (m,)


def rolling(values: np.ndarray, half: int) -> Smooth:
    """The 10th, 50th and 90th percentile of ``values`` over a centred window of up to
    ``2·half + 1`` points. The window starts at one point and widens along the run (never
    more than the points already past on the left), so a fast first drop stays sharp.

    Example:
        >>> r = rolling(np.array([9.0, 1.0, 2.0, 1.0, 2.0, 1.0]), half=1)
        >>> r.median.tolist()
        [9.0, 2.0, 1.0, 2.0, 1.0, 1.5]
    """
    values = np.asarray(values, dtype=float)
    m = values.size
    if half <= 0 or m < 3:
        return Smooth(values, values, values)
    index = np.arange(m)
    width = np.minimum(half, index)  # (m,) grows from 0 at the start
    offsets = np.arange(-half, half + 1)  # (w,)
    where = index[:, None] + offsets[None, :]  # (m, w)
    inside = (np.abs(offsets)[None, :] <= width[:, None]) & (where >= 0) & (where < m)
    window = np.where(inside, values[np.clip(where, 0, m - 1)], np.nan)  # (m, w)
    with np.errstate(all="ignore"):
        low, median, high = np.nanpercentile(window, BAND_PERCENTILES, axis=1)
    return Smooth(low, median, high)


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
    ends: np.ndarray  # (k, P) final parameters of the k seeds that did not diverge
    drawn: np.ndarray  # (k, 2) where the contour charts draw them (``Surface.project``)
    seeds: int  # seeds run; seeds − k diverged and are left out of the band and the cloud


def _thinned(x: np.ndarray, updates_per_epoch: int) -> np.ndarray:
    return charts.thin(x.size, updates_per_epoch)


def smoothed(curve: Curve, points: np.ndarray) -> Smooth:
    """``curve``'s full loss at ``points`` (thinned indices), smoothed over about one epoch
    (at most a twentieth of the run) when it is noisy."""
    loss = curve.loss[points]
    if not curve.noisy or points.size < 3:
        return Smooth(loss, loss, loss)
    epochs = curve.x.epochs[points]
    span = max(float(epochs[-1] - epochs[0]), 1e-12)
    per_epoch = (points.size - 1) / span  # thinned points per epoch
    half = int(min(per_epoch, points.size / 20) // 2)
    return rolling(loss, half)


def loss_range(curves: Sequence[Curve], smooth: Sequence[Smooth]) -> tuple[float, float]:
    """The loss axis's range: the smoothed full losses and Keras's epoch losses, not single
    noisy points (a batch of one row can be right by luck at 1e-8)."""
    values = [s.median for s in smooth] + [c.epoch_loss for c in curves]
    values += [c.loss[:1] for c in curves]  # the start
    every = np.concatenate([np.asarray(v, dtype=float).ravel() for v in values])
    every = every[np.isfinite(every) & (every > 0)]
    if every.size == 0:
        return 0.1, 10.0
    return float(every.min()), float(every.max())


def loss_curves_figure(
    curves: Sequence[Curve], unit: str, log_y: bool = True, raw: bool = False
) -> go.Figure:
    """The full training loss of each run against ``unit``: noisy runs as a rolling median
    over about an epoch with its 10–90% band, every update's point only with ``raw``. The
    loss axis follows the smoothed and the epoch losses (``loss_range``), raw or not."""
    fig = go.Figure()
    smooth = []
    for curve in curves:
        points = _thinned(curve.loss, curve.updates_per_epoch)
        line = smoothed(curve, points)
        smooth.append(line)
        if unit in LOG_UNITS:  # the start sits at 0, left of every log axis
            shown = curve.x.along(unit)[points] > 0
            points = points[shown]
            line = Smooth(line.low[shown], line.median[shown], line.high[shown])
        x = curve.x.along(unit)[points].astype(np.float32)
        name = f"{curve.label} (diverged)" if curve.diverged else curve.label
        if curve.noisy:
            _band(fig, x, line.low, line.high, curve.color, f"{curve.label}: rolling 10–90%")
        if raw and curve.noisy:
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=curve.loss[points].astype(np.float32),
                    mode="markers",
                    marker={"color": curve.color, "size": 3, "opacity": 0.5},
                    name=f"{curve.label}: every update",
                    hovertemplate=f"<b>{curve.label}</b><br>{UNITS[unit]} %{{x:.4g}}"
                    "<br>full training loss %{y:.4g}<extra></extra>",
                )
            )
        what = "rolling median of the full loss" if curve.noisy else "full training loss"
        fig.add_trace(
            go.Scatter(
                x=x,
                y=line.median.astype(np.float32),
                mode="lines",
                line={"color": curve.color, "width": 2},
                name=name,
                hovertemplate=f"<b>{name}</b><br>{UNITS[unit]} %{{x:.4g}}"
                f"<br>{what} %{{y:.4g}}<extra></extra>",
            )
        )
    low, high = loss_range(curves, smooth)
    span = _x_span([c.x.along(unit) for c in curves], unit)
    return _loss_axes(fig, unit, log_y, "Full training loss, one seed", low, high, span)


def _band(fig: go.Figure, x, low, high, color: str, name: str) -> None:
    """A filled band between ``low`` and ``high`` (two traces, not in the legend)."""
    fig.add_trace(
        go.Scatter(
            x=x,
            y=np.asarray(low, dtype=np.float32),
            mode="lines",
            line={"width": 0, "color": color},
            name=f"{name} (low edge)",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=np.asarray(high, dtype=np.float32),
            mode="lines",
            fill="tonexty",
            fillcolor=_transparent(color),
            line={"width": 0, "color": color},
            name=name,
            showlegend=False,
            hoverinfo="skip",
        )
    )


def band_figure(bands: Sequence[Band], unit: str, log_y: bool = True) -> go.Figure:
    """Per batch size, the median full loss over the seeds with a 10–90% band around it."""
    fig = go.Figure()
    medians = []
    for band in bands:
        if band.median.size == 0:  # every seed diverged: nothing to draw
            continue
        points = _thinned(band.median, band.updates_per_epoch)
        if unit in LOG_UNITS:  # the start sits at 0, left of every log axis
            points = points[band.x.along(unit)[points] > 0]
        x = band.x.along(unit)[points].astype(np.float32)
        _band(fig, x, band.low[points], band.high[points], band.color, f"{band.label}: 10–90%")
        medians.append(band.median)
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
    every = np.concatenate(medians) if medians else np.array([1.0])
    every = every[np.isfinite(every) & (every > 0)]
    low, high = (float(every.min()), float(every.max())) if every.size else (0.1, 10.0)
    span = _x_span([b.x.along(unit) for b in bands if b.median.size], unit)
    title = f"Median over {seeds} seeds, with the 10–90% band"
    return _loss_axes(fig, unit, log_y, title, low, high, span)


def contour_with_ends(
    surface: Surface,
    contours: Contours,
    paths: Sequence[charts.Path],
    bands: Sequence[Band],
    close_up: bool = False,
) -> go.Figure:
    """The runs' paths on the loss ``contours``, plus a dot where each seed ended, in the
    coordinates of ``surface``: the parameters, or the network's slice (its axis titles).

    The marks are every contour chart's (``charts.contour_figure``): the start ○, each
    run's end ●, ✕ what the surface's target is (``charts.target_words``). With ``close_up``
    the window shrinks to ``close_up``'s.
    """
    title = (
        "Where every seed ended, close up"
        if close_up
        else "Three paths, and where every seed ended"
    )
    names = surface.names
    fig = charts.contour_figure(
        contours.axis0,
        contours.axis1,
        contours.loss,
        surface.minimum,
        names,
        paths,
        title=title,
        plane=surface.plane,
        titles=surface.axis_titles,
    )
    for band in bands:
        fig.add_trace(
            go.Scatter(
                x=band.drawn[:, 0],
                y=band.drawn[:, 1],
                mode="markers",
                marker={
                    "color": band.color,
                    "size": 7,
                    "opacity": 0.8,
                    "line": {"color": charts.WHITE, "width": 0.5},
                },
                name=f"{band.label}: end of each seed",
                showlegend=close_up,
                hovertemplate=f"<b>{band.label}</b><br>{names[0]}=%{{x:.4f}}, "
                f"{names[1]}=%{{y:.4f}}<extra></extra>",
            )
        )
    if close_up:
        window = close_up_for(surface, bands)
        fig.update_xaxes(range=list(window[0]))
        fig.update_yaxes(range=list(window[1]))
        outside = sum(ends_outside(band, window) for band in bands)
        if outside:  # a zoom that says what it leaves out
            total = sum(band.ends.shape[0] for band in bands)
            fig.update_layout(
                title_subtitle_text=f"{outside} of the {total} end points lie outside it",
                title_subtitle_font={"size": 13},
            )
    return charts.equal_scale(fig)


def close_up_window(
    axis0: np.ndarray, axis1: np.ndarray, minimum: np.ndarray
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The close-up's x and y ranges: the minimum ± ``CLOSE_UP`` of the contour window.

    Example:
        >>> grid = np.linspace(-3, 3, 7)
        >>> close_up_window(grid, grid, np.zeros(2))
        ((-0.9, 0.9), (-0.9, 0.9))
    """
    half0 = CLOSE_UP * float(axis0[-1] - axis0[0])
    half1 = CLOSE_UP * float(axis1[-1] - axis1[0])
    m0, m1 = float(minimum[0]), float(minimum[1])
    return (round(m0 - half0, 12), round(m0 + half0, 12)), (
        round(m1 - half1, 12),
        round(m1 + half1, 12),
    )


def ends_window(
    bands: Sequence[Band], fallback: tuple[tuple[float, float], tuple[float, float]]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x and y ranges that hold every seed's drawn end, with ``ENDS_MARGIN`` of their
    extent on each side, the same half-width on both axes (``fallback``'s, if larger, so a
    tight cloud is not blown up to fill the chart; ``fallback`` alone with no end point).

    Example:
        >>> from types import SimpleNamespace
        >>> cloud = SimpleNamespace(drawn=np.array([[0.0, 0.0], [2.0, 1.0]]))
        >>> ends_window([cloud], ((0.0, 0.1), (0.0, 0.1)))
        ((-0.3, 2.3), (-0.8, 1.8))
    """
    drawn = np.concatenate([band.drawn for band in bands]) if bands else np.zeros((0, 2))
    if drawn.shape[0] == 0:
        return fallback
    low, high = drawn.min(axis=0), drawn.max(axis=0)
    centre = (low + high) / 2
    least = max(hi - lo for lo, hi in fallback) / 2
    half = max(float(np.max(high - low)) * (0.5 + ENDS_MARGIN), least)
    return tuple((round(c - half, 12), round(c + half, 12)) for c in centre.tolist())


def close_up_for(
    surface: Surface, bands: Sequence[Band]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The close-up's x and y ranges: the ✕ ± ``CLOSE_UP`` of the surface's window, a range
    that depends only on the data and the start, so it stays put between settings; on the
    network's slice, which moves with the run anyway, the seeds' ends (``ends_window``), moved
    into the grid where they fit."""
    around = close_up_window(surface.axis0, surface.axis1, surface.minimum)
    if surface.plane is None:
        return around
    inside = []  # each range moved into the surface's grid where it fits, so none is blank
    grids = (surface.axis0, surface.axis1)
    for (low, high), axis in zip(ends_window(bands, around), grids, strict=True):
        shift = max(float(axis[0]) - low, 0.0) - max(high - float(axis[-1]), 0.0)
        shift = shift if high - low <= float(axis[-1] - axis[0]) else 0.0
        inside.append((round(low + shift, 12), round(high + shift, 12)))
    return inside[0], inside[1]


def close_up_caption(surface: Surface) -> str:
    """What the close-up shows, in one sentence (``close_up_for``)."""
    if surface.plane is None:
        return (
            f"The end points around the minimum, zoomed to ±{CLOSE_UP:.0%} of the usual contour "
            "window (the chart's title counts any end point outside it)."
        )
    return (
        "The end points, zoomed to where they lie on the slice (the ✕, the best point found, "
        "shows only if it falls inside: runs of a few epochs can stop far from it)."
    )


def ends_outside(band: Band, window) -> int:
    """How many of ``band``'s seeds are drawn outside ``window`` (x range, y range)."""
    (x0, x1), (y0, y1) = window
    x, y = band.drawn[:, 0], band.drawn[:, 1]
    return int(np.sum(~((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))))


def _x_span(xs: Sequence[np.ndarray], unit: str) -> tuple[float, float] | None:
    """The x axis's extent on a log unit: from the earliest first update to the last point of
    any run (None on a linear unit, or with nothing to draw)."""
    if unit not in LOG_UNITS:
        return None
    every = [np.asarray(x, dtype=float) for x in xs]
    every = [x[np.isfinite(x) & (x > 0)] for x in every]
    every = [x for x in every if x.size]
    if not every:
        return None
    return min(float(x.min()) for x in every), max(float(x.max()) for x in every)


def _loss_axes(
    fig: go.Figure,
    unit: str,
    log_y: bool,
    title: str,
    low: float,
    high: float,
    span: tuple[float, float] | None = None,
) -> go.Figure:
    if span is not None:  # a log unit: every run's curve spread over the width, said on top
        charts.log_axis(fig, "x", span[0], max(span[1], span[0] * 10), UNITS[unit])
        fig.update_layout(
            title_subtitle_text=f"{unit} on a log scale", title_subtitle_font={"size": 13}
        )
    else:
        fig.update_xaxes(title_text=UNITS[unit])
    if log_y:  # 1, 10, 100 … (and 2, 5 when they fit), never 10^k
        charts.log_axis(fig, "y", low / 1.3, high * 1.3, "full training loss")
    else:
        fig.update_yaxes(title_text="full training loss", range=[0, 1.05 * high])
    return charts.layout(fig, title)


def _transparent(color: str, alpha: float = 0.2) -> str:
    """``#RRGGBB`` as an ``rgba`` string, for a band that lets the others show through."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


# --- One-sentence summaries, with the numbers (for screen readers and the back row) ----------


def _point(p: np.ndarray) -> str:
    """``(1.77, 0)``: a coordinate within rounding of 0 (a point on the slice's α axis) is 0."""
    x, y = (0.0 if abs(v) < 1e-9 else float(v) for v in p[:2])
    return f"({x:.3g}, {y:.3g})"


def contour_summary(paths: Sequence[charts.Path], surface: Surface) -> str:
    """Where each path started and ended on the chart, and how far from its ✕ (the minimum,
    or on the network's slice the best point found: ``charts.target_words``).

    Example:
        >>> from types import SimpleNamespace
        >>> from ui.charts import Path
        >>> p = np.array([[-1.0, 2.0], [1.0, -1.0]])
        >>> path = Path("full", p, np.arange(2), np.arange(2.0), np.ones(2), p[:0], "")
        >>> surface = SimpleNamespace(minimum=np.array([1.0, -1.2]), names=("w", "b"), plane=None)
        >>> contour_summary([path], surface).endswith(
        ...     "(1, -1), 0.2 from the minimum; the minimum is at (1, -1.2).")
        True
    """
    minimum, names = surface.minimum, surface.names
    target = charts.target_words(surface.plane)[0]
    if not paths:
        return f"{target.capitalize()} is at ({names[0]}, {names[1]}) = {_point(minimum)}."
    parts = []
    for path in paths:
        end = path.params[-1]
        if path.left_at is not None:
            parts.append(f"{path.label} {charts.leaves_words(path)}")
            continue
        gap = float(np.hypot(*(end - minimum))) if np.all(np.isfinite(end)) else np.inf
        where = f"{gap:.2g} from {target}" if np.isfinite(gap) else "far outside the window"
        parts.append(f"{path.label} ended at {_point(end)}, {where}")
    start = paths[0].params[0]
    return (
        f"From ({names[0]}, {names[1]}) = {_point(start)}, {'; '.join(parts)}; {target} is "
        f"at {_point(minimum)}."
    )


def curves_summary(curves: Sequence[Curve]) -> str:
    """Each run's last full training loss and how many epochs it ran.

    Example:
        >>> x = Axes(np.arange(3.0), np.array([0, 1, 2.0]), np.arange(3.0), np.arange(3.0))
        >>> c = Curve("full batch (2)", "#000000", 2, 1, x, np.array([4.0, 2.0, 1.0]), False,
        ...           x, np.array([2.0, 1.0]))
        >>> print(curves_summary([c]))
        Full training loss at the end: full batch (2) 1 after 2 epochs.
    """
    parts = []
    for c in curves:
        epochs = float(c.x.epochs[-1])
        if c.diverged:
            parts.append(f"{c.label} diverged after {epochs:.3g} epochs")
        else:
            parts.append(f"{c.label} {c.loss[-1]:.3g} after {epochs:.3g} epochs")
    return f"Full training loss at the end: {'; '.join(parts)}."


def bands_summary(bands: Sequence[Band]) -> str:
    """Each batch size's median final loss over its seeds, with the 10–90% range."""
    parts = []
    for b in bands:
        if b.median.size == 0:
            parts.append(f"{b.label}: every seed diverged")
        else:
            parts.append(f"{b.label} {b.median[-1]:.3g} ({b.low[-1]:.3g} to {b.high[-1]:.3g})")
    seeds = max((b.seeds for b in bands), default=0)
    return f"Median final loss over {seeds} seeds (10th to 90th percentile): {'; '.join(parts)}."


def spread(points: np.ndarray) -> float:
    """The root-mean-square distance of ``points`` (k, P) from their mean, in parameter space.

    Example:
        >>> spread(np.array([[0.0, 0.0], [2.0, 0.0]]))
        1.0
    """
    return float(np.sqrt(np.mean(np.sum((points - points.mean(axis=0)) ** 2, axis=1))))


def ends_summary(bands: Sequence[Band], window=None) -> str:
    """How far each batch size's seeds ended from their mean end point (RMS, over all the
    parameters), and, given the close-up's ``window`` (``close_up_window``), how many are drawn
    outside it."""
    parts = []
    for b in bands:
        if b.ends.shape[0] == 0:
            parts.append(f"{b.label}: no seed finished")
            continue
        outside = ends_outside(b, window) if window is not None else 0
        away = f" ({outside} of {b.ends.shape[0]} outside the close-up)" if outside else ""
        parts.append(f"{b.label} {spread(b.ends):.2g}{away}")
    count = max((b.ends.shape[1] for b in bands), default=2)
    where = f" in all {count} parameters, not on the slice" if count > 2 else ""
    return (
        f"Spread of the seeds' end points (RMS distance from their mean{where}): "
        f"{'; '.join(parts)}."
    )


def log_axis_note(curves: Sequence[Curve], unit: str) -> str:
    """Why ``unit`` is drawn on a log axis, with each run's extent in it.

    Example:
        >>> x = Axes(np.array([0.0, 4000]), np.array([0.0, 20]), np.array([0.0, 4000]),
        ...          np.array([0.0, 488]))
        >>> few = Axes(np.array([0.0, 20]), np.array([0.0, 20]), np.array([0.0, 4000]),
        ...            np.array([0.0, 2.4]))
        >>> runs = [Curve("batch size 1", "", 1, 200, x, np.ones(2), False, x, np.ones(1)),
        ...         Curve("full batch (200)", "", 200, 1, few, np.ones(2), False, few, np.ones(1))]
        >>> print(log_axis_note(runs, "time"))  # doctest: +NORMALIZE_WHITESPACE
        The x axis is logarithmic (1, 10, 100 …): batch size 1 runs to 488 ms, full batch (200)
        to 2.4 ms, so on a linear axis the shorter runs would be squeezed against 0. Each curve
        starts after its first update; the start, at 0, is left of the axis.
    """
    ends = [
        f"{c.label} {'runs ' if k == 0 else ''}to {_extent(c, unit)}" for k, c in enumerate(curves)
    ]
    return (
        f"The x axis is logarithmic (1, 10, 100 …): {', '.join(ends)}, so on a linear axis the "
        "shorter runs would be squeezed against 0. Each curve starts after its first update; the "
        "start, at 0, is left of the axis."
    )


def _extent(curve: Curve, unit: str) -> str:
    last = float(curve.x.along(unit)[-1])
    return f"{last:,.0f} updates" if unit == "updates" else f"{last:.3g} ms"
