"""Playground: every knob of mini-batch SGD, live, on one page.

The sidebar holds the data, the epochs and the start; the four live knobs (learning rate,
batch size, momentum, decay) sit on the stage under the charts. Dragging one switches, frame
by frame, between exact runs the browser already holds; releasing it reruns only the fragment
below, which stores the value (session and URL) and ships the runs around the new point. A
sidebar change reruns the fragment around it, the settings and the stage, not the page.
"""

import numpy as np
import streamlit as st

import gd
from ui import (
    budget,
    cache,
    charts,
    classroom,
    controls,
    explain,
    glossary,
    lesson,
    sharpness,
    stage,
    warmup,
)
from ui.playground import PRESETS
from ui.words import plural

CUSTOM = "Your own settings"
# The question's three answers, first on the page; each links to the lesson that shows it.
ANSWERS = (
    "`fit(batch_size=B)` is the mini-batch size, and `SGD` never sees it: B = 1, 32 or "
    "`len(x)` gives stochastic, mini-batch or full-batch gradient descent (full batch: "
    f"{glossary.explain('full batch')}).",
    "It is not threads: each update averages B gradients in one vectorised computation and "
    "moves the weights once.",
    "Keras 3 spells the question's `SGD(lr=…, decay=…)` as `SGD(learning_rate=InverseTimeDecay"
    "(lr, decay_steps=1, decay_rate=decay))`.",
)
DEEPER = (  # (page, icon): the same order as ANSWERS
    ("lessons/batch_sizes.py", ":material/stacks:"),
    ("lessons/inside_a_batch.py", ":material/grain:"),
    ("lessons/keras_to_here.py", ":material/code:"),
)


def apply_preset() -> None:
    preset = PRESETS.get(st.session_state["preset"])
    if preset is not None:
        controls.set_values(**vars(preset.settings()))


def work(settings: controls.Settings, csv: bytes | None) -> int:
    """The fragment's work: the stage's runs and loss surface, and for a model without a
    closed-form bound the sharpness measured along the run (``ui.sharpness``)."""
    measured = sharpness.work(settings) if sharpness.measured_for(settings) else 0
    return stage.work(settings, csv) + measured


def remember(commit: stage.Commit) -> None:
    """A knob released on the stage: keep it for this page, the other pages and the link, and
    redraw the sidebar too where it shows the change (``controls.commit``)."""
    if controls.commit(commit.knob, commit.value):
        lesson.redraw_page()


# The short answer on one line beside the title; the stage follows at once, so that on a
# projector (1280x720, sidebar open) its charts and knobs fit one screen. The three answers,
# each with the lesson that shows it, come after the stage.
if not classroom.presenting():  # a projector shows the stage, in large type, and no more
    heading, answer = st.columns([0.32, 0.68], vertical_alignment="center")
    heading.title("Playground", anchor=False)  # no anchor link: Tab goes to the knobs
    answer.markdown(
        "**`fit(batch_size=B)` is the mini-batch size, and it is not threads:** each update "
        "averages B rows' gradients in one vectorised step and moves the weights once. Drag a knob "
        "below: every position is a real run."
    )

# In a class that hides sidebar sections, presets (which set them all) are hidden too.
if classroom.shows_all_sections():
    st.sidebar.selectbox(
        "Preset",
        [CUSTOM, *PRESETS],
        key="preset",
        on_change=apply_preset,
        help="Named scenarios. Each sets the controls and states its lesson. "
        + glossary.help("noise floor", "full batch"),
    )


def settings() -> None:
    """The shared sidebar, less the stage's knobs."""
    lesson.start(
        omit=stage.KNOBS,
        reference_work=lambda s: (
            work(s, cache.uploaded_csv(s))
            + budget.run_work(s.model, s.n_train, s.batch_size, s.epochs)
        ),
    )


def sidebar_in_fragment() -> bool:
    """Whether the sidebar's settings rerun with the stage, as one fragment. Not while the
    sidebar holds a fragment of its own: the fast engine's notice (until the kernels are ready)
    and an upload's (ui.upload) are timed fragments, and Streamlit 1.67's browser fails on a
    timed fragment inside a fragment's writes to the sidebar ("Bad delta path index")."""
    warmup.warm_up()  # a new process's first request: the kernels are not ready until loaded
    return gd.engine.ready() and controls.store()["source"] != "csv"


@st.fragment
def settings_and_stage() -> None:
    """The sidebar's settings and everything they change: a sidebar change reruns this, not
    the page (the title and the preset stay); a released knob reruns only ``live`` within."""
    if not sidebar_in_fragment():  # the data source became an upload: the page's own sidebar
        st.rerun(scope="app")
    settings()
    live()


