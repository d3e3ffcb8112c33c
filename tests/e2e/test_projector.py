"""The Playground on a projector (issue 16), in headless Chromium at 1280x720 and 1440x900.

- A released drag, a preset and a fresh load of the resulting link paint the same pixels on
  every stage canvas (each knob at both ends, every preset).
- With the sidebar open the path, loss and data panels are at least 160 px tall with at least
  three labelled ticks per axis, and the four knobs are in view without scrolling.
- A knob's box and the knob row's height do not move while a drag changes the value, at any
  width from 360 to 1920 px.
- Scrubbed to an early update, the status and the loss cards describe that update.
- The first knob is three key presses from a fresh load.
"""

from __future__ import annotations

import base64
import io
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image

from harness.browser import (
    attach_error_log,
    drawn,
    error_log,
    find_stage,
    focused_name,
    goto,
    held_parts,
    install_probes,
    knob,
    stage_metric,
    wait_drawn,
    wait_idle,
)
from ui.playground import PRESETS

PROJECTOR = {"width": 1280, "height": 720}
LABELS = {
    "learning_rate": "Learning rate",
    "batch_size": "Batch size",
    "momentum": "Momentum",
    "decay": "Decay",
}
ENDS = {  # each knob's two ends at the defaults (ui.stage.payload.knob_values), as drawn
    "learning_rate": ("0.0001", "10"),
    "batch_size": ("1", "200"),
    "momentum": ("0", "0.99"),
    "decay": ("0", "1"),
}
DEFAULTS = {"learning_rate": "0.05", "batch_size": "32", "momentum": "0", "decay": "0"}
# A canvas pixel counts as different when a channel differs by more than this; antialiasing
# noise may differ in at most this share of a canvas's pixels.
CHANNEL = 24
NOISE_SHARE = 0.002

CANVASES_JS = """
async () => {
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [...window.__stage.querySelectorAll('canvas')].map((c) => c.toDataURL('image/png'));
}
"""


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def new_page(browser, viewport=PROJECTOR):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(60_000)
    attach_error_log(page)
    install_probes(page)
    return context, page


def open_playground(page, base_url: str, query: str = "") -> None:
    goto(page, base_url, query=query, timeout=90_000)
    find_stage(page)


def pixels(page) -> list[np.ndarray]:
    """Every stage canvas as an (h, w, 4) uint8 array, after the next two frames."""
    shots = page.evaluate(CANVASES_JS)
    return [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))
        for url in shots
    ]


