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
BLACK, WHITE = "#000000", "#FFFFFF"  # markers' outlines and the start point
# Every colour a chart may use, by the name its caption says (tests check each trace's colour).
PALETTE = {
    "blue": BLUE,
    "orange": ORANGE,
    "green": GREEN,
    "vermilion": VERMILION,
    "reddish purple": PURPLE,
    "sky blue": SKY,
    "yellow": YELLOW,
    "grey": GREY,
    "black": BLACK,
    "white": WHITE,
}
# Sequential colour scales that stay ordered for colour-blind viewers (and in greyscale).
LOSS_SCALE = "Viridis"
MAX_POINTS = 1500  # per trace, after thinning
BLOWUP_GROWTH = 6.0  # a blow-up is followed until it is this many windows away from the centre
TOOLBAR_PX = 34  # the chart toolbar's height: the title sits below it, so it never covers it
ZOOMED = "Zoomed: a path leaves the window"  # a contour chart's subtitle when one does
VALLEY_HEIGHT = 600  # px, a contour chart at equal scales: a ~420-px square on a projector
FINE_DECADES = 2.5  # a log axis spanning at most this many decades also labels 2 and 5


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
    dash: str = "solid"  # a Plotly line dash: "dash" lets a path drawn over another show it
    left_at: int | None = None  # the first update whose parameters lie outside the window
    blew_up_at: int | None = None  # the run's ``diverged_at``, said with a path that left


def reach(paths: np.ndarray, axis0: np.ndarray, axis1: np.ndarray, most: float) -> np.ndarray:
    """How far paths go from the centre of the window ``axis0`` × ``axis1``, per axis, in
    half-widths (at least 1): over each path's points before the first one beyond ``most``
    half-widths on either axis, or not finite. A window this wide follows a blow-up's first
    steps (its growing zig-zag) and lets the rest leave the chart.

    ``paths`` is (..., m, 2); the result (..., 2). A path padded by repeating its last point
    reaches as far as the path.

    Example:
        >>> zigzag = np.array([[0.0, 0.0], [2.0, 0.5], [-4.0, 0.0], [8.0, 0.0], [-99.0, 0.0]])
        >>> reach(zigzag, np.linspace(-1, 1, 3), np.linspace(-1, 1, 3), most=6.0)
        array([4., 1.])
    """
    centre = np.array([axis0[0] + axis0[-1], axis1[0] + axis1[-1]]) / 2
    half = np.array([axis0[-1] - axis0[0], axis1[-1] - axis1[0]]) / 2
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = np.abs(paths[..., :2] - centre) / half  # (..., m, 2)
    # (..., m); NaN counts as beyond. Two axes: np.maximum, not a reduction over an axis of 2
    beyond = ~(np.maximum(scaled[..., 0], scaled[..., 1]) <= most)
    first = np.where(beyond.any(axis=-1), np.argmax(beyond, axis=-1), beyond.shape[-1])
    before = np.arange(beyond.shape[-1]) < np.expand_dims(first, -1)  # (..., m)
    kept = np.where(before[..., None], scaled, 0.0)
    return np.maximum(np.max(kept, axis=-2), 1.0)


