"""Classroom mode in the app (AppTest): the teacher's page, a class link with a question
(predict, then observe), the reveal, hidden sections, the presenter view, bad codes."""

import json
import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import classroom
from tests.conftest import chart_specs, open_at, stage_payload
from ui import classroom as cls
from ui import questions
from ui.controls import Settings

BATCH = "Which batch size reaches the lower loss?"


def store() -> classroom.Store:
    return classroom.open_store(cls.database_url())


def make_class(page="", question=None, **view) -> tuple[str, str]:
    """A class in the tests' database: its code and teacher key."""
    settings = view.pop("settings", Settings())
    room, key = store().create(cls.ClassView.of(page, settings, **view).to_json(), question)
    return room.code, key


def open_app(page: str | None = None, **query: str) -> AppTest:
    """A new session at ``page`` (default: the Playground) and a link, caches cleared."""
    return open_at(page, **query)


def texts(at: AppTest) -> str:
    return " ".join(
        str(e.value)
        for kind in ("markdown", "caption", "success", "warning", "error", "subheader")
        for e in at.get(kind)
    )


def header(at: AppTest) -> dict:
    return stage_payload(at).header


def answer_widget(at: AppTest):
    """The class's answer widget (its key names the question)."""
    (widget,) = [
        w
        for kind in ("radio", "number_input")
        for w in at.get(kind)
        if (w.key or "").startswith("class_answer_")
    ]
    return widget


def answer(at: AppTest, value) -> AppTest:
    answer_widget(at).set_value(value)
    return at.button(key="class_submit").click().run()


def test_the_teacher_builds_a_class_with_a_ready_made_question_and_its_run():
    at = open_app("lessons/teach.py")
    assert not at.exception
    at.selectbox(key="teach_question").set_value(BATCH).run()
    at.button(key="teach_create").click().run()
    assert not at.exception, at.exception
    code, key = at.session_state["_teach_made"]
    links = [c.value for c in at.code]
    assert any(link.endswith(f"/?class={code}") for link in links)
    assert any(f"class={code}&key={key}" in link for link in links)
    assert any(link.endswith(f"/?class={code}&present=1") for link in links)
    room = store().room(code)
    view = cls.ClassView.from_json(room.view)
    assert view.page == "" and view.link == {"epochs": "5"}
    asked = store().asked(code)
    assert asked.question.options == ("1", "32", "200")
    assert asked.question.answer == questions.READY[BATCH].answer(Settings(epochs=5))
    assert store().is_teacher(code, key) and not store().is_teacher(code, key + "x")


def test_a_class_link_asks_first_with_the_stage_paused_at_update_0_then_plays():
    ready = questions.READY[BATCH]
    code, _ = make_class(question=ready.question(), settings=ready.settings())
    at = open_app(**{"class": code})
    assert not at.exception, at.exception
    assert "Predict first" in texts(at)
    assert list(answer_widget(at).options) == ["1", "32", "200"]
    assert header(at)["update"] == 0
    assert header(at)["view"]["conceal"] is True  # the stage gives no answer away
    assert header(at)["view"].get("play", 0) == 0
    assert "Takeaway" not in texts(at)  # the page's words wait for the answer
    assert at.session_state["_settings"]["epochs"] == 5  # the class's run
    at = answer(at, "32")
    assert not at.exception, at.exception
    assert "Your answer: **32**" in texts(at)
    asked = store().asked(code)
    assert header(at)["view"]["play"] == asked.id  # the run plays from update 0, once
    assert "conceal" not in header(at)["view"]
    assert store().tally(code, asked.id).counts == (0, 1, 0)
    assert "Takeaway" in texts(at)


def test_a_class_on_another_page_shows_it_only_after_the_answer():
    question = classroom.Question("How many updates will one epoch take?", (), 7.0)
    code, _ = make_class("batch_sizes", question)
    at = open_app(**{"class": code})
    assert not at.exception, at.exception
    assert not chart_specs(at)  # held back: the page would give the answer away
    assert answer_widget(at).type == "number_input"
    at = answer(at, 7.0)
    assert chart_specs(at), "the page opens once answered"
    assert at.session_state["_class_code"] == code


