"""From Keras to here: the same run as copyable Keras 3, legacy Keras and PyTorch scripts,
and the seven places where their numbers part ways."""

import streamlit as st

import gd
from ui import budget, cache, codegen, controls, keras_to_here, lesson

st.title("From Keras to here")
st.markdown(
    "**How do I get these exact numbers in Keras or PyTorch, and where do they differ?** "
    "Below are complete scripts for the settings on the left, then seven gotchas, each drawn "
    "from this run."
)
settings = lesson.start()
# This run in both momentum conventions; when they would coincide, the run and an illustrative
# pair (see keras_to_here.conventions_example), if the budget allows the third run.
lesson.within_budget(
    lesson.trained_work(settings, runs=2),
    f"This run of {settings.epochs} epochs in both momentum conventions",
    lambda: lesson.run_offer(settings, runs=2),
)
example = (
    keras_to_here.conventions_example(settings)
    if budget.fits(lesson.trained_work(settings, runs=3))
    else None
)
run, surface, _ = lesson.trained(settings)
with lesson.explained_errors():
    runs = keras_to_here.convention_runs(example or settings)
names = settings.spec.parameters
lesson.divergence_warning(
    run,
    "This run diverged",
    "Keras and PyTorch would blow up too: the scripts below reproduce the blow-up, and the "
    "charts stop there. Lower the learning rate in the sidebar for a run worth copying.",
)

st.header("1. The scripts")
st.markdown(
    "Each script rebuilds the same data, starts at the same "
    f"{keras_to_here.start_words(settings)}, and prints what `fit` reports. Copy one with the "
    "button at the top right of its box."
)
keras3, keras2, torch = st.tabs(["Keras 3", codegen.KERAS2_NAME, "PyTorch"])
# Wrapped on screen only (the copy button copies the lines as they are): the fit() call's line
# is wider than the main column at 1280x720.
keras3.code(codegen.keras3_code(settings), language="python", wrap_lines=True)
keras2.code(codegen.keras2_code(settings), language="python", wrap_lines=True)
torch.code(codegen.pytorch_code(settings), language="python", wrap_lines=True)
st.caption(
    "Every script replays this page's row order, shuffle on or off. The PyTorch script follows "
    f"the momentum convention set (now: {controls.CONVENTIONS[settings.convention]}) and computes "
    "in float64: it prints this page's numbers to about 15 significant digits. The Keras scripts "
    "follow Keras's convention; Keras 3 on the torch backend computes in float32 inside, so "
    "expect about 7."
)

st.header("2. What `history = model.fit(…)` holds")
left, right = st.columns([3, 2])
left.dataframe(
    keras_to_here.history_table(run),
    hide_index=True,
    column_config={
        "epoch": st.column_config.NumberColumn("epoch"),
        "loss": st.column_config.NumberColumn(
            "history.history['loss']", format="%.6g", help="Running mean over the epoch."
        ),
        "val_loss": st.column_config.NumberColumn(
            "history.history['val_loss']",
            format="%.6g",
            help="Loss on the validation rows at the epoch's end weights.",
        ),
    },
)
right.markdown(
    "One entry per epoch: `loss` is the batch-size-weighted mean of that epoch's batch losses, "
    "each taken at the weights *before* its update"
    + (
        "; `val_loss` is the loss on the held-out rows at the end of the epoch."
        if run.val_loss is not None
        else ". With a validation split there would be a `val_loss` column too."
    )
)
right.download_button(
    "Download every update as CSV",
    keras_to_here.csv_download(settings, cache.uploaded_csv(settings), names),
    file_name="sgd_run.csv",
    mime="text/csv",
    icon=":material/download:",
    help="One row per update: update, epoch, batch_size, learning_rate, batch_loss, "
    f"{keras_to_here.parameter_words(names)} after it, full_loss after it (where recorded).",
)
listed = keras_to_here.csv_updates(run).size
right.caption(
    (
        f"{run.updates:,} rows, one per update."
        if listed == run.updates
        else f"{listed:,} of the {run.updates:,} updates, evenly spaced, with every epoch's last."
    )
    + " Columns: update, epoch, the batch's size, the learning rate it used, its loss before "
    f"the update, {keras_to_here.parameter_words(names)} after it, and the full training loss "
    "after it."
)

