"""The "Inside one mini-batch" page in AppTest: it renders, scrubs, steps, and never crashes."""

import functools
import json

import pytest

from tests.conftest import chart_specs
from ui.inside_a_batch_charts import ARROWS_NAME, MAX_ARROWS


@pytest.fixture
def page(lesson):
    """Open the lesson with query parameters."""
    return functools.partial(lesson, "inside_a_batch")


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def arrows_trace(at):
    for spec in chart_specs(at):
        for trace in json.loads(spec)["data"]:
            if trace.get("name", "").startswith(ARROWS_NAME):
                return trace
    raise AssertionError("no per-sample arrows trace")


def test_renders_every_part(page):
    at = page()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 4  # update, batch data, noise, timing
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows in the batch (B)"] == "32"
    assert at.slider(key="update").max == 139  # 7 updates per epoch × 20 epochs
    assert "not by 32 threads" in " ".join(m.value for m in at.markdown)
    assert any("grad = 2 / B * X_b.T @ (X_b @ w - y_b)" in c.value for c in at.code)
    assert "At update 0, the 32 rows" in at.markdown[-1].value


def test_the_scrubber_changes_the_charts(page):
    at = page()
    before = chart_specs(at)
    at.slider(key="update").set_value(40).run()
    assert_clean(at)
    assert chart_specs(at) != before
    assert "At update 40" in at.markdown[-1].value


def test_next_and_previous_step_one_update(page):
    at = page()
    first = chart_specs(at)
    at.button(key="update_next").click().run()
    assert_clean(at)
    assert at.slider(key="update").value == 1
    assert chart_specs(at) != first
    at.button(key="update_previous").click().run()
    assert at.slider(key="update").value == 0
    assert chart_specs(at) == first


def test_a_shared_control_changes_the_charts(page):
    at = page()
    before = chart_specs(at)
    at.select_slider(key="batch_size").set_value(8).run()
    assert_clean(at)
    assert chart_specs(at) != before
    assert {m.label: m.value for m in at.metric}["Rows in the batch (B)"] == "8"


@pytest.mark.parametrize(("query", "batch"), [({}, 32), ({"n": "1000", "batch_size": "512"}, 512)])
def test_arrows_are_one_trace_with_at_most_256_segments(page, query, batch):
    at = page(epochs="1", **query)
    assert_clean(at)
    trace = arrows_trace(at)
    assert trace["x"].count(None) == min(batch, MAX_ARROWS)
    assert f"({min(batch, MAX_ARROWS)} of {batch} shown)" in trace["name"]


@pytest.mark.parametrize("model", ["logistic", "tanh"])
def test_every_model_renders(page, model):
    at = page(model=model, epochs="2")
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 4
    at.button(key="update_next").click().run()
    assert_clean(at)


@pytest.mark.parametrize(("batch_size", "diverged_at"), [("32", 12), ("200", 11)])
def test_a_diverging_run_gives_a_message_not_a_traceback(page, batch_size, diverged_at):
    at = page(learning_rate="1.5", batch_size=batch_size)  # blows up after epoch 1
    assert_clean(at)
    assert any(f"diverged at update {diverged_at}" in w.value for w in at.warning)
    slider = at.slider(key="update")
    assert slider.max < diverged_at  # the scrubber stops before the blow-up
    slider.set_value(slider.max).run()
    assert_clean(at)
    assert at.button(key="update_next").disabled  # already at the last update
    at.button(key="update_previous").click().run()
    assert_clean(at)
    assert at.slider(key="update").value == slider.max - 1


def test_a_run_that_blows_up_at_once_still_renders_a_message(page):
    at = page(learning_rate="10.0")
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning or at.error


def test_scrubbing_past_a_shorter_run_clamps(page):
    at = page()
    at.slider(key="update").set_value(139).run()
    at.select_slider(key="epochs").set_value(1).run()
    assert_clean(at)
    assert at.slider(key="update").value == 6
