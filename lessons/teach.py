"""Teach a class: build a class link, then run the lesson from the teacher's view.

The builder: a page and its settings (the session's, or a ready-made question's run), which
live knobs stay live, locked or hidden, which sidebar sections show, an optional question, and
how long the links last. It makes a class link (``?class=CODE``, a code to read aloud) and a
teacher link (with the secret key). The teacher link opens the teacher's view: the class's
answers as they come (a poll every second), the reveal, and the next question.
"""

import time
from datetime import timedelta

import streamlit as st

import classroom
from gd.family import KNOB_TABLE, KNOBS
from ui import classroom as cls
from ui import classroom_charts, controls, pages, questions
from ui.text import user_text

NONE, OWN = "No question: the class explores", "My own question"
NO_RIGHT = "No single right answer"
HOURS = (1, 2, 4, 8, 24, 48, 168)  # how long a class's links last; the default is 24 h
_MADE = "_teach_made"  # the (code, key) this session made last, shown until the next
_COUNT = "_teach_count"  # classes this session made
CLASSES_PER_SESSION = 20  # so that one student cannot fill the server's open classes alone
UNFINISHED = "Finish writing your question first: its text and its options."
ENDED = "This class has ended: its links expired. Build a new class below."


def pick_question(prefix: str) -> tuple[classroom.Question | None, questions.Ready | None]:
    """The question widgets: a ready-made question (with its run), the teacher's own, or none.

    Returns the question (None: no question, or an own question not finished yet) and the
    ready-made question it came from, if any.
    """
    choice = st.selectbox(
        "Question",
        [NONE, *questions.READY, OWN],
        key=f"{prefix}_question",
        help="Students answer before the run plays (predict, then observe). A ready-made "
        "question brings the run that answers it, and its answer is computed from that run.",
    )
    if choice in questions.READY:
        ready = questions.READY[choice]
        st.caption(f"Asked: {ready.text}")
        return ready.question(), ready
    if choice == NONE:
        return None, None
    text = st.text_input("Question text", max_chars=300, key=f"{prefix}_text")
    kind = st.radio(
        "Answer", ["Multiple choice", "A number"], horizontal=True, key=f"{prefix}_kind"
    )
    if kind == "A number":
        right = st.number_input(
            "The right number (optional)", value=None, format="%g", key=f"{prefix}_number"
        )
        return (classroom.Question(text.strip(), (), right) if text.strip() else None), None
    lines = st.text_area(
        f"Options, one per line ({classroom.MIN_OPTIONS} to {classroom.MAX_OPTIONS})",
        key=f"{prefix}_options",
        max_chars=600,
    )
    options = tuple(line.strip() for line in lines.splitlines() if line.strip())
    right = st.selectbox(
        "The right option (optional)",
        [NO_RIGHT, *dict.fromkeys(options)],
        key=f"{prefix}_right",
    )
    if not text.strip() or not options:
        return None, None
    if len(set(options)) < len(options):
        st.warning("Two options read the same: make each one different.")
        return None, None
    answer = None if right == NO_RIGHT or right not in options else float(options.index(right))
    return classroom.Question(text.strip(), options, answer), None


def unfinished(prefix: str, question: classroom.Question | None) -> bool:
    """Whether the teacher chose to write a question and has not finished it (a press of the
    button then asks nothing, rather than clearing the question)."""
    return question is None and st.session_state.get(f"{prefix}_question") == OWN


def show_links(code: str, key: str) -> None:
    """The class link, the code to read aloud, the teacher link and the presenter view."""
    st.subheader(f"Class {classroom.format_code(code)}", anchor=False)
    st.markdown("**Class link**: give it to the class, or read the code aloud.")
    st.code(cls.class_link(code), language=None, wrap_lines=True)
    st.markdown("**Presenter view**: open it on the projector.")
    st.code(cls.class_link(code, present=True), language=None, wrap_lines=True)
    st.markdown(
        "**Teacher link**: keep it to yourself. Anyone holding it sees the answers and can "
        "reveal them. Do not open it on the projector."
    )
    st.code(cls.teacher_link(code, key), language=None, wrap_lines=True)
    st.page_link(
        "lessons/teach.py",
        label="Open the teacher's view",
        icon=":material/co_present:",
        query_params={cls.CLASS: code, cls.KEY: key},
    )