@st.fragment
def live() -> None:
    """Everything that follows the four knobs; a released knob reruns only this."""
    settings = controls.current()
    csv = cache.uploaded_csv(settings)
    # The stage computes a run for every position of every knob: that is the request's work.
    lesson.within_budget(
        work(settings, csv),
        "The live stage's runs (one for every position of the four knobs), loss surface"
        + (" and sharpness" if sharpness.measured_for(settings) else ""),
        lambda: lesson.offer(lambda s: work(s, csv), settings),
    )
    run, surface, data = lesson.trained(settings)
    land = explain.landscape(
        settings,
        *cache.training_rows(settings, csv),
        surface.best,
        surface.min_loss,
        charts.target_words(surface.plane)[0],
    )
    # ?update=N: where playback starts; in a class, update 0 until the question is answered
    update, view = classroom.stage_view(stage.playback_start(run.updates))
    stage.live(
        settings,
        csv,
        lambda family, r: explain.family_status(family, r, land),
        texts_key="status",
        on_commit=remember,
        update=update,
        on_scrub=stage.remember_update,
        view=view,
    )
    if view.present or classroom.waiting():
        return  # the projector shows the stage alone; a class predicts before it reads on
    # What the run's settings mean comes under the stage, so the stage holds its place.
    preset = PRESETS.get(st.session_state.get("preset"))
    if preset is not None and preset.settings() == settings:
        st.info(f"**{preset.name}.** {preset.lesson}", icon=":material/lightbulb:")
    if run.batch_size_clamped:
        st.info(
            f"batch_size={run.requested_batch_size} is more than the {run.n_train} training "
            f"rows, so Keras (and this app) uses all {run.n_train}: full-batch gradient descent "
            f"({glossary.explain('full batch')})."
        )
    lesson.explained_divergence(
        settings, data, run, "Diverged", "The charts show the path up to the blow-up."
    )
    if surface.slice_note:
        st.caption(surface.slice_note)
    st.caption(
        "Contours: each segment of the path is one update, open circles mark epoch ends, and × "
        f"marks {charts.target_words(surface.plane)[0]}. Loss: the light band is each batch's "
        "loss at the weights before its update (its lowest and highest where updates are "
        "binned); dark blue, the loss on all training rows; orange, Keras's reported epoch "
        "`loss`, the batch-size-weighted mean of that epoch's batch losses. "
        + explain.schedule_caption(settings, run)
    )

    if not settings.spec.closed_form:
        st.subheader("Sharpness: the edge of stability")
    if sharpness.no_edge(settings) and not settings.spec.closed_form:
        st.info(sharpness.no_edge(settings), icon=":material/info:")
    if sharpness.measured_for(settings):
        measured = sharpness.curve(settings, csv)
        figure = sharpness.figure(measured)
        st.markdown(sharpness.status(measured))
        st.plotly_chart(
            figure, key="chart_sharpness", alt=charts.alt(figure, sharpness.summary(measured))
        )
        st.caption(sharpness.caption(measured))

    st.subheader("The update on screen")
    shown = run.updates if update is None else update
    lesson.update_rule(settings, explain.batch_rows(shown, run.batch_size, run.n_train))
    st.caption(explain.batches_told(run, update))

    st.subheader("Takeaway")
    final = "diverged" if run.diverged_at is not None else f"ended at loss {run.loss[-1]:.4g}"
    each = "that update" if run.updates == 1 else "each update"
    st.markdown(
        f"Batch size {run.batch_size} on {plural(run.n_train, 'training row')} gave "
        f"{plural(run.updates_per_epoch, 'update')} per epoch and {run.updates:,} in all; the run "
        f"{final}. `batch_size` is not a number of threads: {each} averaged its batch's "
        f"{glossary.first('per-sample gradients')} into one and moved the weights once. "
        + explain.last_batches_told(run)
        + ("" if np.all(np.isfinite(run.params[-1])) else " The last parameters overflowed.")
    )

    st.subheader("The question's three answers")
    for (page, icon), text in zip(DEEPER, ANSWERS, strict=True):
        st.markdown(f"- {text}")
        controls.page_link(st, page, icon=icon)


if sidebar_in_fragment():
    settings_and_stage()
else:  # in a container where the fragment would be: the stage keeps its place in the page when
    with st.container():  # the kernels take over, so a drag under way goes on
        settings()
        live()
