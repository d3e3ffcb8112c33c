"""Families of exact runs: one knob moved through its slider positions, everything else held.

A page that lets a learner drag a knob asks for the family of that knob once; the browser then
switches between runs it already holds, frame by frame. Every run of a family is the run
``gd.fit`` makes with the knob at that value: the same row orders (one
``np.random.default_rng(seed)``), the same arithmetic, the same divergence rule. Only what is
*recorded* is thinned, to about ``max_points`` points per run:

* ``steps``: the start, the end, every epoch boundary, and evenly spaced updates in between,
  always among the updates at which ``gd.fit`` scores the full loss (``Run.loss_steps``);
* ``batch_low`` / ``batch_high``: the noisy per-batch loss as a min/max envelope over bins of
  ``batch_width`` updates, so a thinned curve still shows the full spread of the noise (a
  sample of one batch per bin would hide it); with one update per bin it is exact.

With numba, runs that share the batch size (the learning-rate, momentum and decay knobs) take
their batches in lockstep in one compiled loop, split over two threads that release the GIL;
the batch-size knob runs one compiled loop per value, two at a time. Without numba the NumPy
reference loop runs each value and the same record is cut from its full trajectory.

Example:
    >>> import gd
    >>> data = gd.datasets.linear(n=100, seed=0)
    >>> fam = family(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1),
    ...              gd.Training(epochs=5), knob="learning_rate", values=[0.01, 0.1, 3.0])
    >>> fam
    Family(learning_rate: 3 runs, up to 21 points each, 1 diverged)
    >>> fam.steps[1, :5]                            # ceil(100/32) = 4 updates per epoch
    array([0, 1, 2, 3, 4])
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from gd import engine as engines
from gd import rules
from gd.fit import Problem, Training, epoch_totals, loss_steps, prepare
from gd.loop import train_loop
from gd.models import Model
from gd.optim import SGD
from gd.validation import check_choice, check_grid, check_int, check_momentum, check_rate

Knob = Literal["learning_rate", "batch_size", "momentum", "decay"]


@dataclass(frozen=True)
class KnobSpec:
    """What a knob is: the one table the live stage's knobs, their order, labels and checks
    come from (the stage sends the order and the labels to the browser with its payload)."""

    label: str  # as a slider names it
    check: Callable[[str, object], int | float]  # gd.validation's check of one value
    dtype: type  # of ``Family.values``
    scale: str  # "log" or "linear": how a slider spaces the values


KNOB_TABLE: dict[str, KnobSpec] = {
    "learning_rate": KnobSpec("Learning rate", check_rate, np.float64, "log"),
    "batch_size": KnobSpec("Batch size", check_int, np.int64, "linear"),
    "momentum": KnobSpec("Momentum", check_momentum, np.float64, "linear"),
    "decay": KnobSpec("Decay", check_rate, np.float64, "log"),
}
KNOBS: tuple[str, ...] = tuple(KNOB_TABLE)


def check_knob(knob: str, value: object) -> int | float:
    """``value`` as a valid setting of ``knob`` (a TypeError or ValueError says why not).

    Example:
        >>> check_knob("momentum", 0.9), check_knob("batch_size", 32)
        (0.9, 32)
        >>> check_knob("momentum", 1.5)
        Traceback (most recent call last):
        ...
        ValueError: The 'momentum' parameter must be in [0, 1]. Got 1.5 instead.
    """
    return KNOB_TABLE[check_choice("knob", knob, KNOBS)].check(knob, value)


_THREADS = 2  # this product's servers have two cores; each compiled loop releases the GIL
PARALLEL_WORK = 2_000_000  # row gradients above which a family's runs use both threads


@dataclass(frozen=True, eq=False)
class Family:
    """R runs that differ only in one knob, thinned for drawing (S kept points, M loss bins).

    Rows are padded to a common width: row r's entries past ``lengths[r]`` (or past
    ``batch_bins[r]``, ``completed[r]``) repeat its last value, so a drawing never meets
    garbage.

    Attributes:
        knob: which setting varies.
        values: (R,) its value in each run.
        steps: (R, S) update indices kept; the start, the end and every epoch boundary.
        lengths: (R,) how many entries of each row of ``steps`` are real.
        params: (R, S, P) the parameters after ``steps`` updates.
        loss: (R, S) the full training loss there (``Run.loss``).
        learning_rate: (R, S) the rate update ``steps`` uses, η/(1 + decay·t); at a run's last
            point, the rate the next update would use.
        decay: (R,) each run's decay (a decay family varies it; the others share one).
        batch_low, batch_high: (R, M) the smallest and largest batch loss of each bin of
            ``batch_width[r]`` updates, the batch loss taken before each update.
        batch_width: (R,) updates per bin (1 means ``batch_low`` is ``Run.batch_loss``).
        batch_bins: (R,) how many bins of each row are real.
        epoch_loss: (R, E) Keras's epoch loss; ``completed[r]`` entries are real.
        val_loss: (R, E) validation loss at each epoch's end, or None without a split.
        completed: (R,) epochs each run completed.
        diverged_at: (R,) the update after which each run had blown up, ``rules.NEVER`` (−1)
            for never; ``diverged(r)`` gives ``Run.diverged_at``'s None-or-int.
        batch_size: (R,) the batch size each run used (a request above n_train is clamped).
        updates_per_epoch: (R,) ``ceil(n_train / batch_size)``.
        n_train, n_val: training and validation rows.
        divergence_threshold: the batch loss above which a run counts as diverged.
    """

    knob: str
    values: np.ndarray
    steps: np.ndarray
    lengths: np.ndarray
    params: np.ndarray
    loss: np.ndarray
    learning_rate: np.ndarray
    decay: np.ndarray
    batch_low: np.ndarray
    batch_high: np.ndarray
    batch_width: np.ndarray
    batch_bins: np.ndarray
    epoch_loss: np.ndarray
    val_loss: np.ndarray | None
    completed: np.ndarray
    diverged_at: np.ndarray
    batch_size: np.ndarray
    updates_per_epoch: np.ndarray
    n_train: int
    n_val: int
    divergence_threshold: float

    @property
    def runs(self) -> int:
        return self.values.size

    def updates(self, r: int) -> int:
        """Updates run r applied (``Run.updates``)."""
        return int(self.steps[r, self.lengths[r] - 1])

    def diverged(self, r: int) -> int | None:
        """``Run.diverged_at`` of run r: the update after which it had blown up, or None."""
        at = int(self.diverged_at[r])
        return None if at == rules.NEVER else at

    def __repr__(self) -> str:
        blown = int(np.sum(self.diverged_at != rules.NEVER))
        return (
            f"Family({self.knob}: {self.runs} runs, up to {self.steps.shape[1]} points each, "
            f"{blown} diverged)"
        )


class _Record(NamedTuple):
    """One run as a family keeps it, before rows are padded to a common width."""

    steps: np.ndarray  # (S_r,)
    params: np.ndarray  # (S_r, P)
    batch_low: np.ndarray  # (M_r,)
    batch_high: np.ndarray  # (M_r,)
    epoch_total: np.ndarray  # (E_r,) Σ batch loss × rows, per completed epoch
    diverged_at: int  # or rules.NEVER


class _Plan(NamedTuple):
    """What a batch size fixes before any run: the updates kept and the loss bins."""

    batch_size: int
    n_train: int
    updates_per_epoch: int
    planned: int  # updates of a run that never blows up
    keep: np.ndarray  # (K,) updates whose points are kept
    width: int  # updates per batch-loss bin
    bins: int


def family(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    opt: SGD,
    training: Training = Training(),
    *,
    knob: Knob,
    values: Sequence[float] | np.ndarray,
    batch_size: int = 32,
    max_points: int = 400,
    engine: engines.Engine = "auto",
) -> Family:
    """Run ``gd.fit`` once per value of one knob, and keep each run thinned for drawing.

    Run r equals ``gd.fit(model, x, y, opt_r, training, batch_size=b_r)`` with ``knob`` set to
    ``values[r]`` in ``opt_r`` (or in ``b_r`` for ``"batch_size"``). A momentum of 0 turns
    Nesterov off for that run, as ``gd.SGD`` requires; the two give identical numbers there.

    Args:
        model, x, y, opt, training: as in ``gd.fit``; ``opt`` supplies every optimizer setting
            but the knob.
        knob: "learning_rate", "batch_size", "momentum" or "decay".
        values: the knob's values, one run each.
        batch_size: as in ``gd.fit``, for every run unless the knob is the batch size.
        max_points: about how many points and loss bins to keep per run (at least 2), beyond
            the epoch boundaries, which are always kept.
        engine: as in ``gd.fit``.

    Returns:
        A frozen ``Family``.
    """
    spec = KNOB_TABLE[check_choice("knob", knob, KNOBS)]
    values = check_grid("values", values, spec.check, spec.dtype)
    batch_size = check_int("batch_size", batch_size)
    max_points = check_int("max_points", max_points, low=2)
    if not isinstance(opt, SGD):
        raise ValueError(f"The 'opt' parameter must be a gd.SGD. Got {opt!r} instead.")
    kernels = engines.kernels(engine)
    problem = prepare(model, x, y, training)
    n_train = problem.order.shape[1]
    if knob == "batch_size":
        opts = [opt] * values.size
        sizes = np.minimum(values, n_train)
    else:
        opts = [_with(opt, knob, value) for value in values.tolist()]
        sizes = np.full(values.size, min(batch_size, n_train))
    plans = {int(size): _plan(model, problem, int(size), max_points) for size in set(sizes)}
    # Row gradients the family computes; below PARALLEL_WORK a second thread costs more to
    # start and join than it saves (the default Playground's four families: ~0.1 M each).
    work = sum(plans[int(size)].planned * int(size) for size in sizes)
    threads = _THREADS if kernels is not None and work > PARALLEL_WORK else 1
    groups = _groups(sizes, kernels is not None, threads)

    def run(lanes: list[int]) -> list[_Record]:
        plan = plans[int(sizes[lanes[0]])]
        return _run_group(kernels, model, problem, [opts[r] for r in lanes], plan)

    with np.errstate(all="ignore"):
        if threads == 1:
            done = [run(lanes) for lanes in groups]
        else:
            with ThreadPoolExecutor(threads) as pool:
                done = list(pool.map(run, groups))
        records = [None] * values.size
        for lanes, group in zip(groups, done, strict=True):
            for r, rec in zip(lanes, group, strict=True):
                records[r] = rec
        return _assemble(model, problem, knob, values, opts, sizes, plans, records)


def _with(opt: SGD, knob: str, value: float) -> SGD:
    """``opt`` with one setting changed; momentum 0 turns Nesterov off (identical numbers)."""
    changes = {knob: value}
    if knob == "momentum" and value == 0.0:
        changes["nesterov"] = False
    return dataclasses.replace(opt, **changes)


def _plan(model: Model, problem: Problem, batch_size: int, max_points: int) -> _Plan:
    """The kept updates: ``fit``'s loss steps of a full run, thinned to about ``max_points``,
    plus every epoch boundary (which ``fit`` always scores)."""
    epochs, n_train = problem.order.shape
    per_epoch = rules.batches_per_epoch(n_train, batch_size)
    planned = epochs * per_epoch
    keep = _kept(model, epochs, n_train, batch_size, max_points)
    width = -(-planned // max_points)
    return _Plan(batch_size, n_train, per_epoch, planned, keep, width, -(-planned // width))


@functools.lru_cache(maxsize=256)
def _kept(model: Model, epochs: int, n_train: int, batch_size: int, max_points: int):
    """The updates whose points a full run keeps, read-only since it is cached: every release
    asks for the same batch sizes' plans again, and two ``np.union1d`` cost more than a run."""
    per_epoch = rules.batches_per_epoch(n_train, batch_size)
    planned = epochs * per_epoch
    scored = loss_steps(model, planned, per_epoch, n_train, planned)
    stride = -(-scored.size // max_points)
    keep = np.union1d(np.union1d(scored[::stride], np.arange(0, planned + 1, per_epoch)), [planned])
    keep.flags.writeable = False
    return keep


def scored_points(
    model: Model, n_train: int, batch_size: int, epochs: int, max_points: int = 400
) -> int:
    """How many points of one run ``family`` scores with the full training loss after
    training it (a pass over the rows each, unless ``model.cheap_losses``): what a work budget
    counts besides the updates.

    Example:
        >>> from gd.models import TanhNeuron
        >>> scored_points(TanhNeuron(), n_train=160, batch_size=32, epochs=20)  # every update
        101
    """
    batch_size = min(batch_size, n_train)
    return int(_kept(model, epochs, n_train, batch_size, max_points).size)


def _groups(sizes: np.ndarray, lockstep: bool, threads: int) -> list[list[int]]:
    """Runs that can share one loop: the same batch size, split in one part per thread."""
    groups = []
    for size in dict.fromkeys(sizes.tolist()):
        lanes = [r for r in range(sizes.size) if sizes[r] == size]
        if not lockstep:
            groups += [[r] for r in lanes]
            continue
        half = -(-len(lanes) // threads)
        groups += [lanes[i : i + half] for i in range(0, len(lanes), half)]
    return groups


def _run_group(kernels, model: Model, problem: Problem, opts: list[SGD], plan: _Plan):
    """Run one group's lanes and cut each run's record: compiled in lockstep, or the reference."""
    if kernels is None:
        return [_from_reference(model, problem, opt, plan) for opt in opts]
    trace = kernels.new_trace(
        len(opts), plan.keep, problem.init.size, plan.bins, plan.width, problem.order.shape[0]
    )
    ends, diverged_at = kernels.train(
        model,
        *problem.train,
        problem.order,
        plan.batch_size,
        kernels.lanes(opts),
        problem.init,
        problem.threshold,
        trace,
    )
    records = []
    for lane in range(len(opts)):
        at = int(diverged_at[lane])
        done = plan.planned if at == rules.NEVER else at
        inside = plan.keep[plan.keep < done]
        bins = -(-done // plan.width)
        records.append(
            _Record(
                steps=np.append(inside, done),
                params=np.vstack([trace.params[lane, : inside.size], ends[lane]]),
                batch_low=trace.batch_low[lane, :bins],
                batch_high=trace.batch_high[lane, :bins],
                epoch_total=trace.epoch_total[lane, : done // plan.updates_per_epoch],
                diverged_at=at,
            )
        )
    return records


def _from_reference(model: Model, problem: Problem, opt: SGD, plan: _Plan) -> _Record:
    """The same record, cut from the NumPy reference loop's full trajectory."""
    trajectory = train_loop(
        model,
        *problem.train,
        problem.order,
        plan.batch_size,
        opt,
        problem.init,
        problem.threshold,
    )
    done = trajectory.batch_loss.size
    steps = np.append(plan.keep[plan.keep < done], done)
    padded = np.pad(trajectory.batch_loss, (0, -done % plan.width), mode="edge")
    bins = padded.reshape(-1, plan.width)  # (M_r, width), the last bin padded with its edge
    return _Record(
        steps=steps,
        params=trajectory.params[steps],
        batch_low=bins.min(axis=1),
        batch_high=bins.max(axis=1),
        epoch_total=epoch_totals(trajectory.batch_loss, plan.batch_size, plan.n_train),
        diverged_at=rules.NEVER if trajectory.diverged_at is None else trajectory.diverged_at,
    )


def _pad(rows: list[np.ndarray], width: int) -> np.ndarray:
    """Stack rows of different lengths, each padded by repeating its last entry (NaN if none)."""
    empty = any(row.shape[0] == 0 for row in rows)
    dtype = np.result_type(*rows, *([np.float64] if empty else []))
    out = np.empty((len(rows), width, *rows[0].shape[1:]), dtype=dtype)
    for r, row in enumerate(rows):
        n = row.shape[0]
        if n:
            out[r, :n] = row
            out[r, n:] = row[-1]
        else:
            out[r] = np.nan
    return out


def _assemble(model, problem, knob, values, opts, sizes, plans, records) -> Family:
    """Score the kept points, apply ``fit``'s end-of-run divergence rule, and pad the rows."""
    n_train = problem.order.shape[1]
    width = max(rec.steps.size for rec in records)
    bins = max(rec.batch_low.size for rec in records)
    diverged_at = np.array([rec.diverged_at for rec in records], dtype=np.int64)
    # One call scores every kept point of every run: the closed forms pay their setup once.
    scores = model.losses(np.concatenate([rec.params for rec in records]), *problem.train)
    cuts = np.cumsum([rec.steps.size for rec in records])[:-1]
    loss, rates, epoch_loss, val_loss = [], [], [], []
    for r, (rec, scored) in enumerate(zip(records, np.split(scores, cuts), strict=True)):
        if diverged_at[r] == rules.NEVER and rules.blew_up(scored[-1], problem.threshold):
            diverged_at[r] = rec.steps[-1]
        loss.append(scored)
        rates.append(rules.learning_rate_at(opts[r].learning_rate, opts[r].decay, rec.steps))
        epoch_loss.append(rec.epoch_total / n_train)
        if problem.val[1].size:
            ends = np.searchsorted(
                rec.steps,
                rules.epoch_ends(plans[int(sizes[r])].updates_per_epoch, rec.epoch_total.size),
            )
            val_loss.append(model.losses(rec.params[ends], *problem.val))
    epochs = problem.order.shape[0]
    return Family(
        knob=knob,
        values=values,
        steps=_pad([rec.steps for rec in records], width),
        lengths=np.array([rec.steps.size for rec in records]),
        params=_pad([rec.params for rec in records], width),
        loss=_pad(loss, width),
        learning_rate=_pad(rates, width),
        decay=np.array([opt.decay for opt in opts], dtype=float),
        batch_low=_pad([rec.batch_low for rec in records], bins),
        batch_high=_pad([rec.batch_high for rec in records], bins),
        batch_width=np.array([plans[int(size)].width for size in sizes]),
        batch_bins=np.array([rec.batch_low.size for rec in records]),
        epoch_loss=_pad(epoch_loss, epochs),
        val_loss=_pad(val_loss, epochs) if val_loss else None,
        completed=np.array([rec.epoch_total.size for rec in records]),
        diverged_at=diverged_at,
        batch_size=sizes.astype(np.int64),
        updates_per_epoch=np.array([plans[int(size)].updates_per_epoch for size in sizes]),
        n_train=n_train,
        n_val=problem.val[1].size,
        divergence_threshold=problem.threshold,
    )
