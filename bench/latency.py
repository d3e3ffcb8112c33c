"""Latency from a keyboard press on a slider to the last Plotly redraw, in headless Chromium.

For each press of ArrowRight/ArrowLeft on the slider thumb:
- t0 is the keydown event's timestamp, in the page's own clock (`performance.now()`);
- a MutationObserver stamps every DOM mutation inside `[data-testid=stPlotlyChart]` (charts
  are remounted when their data changes), and every chart's `plotly_afterplot` event is
  stamped too;
- we wait until the script state is notRunning and no chart has changed for 400 ms;
- latency = the last chart mutation or afterplot - t0.

To tell `st.cache_data` hits from misses, the slider walks K steps one way (each value new to
the server: "cache miss") and then K steps back (each value seen before: "cache hit").
Alternating Right/Left would only ever measure hits.

    python bench/latency.py --app app.py --label "Learning rate" --presses 40
    python bench/latency.py --query "n=10000&batch_size=1&epochs=50"   # heaviest settings
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.server import StreamlitServer
from bench.stats import machine_note, markdown_table, summarize
from tests.e2e.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    goto,
    install_probes,
    slider_by_label,
)

# Stamps chart mutations, plotly_afterplot events and the keydown that starts a measurement.
_LATENCY_JS = """
(() => {
  if (window.__lat) return;
  const lat = window.__lat = {t0: null, lastChart: 0, chartEvents: 0};
  const CHART = '[data-testid="stPlotlyChart"]';
  document.addEventListener('keydown', (e) => { lat.t0 = e.timeStamp; }, true);
  const stamp = () => { lat.lastChart = performance.now(); lat.chartEvents += 1; };
  const inChart = (node) => {
    const el = node.nodeType === 1 ? node : node.parentElement;
    if (el && el.closest(CHART)) return true;
    return node.nodeType === 1 && (node.matches(CHART) || node.querySelector(CHART) !== null);
  };
  const hook = () => {  // Plotly's events are not DOM events: subscribe on each new chart.
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      if (!gd.__latHooked && typeof gd.on === 'function') {
        gd.__latHooked = true;
        gd.on('plotly_afterplot', stamp);
      }
    }
  };
  new MutationObserver((records) => {
    let chart = false;
    for (const r of records) {
      if (inChart(r.target)) { chart = true; break; }
      for (const n of r.addedNodes) if (inChart(n)) { chart = true; break; }
      for (const n of r.removedNodes) if (n.nodeType === 1 && inChart(n)) { chart = true; break; }
      if (chart) break;
    }
    if (chart) stamp();
    hook();
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""

# Done: the press sent a rerun, its script_finished came back, the page says notRunning and
# no chart has changed for quietMs. (`__stHarness` is the probe of tests/e2e/helpers.py.)
_DONE_JS = """
([runsBefore, quietMs]) => {
  const lat = window.__lat, h = window.__stHarness;
  if (lat.t0 === null || h.runs <= runsBefore || h.lastFinishedAt < h.lastRunAt) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  return performance.now() - Math.max(lat.lastChart, h.lastFinishedAt) >= quietMs;
}
"""


@dataclass
class Walk:
    """Latencies of one bench run, in seconds, split by whether the value was new."""

    misses: list[float] = field(default_factory=list)
    hits: list[float] = field(default_factory=list)
    no_chart_change: int = 0

    def __repr__(self) -> str:
        return f"Walk({len(self.misses)} misses, {len(self.hits)} hits)"


def press_and_measure(page, thumb, key: str, quiet_ms: float, timeout_ms: float):
    """Press `key` on `thumb`; return (latency in s, whether a chart changed)."""
    runs_before = page.evaluate(
        "() => { const l = window.__lat; l.t0 = null; l.lastChart = 0; l.chartEvents = 0;"
        " return window.__stHarness.runs; }"
    )
    thumb.press(key)
    page.wait_for_function(_DONE_JS, arg=[runs_before, quiet_ms], polling=50, timeout=timeout_ms)
    t0, last_chart, events, finished_at = page.evaluate(
        "() => [__lat.t0, __lat.lastChart, __lat.chartEvents, __stHarness.lastFinishedAt]"
    )
    if events:
        return (last_chart - t0) / 1000, True
    return (finished_at - t0) / 1000, False


def plan(value: int, low: int, high: int, presses: int) -> tuple[str, str, int]:
    """Direction (forward, back) and walk length K that fits between `low` and `high`."""
    room_right, room_left = high - value, value - low
    if room_right >= room_left:
        return "ArrowRight", "ArrowLeft", min(presses // 2, room_right)
    return "ArrowLeft", "ArrowRight", min(presses // 2, room_left)


def measure(
    base_url: str,
    page_path: str,
    query: str,
    label: str,
    presses: int,
    quiet_ms: float = 400,
    timeout_ms: float = 60_000,
) -> Walk:
    from playwright.sync_api import sync_playwright

    walk = Walk()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            install_probes(page)
            page.add_init_script(_LATENCY_JS)
            goto(page, base_url, page_path, query, timeout=timeout_ms)
            thumb = slider_by_label(page, label).first
            thumb.focus()
            value, low, high = (
                int(float(thumb.get_attribute(a) or 0)) for a in ("value", "min", "max")
            )
            forward, back, k = plan(value, low, high, presses)
            if k < presses // 2:
                print(f"note: only {k} steps of room on the slider, not {presses // 2}.")
            # Warm-up on the other side (not counted): a first redraw pays one-off costs.
            room_behind = value > low if forward == "ArrowRight" else value < high
            if room_behind:
                press_and_measure(page, thumb, back, quiet_ms, timeout_ms)
                press_and_measure(page, thumb, forward, quiet_ms, timeout_ms)
            for key, bucket in ((forward, walk.misses), (back, walk.hits)):
                for _ in range(k):
                    latency, changed = press_and_measure(page, thumb, key, quiet_ms, timeout_ms)
                    bucket.append(latency)
                    walk.no_chart_change += not changed
        finally:
            browser.close()
    return walk


def main(argv: list[str] | None = None) -> int:
    machine = machine_note()  # before our own server and browser add load
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", default="app.py", help="entry script (relative to the repo)")
    parser.add_argument("--url", default="", help="measure a running server instead")
    parser.add_argument("--page", default="", help='URL path of the page, "" = default')
    parser.add_argument("--query", default="", help="query string, e.g. 'n=10000&epochs=50'")
    parser.add_argument("--label", default="Learning rate", help="label of the slider to move")
    parser.add_argument("--presses", type=int, default=40, help="K = presses/2 out and back")
    parser.add_argument("--quiet-ms", type=float, default=400, help="chart stillness = done")
    args = parser.parse_args(argv)

    server = None
    if not args.url:
        server = StreamlitServer(args.app).start()
    base_url = args.url or server.base_url
    try:
        started = time.perf_counter()
        walk = measure(base_url, args.page, args.query, args.label, args.presses, args.quiet_ms)
        wall = time.perf_counter() - started
    finally:
        if server is not None:
            server.close()

    app = args.url or args.app
    print(
        f"\nLatency from a key press on {args.label!r} to the last Plotly redraw "
        f"({app}, page '/{args.page}', query '{args.query}'; {wall:.0f} s wall)\n"
    )
    rows = []
    for name, samples in (("cache miss (new value)", walk.misses), ("cache hit", walk.hits)):
        s = summarize(samples)
        rows.append([name, s.n, s.median_ms, s.p95_ms, s.max_ms])
    print(f"{machine}\n")
    print(markdown_table(["rerun", "n", "median ms", "p95 ms", "max ms"], rows))
    if walk.no_chart_change:
        print(
            f"\n{walk.no_chart_change} presses changed no chart; "
            "they count until the script finished."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
