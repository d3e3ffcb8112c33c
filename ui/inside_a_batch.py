"""Lesson "Inside one mini-batch" (``lessons/inside_a_batch.py``): cached computations and
widgets; its figures are in ``ui.inside_a_batch_charts``.

Every ``gd`` call goes through ``st.cache_data`` keyed on the frozen ``Settings``, the uploaded
CSV's bytes, the update or epoch looked at, and nothing else (the cached functions read only
their arguments, never the session), so coming back to an update already seen costs nothing.
The update scrubber and its pictures are a browser component, ``ui.inside_stage``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from gd import noise
from ui import cache
from ui.controls import Settings
from ui.inside_a_batch_charts import (
    NoiseCurve,
    inspectable_updates,
    merge_timings,
    noise_sizes,
    timing_sizes,
)
from ui.models import MODELS

DRAWS = 500  # random batches per batch size in the noise measurement
NOISE_SEED = 0


def inside(settings: Settings, update: int) -> noise.Inside:
    """Update ``update`` of this settings' run, taken apart (cheap: one batch's gradients)."""
    x, y = cache.training_rows(settings, cache.uploaded_csv(settings))
    return noise.inside_update(settings.spec.build(), cache.run_for(settings), x, y, update)


@st.cache_data(max_entries=64, show_spinner="Measuring gradient noise…")
def _noise(settings: Settings, csv: bytes | None, update: int) -> NoiseCurve:
    run = cache.run(settings, csv)
    model = settings.spec.build()
    x, y = cache.training_rows(settings, csv)
    params = run.params[update]
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
    """Gradient noise against batch size at the parameters before ``update``."""
    return _noise(settings, cache.uploaded_csv(settings), update)


@st.cache_data(max_entries=32, show_spinner="Timing one epoch at several batch sizes…")
def _timed(model_name: str, n: int, sizes: tuple[int, ...]) -> noise.EpochTiming:
    """One epoch of ``n`` rows timed at each size; the rows are the first ``n`` of a synthetic
    set of at least 2 (a data set needs two rows, an epoch only one: ``n`` may be 1)."""
    spec = MODELS[model_name]
    data = spec.generator(n=max(n, 2), seed=0)
    return noise.time_epochs(spec.build(), data.x[:n], data.y[:n], sizes)


def epoch_timing(settings: Settings) -> noise.EpochTiming:
    """Measured ms per epoch at the standard batch sizes and at the run's own (if different).

    Timing depends only on the model and the number of training rows, so the measurement is
    shared by every setting with the same two.
    """
    run = cache.run_for(settings)
    sizes = timing_sizes(run.n_train)
    timing = _timed(settings.model, run.n_train, sizes)
    if run.batch_size in sizes:
        return timing
    return merge_timings(timing, _timed(settings.model, run.n_train, (run.batch_size,)))


def last_update(settings: Settings) -> int:
    """The last update that can be taken apart (finite parameters before and after), or −1."""
    return inspectable_updates(cache.run_for(settings)) - 1
