"""Lesson "From Keras to here" (``lessons/keras_to_here.py``): the seven places where Keras,
legacy Keras and PyTorch numbers part ways, drawn from a run (the scripts: ``ui.codegen``).

Each builder is pure (records in, a ``Gotcha`` out: a Plotly figure and a caption filled in
with the run's own numbers), so tests call them without Streamlit. Only ``convention_runs``
touches the cache. Sources: ``docs/semantics.md``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import gd
from gd.fit import row_orders
from gd.rules import batch_bounds, batches_per_epoch, validation_split_at
from ui import cache, charts
from ui.cache import Surface
from ui.controls import HASH_FUNCS, Settings
from ui.explain import updates_arithmetic

# What a moot gotcha draws instead (see ``Gotcha.example``): one value per knob, from the sliders.
EXAMPLE_DECAY = 0.1
EXAMPLE_MOMENTUM = 0.8
EXAMPLE_SPLIT = 0.2
EXAMPLE_BATCH_SIZES = (32, 10, 7, 3, 2)  # the first that leaves a smaller last batch


@dataclass(frozen=True)
class Gotcha:
    """One lesson's chart and the sentence under it, with the run's numbers.

    ``example`` is set when the sidebar's settings make the gotcha moot (decay = 0, no split, …):
    the chart then draws these illustrative settings, the caption says so, and the page links
    them to the Playground.
    """

    figure: go.Figure
    caption: str
    example: Settings | None = None


def _illustration(why: str, example: Settings, knobs: tuple[str, ...]) -> str:
    """The caption's opening when a gotcha draws ``example`` instead of the sidebar's settings.

    Example:
        >>> print(_illustration("decay is 0", Settings(decay=0.1), ("decay",)))
        ... # doctest: +NORMALIZE_WHITESPACE
        **Illustration:** your decay is 0, so this gotcha would show nothing; the chart uses
        decay = 0.1 (the rest as in the sidebar).
    """
    changed = " and ".join(f"{knob} = {getattr(example, knob):g}" for knob in knobs)
    return (
        f"**Illustration:** your {why}, so this gotcha would show nothing; the chart uses "
        f"{changed} (the rest as in the sidebar). "
    )


def start_words(settings: Settings) -> str:
    """Where every script starts, for the page's "each script ... starts at the same …".

    Example:
        >>> start_words(Settings(w0=-1.0, b0=2.0))
        '(w, b) = (-1, 2)'
        >>> print(start_words(Settings(model="network", init_seed=3)))
        ... # doctest: +NORMALIZE_WHITESPACE
        49 weights (Keras's default start, Glorot-uniform kernels and zero biases, drawn from
        seed 3; each script writes them out)
    """
    names = settings.spec.parameters
    if settings.spec.seeded_start:
        return (
            f"{len(names)} weights (Keras's default start, Glorot-uniform kernels and zero "
            f"biases, drawn from seed {settings.init_seed}; each script writes them out)"
        )
    return f"({names[0]}, {names[1]}) = ({settings.w0:g}, {settings.b0:g})"


def parameter_words(names: tuple[str, ...]) -> str:
    """The parameters, as a list in a sentence: all of two, or the count and the first and last.

    Example:
        >>> parameter_words(("w", "b"))
        'w and b'
        >>> parameter_words(("W1[0,0]", "W1[0,1]", "b1[0]", "b1[1]", "W2[0]", "W2[1]", "b2"))
        'the 7 weights (W1[0,0] … b2)'
    """
    if len(names) == 2:
        return " and ".join(names)
    return f"the {len(names)} weights ({names[0]} … {names[-1]})"


def decay_example(settings: Settings) -> Settings | None:
    """Settings with a decay to draw, when the sidebar's decay = 0 flattens both decay gotchas."""
    return dataclasses.replace(settings, decay=EXAMPLE_DECAY) if settings.decay == 0 else None