def test_the_reveal_shows_the_class_and_the_runs_answer_to_every_student():
    question = classroom.Question("Which?", ("small", "large"), 0.0)
    code, key = make_class(question=question)
    students = [open_app(**{"class": code}) for _ in range(3)]
    for at, choice in zip(students, (0, 1, 1), strict=True):
        answer(at, choice)
    asked = store().asked(code)
    assert "The run's answer" not in texts(students[0])
    store().reveal(code, key, asked.id)
    st.cache_data.clear()  # the poll's one-second cache: as after the next poll
    at = students[0].run()
    assert "The run's answer: **small**" in texts(at)
    assert "Yours: small" in texts(at)
    (chart,) = [c for c in at.get("plotly_chart") if "class_answers" in str(c.proto.id)]
    spec = json.loads(chart.proto.spec)
    assert spec["data"][0]["y"] == [1, 2]
    assert spec["data"][0]["marker"]["color"][0] == "#009E73"  # green: the run's answer


def test_the_teacher_view_needs_the_key_and_reveals():
    code, key = make_class(question=classroom.Question("Which?", ("a", "b"), 1.0))
    at = open_app("lessons/teach.py", **{"class": code, "key": "not-the-key"})
    assert "does not open a class" in texts(at)
    assert "teach_reveal" not in [b.key for b in at.button]
    at = open_app("lessons/teach.py", **{"class": code, "key": key})
    assert not at.exception, at.exception
    assert f"Teaching class {classroom.format_code(code)}" in texts(at)
    at.button(key="teach_reveal").click().run()
    assert store().asked(code).revealed


def test_a_class_can_hide_sidebar_sections_and_lock_knobs():
    code, _ = make_class(
        modes={"batch_size": "hidden", "learning_rate": "locked"},
        sections=("Training: fit(…)",),
    )
    at = open_app(**{"class": code})
    assert not at.exception, at.exception
    keys = {
        w.key
        for kind in ("slider", "select_slider", "selectbox", "number_input")
        for w in at.sidebar.get(kind)
    }
    assert "n" not in keys and "w0" not in keys and "preset" not in keys
    assert "epochs" in keys
    view = header(at)["view"]
    assert view["hidden"] == ["batch_size"] and view["locked"] == ["learning_rate"]


def test_the_presenter_view_shows_the_stage_large_and_asks_nothing():
    code, _ = make_class(question=classroom.Question("Which?", ("a", "b"), 1.0))
    at = open_app(**{"class": code, "present": "1"})
    assert not at.exception, at.exception
    assert not at.radio  # the projector does not answer
    assert header(at)["view"]["present"] is True
    assert header(at)["update"] == 0  # concealed at the start until the teacher reveals
    assert header(at)["view"]["conceal"] is True
    assert classroom.format_code(code) in texts(at)
    assert "Takeaway" not in texts(at)


@pytest.mark.parametrize(
    "text, quoted",
    [("ZZZZZZ", True), ("[quiz](https://evil.example)", False), ("x" * 500, False)],
)
def test_an_unknown_code_gets_a_message_and_the_normal_app(text, quoted):
    at = open_app(**{"class": text})
    assert not at.exception, at.exception
    (warning,) = [w.value for w in at.warning if "No class with the code" in w.value]
    assert ("`ZZZZZZ`" in warning) is quoted
    assert "evil" not in warning and "xxxx" not in warning
    assert "class" not in at.query_params
    assert stage_payload(at)  # the normal Playground


def test_an_expired_class_is_unknown():
    room, _ = store().create(cls.ClassView().to_json(), None, hours=1, now=time.time() - 7200)
    at = open_app(**{"class": room.code})
    assert any("No class with the code" in w.value for w in at.warning)


