"""How big should my batch be? in real headless Chromium: a deep link, the target slider, the
learner's ms/step, and screenshots at two laptop sizes."""

import pytest

from .helpers import (
    assert_no_exception,
    error_alerts,
    goto,
    plotly_payload_signature,
    screenshot,
    slider_by_label,
    wait_idle,
)

PATH = "batch_size_choice"
TARGET = "Target: how far from the start loss down to the minimum"


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1280, 720)])
def test_the_page_loads_answers_and_is_screenshotted(app_server, page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    goto(page, app_server, PATH, timeout=90_000)
    assert page.locator("h1").first.inner_text() == "How big should my batch be?"
    assert_no_exception(page)
    assert error_alerts(page) == []
    assert page.locator(".js-plotly-plot").count() == 5
    takeaway = page.get_by_text("Up to about", exact=False)
    assert takeaway.count() >= 1
    screenshot(page, f"batch_size_choice-{width}x{height}")


def test_the_target_and_the_learners_ms_per_step_redraw_the_charts(app_server, page):
    goto(page, app_server, PATH, query="n=100", timeout=90_000)
    before = plotly_payload_signature(page)
    thumb = slider_by_label(page, TARGET)
    assert thumb.get_attribute("aria-valuetext") == "99.99 %"
    thumb.focus()
    thumb.press("ArrowLeft")
    wait_idle(page, timeout=60_000)
    assert thumb.get_attribute("aria-valuetext") == "99.9 %"
    after = plotly_payload_signature(page)
    assert after != before
    mine = page.get_by_label("Your ms/step")
    mine.fill("3")
    mine.press("Enter")
    wait_idle(page, timeout=60_000)
    assert len(plotly_payload_signature(page)[-1]) > len(after[-1])  # the learner's curve
    assert page.get_by_text("With your ms/step at batch size 32", exact=False).count() == 1
    assert_no_exception(page)
