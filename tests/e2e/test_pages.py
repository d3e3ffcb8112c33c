"""Every page in real headless Chromium: deep links, the Playground's live stage (keyboard,
drag, commit, links, metrics), settings shared between pages, isolation between students, the
upload limit, and screenshots.

The Playground's main area is the live stage (ui/stage), not Plotly: its knobs are role
"slider" elements inside the stage, and its test hook `data-drawn` names the run on screen.
"""

import shutil
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

import gd
from harness.browser import (
    ARTIFACTS,
    assert_no_exception,
    drawn,
    error_log,
    find_stage,
    focused_name,
    goto,
    knob,
    plotly_payload_signature,
    screenshot,
    script_run_count,
    script_state_runs,
    slider_by_label,
    stage_metric,
    stage_update,
    wait_drawn,
    wait_idle,
)
from ui.cache import optimizer_for
from ui.controls import Settings
from ui.stage.payload import knob_values

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOTS = DOCS / "screenshots"
PAGES = [  # (url path, the page's title)
    ("", "Playground"),
    ("batch_sizes", "Batch, mini-batch, stochastic"),
    ("inside_a_batch", "Inside one mini-batch"),
    ("keras_to_here", "From Keras to here"),
    ("maps", "Hyperparameter maps"),
    ("batch_size_choice", "How big should my batch be?"),
]
DEFAULT_DRAWN = {"learning_rate": "0.05", "batch_size": "32", "momentum": "0", "decay": "0"}
FRAGMENT_RUN = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY  # a run's end that was not the page's
COMMIT_GRACE = 2_000  # ms: a key commits 450 ms after the last press, then the fragment reruns


def title(page) -> str:
    return page.locator("h1").first.inner_text()


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def release_momentum_at_the_top(page) -> None:
    """Move the stage's Momentum knob to 0.99 from the keyboard and wait for its commit."""
    momentum = knob(page, "Momentum")
    momentum.focus()
    momentum.press("End")
    wait_drawn(page, "momentum", "0.99")
    wait_idle(page, rerun_grace_ms=COMMIT_GRACE)
    assert query(page)["momentum"] == "0.99"


def open_playground(page, base_url: str, query: str = "", **wait) -> None:
    goto(page, base_url, query=query, timeout=90_000, **wait)
    find_stage(page)


def labels(key: str, current: float, n_train: int = 200) -> list[str]:
    """The stage's spelling of a knob's positions (Python's `:g`, batch sizes as integers)."""
    values = knob_values(key, current, n_train)
    return [str(v) if key == "batch_size" else f"{v:g}" for v in values]


def stage_view(page) -> dict[str, object]:
    """What a learner reads on the stage: the run drawn, the knobs and the metrics."""
    return {
        "drawn": drawn(page),
        "knobs": {
            label: knob(page, label).get_attribute("aria-valuetext")
            for label in ("Learning rate", "Batch size", "Momentum", "Decay")
        },
        "metrics": [
            stage_metric(page, name) for name in ("per-epoch", "updates", "final", "distance")
        ],
    }


def settings_of(shown: dict[str, str], **others) -> Settings:
    return Settings(
        learning_rate=float(shown["learning_rate"]),
        batch_size=int(shown["batch_size"]),
        momentum=float(shown["momentum"]),
        decay=float(shown["decay"]),
        **others,
    )


def fit(settings: Settings) -> gd.Run:
    """`gd.fit` at these settings, called directly (no cache, no page)."""
    s = settings
    data = s.spec.generator(n=s.n, noise=s.noise, x_mean=s.x_mean, x_std=s.x_std, seed=s.data_seed)
    return gd.fit(
        s.spec.build(),
        data.x,
        data.y,
        optimizer_for(s),
        s.training,
        batch_size=s.batch_size,
    )


def assert_metrics_are_the_fit(page, run: gd.Run) -> None:
    assert stage_metric(page, "per-epoch") == str(run.updates_per_epoch)
    assert stage_metric(page, "per-epoch .note") == (
        f"⌈{run.n_train} / {run.batch_size}⌉ = {run.updates_per_epoch}"
    )
    assert stage_metric(page, "updates") == str(run.updates)
    assert stage_metric(page, "final") == f"{run.loss[-1]:.4g}"


def console_errors(page) -> list[str]:
    return error_log(page).console_errors


