"""Classroom mode: a teacher's class link, predict-then-observe, the presenter view.

A teacher builds a class on "Teach a class" (``lessons/teach.py``): a page and its settings,
which live knobs stay live, locked or hidden, which sidebar sections show, and optionally a
question. The store (``classroom``: SQLite, or PostgreSQL through ``CLASS_DB_URL``) keeps it
under a short code; the class link is ``?class=CODE``, the teacher link adds a secret ``key``.

A student's session, on every run of ``app.py``:

1. ``arrive``: a link's ``?class=CODE`` joins the class. The session takes the class's
   settings and goes to its page; a code this server does not know (mistyped, expired, or
   from another server) is explained, and the normal app shown.
2. ``banner``, above every page: the class's code and its question. Until the student
   answers, a form; then their own answer, changeable until the teacher reveals; then the
   class's answers beside the run's. A poll every ``POLL_SECONDS`` reruns the page when the
   teacher reveals, asks the next question or changes the class's run.
3. The page: ``held_back`` keeps a page from showing until its question is answered (the
   Playground shows its stage, paused at update 0), ``stage_view`` tells the live stage
   which knobs are locked or hidden and when to play, ``shows_section`` which sidebar
   sections to draw.

``?present=1`` on any link is the presenter view for a projector (``presenting``): the stage
large, the sidebar collapsed, the class's code at the top, no answer form.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import streamlit as st

import classroom
from classroom import Asked
from gd.family import KNOBS
from ui import classroom_charts, controls, pages
from ui.stage.payload import View
from ui.text import user_text

CLASS, KEY, PRESENT, SEAT = "class", "key", "present", "seat"  # the links' parameters
SEAT_PATTERN = re.compile(r"[0-9a-f]{32}")
POLL_SECONDS = 2.0  # how often a student's page asks whether the class changed
# A reveal or a new question reaches every page within this many seconds: a poll, the
# process's shared copy of the class (half a second old at most) and the page's rerun.
NOTICED_WITHIN = 3
KNOB_MODES = ("live", "locked", "hidden")
SECTIONS = ("Data", "Training: fit(…)", "Start and convention")  # lesson.start's sidebar
UNREACHABLE = (
    "The class's database did not answer just now. Nothing already saved is lost; the page "
    "tries again in a moment."
)
NOT_JOINED = (
    "The class's database did not answer just now, so the class could not be opened. Open "
    "the class link again in a moment; here is the app meanwhile."
)
NOT_SAVED = "Not saved: the class's database did not answer. Try again in a moment."
_JOINED = "_class_code"  # the class this session joined
_VIEW = "_class_view"  # the view (its JSON) the session last took from the class
_SESSION = "_class_session"  # this browser session's anonymous id: one answer per question
_ASKED = "_class_asked"  # the question the last full run drew: (Asked | None, mine)
_NOTICE = "_class_notice"
_ERROR = "_class_error"  # what the last answer's callback has to say
_PRESENTING = "_class_presenting"  # this session is a projector


@dataclass(frozen=True)
class ClassView:
    """What a class link opens: a page, its settings, and what the class may move."""

    page: str = ""  # the page's url_path ("": the Playground)
    settings: tuple[tuple[str, str], ...] = ()  # the settings as a link's query
    locked: tuple[str, ...] = ()  # live knobs shown at their value, not movable
    hidden: tuple[str, ...] = ()  # live knobs not shown
    sections: tuple[str, ...] = SECTIONS  # the sidebar sections shown

    def __post_init__(self) -> None:
        if self.page not in pages.BY_PATH or self.page == "teach":
            raise ValueError(f"The 'page' parameter must be a lesson's path. Got {self.page!r}.")
        View(locked=self.locked, hidden=self.hidden)  # the stage's own checks of the knobs
        if set(self.sections) - set(SECTIONS):
            raise ValueError(f"The 'sections' must be among {SECTIONS}. Got {self.sections}.")

    @classmethod
    def of(
        cls,
        page: str,
        settings: controls.Settings,
        modes: dict[str, str] | None = None,
        sections: tuple[str, ...] = SECTIONS,
    ) -> ClassView:
        """A view from a page, settings, each live knob's mode (``KNOB_MODES``; a knob not
        named stays live) and the sidebar sections shown."""
        modes = modes or {}
        return cls(
            page=page,
            settings=tuple(sorted(settings.url().items())),
            locked=tuple(k for k in KNOBS if modes.get(k) == "locked"),
            hidden=tuple(k for k in KNOBS if modes.get(k) == "hidden"),
            sections=tuple(s for s in SECTIONS if s in sections),
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ClassView | None:
        """The view stored with a class, or None if it cannot be read (never raises).

        Example:
            >>> view = ClassView.of("batch_sizes", controls.Settings(epochs=5))
            >>> ClassView.from_json(view.to_json()) == view
            True
            >>> ClassView.from_json('{"page": "nowhere"}') is None
            True
        """
        try:
            data = json.loads(text)
            return cls(
                page=str(data["page"]),
                settings=tuple((str(k), str(v)) for k, v in data["settings"]),
                locked=tuple(map(str, data["locked"])),
                hidden=tuple(map(str, data["hidden"])),
                sections=tuple(map(str, data["sections"])),
            )
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def link(self) -> dict[str, str]:
        return dict(self.settings)

    def resolved(self) -> controls.Settings:
        """The settings the view names (a value that no longer parses falls back to the
        default, as any link's would)."""
        values, _ = controls.read_link(self.link)
        return controls.Settings(**values)

    def stage(self, present: bool = False, play: int = 0, conceal: bool = False) -> View:
        """The live stage's view for this class (``ui.stage.View``)."""
        return View(
            locked=frozenset(self.locked),
            hidden=frozenset(self.hidden),
            play=play,
            present=present,
            conceal=conceal,
        )


# ---------------------------------------------------------------- the store


def database_url() -> str | None:
    """The class database named by the environment (``CLASS_DB_URL``), or None: SQLite."""
    return os.environ.get("CLASS_DB_URL") or None


@st.cache_resource(show_spinner=False)
def _store(url: str | None) -> classroom.Store:
    return classroom.open_store(url)


def store() -> classroom.Store:
    """This process's store (one connection pool, shared by every session)."""
    return _store(database_url())


@contextmanager
def reachable() -> Iterator[None]:
    """Say so, and stop the page, when the database does not answer (the teacher's page,
    which is all about the class)."""
    try:
        yield
    except classroom.NotSaved:
        st.warning(UNREACHABLE, icon=":material/cloud_off:")
        st.stop()


@st.cache_data(ttl=POLL_SECONDS / 4, max_entries=2048, show_spinner=False)
def _class_state(code: str, url: str | None) -> tuple[str | None, Asked | None]:
    """A class's view and current question, shared by every session of the process for half
    a second: a class of 100 polling every 2 s reads the database twice a second."""
    room, asked = _store(url).state(code)
    return (None, None) if room is None else (room.view, asked)


def class_state(code: str) -> tuple[str | None, Asked | None]:
    """(the class's view as JSON, or None once it expired; its current question)."""
    return _class_state(code, database_url())


def session_id() -> str:
    """This browser tab's anonymous seat in the class's answers (no name is ever stored).

    It lives in the tab's link (``?seat=…``, 32 hex digits), so a reload, or a phone that
    dropped its connection, keeps the same seat, its answer and its count of changes,
    instead of voting again. A seat in a link that is not ours is replaced.
    """
    seat = st.query_params.get(SEAT, "")
    if not SEAT_PATTERN.fullmatch(seat):
        seat = st.session_state.setdefault(_SESSION, secrets.token_hex(16))
    st.session_state[_SESSION] = seat
    controls.keep_in_link(SEAT, seat)
    return seat


# ---------------------------------------------------------------- links


def origin() -> str:
    """This server as the browser addresses it, e.g. ``http://10.0.0.5:8080``."""
    url = urlsplit(st.context.url or "http://localhost:8501/")
    return f"{url.scheme}://{url.netloc}"


def class_link(code: str, present: bool = False) -> str:
    query = {CLASS: code} | ({PRESENT: "1"} if present else {})
    return f"{origin()}/?{urlencode(query)}"


def teacher_link(code: str, key: str) -> str:
    return f"{origin()}/teach?{urlencode({CLASS: code, KEY: key})}"


def presenting() -> bool:
    """Whether this session shows the presenter view: its link said ``?present=1``, and it
    stays so on every page the projector moves to (``arrive`` keeps it in the link)."""
    if st.query_params.get(PRESENT) == "1":
        st.session_state[_PRESENTING] = True
    return st.session_state.get(_PRESENTING, False)


# ---------------------------------------------------------------- a student's session


def joined() -> str | None:
    """The code of the class this session joined, or None."""
    return st.session_state.get(_JOINED)


def arrive(page: str) -> None:
    """Join the class a link names, or explain why not; keep a joined class in the link.

    ``page`` is the url_path of the page this run draws. The teacher's page reads its own
    link (the class and the key) and joins nothing. A database that does not answer leaves
    the session as it was, with a notice (``banner`` shows it).
    """
    if page == "teach":
        return
    if presenting():
        controls.keep_in_link(PRESENT, "1")
    try:
        _arrive(page)
    except classroom.NotSaved:
        st.session_state[_NOTICE] = NOT_JOINED


def _arrive(page: str) -> None:
    text = st.query_params.get(CLASS)
    code = None if text is None else classroom.normalise_code(text)
    if text is not None and (code is None or code != joined()):
        view = class_state(code)[0] if code else None
        if view is None:  # the normal app, out of any class
            leave()
            st.session_state[_NOTICE] = _unknown(text)
            return
        _join(code, view, page)
    if joined() is None:
        return
    view, _ = class_state(joined())
    if view is None:  # expired while the class was open
        leave()
        st.session_state[_NOTICE] = "The class has ended (its link expired). Here is the app."
        return
    if view != st.session_state.get(_VIEW):  # the teacher gave the class another run
        _join(joined(), view, page)
    controls.keep_in_link(CLASS, joined())


def _unknown(text: str) -> str:
    """Why a class link opens the normal app: the code quoted only when it reads as one."""
    shown = f"`{text.strip()}` " if classroom.normalise_code(text) else ""
    return (
        f"No class with the code {shown}is open on this server: the code may be mistyped, or "
        "the class has ended, or the link comes from another server. Here is the normal app."
    )


def _join(code: str, view_json: str, page: str) -> None:
    """Take the class's settings and go to its page (ends the run when that is another)."""
    view = ClassView.from_json(view_json)
    if view is None:  # written by an older version: the class still runs, on this page
        view = ClassView(page=page if page in pages.BY_PATH else "")
    st.session_state[_JOINED] = code
    st.session_state[_VIEW] = view_json
    settings = view.resolved()
    controls.set_values(**dataclasses.asdict(settings))
    if view.page != page:
        query = {CLASS: code} | ({PRESENT: "1"} if presenting() else {}) | settings.url()
        st.switch_page(pages.BY_PATH[view.page].file, query_params=query)


def leave() -> None:
    """Leave the class: the app as usual from the next run."""
    for key in (_JOINED, _VIEW, _ASKED):
        st.session_state.pop(key, None)
    for key in (CLASS, SEAT):
        if key in st.query_params:
            del st.query_params[key]


def view() -> ClassView | None:
    """The joined class's view, or None outside a class."""
    if joined() is None:
        return None
    return ClassView.from_json(st.session_state.get(_VIEW, ""))


def _asked_now() -> tuple[Asked | None, float | None]:
    """The class's question and this session's answer, as the last full run drew them."""
    return st.session_state.get(_ASKED, (None, None))


def waiting() -> bool:
    """Whether this session still has to answer the class's question (presenters never do)."""
    asked, mine = _asked_now()
    return (
        joined() is not None
        and not presenting()
        and asked is not None
        and not asked.revealed
        and mine is None
    )


def held_back(page: str) -> bool:
    """Whether ``page`` waits before it shows anything: for this session's answer, or, on a
    projector, for the reveal. The Playground shows its stage concealed at update 0 instead
    (``stage_view``): no other page has a view that gives nothing away."""
    asked, _ = _asked_now()
    open_question = asked is not None and not asked.revealed and joined() is not None
    return page != "" and (waiting() or (presenting() and open_question))


def shows_section(title: str) -> bool:
    """Whether the sidebar draws the section ``title`` (a class may hide some)."""
    current = view()
    return current is None or title in current.sections


def shows_all_sections() -> bool:
    """Whether the sidebar shows every section (always, outside a class)."""
    return all(shows_section(title) for title in SECTIONS)


def stage_view(update: int | None) -> tuple[int | None, View]:
    """Where the stage's playback starts and what it shows, for this session.

    Outside a class, ``update`` and a plain view. In a class: the class's locked and hidden
    knobs; concealed at update 0 until the question is answered (nothing of the run beyond
    its start, no knob or playback to reach it: the stage gives no answer away), and then
    played from update 0 once (the token is the question's id). A projector stays concealed
    until the teacher reveals.
    """
    current = view()
    if current is None:
        return update, View(present=presenting())
    asked, mine = _asked_now()
    if waiting() or (presenting() and asked is not None and not asked.revealed):
        return 0, current.stage(present=presenting(), conceal=True)
    played = asked.id if asked is not None and mine is not None else 0
    return update, current.stage(present=presenting(), play=played)


def _answered() -> None:
    """The answer form's callback: save the answer before the page reruns."""
    asked, _ = _asked_now()
    value = st.session_state.get(_answer_key(asked)) if asked is not None else None
    st.session_state.pop(_ERROR, None)
    if asked is None or joined() is None:
        return
    if value is None:
        st.session_state[_ERROR] = "Choose or type an answer first."
        return
    try:
        store().answer(joined(), asked.id, session_id(), float(value))
    except classroom.NotSaved:
        st.session_state[_ERROR] = NOT_SAVED
    except classroom.Refused as refused:
        st.session_state[_ERROR] = str(refused)
    else:
        st.session_state[_ASKED] = (asked, float(value))


def banner() -> None:
    """The class above the page: its code, its question and the answers (see module doc).
    A database that does not answer is said so, and the page is drawn as usual below."""
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.warning(notice, icon=":material/link_off:")
    code = joined()
    if code is None:
        return
    try:
        _, asked = class_state(code)
        mine = None
        if asked is not None and not presenting():
            mine = store().mine(code, asked.id, session_id())
        st.session_state[_ASKED] = (asked, mine)
        if presenting():
            _presenter_banner(code, asked)
        else:
            _student_banner(code, asked, mine)
    except classroom.NotSaved:
        st.warning(UNREACHABLE, icon=":material/cloud_off:")
        asked = _asked_now()[0]  # as last drawn: the poll reruns the page once it answers
    _watch(code, _fingerprint(st.session_state.get(_VIEW), asked))


def _fingerprint(view_json: str | None, asked: Asked | None) -> str:
    """What a poll compares: the class's run, its question and whether it is revealed."""
    state = (view_json, asked.id if asked else None, asked.revealed if asked else None)
    return hashlib.sha256(repr(state).encode()).hexdigest()


@st.fragment(run_every=POLL_SECONDS)
def _watch(code: str, drawn: str) -> None:
    """Rerun the page once the class changed (a reveal, a new question, another run)."""
    try:
        view_json, asked = class_state(code)
    except classroom.NotSaved:
        return  # the banner says so on the next full run; keep polling
    if _fingerprint(view_json, asked) != drawn:
        st.rerun(scope="app")


def _student_banner(code: str, asked: Asked | None, mine: float | None) -> None:
    with st.container(border=True):
        head, leave_button = st.columns([0.8, 0.2], vertical_alignment="center")
        head.markdown(f":material/school: **Class {classroom.format_code(code)}**")
        leave_button.button("Leave the class", on_click=leave, key="class_leave")
        if asked is None:
            st.caption("No question right now: explore the page. The teacher may ask one.")
            return
        question = asked.question
        st.markdown(f"**{'Predict first: ' if mine is None else ''}{user_text(question.text)}**")
        if asked.revealed:
            _revealed(asked, mine)
            return
        error = st.session_state.pop(_ERROR, None)
        if error:
            st.error(error, icon=":material/error:")
        if mine is not None:
            st.success(
                f"Your answer: **{user_text(classroom_charts.answer_words(question, mine))}**. "
                "Only you see it until the teacher reveals the class's answers; you can change "
                "it until then.",
                icon=":material/check_circle:",
            )
        _answer_form(asked, mine)
        if mine is None:
            st.caption(
                "Answer first: then the run plays"
                + (
                    " on the stage below."
                    if view() and view().page == ""
                    else " and the page opens."
                )
            )


def _answer_key(asked: Asked) -> str:
    """The answer widget's key: one per question, so a new question starts unanswered."""
    return f"class_answer_{asked.id}"


def _answer_form(asked: Asked, mine: float | None) -> None:
    question = asked.question
    if question.options:
        st.radio(
            "Your answer",
            range(len(question.options)),
            index=None if mine is None else int(mine),
            format_func=lambda i: user_text(question.options[i]),
            horizontal=True,
            key=_answer_key(asked),
            label_visibility="collapsed",
        )
    else:
        st.number_input(
            "Your answer (a number)",
            value=mine,
            min_value=-classroom.MAX_NUMBER,
            max_value=classroom.MAX_NUMBER,
            step=1.0,
            format="%g",
            key=_answer_key(asked),
            placeholder="a number",
        )
    st.button(
        "Answer" if mine is None else "Change my answer",
        type="primary" if mine is None else "secondary",
        on_click=_answered,
        key="class_submit",
    )


def _revealed(asked: Asked, mine: float | None) -> None:
    question = asked.question
    tally = store().tally(joined(), asked.id)

    def words(value: float) -> str:
        return user_text(classroom_charts.answer_words(question, value))

    truth = (
        f"The run's answer: **{words(question.answer)}**."
        if question.answer is not None
        else "The teacher gave no single right answer: compare the class's spread with the run."
    )
    yours = f" Yours: {words(mine)}." if mine is not None else " You did not answer."
    st.markdown(truth + yours)
    fig = classroom_charts.answers_figure(question, tally, revealed=True, mine=mine)
    st.plotly_chart(fig, key="class_answers", config={"displayModeBar": False})


def _presenter_banner(code: str, asked: Asked | None) -> None:
    """The projector's line: the code and the link to join on the left, the question (with
    its options) on the right; once revealed, the class's answers, large."""
    join, ask = st.columns([0.36, 0.64], vertical_alignment="center")
    join.subheader(f"Class {classroom.format_code(code)}", anchor=False)
    # What a student types; as code in a heading (at least 20 px, never a link).
    join.subheader(f"`{class_link(code).split('://', 1)[1]}`", anchor=False)
    if asked is None:
        ask.subheader("Explore: drag a knob.", anchor=False)
        return
    question = asked.question
    options = " · ".join(user_text(option) for option in question.options)
    ask.subheader(user_text(question.text) + (f" ({options})" if options else ""), anchor=False)
    if not asked.revealed:
        return
    tally = store().tally(code, asked.id)
    if question.answer is not None:
        words = classroom_charts.answer_words(question, question.answer)
        ask.markdown(f"#### The run's answer: {user_text(words)}")
    fig = classroom_charts.large(classroom_charts.answers_figure(question, tally, revealed=True))
    st.plotly_chart(fig, key="class_answers", config={"displayModeBar": False})
