"""Classroom mode's pure parts: the class's view record, the ready-made questions' answers
(computed from their runs, checked by hand), and the answers chart."""

import math

import pytest

from classroom import Question, Tally
from ui import charts, questions
from ui.classroom import SECTIONS, ClassView
from ui.classroom_charts import answer_words, answers_figure, large
from ui.controls import Settings


def test_a_view_round_trips_and_refuses_what_no_page_can_show():
    view = ClassView.of(
        "maps", Settings(learning_rate=0.1), {"momentum": "hidden", "decay": "locked"}, SECTIONS[:1]
    )
    assert view.hidden == ("momentum",) and view.locked == ("decay",)
    assert ClassView.from_json(view.to_json()) == view
    assert view.resolved() == Settings(learning_rate=0.1)
    with pytest.raises(ValueError, match="lesson"):
        ClassView(page="teach")
    with pytest.raises(ValueError, match="both locked and hidden"):
        ClassView(locked=("decay",), hidden=("decay",))
    with pytest.raises(ValueError, match="knobs"):
        ClassView(locked=("threads",))
    for bad in ("", "[]", '{"page": ""}', '{"page": 3, "settings": 1}', "null"):
        assert ClassView.from_json(bad) is None


def test_the_stage_view_carries_the_class_knobs():
    view = ClassView(locked=("decay",), hidden=("momentum",))
    stage_view = view.stage(present=True, play=7)
    assert stage_view.locked == {"decay"} and stage_view.hidden == {"momentum"}
    assert stage_view.present and stage_view.play == 7


def test_the_batch_size_question_names_the_run_with_the_lowest_final_loss():
    ready = questions.READY["Which batch size reaches the lower loss?"]
    assert ready.settings() == Settings(epochs=5)
    # At rate 0.05 for 5 epochs on 200 rows: batch 1 takes 1000 updates, 32 takes 35 and
    # 200 takes 5, so batch size 1 ends lowest (the loss curves on the stage show it).
    assert ready.question() == Question(ready.text, ("1", "32", "200"), 0.0)


def test_the_learning_rate_question_says_what_the_status_card_says():
    ready = questions.READY["Will learning rate 1.2 converge?"]
    # 2/λmax is about 1.0 for the default data, so rate 1.2 blows up.
    assert ready.question().answer == 2.0
    assert "blows up" in ready.options[2]
    assert ready.answer(Settings(learning_rate=0.05)) == 0.0


def test_the_number_questions_are_computed_as_by_hand():
    epoch = questions.READY["How many updates will one epoch take?"]
    assert epoch.question().answer == math.ceil(200 / 32) == 7
    rate = questions.READY["What is the decayed rate after 100 updates?"]
    assert rate.question().answer == pytest.approx(0.5 / (1 + 0.01 * 100))


def test_the_answers_chart_marks_the_right_option_only_once_revealed():
    question = Question("Which?", ("1", "32", "200"), 0.0)
    tally = Tally(answers=6, counts=(1, 4, 1), values=())
    hidden = answers_figure(question, tally, revealed=False).to_dict()
    assert hidden["data"][0]["y"] == [1, 4, 1]
    assert set(hidden["data"][0]["marker"]["color"]) == {charts.BLUE}
    shown = answers_figure(question, tally, revealed=True, mine=1.0).to_dict()
    assert shown["data"][0]["marker"]["color"] == [charts.GREEN, charts.BLUE, charts.BLUE]
    assert shown["data"][0]["x"] == ["1", "32 (you)", "200"]
    assert "6 answers" in shown["layout"]["title"]["text"]


def test_option_texts_are_never_markup_in_the_chart():
    question = Question("Which?", ('<a href="https://evil.example">click</a>', "b"))
    fig = answers_figure(question, Tally(0, (0, 0), ()), revealed=False).to_dict()
    assert "<a" not in fig["data"][0]["x"][0] and "&lt;a" in fig["data"][0]["x"][0]


def test_a_number_question_is_a_distribution_with_the_runs_answer():
    question = Question("How many updates?", (), 7.0)
    tally = Tally(answers=5, counts=(), values=(6.0, 7.0, 7.0, 7.0, 200.0))
    fig = answers_figure(question, tally, revealed=True, mine=6.0).to_dict()
    assert sum(fig["data"][0]["y"]) == 5
    lines = [s for s in fig["layout"]["shapes"] if s["type"] == "line"]
    assert {s["x0"] for s in lines} == {7.0, 6.0}
    whole = Tally(answers=3, counts=(), values=(6.0, 7.0, 7.0))
    small = answers_figure(question, whole, revealed=True).to_dict()
    assert list(small["data"][0]["x"]) == [6.0, 7.0] and list(small["data"][0]["y"]) == [1, 2]
    assert answer_words(question, 7.0) == "7"


def test_the_projector_chart_has_no_text_under_20_px():
    fig = large(answers_figure(Question("Q", (), 1.0), Tally(1, (), (1.0,)), revealed=True))
    layout = fig.to_dict()["layout"]
    assert layout["font"]["size"] >= 20 and layout["title"]["font"]["size"] >= 20
    assert all(a["font"]["size"] >= 20 for a in layout.get("annotations", []))


def test_the_widest_answers_a_class_can_send_still_draw():
    from classroom import MAX_NUMBER

    question = Question("How many?", (), 7.0)
    tally = Tally(answers=3, counts=(), values=(-MAX_NUMBER, 7.0, MAX_NUMBER))
    fig = answers_figure(question, tally, revealed=True, mine=MAX_NUMBER).to_dict()
    assert sum(fig["data"][0]["y"]) == 3
    assert all(math.isfinite(x) for x in fig["data"][0]["x"])
