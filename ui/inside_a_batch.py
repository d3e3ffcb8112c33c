"""Lesson "Inside one mini-batch" (``lessons/inside_a_batch.py``): cached computations and
widgets; its figures are in ``ui.inside_a_batch_charts``.

Every ``gd`` call goes through ``st.cache_data`` keyed on the frozen ``Settings``, the uploaded
CSV's bytes, the update or epoch looked at, and nothing else (the cached functions read only
their arguments, never the session), so coming back to an update already seen costs nothing.
The update scrubber and its pictures are a browser component, ``ui.inside_stage``.

Updates are numbered as the whole app counts them (``ui.words``): update u of U, update 0 the
start; update u takes ``run.params[u − 1]`` to ``run.params[u]``, and ``gd`` indexes it by
t = u − 1 (``noise.inside_update``). Every ``update`` argument here is u.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from gd import noise
from gd.rules import batches_per_epoch
from ui import budget, cache, inside_a_batch_threads, inside_stage, lesson
from ui.cache import WIDE_GRID
from ui.controls import HASH_FUNCS, Settings
from ui.cost import CostModel, cost_model
from ui.inside_a_batch_charts import NoiseCurve, inspectable_updates, noise_sizes, timing_sizes

DRAWS = 500  # random batches per batch size in the noise measurement
NOISE_SEED = 0


def work(settings: Settings) -> int:
    """The work (``ui.budget`` units) of one request of the page, counted before anything is
    computed: the run, its loss surface, the update pictures the scrubber loads, the gradient
    noise (σ², its theory and ``DRAWS`` random batches, a pass over the rows each), the
    threads' one-row run and the contours that follow a path off the surface.

    Example:
        >>> work(Settings()) < budget.BUDGET  # the defaults
        True
        >>> budget.fits(work(Settings(model="logistic", n=10_000)))
        False
    """
    s = settings
    n_train = s.n_train
    return (
        budget.run_work(s.model, n_train, s.batch_size, s.epochs)
        + cache.surface_work(s)
        + inside_stage.work(s)
        + budget.loss_work(s.model, n_train, DRAWS + 3)
        + inside_a_batch_threads.work(n_train, s.epochs, s.model)
        + cache.grid_work(s, WIDE_GRID)
    )


def offer(settings: Settings) -> lesson.Offer | None:
    """The nearest settings within the budget (``lesson.offer``)."""
    return lesson.offer(work, settings)


def inside(settings: Settings, update: int) -> noise.Inside:
    """Update ``update`` (u ≥ 1) of this settings' run, taken apart (cheap: one batch's
    gradients); its ``Inside.update`` is gd's index, u − 1."""
    x, y = cache.training_rows(settings, cache.uploaded_csv(settings))
    return noise.inside_update(settings.spec.build(), cache.run_for(settings), x, y, update - 1)


@st.cache_data(max_entries=64, show_spinner="Measuring gradient noise…", hash_funcs=HASH_FUNCS)
def _noise(settings: Settings, csv: bytes | None, update: int) -> NoiseCurve:
    run = cache.run(settings, csv)
    model = settings.spec.build()
    x, y = cache.training_rows(settings, csv)
    params = run.params[update - 1]  # before update u
    n = run.n_train
    dense = np.unique(np.geomspace(1, n, 80).astype(np.int64))
    sizes = noise_sizes(n, run.batch_size)
    with np.errstate(all="ignore"):  # near a blow-up the gradients may overflow: shown, not raised
        measured = (
            noise.minibatch_gradient_variance(model, params, x, y, sizes, DRAWS, NOISE_SEED)
            if sizes.size
            else np.zeros(0)
        )
        theory = noise.theory_variance(model, params, x, y, dense)
        sigma2 = noise.per_sample_variance(model, params, x, y)
        theory_at_batch = noise.theory_variance(model, params, x, y, [run.batch_size])
    at_batch = np.flatnonzero(sizes == run.batch_size)  # empty for a full-batch run
    return NoiseCurve(
        sizes=sizes,
        measured=measured,
        dense_sizes=dense[dense < n],
        theory=theory[dense < n],
        sigma2=sigma2,
        n=n,
        draws=DRAWS,
        batch_size=run.batch_size,
        measured_at_batch=float(measured[at_batch[0]]) if at_batch.size else 0.0,
        theory_at_batch=float(theory_at_batch[0]),
    )


def noise_curve(settings: Settings, update: int) -> NoiseCurve:
    """Gradient noise against batch size at the parameters before update ``update`` (u ≥ 1)."""
    return _noise(settings, cache.uploaded_csv(settings), update)


def epoch_timing(settings: Settings) -> tuple[noise.EpochTiming, CostModel]:
    """One epoch's time at the standard batch sizes and the run's own, from the one measured
    cost model every page uses (``ui.cost.cost_model``: measured once per model and
    process on small data, so nothing is timed per request)."""
    run = cache.run_for(settings)
    model = cost_model(settings.model)
    sizes = np.array(sorted({*timing_sizes(run.n_train), run.batch_size}))
    ms = np.array([model.ms_per_epoch(int(b), run.n_train) for b in sizes])
    return noise.EpochTiming(sizes, batches_per_epoch(run.n_train, sizes), ms / 1000), model


def last_update(settings: Settings) -> int:
    """The last update u that can be taken apart (finite parameters before and after it), or
    0 when none can: the run's first update already blew up."""
    return inspectable_updates(cache.run_for(settings))
