"""The update scrubber of "Inside one mini-batch" (ui/inside_stage) in headless Chromium.

Stepping and scrubbing redraw in the browser with no rerun; a stop sends one rerun, which
puts the update in the link and moves the page's lower sections; a link opens at its update;
the numbers shown are the server's; an update outside the loaded window is fetched. Updates
are counted as everywhere in the app: "update u of U", from update 1 (update 0 is the start)
to U, the run's total. Arrow keys are never lost while stops go to the page and come back;
the pictures are images named with their numbers; the Hogwild chart holds its paths.
"""

import re
from urllib.parse import parse_qs, urlparse

import numpy as np

from gd import noise
from harness.browser import ARTIFACTS, error_log, goto, screenshot, script_run_count, wait_idle
from ui.cache import optimizer_for
from ui.controls import Settings

STOP_GRACE = 2_000  # ms: a stop is reported 300-450 ms after the last step, then the page reruns
FIND_JS = """
() => {
  const find = (root) => {
    const hit = root.querySelector('[data-inside]');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  window.__inside = find(document);
  return window.__inside !== null && window.__inside.hasAttribute('data-update');
}
"""


def open_page(page, base_url: str, query: str = "") -> None:
    goto(page, base_url, "inside_a_batch", query, timeout=90_000)
    page.wait_for_function(FIND_JS, polling=100, timeout=90_000)


def drawn(page) -> int:
    page.wait_for_function(FIND_JS, polling=100)
    return int(page.evaluate("() => window.__inside.getAttribute('data-update')"))


def wait_drawn(page, update: int) -> None:
    page.wait_for_function(
        f"() => window.__inside && window.__inside.getAttribute('data-update') === '{update}'",
        timeout=10_000,
    )


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def takeaway(page) -> str:
    return page.locator('[data-testid="stMarkdown"]').last.inner_text()


def cards(page) -> list[str]:
    return page.locator("[data-inside] .card .value").all_inner_texts()


def assert_clean(page) -> None:
    log = error_log(page)
    assert log.page_errors == []
    assert [e for e in log.console_errors if "404" not in e] == []
    assert log.outside_requests == []
    assert page.locator('[data-testid="stException"]').count() == 0


def test_steps_redraw_in_the_browser_and_a_stop_goes_to_the_link(app_server, page):
    open_page(page, app_server)
    assert drawn(page) == 1  # the first update (update 0 is the start)
    assert "At update 1," in takeaway(page)
    runs = script_run_count(page)
    scrubber = page.locator("[data-inside]")
    nxt = scrubber.get_by_role("button", name="Next update")
    for k in range(2, 5):
        nxt.click()
        wait_drawn(page, k)  # drawn from the pictures the browser holds
    assert script_run_count(page) == runs  # no rerun while stepping
    assert scrubber.locator(".caption").inner_text().startswith("Update 4 of 140 (epoch 1,")
    assert scrubber.locator(".where").inner_text() == "update 4 of 140"
    wait_idle(page, rerun_grace_ms=STOP_GRACE)
    assert script_run_count(page) == runs + 1  # the stop, once
    assert query(page)["update"] == "4"
    assert "At update 4," in takeaway(page)  # the server's sections follow
    assert drawn(page) == 4
    scrub = scrubber.get_by_role("slider", name="Update (optimizer step) to look inside")
    assert scrub.get_attribute("aria-valuetext") == "update 4 of 140"
    scrub.focus()
    scrub.press("ArrowRight")
    wait_drawn(page, 5)
    scrub.fill("100")
    wait_drawn(page, 100)
    wait_idle(page, rerun_grace_ms=STOP_GRACE)
    assert query(page)["update"] == "100"
    assert "At update 100," in takeaway(page)
    scrubber.get_by_role("button", name="Previous update").click()
    wait_drawn(page, 99)
    wait_idle(page, rerun_grace_ms=STOP_GRACE)
    assert query(page)["update"] == "99"
    assert_clean(page)


