"""The update scrubber of "Inside one mini-batch": a browser component that steps through updates.

The server takes apart a window of updates at once (every inspectable update, up to a budget of
floats shipped and of the zoomed losses' work: ``payload.window``, ``payload.work_budget``) and
ships one picture per update: the batch's per-row steps, their mean, the full-data step and the step
taken on the loss (zoomed to each update's steps), the batch's rows in the data with the fit
before the update, and the update's four numbers. The browser's ◀ / ▶ buttons, arrow keys and
scrubber switch between those pictures with no round trip. When the learner stops (a pause after
stepping, or the scrubber's release) the update goes to the page once: it is stored in the
session and the link (``?update=N``), and the sections that depend on it (gradient noise, the
takeaway) follow. A stop outside the loaded window asks for the window around it.

It counts as the whole app does: "update u of U", update 0 being the start and U, the run's
total, the last; the scrubber runs over the updates that can be taken apart, ``1 … last``
(update u takes the parameters ``params[u − 1]`` to ``params[u]``, so a diverged run stops at
the update that blew it up). The session, the link (``?update=12``, as the Playground's) and the
browser all hold u; the payload is indexed as ``gd`` is, by t = u − 1.

A page needs one line::

    update = inside_stage.scrubber(settings, last)

The drawing is in ``ui/web/inside.js`` (canvas, with ``ui/web/canvas.js``), the payload in
``payload.py`` (pure, with its decoder for the tests).
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from gd import noise
from ui import cache
from ui.budget import updates
from ui.controls import HASH_FUNCS, Settings, keep_in_link
from ui.inside_a_batch_charts import Zoom, update_step_radius, where_in_run
from ui.inside_stage.payload import (
    GRID,
    Frame,
    Scene,
    cost,
    curve_points,
    encode,
    frame_work,
    frames_loaded,
    legend_caption,
    on_chart,
    parallel_plane,
    shown_points,
    window,
    work_budget,
)
from ui.stage import UPDATE, component, update_from_link
from ui.stage.payload import with_update

__all__ = ["UPDATE_KEY", "legend_caption", "payload", "position", "scrubber", "work"]

UPDATE_KEY = "update"  # the session's key, as the old slider's (the link's is ui.stage.UPDATE)


def window_for(settings: Settings, csv: bytes | None, start: int, last: int) -> tuple[int, int]:
    """The updates to load around ``start`` (indices t, as ``last``); ``first`` snaps to a
    quarter of the window, so nearby starts share one cached payload."""
    run = cache.run(settings, csv)
    shown = shown_points(cache.dataset_for(settings, csv).n)
    per_update = cost(run.batch_size, shown.size, curve_points(settings.model))
    floats = work_budget(frame_work(settings.model, run.n_train), per_update)
    first, end = window(start, last, per_update, floats)
    size = end - first + 1
    step = max(1, size // 4)
    first = min((first // step) * step, last + 1 - size)
    return first, first + size - 1


def work(settings: Settings) -> int:
    """The work (``ui.budget`` units) of the pictures a request loads, at most, counted before
    the run exists: ``window_for``'s frames for the run's planned updates, the zoomed loss of
    each (``payload.frame_work``)."""
    s = settings
    n_train = s.n_train
    per_update = cost(min(s.batch_size, n_train), shown_points(s.n).size, curve_points(s.model))
    each = frame_work(s.model, n_train)
    return frames_loaded(updates(n_train, s.batch_size, s.epochs), per_update, each) * each


@st.cache_data(max_entries=32, show_spinner="Taking the updates apart…", hash_funcs=HASH_FUNCS)
def payload(settings: Settings, csv: bytes | None, first: int, end: int, last: int) -> bytes:
    """The pictures of updates ``first … end`` of the settings' run (``last``: the last one
    that can be taken apart; all three indices t = u − 1); ``with_update`` sets where the
    scrubber starts."""
    run = cache.run(settings, csv)
    data = cache.dataset_for(settings, csv)
    x, y = cache.training_rows(settings, csv)
    model = settings.spec.build()
    surface = cache.surface_for_data(settings, csv)
    frames = []
    for update in range(first, end + 1):
        inside = noise.inside_update(model, run, x, y, update)
        view = on_chart(inside, surface.plane)  # the network's: on its slice
        # The zoom follows the update: its arrows fill the window, a blow-up's too.
        radius, centre = update_step_radius(view), view.params[:2]
        axis0 = np.linspace(centre[0] - radius, centre[0] + radius, GRID)
        axis1 = np.linspace(centre[1] - radius, centre[1] + radius, GRID)
        through = parallel_plane(surface.plane, run.params[update])
        with np.errstate(all="ignore"):
            loss = cache.plane_loss(model, x, y, through, axis0, axis1)
        frames.append(
            Frame(
                inside,
                Zoom(axis0, axis1, loss),
                float(run.batch_loss[update]),
                where_in_run(run, update),
                view,
            )
        )
    trail_from = first - first % run.updates_per_epoch
    scene = Scene(
        model=settings.model,
        names=surface.names,
        fit_label=settings.spec.fit_label,
        minimum=surface.minimum,
        x=data.x,
        y=data.y,
        n_train=settings.n_train,
        updates=run.updates,
        updates_per_epoch=run.updates_per_epoch,
        last=last,
        trail=run.params[trail_from : end + 2],
        trail_from=trail_from,
        momentum=settings.momentum,
        plane=surface.plane,
    )
    return encode(frames, scene)


FIRST = 1  # the first update there is to take apart (update 0 is the start)


def position(last: int) -> int:
    """The update looked at, u: the session's, seeded once from the link as the Playground's
    stage reads it (``ui.stage.update_from_link``: a value that cannot be used is explained;
    none is update 1), and clamped to ``1 … last`` (a new run may have fewer updates; the
    link's update 0, the start, has nothing to take apart). Kept in the link."""
    if UPDATE_KEY not in st.session_state:
        value = update_from_link(last)
        st.session_state[UPDATE_KEY] = FIRST if value is None else value
    update = min(max(int(st.session_state[UPDATE_KEY]), FIRST), last)
    st.session_state[UPDATE_KEY] = update
    keep_in_link(UPDATE, update, FIRST)
    return update


def _stopped(sent: object, last: int) -> int | None:
    """The browser's update as an int in ``1 … last``, or None if it is not a valid one."""
    if isinstance(sent, bool) or not isinstance(sent, int | float) or not math.isfinite(sent):
        return None
    if not float(sent).is_integer() or not FIRST <= sent <= last:
        return None
    return int(sent)


def scrubber(settings: Settings, last: int, key: str = "update_scrubber") -> int:
    """Mount the update scrubber at the session's update; return that update, u.

    Args:
        settings: the page's settings (their run is the one taken apart).
        last: the last update that can be taken apart (``inspectable_updates``), ≥ 1.
        key: the component's key; keep it stable so it keeps its DOM across reruns.
    """
    update = position(last)
    csv = cache.uploaded_csv(settings)
    first, end = window_for(settings, csv, update - 1, last - 1)  # as indices t = u − 1
    data = with_update(payload(settings, csv, first, end, last - 1), update)

    def stopped() -> None:
        chosen = _stopped(st.session_state[key].get("update"), last)
        if chosen is not None:
            st.session_state[UPDATE_KEY] = chosen
            keep_in_link(UPDATE, chosen, FIRST)

    component("inside")(key=key, data=data, on_update_change=stopped)
    return update
