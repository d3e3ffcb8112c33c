"""Shared layer (every lesson): what every lesson page starts with, the shared sidebar, and
bad settings explained."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import streamlit as st

from ui import cache, controls
from ui.upload import csv_error, csv_uploader


def start(
    training: Sequence[str] = controls.TRAINING_KEYS,
    omit: Sequence[str] = (),
) -> controls.Settings:
    """Draw the shared sidebar (less ``omit``), show link notices and upload errors, and
    load the compiled kernels once per server.

    Args:
        training: the keys of the "Training: fit(…)" section, in order.
        omit: keys a lesson sets itself (for example ``learning_rate`` on a page whose axis
            it is); they keep the session's values.

    Returns:
        The full settings of the session.
    """
    controls.link_notices()
    settings = controls.sidebar({"Data": controls.DATA_KEYS[:2]})
    if settings.source == "csv":
        csv_uploader()
    else:
        controls.sidebar({"": controls.DATA_KEYS[2:]})
    settings = controls.sidebar(
        {
            "Training: fit(…)": [key for key in training if key not in omit],
            "Start and convention": controls.START_KEYS,
        }
    )
    csv_error()
    cache.warm_up()
    return settings


@contextmanager
def explained_errors() -> Iterator[None]:
    """Show a ``ValueError`` from ``gd`` (its message says what to change) and stop the page,
    instead of a traceback."""
    try:
        yield
    except ValueError as error:
        st.error(str(error))
        st.stop()
