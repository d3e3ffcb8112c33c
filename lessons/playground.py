"""Playground: every knob of mini-batch SGD, live, on one page.

The sidebar holds the data, the epochs and the start; the four live knobs (learning rate,
batch size, momentum, decay) sit on the stage under the charts. Dragging one switches, frame
by frame, between exact runs the browser already holds; releasing it reruns only the fragment
below, which stores the value (session and URL) and ships the runs around the new point.
"""

import numpy as np
import streamlit as st

from ui import cache, controls, explain, lesson, stage
from ui.playground import PRESETS

CUSTOM = "Your own settings"


def apply_preset() -> None:
    preset = PRESETS.get(st.session_state["preset"])
    if preset is not None:
        controls.set_values(**vars(preset.settings()))


def remember(commit: stage.Commit) -> None:
    """A knob released on the stage: keep it for this page, the other pages and the link."""
    controls.commit(commit.knob, commit.value)


st.title("Playground")
st.markdown(
    "**What does `fit(batch_size=…)` do to SGD?** Every update averages the gradient over one "
    "mini-batch of `batch_size` rows and takes one step. Drag a knob under the charts: every "
    "frame you see is a real, Keras-exact run. The data, epochs and start are on the left."
)
st.sidebar.selectbox(
    "Preset",
    [CUSTOM, *PRESETS],
    key="preset",
    on_change=apply_preset,
    help="Named scenarios. Each sets the controls and states its lesson.",
)
lesson.start(omit=stage.KNOBS)


@st.fragment
def live() -> None:
    """Everything that follows the four knobs; a released knob reruns only this."""
    settings = controls.current()
    preset = PRESETS.get(st.session_state.get("preset"))
    if preset is not None and preset.settings() == settings:
        st.info(f"**{preset.name}.** {preset.lesson}", icon="💡")
    run, surface, data = lesson.trained(settings)
    if run.batch_size_clamped:
        st.info(
            f"batch_size={run.requested_batch_size} is more than the {run.n_train} training "
            f"rows, so Keras (and this app) uses all {run.n_train}: full-batch gradient descent."
        )
    lesson.explained_divergence(
        settings, data, run, "Diverged", "The charts show the path up to the blow-up."
    )
    stage.live(
        settings,
        cache.uploaded_csv(settings),
        lambda family, r: explain.family_status(family, r, surface.min_loss),
        on_commit=remember,
        update=stage.playback_start(run.updates),  # ?update=N: where playback starts
        on_scrub=stage.remember_update,
    )
    st.caption(
        "Contours: each segment of the path is one update, open circles mark epoch ends, × the "
        "minimum of the training loss. Loss: the light band is each batch's loss at the weights "
        "before its update (its lowest and highest where updates are binned); dark blue, the "
        "loss on all training rows; orange, Keras's reported epoch `loss`, the "
        "batch-size-weighted mean of that epoch's batch losses. "
        + explain.schedule_caption(settings, run)
    )

    st.subheader("The update this run applies")
    lesson.update_rule(settings, run.batch_size)

    st.subheader("Takeaway")
    final = "diverged" if run.diverged_at is not None else f"ended at loss {run.loss[-1]:.4g}"
    st.markdown(
        f"Batch size {run.batch_size} on {run.n_train} training rows gave "
        f"{run.updates_per_epoch} updates per epoch and {run.updates:,} in all; the run {final}. "
        f"`batch_size` is not a number of threads: each of those {run.updates:,} updates "
        f"averaged {run.batch_size} per-sample gradients into one and moved the weights once."
        + ("" if np.all(np.isfinite(run.params[-1])) else " The last parameters overflowed.")
    )


live()