def differing_share(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return 1.0
    diff = np.abs(a.astype(int) - b.astype(int)).max(axis=-1)
    return float(np.mean(diff > CHANNEL))


def assert_same_as_a_fresh_load(browser, page) -> None:
    """The stage's canvases on `page` equal a fresh load of its address, pixel for pixel."""
    shown = pixels(page)
    context, fresh = new_page(browser)
    try:
        fresh.goto(page.url)
        wait_idle(fresh, timeout=90_000)
        find_stage(fresh)
        assert drawn(fresh) == drawn(page)
        again = pixels(fresh)
    finally:
        context.close()
    names = ("contour", "losses", "data", "rate")
    shares = {name: differing_share(a, b) for name, a, b in zip(names, shown, again, strict=True)}
    assert all(share <= NOISE_SHARE for share in shares.values()), (page.url, shares)


def drag_to(page, label: str, end: str) -> None:
    """Drag a knob with the mouse past its low or high end, then release it."""
    track = knob(page, label)
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    target = box["x"] - 30 if end == "low" else box["x"] + box["width"] + 30
    for k in range(1, 11):
        start = box["x"] + box["width"] / 2
        page.mouse.move(start + (target - start) * k / 10, y)
        page.wait_for_timeout(20)
    page.mouse.up()


@pytest.mark.parametrize("end", ["low", "high"])
@pytest.mark.parametrize("name", list(LABELS))
def test_a_released_drag_paints_what_a_fresh_load_of_its_link_paints(
    browser, app_server, name, end
):
    context, page = new_page(browser)
    try:
        open_playground(page, app_server, "learning_rate=0.56" if name != "learning_rate" else "")
        drag_to(page, LABELS[name], end)
        value = ENDS[name][0 if end == "low" else 1]
        wait_drawn(page, name, value)
        wait_idle(page, rerun_grace_ms=1_500)
        if value != DEFAULTS[name]:  # a default is left out of the link
            assert float(query(page)[name]) == float(value)
        # Issue 19: after a release the knob's family and the scene came from the payload
        # before (the default learning rate, 0.05, is off its grid: its family changes when
        # released on the grid). A drag back to where it started releases nothing.
        held = 0 if value == DEFAULTS[name] else 1 if name == "learning_rate" else 2
        assert held_parts(page) == held
        assert_same_as_a_fresh_load(browser, page)
        assert error_log(page).page_errors == []
    finally:
        context.close()


@pytest.mark.parametrize("name", ["batch_size", "momentum"])
def test_a_released_drag_of_the_network_paints_what_a_fresh_load_paints(browser, app_server, name):
    """Issue 18: the network's slice goes through the committed run's end, so a release moves
    the plane and resends everything (nothing held); the repaint is a fresh load's."""
    context, page = new_page(browser)
    try:
        open_playground(page, app_server, "model=network")
        drag_to(page, LABELS[name], "high")
        value = ENDS[name][1]
        wait_drawn(page, name, value)
        wait_idle(page, rerun_grace_ms=1_500)
        assert float(query(page)[name]) == float(value)
        assert held_parts(page) == 0
        assert_same_as_a_fresh_load(browser, page)
        assert error_log(page).page_errors == []
    finally:
        context.close()


def choose_preset(page, name: str) -> None:
    page.get_by_role("combobox", name="Preset").click()
    page.get_by_role("option", name=name, exact=True).click()
    wait_idle(page, rerun_grace_ms=1_500)


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_preset_paints_what_a_fresh_load_of_its_link_paints(browser, app_server, name):
    context, page = new_page(browser)
    try:
        open_playground(page, app_server, "learning_rate=2&epochs=5")  # start from a zoomed view
        choose_preset(page, name)
        find_stage(page)
        settings = PRESETS[name].settings()
        wait_drawn(page, "learning_rate", f"{settings.learning_rate:g}")
        assert_same_as_a_fresh_load(browser, page)
        assert error_log(page).page_errors == []
    finally:
        context.close()


BOXES_JS = """
(relative) => {
  const s = window.__stage;
  const at = relative ? s.getBoundingClientRect() : {x: 0, y: 0};
  const box = (e) => {
    const b = e.getBoundingClientRect();
    return [b.x - at.x, b.y - at.y, b.width, b.height];
  };
  return {
    panels: Object.fromEntries([...s.querySelectorAll('.panel')].map((p) =>
      [p.classList[1], {box: box(p.querySelector('canvas')),
                        ticks: JSON.parse(p.querySelector('canvas').getAttribute('data-ticks'))}])),
    knobs: [...s.querySelectorAll('.knob-track')].map(box),
    row: box(s.querySelector('.knobs')),
    heads: [...s.querySelectorAll('.knob-head')].map(box),
    viewport: [window.innerWidth, window.innerHeight],
  };
}
"""


@pytest.mark.parametrize(
    "query", ["", "model=logistic", "batch_size=200&learning_rate=0.3&epochs=30", "epochs=1"]
)
def test_on_a_projector_the_panels_are_readable_and_the_knobs_in_view(browser, app_server, query):
    context, page = new_page(browser)
    try:
        open_playground(page, app_server, query)
        page.wait_for_timeout(300)
        boxes = page.evaluate(BOXES_JS, False)
        for name in ("contour", "losses", "data"):
            panel = boxes["panels"][name]
            assert panel["box"][3] >= 160, (name, panel["box"])
            assert len(panel["ticks"]["x"]) >= 3 and len(panel["ticks"]["y"]) >= 3, (name, panel)
        width, height = boxes["viewport"]
        for x, y, w, h in boxes["knobs"]:
            assert x >= 0 and x + w <= width and y >= 0 and y + h <= height, boxes["knobs"]
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 390, 560, 700, 900, 1024, 1280, 1440, 1920])
def test_a_knob_holds_still_while_a_drag_changes_its_value(browser, app_server, width):
    context, page = new_page(browser, {"width": width, "height": 900})
    try:
        open_playground(page, app_server)
        page.wait_for_timeout(300)
        first = page.evaluate(BOXES_JS, False)  # in the viewport, as first shown
        before = page.evaluate(BOXES_JS, True)  # within the stage: focus may scroll the page
        for name, label in LABELS.items():
            slider = knob(page, label)
            slider.focus()
            for key in ("End", "Home", "ArrowRight", "ArrowRight", "PageUp"):
                slider.press(key)
                page.wait_for_timeout(30)
                now = page.evaluate(BOXES_JS, True)
                assert now["knobs"] == before["knobs"], (width, name, key)
                assert now["heads"] == before["heads"], (width, name, key)
                assert now["row"][3] == before["row"][3], (width, name, key)
            slider.press("Home" if name in ("momentum", "decay") else "End")
        if width <= 390:  # a phone: the path stays in view above the knob being dragged
            path = first["panels"]["contour"]["box"]
            knobs_bottom = max(y + h for _, y, _, h in first["knobs"])
            assert path[1] >= 0 and knobs_bottom <= 900, (path, knobs_bottom)
    finally:
        context.close()


def test_scrubbed_to_an_early_update_the_cards_describe_that_update(browser, app_server):
    context, page = new_page(browser)
    try:
        open_playground(page, app_server, "update=10")
        assert stage_metric(page, "status .name") == "Status at update 10 of 140"
        assert stage_metric(page, "status") == "still descending"
        assert stage_metric(page, "final .note") == "at update 10 of 140"
        loss, gap = stage_metric(page, "final"), stage_metric(page, "distance")
        minimum = stage_metric(page, "distance .note").removeprefix("the minimum (✕) is ")
        assert float(gap) == pytest.approx(float(loss) - float(minimum), abs=2e-3)
        assert f"The loss here is {loss}, {gap} above the minimum." in stage_metric(
            page, "status .note"
        )
        assert "update 10 of 140" in page.locator("[data-stage] .where").inner_text()
        page.get_by_role("slider", name="Update", exact=True).fill("140")
        page.wait_for_function("() => window.__stage.getAttribute('data-update') === '140'")
        assert stage_metric(page, "status .name") == "Status"
        assert stage_metric(page, "status") == "converged"
        assert stage_metric(page, "final .note") == "at update 140 of 140, the end"
        note = stage_metric(page, "status .note")
        assert f"({minimum})" in note  # the sentence's minimum is the card's
    finally:
        context.close()


def test_the_first_knob_is_three_key_presses_from_a_fresh_load(browser, app_server):
    context, page = new_page(browser)
    try:
        open_playground(page, app_server)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        for key in ("Tab", "Enter", "Tab"):  # the skip link, then the first control of the page
            page.keyboard.press(key)
        assert focused_name(page) == "Learning rate"
        page.keyboard.press("ArrowRight")
        wait_drawn(page, "learning_rate", "0.0562")
    finally:
        context.close()
