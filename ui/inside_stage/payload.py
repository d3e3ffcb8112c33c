"""The update scrubber's payload: one picture per update of a bounded window, as float32 arrays.

Pure functions (no Streamlit): ``gd`` records in, ``bytes`` out, and the decoder the tests use
for the round trip. The browser (``inside.js``) only indexes what is here: every number and
sentence shown for an update is formatted in Python (``frame_texts``).

Counting: the page says "update u of U" (update 0 is the start, U the run's total and the
last), and update u takes the parameters ``params[u − 1]`` to ``params[u]``. The payload is
indexed as ``gd`` is, by t = u − 1 (``Inside.update``, the ``t`` of the decay): its frames,
``first``, ``last_loaded`` and ``last`` are such indices. Only the header's ``update``, where
the scrubber starts, is an update number u, as the link, the session and the browser's
scrubber count.

Layout: as the live stage's (``ui.stage.payload``), with magic ``b"SGI1"``: a JSON header,
then float32 arrays. Frames are the updates ``first … last_loaded`` (a window of the run's
inspectable updates ``0 … last``, sized by ``window`` to fit ``BUDGET`` floats); frame k is
update ``first + k``. Arrays:

* ``trail`` (M, 2): the parameters from the start of ``first``'s epoch to after
  ``last_loaded``, in the picture's coordinates; frame t's parameters before its update are
  row ``t − trail_from``;
* ``batch_step``, ``full_step``, ``taken_step`` (W, 2): −η·g_B, −η·g and the step taken;
* ``sample_steps`` (ΣA, 2): each row's own step −η·gᵢ, at most ``MAX_ARROWS`` per frame
  (the header's ``arrows``, ``at`` give each frame's count and offset);
* ``rows`` (ΣR,): the batch's rows among the drawn data points (indices into ``data.x``);
* ``axis0``, ``axis1`` (W, g), ``zoom`` (W, g, g), ``levels`` (W, L): the loss around the
  parameters before each update, in a window of one size per epoch, and its contour levels;
* ``data.x``, ``data.y`` (K,), K ≤ 2000, training rows first; ``surface.minimum`` (2,).

The network (``Scene.plane``, the page's slice through its 49 weights) is drawn on that
slice: every point by its coordinates (α, β) on it and every step by its projection on it
(``on_chart``), and each frame's loss on the plane through the weights before the update,
parallel to the slice (``parallel_plane``). Its ✕ (the best point found) lies on the slice,
not on those planes, so ``surface.minimum`` is left out; its fit is the curve
``fit`` (W, ``FIT_XS``) at ``data.fit_x`` (``FIT_XS``,), the stage's own
(``ui.stage.payload.fit_curves``: the browser's formulas know only the two-parameter models).

Example:
    >>> window(centre=70, last=139, per_update=600, budget=BUDGET)
    (0, 139)
    >>> window(centre=70, last=999, per_update=600, budget=60_000)
    (20, 119)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import gd
from gd.noise import Inside
from ui import charts
from ui.budget import loss_work
from ui.inside_a_batch_charts import ARROWS_NAME, MAX_ARROWS, Zoom, slice_axis_titles
from ui.models import MODELS
from ui.stage.payload import (
    FIT_XS,
    MAX_SCATTER,
    Writer,
    contour_levels,
    fit_curves,
    fit_xs,
    pack,
    read,
)
from ui.words import plural

MAGIC = b"SGI1"
BUDGET = 120_000  # floats (480 KB) of frames per payload: the window shrinks to fit
WORK = 20_000_000  # work (ui.budget units) of the zoomed losses per payload: the window shrinks
GRID = 21  # zoom points per axis in the browser's picture (the arithmetic never thins)
LEVELS = 10  # contour lines per picture
CARDS = (  # the four numbers of an update: label, help (the value is per frame)
    (
        "Rows in the batch (B)",
        "batch_size rows, except the last batch of an epoch, which holds what is left.",
    ),
    ("Learning rate η here", "lr / (1 + decay·t), t = the updates before this one."),
    (
        "Batch loss (before)",
        "Mean loss of this batch's rows at the parameters before the step (what Keras logs).",
    ),
    (
        "Batch vs full-data step",
        "0° means the batch pointed exactly where all training rows together point.",
    ),
)
CAPTION = (
    "Arrows are steps in parameter units: each gradient is multiplied by −η of this update, "
    "so an arrow points where that row alone would move the parameters."
)
SLICE_CAPTION = (  # the network's, after CAPTION
    " Each is a step in all {P} weights drawn by its shadow on the slice, its α and β parts, "
    "so it can look shorter, or turned; the contours are the loss on the plane through the "
    "weights before the update, parallel to the slice."
)
# What the update picture draws, in one place: the browser's legend and colours and the page's
# caption are built from this. (key, legend label, colour name as the caption says it, colour,
# line style.)
LEGEND = (
    ("trail", "this epoch so far", "sky blue", charts.SKY, ""),
    ("rows", ARROWS_NAME, "grey", charts.GREY, ""),
    ("batch", "batch step −η·g_B (mean of the rows)", "vermilion", charts.VERMILION, ""),
    ("full", "full-data step −η·∇L (all rows)", "green", charts.GREEN, "dotted"),
    ("taken", "step taken (with momentum)", "blue", charts.BLUE, "dashed"),
    ("point", "parameters before the update", "black", charts.BLACK, ""),
)
DATA_COLOURS = {  # the data picture: training and validation rows, the batch, the fit
    "train": charts.SKY,
    "val": charts.ORANGE,
    "batch": charts.VERMILION,
    "fit": charts.BLUE,
}


def legend_keys(update: int, updates_per_epoch: int, momentum: float) -> list[str]:
    """The legend entries that apply to one update: no trail at an epoch's first update (there
    is none yet), no "step taken" without momentum (it is the batch step).

    Example:
        >>> legend_keys(7, 7, 0.0)
        ['rows', 'batch', 'full', 'point']
        >>> legend_keys(8, 7, 0.9)
        ['trail', 'rows', 'batch', 'full', 'taken', 'point']
    """
    keys = [key for key, *_ in LEGEND]
    if update % updates_per_epoch == 0:
        keys.remove("trail")
    if momentum == 0:
        keys.remove("taken")
    return keys


def legend_caption(momentum: float, plane: gd.plane.Plane | None = None) -> str:
    """The page's caption for the update picture, its colours named as they are drawn, and
    for the network's slice (``plane``) what its arrows and contours are.

    Example:
        >>> legend_caption(0.0)[:70]
        "Grey: each row's own step −η·∇ℓᵢ (at most 256 drawn). Vermilion: their"
    """
    words = [
        f"Grey: each row's own step −η·∇ℓᵢ (at most {MAX_ARROWS} drawn).",
        "Vermilion: their mean, the batch step.",
        "Green, dotted: the step all training rows would give.",
    ]
    if momentum:
        words.append(
            f"Blue, dashed: the step actually taken, which adds momentum's velocity (μ = "
            f"{momentum:g})."
        )
    else:
        words.append("Without momentum the step taken is the batch step itself.")
    words.append(
        "Sky blue: this epoch's path so far. The window is centred on the parameters before "
        "the update and zooms with each update, so its steps fill it."
    )
    if plane is not None:
        words.append(
            f"The network's {plane.n_params} weights are drawn on the slice of the threads' "
            "chart below (α and β: through the start, this run's end and the best point found)."
        )
    return " ".join(words)


def on_chart(inside: Inside, plane: gd.plane.Plane | None) -> Inside:
    """The update as the picture draws it: for the network's slice (``plane``), the
    parameters' coordinates (α, β) on it and each step's projection on it (a direction: its
    parts along the two axes, U·step); a model with two parameters is its own plane.

    Example:
        >>> plane = gd.plane.Plane(np.ones(3), np.array([[1.0, 0, 0], [0, 1.0, 0]]),
        ...                        "start-end-best")
        >>> steps = np.array([[1.0, 2.0, 3.0]])
        >>> inside = Inside(0, np.array([2.0, 3.0, 4.0]), np.arange(1), 0.1, steps, steps[0],
        ...                 steps[0], steps[0])
        >>> view = on_chart(inside, plane)
        >>> view.params, view.batch_step, view.sample_steps.shape
        (array([1., 2.]), array([1., 2.]), (1, 2))
    """
    if plane is None:
        return inside
    axes = plane.axes.T  # (P, 2)
    with np.errstate(all="ignore"):  # a blow-up's steps: shown as they are
        return inside._replace(
            params=plane.project(inside.params),
            sample_steps=inside.sample_steps @ axes,  # (B, 2)
            batch_step=inside.batch_step @ axes,
            full_step=inside.full_step @ axes,
            taken_step=inside.taken_step @ axes,
        )


def parallel_plane(plane: gd.plane.Plane | None, params: np.ndarray) -> gd.plane.Plane | None:
    """The plane through ``params`` parallel to the slice ``plane``, in the slice's
    coordinates: its point (α, β) is ``params`` moved by (α, β) − project(params) along the
    slice's axes, so ``params`` sits at its own projection and every step drawn from there
    points where it points on the slice. None (the parameters' own plane) for two parameters.

    Example:
        >>> plane = gd.plane.Plane(np.zeros(3), np.array([[1.0, 0, 0], [0, 1.0, 0]]),
        ...                        "start-end-best")
        >>> moved = parallel_plane(plane, np.array([2.0, 3.0, 4.0]))
        >>> moved.lift(2.0, 3.0), moved.lift(0.0, 0.0)
        (array([2., 3., 4.]), array([0., 0., 4.]))
    """
    if plane is None:
        return None
    origin = params - plane.project(params) @ plane.axes  # (P,): the point at (0, 0)
    return gd.plane.Plane(origin, plane.axes, plane.kind, filled=plane.filled)


@dataclass(frozen=True)
class Frame:
    """One update taken apart, with its zoomed loss and the words the page shows for it."""

    inside: Inside
    zoom: Zoom  # GRID × GRID around ``view.params``
    batch_loss: float  # the run's batch loss at this update (what Keras logs)
    where: str  # "epoch 2, batch 3 of 7"
    view: Inside | None = None  # ``inside`` as drawn (``on_chart``); None: ``inside`` itself

    @property
    def drawn(self) -> Inside:
        """The update in the picture's coordinates: the view, or the update itself."""
        return self.inside if self.view is None else self.view


@dataclass(frozen=True)
class Scene:
    """What every frame shares: the run's size, the drawn data, the model and the trail."""

    model: str  # a ``ui.models`` key: which formula draws the fit, or the network's curve
    names: tuple[str, str]
    fit_label: str
    minimum: np.ndarray  # (2,)
    x: np.ndarray  # (n,) every row, training rows first
    y: np.ndarray  # (n,)
    n_train: int
    updates: int  # the run's updates
    updates_per_epoch: int
    last: int  # the last inspectable update
    trail: np.ndarray  # (M, P) parameters from ``trail_from`` on
    trail_from: int
    momentum: float = 0.0
    plane: gd.plane.Plane | None = None  # the network's slice; None: the parameters' plane

    @property
    def axis_titles(self) -> tuple[str, str]:
        """The update picture's axes: the parameters, or the slice's two directions."""
        if self.plane is None:
            return self.names
        return slice_axis_titles(self.names)


def window(centre: int, last: int, per_update: int, budget: int = BUDGET) -> tuple[int, int]:
    """The updates to load, ``(first, last_loaded)``: as many of ``0 … last`` as ``budget``
    floats hold at ``per_update`` floats each (at least one), centred on ``centre``."""
    size = max(1, min(last + 1, budget // max(1, per_update)))
    first = min(max(0, centre - size // 2), last + 1 - size)
    return first, first + size - 1


def work_budget(each: int, per_update: int) -> int:
    """The float budget that also keeps the frames' zoomed losses (``each`` units of
    ``ui.budget``: ``frame_work``) within ``WORK``: a window of at least one update.

    Example:
        >>> work_budget(frame_work("linear", 200), 600) == BUDGET
        True
        >>> work_budget(frame_work("logistic", 10_000), 600) // 600  # one frame
        1
    """
    frames = max(1, WORK // max(1, each))
    return min(BUDGET, frames * per_update)


def frame_work(model: str, n_train: int) -> int:
    """The work of one frame's zoomed loss: ``GRID²`` points, a pass over the training rows
    each (``ui.budget.loss_work``)."""
    return loss_work(model, n_train, GRID * GRID)


def frames_loaded(updates: int, per_update: int, work: int) -> int:
    """How many frames a payload loads at most: ``window``'s size for a run of ``updates``
    inspectable updates, frames of ``per_update`` floats and ``work`` units each.

    Example:
        >>> frames_loaded(140, 600, frame_work("linear", 200))  # the defaults: every update
        140
    """
    return max(1, min(updates, work_budget(work, per_update) // max(1, per_update)))


def cost(batch_size: int, shown: int, curve: int = 0) -> int:
    """Floats one frame ships at most, for a batch of ``batch_size`` rows and ``shown``
    drawn data points, and ``curve`` points of a fit computed here (the network's
    ``FIT_XS``; for ``window``)."""
    return (
        GRID * GRID
        + 2 * GRID
        + LEVELS
        + 8
        + 2 * min(batch_size, MAX_ARROWS)
        + min(batch_size, shown)
        + curve
    )


def curve_points(model: str) -> int:
    """The points of the fit shipped per frame: ``FIT_XS`` for a model the browser cannot
    draw from its parameters (the network), else none.

    Example:
        >>> curve_points("linear"), curve_points("network")
        (0, 40)
    """
    return 0 if MODELS[model].two_parameters else FIT_XS


def shown_points(n: int) -> np.ndarray:
    """Indices of the data points drawn: every row up to ``MAX_SCATTER``, evenly spread and
    sorted, so the training rows (the first ``n_train``) lead."""
    return np.unique(np.linspace(0, n - 1, min(n, MAX_SCATTER)).round().astype(int))


def past_the_edge(frame: Frame) -> int:
    """How many of the drawn row steps end outside the frame's zoomed window (the browser
    stops them at its edge and rings the spot).

    Example:
        >>> inside = Inside(0, np.zeros(2), np.arange(3), 0.1,
        ...                 np.array([[0.5, 0.0], [2.0, 0.0], [0.0, -1.5]]), np.zeros(2),
        ...                 np.zeros(2), np.zeros(2))
        >>> axis = np.linspace(-1.0, 1.0, 3)
        >>> past_the_edge(Frame(inside, Zoom(axis, axis, np.ones((3, 3))), 1.0, ""))
        2
    """
    steps = frame.drawn.sample_steps[:MAX_ARROWS, :2]  # (A, 2)
    tips = frame.drawn.params[:2] + steps
    x, y = frame.zoom.axis0, frame.zoom.axis1
    with np.errstate(invalid="ignore"):
        inside = (tips[:, 0] >= x[0]) & (tips[:, 0] <= x[-1])
        inside &= (tips[:, 1] >= y[0]) & (tips[:, 1] <= y[-1])
    return int(np.sum(~inside))


def _pair(v: np.ndarray) -> str:
    return f"({v[0]:.3g}, {v[1]:.3g})"


def slice_share(inside: Inside, view: Inside) -> float:
    """How much of the batch step's length its projection on the slice keeps, in [0, 1]
    (NaN for a step of length 0 or one that overflowed).

    Example:
        >>> step = np.array([3.0, 0.0, 4.0])
        >>> inside = Inside(0, np.zeros(3), np.arange(1), 0.1, step[None], step, step, step)
        >>> slice_share(inside, inside._replace(batch_step=np.array([3.0, 0.0])))
        0.6
    """
    with np.errstate(all="ignore"):
        whole = float(np.linalg.norm(inside.batch_step))
        shown = float(np.linalg.norm(view.batch_step))
    return shown / whole if whole > 0 and np.isfinite(whole) else float("nan")


def frame_texts(frame: Frame, scene: Scene) -> dict[str, Any]:
    """The words and numbers the page shows for one update, formatted here, once: update
    t = ``inside.update`` is said as update u = t + 1 of the run's ``scene.updates``. On the
    network's slice the picture's numbers are coordinates and projections, and say so; the
    angle of the cards is always the steps' own, in every parameter."""
    inside, view = frame.inside, frame.drawn
    u, b = inside.update + 1, inside.batch_size
    arrows = min(b, MAX_ARROWS)
    past = past_the_edge(frame)
    beyond = f"; {past} reach past the edge, ringed there" if past else ""
    names = f"({scene.names[0]}, {scene.names[1]})"
    taken = ""
    if scene.momentum:
        taken = f"; the step taken with momentum {_pair(view.taken_step)}"
    angle = f"{inside.angle_to_full:.1f}°"
    if scene.plane is None:
        where = f"on the loss contours, zoomed around the parameters before it, {names}"
        steps = f"{plural(arrows, 'row')}' own steps"
        fit = f"the {scene.fit_label} before update {u}, at {names} = {_pair(view.params)}"
        before = f"parameters before update {u}"
        shadow = ""
    else:
        weights = f"{scene.plane.n_params} weights"
        where = f"on the plane through the {weights} before it, parallel to the slice, at {names}"
        steps = f"the projections on the slice of {plural(arrows, 'row')}' own steps"
        angle += f" from it in all {weights}"
        fit = (
            f"the network's curve before update {u}, from its {weights} at {names} = "
            f"{_pair(view.params)} on the slice"
        )
        before = f"the {weights} before update {u}"
        share = slice_share(inside, view)
        shadow = (
            f" The slice shows {share:.0%} of the batch step's length."
            if np.isfinite(share)
            else ""
        )
    summary = (
        f"Update {u} of {scene.updates} {where} = {_pair(view.params)}: {steps} (grey{beyond}); "
        f"their mean, the batch step, {_pair(view.batch_step)}; the full-data step "
        f"{_pair(view.full_step)}, {angle}{taken}.{shadow}"
    )
    rows = f"{scene.n_train:,} training rows"
    if scene.x.size > scene.n_train:
        rows += f" and {scene.x.size - scene.n_train:,} validation rows"
    data_summary = f"The {plural(b, 'row')} of update {u} among the {rows}, and {fit}."
    projected = "" if scene.plane is None else ", projected"
    return {
        "update": u,
        "where": f"Update {u} of {scene.updates} ({frame.where}).",
        "title": f"Update {u}: {plural(b, 'row')}, one averaged step",
        "data_title": f"The {plural(b, 'row')} of update {u}",
        "arrows_label": f"{ARROWS_NAME}{projected} ({arrows} of {b} shown{beyond})",
        "before": before,
        "summary": summary,
        "data_summary": data_summary,
        "cards": [
            str(b),
            f"{inside.learning_rate:.4g}",
            f"{frame.batch_loss:.4g}",
            f"{inside.angle_to_full:.1f}°",
        ],
    }


def cards(plane: gd.plane.Plane | None) -> list[list[str]]:
    """The four cards' labels and help: the angle's help says, on the network's slice, that
    it is measured in every weight, not between the arrows drawn."""
    entries = [list(card) for card in CARDS]
    if plane is not None:
        entries[3][1] += (
            f" Measured in all {plane.n_params} weights: the arrows drawn are their shadows on "
            "the slice, and may meet at another angle."
        )
    return entries


def encode(frames: Sequence[Frame], scene: Scene) -> bytes:
    """Pack a window of consecutive frames (``frames[k]`` is update ``frames[0]`` + k).

    The header's last key, ``update``, is the update number u where the scrubber starts: None
    (the window's first update) until ``ui.stage.payload.with_update`` sets it.

    Args:
        frames: the loaded updates, in order, at least one.
        scene: what they share.

    Returns:
        The payload bytes.
    """
    first = frames[0].inside.update
    if [f.inside.update for f in frames] != list(range(first, first + len(frames))):
        raise ValueError("frames must be consecutive updates, in order.")
    writer = Writer()
    shown = shown_points(scene.x.size)
    training = shown[shown < scene.n_train]  # (Kt,) drawn training rows
    views = [f.drawn for f in frames]
    writer.add("trail", charts.plane_coordinates(scene.plane, scene.trail))  # (M, 2)
    writer.add("batch_step", np.stack([v.batch_step[:2] for v in views]))
    writer.add("full_step", np.stack([v.full_step[:2] for v in views]))
    writer.add("taken_step", np.stack([v.taken_step[:2] for v in views]))
    steps = [v.sample_steps[:MAX_ARROWS, :2] for v in views]
    writer.add("sample_steps", np.concatenate(steps))
    rows = [np.flatnonzero(np.isin(training, f.inside.rows)) for f in frames]
    writer.add("rows", np.concatenate(rows))
    writer.add("axis0", np.stack([f.zoom.axis0 for f in frames]))
    writer.add("axis1", np.stack([f.zoom.axis1 for f in frames]))
    writer.add("zoom", np.stack([f.zoom.loss for f in frames]))
    levels = []
    for f in frames:
        with np.errstate(invalid="ignore"):
            low = np.nanmin(np.where(np.isfinite(f.zoom.loss), f.zoom.loss, np.nan))
        levels.append(contour_levels(f.zoom.loss, float(low) if np.isfinite(low) else 0.0, LEVELS))
    writer.add("levels", np.stack(levels))
    writer.add("data.x", scene.x[shown])
    writer.add("data.y", scene.y[shown])
    if scene.plane is None:
        writer.add("surface.minimum", scene.minimum[:2])
    else:
        curves = fit_curves(scene.model, scene.x, scene.y, [f.inside.params for f in frames])
        writer.add("fit", curves)  # (W, FIT_XS)
        writer.add("data.fit_x", fit_xs(scene.x))
    arrow_counts = [len(s) for s in steps]
    row_counts = [len(r) for r in rows]
    header = {
        "version": 1,
        "model": scene.model,
        "names": list(scene.names),
        "fit_label": scene.fit_label,
        "n_train": scene.n_train,
        "shown_train": int(training.size),
        "updates": scene.updates,
        "updates_per_epoch": scene.updates_per_epoch,
        "last": scene.last,
        "first": first,
        "last_loaded": first + len(frames) - 1,
        "trail_from": scene.trail_from,
        "caption": CAPTION
        + ("" if scene.plane is None else SLICE_CAPTION.format(P=scene.plane.n_params)),
        "axis_titles": list(scene.axis_titles),
        "cards": cards(scene.plane),
        "legend": [list(entry) for entry in LEGEND],
        "colours": DATA_COLOURS,
        "frames": [
            {
                **frame_texts(f, scene),
                "legend": legend_keys(f.inside.update, scene.updates_per_epoch, scene.momentum),
                "arrows": arrow_counts[k],
                "rows": row_counts[k],
                "at": [int(sum(arrow_counts[:k])), int(sum(row_counts[:k]))],
            }
            for k, f in enumerate(frames)
        ],
        "arrays": writer.index,
        "update": None,  # last: see with_update
    }
    return pack(header, b"".join(writer.chunks), MAGIC)


@dataclass(frozen=True)
class Decoded:
    """A payload read back: the header and every array by name (float32)."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def frame(self, update: int) -> dict[str, Any]:
        """One update's header entry and arrays (``sample_steps``, ``rows`` cut to it)."""
        k = update - self.header["first"]
        entry = self.header["frames"][k]
        a, r = entry["at"]
        return {
            **entry,
            "params": self.arrays["trail"][update - self.header["trail_from"]],
            "sample_steps": self.arrays["sample_steps"][a : a + entry["arrows"]],
            "rows": self.arrays["rows"][r : r + entry["rows"]],
            **{
                name: self.arrays[name][k]
                for name in (
                    "batch_step",
                    "full_step",
                    "taken_step",
                    "axis0",
                    "axis1",
                    "zoom",
                    "fit",
                )
                if name in self.arrays
            },
        }


def decode(payload: bytes) -> Decoded:
    """Read a payload back (the tests' half of the round trip)."""
    return Decoded(*read(payload, MAGIC, "an update-scrubber"))