def test_the_next_question_reaches_the_class_with_its_run():
    code, key = make_class()
    student = open_app(**{"class": code})
    assert "No question right now" in texts(student)
    teacher = open_app("lessons/teach.py", **{"class": code, "key": key})
    teacher.selectbox(key="next_question").set_value("Will learning rate 1.2 converge?").run()
    teacher.button(key="teach_ask").click().run()
    assert not teacher.exception, teacher.exception
    asked = store().asked(code)
    assert asked.question.answer == 2.0  # it blows up
    st.cache_data.clear()  # as after the next poll
    student = student.run()
    assert not student.exception, student.exception
    assert "Predict first" in texts(student)
    assert student.session_state["_settings"]["learning_rate"] == 1.2
    view = header(student)["view"]
    assert view["locked"] == ["batch_size"] and view["hidden"] == ["momentum", "decay"]
    assert header(student)["update"] == 0


def test_one_session_cannot_fill_the_server_with_classes():
    at = open_app("lessons/teach.py")
    at.session_state["_teach_count"] = 20
    at.button(key="teach_create").click().run()
    assert "_teach_made" not in at.session_state
    assert any("the most one session may" in e.value for e in at.error)


def test_a_class_link_cannot_carry_an_uploaded_file():
    at = open_app("lessons/teach.py", source="csv")
    at.session_state["_settings"]["source"] = "csv"
    at.button(key="teach_create").click().run()
    assert "_teach_made" not in at.session_state
    assert any("cannot carry an uploaded file" in e.value for e in at.error)


def test_a_database_that_does_not_answer_loses_no_answer_and_says_try_again():
    """A real outage of the class's SQLite file: another process holds its write lock past
    the store's busy timeout, then lets go."""
    import sqlite3

    code, _ = make_class(question=classroom.Question("Which?", ("a", "b"), 0.0))
    first = open_app(**{"class": code})
    answer(first, "a")
    asked = store().asked(code)
    at = open_app(**{"class": code})
    path = cls.database_url().removeprefix("sqlite:///")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        at = answer(at, "b")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert not at.exception, at.exception
    assert any(cls.NOT_SAVED in e.value for e in at.error)
    assert "Your answer" not in texts(at)
    assert store().tally(code, asked.id).counts == (1, 0)  # the first answer is kept
    at = answer(at, "b")  # try again: saved
    assert "Your answer: **b**" in texts(at)
    assert store().tally(code, asked.id).counts == (1, 1)


def test_the_presenter_view_holds_back_a_page_that_would_give_the_answer():
    code, key = make_class("batch_sizes", classroom.Question("Which?", ("a", "b"), 0.0))
    at = open_app(**{"class": code, "present": "1"})
    assert not at.exception, at.exception
    assert not chart_specs(at)  # the projector shows the question, not the page
    store().reveal(code, key, store().asked(code).id)
    st.cache_data.clear()
    at = at.run()
    assert any("class_answers" in str(c.proto.id) for c in at.get("plotly_chart"))
    assert len(chart_specs(at)) > 1  # the page, now that the answer is out


def test_a_reload_keeps_the_seat_and_its_answer():
    code, _ = make_class(question=classroom.Question("Which?", ("a", "b"), 0.0))
    at = answer(open_app(**{"class": code}), "b")
    seat = at.query_params["seat"]
    assert len(seat) == 32
    again = open_app(**{"class": code, "seat": seat})  # the same tab, reloaded
    assert "Your answer: **b**" in texts(again)
    asked = store().asked(code)
    assert store().tally(code, asked.id).answers == 1
    other = open_app(**{"class": code, "seat": "<b>not a seat</b>"})
    assert "Predict first" in texts(other) and other.query_params["seat"] != seat


def test_a_new_question_starts_unanswered():
    code, key = make_class(question=classroom.Question("First?", ("a", "b"), 0.0))
    at = answer(open_app(**{"class": code}), "b")
    store().ask(code, key, classroom.Question("Second?", ("c", "d"), 1.0))
    st.cache_data.clear()
    at = at.run()
    assert "Predict first: Second?" in texts(at)
    assert answer_widget(at).value is None


def test_an_unfinished_question_of_the_teachers_own_makes_no_class():
    at = open_app("lessons/teach.py")
    at.selectbox(key="teach_question").set_value("My own question").run()
    at.text_input(key="teach_text").set_value("Which?").run()  # no options yet
    at.button(key="teach_create").click().run()
    assert "_teach_made" not in at.session_state
    assert any("Finish writing your question" in e.value for e in at.error)
