"""Shared layer (every lesson): the "Upload CSV" data source, parse once, explain any problem,
keep what worked before, and free the upload once its tab is gone."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import weakref
from dataclasses import dataclass

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

import gd
from ui.cache import CSV_KEY
from ui.controls import MAX_SAMPLES, UPLOADED_ROWS, set_values, split_problem, store
from ui.text import LIMIT, user_text

UPLOAD_ROWS = MAX_SAMPLES  # the Playground's largest data set; gd.datasets.from_csv allows more
# server.maxUploadSize in .streamlit/config.toml, in MB. The browser counts an MB as 1 000 000
# bytes (as 1 MiB on Windows), the server as 1 MiB: this check makes 5 000 000 bytes the one
# limit everywhere, the one the caption states.
UPLOAD_MB = 5
UPLOAD_BYTES = UPLOAD_MB * 1_000_000
LAST_UPLOAD = "_csv_digest"  # digest of the last file handled, so a rerun does not parse again
UPLOADER = "csv_file"  # the file uploader's widget key
LOST = "_csv_lost"  # set when the browser listed a file this server has no bytes for (below)
_CLEARING = "_csv_clearing"  # whether the fragment that reruns after a loss has been drawn

# A killed process loses its sessions' uploads. The browser reconnects to a new session (on a
# new process, or on this one once ``CLOSE_AFTER`` has closed the old session), and its file
# uploader still lists the old file: the rerun sends the file's id, which this server never
# received, so the widget's value in the session is a placeholder for a missing file
# (``DeletedFile``, file_uploader.py ``_get_upload_files``) while ``st.file_uploader`` returns
# None. That pair is the loss; a fresh link with source=csv sends no file and is not one.
# Streamlit cannot clear a file uploader from Python, and the browser forgets a widget's value
# only after a run that ends without that widget (app's ``removeInactiveWidgetState``), and an
# uploader still on screen writes its own list back. So the run that finds the loss forgets
# the file's id, takes the uploader off the page and stops there, short: a timed fragment's
# rerun arriving before it ends would end it "early for a rerun", and the browser would keep
# the entry. The fragment then reruns the page, whose uploader is empty; should the browser
# still list the file, the same check runs again (tests/e2e/test_reconnect.py).
# Streamlit 1.67's browser reruns the page on a reconnect only when a fragment reruns on a
# timer (``handleConnectionStateChanged``): a session that holds an upload keeps one, idle, so
# the notice comes with the reconnect instead of waiting for the learner's next click.
RECONNECT_CHECK = 600.0  # seconds between the idle fragment's runs; only its existence counts

# A closed tab's session would keep its upload: Streamlit (1.67) stores a disconnected session
# for server.disconnectedSessionTTL (120 s) so that a reconnect can resume it, and does not shut
# it down when that time is up; it leaves the store only when a later disconnect writes to it
# (runtime/websocket_session_manager.py ``disconnect_session``, memory_session_storage.py,
# caching/ttl_cache.py). The upload manager keeps the file until the session is shut down
# (app_session.py ``shutdown``), and the session's state outlives even that: the runtime's
# loop still names the last session it served (runtime.py ``_loop_coroutine``), and an expired
# session's state was still reachable 150 s after its tab closed. So a session that has held an
# upload is closed here once its tab has been gone for CLOSE_AFTER seconds, and its state is
# cleared (tests/e2e/test_upload_memory.py).
CLOSE_AFTER = 30.0  # seconds without a websocket: far longer than a network blip's reconnect
SWEEP_EVERY = 5.0  # seconds between two looks at the sessions below


@dataclass
class _Uploader:
    """A session that has held an upload, as ``_sweep`` sees it."""

    session: weakref.ref  # its AppSession
    gone_since: float | None = None  # when its tab was first seen gone (time.monotonic)


_uploaders: dict[str, _Uploader] = {}  # by session id
_uploaders_lock = threading.Lock()


def csv_uploader() -> None:
    """Sidebar uploader. A good file replaces the data; a bad one shows why and changes nothing."""
    st.sidebar.caption(
        f"Two numeric columns, x then y, comma-separated; a header row is optional. "
        f"At most {UPLOAD_ROWS:,} rows and {UPLOAD_MB} MB. Your file stays in this browser session "
        "only, and links cannot carry it."
    )
    st.sidebar.download_button(
        "Download a sample CSV",
        gd.datasets.sample_csv(),
        file_name="sample.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    slot = st.sidebar.empty()
    upload = slot.file_uploader("CSV file (x, y)", type=["csv", "txt"], key=UPLOADER)
    if upload is None:
        if st.session_state.get(UPLOADER) is not None:  # a file this server never received
            st.session_state[LOST] = True
            del st.session_state[UPLOADER]  # this session forgets its id,
            slot.empty()  # and the browser does once this run ends without the uploader
            st.session_state[_CLEARING] = False
            with st.sidebar:
                _rerun_when_done()
            lost_notice()
            st.stop()
        if CSV_KEY not in st.session_state and not st.session_state.get(LOST):
            st.sidebar.info("No file yet: the synthetic data are shown until you upload one.")
        return
    with st.sidebar:
        _rerun_on_reconnect()
    _free_when_closed()
    content = upload.getvalue()
    digest = hashlib.sha256(content).hexdigest()
    split = store()["validation_split"]
    refused_at_split = f"{digest} at validation_split={split!r}"
    if st.session_state.get(LAST_UPLOAD) in (digest, refused_at_split):
        return
    st.session_state[LAST_UPLOAD] = digest
    name = _file_name(upload.name)
    if len(content) > UPLOAD_BYTES:  # a browser on Windows, or a script, may send up to 5 MiB
        st.session_state["_csv_error"] = (
            f"{name}: The file has {len(content):,} bytes, more than the limit of "
            f"{UPLOAD_MB} MB ({UPLOAD_BYTES:,} bytes). Keep fewer rows, or fewer digits."
        )
        return
    try:
        data = gd.datasets.from_csv(io.BytesIO(content), max_rows=UPLOAD_ROWS, name=upload.name)
    except gd.DataError as error:
        st.session_state["_csv_error"] = f"{name}: {error}"
        return
    problem = split_problem(data.n, split)
    if problem is not None:  # refused like a bad file, until the split changes
        st.session_state[LAST_UPLOAD] = refused_at_split
        st.session_state["_csv_error"] = f"{name} has {data.n} rows. {problem}"
        return
    st.session_state.pop("_csv_error", None)
    st.session_state.pop(LOST, None)
    st.session_state[CSV_KEY] = content
    st.session_state[UPLOADED_ROWS] = data.n
    set_values(n=data.n, batch_size=min(32, data.n))


def csv_error() -> None:
    """Show the last upload's problem, if any, above the charts (which keep the old data), or
    that the upload was lost when the server restarted."""
    if st.session_state.get(LOST):
        if store()["source"] == "csv":
            lost_notice()
        else:  # the learner moved on to the synthetic data: nothing left to say
            st.session_state.pop(LOST)
    message = st.session_state.get("_csv_error")
    if message:
        # It quotes the file's name and cells: shown as text, never as Markdown (ui.text).
        st.error(
            f"That file could not be used, so nothing changed. {user_text(message)}",
            icon=":material/description:",
        )


def lost_notice() -> None:
    st.warning(
        "**Your uploaded file is gone:** the server restarted (or this tab was disconnected "
        "for a while) and no longer has it. Upload it again in the sidebar; until then the "
        "charts show the synthetic data.",
        icon=":material/cloud_off:",
    )


@st.fragment(run_every=0.5)
def _rerun_when_done() -> None:
    """Rerun the page once the run that took the uploader off is over; its first call, inside
    that run, only marks it as drawn."""
    if st.session_state.get(_CLEARING):
        del st.session_state[_CLEARING]
        st.rerun(scope="app")
    st.session_state[_CLEARING] = True


@st.fragment(run_every=RECONNECT_CHECK)
def _rerun_on_reconnect() -> None:
    """Nothing: while it is on the page, the browser reruns the page when it reconnects."""


def _file_name(name: str) -> str:
    """The upload's name for a message, cut to ``LIMIT`` characters (its end kept: ".csv")."""
    return name if len(name) <= LIMIT else "…" + name[1 - LIMIT :]


