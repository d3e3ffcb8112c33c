"""Edge cases of the validation split on every page: one training row works, and zero training
rows are explained in the learner's terms (never a traceback or a developer message)."""

import pytest

from tests.conftest import chart_specs, open_at

PAGES = [
    None,  # the Playground, the default page
    "lessons/batch_sizes.py",
    "lessons/inside_a_batch.py",
    "lessons/keras_to_here.py",
    "lessons/maps.py",
]
TWO_ROWS = b"x,y\n1,2\n3,4\n"


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_one_training_row_from_a_link_renders_every_page(app, page):
    at = app(page, n="20", validation_split="0.9")  # floor(20 · 0.1) = 1 row: rounding!
    assert_clean(at)
    assert at.session_state["_settings"]["validation_split"] == 0.9
    assert chart_specs(at)


@pytest.mark.parametrize("page", PAGES)
def test_a_two_row_csv_with_half_held_out_renders_every_page(app, page):
    at = app(source="csv", validation_split="0.5")
    at.file_uploader(key="csv_file").set_value(("two.csv", TWO_ROWS, "text/csv")).run()
    assert_clean(at)
    assert at.session_state["_settings"]["n"] == 2
    if page is not None:
        at.switch_page(page).run()
    assert_clean(at)
    assert chart_specs(at)
    at.run()  # a rerun (the file is already handled) draws the same page
    assert_clean(at)
    assert chart_specs(at)


def learner_words(text: str) -> None:
    """The explanation a learner reads: the arithmetic and what to change, no developer words."""
    assert "floor(5 × (1 − 0.9)) = 0 rows" in text and "nothing is left to train on" in text
    assert "Lower the validation split" in text
    assert "parameter" not in text and "Got" not in text


@pytest.mark.parametrize("page", PAGES)
def test_a_link_that_leaves_no_training_rows_is_explained_on_every_page(page):
    at = open_at(page, n="5", validation_split="0.9")
    assert_clean(at)
    (notice,) = [w.value for w in at.warning]
    learner_words(notice.replace("\\", ""))  # shown escaped, as all link text
    assert "the default validation_split=0.0 is used" in notice
    assert at.session_state["_settings"]["validation_split"] == 0.0
    assert at.session_state["_settings"]["n"] == 5
    assert chart_specs(at)


def test_a_split_that_holds_out_nothing_falls_back_with_a_notice():
    at = open_at(None, n="5", validation_split="1e-20")
    assert_clean(at)
    assert "holds out none of the 5 samples" in at.warning[0].value.replace("\\", "")
    assert at.session_state["_settings"]["validation_split"] == 0.0


@pytest.mark.parametrize("page", PAGES)
def test_a_change_that_leaves_no_training_rows_keeps_the_previous_view(page):
    at = open_at(page, n="20")
    assert_clean(at)
    before = chart_specs(at)
    at.session_state["_settings"] = {**at.session_state["_settings"], "n": 5}
    at.session_state["_settings"]["validation_split"] = 0.9
    at.run()
    assert_clean(at)
    (warning,) = [w.value for w in at.warning]
    learner_words(warning)
    assert "still shows your previous settings (20 samples, validation split 0)" in warning
    assert chart_specs(at) == before
    for widget in at.select_slider:  # the batch size widget never falls to 0
        assert widget.key != "batch_size" or widget.value >= 1


def test_an_upload_that_would_leave_no_training_rows_changes_nothing(app):
    at = app(source="csv", validation_split="0.9")  # 200 synthetic rows: 20 train
    before = chart_specs(at)
    five = b"x,y\n" + b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(5))
    at.file_uploader(key="csv_file").set_value(("five.csv", five, "text/csv")).run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "nothing changed" in error
    learner_words(error.replace("\\", ""))
    assert chart_specs(at) == before and at.session_state["_settings"]["n"] == 200
    at.select_slider(key="validation_split").set_value(0.5).run()  # now the file fits
    assert_clean(at)
    assert at.session_state["_settings"]["n"] == 5
