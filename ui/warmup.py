"""Shared layer (every lesson): the numba kernels loaded once per server process, in the
background, and what a page does meanwhile.

A fresh server serves its first pages from the NumPy reference (the same numbers) while a
child process compiles the kernels into numba's disk cache; this process then only loads them.
After that, ``gc.freeze`` moves the objects loaded so far out of the collector's reach.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path

import streamlit as st

import gd

# While the kernels compile, a request may do this much work (``ui.budget`` units) on the NumPy
# reference, about 0.5 s of it on this project's 2-core server (the reference is ~200x slower
# per update than the kernels); above it, the page waits for the kernels and says so.
REFERENCE_WORK = 2_000_000
GRACE = 0.5  # seconds a first request waits for the kernels: loading them from numba's disk
# cache takes ~0.3–0.5 s, so a warm start never runs the reference; a cold compile does
PREPARING = (
    "Preparing the fast engine: the numba kernels compile the first time this server starts "
    f"(about {gd._kernels.COMPILE_SECONDS} s). Meanwhile these runs come from the NumPy "
    "reference, with the same numbers."
)


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread | None:
    """Load (or compile) the numba kernels once per server process, in a background thread, and
    return it (None without numba).

    Until they are ready, ``gd.engine`` serves "auto" from the NumPy reference (the same
    numbers), so a link opened right after ``streamlit run`` draws at once instead of waiting
    for a cold compile (``gd._kernels.COMPILE_SECONDS``); ``wait_for_kernels`` bounds the work
    done meanwhile.

    After the compile, every object alive so far (Streamlit, NumPy, numba, Plotly: a few hundred
    thousand) moves out of the garbage collector's reach with ``gc.freeze``. Without the freeze,
    Python's own full collections, which allocation-heavy reruns start every few seconds, walk
    all of those objects while holding the GIL: 40–90 ms that every session on the server waits
    for (docs/benchmarks.md, "Commits").
    """
    if gd.engine.compiled is None:  # no numba: the NumPy reference serves
        _freeze()
        return None
    gd.engine.defer()
    thread = threading.Thread(target=_compile, name="numba-warm-up", daemon=True)
    thread.start()
    return thread


def _compile() -> None:
    kernels = gd.engine.compiled
    try:
        if not kernels.disk_cache_ready():
            # numba's compiler holds the GIL for a cold compile, which would slow every request
            # served meanwhile: a child process compiles and writes the disk cache, then this one
            # only loads it. If the child fails, warm_up below compiles here, as before.
            child = subprocess.run(
                [sys.executable, "-c", "from gd import _kernels; _kernels.warm_up()"],
                cwd=Path(gd.__file__).resolve().parents[1],
                capture_output=True,
                timeout=600,
                check=False,
            )
            if child.returncode < 0:  # stopped by a signal: the server is stopping (Ctrl+C
                return  # reaches the whole process group), so compiling here would hold it up
        kernels.warm_up()
    finally:  # a failed warm-up compiles on first use instead, as before
        gd.engine.mark_ready()
        _freeze()


def _freeze() -> None:
    gc.collect()
    gc.freeze()


def wait_for_kernels(work: int, timeout: float = 180.0) -> None:
    """Go on when the kernels are ready (within ``GRACE``) or ``work`` is small enough for the
    NumPy reference (``REFERENCE_WORK``); otherwise say that the fast engine is being prepared
    and wait for it, so heavy settings never run on the reference."""
    warm_up()
    if gd.engine.wait_ready(GRACE) or work <= REFERENCE_WORK:
        return
    with st.spinner("Preparing the fast engine (the numba kernels compile on a first start)…"):
        gd.engine.wait_ready(timeout)
