"""Edge cases of the validation split on every page: one training row works, and zero training
rows are explained in the learner's terms (never a traceback or a developer message)."""

import pytest

from tests.conftest import chart_specs

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
    assert at.get("plotly_chart")


@pytest.mark.parametrize("page", PAGES)
def test_a_two_row_csv_with_half_held_out_renders_every_page(app, page):
    at = app(source="csv", validation_split="0.5")
    at.file_uploader(key="csv_file").set_value(("two.csv", TWO_ROWS, "text/csv")).run()
    assert_clean(at)
    assert at.session_state["_settings"]["n"] == 2
    if page is not None:
        at.switch_page(page).run()
    assert_clean(at)
    assert at.get("plotly_chart")
    at.run()  # a rerun (the file is already handled) draws the same page
    assert_clean(at)
    assert chart_specs(at)
