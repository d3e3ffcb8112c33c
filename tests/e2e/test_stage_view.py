"""The live stage's view (``ui.stage.View``, issue 20) and its video, in headless Chromium.

Through the harness tests/e2e/stage_app.py, whose link carries the view (``locked=``,
``hidden=``, ``play=``, ``present=1``, ``conceal=1``) and whose sidebar buttons send a new play
token (and an answer, which ends the concealment) with no new mount. A hidden knob is not
shown; a locked one shows its value and neither moves nor commits; a new token plays from
update 0; the presenter view shows two panels with no text under 20 px at 1280x720 (its
screenshot: docs/screenshots/stage-presenter-1280x720.png); the record button saves a WebM clip
of the run; a concealed stage (predict before you observe) shows update 0 and nothing of the
run's end until the student answers (its screenshot:
docs/screenshots/stage-concealed-1280x720.png).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

from harness.browser import (
    drawn,
    error_log,
    find_stage,
    goto,
    knob,
    script_run_count,
    stage_metric,
    stage_update,
    wait_drawn,
    wait_idle,
)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DEFAULTS = {"learning_rate": "0.05", "batch_size": "32", "momentum": "0", "decay": "0"}
EBML = bytes.fromhex("1A45DFA3")  # a WebM (Matroska) file's first four bytes


def open_stage(page, url: str, query: str = "") -> None:
    goto(page, url, query=query, timeout=90_000)
    find_stage(page)


def attribute(page, name: str) -> str | None:
    return page.evaluate("(name) => window.__stage.getAttribute(name)", name)


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def assert_clean(page) -> None:
    log = error_log(page)
    assert log.page_errors == [] and log.console_errors == [] and log.outside_requests == []


def test_a_hidden_knob_is_not_shown_and_the_others_share_the_row(stage_server, page):
    open_stage(page, stage_server, "hidden=momentum,decay")
    assert attribute(page, "data-hidden") == "decay,momentum"
    assert knob(page, "Momentum").count() == 0 and knob(page, "Decay").count() == 0
    blocks = page.locator("[data-stage] .knob")
    shown = [b for b in blocks.all() if b.is_visible()]
    assert len(shown) == 2
    row = page.locator("[data-stage] .knobs").bounding_box()
    for block in shown:  # two knobs fill the row between them, not a quarter each
        assert block.bounding_box()["width"] > 0.4 * row["width"]
    focusable = page.evaluate(
        "() => [...window.__stage.querySelectorAll('.knob-track')]"
        ".filter((t) => t.tabIndex >= 0 && t.getClientRects().length).length"
    )
    assert focusable == 2
    assert drawn(page) == DEFAULTS
    assert_clean(page)


def test_a_locked_knob_shows_its_value_and_neither_moves_nor_commits(stage_server, page):
    open_stage(page, stage_server, "locked=learning_rate&learning_rate=0.1")
    assert attribute(page, "data-locked") == "learning_rate"
    slider = knob(page, "Learning rate")
    assert slider.get_attribute("aria-disabled") == "true"
    assert slider.get_attribute("aria-valuetext") == "0.1"
    assert page.locator("[data-stage] .knob.locked .knob-lock").inner_text().lower() == "locked"
    runs, before = script_run_count(page), dict(query(page))
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.9, y)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.9 - 0.08 * k), y)
        page.wait_for_timeout(30)
        assert drawn(page)["learning_rate"] == "0.1"
    page.mouse.up()
    slider.focus()
    for key in ("End", "Home", "ArrowLeft", "PageUp"):
        slider.press(key)
    page.wait_for_timeout(100)
    assert drawn(page)["learning_rate"] == "0.1"
    slider.blur()  # a blur commits a pending key; there is none
    wait_idle(page, rerun_grace_ms=1500)
    assert script_run_count(page) == runs  # nothing went to the server
    assert query(page) == before
    assert slider.get_attribute("aria-valuetext") == "0.1"
    # The knob beside it is live: the harness still commits.
    momentum = knob(page, "Momentum")
    momentum.focus()
    momentum.press("ArrowRight")
    wait_drawn(page, "momentum", "0.05")
    wait_idle(page, rerun_grace_ms=2000)
    assert script_run_count(page) == runs + 1 and query(page)["momentum"] == "0.05"
    assert drawn(page)["learning_rate"] == "0.1"
    assert_clean(page)


def rising_from_zero(page) -> list[int]:
    """The playback cursor, sampled while it plays from update 0."""
    page.wait_for_function(
        "() => window.__stage.getAttribute('data-playing') === '1'"
        " && Number(window.__stage.getAttribute('data-update')) < 20",
        polling=20,
        timeout=10_000,
    )
    seen = []
    for _ in range(6):
        seen.append(stage_update(page))
        page.wait_for_timeout(120)
    assert seen == sorted(seen) and seen[-1] > seen[0] and seen[0] < 20, seen
    return seen


def test_a_new_play_token_plays_from_update_zero_without_a_new_mount(stage_server, page):
    open_stage(page, stage_server)
    assert stage_update(page) == 140 and attribute(page, "data-playing") == "0"
    page.evaluate("() => { window.__stage.__mounted = true; }")
    page.get_by_role("button", name="New token (start from 0)").click()
    rising_from_zero(page)
    assert page.evaluate("() => window.__stage.__mounted === true")  # the same stage
    page.get_by_role("button", name="Pause").click()  # the stop goes to the page: a rerun
    wait_idle(page, rerun_grace_ms=1500)
    paused = stage_update(page)
    assert query(page)["update"] == str(paused)
    page.wait_for_timeout(300)  # the rerun's payload repeats the token: nothing happens
    assert attribute(page, "data-playing") == "0" and stage_update(page) == paused
    assert_clean(page)


def test_a_fresh_stage_with_a_play_token_plays_from_update_zero(stage_server, page):
    open_stage(page, stage_server, "play=3&update=100")
    rising_from_zero(page)
    assert_clean(page)


def test_the_presenter_view_shows_two_large_panels_and_no_small_text(stage_server, page):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_stage(page, stage_server, "present=1")
    assert attribute(page, "data-present") == "1"
    assert attribute(page, "data-font-size") == "20"  # the canvases' labels and ticks
    stage = page.locator("[data-stage]")
    assert not stage.locator(".panel.data").is_visible()
    assert not stage.locator(".panel.rate").is_visible()
    contour = stage.locator(".panel.contour canvas").bounding_box()
    losses = stage.locator(".panel.losses canvas").bounding_box()
    assert abs(contour["y"] - losses["y"]) < 1  # side by side
    assert contour["x"] + contour["width"] <= losses["x"]
    assert min(contour["width"], losses["width"]) >= 480
    assert min(contour["height"], losses["height"]) >= 260
    smallest = page.evaluate(
        """() => {
        const sizes = [];
        for (const el of window.__stage.querySelectorAll('*')) {
          const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
          if (!text || !el.checkVisibility()) continue;
          sizes.push([parseFloat(getComputedStyle(el).fontSize), el.className || el.tagName]);
        }
        return sizes.sort((a, b) => a[0] - b[0])[0];
        }"""
    )
    assert smallest[0] >= 20, smallest
    # The knobs (tracks twice as tall) and the playback row fit the projector's screen.
    assert knob(page, "Learning rate").bounding_box()["height"] >= 64
    play = stage.get_by_role("button", name="Play", exact=True).bounding_box()
    assert play["y"] + play["height"] <= 720
    path = SCREENSHOT / "stage-presenter-1280x720.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 0
    assert_clean(page)


def record(page, stop_after_ms: int | None = None) -> tuple[str, bytes]:
    """Click the record button and return the download's name and bytes (stopped early with
    the button after ``stop_after_ms``)."""
    stage = page.locator("[data-stage]")
    with page.expect_download(timeout=40_000) as info:
        stage.get_by_role("button", name="Record the run as a WebM video").click()
        assert attribute(page, "data-recording") == "1"
        if stop_after_ms is not None:
            page.wait_for_timeout(stop_after_ms)
            stage.get_by_role("button", name="Stop recording and save the video").click()
    download = info.value
    page.wait_for_function("() => window.__stage.getAttribute('data-recording') === '0'")
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_the_record_button_saves_a_webm_clip_of_the_run(stage_server, page):
    open_stage(page, stage_server, "epochs=3&learning_rate=0.1")  # 21 updates: a 3-s clip
    name, data = record(page)
    assert name == "sgd-lr0.1-batch32.webm"
    assert data[:4] == EBML and len(data) > 4_000
    assert stage_update(page) == 21  # it played the run to its end
    assert_clean(page)


def test_stop_ends_the_recording_early_and_still_saves_it(stage_server, page):
    open_stage(page, stage_server, "momentum=0.9")  # 140 updates: a 14-s clip
    name, data = record(page, stop_after_ms=1_500)
    assert name == "sgd-lr0.05-batch32-momentum0.9.webm"
    assert data[:4] == EBML and len(data) > 2_000
    assert stage_update(page) < 140
    button = page.locator("[data-stage]").get_by_role("button", name="Record the run")
    assert button.is_enabled()
    assert_clean(page)


# The loss panel's plot area in CSS px at 12-px text (stage.js drawLosses: left 58, top 24,
# bottom 30, frameOf's right 10), and how much of it is painted, read from the canvas itself:
# the share of pixel columns right of the first tenth that hold any painted pixel. The frame's
# border and the cursor's line at update 0 lie outside the columns read.
PAINTED_RIGHT_JS = """
() => {
  const c = window.__stage.querySelector('.panel.losses canvas');
  const dpr = c.width / c.clientWidth;
  const left = 58, right = 10, top = 24, bottom = 30;
  const pw = c.clientWidth - left - right, ph = c.clientHeight - top - bottom;
  const x0 = Math.ceil((left + 0.1 * pw) * dpr), x1 = Math.floor((left + pw - 2) * dpr);
  const y0 = Math.ceil((top + 2) * dpr), y1 = Math.floor((top + ph - 2) * dpr);
  const data = c.getContext('2d').getImageData(x0, y0, x1 - x0, y1 - y0).data;
  const columns = new Set();
  for (let k = 3; k < data.length; k += 4) if (data[k] > 0) columns.add(((k - 3) / 4) % (x1 - x0));
  return columns.size / (x1 - x0);
}
"""


def controls_disabled(page) -> dict[str, bool]:
    """The playback row's controls, by name: disabled or not."""
    return page.evaluate(
        """() => Object.fromEntries([...window.__stage.querySelectorAll(
          '.playback button, .playback select, .playback input')]
          .map((n) => [n.getAttribute('aria-label') || n.textContent.trim(), n.disabled]))"""
    )


