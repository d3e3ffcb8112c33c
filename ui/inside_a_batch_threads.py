"""Lesson "Inside one mini-batch" (``lessons/inside_a_batch.py``), the section "What if
``batch_size`` were threads?": ``section(settings, csv)`` draws it; the figure, table and
sentence builders below it are pure (no Streamlit), so tests call them directly.

Two kinds of parallel training, next to what Keras does:

* **Synchronous data parallelism** (multi-GPU Keras, PyTorch DDP): K workers each take B/K rows
  of the batch, their gradients are averaged, and ONE update follows: the same update as one
  batch of B, to rounding (``gd.hogwild.data_parallel``).
* **What the question imagined**, lock-free threads that each write their own one-row update
  from weights other threads have since changed ("Hogwild!", Niu et al. 2011), simulated
  deterministically by ``gd.hogwild.fit_async``: batch size 1 with stale gradients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import gd
from gd.hogwild import DataParallel, data_parallel, fit_async
from gd.rules import powers_of_two_below
from ui import cache, charts, glossary
from ui.controls import HASH_FUNCS, Settings
from ui.models import MODELS
from ui.words import plural

WORKERS_KEY = "threads_workers"
ASYNC_KEY = "threads_async_workers"
MAX_ASYNC_UPDATES = 50_000  # one-row updates of the threads' run (a Python loop)
# Work (ui.budget units) of one such update: 45–70 µs of a core measured (linear to logistic,
# docs/budget.md), so the 50 000 take 2.3–3.5 s; counted as 1 800 units each (90 M in all).
LOOP_UPDATE_WORK = 1_800
# A model whose rows cost more than this (ui.models ModelSpec.cost) pays for its one-row
# update in proportion: the network's (cost 33) took 145 µs against logistic regression's 42
# (cost 6) and linear regression's 26, measured here at 200 rows, so 3.3 × 1 800 units.
LOOP_COST = 10


def worker_choices(batch_size: int) -> list[int]:
    """Powers of two up to the batch size, then the batch size itself.

    Example:
        >>> worker_choices(12)
        [1, 2, 4, 8, 12]
    """
    return sorted({*powers_of_two_below(batch_size), batch_size})


def async_epochs(n_train: int, epochs: int) -> int:
    """The session's epochs, fewer if one-row updates would exceed ``MAX_ASYNC_UPDATES``.

    Example:
        >>> async_epochs(200, 20), async_epochs(10_000, 20)
        (20, 5)
    """
    return max(1, min(epochs, MAX_ASYNC_UPDATES // n_train))


def work(n_train: int, epochs: int, model: str = "linear") -> int:
    """The work (``ui.budget`` units) of the threads' run, counted as if it never blew up (the
    threads slider's value decides when it does): its one-row updates, ``LOOP_UPDATE_WORK``
    each, more for a model whose rows cost more than ``LOOP_COST``.

    Example:
        >>> work(200, 20), work(10_000, 100)  # 4 000 and 50 000 one-row updates
        (7200000, 90000000)
        >>> work(200, 20, "network")  # 3.3 times as much
        23760000
    """
    each = LOOP_UPDATE_WORK * max(1.0, MODELS[model].cost / LOOP_COST)
    return round(async_epochs(n_train, epochs) * n_train * each)


@st.cache_data(max_entries=32, show_spinner="Running the threads…", hash_funcs=HASH_FUNCS)
def _stale_run(settings: Settings, csv: bytes | None, workers: int, epochs: int) -> gd.Run:
    x, y = cache.training_rows(settings, csv)
    return fit_async(
        settings.spec.build(),
        x,
        y,
        cache.optimizer_for(settings),
        gd.Training(epochs=epochs, seed=settings.seed, init=settings.start),
        workers=workers,
        staleness=workers - 1,
    )


def section(settings: Settings, csv: bytes | None) -> None:
    """Draw the section for the session's settings; ``csv`` is the upload (or None)."""
    run = cache.run(settings, csv)
    x, y = cache.training_rows(settings, csv)
    surface = cache.surface_for_data(settings, csv)
    batch = run.batch_size
    st.subheader("What if batch_size were threads?")

    st.markdown(
        "**1. Synchronous data parallelism: what multi-GPU Keras and PyTorch DDP do.** In "
        "PyTorch DDP the DataLoader's `batch_size` is per GPU, so one update averages K times "
        "that many rows; here the first batch is shared out among K workers instead.",
        help=glossary.help("DDP"),
    )
    choices = worker_choices(batch)
    if st.session_state.get(WORKERS_KEY) not in choices:
        st.session_state[WORKERS_KEY] = 4 if 4 in choices else choices[-1]
    workers = st.select_slider(
        "Workers (GPUs) sharing the first batch",
        choices,
        key=WORKERS_KEY,
        help="Each worker takes its share of the batch's rows and computes their mean gradient.",
    )
    with np.errstate(all="ignore"):
        parallel = data_parallel(
            settings.spec.build(), run.params[0], x, y, run.batch_rows(0), workers
        )
    left, right = st.columns([3, 2])
    left.dataframe(parallel_table(parallel, surface), hide_index=True)
    right.markdown(parallel_sentence(parallel, surface))

    st.markdown(
        "**2. What the question imagined: every thread writes its own update (Hogwild!).**",
        help=glossary.help("Hogwild!"),
    )
    options = worker_choices(min(max(batch, 2), run.n_train))
    if st.session_state.get(ASYNC_KEY) not in options:
        st.session_state[ASYNC_KEY] = min(batch, options[-1]) if batch in options else options[-1]
    threads = st.select_slider(
        "Threads, each writing its own one-row update",
        options,
        key=ASYNC_KEY,
        help="Each thread reads the weights, computes one row's gradient and adds its step; by "
        "then the other threads have written theirs, so it is threads − 1 updates stale.",
    )
    epochs = async_epochs(run.n_train, settings.epochs)
    stale = _stale_run(settings, csv, threads, epochs)
    whole = [_path(stale, surface.plane, threads), _path(run, surface.plane)]
    contours = cache.contours_following(settings, whole)  # wider when a path blows up
    paths = paths_in(contours, surface.plane, run, stale, threads)
    fig = paths_figure(contours, surface, paths)
    summary = paths_summary(paths, surface)
    st.plotly_chart(fig, key="chart_threads_paths", alt=charts.alt(fig, summary))
    here = " Here “this run” is the Keras run." if surface.slice_note else ""
    st.caption(f"{summary} {surface.slice_note}{here}".strip())
    st.markdown(hogwild_sentence(run, stale, threads))
    if epochs < settings.epochs:
        st.caption(
            f"The threads ran {epochs} of the {settings.epochs} epochs: one-row updates are "
            f"simulated one at a time, at most {MAX_ASYNC_UPDATES:,} of them."
        )


