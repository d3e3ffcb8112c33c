"""A small harness for the live stage (ui/stage): mounts it for the settings in the URL.

Served by tests/e2e/test_stage.py and bench/drag.py with `streamlit run`. A committed knob
value is stored in the session and the URL, as the Playground does, and so is the playback
position (`?update=N`).
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

st.set_page_config(page_title="Live stage harness", layout="wide")

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
    )


st.sidebar.caption("Stage harness")
live_stage()
