"""The sidebar every lesson shares: data (synthetic or an uploaded CSV), training, start."""

from __future__ import annotations

from collections.abc import Sequence

from ui import controls
from ui.upload import csv_error, csv_uploader


def lesson_sidebar(
    training: Sequence[str] = controls.TRAINING_KEYS,
    omit: Sequence[str] = (),
) -> controls.Settings:
    """Draw the shared controls (less ``omit``), show link notices and upload errors.

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
    return settings