# ---- pure builders --------------------------------------------------------------------------


def gradient_columns(grad: np.ndarray, surface: cache.Surface) -> dict[str, float]:
    """A gradient as the table shows it: its two parameters' parts, or for the network's 49
    the parts along the slice's α and β (∂L/∂α = ∇L·u, the derivative along the slice's axis)
    and its length in every weight.

    Example:
        >>> from types import SimpleNamespace
        >>> gradient_columns(np.array([1.0, -2.0]), SimpleNamespace(plane=None, names=("w", "b")))
        {'∂L/∂w': 1.0, '∂L/∂b': -2.0}
    """
    if surface.plane is None:
        parts, extra = grad[:2], {}
    else:
        parts = surface.plane.axes @ grad  # (2,)
        extra = {f"‖∇L‖, all {grad.size}": float(np.linalg.norm(grad))}
    return {f"∂L/∂{name}": float(g) for name, g in zip(surface.names, parts, strict=True)} | extra


def parallel_table(parallel: DataParallel, surface: cache.Surface) -> pd.DataFrame:
    """One row per worker (its rows and its shard's mean gradient, ``gradient_columns``),
    then their weighted average and the one-batch gradient."""
    rows = [
        {"who": f"worker {k + 1}", "rows": shard.size} | gradient_columns(grad, surface)
        for k, (shard, grad) in enumerate(zip(parallel.shards, parallel.worker_grads, strict=True))
    ]
    size = sum(shard.size for shard in parallel.shards)
    for who, grad in (
        ("average, weighted by rows", parallel.combined),
        (f"one batch of {size}", parallel.single),
    ):
        rows.append({"who": who, "rows": size} | gradient_columns(grad, surface))
    return pd.DataFrame(rows)


