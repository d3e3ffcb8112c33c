"""Shared builders (every lesson): words and formulas for what the charts show, filled in with
the run's own numbers.

Pure functions of records (no Streamlit), so tests can check every sentence a learner reads.
"""

from __future__ import annotations

import math

import numpy as np

import gd
from gd import stability_bound
from ui.controls import LEARNING_RATES, Settings

CONVERGED_FRACTION = 0.01  # "converged": within 1% of the way from the start loss to the minimum


def updates_arithmetic(run: gd.Run) -> str:
    """Keras's steps per epoch, with the arithmetic shown: ``⌈160 / 32⌉ = 5``."""
    text = f"⌈{run.n_train} / {run.batch_size}⌉ = {run.updates_per_epoch}"
    last = run.batch_rows(run.updates_per_epoch - 1).size  # the first epoch's last batch
    if last != run.batch_size:
        text += f" (the last batch has {last} rows)"
    return text


def status(run: gd.Run, min_loss: float) -> tuple[str, str]:
    """("converged" | "still moving" | "diverged at update k", one sentence why)."""
    return verdict(run.loss[0], run.loss[-1], min_loss, run.diverged_at, run.divergence_threshold)


def family_status(family: gd.Family, r: int, min_loss: float) -> tuple[str, str]:
    """``status`` of run r of a family (the live stage's status for each knob position)."""
    end = family.lengths[r] - 1
    return verdict(
        family.loss[r, 0],
        family.loss[r, end],
        min_loss,
        family.diverged(r),
        family.divergence_threshold,
    )


def verdict(
    start: float, end: float, min_loss: float, diverged_at: int | None, threshold: float
) -> tuple[str, str]:
    """The status of a run from its start and final training loss: see ``status``."""
    if diverged_at is not None:
        return (
            f"diverged at update {diverged_at}",
            f"The loss passed {threshold:.3g} (a million times the starting "
            "loss) or overflowed, so training stopped there.",
        )
    gap = end - min_loss
    if gap <= CONVERGED_FRACTION * max(start - min_loss, 1e-12):
        return "converged", (
            f"The final training loss {end:.4g} is within 1% of the way from the start "
            f"({start:.4g}) to the minimum ({min_loss:.4g})."
        )
    return "still moving", (
        f"The final training loss {end:.4g} is still {gap:.3g} above the minimum "
        f"({min_loss:.4g}): more epochs, a larger rate or momentum would get closer."
    )


def divergence_advice(settings: Settings, data: gd.Dataset, run: gd.Run) -> str:
    """Why the run blew up, and a learning rate to try instead."""
    s = settings
    if not s.spec.closed_form:
        safer = _preset_rate_below(s.learning_rate / 10)
        return (
            f"Each step overshot by more than the last, until the loss exploded at update "
            f"{run.diverged_at}. Try a learning rate of {safer:g} or lower."
        )
    bound = stability_bound(data.x[: run.n_train], data.y[: run.n_train], s.momentum)
    safer = _preset_rate_below(0.5 * bound)
    momentum_note = (
        f" With momentum μ = {s.momentum:g} the bound is 2(1 + μ)/λmax instead of 2/λmax."
        if s.momentum
        else ""
    )
    batch_note = (
        " Mini-batches are noisier than the full batch, so they can blow up a little below "
        "this bound."
        if run.batch_size < run.n_train
        else ""
    )
    return (
        f"Gradient descent on this loss is stable only while the learning rate stays below "
        f"{bound:.3g} (from the steepest curvature of the loss, λmax = "
        f"{2 * (1 + s.momentum) / bound:.3g}); {s.learning_rate:g} is above it, so every step "
        f"overshoots the valley floor by more than the last.{momentum_note}{batch_note} "
        f"Try a learning rate of {safer:g}."
    )


def _preset_rate_below(limit: float) -> float:
    below = [rate for rate in LEARNING_RATES if rate <= limit]
    return below[-1] if below else LEARNING_RATES[0]


def update_rule_latex(settings: Settings, batch_size: int) -> str:
    """The update this run applies, as LaTeX with the current numbers in it."""
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
