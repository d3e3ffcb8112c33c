"""Links between pages, clicked in real Chromium at 1280x720 (issue 16, item 2): every in-app
link carries its settings in its address, and the page it opens shows exactly them.

Before the fix the click reran the app with the link's address, but the settings store,
seeded once per session, ignored it, and the page then rewrote the address to the session's
settings: the Playground drew the old run at "/" (``ui.controls.arrive`` has the rules now).
Each test checks the three things a teacher sees: the link's address, the address after the
click, and the run the stage draws (its ``data-drawn`` hook).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from harness.browser import (
    assert_no_exception,
    drawn,
    find_stage,
    goto,
    slider_by_label,
    wait_idle,
)
from ui.controls import read_link

PROJECTOR = {"width": 1280, "height": 720}
SLOW = 120_000  # ms: a cold server compiles its kernels on the first page
# Not the defaults (n 200, 20 epochs, momentum 0): a link that dropped them would show.
MAPS = "n=100&epochs=5&momentum=0.5"
# Plain numbers, as the page's sentences spell them (Python's :g and .4g).
NUMBER = r"[0-9][0-9.e+-]*"
HOVER = re.compile(
    rf"^learning rate (?P<learning_rate>{NUMBER}), (?P<name>batch size|momentum) "
    rf"(?P<column>{NUMBER}), (final loss {NUMBER}|diverged \(crossed out\))"
)


@pytest.fixture
def projector(page):
    """The `page` fixture at 1280x720, a projector's screen."""
    page.set_viewport_size(PROJECTOR)
    return page


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def named(query: dict[str, str]) -> dict[str, object]:
    """Every setting an address names, read as a new session reads it: the defaults, then
    what it names. (A link names a default when the session's value differs; the address
    the page then writes leaves it out, as it does every default.)"""
    values, notices = read_link(query)
    assert notices == []
    return values


def shown(query: dict[str, str]) -> dict[str, str]:
    """What the stage's `data-drawn` should say for a link's query (Python's :g spelling)."""
    values = named(query)
    return {
        "learning_rate": f"{values['learning_rate']:g}",
        "batch_size": str(values["batch_size"]),
        "momentum": f"{values['momentum']:g}",
        "decay": f"{values['decay']:g}",
    }


def follow(page, link) -> dict[str, str]:
    """Click an in-app link to the Playground; return the query its address named, after
    checking that the address after the click names the same and the stage draws it."""
    linked = query_of(link.get_attribute("href"))
    link.click()
    page.wait_for_url(re.compile(r"^[^?]*/(\?|$)"), timeout=SLOW)  # the Playground is "/"
    wait_idle(page, timeout=SLOW)
    find_stage(page)
    assert named(query_of(page.url)) == named(linked)  # the address carries the link's settings
    assert drawn(page) == shown(linked)  # and the stage draws exactly that run
    assert_no_exception(page)
    return linked


@pytest.mark.parametrize(
    ("which", "column"),
    [(0, "batch_size"), (1, "momentum")],
    ids=["batch-size map", "momentum map"],
)
def test_open_in_the_playground_from_a_map_opens_that_cell(app_server, projector, which, column):
    page = projector
    goto(page, app_server, "maps", query=MAPS, timeout=SLOW)
    link = page.get_by_role("link", name="Open this run in the Playground").nth(which)
    link.scroll_into_view_if_needed()
    linked = follow(page, link)
    assert (linked["n"], linked["epochs"]) == ("100", "5")  # the map's other settings
    assert {"learning_rate", column} <= set(linked)  # the cell's own


@pytest.mark.parametrize(
    ("key", "where"),
    [("chart_map_batch", (0.55, 0.45)), ("chart_map_momentum", (0.2, 0.6))],
    ids=["batch-size map", "momentum map"],
)
def test_a_click_on_a_map_cell_opens_that_run(app_server, projector, key, where):
    """Hovering a cell names it in plain numbers; clicking it opens that run."""
    page = projector
    goto(page, app_server, "maps", query=MAPS, timeout=SLOW)
    chart = page.locator(f".st-key-{key} .js-plotly-plot")
    chart.scroll_into_view_if_needed()
    box = chart.locator(".nsewdrag").first.bounding_box()
    x, y = box["x"] + box["width"] * where[0], box["y"] + box["height"] * where[1]
    page.mouse.move(x, y)
    label = chart.locator(".hoverlayer .hovertext")
    label.wait_for(state="visible")
    text = label.text_content()
    cell = HOVER.match(text)
    assert cell is not None, text  # not "(8, −1.649752)", a log₁₀ value
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"^[^?]*/(\?|$)"), timeout=SLOW)
    wait_idle(page, timeout=SLOW)
    find_stage(page)
    linked = query_of(page.url)
    assert (linked["n"], linked["epochs"]) == ("100", "5")  # the map's other settings
    run = drawn(page)
    assert run == shown(linked)
    assert run["learning_rate"] == cell["learning_rate"]
    column = "batch_size" if cell["name"] == "batch size" else "momentum"
    assert run[column] == cell["column"]
    if column == "batch_size":
        assert run["momentum"] == "0.5"
    else:
        assert run["batch_size"] == "32"
    assert_no_exception(page)


CUT_CODE_JS = """
() => [...document.querySelectorAll('[data-testid="stCode"] pre')]
  .filter((pre) => pre.clientWidth > 0)  // the scripts in hidden tabs have no box
  .filter((pre) => pre.scrollWidth > pre.clientWidth + 1)
  .map((pre) => pre.textContent.slice(0, 60))
"""


def test_keras_to_here_shows_its_code_whole_and_its_links_open_their_illustration(
    app_server, projector
):
    page = projector
    # 192 rows: decay 0, no split and 32 | 192 make five gotchas draw illustrations.
    goto(page, app_server, "keras_to_here", query="n=192&epochs=5", timeout=SLOW)
    codes = page.locator('[data-testid="stCode"] pre')
    assert "def keras_step(" in codes.nth(3).text_content()  # after the three scripts
    assert codes.nth(3).bounding_box()["width"] > 600  # not a 320 px column beside the chart
    assert page.evaluate(CUT_CODE_JS) == []  # nothing scrolls out of sight
    link = page.get_by_role("link", name="Open this illustration in the Playground").first
    link.scroll_into_view_if_needed()
    linked = follow(page, link)
    assert linked == {"n": "192", "decay": "0.1", "epochs": "5"}


def test_a_link_from_the_playground_carries_the_settings(app_server, projector):
    page = projector
    goto(page, app_server, "", query="batch_size=37&epochs=5", timeout=SLOW)
    find_stage(page)
    link = page.get_by_test_id("stMain").get_by_role("link", name="Inside one mini-batch")
    assert query_of(link.get_attribute("href")) == {"batch_size": "37", "epochs": "5"}
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_url(re.compile(r"/inside_a_batch\?"), timeout=SLOW)
    wait_idle(page, timeout=SLOW)
    assert query_of(page.url) == {"batch_size": "37", "epochs": "5"}
    assert slider_by_label(page, "Batch size").get_attribute("aria-valuetext") == "37"
    assert slider_by_label(page, "Epochs").get_attribute("aria-valuetext") == "5"
    assert_no_exception(page)