def parallel_sentence(parallel: DataParallel, surface: cache.Surface) -> str:
    """The data-parallel gradient against the one-batch gradient, with the numbers; for the
    network, its parts along the slice and its length, and the difference over every weight."""
    workers = len(parallel.shards)
    size = sum(shard.size for shard in parallel.shards)
    sizes = sorted({shard.size for shard in parallel.shards})
    each = f"{sizes[0]} rows each" if len(sizes) == 1 else f"{sizes[0]}–{sizes[-1]} rows each"
    shown = list(gradient_columns(parallel.combined, surface).values())
    grad = ", ".join(f"{g:.6g}" for g in shown[:2])
    give = f"({grad}) for ({', '.join(surface.names)})"
    over = ""
    if surface.plane is not None:
        count = parallel.combined.size
        give = (
            f"a gradient of length {shown[2]:.6g} in all {count} weights, ({grad}) along the "
            f"slice's ({', '.join(surface.names)})"
        )
        over = f" over all {count} weights"
    return (
        f"{workers} workers, {each}, compute their own mean gradients; averaged (each weighted "
        f"by its rows) they give {give}, **the same update as one batch of {size}**: the "
        f"largest difference{over} is {parallel.max_difference:.1e}, floating-point rounding. "
        "Then ONE update is made, with the same learning rate. This is the sense in which a "
        "batch is parallel: the work inside one update is split, the update is not."
    )


def hogwild_sentence(batch: gd.Run, stale: gd.Run, threads: int) -> str:
    """The stale-gradient run against the real mini-batch run, with both runs' numbers."""
    late = threads - 1
    head = (
        "1 Hogwild thread, alone, so nothing it reads is stale,"
        if threads == 1
        else f"{threads} Hogwild threads, each gradient read {plural(late, 'update')} late,"
    )
    if stale.diverged_at is not None:
        outcome = (
            f"{head} made {stale.updates:,} one-row updates and then **blew up at update "
            f"{stale.diverged_at:,}**."
        )
    else:
        outcome = (
            f"{head} made {stale.updates:,} one-row updates in {stale.epochs} epochs and ended "
            f"at training loss **{stale.loss[-1]:.4g}**."
        )
    if batch.diverged_at is not None:
        real = f"The real mini-batch run blew up too, at update {batch.diverged_at:,}."
    else:
        real = (
            f"The real mini-batch run, {batch.updates:,} averaged updates of {batch.batch_size} "
            f"rows, ended at **{batch.loss[-1]:.4g}**."
        )
    return (
        f"{outcome} {real} Stale one-row steps are batch size 1 with delay: noisier, and "
        "unstable at learning rates the averaged batch takes in its stride. Keras never does "
        "this: `batch_size` rows give one averaged gradient and one update."
    )


def _path(
    run: gd.Run, plane: gd.plane.Plane | None, threads: int | None = None, window=None
) -> charts.Path:
    """The Hogwild run's path (``threads`` given) or the Keras run's, cut at ``window``, on
    the chart's plane (the network's slice: projected)."""
    if threads is None:
        label, colour = f"Keras: batch size {run.batch_size}", charts.BLUE
    else:
        label, colour = f"{threads} Hogwild threads (one-row, stale)", charts.ORANGE
    return charts.path_from_run(run, label, colour, window=window, plane=plane)


