"""Shared fixtures: a fresh AppTest of the real app, with caches that do not leak between tests."""

import os
import tempfile
from pathlib import Path

import pytest
import streamlit as st
from hypothesis import settings
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"
# Every test's class database (and every test server's: they inherit it) is a throwaway SQLite
# file, never the app's own data/ folder.
os.environ.setdefault(
    "CLASS_DB_URL", f"sqlite:///{tempfile.mkdtemp(prefix='class-db-')}/classes.sqlite3"
)
TIMEOUT = 180  # a cold numba cache compiles the kernels on the first run (about a minute)

# CI replays the same examples on every run, so a red CI is a real regression, never a new draw;
# local runs keep drawing fresh examples to find new failures (then pinned with @example).
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def open_at(page: str | None, **query: str) -> AppTest:
    """A new session whose first run is ``page`` (a link straight to it), caches cleared."""
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    if page is not None:
        at.switch_page(page)
    return at.run()


@pytest.fixture
def app():
    """Return a function that opens the app at a page with query parameters and runs it."""
    st.cache_data.clear()

    def open_app(page: str | None = None, **query: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        if page is not None:
            at.switch_page(page).run()
        return at

    return open_app


@pytest.fixture
def lesson():
    """Return a function that runs one lesson script on its own, with query parameters."""
    st.cache_data.clear()

    def open_lesson(name: str, **query: str) -> AppTest:
        at = AppTest.from_file(str(APP.parent / "lessons" / f"{name}.py"), default_timeout=TIMEOUT)
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return open_lesson


def chart_specs(at: AppTest) -> list[str | bytes]:
    """The Plotly JSON of every chart and the live stage's payload on the page, to tell
    whether any data changed."""
    return [chart.proto.spec for chart in at.get("plotly_chart")] + [
        stage.proto.bytes for stage in at.get("bidi_component")
    ]


def stage_payload(at: AppTest):
    """The live stage's payload on the page, decoded (``ui.stage.payload.Decoded``)."""
    from ui.stage.payload import decode

    (stage,) = at.get("bidi_component")
    return decode(stage.proto.bytes)


def current_run(at: AppTest, knob: str = "batch_size") -> dict:
    """The header entry of the run the stage opens on (the settings' own run)."""
    entry = stage_payload(at).knob(knob)
    return entry["runs"][entry["current"]]