def _free_when_closed() -> None:
    """Have this session closed, and its upload freed, ``CLOSE_AFTER`` s after its tab goes."""
    context = get_script_run_ctx()
    if context is None or not runtime.exists():  # a bare script run: no sessions to close
        return
    session = runtime.get_instance().get_app_session(context.session_id)
    if session is None:
        return
    with _uploaders_lock:
        _uploaders.setdefault(context.session_id, _Uploader(weakref.ref(session)))
    _start_sweeping()


@st.cache_resource(show_spinner=False)
def _start_sweeping() -> None:
    """Look at the sessions in ``_uploaders`` every ``SWEEP_EVERY`` s, on the runtime's event
    loop (the loop its ``stopped`` future belongs to): ``close_session`` must run there."""
    loop = runtime.get_instance().stopped.get_loop()
    loop.call_soon_threadsafe(_sweep, loop)


def _sweep(loop) -> None:
    server = runtime.get_instance()
    now = time.monotonic()
    closing = []
    try:
        with _uploaders_lock:
            for session_id, uploader in list(_uploaders.items()):
                if server.is_active_session(session_id):
                    uploader.gone_since = None  # open, or reopened after a network blip
                elif uploader.gone_since is None:
                    uploader.gone_since = now
                elif now - uploader.gone_since >= CLOSE_AFTER:
                    del _uploaders[session_id]
                    closing.append((session_id, uploader.session()))
        for session_id, session in closing:
            server.close_session(session_id)  # shut down: its files go
            if session is not None:
                session.session_state.clear()  # and its state, whoever still names it
    finally:
        loop.call_later(SWEEP_EVERY, _sweep, loop)