def paths_in(
    contours: cache.Contours,
    plane: gd.plane.Plane | None,
    batch: gd.Run,
    stale: gd.Run,
    threads: int,
):
    """Both paths in ``contours``' window (the surface's, widened to follow a blow-up's first
    swings: ``cache.contours_following``); a path that still leaves it stops at its edge
    (``charts.path_from_run``), so every point drawn lies inside the axes."""
    window = (
        (float(contours.axis0[0]), float(contours.axis0[-1])),
        (float(contours.axis1[0]), float(contours.axis1[-1])),
    )
    return [_path(stale, plane, threads, window), _path(batch, plane, window=window)]


def paths_figure(
    contours: cache.Contours, surface: cache.Surface, paths: list[charts.Path]
) -> go.Figure:
    """Both paths on the same loss contours at equal scales; a path stopped at the edge is
    marked there, its legend entry says the update it left at and the one it blew up at, and
    the subtitle says the window is a zoom (``charts.contour_figure``)."""
    title = "One-row threads vs one averaged update"  # short: whole on a 360-px phone
    fig = charts.contour_figure(
        contours.axis0,
        contours.axis1,
        contours.loss,
        surface.minimum,
        surface.names,
        paths,
        title,
        plane=surface.plane,
        titles=surface.axis_titles,
    )
    return charts.equal_scale(fig)


def _point(p) -> str:
    """A chart point: a coordinate that is 0 but for rounding (the Keras run's end lies on
    the slice's α axis) is said as 0.

    Example:
        >>> _point(np.array([1.77, -7.3e-17]))
        '(1.77, 0)'
    """
    finite = np.abs(p[:2])[np.isfinite(p[:2])]
    scale = float(finite.max()) if finite.size else 0.0
    shown = [0.0 if abs(v) <= 1e-12 * scale else v for v in p[:2]]
    return f"({shown[0]:.3g}, {shown[1]:.3g})"


def paths_summary(paths: list[charts.Path], surface: cache.Surface) -> str:
    """The paths chart in one sentence with its numbers: where the paths start, and where
    each ends or leaves the window.

    Example:
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> p = np.array([[0.0, 1.0], [0.5, 0.5]])
        >>> keras = charts.Path("Keras: batch size 32", p, np.arange(2), np.arange(2.0),
        ...                     np.ones(2), p[:0], charts.BLUE)
        >>> left = charts.Path("4 Hogwild threads", p, np.array([0, 9]), np.arange(2.0),
        ...                    np.ones(2), p[:0], charts.ORANGE, left_at=9, blew_up_at=12)
        >>> surface = SimpleNamespace(minimum=np.array([0.5, 0.4]), names=("w", "b"), plane=None)
        >>> print(paths_summary([left, keras], surface))  # doctest: +NORMALIZE_WHITESPACE
        From (w, b) = (0, 1): 4 Hogwild threads leaves the window at update 9 (blew up at
        update 12), at (0.5, 0.5) on its edge; Keras: batch size 32 ends at (0.5, 0.5) after
        update 1; the minimum is at (0.5, 0.4).
    """
    parts = []
    for path in paths:
        end = path.params[-1]
        if path.left_at is None:
            parts.append(f"{path.label} ends at {_point(end)} after update {path.update[-1]:,}")
        else:
            parts.append(f"{path.label} {charts.leaves_words(path)}, at {_point(end)} on its edge")
    names = surface.names
    return (
        f"From ({names[0]}, {names[1]}) = {_point(paths[0].params[0])}: {'; '.join(parts)}; "
        f"{charts.target_words(surface.plane)[0]} is at {_point(surface.minimum)}."
    )
