"""The live stage's payload: what the browser draws, packed as float32 arrays behind a JSON header.

Pure functions (no Streamlit): families, surface and data in, ``bytes`` out, and the decoder
the tests use to check the round trip. The browser (``stage.js``) only indexes what is here:
every number and sentence shown for a run is computed in Python.

Layout (all little-endian)::

    0       4 bytes   magic b"SGD1"
    4       uint32    H, the header's length in bytes (a multiple of 4)
    8       H bytes   UTF-8 JSON header, padded with spaces
    8 + H   float32   every array, one after another; the header gives each one's
                      [offset in floats, shape]

Arrays of one family (``knob``) are named ``<knob>.<field>``. Rows are ragged: only each run's
real entries ship, one run after another, and the header gives every run its ``length``
(points), ``bins``, ``completed`` (epochs) and ``at``, its offsets into the three kinds of
array. With Σ over runs:

* ``params`` (ΣL, P), ``loss`` (ΣL,), ``epoch_loss`` (ΣE,), ``val_loss`` (ΣE,) if any;
* ``learning_rate`` (ΣL,), or ``learning_rate_per_run`` (R,) when no run's rate changes;
* ``steps``: each run's kept updates are the first ``length − 1`` kept updates of the longest
  run, then its own last update, so ``steps_base`` (S,) and ``steps_last`` (R,) rebuild them
  (``steps`` (ΣL,) ships instead if a family ever breaks that rule);
* ``batch_low`` (ΣM,) and ``batch_high`` (ΣM,), the batch-loss envelope; with one update per
  bin the two are equal and only ``batch_low`` ships.

Then ``surface.axis0`` (g0,), ``surface.axis1`` (g1,), ``surface.loss`` (g1, g0),
``surface.minimum`` (2,), ``surface.levels`` (L,) (contour levels); when the scene has them,
the widened windows a run's ``zoom`` follows it into: ``surface.zoom_axis0`` and
``surface.zoom_axis1`` (Z, g), ``surface.zoom_loss`` (Z, g, g), ``surface.zoom_levels`` (Z, L),
with ``header["zooms"]`` their factors; and ``data.x``, ``data.y``
(K,) with K ≤ 2000, training rows first. Float32 keeps 7 digits, plenty for drawing, and
update indices stay exact below 2**24.

Parts the browser already holds ship as their ids alone (``encode``'s ``ids`` and ``held``):
a held family's header entry is ``{"knob", "id", "held": true, "current"}`` with no arrays,
and ``header["scene"]`` says whether the ``surface.*`` and ``data.*`` arrays are held. After a
release that is the released knob's family and the scene: a quarter to 40 % of the payload at
the defaults (``bench/payload.py``).

The header's last key is ``update``, where playback starts: an update index, or null for the
whole run. ``with_update`` rewrites only that key, so the cached arrays are reused and the
browser can tell a new start from new runs (``stage.js`` compares the rest). Just before it,
when the page asks for one, comes ``view`` (``with_view``): the knobs a class may not move
(``locked``) or see (``hidden``), the ``play`` token and the presenter view (``present``),
``{"locked": [...], "hidden": [...], "play": n, "present": bool}``, plus ``"conceal": true``
when the class must predict before it observes (``View.conceal``); the browser reads both
from the header's end and compares the rest, so a new view, like a new start, is not new runs.
A default ``View()`` writes no ``view`` key.

Example:
    >>> knob_values("batch_size", 37, 200)
    [1, 2, 4, 8, 16, 32, 37, 64, 128, 200]
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

import gd
from gd.family import KNOB_TABLE, KNOBS
from gd.rules import powers_of_two_below
from ui import glossary
from ui.charts import plane_coordinates, reach, target_words
from ui.models import MODELS
from ui.words import gap_text, number, plural

MAGIC = b"SGD1"
MAX_SCATTER = 2000  # data points drawn; the arithmetic never thins
# The network's fit is shipped as its curve, computed here, at this many x values and at most
# this many kept points of each run (evenly spread, the first and the last among them): its 49
# weights at every kept point would be 2 to 6 MB.
FIT_XS = 40
FIT_FRAMES = 20
CONTOUR_LEVELS = 12


def _items(self) -> list[tuple[str, Any]]:
    return [(knob, getattr(self, knob)) for knob in KNOBS]


# One value for each live knob, in the stage's order: a frozen record with one field per knob of
# ``gd.family.KNOB_TABLE`` (``PerKnob(*values)``, ``.learning_rate``, ``.items()``).
PerKnob = dataclasses.make_dataclass(
    "PerKnob", KNOBS, frozen=True, namespace={"items": _items, "__module__": __name__}
)


@dataclass(frozen=True)
class Scene:
    """Everything the stage draws besides the families: the plane, the data, the model."""

    model: str  # "linear", "logistic" or "tanh": which formula draws the fit
    names: tuple[str, str]  # the two parameters' names
    axis0: np.ndarray  # (g0,)
    axis1: np.ndarray  # (g1,)
    loss: np.ndarray  # (g1, g0) the loss surface
    minimum: np.ndarray  # (2,)
    min_loss: float
    x: np.ndarray  # (n,) every row, training rows first (Keras splits off the last rows)
    y: np.ndarray  # (n,)
    n_train: int
    epochs: int
    fit_label: str = "fit"
    widened: Any = None  # a ``ui.cache.Widened``: the loss far out, to follow a blow-up
    plane: Any = None  # a ``gd.plane.Plane``: the network's slice; None, the parameters
    axis_titles: tuple[str, ...] = ()  # the contour chart's, when not ``names`` (a slice's)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Parameter vectors (..., P) in the contour chart's coordinates (..., 2)."""
        return plane_coordinates(self.plane, points)

    @property
    def target(self) -> str:
        """What the ✕ marks (``ui.charts.target_words``)."""
        return target_words(self.plane)[0]

    @property
    def mark(self) -> str:
        """``target`` as the charts' keys and cards say it, short."""
        return target_words(self.plane)[1]

    @property
    def contour_title(self) -> str:
        """The contour panel's title: a slice is not the whole loss."""
        return "Path on the loss contours" if self.plane is None else "Path on a slice of the loss"