def test_a_link_opens_at_its_update_with_the_servers_numbers(app_server, page):
    open_page(page, app_server, "update=50&momentum=0.9")  # update 50: gd's index 49
    assert drawn(page) == 50
    settings = Settings(momentum=0.9)
    data = settings.spec.generator(n=200, noise=0.5, x_mean=0.0, x_std=1.0, seed=0)
    import gd

    run = gd.fit(
        settings.spec.build(),
        data.x,
        data.y,
        optimizer_for(settings),
        gd.Training(epochs=20, init=settings.start),
        batch_size=32,
    )
    inside = noise.inside_update(settings.spec.build(), run, data.x[:, None], data.y, 49)
    assert cards(page) == [
        "32",
        f"{inside.learning_rate:.4g}",
        f"{run.batch_loss[49]:.4g}",
        f"{inside.angle_to_full:.1f}°",
    ]
    assert np.isfinite(inside.angle_to_full)
    assert "At update 50," in takeaway(page)
    assert_clean(page)


def test_an_update_outside_the_loaded_window_is_fetched(app_server, page):
    open_page(page, app_server, "n=2000&batch_size=1&epochs=1")  # 2000 updates: a window
    first, last = map(int, page.evaluate("() => window.__inside.dataset.loaded").split("-"))
    assert first == 1 and 10 < last < 2000  # updates 1 … 2000
    runs = script_run_count(page)
    page.locator("[data-inside]").get_by_role(
        "slider", name="Update (optimizer step) to look inside"
    ).fill("1500")
    wait_idle(page, rerun_grace_ms=STOP_GRACE)
    assert script_run_count(page) == runs + 1
    wait_drawn(page, 1500)
    first, last = map(int, page.evaluate("() => window.__inside.dataset.loaded").split("-"))
    assert first <= 1500 <= last
    assert query(page)["update"] == "1500"
    assert_clean(page)


def test_screenshot_at_1280x720(app_server, page):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, app_server, "update=9")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "inside_a_batch-1280x720-screen.png"))
    screenshot(page, "inside_a_batch-1280x720")
    assert_clean(page)


def test_arrow_presses_are_never_lost_while_stops_come_back(app_server, page):
    """Ten ArrowRight presses on the scrubber, each a moment after the last (long enough
    for a stop to go to the page and for its rerun to come back while the learner keeps
    pressing), advance exactly ten updates; so do presses on the ▶ button."""
    open_page(page, app_server)
    scrubber = page.locator("[data-inside]")
    scrub = scrubber.get_by_role("slider", name="Update (optimizer step) to look inside")
    scrub.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(350)  # past the 300-ms stop: a rerun is on its way each time
    wait_idle(page, rerun_grace_ms=STOP_GRACE)
    page.wait_for_timeout(500)
    assert drawn(page) == 11
    assert query(page)["update"] == "11"
    assert "At update 11," in takeaway(page)
    nxt = scrubber.get_by_role("button", name="Next update")
    nxt.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_drawn(page, 14)
    wait_idle(page, rerun_grace_ms=STOP_GRACE)
    assert drawn(page) == 14 and query(page)["update"] == "14"
    assert_clean(page)


def test_the_pictures_are_images_named_with_their_numbers(app_server, page):
    open_page(page, app_server)
    scrubber = page.locator("[data-inside]")
    update = scrubber.get_by_role("img", name=re.compile(r"^Update 1 of 140 on the loss"))
    expect_one(update)
    name = update.get_attribute("aria-label")
    assert re.search(r"\(w, b\) = \(-1, 2\)", name) and re.search(r"\d+\.\d°", name)
    data = scrubber.get_by_role("img", name=re.compile(r"^The 32 rows of update 1 among"))
    expect_one(data)
    scrubber.get_by_role("button", name="Next update").click()
    wait_drawn(page, 2)
    expect_one(scrubber.get_by_role("img", name=re.compile(r"^Update 2 of 140 on the loss")))
    expect_one(scrubber.get_by_role("img", name=re.compile(r"^The 32 rows of update 2 ")))
    assert_clean(page)


