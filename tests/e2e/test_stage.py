"""The live stage (ui/stage) in headless Chromium, through the harness tests/e2e/stage_app.py.

A drag switches runs in the browser with no rerun; the release commits one value to the
session and the URL; each knob works from the keyboard; playback moves the path with no rerun
and a stop puts the update in the URL; nothing logs an error; screenshots at 1440x900 and
1280x720 go to /tmp/stage-shots/.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

import gd
from harness.browser import error_log, find_stage, goto, script_run_count, wait_idle
from harness.streamlit_client import StreamlitClient
from ui.stage.payload import MAGIC, knob_values, read

SHOTS = Path("/tmp/stage-shots")
LABELS = {
    "learning_rate": "Learning rate",
    "batch_size": "Batch size",
    "momentum": "Momentum",
    "decay": "Decay",
}


def open_stage(page, url: str, query: str = "") -> None:
    goto(page, url, query=query, timeout=90_000)
    find_stage(page)


def drawn(page) -> dict[str, str]:
    text = page.evaluate("() => window.__stage.getAttribute('data-drawn')")
    return dict(part.split("=", 1) for part in text.split(";"))


def update(page) -> int:
    return int(page.evaluate("() => window.__stage.getAttribute('data-update')"))


def wait_drawn(page, knob: str, label: str) -> None:
    page.wait_for_function(
        "([k, v]) => (window.__stage.getAttribute('data-drawn') || '').split(';')"
        ".includes(k + '=' + v)",
        arg=[knob, label],
        timeout=5_000,
    )


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def assert_clean(page) -> None:
    log = error_log(page)
    assert log.page_errors == []
    assert log.console_errors == []


def test_a_drag_switches_runs_in_the_browser_and_the_release_commits(stage_server, page):
    open_stage(page, stage_server)
    assert drawn(page) == {
        "learning_rate": "0.05",
        "batch_size": "32",
        "momentum": "0",
        "decay": "0",
    }
    runs = script_run_count(page)
    knob = page.get_by_role("slider", name="Learning rate", exact=True)
    box = knob.bounding_box()
    y = box["y"] + box["height"] / 2
    start = box["x"] + box["width"] * 0.55
    page.mouse.move(start, y)
    page.mouse.down()
    seen = set()
    for k in range(1, 21):
        page.mouse.move(start - box["width"] * 0.5 * k / 20, y)
        page.wait_for_timeout(30)
        seen.add(drawn(page)["learning_rate"])
    assert len(seen) >= 10, seen  # many runs shown during one drag
    assert script_run_count(page) == runs  # and none of them asked the server
    held = knob.get_attribute("aria-valuetext")
    assert drawn(page)["learning_rate"] == held
    page.mouse.up()
    wait_idle(page, rerun_grace_ms=1500)
    assert script_run_count(page) == runs + 1  # one commit, one rerun
    assert float(query(page)["learning_rate"]) == float(held)
    assert knob.get_attribute("aria-valuetext") == held
    assert drawn(page)["learning_rate"] == held
    assert_clean(page)


@pytest.mark.parametrize("knob", list(LABELS))
def test_each_knob_works_from_the_keyboard(stage_server, page, knob):
    open_stage(page, stage_server)
    slider = page.get_by_role("slider", name=LABELS[knob], exact=True)
    values = knob_values(knob, getattr(gd_defaults(), knob), 200)
    text = [f"{v:g}" if knob != "batch_size" else str(v) for v in values]
    runs = script_run_count(page)
    slider.focus()
    slider.press("End")
    wait_drawn(page, knob, text[-1])
    slider.press("Home")
    wait_drawn(page, knob, text[0])
    slider.press("ArrowRight")
    wait_drawn(page, knob, text[1])
    slider.press("PageUp")
    slider.press("ArrowLeft")
    slider.press("ArrowUp")
    slider.press("PageDown")
    slider.press("ArrowDown")
    wait_drawn(page, knob, text[0])
    slider.press("ArrowRight")
    wait_drawn(page, knob, text[1])
    assert slider.get_attribute("aria-valuetext") == text[1]
    assert script_run_count(page) == runs  # keys redraw from the family
    wait_idle(page, rerun_grace_ms=2000)  # the commit follows a pause
    assert script_run_count(page) == runs + 1
    assert float(query(page)[knob]) == float(values[1])
    assert drawn(page)[knob] == text[1]
    assert_clean(page)


def zoom(page) -> float:
    return float(page.evaluate("() => window.__stage.getAttribute('data-zoom')"))


def test_the_contour_window_follows_a_blow_up_and_comes_back(stage_server, page):
    open_stage(page, stage_server, query="learning_rate=2&epochs=5")
    assert drawn(page)["learning_rate"] == "2"
    assert zoom(page) == 30.0  # payload.follow: 3 ever-wider swings, the last at 28 half-widths
    slider = page.get_by_role("slider", name="Learning rate", exact=True)
    slider.focus()
    slider.press("Home")  # 0.0001: a path that barely leaves the start
    wait_drawn(page, "learning_rate", "0.0001")
    assert zoom(page) == 1.0
    assert_clean(page)


def gd_defaults():
    from ui.controls import Settings

    return Settings()


def test_playback_moves_the_path_and_a_stop_goes_to_the_link(stage_server, page):
    open_stage(page, stage_server)
    assert update(page) == 140  # ceil(200/32) = 7 updates x 20 epochs, shown whole
    path = "() => window.__stage.querySelector('.contour canvas').toDataURL()"
    whole = page.evaluate(path)
    runs = script_run_count(page)
    page.get_by_role("button", name="Play").click()
    seen = []
    for _ in range(8):
        page.wait_for_timeout(120)
        seen.append(update(page))
    assert seen == sorted(seen) and seen[-1] > seen[0], seen
    assert seen[0] < 140
    assert script_run_count(page) == runs  # frames never ask the server
    page.get_by_role("button", name="Pause").click()
    wait_idle(page, rerun_grace_ms=1500)
    paused = update(page)
    assert script_run_count(page) == runs + 1  # the stop is reported once
    assert query(page)["update"] == str(paused)
    assert page.evaluate(path) != whole  # a shorter path is drawn
    page.get_by_role("button", name="Step forward one update").click()
    page.wait_for_function(f"() => window.__stage.getAttribute('data-update') === '{paused + 1}'")
    page.get_by_role("button", name="Step back one update").click()
    page.get_by_role("button", name="Step back one update").click()
    page.wait_for_function(f"() => window.__stage.getAttribute('data-update') === '{paused - 1}'")
    assert script_run_count(page) == runs + 1  # steps redraw at once, report after a pause
    wait_idle(page, rerun_grace_ms=2000)
    assert script_run_count(page) == runs + 2
    assert query(page)["update"] == str(paused - 1)
    scrub = page.get_by_role("slider", name="Update", exact=True)
    scrub.fill("0")
    page.wait_for_function("() => window.__stage.getAttribute('data-update') === '0'")
    wait_idle(page, rerun_grace_ms=2000)
    assert query(page)["update"] == "0"
    assert update(page) == 0  # the page's answer does not move the cursor
    assert_clean(page)


def test_the_drawn_runs_metrics_are_gd_fits(stage_server, page):
    open_stage(page, stage_server, query="batch_size=37&momentum=0.9")
    assert drawn(page)["batch_size"] == "37"
    data = gd.datasets.linear(n=200, noise=0.5, x_mean=0.0, x_std=1.0, seed=0)
    run = gd.fit(
        gd.models.LinearRegression(),
        data.x,
        data.y,
        gd.SGD(0.05, momentum=0.9),
        gd.Training(epochs=20, init=np.array([-1.0, 2.0])),
        batch_size=37,
    )
    metrics = page.locator("[data-stage] .metrics")
    assert metrics.locator(".per-epoch .value").inner_text() == str(run.updates_per_epoch)
    assert metrics.locator(".per-epoch .note").inner_text() == "⌈200 / 37⌉ = 6"
    assert metrics.locator(".updates .value").inner_text() == str(run.updates)
    assert metrics.locator(".final .value").inner_text() == f"{run.loss[-1]:.4g}"
    assert_clean(page)


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1280, 720)])
def test_screenshots(stage_server, page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    open_stage(page, stage_server)
    page.wait_for_timeout(300)
    contour = page.locator("[data-stage] .contour canvas").bounding_box()
    assert contour["width"] >= 480
    for name in LABELS.values():
        box = page.get_by_role("slider", name=name, exact=True).bounding_box()
        assert box["width"] >= 120 and box["height"] >= 32  # big enough for a projector
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"stage-{width}x{height}.png"), full_page=True)
    page.locator("[data-stage]").screenshot(path=str(SHOTS / f"stage-only-{width}x{height}.png"))
    assert re.fullmatch(r"\d+", str(update(page)))
    assert_clean(page)


def test_a_release_ships_what_the_browser_lacks_and_missing_ships_it_all(stage_server):
    """Issue 19, over the websocket as the browser speaks it: a release that says what it
    holds gets those parts as ids; a claim the server cannot match gets them whole; and after
    "missing" (a stage mounted anew lost them) the next payload is whole."""

    async def session():
        async with StreamlitClient(stage_server, query_string="learning_rate=0.1") as client:
            first = await client.connect()
            stage = first.components[0]
            header = read(stage.proto.bytes, MAGIC, "a stage")[0]
            holds = [k["id"] for k in header["knobs"]] + [header["scene"]["id"]]
            commit = {"knob": "momentum", "value": 0.5, "index": 10}
            held = await client.trigger(stage, "commit", {**commit, "holds": holds})
            missing = await client.trigger(stage, "missing", True)
            bogus = {**commit, "value": 0.9, "index": 18, "holds": ["0123456789abcdef"]}
            whole = await client.trigger(stage, "commit", bogus)
            runs = (held, whole, missing)
            return [read(r.components[0].proto.bytes, MAGIC, "a stage")[0] for r in runs]

    def held_parts(header: dict) -> list[str]:
        parts = [k["knob"] for k in header["knobs"] if k.get("held")]
        return parts + (["scene"] if header["scene"]["held"] else [])

    with ThreadPoolExecutor(1) as thread:  # Playwright's event loop runs in this one
        held, whole, missing = thread.submit(asyncio.run, session()).result()
    assert held_parts(held) == ["momentum", "scene"]
    assert held_parts(whole) == [] and held_parts(missing) == []
    assert [k["current"] for k in missing["knobs"]] == [k["current"] for k in held["knobs"]]