# A path closer to the window's edge than 6% of its half-width widens the window too, so the
# whole path, its markers included, stays inside the chart.
EDGE = 0.94


def follow(paths: np.ndarray, axis0: np.ndarray, axis1: np.ndarray, most: float):
    """How far the stage's contour window widens, the same on both axes about its centre, to
    follow a path that leaves it or comes within ``EDGE`` of its edge: 1 when a (m, 2) path
    stays inside ``EDGE`` × ``axis0`` × ``axis1``, else its ``ui.charts.reach`` on the wider
    axis with an 8% margin, at most ``most``. ``paths`` (R, m, 2) gives one zoom per path, (R,).

    Example:
        >>> axis = np.linspace(-1.0, 1.0, 5)
        >>> follow(np.array([[0.5, 0.0], [-0.9, 0.2]]), axis, axis, 30.0)
        1.0
        >>> follow(np.array([[0.5, 0.0], [0.0, 0.97]]), axis, axis, 30.0)  # at the edge
        1.048
        >>> follow(np.array([[0.5, 0.0], [-2.0, 0.0], [5.0, 0.0], [-40.0, 0.0]]), axis, axis, 30.0)
        5.4
    """
    centre0, centre1 = (axis0[0] + axis0[-1]) / 2, (axis1[0] + axis1[-1]) / 2
    inner = reach(
        paths, centre0 + EDGE * (axis0 - centre0), centre1 + EDGE * (axis1 - centre1), most / EDGE
    )
    widest = EDGE * np.max(inner, axis=-1)  # (...,) on the wider axis, in the window's units
    zoom = np.where(widest <= EDGE, 1.0, np.round(np.minimum(most, 1.08 * widest), 3))
    return float(zoom) if zoom.ndim == 0 else zoom