def test_a_concealed_stage_tells_nothing_of_the_run_until_the_student_answers(stage_server, page):
    """learning_rate=1.2 blows up at update 24 of the 140 planned: concealed at update 0,
    neither the charts, nor the cards, nor the charts' names, nor a knob or the playback may
    tell it; once answered, the run plays and says so."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_stage(page, stage_server, "conceal=1&update=0&learning_rate=1.2")
    assert attribute(page, "data-conceal") == "1"
    assert attribute(page, "data-locked") == "batch_size,decay,learning_rate,momentum"
    assert stage_update(page) == 0 and attribute(page, "data-playing") == "0"
    stage = page.locator("[data-stage]")
    assert stage.get_by_role("button", name="Play", exact=True).is_disabled()
    assert stage.locator(".playback input[type=range]").is_disabled()
    assert all(controls_disabled(page).values()), controls_disabled(page)
    note = stage.locator(".concealed-note")
    assert note.is_visible()
    assert note.inner_text() == "Answer the question above: the run plays once you have."
    assert not stage.locator(".hint").is_visible()
    # Nothing right of the cursor: the loss panel draws its curves to update 0 and no further.
    assert attribute(page, "data-drawn-to") == "0"
    assert page.evaluate(PAINTED_RIGHT_JS) == 0
    assert attribute(page, "data-zoom") == "1"  # a window widened for the blow-up would tell it
    # No text on the stage names the end: the cards, the charts' names, the titles.
    said = page.evaluate(
        """() => [window.__stage.innerText,
          ...[...window.__stage.querySelectorAll('[aria-label], [title]')].flatMap(
            (n) => [n.getAttribute('aria-label') || '', n.getAttribute('title') || ''])
        ].join(' | ')"""
    )
    for word in ("diverged", "whole run", "blow", "blew", " 24", "of 1 epoch"):
        assert word not in said.lower(), (word, said)
    assert "at update 0 of 140" in said
    assert stage_metric(page, "updates") == "140"  # the updates planned, not the 24 it ran
    # A drag and the keys on every knob move nothing and commit nothing.
    runs, before = script_run_count(page), dict(query(page))
    for name in ("Learning rate", "Batch size", "Momentum", "Decay"):
        slider = knob(page, name)
        assert slider.get_attribute("aria-disabled") == "true"
        value = slider.get_attribute("aria-valuetext")
        box = slider.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.1, y)
        page.mouse.down()
        for k in range(1, 6):
            page.mouse.move(box["x"] + box["width"] * (0.1 + 0.16 * k), y)
            page.wait_for_timeout(20)
        page.mouse.up()
        slider.focus()
        for key in ("ArrowRight", "End", "Home", "PageUp", "ArrowLeft"):
            slider.press(key)
        slider.blur()
        assert slider.get_attribute("aria-valuetext") == value
        assert drawn(page)["learning_rate"] == "1.2"
    page.wait_for_timeout(600)  # past a key's commit delay
    wait_idle(page, rerun_grace_ms=1500)
    assert script_run_count(page) == runs and query(page) == before
    assert stage_update(page) == 0 and attribute(page, "data-drawn-to") == "0"
    path = SCREENSHOT / "stage-concealed-1280x720.png"
    page.screenshot(path=str(path))
    # The student answers: the next payload does not conceal and carries a new token.
    page.evaluate("() => { window.__stage.__mounted = true; }")
    page.get_by_role("button", name="Answer (reveal the run)").click()
    page.wait_for_function(
        "() => window.__stage.getAttribute('data-conceal') === '0'", polling=20, timeout=10_000
    )
    assert page.evaluate("() => window.__stage.__mounted === true")  # the same stage
    page.wait_for_function(
        "() => window.__stage.getAttribute('data-playing') === '0'"
        " && window.__stage.getAttribute('data-update') === '24'",
        polling=50,
        timeout=40_000,  # 24 updates at 2 a second, the speed a run of 24 picks
    )
    assert "diverged" in stage_metric(page, "status")
    assert attribute(page, "data-drawn-to") == "24"
    assert page.evaluate(PAINTED_RIGHT_JS) > 0
    assert not note.is_visible() and stage.locator(".hint").is_visible()
    assert stage.get_by_role("button", name="Play", exact=True).is_enabled()
    assert knob(page, "Learning rate").get_attribute("aria-disabled") is None
    assert_clean(page)
