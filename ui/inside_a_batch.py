"""Lesson "Inside one mini-batch" (``lessons/inside_a_batch.py``): cached computations and
widgets; its figures are in ``ui.inside_a_batch_charts``.

Every ``gd`` call goes through ``st.cache_data`` keyed on the frozen ``Settings``, the uploaded
CSV's bytes, the update or epoch looked at, and nothing else (the cached functions read only
their arguments, never the session), so scrubbing back to an update already seen costs nothing.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from gd import noise
from ui import cache
from ui.controls import Settings
from ui.inside_a_batch_charts import (
    ZOOM_GRID,
    NoiseCurve,
    Zoom,
    epoch_step_radius,
    inspectable_updates,
    merge_timings,
    noise_sizes,
    timing_sizes,
)
from ui.models import MODELS

UPDATE_KEY = "update"  # the scrubber's widget key
DRAWS = 500  # random batches per batch size in the noise measurement
NOISE_SEED = 0


def inside(settings: Settings, update: int) -> noise.Inside:
    """Update ``update`` of this settings' run, taken apart (cheap: one batch's gradients)."""
    x, y = cache.training_rows(settings, cache.uploaded_csv(settings))
    return noise.inside_update(settings.spec.build(), cache.run_for(settings), x, y, update)


@st.cache_data(max_entries=64, show_spinner=False)
def _radius(settings: Settings, csv: bytes | None, epoch: int, last: int) -> float:
    x, y = cache.training_rows(settings, csv)
    return epoch_step_radius(settings.spec.build(), cache.run(settings, csv), x, y, epoch, last)


@st.cache_data(max_entries=256, show_spinner=False)
def _zoom(settings: Settings, csv: bytes | None, update: int, last: int) -> Zoom:
    run = cache.run(settings, csv)
    x, y = cache.training_rows(settings, csv)
    radius = _radius(settings, csv, update // run.updates_per_epoch, last)
    centre = run.params[update, :2]
    axis0 = np.linspace(centre[0] - radius, centre[0] + radius, ZOOM_GRID)
    axis1 = np.linspace(centre[1] - radius, centre[1] + radius, ZOOM_GRID)
    with np.errstate(all="ignore"):
        loss = settings.spec.build().loss_grid(x, y, axis0, axis1, base=run.params[update])
    return Zoom(axis0, axis1, loss)


def zoom(settings: Settings, update: int, last: int) -> Zoom:
    """Loss contours in a window centred on the parameters before ``update``, sized for its
    epoch (see ``epoch_step_radius``)."""
    return _zoom(settings, cache.uploaded_csv(settings), update, last)


def trail(settings: Settings, update: int) -> np.ndarray:
    """The parameters from the start of ``update``'s epoch up to just before it, (m, 2)."""
    run = cache.run_for(settings)
    first = update - update % run.updates_per_epoch
    return run.params[first : update + 1, :2]


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


def _shift(delta: int, last: int) -> None:
    st.session_state[UPDATE_KEY] = min(max(st.session_state[UPDATE_KEY] + delta, 0), last)


def scrubber(last: int) -> int:
    """◀ previous, a slider over updates 0..last, next ▶; returns the update chosen."""
    if st.session_state.get(UPDATE_KEY, 0) > last:  # a new run with fewer updates
        st.session_state[UPDATE_KEY] = last
    st.session_state.setdefault(UPDATE_KEY, 0)
    chosen = 0
    if last > 0:
        chosen = st.slider(
            "Update (optimizer step) to look inside",
            0,
            last,
            key=UPDATE_KEY,
            bind="query-params",
            help="Each update uses one mini-batch: its rows' gradients are averaged into one step.",
        )
    else:
        st.caption("This run has a single update to look at: update 0.")
    previous, following, _ = st.columns([1, 1, 6])
    previous.button(
        "◀ previous",
        key="update_previous",
        on_click=_shift,
        args=(-1, last),
        width="stretch",
        disabled=chosen <= 0,
    )
    following.button(
        "next ▶",
        key="update_next",
        on_click=_shift,
        args=(1, last),
        width="stretch",
        disabled=chosen >= last,
    )
    return chosen
