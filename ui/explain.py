"""Shared builders (every lesson): words and formulas for what the charts show, filled in with
the run's own numbers.

Pure functions of records (no Streamlit), so tests can check every sentence a learner reads.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

import gd
from gd import heavy_ball_bound, lambda_max
from gd.noise import per_sample_variance
from gd.rules import DIVERGENCE_FACTOR, batch_bounds, batches_per_epoch, learning_rate_at
from ui import glossary
from ui.controls import LEARNING_RATES, Settings
from ui.words import gap_text, number, plural

# The status rule (``verdict``): what the charts show, named from the run's own numbers.
SETTLED = 0.02  # converged: the end within 2% of the minimum loss (the chart shows no gap)
FLOOR_FACTOR = 3.0  # at the noise floor: within 3× the gap SGD's noise predicts for the run
SWING = 0.1  # oscillating: over the last half the loss rose, in all, by 10% of its gap or more
END_SHARE = 0.1  # "the end": the kept points of the run's last tenth (at least its last point)
MAX_POINTS = 400  # points kept per run, as ``gd.family`` keeps them for the stage
# A frame before the run's end shows the end's label from the first update whose loss is within
# this many times the end's gap (plus the tolerance) of the minimum; before it, "still
# descending" (``settles_at``).
SETTLE_FACTOR = 2.0
DESCENDING = "still descending"


def updates_arithmetic(n_train: int, batch_size: int) -> str:
    """Keras's steps per epoch, with the arithmetic shown: ``⌈160 / 32⌉ = 5``.

    Example:
        >>> updates_arithmetic(200, 32)
        '⌈200 / 32⌉ = 7 (the last batch has 8 rows)'
    """
    updates = batches_per_epoch(n_train, batch_size)
    text = f"⌈{n_train} / {batch_size}⌉ = {updates}"
    start, stop = batch_bounds(updates - 1, batch_size, n_train)
    last = stop - start
    if last != batch_size:
        text += f" (the last batch has {plural(last, 'row')})"
    return text


@dataclass(frozen=True)
class Landscape:
    """What the status rule knows about the problem, whatever the run: one per page of settings.

    Attributes:
        min_loss: the lowest training loss (the × on the contours).
        noise: σ², the trace of the per-sample gradient covariance at the minimum
            (``gd.noise.per_sample_variance``): how much single rows disagree there.
        lambda_max: the largest curvature of the loss, known for linear regression (its Hessian
            is constant), else None.
        momentum, nesterov: the settings' own (a momentum family varies the first per run).
        target: what the sentences call the × ("the best point found" on the network's slice).
    """

    min_loss: float
    noise: float = 0.0
    lambda_max: float | None = None
    momentum: float = 0.0
    nesterov: bool = False
    target: str = "the minimum"  # what ``min_loss`` is the loss of (``ui.charts.target_words``)


def landscape(
    settings: Settings,
    x: np.ndarray,
    y: np.ndarray,
    minimum: np.ndarray,
    min_loss: float,
    target: str = "the minimum",
) -> Landscape:
    """The ``Landscape`` of these settings on the training rows ``x`` (n_train, 1), ``y``."""
    model = settings.spec.build()
    with np.errstate(all="ignore"):
        noise = per_sample_variance(model, np.asarray(minimum, dtype=float), x, y)
    curvature = lambda_max(x, y) if settings.spec.closed_form else None
    return Landscape(
        min_loss=float(min_loss),
        noise=float(noise) if math.isfinite(noise) else 0.0,
        lambda_max=curvature,
        momentum=settings.momentum,
        nesterov=settings.nesterov,
        target=target,
    )


def noise_floor(
    rate: float, momentum: float, batch_size: int, n_train: int, noise: float, lambda_max=None
) -> float:
    """The loss above the minimum at which SGD's noise holds a run with a constant rate.

    Near the minimum the loss is L* + ½eᵀHe. A batch of B rows drawn without replacement adds
    gradient noise of trace σ²/B·(N − B)/(N − 1) to each step; with heavy-ball momentum μ the
    stationary spread of e along a curvature λ gives an excess loss of
    η·σ²_B·(1 + μ) / (2(1 − μ)(2(1 + μ) − ηλ)), which is η·σ²_B/4 for a small rate and no
    momentum. With λ = λmax (when known) it is the upper estimate; it is 0 at full batch and
    infinite at the stability bound 2(1 + μ)/λmax.

    Example:
        >>> noise_floor(0.1, 0.0, 1, 200, 8.0)  # 0.1 · 8 / 4
        0.2
        >>> noise_floor(0.1, 1.0, 1, 200, 8.0)  # momentum 1: no floor to settle at
        inf
    """
    if batch_size >= n_train:
        return 0.0
    if momentum >= 1:  # no friction: the spread never settles, so there is no floor
        return math.inf
    spread = noise / batch_size * (n_train - batch_size) / max(n_train - 1, 1)
    room = 2 * (1 + momentum) - rate * (lambda_max or 0.0)
    if room <= 0:
        return math.inf
    return rate * spread * (1 + momentum) / (2 * (1 - momentum) * room)


@dataclass(frozen=True)
class Evidence:
    """The one record the status rule reads, built alike from a ``gd.Run`` (``evidence``) and
    from run r of a ``gd.Family`` (``family_evidence``): the same kept points of the full
    training loss (the start, every epoch end, and about ``MAX_POINTS`` updates in between).
    Its gap and tolerance are worked out once: ``verdict`` and ``settles_at`` both read them."""

    steps: np.ndarray  # (K,) kept updates
    loss: np.ndarray  # (K,) the full training loss there
    min_loss: float
    updates: int
    diverged_at: int | None
    threshold: float  # the divergence threshold
    rate: float  # the rate of the run's last update
    decayed: bool  # the rate shrank during the run
    momentum: float
    batch_size: int
    n_train: int
    bound: float | None  # 2(1 + μ)/λmax, where known
    floor: float  # ``noise_floor`` at the last rate
    target: str = "the minimum"  # what ``min_loss`` is the loss of

    @functools.cached_property
    def gap(self) -> float:
        """The mean loss over the run's last tenth, minus the minimum."""
        end = self.steps >= (1 - END_SHARE) * self.updates
        return float(np.mean(self.loss[end])) - self.min_loss if end.any() else math.inf

    @functools.cached_property
    def tolerance(self) -> float:
        """A gap the charts cannot show: 2% of the minimum (a millionth of the start's gap
        when the minimum is 0)."""
        return max(SETTLED * abs(self.min_loss), 1e-6 * (self.loss[0] - self.min_loss), 1e-12)

    @property
    def rises(self) -> float:
        """How much the loss rose, in all, over the run's second half."""
        half = self.loss[self.steps >= self.updates / 2]
        with np.errstate(invalid="ignore"):
            return float(np.sum(np.clip(np.diff(half), 0.0, None)))

    @property
    def fall(self) -> float:
        """How far the loss fell over the second half (negative: it rose)."""
        half = self.loss[self.steps >= self.updates / 2]
        return float(half[0] - half[-1]) if half.size else 0.0


def _kept(steps: np.ndarray, per_epoch: int, updates: int) -> np.ndarray:
    """Indices into ``steps`` that ``gd.family`` keeps: every stride-th, epoch ends, the end."""
    stride = -(-steps.size // MAX_POINTS)
    keep = np.union1d(steps[::stride], np.arange(0, updates + 1, per_epoch))
    keep = np.union1d(keep[keep < updates], [updates])
    return np.searchsorted(steps, keep)


def _bound(land: Landscape, momentum: float) -> float | None:
    """2(1 + μ)/λmax, for heavy ball (Nesterov's bound is another formula: unknown here)."""
    if land.lambda_max is None or (land.nesterov and momentum > 0):
        return None
    return heavy_ball_bound(land.lambda_max, momentum)


def _evidence(steps, loss, land, momentum, *, first_rate, rate, **run) -> Evidence:
    floor = noise_floor(
        rate, momentum, run["batch_size"], run["n_train"], land.noise, land.lambda_max
    )
    return Evidence(
        steps=steps,
        loss=loss,
        min_loss=land.min_loss,
        rate=float(rate),
        decayed=bool(rate < first_rate),
        momentum=float(momentum),
        bound=_bound(land, momentum),
        floor=floor,
        target=land.target,
        **run,
    )


def evidence(run: gd.Run, land: Landscape) -> Evidence:
    """The status rule's record of a ``gd.Run``."""
    kept = _kept(run.loss_steps, run.updates_per_epoch, run.updates)
    rates = run.learning_rate
    return _evidence(
        run.loss_steps[kept],
        run.loss[kept],
        land,
        land.momentum,
        first_rate=float(rates[0]) if rates.size else math.inf,
        rate=float(rates[-1]) if rates.size else math.inf,
        updates=run.updates,
        diverged_at=run.diverged_at,
        threshold=run.divergence_threshold,
        batch_size=run.batch_size,
        n_train=run.n_train,
    )


def family_evidence(family: gd.Family, r: int, land: Landscape) -> Evidence:
    """The status rule's record of run r of a ``gd.Family``."""
    n = int(family.lengths[r])
    steps = family.steps[r, :n]
    rates = family.learning_rate[r, :n]
    updates = family.updates(r)
    first = float(rates[0])
    # The family keeps the rate the *next* update would use at each point: the last update's
    # is the schedule's at t = U − 1, from the run's own decay.
    last = learning_rate_at(first, float(family.decay[r]), updates - 1) if updates else math.inf
    momentum = float(family.values[r]) if family.knob == "momentum" else land.momentum
    return _evidence(
        steps,
        family.loss[r, :n],
        land,
        momentum,
        first_rate=first if updates else math.inf,
        rate=last,
        updates=updates,
        diverged_at=family.diverged(r),
        threshold=family.divergence_threshold,
        batch_size=int(family.batch_size[r]),
        n_train=family.n_train,
    )


class Status(NamedTuple):
    """What the stage says of one run: the end's label and sentence (``verdict``), and what a
    frame before the end says (``settles_at``): ``early`` up to update ``settle``, the label
    from there on."""

    label: str
    sentence: str
    early: str
    settle: int


def status(run: gd.Run, land: Landscape) -> tuple[str, str]:
    """(label, one sentence why): see ``verdict``."""
    return verdict(evidence(run, land))


def family_status(family: gd.Family, r: int, land: Landscape) -> Status:
    """``status`` of run r of a family (the live stage's status for each knob position), with
    what its frames before the end say."""
    e = family_evidence(family, r, land)
    label, sentence = verdict(e)
    early, settle = settles_at(e)
    return Status(label, sentence, early, settle)


def settles_at(e: Evidence) -> tuple[str, int]:
    """What a frame before the run's end says, and from which update the end's label holds.

    A run that blew up is "before the blow-up" until it does. A rate above the stability bound
    oscillates from the first update. Otherwise a frame is "still descending" until the first
    kept update whose loss is within ``SETTLE_FACTOR`` times the end's gap (plus the
    tolerance) of the minimum; from there on it shows the end's label (converged, at the noise
    floor, oscillating, still moving).

    Example:
        >>> e = Evidence(np.array([0, 5, 10]), np.array([9.0, 1.2, 1.1]), 1.0, 10, None, 1e6,
        ...              0.1, False, 0.0, 10, 10, None, 0.0)
        >>> settles_at(e)
        ('still descending', 5)
    """
    if e.diverged_at is not None:
        return f"before the blow-up at update {e.diverged_at:,}", e.diverged_at
    if e.bound is not None and e.rate > e.bound:
        return DESCENDING, 0
    level = SETTLE_FACTOR * max(e.gap, 0.0) + e.tolerance
    with np.errstate(invalid="ignore"):
        near = np.flatnonzero(e.loss - e.min_loss <= level)
    return DESCENDING, int(e.steps[near[0]]) if near.size else e.updates


def verdict(e: Evidence) -> tuple[str, str]:
    """What the charts show of a run, as a label and one sentence with its numbers.

    In this order, the first that holds:

    1. **diverged at update k**: the loss passed the divergence threshold.
    2. **oscillating** (unstable): the rate is above the stability bound 2(1 + μ)/λmax, where
       it is known: the swings across the valley grow, however low the loss is now.
    3. **converged**: over the run's last tenth the loss is within 2% of the minimum.
    4. **at the SGD noise floor**: a mini-batch run whose gap is at most 3× the noise floor
       its rate and batch size predict (``noise_floor``): it jitters there and cannot settle.
    5. **oscillating**: with momentum, or above the bound, the loss rose by 10% of its gap or
       more over the run's second half: the path swings across the valley.
    6. **still moving**: the gap is larger than noise explains, and the loss keeps falling.
    """
    if e.diverged_at is not None:
        return (
            f"diverged at update {e.diverged_at:,}",
            f"The loss passed {e.threshold:.3g}, {DIVERGENCE_FACTOR:,.0f} times the larger of its "
            "start and 1, so training stopped.",
        )
    gap = e.gap
    # The sentences give the loss gap where the run ends: the number the stage's cards show.
    ends = gap_text(float(e.loss[-1]), e.min_loss)
    if e.bound is not None and e.rate > e.bound:
        return "oscillating", (
            f"Rate {e.rate:.3g} is above the stability bound {e.bound:.3g}: every swing "
            "across the valley is larger than the last."
        )
    if gap <= e.tolerance:
        relative = e.tolerance == SETTLED * abs(e.min_loss)
        within = f"{SETTLED:.0%}" if relative else f"{e.tolerance:.2g}"
        return "converged", (
            f"Over the run's last tenth the loss stays within {within} of {e.target} "
            f"({number(e.min_loss)})."
        )
    if 0 < e.floor < math.inf and gap <= FLOOR_FACTOR * e.floor:
        lower = (
            "Decay keeps lowering it." if e.decayed else "A smaller rate or larger batch lowers it."
        )
        return "at the SGD noise floor", (
            f"It ends {ends} above {e.target}, batch {e.batch_size}'s noise floor at rate "
            f"{e.rate:.3g}. {lower}"
        )
    if (e.momentum > 0 or e.bound is None) and e.rises >= SWING * gap:
        return "oscillating", (
            f"The loss still rises and falls, ending {ends} above {e.target}: the path swings "
            "across the valley."
        )
    falling = "still falling" if e.fall > 0 else "not settled"
    closer = (
        "more epochs would get closer; a larger rate would overshoot"
        if e.bound is not None and e.rate > e.bound / 2
        else "more epochs, a larger rate or momentum would get closer"
    )
    return "still moving", f"The loss ends {ends} above {e.target}, {falling}: {closer}."


def divergence_advice(settings: Settings, data: gd.Dataset, run: gd.Run) -> str:
    """Why the run blew up, and a learning rate to try instead."""
    s = settings
    if not s.spec.closed_form:
        safer = _preset_rate_below(s.learning_rate / 10)
        return (
            f"Each step overshot by more than the last, until the loss exploded at update "
            f"{run.diverged_at}. Try a learning rate of {safer:g} or lower."
        )
    curvature = lambda_max(data.x[: run.n_train], data.y[: run.n_train])
    bound = heavy_ball_bound(curvature, s.momentum)
    safer = _preset_rate_below(0.5 * bound)
    momentum_note = (
        f" With momentum μ = {s.momentum:g} the bound is 1 + μ = {1 + s.momentum:g} times "
        "the bound without momentum."
        if s.momentum
        else ""
    )
    batch_note = (
        f" Mini-batches are noisier than the {glossary.first('full batch')}, so they can "
        "blow up a little below this bound."
        if run.batch_size < run.n_train
        else ""
    )
    return (
        f"Gradient descent on this loss is stable only while the learning rate stays below "
        f"{bound:.3g} (from λmax = {curvature:.3g}, {glossary.explain('λmax')}); "
        f"{s.learning_rate:g} is above it, so every step "
        f"overshoots the valley floor by more than the last.{momentum_note}{batch_note} "
        f"Try a learning rate of {safer:g}."
    )


def _preset_rate_below(limit: float) -> float:
    below = [rate for rate in LEARNING_RATES if rate <= limit]
    return below[-1] if below else LEARNING_RATES[0]


def batch_rows(update: int, batch_size: int, n_train: int) -> int:
    """How many rows update ``update`` averages (1-based: update 1 is the first step; each
    epoch's last batch may be smaller).

    Example:
        >>> batch_rows(1, 32, 200), batch_rows(7, 32, 200), batch_rows(8, 32, 200)
        (32, 8, 32)
    """
    per_epoch = batches_per_epoch(n_train, batch_size)
    start, stop = batch_bounds((max(update, 1) - 1) % per_epoch, batch_size, n_train)
    return stop - start


def batches_told(run: gd.Run, update: int | None) -> str:
    """Which rows the update on screen averages, and how many updates average a smaller last
    batch: the words beside the update rule. ``update`` is the playback position (None: the
    whole run, whose last update is on screen); at update 0 the first update is meant.

    Example:
        >>> import gd
        >>> data = gd.datasets.linear(n=200, seed=0)
        >>> run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.05),
        ...              gd.Training(epochs=20), batch_size=32)
        >>> batches_told(run, 10)
        "Update 10 of 140 (batch 3 of epoch 2) averages 32 rows. Each epoch's last batch has 8 rows, so 20 of the 140 updates average 8 and the other 120 average 32."
    """  # noqa: E501
    total = run.updates
    u = total if update is None else min(max(update, 1), total)
    if u < 1:
        return "No update ran."
    per_epoch = run.updates_per_epoch
    rows = batch_rows(u, run.batch_size, run.n_train)
    slot, epoch = (u - 1) % per_epoch + 1, (u - 1) // per_epoch + 1
    return (
        f"Update {u:,} of {total:,} (batch {slot} of epoch {epoch}) averages "
        f"{plural(rows, 'row')}. {last_batches_told(run)}"
    )


def last_batches_told(run: gd.Run) -> str:
    """How many of the run's updates average a smaller last batch, or that none does."""
    total, per_epoch, size = run.updates, run.updates_per_epoch, run.batch_size
    last = batch_rows(per_epoch, size, run.n_train)
    if last == size:
        return f"Every update averages {plural(size, 'row')}: {run.n_train} rows split evenly."
    smaller = total // per_epoch
    return (
        f"Each epoch's last batch has {plural(last, 'row')}, so {smaller:,} of the "
        f"{plural(total, 'update')} average {last} and the other {total - smaller:,} average "
        f"{size}."
    )


def update_rule_latex(settings: Settings, batch_size: int) -> str:
    """The update this run applies, as LaTeX with the current numbers in it: ``batch_size``
    is how many rows the update on screen averages (``batch_rows``)."""
    s = settings
    rate = (
        rf"\eta_t = \frac{{{s.learning_rate:g}}}{{1 + {s.decay:g}\,t}}"
        if s.decay
        else rf"\eta_t = {s.learning_rate:g}"
    )
    gradient = (
        rf"g_t = \frac{{1}}{{{batch_size}}}\sum_{{i \in \text{{batch}}_t}} \nabla \ell_i(w_t)"
    )
    mu = f"{s.momentum:g}"
    if s.momentum == 0:
        step = r"w_{t+1} = w_t - \eta_t\, g_t"
    elif s.convention == "keras":
        velocity = rf"v_{{t+1}} = {mu}\, v_t - \eta_t\, g_t"
        move = (
            rf"w_{{t+1}} = w_t + {mu}\, v_{{t+1}} - \eta_t\, g_t"
            if s.nesterov
            else r"w_{t+1} = w_t + v_{t+1}"
        )
        step = rf"{velocity}, \quad {move}"
    else:
        buffer = rf"b_t = {mu}\, b_{{t-1}} + g_t \ (b_0 = g_0)"
        move = (
            rf"w_{{t+1}} = w_t - \eta_t\,(g_t + {mu}\, b_t)"
            if s.nesterov
            else r"w_{t+1} = w_t - \eta_t\, b_t"
        )
        step = rf"{buffer}, \quad {move}"
    return rf"{gradient}, \qquad {rate} \\[4pt] {step}"


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two parameter vectors (inf when either is not finite)."""
    with np.errstate(over="ignore", invalid="ignore"):
        gap = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return math.hypot(*gap) if np.all(np.isfinite(gap)) else math.inf  # hypot cannot overflow


def schedule_caption(settings: Settings, run: gd.Run) -> str:
    """The decay formula with this run's numbers, and the rate one epoch in."""
    schedule = gd.SGD(learning_rate=settings.learning_rate, decay=settings.decay)
    after = schedule.learning_rate_at(run.updates_per_epoch)  # the real formula, not a copy
    return (
        f"lr_t = {settings.learning_rate:g} / (1 + {settings.decay:g}·t): t counts updates, "
        f"not epochs, so one epoch in (t = {run.updates_per_epoch}) the rate is {after:.4g}."
    )
