"""Maps: where learning rate, batch size and momentum work, and why."""

import streamlit as st

from ui import cache, charts, lesson, maps
from ui.cache import uploaded_csv

st.title("Hyperparameter maps")
st.markdown(
    "**Where does SGD work, and why does a bigger batch want a bigger learning rate?** "
    "One run shows one path; a map shows the territory. Every cell below is a whole training "
    "run with the settings in the sidebar (» at the top opens it on a phone), coloured by how "
    "far its final training loss ends above the loss at the × on the Playground's contours, on "
    "a log scale, so the good band stands out; both maps share one colour scale. "
    "The best learning rate of a column is the one with the lowest final loss after the "
    "epochs set in the sidebar. Click a cell to open its run in the Playground."
)
settings = lesson.start(omit=("learning_rate",))
st.sidebar.subheader("Map")
seeds = st.sidebar.select_slider(
    "Seeds per cell",
    maps.SEED_CHOICES,
    value=maps.default_seeds(settings),
    key=maps.SEEDS,
    bind="query-params",
    help="Each cell is run with this many shuffling seeds (from the shuffle seed up); the map "
    "shows the median final loss, and a cell counts as diverged if any seed diverged. By "
    f"default {maps.DEFAULT_SEEDS}, or the most that fit the work budget.",
)

lesson.within_budget(
    maps.work(settings, seeds),
    f"Two maps of {maps.MAP_RATES.size} learning rates, {settings.epochs} epochs and {seeds} "
    f"seed{'s' * (seeds > 1)} per cell",
    lambda: maps.offer(settings, seeds),
)
csv = uploaded_csv(settings)
jobs = [(axis, settings.seed + k) for axis in ("batch_size", "momentum") for k in range(seeds)]
progress = st.progress(0.0, text="Sweeping the grid…")
sweeps = {"batch_size": [], "momentum": []}
with lesson.explained_errors():  # e.g. an upload whose y is not 0/1 under logistic regression
    for done, (axis, seed) in enumerate(jobs, start=1):
        sweeps[axis].append(maps.sweep_seed(settings, csv, axis, seed))
        progress.progress(done / len(jobs), text=f"Swept {done} of {len(jobs)} grids")
progress.empty()
start = maps.start_loss(settings)
bound = maps.bound_for(settings, settings.momentum)
bound0 = maps.bound_for(settings, 0.0)
by_batch = maps.with_unstable(
    settings, maps.combine(sweeps["batch_size"], "batch_size", start), "batch_size", bound
)
by_momentum = maps.with_unstable(
    settings, maps.combine(sweeps["momentum"], "momentum", start), "momentum", bound0
)
surface = cache.surface_for(settings)  # its × is the Playground's: the colours' zero
minimum, target = surface.min_loss, charts.target_words(surface.plane)[1]
scale = maps.loss_scale(by_batch, by_momentum, minimum=minimum)

st.subheader("Learning rate × batch size")
st.markdown(maps.describe(by_batch, settings, bound))
maps.chart(
    maps.heatmap(
        by_batch,
        "batch_size",
        bound,
        f"Final loss after {settings.epochs} epochs, momentum {settings.momentum:g}",
        scale,
        minimum,
        target,
    ),
    by_batch,
    "batch_size",
    settings,
    key="chart_map_batch",
)
st.caption(maps.summary(by_batch, "batch_size"))
st.caption(maps.batch_caption(bound))
maps.cell_picker(by_batch, "batch_size", settings, key="map_cell_batch")

st.subheader("Learning rate × momentum")
st.markdown(maps.momentum_intro(settings, bound0))
maps.chart(
    maps.heatmap(
        by_momentum,
        "momentum",
        bound0,
        f"Final loss after {settings.epochs} epochs, batch size {settings.batch_size}",
        scale,
        minimum,
        target,
    ),
    by_momentum,
    "momentum",
    settings,
    key="chart_map_momentum",
)
st.caption(maps.summary(by_momentum, "momentum"))
maps.cell_picker(by_momentum, "momentum", settings, key="map_cell_momentum")

st.subheader("Takeaway")
st.markdown(maps.takeaway(bound))