def conventions_example(settings: Settings) -> Settings | None:
    """Settings where Keras's and PyTorch's momentum part (a decaying rate and momentum), when
    the sidebar's make them take identical steps; only the zero knobs change."""
    if settings.decay > 0 and settings.momentum > 0:
        return None
    return dataclasses.replace(
        settings,
        decay=settings.decay or EXAMPLE_DECAY,
        momentum=settings.momentum or EXAMPLE_MOMENTUM,
    )


def split_example(settings: Settings, n: int) -> Settings | None:
    """Settings with a validation split, when the sidebar has none and ``n`` rows can split."""
    if settings.validation_split > 0 or not 0 < validation_split_at(n, EXAMPLE_SPLIT) < n:
        return None
    return dataclasses.replace(settings, validation_split=EXAMPLE_SPLIT)


def uneven_example(settings: Settings, n_train: int) -> Settings | None:
    """Settings whose last batch is smaller, when ``batch_size`` divides the training rows."""
    if n_train % settings.batch_size:
        return None
    sizes = [b for b in EXAMPLE_BATCH_SIZES if b < n_train and n_train % b]
    return dataclasses.replace(settings, batch_size=sizes[0]) if sizes else None


@dataclass(frozen=True)
class ConventionRuns:
    """The current settings trained twice: Keras's momentum convention and PyTorch's."""

    keras: gd.Run
    pytorch: gd.Run


def convention_runs(settings: Settings) -> ConventionRuns:
    """Both conventions for these settings, from the shared run cache."""
    return ConventionRuns(
        keras=cache.run_for(dataclasses.replace(settings, convention="keras")),
        pytorch=cache.run_for(dataclasses.replace(settings, convention="pytorch")),
    )


def _epoch_starts(n_train: int, batch_size: int, epochs: int) -> np.ndarray:
    """Update index t at which each epoch begins: (epochs,) = 0, ⌈n/B⌉, 2⌈n/B⌉, …"""
    return batches_per_epoch(n_train, batch_size) * np.arange(epochs)


def decay_per_update(settings: Settings, run: gd.Run) -> Gotcha:
    """Gotcha 1: lr at each epoch's first update, for this batch size and half of it."""
    example = decay_example(settings)
    s = example or settings
    opt = gd.SGD(learning_rate=s.learning_rate, decay=s.decay)
    epochs = np.arange(1, s.epochs + 1)
    half = max(1, run.batch_size // 2)
    fig = go.Figure()
    lines = []
    styles = ((run.batch_size, charts.BLUE, "solid"), (half, charts.ORANGE, "dash"))
    for batch_size, color, dash in styles:
        starts = _epoch_starts(run.n_train, batch_size, s.epochs)
        rates = opt.learning_rate_at(starts)
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=rates,
                mode="lines+markers",
                name=f"batch_size={batch_size}",
                line={"color": color, "width": 2.5, "dash": dash},
                marker={"size": 5},
                customdata=starts,
                hovertemplate="epoch %{x} starts at update t = %{customdata}"
                "<br>lr %{y:.4g}<extra></extra>",
            )
        )
        lines.append(
            f"with batch_size={batch_size}, epoch {s.epochs} starts at update t = "
            f"{starts[-1]:,}, where lr = {rates[-1]:.4g}"
        )
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="learning rate at the epoch's first update", rangemode="tozero")
    charts.layout(fig, "Decay counts updates, not epochs")
    caption = (
        f"lr_t = {s.learning_rate:g} / (1 + {s.decay:g}·t), and t goes up by one per "
        f"batch: {'; '.join(lines)}. Half the batch size means about twice the updates "
        "per epoch, so the rate decays about twice as fast per epoch."
    )
    if example:
        caption = _illustration("decay is 0", example, ("decay",)) + caption
    return Gotcha(fig, caption, example)