def expect_one(locator) -> None:
    assert locator.count() == 1, locator


HOGWILD_JS = """
() => {
  const box = document.querySelector('.st-key-chart_threads_paths .js-plotly-plot');
  const x = box._fullLayout.xaxis.range, y = box._fullLayout.yaxis.range;
  const slack = 1e-6 * Math.max(x[1] - x[0], y[1] - y[0]);  // float32 data
  const out = [];
  for (const t of box._fullData) {
    if (t.type !== 'scatter' || !t.name.includes('Hogwild')) continue;
    const xs = Array.from(t.x), ys = Array.from(t.y);
    xs.forEach((v, i) => {
      const w = ys[i];
      if (!(v >= x[0] - slack && v <= x[1] + slack && w >= y[0] - slack && w <= y[1] + slack))
        out.push([t.name, v, w]);
    });
  }
  return {outside: out, names: box._fullData.map((t) => t.name),
          ratio: box._fullLayout.yaxis.scaleanchor};
}
"""


def test_the_hogwild_path_and_its_end_lie_inside_the_chart(app_server, page):
    open_page(page, app_server)  # 32 stale threads blow up at update 450
    page.locator(".st-key-chart_threads_paths .js-plotly-plot").scroll_into_view_if_needed()
    got = page.evaluate(HOGWILD_JS)
    assert got["outside"] == []
    assert got["ratio"] == "x"  # equal scales
    head = "32 Hogwild threads (one-row, stale):"
    ends = [n for n in got["names"] if n.startswith(head) and not n.endswith("epoch ends")]
    assert len(ends) == 1 and "leaves the window at update" in ends[0], got["names"]
    assert ends[0].endswith("<br>(blew up at update 450)"), ends[0]
    assert_clean(page)


FIT_PIXELS_JS = """
() => {
  const canvas = window.__inside.querySelector('.data canvas');
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let blue = 0;  // the fit's Okabe-Ito blue, #0072B2, drawn 3 px wide
  const near = (i, v) => Math.abs(data[i] - v) < 12;
  for (let i = 0; i < data.length; i += 4) {
    if (near(i, 0) && near(i + 1, 114) && near(i + 2, 178)) blue++;
  }
  return blue;
}
"""


def test_the_network_steps_on_its_slice_and_draws_its_own_curve(app_server, page):
    """The network (49 weights): each update's picture is named as drawn on the slice, the data
    view draws the network's curve (computed in Python: the shared formulas know only the
    two-parameter models), and an update past the loaded window is fetched."""
    open_page(page, app_server, "model=network")
    assert drawn(page) == 1
    scrubber = page.locator("[data-inside]")
    runs = script_run_count(page)
    curves = []
    for k in (2, 3):
        scrubber.get_by_role("button", name="Next update").click()
        wait_drawn(page, k)
        picture = scrubber.get_by_role(
            "img", name=re.compile(rf"^Update {k} of 140 on the plane through the 49 weights")
        )
        expect_one(picture)
        assert "the projections on the slice" in picture.get_attribute("aria-label")
        curves.append(page.evaluate(FIT_PIXELS_JS))
    assert script_run_count(page) == runs  # stepped in the browser
    assert min(curves) > 200, curves  # a curve across the data, not nothing
    last = int(page.evaluate("() => window.__inside.dataset.loaded").split("-")[1])
    assert last < 140  # the network's zoomed losses cost more: a window of frames
    scrubber.get_by_role("slider", name="Update (optimizer step) to look inside").fill("120")
    wait_idle(page, rerun_grace_ms=STOP_GRACE)
    wait_drawn(page, 120)
    assert page.evaluate(FIT_PIXELS_JS) > 200
    assert query(page)["update"] == "120"
    assert_clean(page)