def _significant(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


# The other knobs' slider positions, worked out once (a release asks for them several times).
_GRIDS = {
    "learning_rate": [_significant(v) for v in np.geomspace(1e-4, 10.0, 41)],
    "momentum": [*(round(0.05 * k, 2) for k in range(20)), 0.99],
    "decay": [0.0, *(_significant(v) for v in np.geomspace(1e-4, 1.0, 13))],
}


def knob_values(knob: str, current: float, n_train: int) -> list[float] | list[int]:
    """The slider positions of one live knob, always including ``current`` exactly.

    * learning rate: 41 log-spaced values 1e-4 … 10 (8 a decade, 3 significant digits);
    * batch size: the powers of two below ``n_train``, then ``n_train`` (full batch);
    * momentum: 0, 0.05, … 0.95 and 0.99;
    * decay: 0, then 13 log-spaced values 1e-4 … 1 (3 a decade).

    Example:
        >>> len(knob_values("learning_rate", 0.05, 200)), knob_values("decay", 0.0, 200)[:3]
        (42, [0.0, 0.0001, 0.000215])
    """
    if knob == "batch_size":  # a batch above n_train trains as one batch of n_train
        return sorted({*powers_of_two_below(n_train), n_train, min(int(current), n_train)})
    if knob not in _GRIDS:
        raise ValueError(
            f"The 'knob' parameter must be one of {list(KNOBS)}. Got {knob!r} instead."
        )
    grid = _GRIDS[knob]
    current = float(current)
    close = [v for v in grid if math.isclose(v, current, rel_tol=1e-9, abs_tol=1e-15)]
    return sorted({*(v for v in grid if v not in close), current})


def position(values: Sequence[float], current: float) -> int:
    """Index of ``current`` among ``values`` (it is always one of them)."""
    return int(np.argmin(np.abs(np.asarray(values, dtype=float) - float(current))))


def _value_text(knob: str, value: float) -> str:
    if knob == "batch_size":
        return str(int(value))
    return f"{value:g}"


QUANTA = 65534  # a drawn array's steps between its lowest and highest value (65535: not finite)


class Writer:
    """Collects float32 arrays, and drawn-only arrays quantised to 16 bits, with their entries:
    ``[offset, shape]``, or ``[offset, shape, low, high]`` for a quantised one (``add_drawn``).
    Offsets and sizes count 4-byte words."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0  # 4-byte words so far
        self.index: dict[str, list[Any]] = {}

    def add(self, name: str, array: np.ndarray) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            data = np.ascontiguousarray(array, dtype="<f4")
        self.index[name] = [self.size, list(data.shape)]
        self.chunks.append(data.tobytes())
        self.size += data.size

    def add_drawn(self, name: str, array: np.ndarray) -> None:
        """An array that is only drawn, never printed: each value as one of ``QUANTA + 1``
        steps from its lowest finite value to its highest (a 250-px chart resolves 250), half
        the bytes of float32; a value that is not finite ships as 65535 and reads back as NaN.

        Example:
            >>> writer = Writer()
            >>> writer.add_drawn("curve", np.array([0.0, 0.5, 2.0, np.inf]))
            >>> writer.index["curve"], len(writer.chunks[0])
            ([0, [4], 0.0, 2.0], 8)
        """
        data = np.asarray(array, dtype=float)
        finite = np.isfinite(data)
        low, high = 0.0, 0.0
        if finite.any():
            low, high = float(data[finite].min()), float(data[finite].max())
        step = (high - low) / QUANTA or 1.0
        with np.errstate(invalid="ignore"):
            steps = np.where(finite, np.round((data - low) / step), QUANTA + 1).astype("<u2")
        raw = steps.tobytes()
        raw += b"\0" * (-len(raw) % 4)
        self.index[name] = [self.size, list(data.shape), low, high]
        self.chunks.append(raw)
        self.size += len(raw) // 4


def _ragged(rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The real entries of padded rows, one row after another: (Σ counts, ...)."""
    return np.concatenate([rows[r, :n] for r, n in enumerate(counts.tolist())])


def _offsets(counts: np.ndarray) -> list[int]:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()


def _steps_shared(fam: gd.Family) -> np.ndarray | None:
    """The longest run's steps if every row is a prefix of them plus its own last update."""
    base = fam.steps[int(np.argmax(fam.lengths))]
    for r in range(fam.runs):
        n = int(fam.lengths[r])
        if not np.array_equal(fam.steps[r, : n - 1], base[: n - 1]):
            return None
    return base


def _family(
    writer: Writer,
    knob: str,
    fam: gd.Family,
    current: int,
    texts: Sequence[Sequence[str]],
    scene: Scene,
) -> dict[str, Any]:
    """Write one family's arrays; return its header entry (values, labels, per-run strings).

    ``texts[r]`` is run r's status: its label and sentence, and, when it is a
    ``ui.explain.Status``, what a frame before the run's end says (``early`` until update
    ``settle``); without them every frame shows the label.
    """
    if len(texts) != fam.runs:
        raise ValueError(
            f"texts for '{knob}' has {len(texts)} rows for the family's {fam.runs} runs; "
            "give one list of strings per run."
        )
    name = f"{knob}."
    points, bins, epochs = fam.lengths, fam.batch_bins, fam.completed
    epochs_total = fam.epoch_loss.shape[1]  # the epochs asked for (rows are padded to it)
    params = scene.project(fam.params)  # (R, L, 2)
    writer.add(name + "params", _ragged(params, points))
    fits = _fits(writer, name, fam, scene) if scene.plane is not None else None
    writer.add(name + "loss", _ragged(fam.loss, points))
    rates = fam.learning_rate
    with np.errstate(invalid="ignore"):
        constant = bool(np.all(rates == rates[:, :1]))
    if constant:
        writer.add(name + "learning_rate_per_run", rates[:, 0])
    else:
        writer.add(name + "learning_rate", _ragged(rates, points))
    base = _steps_shared(fam)
    if base is None:
        writer.add(name + "steps", _ragged(fam.steps, points))
    else:
        writer.add(name + "steps_base", base)
        writer.add(name + "steps_last", fam.steps[np.arange(fam.runs), points - 1])
    writer.add(name + "batch_low", _ragged(fam.batch_low, bins))
    if not np.array_equal(fam.batch_low, fam.batch_high, equal_nan=True):
        writer.add(name + "batch_high", _ragged(fam.batch_high, bins))
    writer.add(name + "epoch_loss", _ragged(fam.epoch_loss, epochs))
    if fam.val_loss is not None:
        writer.add(name + "val_loss", _ragged(fam.val_loss, epochs))
    most = float(scene.widened.factors[-1]) if scene.widened is not None else 1.0
    zooms = follow(params, scene.axis0, scene.axis1, most)  # (R,)
    runs = []
    fit_at = _offsets(fits) if fits is not None else [0] * fam.runs
    for r, (point_at, bin_at, epoch_at) in enumerate(
        zip(_offsets(points), _offsets(bins), _offsets(epochs), strict=True)
    ):
        end = int(points[r]) - 1
        status = texts[r]
        size, per_epoch = int(fam.batch_size[r]), int(fam.updates_per_epoch[r])
        runs.append(
            {
                "length": end + 1,
                "bins": int(bins[r]),
                "completed": int(epochs[r]),
                "at": [point_at, bin_at, epoch_at, fit_at[r]],  # offsets into the ragged arrays
                "fits": int(fits[r]) if fits is not None else 0,
                "width": int(fam.batch_width[r]),
                "diverged_at": int(fam.diverged_at[r]),
                "batch_size": size,
                "updates_per_epoch": per_epoch,
                "updates": fam.updates(r),
                "arithmetic": f"⌈{fam.n_train} / {size}⌉ = {per_epoch}",
                "epochs_done": f"{int(epochs[r])} of {plural(epochs_total, 'epoch')}",
                "final_loss": number(float(fam.loss[r, end])),
                "final_gap": gap_text(float(fam.loss[r, end]), scene.min_loss),
                "zoom": float(zooms[r]),
                "text": [str(t) for t in status[:2]],
                "help": glossary.help_for(" ".join(str(t) for t in status[:2])),
                "early": str(getattr(status, "early", "")),
                "settle": int(getattr(status, "settle", 0)),
            }
        )
    return {
        "knob": knob,
        "label": KNOB_TABLE[knob].label,
        "scale": KNOB_TABLE[knob].scale,
        "values": [v.item() for v in fam.values],
        "labels": [_value_text(knob, v) for v in fam.values.tolist()],
        "current": int(current),
        "runs": runs,
    }


def fit_frames(length: int) -> np.ndarray:
    """The kept points of a run of ``length`` at which the network's curve ships: at most
    ``FIT_FRAMES``, evenly spread, the first and the last among them.

    Example:
        >>> fit_frames(5).tolist(), fit_frames(141)[[0, 1, -1]].tolist()
        ([0, 1, 2, 3, 4], [0, 7, 140])
    """
    return np.unique(np.linspace(0, length - 1, min(length, FIT_FRAMES)).round().astype(int))


def fit_xs(x: np.ndarray) -> np.ndarray:
    """The x values of the network's shipped curve: ``FIT_XS`` across the data, (FIT_XS,)."""
    return np.linspace(float(np.min(x)), float(np.max(x)), FIT_XS)


def fit_curves(
    model: str, x: np.ndarray, y: np.ndarray, params: Sequence[np.ndarray]
) -> np.ndarray:
    """The network's curve at ``fit_xs(x)`` for each weight vector, (len(params), FIT_XS),
    within five heights of the data ``y``: far off the chart is as good as anywhere off
    it, and a blow-up's curve must not stretch the 16-bit steps of every other one's (an
    infinite value is drawn at the bound, off the chart; a value that is not a number stays so,
    and is not drawn)."""
    network, grid = MODELS[model].build(), fit_xs(x)[:, None]
    with np.errstate(all="ignore"):
        curves = np.array([network.predict(p, grid) for p in params])
    low, high = float(np.min(y)), float(np.max(y))
    span = max(high - low, 1e-12)
    return np.clip(curves, low - 5 * span, high + 5 * span)


def _fits(writer: Writer, name: str, fam: gd.Family, scene: Scene) -> np.ndarray:
    """Write the network's curve at ``fit_frames`` of each run (``fit`` (ΣS, FIT_XS), drawn
    only: 16-bit) and the kept point of each (``fit_at`` (ΣS,)); return how many each run has,
    (R,)."""
    frames = [fit_frames(int(length)) for length in fam.lengths]
    params = [fam.params[r, j] for r, at in enumerate(frames) for j in at]
    writer.add_drawn(name + "fit", fit_curves(scene.model, scene.x, scene.y, params))
    writer.add(name + "fit_at", np.concatenate(frames))
    return np.array([at.size for at in frames])


def _pair(names: tuple[str, str], point: np.ndarray) -> str:
    """ "w = 1.2, b = -0.5"; a coordinate that is 0 but for rounding (the end of the run on a
    slice lies on its α axis) is written 0.

    Example:
        >>> _pair(("α", "β"), np.array([1.767, -7.3e-17]))
        'α = 1.767, β = 0'
    """
    point = np.where(np.abs(point) <= 1e-9 * np.max(np.abs(point)), 0.0, point)
    return f"{names[0]} = {number(float(point[0]))}, {names[1]} = {number(float(point[1]))}"


def summaries(fam: gd.Family, r: int, scene: Scene, gap: float) -> dict[str, str]:
    """One sentence per chart of run r, with its numbers: the canvases' accessible names
    (``aria-label``), for screen readers and for anyone who cannot read the picture.

    The payload carries them for the committed run (``header["summary"]``): a knob moved by
    keys commits after a pause, and the next payload names the new run (per run, they would
    cost about 25 kB of the 300 kB a default payload may use).

    Example:
        >>> import gd
        >>> data = gd.datasets.linear(n=40, seed=0)
        >>> fam = gd.family(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1),
        ...                 knob="learning_rate", values=[0.1], batch_size=40)
        >>> scene = Scene("linear", ("w", "b"), np.zeros(2), np.zeros(2), np.zeros((2, 2)),
        ...               np.array([2.0, -1.0]), 0.25, data.x, data.y, 40, 1)
        >>> summaries(fam, 0, scene, 2.5)["rate"]
        'Learning-rate schedule: the rate stays 0.1 for the 1 update.'
    """
    end = int(fam.lengths[r]) - 1
    updates = fam.updates(r)
    steps = plural(updates, "update")
    drawn = scene.project(fam.params[r])  # (L, 2)
    start, loss0 = _pair(scene.names, drawn[0]), number(float(fam.loss[r, 0]))
    where = _pair(scene.names, drawn[end])
    target = f"{scene.target} ✕ at {_pair(scene.names, scene.minimum)}"
    diverged = fam.diverged(r)
    if diverged is None:
        path = f"ends at {where} after {steps}, {number(gap)} from {target}"
        final = float(fam.loss[r, end])
        moved = "fell" if final <= float(fam.loss[r, 0]) else "rose"
        loss = f"{moved} from {loss0} to {number(final)} over {steps}"
    else:
        path = f"blows up at update {diverged:,}, far from {target}"
        loss = f"started at {loss0} and blew up at update {diverged:,}"
    epochs = int(fam.completed[r])
    keras = ""
    if epochs:
        last_epoch = number(float(fam.epoch_loss[r, epochs - 1]))
        keras = f"; Keras's epoch loss for epoch {epochs} was {last_epoch}"
    first, last = float(fam.learning_rate[r, 0]), float(fam.learning_rate[r, end])
    if first == last:
        rate = f"the rate stays {first:.3g} for {'the' if updates == 1 else 'all'} {steps}"
    else:
        rate = f"the rate falls from {first:.3g} to {last:.3g} over {steps}"
    n_val = scene.x.size - scene.n_train
    held_out = f" and {plural(n_val, 'validation row')}" if n_val else ""
    return {
        "contour": f"{scene.contour_title}: from {start}, the path {path}.",
        "losses": (
            f"Loss: the full training loss {loss} ({scene.target} is {number(scene.min_loss)})"
            f"{keras}."
        ),
        "data": (
            f"Data and the model's fit: {plural(scene.n_train, 'training row')}{held_out}; the "
            + (
                f"{scene.fit_label} now has {where}."
                if scene.plane is None
                else f"network's curve now comes from its {fam.params.shape[2]} weights at "
                f"{where} on the slice."
            )
        ),
        "rate": f"Learning-rate schedule: {rate}.",
    }


def contour_levels(loss: np.ndarray, min_loss: float, count: int = CONTOUR_LEVELS) -> np.ndarray:
    """Loss values for the contour lines: log-spaced gaps above the minimum, (count,)."""
    with np.errstate(invalid="ignore"):
        gap = loss[np.isfinite(loss)] - min_loss
    top = float(np.max(gap)) if gap.size else 1.0
    top = top if top > 0 else 1.0
    return min_loss + np.geomspace(top * 1e-3, top, count + 1)[:-1]


def encode(
    families: PerKnob[gd.Family],
    current: PerKnob[int],
    texts: PerKnob[Sequence[Sequence[str]]],
    scene: Scene,
    ids: Ids | None = None,
    held: frozenset[str] = frozenset(),
) -> bytes:
    """Pack the four families and the scene into the stage's payload (layout above).

    Args:
        families: one ``gd.Family`` per live knob.
        current: the index of the run on screen in each family.
        texts: per knob, per run, the strings the metrics row shows after the numbers (e.g.
            a status label and its sentence); computed by the caller.
        scene: the loss surface, the data and the model.
        ids: names for the four families and the scene's arrays, each standing for everything
            its part of the payload is computed from; the header carries them.
        held: the ids the browser already holds: those parts ship as their id alone (a
            family also with its ``current``), and the browser takes them from the payload
            it has (``decode``'s ``previous``). After a knob's release that is the knob's own
            family and the scene.

    Returns:
        The payload bytes.
    """
    writer = Writer()
    knobs = []
    for knob, fam in families.items():
        at = getattr(current, knob)
        name = getattr(ids.families, knob) if ids is not None else ""
        if name and name in held:
            knobs.append({"knob": knob, "id": name, "held": True, "current": int(at)})
        else:
            entry = _family(writer, knob, fam, at, getattr(texts, knob), scene)
            knobs.append({**entry, "id": name} if name else entry)
    scene_id = ids.scene if ids is not None else ""
    scene_held = bool(scene_id) and scene_id in held
    n = scene.x.size
    # Deterministic and evenly spread; sorted, so the training rows (the first n_train) lead.
    shown = np.unique(np.linspace(0, n - 1, min(n, MAX_SCATTER)).round().astype(int))
    zooms = [] if scene.widened is None else scene.widened.factors.tolist()
    if not scene_held:
        _scene(writer, scene, shown)
    fam, r = families.learning_rate, current.learning_rate  # the settings' own run
    end = int(fam.lengths[r]) - 1
    with np.errstate(over="ignore", invalid="ignore"):
        gap = float(np.hypot(*(scene.project(fam.params[r, end]) - scene.minimum)))
    header = {
        "version": 1,
        "model": scene.model,
        "names": list(scene.names),
        "fit_label": scene.fit_label,
        "target": scene.target,
        "mark": scene.mark,
        "contour_title": scene.contour_title,
        "axis_titles": list(scene.axis_titles or scene.names),
        "min_loss": number(scene.min_loss),
        "min_loss_value": float(scene.min_loss),  # frames before the end compute their gap
        "epochs": scene.epochs,
        "n_train": scene.n_train,
        "n_val": int(n - scene.n_train),
        "shown_train": int(np.sum(shown < scene.n_train)),
        "zooms": zooms,  # the widened windows (× the surface's half-widths) that ship
        "knobs": knobs,
        "scene": {"id": scene_id, "held": scene_held},
        "summary": summaries(fam, r, scene, gap),  # of the committed run, one per chart
        "arrays": writer.index,
        "update": None,  # last, see with_update
    }
    return pack(header, b"".join(writer.chunks))


class Ids(NamedTuple):
    """What a payload's parts are computed from, as short names (``encode``'s ``ids``)."""

    families: PerKnob[str]
    scene: str


SCENE_ARRAYS = ("surface.", "data.")  # the prefixes of the scene's arrays


def _scene(writer: Writer, scene: Scene, shown: np.ndarray) -> None:
    """Write the scene's arrays: the surface, its widened windows, the data rows ``shown``."""
    writer.add("surface.axis0", scene.axis0)
    writer.add("surface.axis1", scene.axis1)
    writer.add("surface.loss", scene.loss)
    writer.add("surface.minimum", scene.minimum[:2])
    writer.add("surface.levels", contour_levels(scene.loss, scene.min_loss))
    if scene.widened is not None:
        far = scene.widened
        writer.add("surface.zoom_axis0", far.axis0)
        writer.add("surface.zoom_axis1", far.axis1)
        writer.add("surface.zoom_loss", far.loss)
        writer.add(
            "surface.zoom_levels", np.stack([contour_levels(z, scene.min_loss) for z in far.loss])
        )
    writer.add("data.x", scene.x[shown])
    writer.add("data.y", scene.y[shown])
    if scene.plane is not None:
        writer.add("data.fit_x", fit_xs(scene.x))


def pack(header: dict[str, Any], blob: bytes, magic: bytes = MAGIC) -> bytes:
    """``magic``, the header's length, the header as JSON (padded to 4 bytes), the arrays."""
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    text += b" " * (-len(text) % 4)
    return b"".join([magic, struct.pack("<I", len(text)), text, blob])


def with_update(payload: bytes, update: int | None) -> bytes:
    """The same payload with playback starting at ``update`` (None: the whole run drawn).

    Any payload in this layout works (the update scrubber's too: its magic is kept).

    Example:
        >>> empty = pack({"arrays": {}, "update": None}, b"")
        >>> read(with_update(empty, 12), MAGIC, "a stage")[0]["update"]
        12
    """
    return _with_tail(payload, {"update": _checked_update(update)})


def _checked_update(update: int | None) -> int | None:
    if update is not None and (isinstance(update, bool) or not isinstance(update, int)):
        raise TypeError(f"The 'update' parameter must be an int or None. Got {update!r} instead.")
    return update


def _with_tail(payload: bytes, entries: dict[str, Any]) -> bytes:
    """The payload with the header's ``view`` and ``update`` (its last keys, in that order) set
    from ``entries`` (a view of None: none); ``payload`` itself when they already are."""
    (length,) = struct.unpack_from("<I", payload, 4)
    header = json.loads(payload[8 : 8 + length])
    if all(header.get(key) == value for key, value in entries.items()):
        return payload
    tail = {"view": header.pop("view", None), "update": header.pop("update", None)} | entries
    view, update = tail["view"], tail["update"]
    if view is not None:
        header["view"] = view
    header["update"] = update
    return pack(header, payload[8 + length :], payload[:4])


@dataclass(frozen=True)
class View:
    """What the stage lets a class see and do: ``stage.live(..., view=View(...))``.

    The default is the stage as a learner has it alone: every knob live, no token, the
    normal layout. Any iterable of knob names works for ``locked`` and ``hidden`` (kept as
    frozensets); ``play`` is a token, not a count: only a change to a new value above 0 means
    "play from update 0 now" (a page that wants the class to watch a run again sends a new
    one, e.g. the question's id), so a rerun that sends the same token again does nothing.

    ``conceal`` is for "predict before you observe": until a student answers, the stage shows
    the run paused at the payload's ``update`` (the page sends 0) and nothing beyond it: every
    knob locked, playback disabled, the charts drawn only up to that update, and no text that
    names the run's end (the charts' accessible names are their titles, not ``summaries``).
    A token that arrives while concealed is applied once the view is no longer concealed.

    Example:
        >>> View(locked={"batch_size"}, play=3)  # doctest: +NORMALIZE_WHITESPACE
        View(locked=frozenset({'batch_size'}), hidden=frozenset(), play=3, present=False,
             conceal=False)
        >>> View(conceal=True).header()
        {'locked': [], 'hidden': [], 'play': 0, 'present': False, 'conceal': True}
        >>> View(locked=["momentum"], hidden=["momentum"])
        Traceback (most recent call last):
        ...
        ValueError: momentum is both locked and hidden; lock it or hide it, not both.
    """

    locked: frozenset[str] = frozenset()  # live knobs shown at their value but not movable
    hidden: frozenset[str] = frozenset()  # live knobs not shown at all
    play: int = 0  # a token: when it changes to a new value > 0, playback starts from update 0
    present: bool = False  # the presenter view, for a projector: two large panels, large text
    conceal: bool = False  # predict first: paused at `update`, nothing beyond it drawn or said

    def __post_init__(self) -> None:
        for name in ("locked", "hidden"):
            value = getattr(self, name)
            names = None if isinstance(value, str | bytes) else _names(value)
            if names is None or not names <= set(KNOBS):
                shown = sorted(names - set(KNOBS)) if names is not None else value
                raise ValueError(
                    f"The '{name}' parameter must be a set of live knobs among {list(KNOBS)}. "
                    f"Got {shown!r} instead."
                )
            object.__setattr__(self, name, frozenset(names))
        both = self.locked & self.hidden
        if both:
            knobs = ", ".join(k for k in KNOBS if k in both)
            raise ValueError(
                f"{knobs} {'is' if len(both) == 1 else 'are'} both locked and hidden; "
                f"lock {'it' if len(both) == 1 else 'them'} or hide "
                f"{'it' if len(both) == 1 else 'them'}, not both."
            )
        if isinstance(self.play, bool) or not isinstance(self.play, int) or self.play < 0:
            raise ValueError(
                f"The 'play' parameter must be an int >= 0. Got {self.play!r} instead."
            )
        for name in ("present", "conceal"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ValueError(
                    f"The '{name}' parameter must be True or False. Got {value!r} instead."
                )

    def header(self) -> dict[str, Any] | None:
        """The payload header's ``view`` entry (knobs in the stage's order), or None for the
        default view, which writes none. ``conceal`` is written only when true, so a view
        that does not conceal writes the same bytes as before it existed."""
        if self == DEFAULT_VIEW:
            return None
        entry: dict[str, Any] = {
            "locked": [k for k in KNOBS if k in self.locked],
            "hidden": [k for k in KNOBS if k in self.hidden],
            "play": self.play,
            "present": self.present,
        }
        if self.conceal:
            entry["conceal"] = True
        return entry


def _names(value: object) -> set[str] | None:
    """The strings of an iterable, or None when it is not an iterable of strings."""
    try:
        names = set(value)  # type: ignore[call-overload]
    except TypeError:
        return None
    return names if all(isinstance(n, str) for n in names) else None


DEFAULT_VIEW = View()  # the stage as a learner has it alone


def with_view(payload: bytes, view: View) -> bytes:
    """The same payload with the stage's ``view`` in its header, just before ``update``
    (the header's last key; module doc), or with none for the default ``View()``.

    Returns ``payload`` itself when its view is already ``view``.

    Example:
        >>> empty = pack({"arrays": {}, "update": 3}, b"")
        >>> header = read(with_view(empty, View(hidden={"decay"}, play=2)), MAGIC, "a stage")[0]
        >>> header["view"], list(header)[-1]
        ({'locked': [], 'hidden': ['decay'], 'play': 2, 'present': False}, 'update')
        >>> with_view(empty, View()) is empty
        True
    """
    return _with_tail(payload, {"view": _checked_view(view).header()})


def _checked_view(view: View) -> View:
    if not isinstance(view, View):
        raise TypeError(f"The 'view' parameter must be a View. Got {view!r} instead.")
    return view


def staged(payload: bytes, update: int | None, view: View) -> bytes:
    """``with_view(with_update(payload, update), view)``, reading the header once: it holds
    every run's strings, a release's largest JSON.

    Example:
        >>> empty = pack({"arrays": {}, "update": None}, b"")
        >>> staged(empty, 4, View(play=2)) == with_view(with_update(empty, 4), View(play=2))
        True
        >>> staged(empty, None, View()) is empty
        True
    """
    return _with_tail(
        payload, {"view": _checked_view(view).header(), "update": _checked_update(update)}
    )


def read_update(text: str | None, updates: int) -> tuple[int | None, str | None]:
    """A link's ``update`` (where playback starts) checked against a run of ``updates``.

    Returns the update, or None for the whole run, and a notice when the link's value could
    not be used. The notice quotes the value only when it is a short integer (a link is user
    text).

    Example:
        >>> read_update("30", 140), read_update(None, 140)
        ((30, None), (None, None))
        >>> read_update("141", 140)[1]
        'update=141 is out of range (the run has 140 updates), so the whole run is shown.'
        >>> read_update("**x**", 140)[1]
        'The update in the link is not a whole number, so the whole run is shown.'
    """
    if text is None:
        return None, None
    text = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,12}", text):
        return None, "The update in the link is not a whole number, so the whole run is shown."
    value = int(text)
    if not 0 <= value <= updates:
        return None, (
            f"update={text} is out of range (the run has {plural(updates, 'update')}), so the "
            "whole run is shown."
        )
    return value, None


@dataclass(frozen=True)
class Decoded:
    """A payload read back: the header and every array by name (float32)."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def knob(self, knob: str) -> dict[str, Any]:
        return next(k for k in self.header["knobs"] if k["knob"] == knob)

    def family(self, knob: str) -> dict[str, np.ndarray]:
        """One family's arrays padded back to ``gd.Family``'s shapes (rows repeat their last
        entry; a row with no entries is NaN)."""
        a = {k.split(".", 1)[1]: v for k, v in self.arrays.items() if k.startswith(knob + ".")}
        runs = self.knob(knob)["runs"]
        points = np.array([run["length"] for run in runs])
        bins = np.array([run["bins"] for run in runs])
        epochs = np.array([run["completed"] for run in runs])

        def padded(flat: np.ndarray, counts: np.ndarray) -> np.ndarray:
            width = int(counts.max())
            rows, at = [], 0
            for n in counts.tolist():
                row = flat[at : at + n]
                at += n
                fill = row[-1:] if n else np.full((1, *flat.shape[1:]), np.nan, flat.dtype)
                rows.append(np.concatenate([row, np.repeat(fill, width - n, axis=0)]))
            return np.stack(rows)

        if "steps" in a:
            steps = padded(a["steps"], points)
        else:
            base, last = a["steps_base"], a["steps_last"]
            steps = np.repeat(last[:, None], base.size, axis=1)
            for r, n in enumerate(points.tolist()):
                steps[r, : n - 1] = base[: n - 1]
        if "learning_rate_per_run" in a:
            rates = np.repeat(a["learning_rate_per_run"][:, None], int(points.max()), axis=1)
        else:
            rates = padded(a["learning_rate"], points)
        low = padded(a["batch_low"], bins)
        return {
            "values": np.array(self.knob(knob)["values"]),
            "lengths": points,
            "batch_bins": bins,
            "completed": epochs,
            "steps": steps,
            "params": padded(a["params"], points),
            "loss": padded(a["loss"], points),
            "learning_rate": rates,
            "batch_low": low,
            "batch_high": padded(a["batch_high"], bins) if "batch_high" in a else low,
            "epoch_loss": padded(a["epoch_loss"], epochs),
            "val_loss": padded(a["val_loss"], epochs) if "val_loss" in a else None,
        }


def read(payload: bytes, magic: bytes, what: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the named float32 arrays of a payload that starts with ``magic``: the
    layout every browser component of this app ships (``what`` names it in the error)."""
    if payload[:4] != magic:
        raise ValueError(f"Not {what} payload: the first 4 bytes are not {magic!r}.")
    (length,) = struct.unpack_from("<I", payload, 4)
    header = json.loads(payload[8 : 8 + length])
    start = 8 + length
    blob = np.frombuffer(payload, dtype="<f4", offset=start)
    arrays = {}
    for name, (offset, shape, *bounds) in header["arrays"].items():
        count = math.prod(shape)
        if bounds:  # Writer.add_drawn: 16-bit steps from low to high, 65535 not finite
            low, high = bounds
            steps = np.frombuffer(payload, dtype="<u2", count=count, offset=start + 4 * offset)
            values = low + steps * ((high - low) / QUANTA)
            arrays[name] = np.where(steps > QUANTA, np.nan, values).astype("<f4").reshape(shape)
        else:
            arrays[name] = blob[offset : offset + count].reshape(shape)
    return header, arrays


def decode(payload: bytes, previous: Decoded | None = None) -> Decoded:
    """Read a payload back (the tests' half of the round trip); its held parts come from
    ``previous``, the payload the browser had, as ``stage.js`` takes them.

    Raises:
        KeyError: a held part that ``previous`` does not have (the browser then asks for
            the whole payload).
    """
    header, arrays = read(payload, MAGIC, "a stage")
    knobs = []
    for entry in header["knobs"]:
        if entry.get("held"):
            old = previous.knob(entry["knob"]) if previous is not None else None
            if old is None or old.get("id") != entry["id"]:
                raise KeyError(f"the browser does not hold family {entry['id']!r}")
            knobs.append({**old, "current": entry["current"]})
            prefix = entry["knob"] + "."
            arrays |= {k: v for k, v in previous.arrays.items() if k.startswith(prefix)}
        else:
            knobs.append(entry)
    scene = header.get("scene", {})
    if scene.get("held"):
        if previous is None or previous.header.get("scene", {}).get("id") != scene["id"]:
            raise KeyError(f"the browser does not hold scene {scene['id']!r}")
        arrays |= {k: v for k, v in previous.arrays.items() if k.startswith(SCENE_ARRAYS)}
    return Decoded({**header, "knobs": knobs}, arrays)
