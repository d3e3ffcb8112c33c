"""Inside one mini-batch: B rows, B gradients, one average, one update. Not B threads."""

import streamlit as st

from ui import cache, charts, glossary, inside_a_batch, inside_a_batch_threads, inside_stage, lesson
from ui import inside_a_batch_charts as views
from ui.cost import cost_sentence

st.title("Inside one mini-batch")
st.markdown(
    "**What happens inside ONE update: is `batch_size` a number of threads?** Pick an update "
    "of the Playground's run below and look at the rows it used, the gradient of each row, "
    "and the one step they make together."
)
settings = lesson.start()

lesson.within_budget(
    inside_a_batch.work(settings),
    f"This page for {settings.epochs} epochs of {settings.n_train:,} training rows",
    lambda: inside_a_batch.offer(settings),
)
run, surface, data = lesson.trained(settings)
last = inside_a_batch.last_update(settings)

lesson.explained_divergence(
    settings,
    data,
    run,
    "This run diverged",
    "The scrubber stops at the last update with finite parameters before and after it.",
)
if last < 1:
    st.info(
        "No update of this run has finite parameters before and after it, so there is nothing "
        "to take apart. Lower the learning rate in the sidebar."
    )
    st.stop()

update = inside_stage.scrubber(settings, last)  # steps in the browser; a stop is kept here
inside = inside_a_batch.inside(settings, update)
st.caption(inside_stage.legend_caption(settings.momentum, surface.plane))
st.markdown(
    f"**One average, one update.** The {inside.batch_size} highlighted rows each have a "
    f"gradient, but the optimizer only ever sees their mean: one gradient, one step. The whole "
    "batch is computed at once, in matrix products over all its rows, not by "
    f"{inside.batch_size} threads that each update the weights:"
)
st.code(settings.spec.gradient_line, language="python", wrap_lines=True)
st.caption(
    f"{views.gradient_names(surface.plane)} NumPy hands each product to "
    f"{glossary.first('BLAS')}, which may use several cores for one big product; that is how "
    "hardware parallelism enters, inside a single update."
)

st.subheader("Gradient noise: how far one batch's gradient strays")
curve = inside_a_batch.noise_curve(settings, update)
if run.batch_size == run.n_train:
    st.info(
        f"This run is full batch (B = {run.n_train}: {glossary.explain('full batch')}), so every "
        "batch gradient equals the full-data gradient: its noise is exactly 0. Lower the "
        "batch size in the sidebar to see the noise."
    )
if curve.finite and curve.sizes.size:
    st.markdown(f"How far it strays depends on the batch size B and on {glossary.first('σ²')}.")
    left, right = st.columns([3, 2])
    noise, summary = views.noise_figure(curve), views.noise_summary(curve)
    left.plotly_chart(noise, key="chart_noise", alt=charts.alt(noise, summary))
    left.caption(summary)
    right.markdown(
        "With g the gradient over all N training rows and g_B the mean over a random batch of "
        "B rows drawn without replacement, sampling theory gives"
    )
    right.latex(r"\mathbb{E}\,\lVert g_B - g\rVert^2 = \frac{\sigma^2}{B}\cdot\frac{N-B}{N-1}")
    right.latex(r"\sigma^2 = \frac{1}{N}\sum_i \lVert g_i - g\rVert^2")
    right.markdown(
        f"Here, at the parameters before update {update}: **σ² = {curve.sigma2:.4g}** and "
        f"N = {curve.n}. The red markers are measured "
        f"over {curve.draws} random batches per size; at this run's B = {curve.batch_size} the "
        f"noise is **{curve.measured_at_batch:.4g} measured, {curve.theory_at_batch:.4g} in "
        "theory**. Four times the rows cuts this squared error about fourfold, so it halves the "
        "typical error ‖g_B − g‖; it reaches 0 "
        f"at B = N, the {glossary.first('full batch')}."
    )
elif not curve.finite:
    st.info(
        f"The gradients at update {update} overflow, so their noise cannot be measured. "
        "Pick an earlier update, or lower the learning rate."
    )

st.subheader("Vectorization: what an epoch costs")
timing, cost = inside_a_batch.epoch_timing(settings)
left, right = st.columns(2)
epoch = views.timing_figure(timing, run.batch_size)
summary = views.timing_summary(timing, run.batch_size)
left.plotly_chart(epoch, key="chart_timing", alt=charts.alt(epoch, summary))
left.caption(summary)
right.table(views.timing_table(timing))  # HTML: every column shown whole
right.caption(
    "Each update pays a fixed cost plus work for each of its B rows, so larger batches finish "
    "an epoch sooner but take fewer steps in it. The same cost model gives the time axis of "
    "“Batch, mini-batch, stochastic”. " + cost_sentence(cost)
)

inside_a_batch_threads.section(settings, cache.uploaded_csv(settings))

st.subheader("Takeaway")
st.markdown(views.takeaway(inside, curve, timing))