def keras3_ignores_decay(settings: Settings, run: gd.Run) -> Gotcha:
    """Gotcha 2: the rate Keras 3 really uses given ``SGD(decay=...)`` vs the intended one."""
    example = decay_example(settings)
    s = example or settings
    planned = s.epochs * run.updates_per_epoch
    points = charts.thin(planned, run.updates_per_epoch)  # update indices t
    intended = gd.SGD(learning_rate=s.learning_rate, decay=s.decay).learning_rate_at(points)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=points,
            y=np.full(points.size, s.learning_rate),
            mode="lines",
            name=f"Keras 3, SGD(learning_rate={s.learning_rate:g}, decay={s.decay:g})",
            line={"color": charts.VERMILION, "width": 2.5},
            hovertemplate="update t = %{x}<br>lr %{y:.4g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=points,
            y=intended,
            mode="lines",
            name="intended: legacy decay, or InverseTimeDecay(decay_steps=1)",
            line={"color": charts.BLUE, "width": 2.5, "dash": "dash"},
            hovertemplate="update t = %{x}<br>lr %{y:.4g}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="update t")
    fig.update_yaxes(title_text="learning rate", rangemode="tozero")
    charts.layout(fig, "What Keras 3 does with decay=…")
    last = intended[-1]
    caption = (
        f"Keras 3 prints only a warning ('Argument `decay` is no longer supported and will "
        f"be ignored.') and trains at {s.learning_rate:g} throughout. The legacy rate would "
        f"have fallen to {last:.4g} by the last update (t = {points[-1]:,}), "
        f"{s.learning_rate / last:.3g}× lower. tf.keras 2.11–2.15 raises a ValueError instead."
    )
    if example:
        caption = _illustration("decay is 0", example, ("decay",)) + caption
    return Gotcha(fig, caption, example)


def keras3_rejects_lr(settings: Settings, run: gd.Run) -> Gotcha:
    """Gotcha 7: the question's spelling ``SGD(lr=…, decay=…)`` in each Keras generation, with
    this run's rate: accepted, dropped, or (Keras 3) a ``ValueError`` before any training.

    Sources: ``docs/semantics.md`` §8 (``keras/src/optimizers/base_optimizer.py`` in Keras 3,
    ``_process_kwargs`` in tf.keras 2.11–2.15, ``keras/optimizers.py`` before).
    """
    s = settings
    rate = repr(float(s.learning_rate))
    planned = s.epochs * run.updates_per_epoch
    last = gd.SGD(learning_rate=s.learning_rate, decay=s.decay).learning_rate_at(planned - 1)
    legacy = (
        f"{s.learning_rate:g} / (1 + {s.decay:g}·t): {last:.4g} at the last update "
        f"(t = {planned - 1:,})"
        if s.decay > 0
        else f"{s.learning_rate:g} throughout (decay = 0)"
    )
    error = f"ValueError: Argument(s) not recognized: {{'lr': {rate}}}"
    rows = [
        ("Keras 1.x – 2.2", "lr is the argument's own name", legacy),
        (
            "Keras 2.3, tf.keras 2.0 – 2.10",
            "accepted; tf.keras warns that lr is deprecated",
            legacy,
        ),
        (
            "tf.keras 2.11 – 2.15",
            "decay= (even 0.0) raises a ValueError; lr= alone is dropped with a logged warning",
            "none with decay=; the default 0.01 with lr= alone",
        ),
        ("Keras 3", error, "none: it stops at this line"),
    ]
    fig = go.Figure(
        go.Table(
            columnwidth=[1.1, 2.3, 2.1],
            header={
                "values": [
                    "Keras",
                    f"SGD(lr={rate}, decay={float(s.decay)!r}, …)",
                    "rate it trains at",
                ],
                "align": "left",
                "font": {"size": 13},
            },
            cells={
                "values": [list(column) for column in zip(*rows, strict=True)],
                "align": "left",
                "font": {"size": 13},
                "height": 30,
            },
        )
    )
    charts.layout(fig, "The question's SGD(lr=…) in each Keras", legend=False)
    fig.update_layout(height=320, margin={"t": 45, "b": 10})  # a table: no axes below it
    advice = (
        f"`keras.optimizers.SGD(learning_rate={rate}, momentum={float(s.momentum)!r}, "
        f"nesterov={s.nesterov})`"
    )
    if s.decay > 0:
        advice += (
            f", with `learning_rate=InverseTimeDecay({rate}, decay_steps=1, "
            f"decay_rate={float(s.decay)!r})` for the decay"
        )
    caption = (
        "The question writes `SGD(lr, decay, momentum, nesterov)`. With this run's settings, "
        f"Keras 3 stops at that line, before any training: `SGD(lr={rate})` raises `{error}`. "
        f"Write {advice}. The legacy script above marks its `lr=` line."
    )
    return Gotcha(fig, caption)


