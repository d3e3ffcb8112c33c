"""Every page in real headless Chromium: deep links, keyboard sliders, shared links, isolation
between students, the upload limit, and a screenshot of each page."""

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from .helpers import (
    assert_no_exception,
    error_log,
    goto,
    plotly_payload_signature,
    screenshot,
    slider_by_label,
    wait_idle,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = [  # (url path, the page's title)
    ("", "Playground"),
    ("batch_sizes", "Batch, mini-batch, stochastic"),
    ("inside_a_batch", "Inside one mini-batch"),
    ("keras_to_here", "From Keras to here"),
    ("maps", "Hyperparameter maps"),
]


def title(page) -> str:
    return page.locator("h1").first.inner_text()


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return box.locator('[data-testid="stMetricValue"]').inner_text()


@pytest.mark.parametrize(("path", "heading"), PAGES, ids=[p or "playground" for p, _ in PAGES])
def test_every_page_deep_links_loads_cleanly_and_is_screenshotted(app_server, page, path, heading):
    goto(page, app_server, path, timeout=90_000)
    assert title(page) == heading
    assert_no_exception(page)
    assert not error_log(page).page_errors
    assert page.locator(".js-plotly-plot").count() >= 1
    shot = screenshot(page, path or "playground")
    if not path:  # the README shows the Playground as the test run sees it
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS / "playground.png")


def test_arrow_keys_on_a_slider_rerun_redraw_and_update_the_link(app_server, page):
    goto(page, app_server, timeout=90_000)
    before = plotly_payload_signature(page)
    thumb = slider_by_label(page, "Learning rate")
    assert thumb.get_attribute("aria-valuetext") == "0.05"
    thumb.focus()
    thumb.press("ArrowRight")
    wait_idle(page)
    assert thumb.get_attribute("aria-valuetext") == "0.1"
    assert plotly_payload_signature(page) != before
    assert parse_qs(urlparse(page.url).query)["learning_rate"] == ["0.1"]
    slider_by_label(page, "Batch size").press("ArrowLeft")
    wait_idle(page)
    assert metric(page, "Updates per epoch") == "13"  # ceil(200 / 16)
    assert_no_exception(page)


def test_a_copied_link_restores_the_view(app_server, page):
    goto(page, app_server, query="batch_size=37&learning_rate=0.1&momentum=0.9&epochs=3")
    assert slider_by_label(page, "Batch size").get_attribute("aria-valuetext") == "37"
    assert slider_by_label(page, "Momentum").get_attribute("aria-valuetext") == "0.9"
    assert metric(page, "Updates per epoch") == "6"  # ceil(200 / 37); the last batch has 15
    assert metric(page, "Total updates") == "18"
    copied = urlparse(page.url)
    other = page.context.new_page()
    goto(other, app_server, copied.path, copied.query)
    assert metric(other, "Total updates") == "18"
    assert plotly_payload_signature(other) == plotly_payload_signature(page)


def test_view_controls_are_in_the_link_and_survive_setting_changes(app_server, page):
    goto(page, app_server, query="loss_x_axis=Epochs&loss_log_y=false&learning_rate=0.1")
    axes = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".map(e => [e.layout.xaxis.title.text, e.layout.yaxis.type])"
    )
    assert ["epochs", "linear"] in axes  # the loss chart, as the link asked
    slider_by_label(page, "Momentum").press("ArrowRight")
    wait_idle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["loss_x_axis"] == ["Epochs"] and query["loss_log_y"] == ["false"]
    assert query["momentum"] == ["0.5"] and query["learning_rate"] == ["0.1"]


def test_a_bad_link_falls_back_with_a_visible_notice(app_server, page):
    goto(page, app_server, query="momentum=7&batch_size=abc")
    warnings = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
    assert any("momentum=7 is out of range" in w for w in warnings)
    assert any("batch_size=abc is not a valid value" in w for w in warnings)
    assert metric(page, "Updates per epoch") == "7"  # the defaults: ceil(200 / 32)
    assert_no_exception(page)


def test_navigation_between_pages_keeps_the_settings(app_server, page):
    goto(page, app_server, query="epochs=5&batch_size=8")
    nav = page.get_by_test_id("stSidebarNavItems")
    nav.get_by_role("link", name="Hyperparameter maps").click()
    wait_idle(page, timeout=90_000)
    assert title(page) == "Hyperparameter maps"
    assert slider_by_label(page, "Epochs").get_attribute("aria-valuetext") == "5"
    nav.get_by_role("link", name="Playground").click()
    wait_idle(page)
    assert metric(page, "Updates per epoch") == "25"  # 200 / 8
    assert_no_exception(page)


def test_two_students_at_once_each_see_only_their_own_run(app_server, browser):
    first = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    second = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    goto(first, app_server, query="batch_size=8")
    goto(second, app_server, query="batch_size=64&epochs=2")
    slider_by_label(first, "Learning rate").press("ArrowRight")
    slider_by_label(second, "Learning rate").press("ArrowLeft")
    wait_idle(first)
    wait_idle(second)
    assert metric(first, "Updates per epoch") == "25"
    assert metric(second, "Updates per epoch") == "4"
    assert metric(second, "Total updates") == "8"
    assert slider_by_label(first, "Learning rate").get_attribute("aria-valuetext") == "0.1"
    assert slider_by_label(second, "Learning rate").get_attribute("aria-valuetext") == "0.02"
    assert plotly_payload_signature(first) != plotly_payload_signature(second)
    first.context.close()
    second.context.close()


def test_an_oversize_upload_is_refused_by_the_server_limit(app_server, page, tmp_path):
    goto(page, app_server, query="source=csv")
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "1.000000001,2.000000001\n" * 260_000)  # about 6 MB > 5 MB
    before = plotly_payload_signature(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(big))
    page.get_by_text("File must be 5.0MB or smaller", exact=False).wait_for()
    wait_idle(page)
    assert plotly_payload_signature(page) == before
    assert_no_exception(page)
