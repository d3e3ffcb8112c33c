"""Shared layer (every lesson): what every lesson page starts with, the shared sidebar, and
bad settings explained."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import gd
from gd.loop import train_loop
from ui import budget, cache, classroom, controls, explain, warmup
from ui.text import user_text
from ui.upload import csv_error, csv_uploader
from ui.words import plural

# Once the kernels are ready, each session reruns its page once, to stop the notice's clock
# (a fragment's run_every ends only with a run of the page): at a random second of this many,
# so that a class of 100 does not rerun 100 pages at the same moment.
SPREAD_SECONDS = 10
_SPREAD = "_engine_notice_spread"  # this session's seconds still to wait, once ready


def start(
    training: Sequence[str] = controls.TRAINING_KEYS,
    omit: Sequence[str] = (),
    reference_work: Callable[[controls.Settings], int] | None = None,
) -> controls.Settings:
    """Draw the shared sidebar (less ``omit``), show link notices and upload errors, and
    load the compiled kernels once per server (``warmup.warm_up``, in the background).

    Args:
        training: the keys of the "Training: fit(…)" section, in order.
        omit: keys a lesson sets itself (for example ``learning_rate`` on a page whose axis
            it is); they keep the session's values.
        reference_work: the work (``ui.budget`` units) the page will do for given settings;
            while the kernels compile, a page whose work is small enough is served by the
            NumPy reference at once, and any other page waits for the kernels, saying so.

    Returns:
        The full settings of the session.
    """
    controls.link_notices()
    warmup.warm_up()  # the process's first request starts it: then the kernels are not ready
    # The fast engine's notice goes above the settings; once the kernels are ready, no slot.
    notice = None if gd.engine.ready() else st.sidebar.container()
    # A class may hide sections (ui.classroom): their settings stay the class's.
    data, fit, start_point = classroom.SECTIONS
    if classroom.shows_section(data):
        settings = controls.sidebar({data: controls.DATA_KEYS[:2]})
        if settings.source == "csv":
            csv_uploader()
        else:
            controls.sidebar({"": controls.DATA_KEYS[2:]})
    sections = {fit: [key for key in training if key not in omit], start_point: controls.START_KEYS}
    settings = controls.sidebar(
        {t: keys for t, keys in sections.items() if classroom.shows_section(t)}
    )
    csv_error()
    settings = _trainable(settings)
    if not gd.engine.ready():
        warmup.wait_for_kernels(reference_work(settings) if reference_work else budget.BUDGET)
    if notice is not None and not gd.engine.ready():
        with notice:
            _engine_notice()
    return settings


@st.fragment(run_every=1.0)
def _engine_notice() -> None:
    """``warmup.PREPARING`` while the NumPy reference serves, rechecked once a second; once
    the kernels are ready, nothing, and one rerun of the page within ``SPREAD_SECONDS``.

    The reference gives the same numbers, so that rerun redraws nothing: it only stops the
    clock (1 s a tick costs the server about 7 ms a session, 0.7 of a core for a class of
    100). The notice sits in the sidebar, so the page's own elements (the live stage among
    them) keep their places, and a drag under way goes on through the rerun.
    """
    if not gd.engine.ready():
        st.caption(warmup.PREPARING)
        return
    wait = st.session_state.get(_SPREAD, random.randint(0, SPREAD_SECONDS - 1))
    if wait <= 0:
        st.session_state.pop(_SPREAD, None)
        st.rerun(scope="app")
    st.session_state[_SPREAD] = wait - 1


def _trainable(settings: controls.Settings) -> controls.Settings:
    """``settings`` when their split leaves rows to train on; otherwise say why, in the
    learner's words, and return the settings the page last drew (or stop if there are none).

    Links and uploads are checked before they change anything (``controls.read_link``,
    ``ui.upload``); this is the last guard, for every other way a setting can change.
    """
    problem = settings.split_problem
    if problem is None:
        st.session_state[controls.LAST_GOOD] = settings
        return settings
    previous = st.session_state.get(controls.LAST_GOOD)
    if previous is None:
        st.warning(f"{problem} Nothing can be drawn until then.", icon=":material/content_cut:")
        st.stop()
    st.warning(
        f"{problem} The page still shows your previous settings ({previous.n} samples, "
        f"validation split {previous.validation_split:g}).",
        icon=":material/content_cut:",
    )
    return previous


@contextmanager
def explained_errors() -> Iterator[None]:
    """Show a ``ValueError`` from ``gd`` (its message says what to change) and stop the page,
    instead of a traceback."""
    try:
        yield
    except ValueError as error:
        st.error(user_text(error))  # it may quote a value from a link or a file
        st.stop()


@dataclass(frozen=True)
class Offer:
    """The nearest setting that fits the work budget: a button's label and what it sets."""

    label: str  # e.g. "Use 4 seeds per batch size"
    settings: dict[str, Any] = field(default_factory=dict)  # shared settings (controls)
    widgets: dict[str, Any] = field(default_factory=dict)  # this page's own widget keys


_REDRAW = "_redraw_page"  # set by a callback in a fragment that changed what the sidebar shows


def redraw_page() -> None:
    """From a callback whose widget sits in a fragment (the Playground's stage): the settings
    it changed show in the sidebar too, which that fragment's rerun would leave as it was (an
    offer's epochs, Nesterov's switch when momentum leaves or reaches 0), so the run it causes
    reruns the page once instead (``within_budget`` does, first thing)."""
    st.session_state[_REDRAW] = True


def _take(offer: Offer) -> None:
    controls.set_values(**offer.settings)
    st.session_state.update(offer.widgets)
    redraw_page()


def _redraw_if_asked() -> None:
    """See ``redraw_page``. Only a fragment's run reruns: a run of the page drew the sidebar."""
    context = get_script_run_ctx()
    if st.session_state.pop(_REDRAW, False) and context and context.fragment_ids_this_run:
        st.rerun(scope="app")


