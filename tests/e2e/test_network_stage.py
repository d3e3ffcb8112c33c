"""The network on the live stage (issue 18), in headless Chromium: dragging each knob redraws its
path on the slice and its curve through the data, with no rerun until the release; scrubbed to
an early update, the curve is the network's at that update; nothing logs an error."""

from __future__ import annotations

import pytest

from harness.browser import script_run_count, wait_idle
from tests.e2e.test_stage import LABELS, assert_clean, drawn, open_stage

NETWORK = "model=network&learning_rate=0.2"
CANVAS_JS = "(name) => window.__stage.querySelector(`.${name} canvas`).toDataURL('image/png')"


def canvas(page, name: str) -> str:
    return page.evaluate(CANVAS_JS, name)


@pytest.mark.parametrize("knob", list(LABELS))
def test_dragging_each_knob_redraws_the_path_and_the_curve_without_a_rerun(
    stage_server, page, knob
):
    open_stage(page, stage_server, query=NETWORK)
    assert page.locator("[data-stage] .contour h3").inner_text() == "Path on a slice of the loss"
    runs = script_run_count(page)
    track = page.get_by_role("slider", name=LABELS[knob], exact=True)
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    seen = {}
    for end in (0.02, 0.98):  # both ends of the knob
        page.mouse.move(box["x"] + box["width"] * end, y, steps=8)
        page.wait_for_timeout(60)
        seen[drawn(page)[knob]] = (canvas(page, "data"), canvas(page, "contour"))
    assert len(seen) == 2, seen.keys()  # the two ends are two runs
    (low_data, low_path), (high_data, high_path) = seen.values()
    assert low_data != high_data  # another run, another curve through the points
    assert low_path != high_path
    assert script_run_count(page) == runs  # no frame asked the server
    page.mouse.up()
    wait_idle(page, rerun_grace_ms=1500)
    assert_clean(page)


def test_an_early_update_draws_the_curve_the_network_had_then(stage_server, page):
    open_stage(page, stage_server, query=NETWORK)
    end = canvas(page, "data")
    open_stage(page, stage_server, query=NETWORK + "&update=3")
    assert page.evaluate("() => window.__stage.getAttribute('data-update')") == "3"
    assert canvas(page, "data") != end
    assert_clean(page)
