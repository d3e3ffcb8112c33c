"""A small harness for the live stage (ui/stage): mounts it for the settings in the URL.

Served by tests/e2e/test_stage.py and bench/drag.py with `streamlit run`. A committed knob
value is stored in the session and the URL, as the Playground does, and so is the playback
position (`?update=N`).

For tests/e2e/test_stage_view.py the link may also carry the stage's view (``stage.View``), for
this harness only: ``locked=`` and ``hidden=`` (knob names, comma-separated), ``play=N`` (the
token), ``present=1`` (the presenter view, with the sidebar collapsed) and ``conceal=1`` (the
stage concealed until a student answers). The sidebar's "New token (start from 0)" button
sends one, as a teacher's page does, with no new mount; its "Answer (reveal the run)" button
does what a student's answer does: the next payload no longer conceals and carries a new token.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `streamlit run` puts only this folder on the path

import streamlit as st  # noqa: E402

import gd  # noqa: E402
from ui import cache, stage  # noqa: E402
from ui.controls import Settings, read_link  # noqa: E402

PRESENT = st.query_params.get("present") == "1"
st.set_page_config(
    page_title="Live stage harness",
    layout="wide",
    initial_sidebar_state="collapsed" if PRESENT else "auto",
)

KEY = "stage_settings"
if KEY not in st.session_state:
    values, _ = read_link(st.query_params.to_dict())
    st.session_state[KEY] = values
st.session_state.setdefault("reruns", 0)
st.session_state["reruns"] += 1


def describe(fam: gd.Family, r: int) -> tuple[str, str]:
    """The harness's stand-in for the page's status sentence."""
    at = fam.diverged(r)
    if at is not None:
        return f"diverged at update {at}", "The loss blew up, so training stopped there."
    return "finished", f"{fam.updates(r)} updates."


def remember(commit: stage.Commit) -> None:
    """Store a released knob value in the session and the URL (before the rerun it causes)."""
    st.session_state[KEY][commit.knob] = commit.value
    st.query_params[commit.knob] = str(commit.value)


def view() -> stage.View:
    """The view in the link (``locked``, ``hidden``, ``play``, ``present``, ``conceal``), its
    token raised by each press of the sidebar's buttons, no longer concealed once answered."""
    link = st.query_params

    def knobs(name: str) -> frozenset[str]:
        return frozenset(k for k in link.get(name, "").split(",") if k)

    play = int(link.get("play", "0")) + st.session_state.get("plays", 0)
    conceal = link.get("conceal") == "1" and not st.session_state.get("answered", False)
    return stage.View(knobs("locked"), knobs("hidden"), play, PRESENT, conceal)


def play_for_the_class() -> None:
    st.session_state["plays"] = st.session_state.get("plays", 0) + 1


def answer() -> None:
    st.session_state["answered"] = True
    play_for_the_class()


@st.fragment
def live_stage() -> None:
    st.session_state["fragment_runs"] = st.session_state.get("fragment_runs", 0) + 1
    settings = Settings(**st.session_state[KEY])
    start = stage.playback_start(cache.run(settings, None).updates)  # ?update=N, as the page
    stage.live(
        settings,
        None,
        describe,
        texts_key="harness",
        on_commit=remember,
        update=start,
        on_scrub=stage.remember_update,
        view=view(),
    )


st.sidebar.caption("Stage harness")
# Not named "Play …": test_stage.py finds the stage's Play button by a name that must be unique.
st.sidebar.button("New token (start from 0)", on_click=play_for_the_class)
st.sidebar.button("Answer (reveal the run)", on_click=answer)
live_stage()