def builder() -> None:
    st.subheader("Build a class link", anchor=False)
    question, ready = pick_question("teach")
    by_title = {page.title: page.url_path for page in pages.LESSONS}
    title = st.selectbox(
        "Page",
        list(by_title),
        index=list(by_title.values()).index(ready.page if ready else ""),
        key=f"teach_page_{ready.text if ready else ''}",
    )
    page = by_title[title]
    settings = ready.settings() if ready else controls.Settings(**controls.store())
    shown = "&".join(f"{k}={v}" for k, v in settings.url().items())
    st.markdown(
        ("The question's run: " if ready else "The settings you last had on a page: ")
        + (f"`{shown}`." if shown else "the defaults.")
        + ("" if ready else " Change them on any page, then come back.")
    )
    st.markdown("**Live knobs** (on the Playground's stage)")
    modes = {}
    for column, knob in zip(st.columns(len(KNOBS)), KNOBS, strict=True):
        modes[knob] = column.segmented_control(
            KNOB_TABLE[knob].label,
            cls.KNOB_MODES,
            default=(ready.modes if ready else {}).get(knob, "live"),
            key=f"teach_{knob}_{ready.text if ready else ''}",
        )
    sections = st.pills(
        "Sidebar sections shown",
        cls.SECTIONS,
        selection_mode="multi",
        default=cls.SECTIONS,
        key="teach_sections",
    )
    hours = st.select_slider(
        "The links last",
        HOURS,
        value=classroom.DEFAULT_HOURS,
        format_func=lambda h: f"{h} h" if h < 48 else f"{h // 24} days",
        key="teach_hours",
    )
    if st.button("Create the class", type="primary", key="teach_create"):
        made = st.session_state.setdefault(_COUNT, 0)
        view = cls.ClassView.of(page, settings, modes, tuple(sections))
        try:
            if unfinished("teach", question):
                raise classroom.Refused(UNFINISHED)
            if made >= CLASSES_PER_SESSION:
                raise classroom.Refused(
                    f"This browser session has made {made} classes, the most one session may: "
                    "reuse one of them."
                )
            if settings.source == "csv":
                raise classroom.Refused(
                    "A class link cannot carry an uploaded file: choose synthetic data on the "
                    "page first, or a ready-made question."
                )
            room, key = cls.store().create(view.to_json(), question, hours=float(hours))
        except classroom.Refused as refused:
            st.error(str(refused), icon=":material/error:")
        except classroom.NotSaved:
            st.error(cls.NOT_SAVED, icon=":material/cloud_off:")
        else:
            st.session_state[_MADE] = (room.code, key)
            st.session_state[_COUNT] = made + 1
    made = st.session_state.get(_MADE)
    if made is not None:
        show_links(*made)


def teacher_view(code: str, key: str) -> None:
    with cls.reachable():
        room = cls.store().room(code)
    if room is None:  # it ended between the key's check and now
        st.error(ENDED, icon=":material/event_busy:")
        return
    with st.container(border=True):
        head, links = st.columns([0.45, 0.55], vertical_alignment="center")
        head.subheader(f"Teaching class {classroom.format_code(code)}", anchor=False)
        left = max(timedelta(seconds=room.expires - time.time()), timedelta(0))
        hours, minutes = divmod(left // timedelta(minutes=1), 60)
        head.caption(f"The class's links last another {hours} h {minutes:02d} min.")
        links.markdown("Class link")
        links.code(cls.class_link(code), language=None, wrap_lines=True)
        links.markdown("Presenter view, for the projector")
        links.code(cls.class_link(code, present=True), language=None, wrap_lines=True)
    answers(code, key)
    with st.container(border=True):
        st.markdown(
            "**Next question.** The answers so far stay stored; the class sees the new "
            f"question within {cls.NOTICED_WITHIN} s, concealed at update 0 again."
        )
        question, ready = pick_question("next")
        if st.button("Ask the class", key="teach_ask"):
            if unfinished("next", question):
                st.warning(UNFINISHED)
                return
            view = cls.ClassView.from_json(room.view)
            moved = None if ready is None or view is None else ready_view(view, ready).to_json()
            try:
                with cls.reachable():
                    cls.store().ask(code, key, question, view=moved)
            except classroom.Refused as refused:
                st.error(str(refused), icon=":material/error:")
            except PermissionError:
                st.error(ENDED, icon=":material/event_busy:")
            else:
                st.rerun()


def ready_view(view: cls.ClassView, ready: questions.Ready) -> cls.ClassView:
    """The class's view with a ready-made question's run (its page, settings, knobs)."""
    return cls.ClassView.of(ready.page, ready.settings(), ready.modes, view.sections)


@st.fragment(run_every=1.0)
def answers(code: str, key: str) -> None:
    """The current question and its answers, redrawn every second; the reveal."""
    with cls.reachable():
        asked = cls.store().asked(code)
        if asked is None:
            st.info("No question is open. Ask one below, or let the class explore.")
            return
        tally = cls.store().tally(code, asked.id)
    question = asked.question
    st.markdown(f"**{user_text(question.text)}**")
    if question.answer is not None:
        words = classroom_charts.answer_words(question, question.answer)
        st.caption(f"The run's answer (the class sees it at the reveal): {user_text(words)}")
    fig = classroom_charts.answers_figure(question, tally, revealed=asked.revealed)
    st.plotly_chart(fig, key="teach_answers", config={"displayModeBar": False})
    if asked.revealed:
        st.success("Revealed: every student sees the class's answers and the run's.")
    elif st.button("Reveal to the class", type="primary", key="teach_reveal"):
        with cls.reachable():
            cls.store().reveal(code, key, asked.id)
        st.rerun(scope="fragment")


st.title("Teach a class", anchor=False)
code_text, key_text = st.query_params.get(cls.CLASS), st.query_params.get(cls.KEY)
if code_text is not None and key_text is not None:
    with cls.reachable():
        teacher = cls.store().is_teacher(code_text, key_text)
    if teacher:
        teacher_view(classroom.normalise_code(code_text), key_text)
        st.stop()
    st.error(
        "This teacher link does not open a class on this server: the key is wrong, or the "
        "class has ended. Build a new class below.",
        icon=":material/lock:",
    )
st.markdown(
    "Build a link for your class: students open it, answer your question first, and then see "
    "the run. Your teacher link shows their answers as they come and reveals them to everyone. "
    "The project's `docs/classroom.md` walks through a 10-minute lesson."
)
builder()