def _full_loss_at_epoch_ends(run: gd.Run) -> np.ndarray:
    """(E,) full training loss at each completed epoch's end (always among ``loss_steps``)."""
    return run.loss[np.searchsorted(run.loss_steps, run.epoch_ends)]


def epoch_loss_is_running_mean(run: gd.Run) -> Gotcha:
    """Gotcha 3: Keras's reported epoch loss vs the loss of the end-of-epoch weights."""
    epochs = np.arange(1, run.epoch_loss.size + 1)
    at_end = _full_loss_at_epoch_ends(run)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=run.epoch_loss,
            mode="lines+markers",
            name="history.history['loss']: running mean over the epoch",
            line={"color": charts.VERMILION, "width": 2, "dash": "dot"},
            marker={"size": 6},
            hovertemplate="epoch %{x}<br>reported loss %{y:.6g}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=at_end,
            mode="lines+markers",
            name="full training loss at the epoch's end weights",
            line={"color": charts.BLUE, "width": 2.5},
            marker={"size": 6},
            hovertemplate="epoch %{x}<br>end-of-epoch loss %{y:.6g}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="epoch")
    values = np.concatenate([run.epoch_loss, at_end])
    if values.size and np.all(np.isfinite(values) & (values > 0)):
        charts.log_scale(fig)
    fig.update_yaxes(title_text="loss")
    charts.layout(fig, "The reported loss is not the end-of-epoch loss")
    if run.epoch_loss.size == 0:
        caption = "The run blew up before its first epoch ended, so Keras would report no loss."
    else:
        caption = (
            f"Epoch 1: Keras reports loss {run.epoch_loss[0]:.6g}, the batch-size-weighted mean "
            f"of its {run.updates_per_epoch} batch losses, each taken before that batch's "
            f"update; the weights at the end of epoch 1 have training loss {at_end[0]:.6g}. "
            f"In the last epoch: {run.epoch_loss[-1]:.6g} reported, {at_end[-1]:.6g} at the end."
        )
    return Gotcha(fig, caption)