def assert_clean(page) -> None:
    """No exception on the page, no uncaught JS error, no console error (the Playground's
    path is "/", so none of the 404 probes `harness.browser.ErrorLog` describes)."""
    assert_no_exception(page)
    assert console_errors(page) == []
    assert error_log(page).outside_requests == []  # nothing from outside, favicon included


@pytest.mark.parametrize(("path", "heading"), PAGES, ids=[p or "playground" for p, _ in PAGES])
def test_every_page_deep_links_loads_cleanly_and_is_screenshotted(app_server, page, path, heading):
    goto(page, app_server, path, timeout=90_000)
    assert title(page) == heading
    assert_no_exception(page)
    assert not error_log(page).page_errors
    if path:
        assert page.locator(".js-plotly-plot").count() >= 1
        screenshot(page, path)
    else:  # the Playground draws on the stage, not Plotly
        find_stage(page)
        assert page.locator("[data-stage]").count() == 1
        assert page.locator(".js-plotly-plot").count() == 0
        assert drawn(page) == DEFAULT_DRAWN
        assert console_errors(page) == []


@pytest.mark.parametrize(("path", "heading"), PAGES, ids=[p or "playground" for p, _ in PAGES])
def test_every_page_at_1280x720_is_screenshotted_for_the_docs(app_server, page, path, heading):
    """Issue 16: docs/screenshots/ holds every page as a projector shows it (1280x720, the
    sidebar open), refreshed by this test: the first screen, and the whole page."""
    docs_screenshots(page, app_server, path, heading)


@pytest.mark.parametrize(("path", "heading"), PAGES, ids=[p or "playground" for p, _ in PAGES])
def test_every_page_takes_the_network_at_1280x720(app_server, page, path, heading):
    """Issue 18: every page with the small network selected, as a projector shows it, with no
    error in the page or the browser (docs/screenshots/*-network-1280x720*.png)."""
    docs_screenshots(page, app_server, path, heading, query="model=network", suffix="-network")
    assert not error_log(page).page_errors
    if not path:  # a page's path makes Streamlit's probes 404 in the console (assert_clean)
        assert console_errors(page) == []
        assert page.locator("[data-stage] .contour h3").inner_text() == (
            "Path on a slice of the loss"
        )


def docs_screenshots(page, base: str, path: str, heading: str, query="", suffix="") -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    goto(page, base, path, query=query, timeout=90_000)
    if not path:
        find_stage(page)
    page.wait_for_timeout(500)  # Plotly lays out its legends, the stage redraws at this width
    assert title(page) == heading
    assert_no_exception(page)
    name = (path or "playground") + suffix
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-1280x720-screen.png"))
    shutil.copyfile(screenshot(page, f"{name}-1280x720"), SCREENSHOTS / f"{name}-1280x720.png")


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (1280, 720)])
def test_playground_screenshots(app_server, page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    open_playground(page, app_server)
    page.wait_for_timeout(300)  # the ResizeObserver redraws at the new width
    assert page.locator("[data-stage] .contour canvas").bounding_box()["width"] >= 480
    for label in ("Learning rate", "Batch size", "Momentum", "Decay"):
        box = knob(page, label).bounding_box()
        assert box["width"] >= 120 and box["height"] >= 32  # big enough for a projector
        assert box["y"] + box["height"] <= height  # in view on opening, even on a projector
    # What the screen shows (artifacts/playground-WxH-screen.png), then the whole page.
    page.screenshot(path=str(ARTIFACTS / f"playground-{width}x{height}-screen.png"))
    shot = screenshot(page, f"playground-{width}x{height}")
    if (width, height) == (1440, 900):  # the README shows the Playground as the tests see it
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS / "playground.png")
    assert_clean(page)


