"""Batch, mini-batch, stochastic: the same data, start and seed at three batch sizes."""

import streamlit as st

from ui import batch_sizes, cache, charts, glossary, lesson
from ui import batch_sizes_charts as figures
from ui.cost import cost_sentence

MINI_BATCH = "mini_batch_size"
SEEDS = "seeds"

st.title("Batch, mini-batch, stochastic")
st.markdown(
    "**Which is better: one sample per step, a mini-batch, or the whole data set?** Three runs "
    "on the same data, from the same start, with the same shuffling seed; only `batch_size` "
    f"differs: 1 (stochastic), a mini-batch, and the {glossary.first('full batch')}. Whether "
    "one wins depends on what you count."
)
settings = lesson.start(omit=("batch_size",))

st.sidebar.subheader("This page")
options = batch_sizes.mini_batch_sizes(settings.n_train)
mini_batch = None
if options:
    if st.session_state.get(MINI_BATCH) not in options:
        st.session_state[MINI_BATCH] = batch_sizes.default_mini_batch(options)
    mini_batch = st.sidebar.select_slider(
        "Mini-batch size",
        options,
        key=MINI_BATCH,
        bind="query-params",
        help="The middle run's batch_size: powers of two below the training rows.",
    )
else:
    st.sidebar.info(
        f"Too few training rows for a mini-batch between 1 and the {glossary.first('full batch')}."
    )
st.session_state.setdefault(SEEDS, batch_sizes.DEFAULT_SEEDS)
seeds = st.sidebar.number_input(
    "Seeds per batch size",
    min_value=1,
    max_value=batch_sizes.MAX_SEEDS,
    key=SEEDS,
    bind="query-params",
    help="Shuffling seeds seed, seed + 1, …: each batch size gets the same row orders.",
)

sizes = batch_sizes.batch_sizes(settings.n_train, mini_batch)
lesson.within_budget(
    batch_sizes.work(settings, mini_batch, seeds),
    f"{seeds} seeds at {len(sizes)} batch sizes, {settings.epochs} epochs each,",
    lambda: batch_sizes.offer(settings, mini_batch, seeds),
)
with lesson.explained_errors():
    result = batch_sizes.compare_for(settings, mini_batch, seeds)
    window = batch_sizes.contours_for(result)
surface = result.surface  # every contour chart's plane: the parameters, or the network's slice
target = charts.target_words(surface.plane)[0]

data = cache.data_for(settings)
for run in result.runs:
    lesson.explained_divergence(
        settings,
        data,
        run,
        f"{batch_sizes.label(run.batch_size, run.n_train)} diverged",
        "Its path and curve stop at the blow-up; the contour window widens to follow its "
        "first steps. The other runs are unaffected.",
    )

# Each contour chart gets the full width, at equal scales on both axes (the valley's true
# shape, as on the Playground); the two loss charts, which share their axes, sit side by side.
paths = batch_sizes.paths_in(result, window)  # each stops at the window's edge, if it leaves
contour = figures.contour_with_ends(surface, window, paths, result.bands)
summary = figures.contour_summary(paths, surface)
st.plotly_chart(contour, key="chart_contour", alt=charts.alt(contour, summary))
st.caption(summary)
st.caption(
    f"Lines: the three runs with shuffle seed {settings.seed}, one segment per update; small "
    f"open circles mark epoch ends. Dots: where each of the {seeds} seeds ended. Black ○: the "
    f"common start; ●: where each run ended; ✕: {target}. Both axes have the same scale."
)
if surface.slice_note:
    st.caption(
        f"{surface.slice_note} Here “this run” is the {result.plane_run} run with shuffle "
        f"seed {settings.seed}."
    )

st.subheader("The loss, one seed and over all seeds")
axis_box, log_box, raw_box = st.columns([4, 2, 2], vertical_alignment="bottom")
x_axis = axis_box.segmented_control(
    "X axis",
    list(figures.UNITS),
    default=figures.DEFAULT_UNIT,
    key="batch_x_axis",
    bind="query-params",
    format_func=lambda unit: unit.capitalize(),  # short: the four fit a phone's width
    help="Count passes over the data, optimizer steps, rows read, or compute time.",
)
unit = x_axis or figures.DEFAULT_UNIT
log_y = log_box.toggle("Log-scale loss", value=True, key="batch_log_y", bind="query-params")
raw = raw_box.toggle(
    "Every update's loss",
    value=False,
    key="batch_raw",
    bind="query-params",
    help="Noisy runs are drawn as a rolling median over about one epoch with its 10–90% band; "
    "this adds the loss after every single update.",
)
left, right = st.columns(2)
losses = figures.loss_curves_figure(result.curves, unit, log_y, raw)
summary = figures.curves_summary(result.curves)
left.plotly_chart(losses, key="chart_losses", alt=charts.alt(losses, summary))
left.caption(summary)
left.caption(
    f"The loss on all training rows after each update, for the seed-{settings.seed} runs "
    "drawn on the contours; for noisy runs, its rolling median over about one epoch and the "
    "band of its 10th to 90th percentile."
)
bands = figures.band_figure(result.bands, unit, log_y)
summary = figures.bands_summary(result.bands)
right.plotly_chart(bands, key="chart_bands", alt=charts.alt(bands, summary))
right.caption(summary)
right.caption(
    f"Line: the median full training loss over the {seeds} seeds at each point; shaded: from "
    "the 10th to the 90th percentile. A wide band means the result depends on the row order."
)
if unit in figures.LOG_UNITS:
    st.caption(figures.log_axis_note(result.curves, unit))

st.subheader(f"Where the {seeds} seeds ended")
ends = figures.contour_with_ends(surface, surface, [], result.bands, close_up=True)
close_up = figures.close_up_for(surface, result.bands)
summary = figures.ends_summary(result.bands, close_up)
st.plotly_chart(ends, key="chart_ends", alt=charts.alt(ends, summary))
st.caption(summary)
st.caption(
    f"{figures.close_up_caption(surface)} Every seed uses the same row orders at every batch "
    "size; only how they are cut into batches differs."
)
lost = batch_sizes.seeds_note(result)
if lost:
    st.info(lost)

st.subheader("Who gets there first?")
st.markdown(
    batch_sizes.winners_sentence(
        result.bands, result.target_loss, result.start_loss, surface.min_loss, target
    )
)
st.caption(cost_sentence(result.cost))

st.subheader("The runs side by side")
st.table(batch_sizes.table_view(result))  # HTML, one column per run: whole on a phone too
st.caption(
    "**ms / epoch**: one epoch's ⌈n/B⌉ updates and n rows by the cost model above. **Final "
    f"loss**: the loss on all training rows at the last parameters of the seed-{settings.seed} "
    "run (empty if it diverged). **Last-epoch spread**: the root-mean-square distance, in "
    "parameter space, of the points the path visited during its last epoch (the epoch's start "
    "and the parameters after each of its updates) from their mean: how much the path still "
    "moved, steady drift as well as jitter, so full batch (no sampling noise) can read higher "
    "than a mini-batch that has settled. **End spread**: the root-mean-square distance of the "
    f"{seeds} seeds' final parameters from their mean."
)

st.subheader("Takeaway")
st.markdown(batch_sizes.takeaway(result))