def last_batch_smaller(settings: Settings, run: gd.Run) -> Gotcha:
    """Gotcha 4: the batch sizes within one epoch; the last one holds the remainder."""
    n_train = run.n_train
    example = uneven_example(settings, n_train)
    batch_size = (example or settings).batch_size
    updates = batches_per_epoch(n_train, batch_size)
    slots = np.arange(updates)
    sizes = np.minimum(batch_size, n_train - batch_size * slots)  # (updates,) rows
    colors = np.where(sizes < batch_size, charts.VERMILION, charts.SKY)
    fig = go.Figure(
        go.Bar(
            x=slots + 1,
            y=sizes,
            marker={"color": colors.tolist()},
            name="rows in the batch",
            hovertemplate="batch %{x} of the epoch<br>%{y} rows<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="batch within an epoch (one update each)")
    fig.update_yaxes(title_text="rows in the batch", rangemode="tozero")
    charts.layout(fig, "Batch sizes in every epoch", legend=False)
    last = int(sizes[-1])
    arithmetic = updates_arithmetic(n_train, batch_size)
    if last == batch_size:
        caption = (
            f"{arithmetic}: {n_train} is a multiple of {batch_size}, so "
            f"all {updates} batches have {batch_size} rows."
        )
    else:
        caption = (
            f"{arithmetic}: {updates - 1} batches of {batch_size} rows, then one of "
            f"{n_train} − {updates - 1}·{batch_size} = {last}. It is kept, not dropped: it is "
            "a full update that advances t (and the decay) by one, with a gradient averaged "
            f"over only {last} rows, so it is noisier."
        )
    if example:
        why = f"batch_size = {settings.batch_size} divides the {n_train} training rows"
        caption = _illustration(why, example, ("batch_size",)) + caption
    return Gotcha(fig, caption, example)


def validation_rows(settings: Settings, run: gd.Run) -> Gotcha:
    """Gotcha 5: which row indices train and which validate, and epoch 1's first batch."""
    n = run.n_train + run.n_val
    example = split_example(settings, n)
    s = example or settings
    n_train = validation_split_at(n, s.validation_split)
    first = row_orders(n_train, 1, s.shuffle, s.seed)[0]
    batch = first[slice(*batch_bounds(0, s.batch_size, n_train))]
    strip = "rows in file order"
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=[strip],
            x=[n_train],
            base=0,
            orientation="h",
            marker={"color": charts.SKY},
            name=f"training rows 0–{n_train - 1}",
            hovertemplate=f"training rows 0–{n_train - 1}<extra></extra>",
        )
    )
    if n_train < n:
        fig.add_trace(
            go.Bar(
                y=[strip],
                x=[n - n_train],
                base=n_train,
                orientation="h",
                marker={"color": charts.ORANGE},
                name=f"validation rows {n_train}–{n - 1} (the last ones)",
                hovertemplate=f"validation rows {n_train}–{n - 1}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=batch,
            y=np.full(batch.size, "epoch 1, batch 1"),
            mode="markers",
            marker={"color": charts.VERMILION, "size": 8, "symbol": "line-ns-open"},
            name="rows in epoch 1's first batch",
            hovertemplate="row %{x}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="row index in x, y", range=[0, n])
    charts.layout(fig, "validation_split takes the last rows, before shuffling")
    fig.update_layout(height=260)
    split = s.validation_split
    if n_train == n:
        caption = (
            f"validation_split = {split:g}: all {n} rows train and history has no 'val_loss'. "
            "With a split, Keras keeps the first floor(n·(1 − split)) rows for training."
        )
    else:
        caption = (
            f"validation_split = {split:g} on {n} rows: floor({n}·(1 − {split:g})) = "
            f"{n_train} training rows (0–{n_train - 1}) and the last {n - n_train} "
            f"(rows {n_train}–{n - 1}) for validation, cut before any shuffling. Shuffling "
            "only reorders the training rows; the first batch never contains a validation row. "
            "If your file is sorted (by date, by class), the validation set is its tail."
        )
    if example:
        caption = _illustration("validation_split is 0", example, ("validation_split",)) + caption
    return Gotcha(fig, caption, example)


def convention_paths(runs: ConventionRuns) -> list[charts.Path]:
    """The two runs' paths as the momentum gotcha draws them (PyTorch's dashed, on top)."""
    return [
        charts.path_from_run(runs.keras, "Keras / TensorFlow", charts.BLUE),
        charts.path_from_run(runs.pytorch, "PyTorch", charts.VERMILION, dash="dash"),
    ]


def conventions_contours(
    runs: ConventionRuns, window: cache.Contours, surface: Surface
) -> go.Figure:
    """Keras's and PyTorch's momentum on the same contours, over ``window``
    (``cache.contours_following`` of ``convention_paths``: wider when a path blows up)."""
    return charts.contour_figure(
        window.axis0,
        window.axis1,
        window.loss,
        surface.minimum,
        surface.names,
        convention_paths(runs),
        title="Keras vs PyTorch momentum, same settings",
        plane=surface.plane,
        titles=surface.axis_titles,
    )


def conventions_losses(runs: ConventionRuns) -> go.Figure:
    """The two runs' full training loss against the update: the network's 49 weights have no
    plane of their own to draw both paths on."""
    fig = go.Figure()
    for run, name, color, dash in (
        (runs.keras, "Keras / TensorFlow", charts.BLUE, "solid"),
        (runs.pytorch, "PyTorch", charts.VERMILION, "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=run.loss_steps,
                y=run.loss,
                mode="lines",
                name=name,
                line={"color": color, "width": 2.5, "dash": dash},
                hovertemplate="update %{x}<br>training loss %{y:.6g}<extra></extra>",
            )
        )
    values = np.concatenate([runs.keras.loss, runs.pytorch.loss])
    if np.all(np.isfinite(values) & (values > 0)):
        charts.log_scale(fig)
    fig.update_xaxes(title_text="update")
    fig.update_yaxes(title_text="training loss")
    return charts.layout(fig, "Keras vs PyTorch momentum, same settings")


def final_gap(runs: ConventionRuns) -> float:
    """The largest difference between the two conventions' final parameters."""
    return float(np.max(np.abs(runs.keras.params[-1] - runs.pytorch.params[-1])))


def momentum_conventions(
    runs: ConventionRuns, figure: go.Figure, settings: Settings, example: Settings | None
) -> Gotcha:
    """Gotcha 6: Keras's and PyTorch's momentum, drawn by ``figure``: ``conventions_contours``
    for a model of two parameters, ``conventions_losses`` for the network.

    ``runs`` are of ``example`` (``conventions_example(settings)``, which the page trains when
    the work budget allows), else of ``settings``.
    """
    s = example or settings
    names = settings.spec.parameters
    keras_end, torch_end = runs.keras.params[-1], runs.pytorch.params[-1]
    if len(names) == 2:
        drawn, coincide = "", "the paths coincide"
        ends = (
            f"Keras ends at ({names[0]}, {names[1]}) = ({keras_end[0]:.5g}, {keras_end[1]:.5g}), "
            f"PyTorch at ({torch_end[0]:.5g}, {torch_end[1]:.5g})."
        )
    else:
        drawn = (
            f"The network's {len(names)} weights have no plane of their own to draw the two "
            "paths on, so the chart shows each run's training loss. "
        )
        coincide = "the two losses coincide"
        ends = f"Their final weights differ by up to {final_gap(runs):.3g}."
    zero = [knob for knob in ("decay", "momentum") if getattr(settings, knob) == 0]
    why = " and ".join(zero) + (" are 0" if len(zero) > 1 else " is 0")
    if s.decay == 0 or s.momentum == 0:  # moot, and no illustration within the work budget
        return Gotcha(
            figure,
            f"{drawn}Here {why}, so the two conventions take identical steps and {coincide}. "
            f"{ends} Set decay > 0 and momentum > 0 to see them part (at these settings an "
            "illustration would be too much work for one request).",
        )
    caption = (
        f"{drawn}With momentum {s.momentum:g} and a decaying rate, Keras keeps each step's own "
        "rate inside its velocity, while PyTorch multiplies its whole buffer by the current "
        f"(smaller) rate, so Keras steps further. {ends}"
    )
    if example:
        why += " (the two conventions then take identical steps)"
        caption = _illustration(why, example, tuple(zero)) + caption
    return Gotcha(figure, caption, example)


CSV_ROWS = 100_000  # most updates in the download for two parameters; more are thinned evenly
# Most numbers written (about 10 MB): a row holds its rate, its two losses and the parameters, so
# the network's 49 leave room for 9 615 rows.
CSV_VALUES = 5 * CSV_ROWS


def csv_updates(run: gd.Run) -> np.ndarray:
    """The 1-based updates the download lists: every one up to ``CSV_ROWS`` (fewer for more
    parameters: ``CSV_VALUES``), else an even thinning that keeps each epoch's last update and
    the run's last.

    Example:
        >>> import gd
        >>> data = gd.datasets.linear(n=20, seed=0)
        >>> run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(0.1),
        ...              gd.Training(epochs=2), batch_size=5)
        >>> csv_updates(run).tolist()
        [1, 2, 3, 4, 5, 6, 7, 8]
    """
    most = CSV_VALUES // (3 + run.params.shape[1])  # rows at most
    kept = charts.thin(run.updates + 1, run.updates_per_epoch, max_points=most)
    return kept[kept > 0]


def run_csv(run: gd.Run, names: tuple[str, ...]) -> bytes:
    """One CSV row per update in ``csv_updates``: what the optimizer saw and did, in exact
    ``repr`` digits. Vectorised: 100 000 rows in well under a second.

    Columns: ``update`` (1-based), ``epoch`` (1-based), ``batch_size`` (rows in that batch;
    the last of an epoch may be smaller), ``learning_rate``, ``batch_loss`` (at the weights
    before it), the parameters after it (a column each, named by ``names``), and ``full_loss``
    (the training loss after it; empty where it was not recorded).
    """
    updates = csv_updates(run)  # (R,) 1-based
    slot = (updates - 1) % run.updates_per_epoch  # (R,)
    rows = np.minimum(run.batch_size, run.n_train - slot * run.batch_size)  # (R,)
    recorded = np.searchsorted(run.loss_steps, updates)  # (R,) index into run.loss, if there
    recorded = np.minimum(recorded, run.loss_steps.size - 1)
    found = run.loss_steps[recorded] == updates
    full = np.where(found, run.loss[recorded], np.nan)
    table = pd.DataFrame(
        {
            "update": updates,
            "epoch": (updates - 1) // run.updates_per_epoch + 1,
            "batch_size": rows,
            "learning_rate": run.learning_rate[updates - 1],
            "batch_loss": run.batch_loss[updates - 1],
            **{name: run.params[updates, i] for i, name in enumerate(names)},
            "full_loss": np.where(np.isfinite(full), full, np.nan),
        }
    )
    return table.to_csv(index=False, lineterminator="\n").encode()


@st.cache_data(max_entries=4, show_spinner=False, hash_funcs=HASH_FUNCS)  # ≤ 4 × ~10 MB
def _csv(settings: Settings, csv: bytes | None, names: tuple[str, ...]) -> bytes:
    return run_csv(cache.run(settings, csv), names)


def csv_download(settings: Settings, csv: bytes | None, names: tuple[str, ...]):
    """The download's contents, built only when the learner clicks (``st.download_button``
    calls it), from a small cache: a rerun of the page builds nothing."""
    return lambda: _csv(settings, csv, names)


def history_table(run: gd.Run) -> dict[str, np.ndarray]:
    """What ``history.history`` holds, one row per completed epoch."""
    table = {"epoch": np.arange(1, run.epoch_loss.size + 1), "loss": run.epoch_loss}
    if run.val_loss is not None:
        table["val_loss"] = run.val_loss
    return table


def takeaway(settings: Settings, run: gd.Run, runs: ConventionRuns) -> str:
    """The closing paragraph, with this run's numbers."""
    s = settings
    opt = gd.SGD(learning_rate=s.learning_rate, decay=s.decay)
    planned = s.epochs * run.updates_per_epoch
    parts = [
        f"`batch_size={run.batch_size}` on {run.n_train} training rows is "
        f"{run.updates_per_epoch} updates per epoch, {run.updates:,} in all."
    ]
    if run.epoch_loss.size:
        final = _full_loss_at_epoch_ends(run)[-1]
        parts.append(
            f"Keras's last `history.history['loss']` would read {run.epoch_loss[-1]:.6g}, a "
            f"running mean; the final weights' training loss is {final:.6g}."
        )
    if s.decay > 0:
        parts.append(
            f"`decay={s.decay:g}` takes the rate from {s.learning_rate:g} to "
            f"{opt.learning_rate_at(planned - 1):.4g} at the last of the {planned:,} planned "
            "updates: Keras 3 needs "
            f"`InverseTimeDecay(decay_steps=1, decay_rate={s.decay:g})` for that, and PyTorch "
            "a `LambdaLR` stepped after every batch."
        )
        if s.momentum > 0:
            parts.append(
                f"With momentum {s.momentum:g}, PyTorch's final parameters differ from Keras's "
                f"by up to {final_gap(runs):.3g}, so copy the script of the library whose "
                "numbers you need."
            )
    else:
        parts.append(
            "With `decay=0` the rate is constant, and Keras 3, legacy Keras and PyTorch all "
            "take the same steps."
        )
    if not math.isfinite(float(run.loss[-1])) or run.diverged_at is not None:
        parts.append("This run diverged, so every library would report the blow-up too.")
    return " ".join(parts)
