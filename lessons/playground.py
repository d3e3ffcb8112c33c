"""Playground: every knob of mini-batch SGD, live, on one page."""

import numpy as np
import streamlit as st

from ui import cache, charts, controls, explain, lesson, playground
from ui.playground import PRESETS

CUSTOM = "Your own settings"


def apply_preset() -> None:
    preset = PRESETS.get(st.session_state["preset"])
    if preset is not None:
        controls.set_values(**vars(preset.settings()))


st.title("Playground")
st.markdown(
    "**What does `fit(batch_size=…)` do to SGD?** Every update averages the gradient over one "
    "mini-batch of `batch_size` rows and takes one step. Move any control on the left; "
    "every chart below is recomputed, Keras-exact."
)
st.sidebar.selectbox(
    "Preset",
    [CUSTOM, *PRESETS],
    key="preset",
    on_change=apply_preset,
    help="Named scenarios. Each sets the controls and states its lesson.",
)
settings = lesson.start()
preset = PRESETS.get(st.session_state.get("preset"))
if preset is not None and preset.settings() == settings:
    st.info(f"**{preset.name}.** {preset.lesson}", icon="💡")

run, surface, data = lesson.trained(settings)
label, why = explain.status(run, surface.min_loss)

arithmetic = explain.updates_arithmetic(run)
lesson.metric_cards(
    [
        lesson.Card("Updates per epoch", run.updates_per_epoch, arithmetic, caption=arithmetic),
        lesson.Card(
            "Total updates",
            f"{run.updates:,}",
            "Optimizer steps taken: updates per epoch × epochs (fewer if the run diverged).",
        ),
        lesson.Card(
            "Final training loss",
            f"{run.loss[-1]:.4g}",
            "Loss on all training rows at the final parameters (not Keras's running mean).",
        ),
        lesson.Card(
            "Distance to the minimum",
            f"{explain.distance(run.params[-1, :2], surface.minimum):.3g}",
            "Euclidean distance from the final parameters to the star on the contours.",
        ),
    ]
)
if run.batch_size_clamped:
    st.info(
        f"batch_size={run.requested_batch_size} is more than the {run.n_train} training rows, "
        f"so Keras (and this app) uses all {run.n_train}: full-batch gradient descent."
    )
lesson.explained_divergence(
    settings, data, run, "Diverged", "The charts show the path up to the blow-up."
)
if run.diverged_at is None:
    (st.success if label == "converged" else st.info)(f"**Status: {label}.** {why}")

left, right = st.columns(2)
x_axis = right.segmented_control(
    "X axis",
    list(charts.X_AXES),
    default="updates",
    key="loss_x_axis",
    bind="query-params",
    format_func=str.capitalize,
    help="The same run against updates, epochs or samples seen.",
)
log_y = right.toggle("Log-scale loss", value=True, key="loss_log_y", bind="query-params")
figures = playground.playground_figures(
    settings, cache.uploaded_csv(settings), x_axis or "updates", log_y
)
left.plotly_chart(figures.contour, key="chart_contour")
left.caption(
    "Each line segment is one update. Open circles mark epoch ends, the star the minimum of "
    "the training loss. The contours are log-spaced: each band is a constant factor of loss."
)
right.plotly_chart(figures.losses, key="chart_losses")
right.caption(
    "Grey: each batch's loss at the weights before its update (what the optimizer sees). "
    "Blue: the loss on all training rows. Dotted: Keras's reported epoch `loss`, the "
    "batch-size-weighted mean of that epoch's batch losses, taken while the weights moved."
)

left, right = st.columns(2)
left.plotly_chart(figures.data, key="chart_data")
right.plotly_chart(figures.learning_rate, key="chart_learning_rate")
right.caption(explain.schedule_caption(settings, run))

st.subheader("The update this run applies")
lesson.update_rule(settings, run.batch_size)

st.subheader("Takeaway")
final = "diverged" if run.diverged_at is not None else f"ended at loss {run.loss[-1]:.4g}"
st.markdown(
    f"Batch size {run.batch_size} on {run.n_train} training rows gave "
    f"{run.updates_per_epoch} updates per epoch and {run.updates:,} in all; the run {final}. "
    f"`batch_size` is not a number of threads: each of those {run.updates:,} updates averaged "
    f"{run.batch_size} per-sample gradients into one and moved the weights once."
    + ("" if np.all(np.isfinite(run.params[-1])) else " The last parameters overflowed.")
)
