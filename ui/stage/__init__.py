"""The live stage: a browser component that holds families of exact runs and redraws them per frame.

While a knob is dragged, the browser switches between runs it already holds (``gd.family``:
one exact ``gd.fit`` run per slider position, everything else fixed), so nothing goes to the
server. On release it sends the value once, with the ids of what it holds; the page stores
the value (session and URL) and the next rerun ships the families around the new point, less
what the browser holds: the released knob's family and the scene (``ids``, ``held_ids``). A
browser that lost them (a stage mounted anew) says "missing", and the rerun ships it all.
Playback (play, step, speed, scrub) runs in the browser too.

A page needs two lines::

    from ui import stage

    stage.live(settings, csv, describe=my_status,
               on_commit=lambda c: controls.set_values(**{c.knob: c.value}))

(``live`` also returns the ``Commit``, or None, for a page that prefers to act after it.)

Playback position: when the learner stops playing, stepping or scrubbing, the browser sends
the update once; ``on_scrub`` receives it (an int, or None for the whole run), and
``remember_update`` keeps it in the session and the link (``?update=N``). ``playback_start``
reads it back, seeded once from the link and checked against the run, for ``live(update=…)``.

What the class may see and do, for a classroom: ``live(view=View(...))`` (``payload.View``)
locks or hides knobs, starts playback from update 0 when its ``play`` token changes, and
switches to the presenter view (two large panels, large text, for a projector). It rides in the
payload's header (``with_view``) like ``update``, so a new view changes no cached bytes and
needs no new mount.

``describe(family, r)`` returns the strings the metrics row shows for run r after the
numbers (e.g. ``("converged", "The final loss … ")``); the stage computes no verdicts itself.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

import gd
from gd.family import KNOBS, check_knob
from ui import budget, cache, warmup
from ui.controls import DEFAULTS, HASH_FUNCS, Settings, keep_in_link
from ui.stage.payload import (
    DEFAULT_VIEW,
    Ids,
    PerKnob,
    Scene,
    View,
    encode,
    knob_values,
    position,
    read_update,
    staged,
    with_view,
)
from ui.words import plural

__all__ = [
    "UPDATE",
    "Commit",
    "PerKnob",
    "View",
    "families",
    "live",
    "payload",
    "playback_start",
    "remember_update",
    "scene",
    "update_from_link",
]

UPDATE = "update"  # the link's key for the playback position
# A path that leaves the contour window is followed out to these many half-widths (payload.follow)
ZOOMS = (3.0, 10.0, 30.0)
ZOOM_GRID = 33  # points per axis of each widened window: coarse, to keep the payload under 300 kB
FAMILIES_KEPT = 16  # settings whose four families every session shares (64 families)
_UPDATE_STATE = "_stage_update"  # the session's copy: int, or None for the whole run
_HELD = "_stage_held"  # the ids the browser holds, from its last release, for the next run


@functools.cache
def component(name: str) -> Callable[..., object]:
    """The browser component ``ui.<name>``: the module ``ui/web/<name>.js`` and the stylesheet
    ``ui/web/<name>.css``.

    ui/web is the components' asset folder (pyproject.toml's ``[tool.streamlit.component]``,
    found through ``pip install -e .``): Streamlit serves its files by URL, so the browser
    fetches them once and caches them, and no message carries them. Each JS file is a plain
    module (no bundler) that imports the shared drawing, ``canvas.js``; the CSS is scoped by
    the shadow root (isolate_styles), so the app's styles and the stage's never meet.
    Declared at the first mount, inside a run, where Streamlit has read the manifest: a plain
    import (the unit tests') declares nothing.
    """
    return st.components.v2.component(
        f"ui.{name}", js=f"{name}.js", css=f"{name}.css", isolate_styles=True
    )


@dataclass(frozen=True)
class Commit:
    """A knob value the learner released on the stage."""

    knob: str  # "learning_rate", "batch_size", "momentum" or "decay"
    value: float | int


def _family(settings: Settings, csv: bytes | None, knob: str, values) -> gd.Family:
    """``gd.family`` of one knob through ``values``, everything else from ``settings``."""
    s = settings
    data = cache.dataset_for(s, csv)
    return gd.family(
        s.spec.build(),
        data.x,
        data.y,
        cache.optimizer_for(s),
        s.training,
        knob=knob,
        values=values,
        batch_size=s.batch_size,
    )


def _around(
    settings: Settings, csv: bytes | None, make: Callable[[str, list], gd.Family]
) -> PerKnob[gd.Family]:
    """``make(knob, values)`` for each knob, through its slider positions around ``settings``."""
    n_train = settings.n_train
    return PerKnob(
        *(make(knob, knob_values(knob, getattr(settings, knob), n_train)) for knob in KNOBS)
    )


def build_families(settings: Settings, csv: bytes | None) -> PerKnob[gd.Family]:
    """The four families around ``settings`` (uncached; ``families`` caches each)."""
    return _around(settings, csv, lambda knob, values: _family(settings, csv, knob, values))


@st.cache_resource(max_entries=4 * FAMILIES_KEPT, show_spinner=False, hash_funcs=HASH_FUNCS)
def _cached_family(
    others: Settings,
    csv: bytes | None,
    knob: str,
    positions: str,
    _settings: Settings,
    _values: list,
) -> gd.Family:
    """``_family`` of ``_settings`` through ``_values``, shared by every session.

    Keyed by ``others``, the settings with the knob's own value reset, and ``positions``, the
    values' repr (a string hashes 30× faster than a tuple of floats): a family depends on the
    knob's value only through the values, so releasing a knob finds its own family here and
    only the other three are computed. A resource cache returns the family as is, never
    pickled or copied (``gd.Family`` is frozen and nothing writes to its arrays).
    """
    return _family(_settings, csv, knob, _values)


def current_only(settings: Settings, csv: bytes | None) -> PerKnob[gd.Family]:
    """The settings' own run as a one-position family of every knob: what the stage shows
    first while the families of heavy settings are computed (the same exact run)."""
    run = _family(settings, csv, "learning_rate", [settings.learning_rate])
    return PerKnob(
        *(
            dataclasses.replace(run, knob=knob, values=np.array([getattr(settings, knob)]))
            for knob in KNOBS
        )
    )


# Settings whose families this process has computed, newest last, as many as ``families``
# keeps: those come from the cache at once; others may stream in after the current run.
_COMPUTED: OrderedDict[tuple[Settings, int], None] = OrderedDict()
_COMPUTED_LOCK = threading.Lock()
# Above this much work (``work``: about half a second at the budget's rate), the stage first
# shows the current run alone and says the rest is on its way: nothing a class joining a heavy
# link sees first waits for the other positions' runs (issue 19).
STREAM_ABOVE_WORK = 30_000_000


def _seen(settings: Settings, csv: bytes | None, add: bool = False) -> bool:
    key = (settings, hash(csv))
    with _COMPUTED_LOCK:
        if add:
            _COMPUTED[key] = None
            while len(_COMPUTED) > FAMILIES_KEPT:
                _COMPUTED.popitem(last=False)
        elif key in _COMPUTED:
            _COMPUTED.move_to_end(key)
            return True
    return add


def streams(settings: Settings, csv: bytes | None) -> bool:
    """True when the families for ``settings`` are heavy and not computed yet: the stage
    shows the current run first."""
    return work(settings, csv) > STREAM_ABOVE_WORK and not _seen(settings, csv)


def work(settings: Settings, csv: bytes | None = None) -> int:
    """The work (``ui.budget`` units) of the four families around ``settings`` (their updates,
    and the full loss at the points each run keeps) and of the scene's loss grids (the surface
    and its widened windows): what a first request costs."""
    s = settings
    n_train, model = s.n_train, s.spec.build()
    total = cache.surface_work(s) + len(ZOOMS) * cache.grid_work(s, ZOOM_GRID)
    for knob in KNOBS:
        for value in knob_values(knob, getattr(s, knob), n_train):
            size = int(value) if knob == "batch_size" else s.batch_size
            total += budget.run_work(s.model, n_train, size, s.epochs)
            if not model.cheap_losses:  # each kept point's full loss, a pass over the rows
                points = gd.scored_points(model, n_train, size, s.epochs)
                total += budget.score_work(s.model, n_train, points)
    return total


def families(settings: Settings, csv: bytes | None) -> PerKnob[gd.Family]:
    """The four families around ``settings``, shared by every session (64 families kept)."""

    def make(knob: str, values: list) -> gd.Family:
        others = dataclasses.replace(settings, **{knob: getattr(DEFAULTS, knob)})
        return _cached_family(
            others=others,
            csv=csv,
            knob=knob,
            positions=repr(values),
            _settings=settings,
            _values=values,
        )

    fams = _around(settings, csv, make)
    _seen(settings, csv, add=True)
    return fams


def scene(settings: Settings, csv: bytes | None) -> Scene:
    """The loss surface, data and model of the stage (from ``ui.cache``'s cached calls)."""
    plane = cache.surface_for_data(settings, csv)
    data = cache.dataset_for(settings, csv)
    return Scene(
        model=settings.model,
        names=plane.names,
        axis0=plane.axis0,
        axis1=plane.axis1,
        loss=plane.loss,
        minimum=plane.minimum,
        min_loss=plane.min_loss,
        x=data.x,
        y=data.y,
        n_train=settings.n_train,
        epochs=settings.epochs,
        fit_label=settings.spec.fit_label,
        widened=cache.widened_for_data(settings, csv, ZOOMS, ZOOM_GRID),
        plane=plane.plane,
        axis_titles=plane.axis_titles,
    )


def current_positions(settings: Settings, fams: PerKnob[gd.Family]) -> PerKnob[int]:
    """Index of the settings' own value in each family."""
    return PerKnob(*(position(getattr(fams, k).values, getattr(settings, k)) for k in KNOBS))


Texts = tuple[tuple[Sequence[str], ...], ...]  # knob, run, strings (or a ui.explain.Status)


def ids(settings: Settings, csv: bytes | None, texts_key: str) -> Ids:
    """Short names for what the four families and the scene are computed from (``Ids``), so
    a browser that holds a part is sent its name alone. A family is named by the settings
    with its knob reset (as ``families`` caches it), its positions, the strings said of its
    runs and the scene (its runs' zooms depend on the surface); the scene by the settings with
    every live knob reset, or all of them for a slice (``cache.Surface``). Within a process:
    ``hash(csv)`` is salted per process, so after a restart every name changes and the browser
    is sent everything."""
    n_train = settings.n_train
    others = dataclasses.replace(settings, **{k: getattr(DEFAULTS, k) for k in KNOBS})
    # A slice (the network's) is the plane of the settings' own run: every knob moves it.
    scene_id = _digest(repr(others if settings.spec.two_parameters else settings), hash(csv))
    names = []
    for knob in KNOBS:
        values = knob_values(knob, getattr(settings, knob), n_train)
        rest = dataclasses.replace(settings, **{knob: getattr(DEFAULTS, knob)})
        names.append(_digest(repr(rest), hash(csv), knob, repr(values), texts_key, scene_id))
    return Ids(PerKnob(*names), scene_id)


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


@st.cache_data(max_entries=48, show_spinner=False, hash_funcs=HASH_FUNCS)
def payload(
    settings: Settings,
    csv: bytes | None,
    texts_key: str,
    _describe: Callable[[gd.Family, int], Sequence[str]] | None,
    held: frozenset[str] = frozenset(),
    _families: PerKnob[gd.Family] | None = None,
) -> bytes:
    """The stage's bytes for ``settings``, with ``_describe``'s strings for every run, less
    the parts whose ``ids`` are in ``held`` (the browser has them).

    ``texts_key`` names what ``_describe`` says (its strings must follow from the settings and
    the data alone): the cache keys on it instead of hashing every run's strings.
    ``_families``: ``families(settings, csv)`` when the caller has them (each lookup hashes
    the settings again).
    """
    fams = families(settings, csv) if _families is None else _families
    names = ids(settings, csv, texts_key)
    unsent = {knob for knob, name in names.families.items() if name in held}
    return encode(
        fams,
        current_positions(settings, fams),
        PerKnob(*texts_for(fams, _describe, unsent)),
        scene(settings, csv),
        names,
        held,
    )


def texts_for(
    fams: PerKnob[gd.Family],
    describe: Callable[[gd.Family, int], Sequence[str]] | None,
    unsent: Collection[str] = (),
) -> Texts:
    """``describe(family, r)`` for every run of every family (empty without ``describe``),
    except the families of the knobs in ``unsent``: the browser holds them, and their strings
    (a sixth of a release's time) are not sent."""
    return tuple(
        ()
        if knob in unsent
        else tuple(describe(fam, r) if describe else () for r in range(fam.runs))
        for knob, fam in fams.items()
    )


MAX_HELD = 5  # the four families and the scene


def held_ids(sent: object) -> frozenset[str]:
    """The ids the browser says it holds, sent with a release (``{"holds": [...]}``): at most
    ``MAX_HELD`` short strings; anything else holds nothing."""
    holds = sent.get("holds") if isinstance(sent, dict) else None
    if not isinstance(holds, list) or len(holds) > MAX_HELD:
        return frozenset()
    if not all(isinstance(h, str) and len(h) <= 32 for h in holds):
        return frozenset()
    return frozenset(holds)


def _commit(sent: object) -> Commit | None:
    """The browser's ``{"knob", "value"}`` as a ``Commit``, or None if it is not a valid one
    (``gd.family.check_knob``: the knob table's own check, as ``gd.family`` applies it; the
    page's store then applies the sidebar's ranges, ``ui.controls.commit``)."""
    if not isinstance(sent, dict) or sent.get("knob") not in KNOBS:
        return None
    knob = sent["knob"]
    try:
        return Commit(knob, check_knob(knob, sent.get("value")))
    except (TypeError, ValueError):
        return None


def _scrub(sent: object, updates: int) -> tuple[bool, int | None]:
    """The browser's ``{"update": n | null}`` as (valid, update); n is clamped to the run."""
    if not isinstance(sent, dict) or "update" not in sent:
        return False, None
    value = sent["update"]
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False, None
    if not float(value).is_integer() or value < 0:
        return False, None
    return True, min(int(value), updates)


def update_from_link(updates: int) -> int | None:
    """The link's ``update`` checked against a run of ``updates`` (``read_update``): None when
    the link has none or names the whole run; a value that cannot be used is explained."""
    value, notice = read_update(st.query_params.get(UPDATE), updates)
    if notice:
        st.warning(
            f"The link had a value that could not be used: {notice}", icon=":material/link_off:"
        )
    return value


def playback_start(updates: int) -> int | None:
    """Where the stage's playback starts, for a run of ``updates`` updates.

    The learner's last stop in this session, seeded once from the link's ``update`` (a bad
    value is explained with a notice and the whole run is shown); a stop past the end of a
    shorter run becomes the whole run. Keeps the link in step. None means the whole run.
    """
    if _UPDATE_STATE not in st.session_state:
        st.session_state[_UPDATE_STATE] = update_from_link(updates)
    value = st.session_state[_UPDATE_STATE]
    if value is not None and value > updates:
        value = st.session_state[_UPDATE_STATE] = None
    keep_in_link(UPDATE, value)
    return value


def remember_update(update: int | None) -> None:
    """Keep the position the learner stopped at (None: the whole run) in the session and link."""
    st.session_state[_UPDATE_STATE] = update
    keep_in_link(UPDATE, update)


def live(
    settings: Settings,
    csv: bytes | None,
    describe: Callable[[gd.Family, int], Sequence[str]] | None = None,
    *,
    texts_key: str = "",
    on_commit: Callable[[Commit], None] | None = None,
    update: int | None = None,
    on_scrub: Callable[[int | None], None] | None = None,
    key: str = "live_stage",
    view: View = DEFAULT_VIEW,
) -> Commit | None:
    """Mount the stage for ``settings``; return the knob value released since the last run.

    Args:
        settings: the page's settings; the four live knobs start at its values.
        csv: the uploaded CSV's bytes, or None for synthetic data.
        describe: ``describe(family, r)`` gives the status strings of run r (see module doc).
        texts_key: a name for what ``describe`` says, unique per ``describe`` in the app; the
            payload cache keys on it (``describe``'s strings must follow from the settings).
        on_commit: called with the ``Commit`` before the rerun it causes (a widget callback),
            so a page that stores the value there draws the new families in that same run.
        update: where playback starts (an update index, None for the whole run); the
            browser moves its cursor there only when this differs from what it last had.
        on_scrub: called with the update the learner stopped at (None: the end of the run),
            before the rerun it causes; e.g. ``remember_update``.
        key: the component's key; keep it stable so the stage keeps its DOM across reruns.
        view: what the class may see and do (``View``: locked and hidden knobs, the play
            token, the presenter view); the default changes nothing. A released value of a
            locked or hidden knob never comes back (the browser does not send one).

    Returns:
        ``Commit(knob, value)`` on the rerun a knob was released, else None.
    """
    warmup.warm_up()
    first = st.empty()  # heavy settings: the current run alone, while the families compute
    if streams(settings, csv):
        alone = current_only(settings, csv)
        with first.container():
            updates = alone.learning_rate.updates(0)
            st.caption(
                f"Computing a run for every position of the four knobs "
                f"({plural(updates, 'update')} each). Here is the current run; the knobs come "
                "alive in a moment."
            )
            component("stage")(
                key=f"{key}_first",
                # The view without its token: the stage below plays it once it mounts.
                data=with_view(
                    encode(
                        alone,
                        PerKnob(0, 0, 0, 0),
                        PerKnob(*texts_for(alone, describe)),
                        scene(settings, csv),
                    ),
                    dataclasses.replace(view, play=0),
                ),
                on_commit_change=lambda: None,
                on_scrub_change=lambda: None,
            )
    fams = families(settings, csv)
    first.empty()
    # After a release, the browser holds the released knob's family and the scene: they ship
    # as their ids. Any other rerun, and the browser's "missing" (it lost them), ships it all.
    held = st.session_state.pop(f"{_HELD}:{key}", frozenset())
    sent = payload(
        settings=settings,
        csv=csv,
        texts_key=texts_key,
        _describe=describe,
        held=held,
        _families=fams,
    )
    data = staged(sent, update, view)
    updates = fams.learning_rate.updates(current_positions(settings, fams).learning_rate)

    def changed() -> None:
        sent = st.session_state[key].get("commit")
        commit = _commit(sent)
        if commit is not None:
            st.session_state[f"{_HELD}:{key}"] = held_ids(sent)
            if on_commit is not None:
                on_commit(commit)

    def scrubbed() -> None:
        valid, stop = _scrub(st.session_state[key].get("scrub"), updates)
        if valid and on_scrub is not None:
            on_scrub(stop)

    result = component("stage")(
        key=key,
        data=data,
        on_commit_change=changed,
        on_scrub_change=scrubbed,
        on_missing_change=lambda: None,
    )
    return _commit(result.get("commit"))