def within_budget(work: int, what: str, nearest: Callable[[], Offer | None]) -> None:
    """Go on when ``work`` fits ``ui.budget``; otherwise say what it would take, offer the
    nearest setting that fits as a button (``nearest()``, only then worked out: it weighs
    other settings' work), and stop the page before anything is computed."""
    _redraw_if_asked()
    if budget.fits(work):
        return
    offer = nearest()
    advice = (
        f" The nearest setting that fits: **{offer.label[0].lower()}{offer.label[1:]}**."
        if offer
        else " Lower the number of samples or the epochs in the sidebar."
    )
    st.warning(
        f"**Too much work for one request.** {what} would take {work:,} units of work "
        f"(updates × rows per update × runs), {budget.times_over(work)} the {budget.BUDGET:,} "
        "that one request may use on this server, so that every student's page stays quick. "
        f"Nothing was computed.{advice}",
        icon=":material/hourglass_top:",
    )
    if offer:
        st.button(offer.label, on_click=_take, args=(offer,), key="budget_offer", type="primary")
    st.stop()


def epochs_offer(work_at: Callable[[int], int], settings: controls.Settings) -> Offer | None:
    """The most epochs below the current ones whose work fits, as an ``Offer``."""
    epochs = budget.nearest([e for e in controls.EPOCHS if e < settings.epochs], work_at)
    return None if epochs is None else Offer(f"Use {plural(epochs, 'epoch')}", {"epochs": epochs})


def offer(work: Callable[[controls.Settings], int], settings: controls.Settings) -> Offer | None:
    """The nearest settings whose ``work`` fits: fewer epochs; else, for synthetic data, the
    most samples that fit at these epochs, or at fewer (an upload's rows are its own)."""
    s = settings
    fewer = epochs_offer(lambda e: work(dataclasses.replace(s, epochs=e)), s)
    if fewer is not None or s.source == "csv":
        return fewer
    for epochs in sorted({e for e in (s.epochs, *controls.EPOCHS) if e <= s.epochs})[::-1]:
        shorter = dataclasses.replace(s, epochs=epochs)
        samples = budget.nearest(
            [n for n in controls.SAMPLES if n < s.n],
            lambda n, shorter=shorter: work(dataclasses.replace(shorter, n=n)),
        )
        if samples is not None and epochs == s.epochs:
            return Offer(f"Use {samples:,} samples", {"n": samples})
        if samples is not None:
            return Offer(
                f"Use {samples:,} samples and {epochs} epochs", {"n": samples, "epochs": epochs}
            )
    return None


def trained_work(settings: controls.Settings, runs: int = 1) -> int:
    """The work of ``runs`` runs of these settings and of their loss surface."""
    s = settings
    runs_work = runs * budget.run_work(s.model, s.n_train, s.batch_size, s.epochs)
    return runs_work + cache.surface_work(s)


def run_offer(settings: controls.Settings, runs: int = 1) -> Offer | None:
    """``offer`` for a page that trains ``runs`` runs of these settings and draws their loss
    surface."""
    return offer(lambda t: trained_work(t, runs), settings)


class Trained(NamedTuple):
    """The session's run for its settings, with the loss surface and the data it was fitted to."""

    run: gd.Run
    surface: cache.Surface
    data: gd.Dataset


def trained(settings: controls.Settings) -> Trained:
    """The run, its surface and its data; a ``ValueError`` from ``gd`` is shown and stops the
    page (see ``explained_errors``)."""
    s = settings
    within_budget(trained_work(s), f"This run of {s.epochs} epochs", lambda: run_offer(s))
    with explained_errors():
        run = cache.run_for(settings)
        surface = cache.surface_for(settings)
    return Trained(run, surface, cache.data_for(settings))


def divergence_warning(run: gd.Run, headline: str, then: str, advice: str = "") -> None:
    """Say that ``run`` blew up, where, why (``advice``) and what the page shows instead
    (``then``); nothing when it did not.

    Args:
        headline: who diverged, e.g. "This run diverged" or "Diverged".
        then: what the page does about it, e.g. "The charts show the path up to the blow-up."
        advice: why it blew up and what to try (``explain.divergence_advice``), or "".
    """
    if run.diverged_at is not None:
        reason = f"{advice} " if advice else ""
        st.warning(
            f"**{headline} at update {run.diverged_at:,}.** {reason}{then}",
            icon=":material/warning:",
        )


def explained_divergence(
    settings: controls.Settings, data: gd.Dataset, run: gd.Run, headline: str, then: str
) -> None:
    """``divergence_warning`` with the reason and a safer learning rate, from ``explain``."""
    if run.diverged_at is not None:
        advice = explain.divergence_advice(settings, data, run)
        divergence_warning(run, headline, then, advice)


@functools.cache
def source(function: Callable) -> str:
    """The source text of one of ``gd``'s functions, read once per process."""
    return inspect.getsource(function)


def update_rule_code(container, convention: str) -> None:
    """The source of the update function ``gd`` runs in ``convention`` (``gd.SGD(...).rule``),
    so the rule a learner reads is the one that ran."""
    container.code(source(gd.SGD(convention=convention).rule), language="python")


def update_rule(settings: controls.Settings, batch_size: int) -> None:
    """The update this run applies, as a formula with its numbers, and the code that ran."""
    st.latex(explain.update_rule_latex(settings, batch_size))
    with st.expander("Show the code"):
        st.caption(
            "The reference loop and update rule that produced these numbers (gd/loop.py, "
            "gd/optim.py); the compiled fast path is checked equal to it."
        )
        st.code(source(train_loop), language="python")
        update_rule_code(st, settings.convention)
