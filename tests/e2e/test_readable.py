"""Readable on a 1280x720 projector and a 390x844 phone (issue 10), measured with bounding
boxes: "Batch, mini-batch, stochastic", "Inside one mini-batch" and "Hyperparameter maps".

- every contour chart (and each map) is at least 480 px wide at 1280x720;
- no Plotly legend overlaps its chart's title, axis titles, tick labels or plot area;
- no metric label and no table column is cut off (text wider than its box);
- on a phone, no chart toolbar covers a chart's title;
- nothing is fetched from outside the server;
- (issue 16) on "Batch, mini-batch, stochastic" and "Inside one mini-batch": no page is
  wider than a 360-px screen, the update component's box included, and every Plotly chart has
  an accessible name with its numbers.

Screenshots of each page at 1440x900, 1280x720 and 390x844 go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import re

import pytest

from harness.browser import (
    assert_no_exception,
    attach_error_log,
    error_log,
    goto,
    install_probes,
    screenshot,
)

VIEWPORTS = {
    "1440x900": (1440, 900),
    "1280x720": (1280, 720),
    "390x844": (390, 844),
    "360x800": (360, 800),
}
# page path, the Plotly charts that show a loss surface, whether the page has the update picture
PAGES = {
    "batch_sizes": (("chart_contour", "chart_ends"), False),
    "inside_a_batch": ((), True),
    "maps": (("chart_map_batch", "chart_map_momentum"), False),
}

# Boxes of every Plotly chart's parts, in page pixels (empty boxes left out).
CHART_BOXES_JS = """
() => [...document.querySelectorAll('.js-plotly-plot')].map((plot) => {
  const boxes = (sel) => [...plot.querySelectorAll(sel)].map((e) => e.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0)
    .map((r) => ({x: r.left, y: r.top, w: r.width, h: r.height}));
  const key = [...(plot.closest('[class*="st-key-"]') || {classList: []}).classList]
    .find((c) => c.startsWith('st-key-'));
  return {
    key: key ? key.slice(7) : '',
    width: plot.getBoundingClientRect().width,
    title: boxes('.gtitle'),
    legend: boxes('.legend .bg'),
    axes: boxes('.xtitle, .ytitle, .xtick text, .ytick text, .nsewdrag'),
    modebar: boxes('.modebar-container .modebar'),
    toolbar: [...(plot.closest('[data-testid="stElementContainer"]') || plot)
      .querySelectorAll('[data-testid="stElementToolbar"]')]
      .map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0)
      .map((r) => ({x: r.left, y: r.top, w: r.width, h: r.height})),
  };
})
"""
# Text wider than its own box, with what it says: metric labels, table cells and headers, and
# the update picture's cards (inside the component's shadow root).
CUT_TEXT_JS = """
() => {
  const cut = [];
  const check = (el) => {
    if (el.scrollWidth > el.clientWidth + 1) cut.push(el.textContent.trim().slice(0, 60));
  };
  document.querySelectorAll('[data-testid="stMetricLabel"], [data-testid="stTable"] th, '
    + '[data-testid="stTable"] td').forEach(check);
  document.querySelectorAll('[data-testid="stTable"]').forEach((t) => {
    const table = t.querySelector('table');
    if (table && table.getBoundingClientRect().right > t.getBoundingClientRect().right + 1)
      cut.push('table wider than its box: ' + table.rows[0].textContent.slice(0, 60));
  });
  const walk = (root) => {
    root.querySelectorAll('.card .name, .card .value').forEach(check);
    root.querySelectorAll('*').forEach((el) => { if (el.shadowRoot) walk(el.shadowRoot); });
  };
  walk(document);
  return cut;
}
"""
# The update picture's canvas width (inside the component's shadow root), 0 if absent.
UPDATE_CANVAS_JS = """
() => {
  const find = (root) => {
    const hit = root.querySelector('.panel.update canvas');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  const canvas = find(document);
  return canvas ? canvas.getBoundingClientRect().width : 0;
}
"""
SIDE_TEXT_JS = """
() => document.querySelector('[data-testid="stMain"]').innerText
"""


def overlaps(a: dict, b: dict, slack: float = 1.0) -> bool:
    """Whether two boxes overlap by more than ``slack`` px in both directions."""
    return (
        min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"]) > slack
        and min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"]) > slack
    )


def open_at(browser, app_server, path: str, size: tuple[int, int], phone: bool = False):
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    attach_error_log(page)
    install_probes(page)
    goto(page, app_server, path, timeout=180_000)
    page.wait_for_timeout(500)  # Plotly lays out its legends after the script ends
    assert_no_exception(page)
    return context, page


def chart_problems(charts: list[dict]) -> list[str]:
    problems = []
    for chart in charts:
        for legend in chart["legend"]:
            for part, boxes in (("title", chart["title"]), ("axis", chart["axes"])):
                if any(overlaps(legend, box) for box in boxes):
                    problems.append(f"{chart['key']}: the legend overlaps its {part}")
    return problems


@pytest.mark.parametrize("path", list(PAGES))
def test_readable_on_a_projector(browser, app_server, path):
    surfaces, has_update = PAGES[path]
    context, page = open_at(browser, app_server, path, VIEWPORTS["1280x720"])
    try:
        charts = page.evaluate(CHART_BOXES_JS)
        widths = {c["key"]: c["width"] for c in charts}
        for key in surfaces:
            assert widths.get(key, 0) >= 480, (key, widths)
        if has_update:
            assert page.evaluate(UPDATE_CANVAS_JS) >= 480
        assert chart_problems(charts) == []
        assert page.evaluate(CUT_TEXT_JS) == []
        assert error_log(page).outside_requests == []
        screenshot(page, f"readable-{path}-1280x720")
    finally:
        context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_readable_on_a_phone(browser, app_server, path):
    context, page = open_at(browser, app_server, path, VIEWPORTS["390x844"], phone=True)
    try:
        charts = page.evaluate(CHART_BOXES_JS)
        assert charts, "no chart drawn"
        for chart in charts:
            for bar in chart["modebar"] + chart["toolbar"]:
                assert not any(overlaps(bar, title) for title in chart["title"]), chart["key"]
        assert chart_problems(charts) == []
        text = page.evaluate(SIDE_TEXT_JS)
        assert "on the left" not in text and "on the right" not in text
        assert error_log(page).outside_requests == []
        screenshot(page, f"readable-{path}-390x844")
    finally:
        context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_screenshots_at_1440x900(browser, app_server, path):
    context, page = open_at(browser, app_server, path, VIEWPORTS["1440x900"])
    try:
        assert chart_problems(page.evaluate(CHART_BOXES_JS)) == []
        assert error_log(page).outside_requests == []
        screenshot(page, f"readable-{path}-1440x900")
    finally:
        context.close()


# Everything drawn past the right edge of the screen, in the document and in the components'
# shadow roots: an element (visible, not clipped away by an overflow-hidden box that itself
# fits) whose right edge is beyond the viewport, or the page or its main area wider than it.
# A box that scrolls sideways (a cut-off table) counts: the reader still has to scroll.
WIDER_JS = """
() => {
  const vw = window.innerWidth, wide = [];
  const say = (el) => (el.getAttribute('data-testid') || el.tagName) + '.'
    + String(el.className && el.className.baseVal === undefined ? el.className : '').slice(0, 30)
    + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
  // Whether the nearest box that does not let it overflow hides it (and itself fits); a
  // nearest box that scrolls sideways leaves it cut off.
  const clipped = (el) => {
    for (let a = el.parentElement || el.getRootNode().host; a; a = a.parentElement
         || (a.getRootNode() instanceof ShadowRoot ? a.getRootNode().host : null)) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'visible') continue;
      return (o === 'hidden' || o === 'clip') && a.getBoundingClientRect().right <= vw + 1;
    }
    return false;
  };
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (el.closest('svg, .katex-mathml, [data-testid="stSidebar"]')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.left >= vw) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.display === 'none') continue;
      if (r.right > vw + 1 && !clipped(el)) wide.push(`${say(el)} ends at ${Math.round(r.right)}`);
    }
  };
  walk(document);
  const main = document.querySelector('[data-testid="stMain"]');
  if (document.documentElement.scrollWidth > vw) wide.push('the document scrolls sideways');
  if (main && main.scrollWidth > main.clientWidth + 1) wide.push('stMain scrolls sideways');
  return wide;
}
"""
# The update component's root box, from its shadow root: right edge and overflow.
INSIDE_BOX_JS = """
() => {
  const find = (root) => {
    const hit = root.querySelector('[data-inside]');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  const box = find(document);
  if (!box) return null;
  const r = box.getBoundingClientRect();
  return {right: r.right, scroll: box.scrollWidth, client: box.clientWidth};
}
"""
# Chart words cut off at the chart's right edge (Plotly neither wraps nor shrinks a title, a
# subtitle or a legend entry): their text and where they end.
CUT_CHART_TEXT_JS = """
() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((plot) => {
  const right = plot.getBoundingClientRect().right;
  return [...plot.querySelectorAll('.gtitle, .gtitle-subtitle, .legendtext')]
    .filter((t) => t.getBoundingClientRect().right > right + 1)
    .map((t) => `${t.textContent.slice(0, 50)} ends at ${t.getBoundingClientRect().right}`);
})
"""
MY_PAGES = ("batch_sizes", "inside_a_batch")


@pytest.mark.parametrize("path", MY_PAGES)
def test_no_page_is_wider_than_a_360_px_phone(browser, app_server, path):
    context, page = open_at(browser, app_server, path, VIEWPORTS["360x800"], phone=True)
    try:
        assert page.evaluate(WIDER_JS) == []
        assert page.evaluate(CUT_CHART_TEXT_JS) == []
        if path == "inside_a_batch":
            box = page.evaluate(INSIDE_BOX_JS)
            assert box is not None
            assert box["right"] <= 360 and box["scroll"] <= box["client"], box
        screenshot(page, f"readable-{path}-360x800")
    finally:
        context.close()


@pytest.mark.parametrize("path", MY_PAGES)
def test_every_plotly_chart_has_a_name_with_its_numbers(browser, app_server, path):
    """A screen reader lands on each chart as a figure named by its title and its summary."""
    context, page = open_at(browser, app_server, path, VIEWPORTS["1280x720"])
    try:
        charts = page.locator('[data-testid="stPlotlyChart"]')
        assert charts.count() >= 3
        for k in range(charts.count()):
            chart = charts.nth(k)
            assert chart.get_attribute("role") == "figure"
            name = chart.get_attribute("aria-label") or ""
            title = chart.locator(".gtitle").first.text_content()
            assert name.startswith(f"Chart: {title}. "), (name, title)
            assert any(ch.isdigit() for ch in name[len(title) :]), name
        named = page.get_by_role("figure", name=re.compile(r"^Chart: "))
        assert named.count() == charts.count()
    finally:
        context.close()