def test_the_answer_opens_the_first_screen_above_the_charts(app_server, page):
    """Issues 10 and 16: at 1280x720 the answer is beside the title on the first screen, and
    the stage's charts and knobs follow on it (bounding boxes, not eyeballed); the three
    answers and their links come after the stage."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_playground(page, app_server)
    page.wait_for_timeout(300)
    main = page.locator('[data-testid="stMain"]')
    answer = main.get_by_text("is the mini-batch size, and it is not threads").bounding_box()
    charts = page.locator("[data-stage] .layout").bounding_box()
    assert answer["y"] + answer["height"] <= charts["y"]  # the answer first
    assert charts["y"] < 250  # the charts start high on the first screen
    for label in ("Learning rate", "Batch size", "Momentum", "Decay"):
        box = knob(page, label).bounding_box()
        assert box["y"] + box["height"] <= 720  # the knobs in view on a projector
    answers = main.locator("li").filter(has_text="never sees it")
    assert answers.count() == 1
    assert answers.bounding_box()["y"] > charts["y"] + charts["height"]  # after the stage
    for name in ("Batch, mini-batch, stochastic", "Inside one mini-batch", "From Keras to here"):
        assert main.get_by_role("link", name=name).count() == 1
    names = page.locator("[data-stage] .metric .name")
    cut = names.evaluate_all("els => els.filter(e => e.scrollWidth > e.clientWidth).length")
    assert cut == 0  # the wider status box leaves every metric's name on one line
    page.screenshot(path=str(ARTIFACTS / "playground-answers-1280x720.png"))
    assert_clean(page)


def test_the_longest_status_fits_its_box_at_1280(app_server, page):
    """The noise-floor preset's status (the longest label, a four-line sentence) fits the
    stage's status box at 1280x720 without clipping, and the box keeps the row's height."""
    page.set_viewport_size({"width": 1280, "height": 720})
    open_playground(page, app_server, "batch_size=1&learning_rate=0.1&epochs=10&noise=1.0")
    assert stage_metric(page, "status") == "at the SGD noise floor"
    assert "noise floor at rate 0.1" in stage_metric(page, "status .note")
    box = page.locator("[data-stage] .metric.status")
    value = box.locator(".value")
    assert value.evaluate("e => e.scrollWidth <= e.clientWidth")  # the label on one line
    assert box.evaluate("e => e.scrollHeight <= e.clientHeight")  # nothing cut off
    heights = {
        page.locator(f"[data-stage] .metric.{name}").bounding_box()["height"]
        for name in ("per-epoch", "updates", "final", "distance", "status")
    }
    assert len(heights) == 1
    assert_clean(page)


def test_the_keyboard_reaches_batch_size_in_ten_tabs_from_the_top(app_server, page):
    """From the top of the page (the sidebar's top: Streamlit's "Skip to main content" link
    comes first), Tab, Enter on the skip link, and Tab again reach the Batch size knob in at
    most 10 Tab presses; its arrows then move it."""
    open_playground(page, app_server)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    assert focused_name(page) == "Skip to main content"
    page.keyboard.press("Enter")
    tabs, names = 1, []
    while tabs < 10 and focused_name(page) != "Batch size":
        page.keyboard.press("Tab")
        tabs += 1
        names.append(focused_name(page))
    assert focused_name(page) == "Batch size", names
    page.keyboard.press("ArrowLeft")
    wait_drawn(page, "batch_size", "16")


def test_every_chart_has_a_summary_with_its_numbers_and_nothing_leaves_the_machine(
    app_server, page
):
    """The stage's four canvases are images named by one sentence with the run's numbers; the
    Material icons of the notices come from the server (a lesson box and a link notice)."""
    open_playground(page, app_server, "momentum=1.5")
    charts = page.locator("[data-stage] canvas[role=img]")
    assert charts.count() == 4
    labels = charts.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert labels[0].startswith("Path on the loss contours: from w = -1, b = 2")
    assert "after 140 updates" in labels[0] and "from the minimum" in labels[0]
    assert labels[1].startswith("Loss: the full training loss fell from")
    assert labels[3] == "Learning-rate schedule: the rate stays 0.05 for all 140 updates."
    icon = page.locator('[data-testid="stAlert"] [data-testid="stAlertDynamicIcon"]').first
    assert icon.inner_text() == "link_off"  # a Material Symbols name, drawn by its font
    assert "Material" in icon.evaluate("e => getComputedStyle(e).fontFamily")
    page.wait_for_timeout(500)  # any font the icons needed has been asked for by now
    assert_clean(page)  # no request left 127.0.0.1


def test_arrow_keys_on_a_live_knob_redraw_in_the_browser_then_update_the_link(app_server, page):
    open_playground(page, app_server)
    assert drawn(page) == DEFAULT_DRAWN
    rates = labels("learning_rate", 0.05)
    after = rates[rates.index("0.05") + 1]
    runs = script_run_count(page)
    rate = knob(page, "Learning rate")
    assert rate.get_attribute("aria-valuetext") == "0.05"
    rate.focus()
    rate.press("ArrowRight")
    wait_drawn(page, "learning_rate", after)  # drawn from the family the browser holds
    assert script_run_count(page) == runs
    wait_idle(page, rerun_grace_ms=COMMIT_GRACE)  # the commit follows the pause
    assert script_run_count(page) == runs + 1  # one rerun (the fragment) for the commit
    assert query(page)["learning_rate"] == after
    assert rate.get_attribute("aria-valuetext") == after
    batch = knob(page, "Batch size")
    batch.focus()
    batch.press("ArrowLeft")
    wait_drawn(page, "batch_size", "16")
    assert stage_metric(page, "per-epoch") == "13"  # ceil(200 / 16), before the commit
    wait_idle(page, rerun_grace_ms=COMMIT_GRACE)
    assert query(page)["batch_size"] == "16" and query(page)["learning_rate"] == after
    assert drawn(page) == {**DEFAULT_DRAWN, "learning_rate": after, "batch_size": "16"}
    assert_clean(page)


def test_a_sidebar_change_reruns_the_settings_and_the_stage_not_the_page(app_server, page):
    open_playground(page, app_server)
    samples = slider_by_label(page, "Number of samples")
    assert samples.get_attribute("aria-valuetext") == "200"
    samples.focus()
    samples.press("ArrowRight")
    wait_idle(page, timeout=60_000)
    # The sidebar's settings and the stage are one fragment: the page around them is not rerun.
    assert page.evaluate("() => __stHarness.lastStatus") == FRAGMENT_RUN
    assert query(page)["n"] == "500"
    assert stage_metric(page, "per-epoch") == "16"  # ceil(500 / 32)
    assert samples.get_attribute("aria-valuetext") == "500"
    assert_clean(page)


def test_momentum_released_on_the_stage_turns_the_sidebars_nesterov_switch_on(app_server, page):
    open_playground(page, app_server)
    nesterov = page.get_by_test_id("stSidebar").get_by_role("switch", name="Nesterov")
    assert nesterov.is_disabled()  # it needs momentum > 0
    release_momentum_at_the_top(page)
    nesterov.wait_for(state="visible")
    assert nesterov.is_enabled()  # the sidebar shows what the stage set
    nesterov.focus()
    nesterov.press("Space")
    wait_idle(page)
    assert query(page)["nesterov"] == "true"
    assert_clean(page)


def test_switching_to_an_upload_in_the_sidebar_then_uploading(app_server, page, tmp_path):
    open_playground(page, app_server)
    page.get_by_test_id("stSidebar").get_by_role("combobox", name="Data source").click()
    page.get_by_role("option", name="Upload CSV").click()
    wait_idle(page, timeout=60_000)
    # The uploader holds timed fragments of its own: the page, not the fragment, draws it.
    assert page.evaluate("() => __stHarness.lastStatus") != FRAGMENT_RUN
    rows = tmp_path / "rows.csv"
    rows.write_text("x,y\n" + "".join(f"{i / 10},{2 * i / 10 + 1}\n" for i in range(50)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(rows))
    page.get_by_text("No file yet", exact=False).wait_for(state="detached", timeout=30_000)
    wait_idle(page, timeout=60_000)
    find_stage(page)
    assert query(page)["source"] == "csv" and query(page)["n"] == "50"
    assert stage_metric(page, "per-epoch") == "2"  # ceil(50 / 32)
    assert_clean(page)


def test_taking_the_budgets_offer_on_the_stage_redraws_the_sidebar(app_server, page):
    goto(page, app_server, query="n=10000&batch_size=1&epochs=100", timeout=90_000)  # no stage
    epochs = slider_by_label(page, "Epochs")
    assert epochs.get_attribute("aria-valuetext") == "100"
    page.get_by_role("button", name="Use 5 epochs").click()
    wait_idle(page, timeout=60_000)
    find_stage(page)
    # The offer's button is in the stage's fragment; the sidebar shows what the charts use.
    assert query(page)["epochs"] == "5"
    assert epochs.get_attribute("aria-valuetext") == "5"
    assert_clean(page)


def test_a_mouse_drag_draws_many_runs_without_the_server_and_the_release_commits(app_server, page):
    open_playground(page, app_server)
    runs, states = script_run_count(page), script_state_runs(page)
    rate = knob(page, "Learning rate")
    box = rate.bounding_box()
    y = box["y"] + box["height"] / 2
    start = box["x"] + box["width"] * 0.55
    page.mouse.move(start, y)
    page.mouse.down()
    seen = []
    for k in range(1, 31):
        page.mouse.move(start - box["width"] * 0.5 * k / 30, y)
        page.wait_for_timeout(25)
        seen.append(drawn(page)["learning_rate"])
    changes = sum(a != b for a, b in pairwise(seen))
    assert changes >= 10, seen  # data-drawn changed many times before the release
    assert script_run_count(page) == runs  # and the server was asked for nothing
    assert script_state_runs(page) == states
    held = rate.get_attribute("aria-valuetext")
    assert drawn(page)["learning_rate"] == held
    page.mouse.up()
    wait_idle(page, rerun_grace_ms=COMMIT_GRACE)
    assert script_run_count(page) == runs + 1  # one commit, one rerun
    assert query(page)["learning_rate"] == held  # the link holds the released value
    assert rate.get_attribute("aria-valuetext") == held
    assert drawn(page) == {**DEFAULT_DRAWN, "learning_rate": held}
    assert_clean(page)


def test_the_drawn_runs_metrics_are_gd_fits(app_server, page):
    open_playground(page, app_server, query="batch_size=37&momentum=0.9&epochs=5")
    assert_metrics_are_the_fit(page, fit(settings_of(drawn(page), epochs=5)))
    rate = knob(page, "Learning rate")
    rate.focus()
    for _ in range(3):
        rate.press("ArrowLeft")
    shown = labels("learning_rate", 0.05)[labels("learning_rate", 0.05).index("0.05") - 3]
    wait_drawn(page, "learning_rate", shown)
    # Before the commit the browser shows a run of its family: still exactly gd.fit's.
    assert_metrics_are_the_fit(page, fit(settings_of(drawn(page), epochs=5)))
    wait_idle(page, rerun_grace_ms=COMMIT_GRACE)
    assert drawn(page)["learning_rate"] == shown
    assert_metrics_are_the_fit(page, fit(settings_of(drawn(page), epochs=5)))
    assert_clean(page)


def test_the_playback_position_goes_in_the_link_and_a_link_restores_it(app_server, page):
    open_playground(page, app_server, query="epochs=5")  # 35 updates
    runs = script_run_count(page)
    stage = page.locator("[data-stage]")
    stage.get_by_role("combobox", name="Speed (updates per second)").select_option("5")
    stage.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => +window.__stage.getAttribute('data-update') >= 2", polling=50, timeout=10_000
    )
    assert script_run_count(page) == runs  # playback draws in the browser
    stage.get_by_role("button", name="Pause").click()
    wait_idle(page, rerun_grace_ms=1500)
    assert stage_update(page) < 35  # stopped before the end of the run
    stage.get_by_role("slider", name="Update", exact=True).fill("10")
    wait_idle(page, rerun_grace_ms=COMMIT_GRACE)
    assert query(page)["update"] == "10" and stage_update(page) == 10
    stage.get_by_role("button", name="Step forward one update").click()
    stage.get_by_role("button", name="Step forward one update").click()
    wait_idle(page, rerun_grace_ms=COMMIT_GRACE)
    assert query(page)["update"] == "12" and query(page)["epochs"] == "5"
    assert stage_update(page) == 12

    copied = urlparse(page.url)
    other = page.context.new_page()
    open_playground(other, app_server, query=copied.query)
    assert stage_update(other) == 12  # the copied link opens playback where it stopped
    assert other.locator("[data-stage]").get_by_role("slider", name="Update").input_value() == "12"
    assert stage_view(other) == stage_view(page)
    # Playing to the end shows the whole run again: the default, so the link drops it.
    other.locator("[data-stage]").get_by_role(
        "combobox", name="Speed (updates per second)"
    ).select_option("100")
    other.locator("[data-stage]").get_by_role("button", name="Play").click()
    other.wait_for_function(
        "() => window.__stage.getAttribute('data-update') === '35'", polling=50, timeout=10_000
    )
    wait_idle(other, rerun_grace_ms=COMMIT_GRACE)
    assert "update" not in query(other)
    assert_clean(other)
    other.close()
    assert_clean(page)


def test_a_bad_update_in_a_link_falls_back_with_a_notice(app_server, page):
    open_playground(page, app_server, query="update=999")
    warnings = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
    assert any("update=999 is out of range (the run has 140 updates)" in w for w in warnings)
    assert stage_update(page) == 140  # the whole run
    assert "update" not in query(page)
    assert_clean(page)


def test_a_copied_link_restores_the_view(app_server, page):
    open_playground(page, app_server, query="batch_size=37&learning_rate=0.1&momentum=0.9&epochs=3")
    assert knob(page, "Batch size").get_attribute("aria-valuetext") == "37"
    assert knob(page, "Momentum").get_attribute("aria-valuetext") == "0.9"
    assert drawn(page) == {"learning_rate": "0.1", "batch_size": "37", "momentum": "0.9",
                           "decay": "0"}  # fmt: skip
    assert stage_metric(page, "per-epoch") == "6"  # ceil(200 / 37); the last batch has 15
    assert stage_metric(page, "updates") == "18"
    view = stage_view(page)
    copied = urlparse(page.url)
    other = page.context.new_page()
    open_playground(other, app_server, query=copied.query)
    assert stage_view(other) == view
    other.close()


def test_a_bad_link_falls_back_with_a_visible_notice(app_server, page):
    open_playground(page, app_server, query="momentum=7&batch_size=abc")
    warnings = page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts()
    assert any("momentum=7 is out of range" in w for w in warnings)
    assert any("batch_size=abc is not a valid value" in w for w in warnings)
    assert drawn(page) == DEFAULT_DRAWN
    assert stage_metric(page, "per-epoch") == "7"  # the defaults: ceil(200 / 32)
    assert_clean(page)


def test_navigation_between_pages_keeps_the_settings(app_server, page):
    open_playground(page, app_server, query="epochs=5")
    release_momentum_at_the_top(page)
    nav = page.get_by_test_id("stSidebarNavItems")
    nav.get_by_role("link", name="Batch, mini-batch, stochastic").click()
    wait_idle(page, timeout=90_000)
    assert title(page) == "Batch, mini-batch, stochastic"
    assert slider_by_label(page, "Momentum").get_attribute("aria-valuetext") == "0.99"
    assert slider_by_label(page, "Epochs").get_attribute("aria-valuetext") == "5"
    rate = slider_by_label(page, "Learning rate")  # set in this page's sidebar
    assert rate.get_attribute("aria-valuetext") == "0.05"
    rate.focus()
    rate.press("ArrowLeft")
    wait_idle(page, timeout=90_000)
    assert rate.get_attribute("aria-valuetext") == "0.02"
    nav.get_by_role("link", name="Playground").click()
    wait_idle(page)
    find_stage(page)
    assert knob(page, "Learning rate").get_attribute("aria-valuetext") == "0.02"
    assert knob(page, "Momentum").get_attribute("aria-valuetext") == "0.99"
    assert drawn(page) == {**DEFAULT_DRAWN, "learning_rate": "0.02", "momentum": "0.99"}
    assert stage_metric(page, "updates") == "35"  # 7 updates per epoch × 5 epochs
    assert_no_exception(page)


def test_two_students_at_once_each_see_only_their_own_run(app_server, browser):
    first = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    second = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    open_playground(first, app_server, query="batch_size=8")
    open_playground(second, app_server, query="batch_size=64&epochs=2")
    rates = labels("learning_rate", 0.05)
    up, down = rates[rates.index("0.05") + 1], rates[rates.index("0.05") - 1]
    knob(first, "Learning rate").focus()
    knob(second, "Learning rate").focus()
    knob(first, "Learning rate").press("ArrowRight")
    knob(second, "Learning rate").press("ArrowLeft")
    wait_idle(first, rerun_grace_ms=COMMIT_GRACE)
    wait_idle(second, rerun_grace_ms=COMMIT_GRACE)
    assert stage_metric(first, "per-epoch") == "25"
    assert stage_metric(second, "per-epoch") == "4"
    assert stage_metric(second, "updates") == "8"
    assert drawn(first) == {**DEFAULT_DRAWN, "learning_rate": up, "batch_size": "8"}
    assert drawn(second) == {**DEFAULT_DRAWN, "learning_rate": down, "batch_size": "64"}
    assert query(first)["learning_rate"] == up and query(second)["learning_rate"] == down
    assert "epochs" not in query(first)
    first.context.close()
    second.context.close()


def test_an_oversize_upload_is_refused_by_the_server_limit(app_server, page, tmp_path):
    open_playground(page, app_server, query="source=csv")
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "1.000000001,2.000000001\n" * 260_000)  # about 6 MB > 5 MB
    before = stage_view(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(big))
    page.get_by_text("File must be 5.0MB or smaller", exact=False).wait_for()
    wait_idle(page)
    assert stage_view(page) == before  # the synthetic data's run, unchanged
    assert plotly_payload_signature(page) == []
    assert_no_exception(page)