def blowup_window(
    paths: Sequence[Path], axis0: np.ndarray, axis1: np.ndarray
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """A window that also holds the first steps of any path that leaves the contours' window
    (a blow-up's growing zig-zag), up to ``BLOWUP_GROWTH`` times the window's size from its
    centre; None when every path stays inside.

    Example:
        >>> zigzag = np.array([[0.0, 0.0], [2.0, 0.0], [-4.0, 0.0], [8.0, 0.0], [-99.0, 0.0]])
        >>> path = Path("p", zigzag, np.arange(5), np.arange(5.0), np.ones(5), zigzag[:0], "")
        >>> blowup_window([path], np.linspace(-1, 1, 3), np.linspace(-1, 1, 3))
        ((-4.2, 4.2), (-1.0, 1.0))
    """
    centre = np.array([axis0[0] + axis0[-1], axis1[0] + axis1[-1]]) / 2
    half = np.array([axis0[-1] - axis0[0], axis1[-1] - axis1[0]]) / 2
    extent = np.ones(2)  # in half-widths, per axis
    for path in paths:
        extent = np.maximum(extent, reach(path.params, axis0, axis1, BLOWUP_GROWTH))
    if np.all(extent <= 1):
        return None
    extent = np.where(extent > 1, 1.05 * extent, extent)
    low, high = centre - extent * half, centre + extent * half
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


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


def palette_colour(colour: str) -> bool:
    """Whether ``colour`` is one of ``PALETTE`` (as ``#RRGGBB``, or ``rgba(r, g, b, a)`` for a
    transparent band).

    Example:
        >>> palette_colour("#0072b2"), palette_colour("rgba(213, 94, 0, 0.2)"), palette_colour("r")
        (True, True, False)
    """
    text = colour.strip().lower().replace(" ", "")
    if text.startswith("rgba(") or text.startswith("rgb("):
        parts = text[text.index("(") + 1 : -1].split(",")[:3]
        text = "#" + "".join(f"{int(float(v)):02x}" for v in parts)
    return text in {c.lower() for c in PALETTE.values()}


def trace_colours(figure: dict) -> set[str]:
    """Every colour a figure's traces and shapes set (markers, lines, fills, outlines), from its
    JSON (``fig.to_plotly_json()`` or a chart's spec); colour scales are not listed."""
    found: set[str] = set()

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in ("colorscale", "colorbar", "hoverlabel", "font", "title"):
                    walk(v, k)
        elif isinstance(node, list):
            if key in ("color", "fillcolor") and all(isinstance(v, str) for v in node):
                found.update(node)
            else:
                for v in node:
                    walk(v, key)
        elif isinstance(node, str) and key in ("color", "fillcolor"):
            found.add(node)

    walk(figure.get("data", []))
    walk(figure.get("layout", {}).get("shapes", []))
    return found


def plane_coordinates(plane: gd.plane.Plane | None, points: np.ndarray) -> np.ndarray:
    """Parameter vectors (..., P) as a contour chart's coordinates (..., 2): the first two
    parameters themselves when the chart has no ``plane`` (a model with two), else their
    projection on the network's slice (``ui.cache.Surface``).

    Example:
        >>> plane_coordinates(None, np.array([[1.0, 2.0]]))
        array([[1., 2.]])
    """
    points = np.asarray(points, dtype=float)
    return points[..., :2] if plane is None else plane.project(points)


def target_words(plane: gd.plane.Plane | None) -> tuple[str, str]:
    """What a contour chart's ✕ marks, in a sentence and short (a key, a card): the minimum,
    or on the network's slice the lowest point full-batch descent found (``ui.cache.Surface``).

    Example:
        >>> target_words(None)
        ('the minimum', 'minimum')
    """
    return ("the minimum", "minimum") if plane is None else ("the best point found", "best found")


def _loss_at(run: gd.Run, points: np.ndarray) -> np.ndarray:
    """Full loss at each point, taking the nearest recorded one when the loss was thinned."""
    nearest = np.clip(np.searchsorted(run.loss_steps, points), 0, run.loss_steps.size - 1)
    return run.loss[nearest]


def _epochs(run: gd.Run) -> np.ndarray:
    return run.samples_seen / run.n_train


def path_from_run(
    run: gd.Run,
    label: str,
    color: str = BLUE,
    dash: str = "solid",
    window: tuple[tuple[float, float], tuple[float, float]] | None = None,
    plane: gd.plane.Plane | None = None,
) -> Path:
    """The run's path, thinned (``thin``), in the chart's coordinates (``plane_coordinates``:
    ``plane`` is the network's slice). With ``window`` (the chart's x and y ranges), the
    path stops where it first leaves them: at the point on the window's edge between the last
    parameters inside and the first outside (``left_at``), so a chart never draws a line or an
    end marker past its own edge; a path that blows up to infinity leaves it too.

    Example:
        >>> data = gd.datasets.linear(n=20, seed=0)
        >>> run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(1.2),
        ...              gd.Training(epochs=30), batch_size=20)
        >>> path = path_from_run(run, "full batch", window=((-5.0, 5.0), (-5.0, 5.0)))
        >>> path.left_at, path.blew_up_at, bool(np.all(np.abs(path.params) <= 5.0))
        (3, 15, True)
    """
    params = plane_coordinates(plane, run.params)  # (U + 1, 2)
    count, left_at, edge = params.shape[0], None, None
    if window is not None:
        low = np.array([window[0][0], window[1][0]])
        high = np.array([window[0][1], window[1][1]])
        with np.errstate(invalid="ignore"):
            inside = np.all((params >= low) & (params <= high), axis=1)  # NaN is outside
        if not inside.all():
            count = int(np.argmin(inside))  # points kept: those before the first outside
            left_at = count
            if count > 0:
                edge = _edge(params[count - 1], params[count], low, high)
    if count == 0:  # the start itself is outside: keep it, so the chart still says where
        count = 1
    points = thin(count, run.updates_per_epoch)
    ends = run.epoch_ends
    ends = ends[ends < count]
    kept = params[points]
    update = points
    if edge is not None:
        kept = np.vstack([kept, edge])
        update = np.append(points, left_at)
    return Path(
        label=label,
        params=kept,
        update=update,
        epoch=_epochs(run)[update],
        loss=_loss_at(run, update),
        epoch_ends=params[ends],
        color=color,
        dash=dash,
        left_at=left_at,
        blew_up_at=run.diverged_at if left_at is not None else None,
    )


def _edge(inside: np.ndarray, outside: np.ndarray, low: np.ndarray, high: np.ndarray):
    """Where the segment from ``inside`` to ``outside`` crosses the box ``low … high`` (the
    last point inside when ``outside`` is not finite: a blow-up's direction is unknown)."""
    if not np.all(np.isfinite(outside)):
        return None
    step = outside - inside
    with np.errstate(divide="ignore", invalid="ignore"):
        hits = np.concatenate([(low - inside) / step, (high - inside) / step])
    hits = hits[np.isfinite(hits) & (hits > 0)]
    if not hits.size:
        return None
    # A hair inside the edge: float32 rounding (``_compact``) must not put it outside.
    margin = 1e-5 * (high - low)
    return np.clip(inside + min(1.0, float(hits.min())) * step, low + margin, high - margin)


def _compact(values: np.ndarray) -> np.ndarray:
    """float32 halves the payload; keep float64 when a value would overflow float32."""
    values = np.asarray(values, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    return values.astype(np.float32) if finite.size == 0 or finite.max() < 3e38 else values


def _finite_log10(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(np.isfinite(values) & (values > 0), values, np.nan))


def number_label(value: float) -> str:
    """A tick label: ``0.01``, ``1``, ``200``, ``10 000``; powers of ten beyond that.

    Example:
        >>> [number_label(v) for v in (1e-9, 0.002, 1.0, 50.0, 1e4, 1e7)]
        ['10⁻⁹', '0.002', '1', '50', '10 000', '10⁷']
    """
    if value <= 0 or not np.isfinite(value):
        return f"{value:g}"
    exponent = int(np.floor(np.log10(value) + 1e-9))
    if -4 <= exponent <= 5:
        return f"{value:,g}".replace(",", " ")
    digits = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    mantissa = value / 10.0**exponent
    return f"10{digits}" if abs(mantissa - 1) < 1e-6 else f"{mantissa:g}·10{digits}"


def log_ticks(low: float, high: float, fine: bool | None = None) -> tuple[list[float], list[str]]:
    """Ticks for a log axis from ``low`` to ``high``: 1, 10, 100 … only, and 2 and 5 between
    them when the axis spans at most ``FINE_DECADES`` decades (``fine`` forces either).

    Example:
        >>> log_ticks(0.3, 20)
        ([0.5, 1.0, 2.0, 5.0, 10.0, 20.0], ['0.5', '1', '2', '5', '10', '20'])
        >>> log_ticks(1e-3, 20)[1]
        ['0.001', '0.01', '0.1', '1', '10']
    """
    if not (np.isfinite(low) and np.isfinite(high)) or low <= 0 or high <= 0:
        return [], []
    low, high = min(low, high), max(low, high)
    first, last = int(np.floor(np.log10(low))), int(np.ceil(np.log10(high)))
    if fine is None:
        fine = np.log10(high / low) <= FINE_DECADES
    steps = (1, 2, 5) if fine else (1,)
    values = [float(f"{m * 10.0**e:.12g}") for e in range(first, last + 1) for m in steps]
    values = [v for v in values if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)]
    if len(values) < 2 and not fine:  # less than one decade: label 2 and 5 as well
        return log_ticks(low, high, fine=True)
    return values, [number_label(v) for v in values]


def log_axis(fig: go.Figure, axis: str, low: float, high: float, title: str, **more) -> go.Figure:
    """Make ``axis`` ("x" or "y") of ``fig`` a log axis over ``low … high`` with
    ``log_ticks`` labels (plain numbers, never 10^k notation) and minor grid lines."""
    values, labels = log_ticks(low, high)
    update = fig.update_xaxes if axis == "x" else fig.update_yaxes
    pad = 0.03 * np.log10(high / low) if high > low else 0.1
    return update(
        type="log",
        range=[np.log10(low) - pad, np.log10(high) + pad],
        tickvals=values,
        ticktext=labels,
        title_text=title,
        minor={"showgrid": True, "gridcolor": "#f0f0f0"},
        **more,
    )


def loss_colorbar(low: float, high: float) -> dict:
    """A colour bar for a colour of log₁₀(loss), labelled in loss (``log_ticks``)."""
    values, labels = log_ticks(low, high)
    return {
        "title": {"text": "training loss", "side": "right"},
        "thickness": 12,
        "tickvals": np.log10(values).tolist(),
        "ticktext": labels,
    }


def contour_figure(
    axis0: np.ndarray,
    axis1: np.ndarray,
    loss: np.ndarray,
    minimum: np.ndarray,
    names: tuple[str, str],
    paths: Sequence[Path],
    title: str = "Parameter trajectory on the loss contours",
    *,
    plane: gd.plane.Plane | None = None,
    titles: tuple[str, str] | None = None,
) -> go.Figure:
    """Loss contours (log scale, the colour bar labelled in loss) with each path and its epoch
    boundaries, in the live stage's marks: the start a black ○, each path's end a ● in its
    colour (the legend names the paths, not their ends), and the ✕ what ``plane`` makes it
    (``target_words``: the minimum, or the best point found on the network's slice). A path
    stopped at the window's edge (``path_from_run(window=…)``) is marked there instead of its
    end, and the subtitle says the chart is a zoom (``ZOOMED``). ``titles`` are the axes'
    (``ui.cache.Surface.axis_titles``), ``names`` by default."""
    fig = go.Figure()
    z = _finite_log10(loss)
    finite = z[np.isfinite(z)]
    low, high = (10 ** finite.min(), 10 ** finite.max()) if finite.size else (1.0, 10.0)
    fig.add_trace(
        go.Contour(
            x=axis0,
            y=axis1,
            z=_compact(z),
            ncontours=18,
            colorscale="Blues",
            reversescale=True,
            showscale=True,
            line={"width": 0.5},
            colorbar=loss_colorbar(low, high),
            hovertemplate=f"{names[0]}=%{{x:.3f}}<br>{names[1]}=%{{y:.3f}}"
            "<br>log₁₀ of the loss %{z:.3f}<extra></extra>",
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
                line={"color": path.color, "width": 2, "dash": path.dash},
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
        end = f"{path.label}: end"
        if path.left_at is not None:  # stopped at the window's edge: said, and marked apart
            end = f"{path.label}:<br>{leaves_words(path, '<br>')}"  # short lines for a phone
        fig.add_trace(
            go.Scatter(
                x=path.params[-1:, 0],
                y=path.params[-1:, 1],
                mode="markers",
                marker={
                    "color": path.color,
                    "size": 12 if path.left_at is None else 14,
                    "symbol": "circle" if path.left_at is None else "diamond-open",
                    "line": {"color": WHITE if path.left_at is None else path.color, "width": 1},
                },
                name=end,
                showlegend=path.left_at is not None,  # an exit is said; an end is the path's
                hovertemplate=f"{end}<extra></extra>",
                cliponaxis=False,  # a mark on the window's edge is drawn whole
            )
        )
    if paths:
        start = paths[0].params[0]
        fig.add_trace(
            go.Scatter(
                x=[start[0]],
                y=[start[1]],
                mode="markers",
                marker={"size": 13, "symbol": "circle-open", "line": {"width": 3, "color": BLACK}},
                name="start",
                hovertemplate="start<extra></extra>",
            )
        )
    target, short = target_words(plane)
    fig.add_trace(
        go.Scatter(
            x=[minimum[0]],
            y=[minimum[1]],
            mode="markers",
            marker={
                "color": YELLOW,
                "size": 15,
                "symbol": "x",
                "line": {"color": BLACK, "width": 1},
            },
            name=short,
            hovertemplate=f"✕ {target}<extra></extra>",
        )
    )
    x_title, y_title = titles or names
    fig.update_xaxes(title_text=x_title, range=[axis0[0], axis0[-1]])
    fig.update_yaxes(title_text=y_title, range=[axis1[0], axis1[-1]])
    layout(fig, title)
    if any(path.left_at is not None for path in paths):  # a zoom that says so
        fig.update_layout(title_subtitle_text=ZOOMED, title_subtitle_font={"size": 13})
    return fig


def leaves_words(path: Path, space: str = " ") -> str:
    """ "leaves the window at update 131 (blew up at update 450)": a path stopped at a chart's
    edge, in the words its summary and its legend use (with ``space="<br>"``: lines a phone's
    legend holds).

    Example:
        >>> p = Path("p", np.zeros((1, 2)), np.zeros(1), np.zeros(1), np.ones(1), np.zeros((0, 2)),
        ...          "", left_at=131, blew_up_at=450)
        >>> leaves_words(p)
        'leaves the window at update 131 (blew up at update 450)'
    """
    words = f"leaves the window at update {path.left_at:,}"
    if path.blew_up_at is not None:
        words += f"{space}(blew up at update {path.blew_up_at:,})"
    return words


def equal_scale(fig: go.Figure, height: int = VALLEY_HEIGHT) -> go.Figure:
    """One unit as long on both axes, so a valley keeps its true shape (as on the Playground's
    stage) and two charts of one valley look alike: the plot area shrinks to the window's
    aspect ratio inside a chart ``height`` px tall, centred across and kept at the top (the
    room left over is below the chart, where a phone's narrow screen leaves it)."""
    fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain", constraintoward="top")
    fig.update_xaxes(constrain="domain", constraintoward="center")
    return fig.update_layout(height=height)


def alt(fig: go.Figure, summary: str = "") -> str:
    """A chart's accessible name, for ``st.plotly_chart(fig, alt=charts.alt(fig, summary))``:
    its title, then the one-sentence summary with its numbers (the caption under it), so a
    screen reader that lands on the chart hears what it shows.

    Streamlit 1.67 puts ``alt`` on the chart's box as ``role="figure"`` and ``aria-label``; a
    chart without it has no accessible name.

    Example:
        >>> fig = layout(go.Figure(), "Loss against epochs")
        >>> alt(fig, "The loss falls from 17 to 0.26.")
        'Chart: Loss against epochs. The loss falls from 17 to 0.26.'
    """
    title = fig.layout.title.text or "untitled"
    return f"Chart: {title}. {summary}".strip()


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
                marker={"color": VERMILION, "size": 11, "line": {"color": BLACK, "width": 1}},
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
    """The shared look: a title below the chart's toolbar (``TOOLBAR_PX``, so the toolbar a
    phone always shows never covers it), then the legend in rows between title and plot, then
    the plot. The title reserves its own margin and the legend pushes the plot down by as many
    rows as it wraps to, so neither overlaps the other or an axis at any width."""
    fig.update_layout(
        title={
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "y": 1,
            "yref": "container",
            "yanchor": "top",
            "automargin": True,
            "pad": {"t": TOOLBAR_PX, "b": 4},
            "font": {"size": 16},
        },
        height=460,
        margin={"l": 60, "r": 20, "t": 10, "b": 50, "autoexpand": True},
        showlegend=legend,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "x": 0,
            "xanchor": "left",
            "font": {"size": 12},
        },
        hoverlabel={"namelength": -1},
    )
    return fig