st.header("3. Seven gotchas")


def example_link(column, shown: keras_to_here.Gotcha) -> None:
    """When a gotcha draws illustrative settings, a link that opens them in the Playground."""
    if shown.example is not None:
        controls.page_link(
            column,
            "lessons/playground.py",
            shown.example,
            label="Open this illustration in the Playground",
            icon=":material/open_in_new:",
        )


def gotcha(column, title: str, text: str, shown: keras_to_here.Gotcha, key: str) -> None:
    """One gotcha in one column: its title, the rule, the chart from this run, its numbers."""
    column.subheader(title)
    column.markdown(text)
    column.plotly_chart(shown.figure, key=key)
    column.caption(shown.caption)
    example_link(column, shown)


left, right = st.columns(2)
gotcha(
    left,
    "Decay is counted per update",
    "Legacy `decay` computes `lr / (1 + decay·t)` with t = updates so far, not epochs. "
    "Halve the batch size and each epoch has about twice the updates.",
    keras_to_here.decay_per_update(settings, run),
    "chart_decay_per_update",
)
gotcha(
    right,
    "Keras 3 ignores `decay=`",
    "`keras.optimizers.SGD(learning_rate=…, decay=…)` runs, warns, and trains at a constant "
    "rate. Use `InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)` instead.",
    keras_to_here.keras3_ignores_decay(settings, run),
    "chart_keras3_decay",
)
gotcha(
    st.container(),
    "Keras 3 rejects `lr=`",
    "The question's `SGD(lr, decay, momentum, nesterov)` is the legacy spelling. Keras 3 wants "
    "`learning_rate=`, and the older Kerases each read the same line differently.",
    keras_to_here.keras3_rejects_lr(settings, run),
    "chart_keras3_lr",
)
left, right = st.columns(2)
gotcha(
    left,
    "The epoch loss is a running mean",
    "`history.history['loss']` averages each batch's loss at the weights before its update, "
    "while the weights move. It is not the loss of the weights at the epoch's end.",
    keras_to_here.epoch_loss_is_running_mean(run),
    "chart_running_mean",
)
gotcha(
    right,
    "The last batch is smaller",
    "Keras keeps the remainder rows as a last, smaller batch: one more update per epoch, with a "
    "noisier gradient.",
    keras_to_here.last_batch_smaller(settings, run),
    "chart_batch_sizes",
)

st.subheader("validation_split takes the last rows, before shuffling")
rows = keras_to_here.validation_rows(settings, run)
st.plotly_chart(rows.figure, key="chart_validation_rows")
st.caption(rows.caption)
example_link(st, rows)

st.subheader("Keras and PyTorch momentum differ once the rate changes")
if settings.spec.two_parameters:
    window = cache.contours_following(example or settings, keras_to_here.convention_paths(runs))
    figure = keras_to_here.conventions_contours(runs, window, surface)
else:
    figure = keras_to_here.conventions_losses(runs)
momentum = keras_to_here.momentum_conventions(runs, figure, settings, example)
left, right = st.columns([3, 2])
left.plotly_chart(momentum.figure, key="chart_conventions")
right.caption(momentum.caption)
example_link(right, momentum)
st.markdown(
    "The two update functions this app runs, Keras's and then PyTorch's. With a constant rate "
    "they take the same steps; with a decaying one, Keras's old gradients keep their own larger "
    "rate."
)
# The whole width, one under the other, and wrapped: their longest lines (about 95 characters)
# would be cut off beside the chart, and by a few pixels even here at 1280x720.
for convention in controls.CONVENTIONS:
    rule = gd.SGD(convention=convention).rule
    st.code(lesson.source(rule), language="python", wrap_lines=True)

st.header("Takeaway")
st.markdown(keras_to_here.takeaway(settings, run, runs))
