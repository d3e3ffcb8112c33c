"""Latency in headless Chromium: a knob released on the live stage, or a sidebar slider moved.

``--interaction commit`` (the default; the Playground's stage): the "Learning rate" knob is
dragged one position at a time and released. t0 is the pointerup's timestamp; the
measurement ends when the fragment's rerun has finished and the stage has drawn the new
payload (its root's ``data-drawn`` is set after each draw) and nothing changed for the quiet
period. Targets (issue 9): p50 ≤ 150 ms, p95 ≤ 300 ms.

``--interaction key`` (a sidebar slider, e.g. ``--label "Number of samples"``): for each
press of ArrowRight/ArrowLeft on the slider thumb:
- t0 is the keydown event's timestamp, in the page's own clock (`performance.now()`);
- a MutationObserver stamps every DOM mutation inside `[data-testid=stPlotlyChart]` (charts
  are remounted when their data changes), and every chart's `plotly_afterplot` event is
  stamped too;
- we wait until the script state is notRunning and no chart has changed for 400 ms;
- latency = the last chart mutation, afterplot or stage redraw - t0.

To tell `st.cache_data` hits from misses, the slider walks K steps one way (each value new to
the server: "cache miss") and then K steps back (each value seen before: "cache hit").
Alternating Right/Left would only ever measure hits.

    python bench/latency.py --presses 40                                  # stage commits
    python bench/latency.py --interaction key --label "Number of samples" --presses 8
    python bench/latency.py --query "n=10000&batch_size=1&epochs=5"       # heaviest permitted

``--baseline REV`` also starts the app of a git revision (a worktree) and walks both servers in
turns, ``--rounds`` times each; a later round adds ``data_seed=1000+r`` to the query, so its new
values are new to the server:

    python bench/latency.py --interaction key --presses 8 --baseline 45fe1c2 --rounds 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import ab
from bench.stats import machine_note, markdown_table, summarize
from harness.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    goto,
    install_probes,
    slider_by_label,
)
from harness.server import StreamlitServer

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
# no chart has changed for quietMs. (`__stHarness` is the probe of harness/browser.py.)
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

    def extend(self, other: Walk) -> None:
        self.misses += other.misses
        self.hits += other.hits
        self.no_chart_change += other.no_chart_change


def press_and_measure(page, thumb, key: str, quiet_ms: float, timeout_ms: float):
    """Press `key` on `thumb`; return (latency in s, whether a chart changed)."""
    runs_before = page.evaluate(
        "() => { const l = window.__lat; l.t0 = null; l.lastChart = 0; l.chartEvents = 0;"
        " return window.__stHarness.runs; }"
    )
    thumb.press(key)
    page.wait_for_function(_DONE_JS, arg=[runs_before, quiet_ms], polling=50, timeout=timeout_ms)
    t0, last_chart, events, finished_at = page.evaluate(
        "() => [__lat.t0, Math.max(__lat.lastChart, window.__commit ? __commit.lastDraw : 0),"
        " __lat.chartEvents + (window.__commit && __commit.lastDraw > __lat.t0 ? 1 : 0),"
        " __stHarness.lastFinishedAt]"
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
            goto(page, base_url, page_path, query, timeout=timeout_ms)  # settled on the kernels
            page.evaluate(_COMMIT_JS)  # a live stage's redraws count as chart changes
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


# Stamps the stage's redraws (its root lives in a shadow root) and the pointerup of a commit.
_COMMIT_JS = """
() => {
  const find = (root) => {
    const hit = root.querySelector('[data-stage]');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const h = find(el.shadowRoot); if (h) return h; }
    }
    return null;
  };
  const stage = find(document);
  if (!stage) return false;
  if (window.__commit && window.__commit.stage === stage) return true;
  const c = window.__commit = {stage, t0: null, lastDraw: 0};
  document.addEventListener('pointerup', (e) => { c.t0 = e.timeStamp; }, true);
  new MutationObserver(() => { c.lastDraw = performance.now(); })
    .observe(stage, {attributes: true, attributeFilter: ['data-drawn']});
  return true;
}
"""

_COMMIT_DONE_JS = """
([runsBefore, quietMs]) => {
  const c = window.__commit, h = window.__stHarness;
  if (c.t0 === null || h.runs <= runsBefore || h.lastFinishedAt < h.lastRunAt) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  return performance.now() - Math.max(c.lastDraw, h.lastFinishedAt) >= quietMs;
}
"""


def commit_once(page, knob, box, target: int, quiet_ms: float, timeout_ms: float) -> float:
    """Drag the knob until it shows position ``target``, release, and return the seconds from
    the release to the new payload drawn (see the module docstring)."""
    page.wait_for_function(_COMMIT_JS, polling=100, timeout=timeout_ms)
    runs_before = page.evaluate("() => { window.__commit.t0 = null; return __stHarness.runs; }")
    count = int(knob.get_attribute("aria-valuemax")) + 1
    now = int(knob.get_attribute("aria-valuenow"))
    y = box["y"] + box["height"] / 2
    x = box["x"] + box["width"] * (now + 0.5) / count  # about where the thumb is
    page.mouse.move(x, y)
    page.mouse.down()
    step = 1.0 if target > now else -1.0
    while int(knob.get_attribute("aria-valuenow")) != target:
        x += step
        if not box["x"] <= x <= box["x"] + box["width"]:
            raise RuntimeError(f"position {target} not reached on the track")
        page.mouse.move(x, y)
    page.mouse.up()
    page.wait_for_function(
        _COMMIT_DONE_JS, arg=[runs_before, quiet_ms], polling=20, timeout=timeout_ms
    )
    t0, last_draw, finished = page.evaluate(
        "() => [__commit.t0, __commit.lastDraw, __stHarness.lastFinishedAt]"
    )
    return (max(last_draw, finished) - t0) / 1000


def measure_commits(
    base_url: str, query: str, presses: int, quiet_ms: float = 300, timeout_ms: float = 90_000
) -> Walk:
    """Release the stage's "Learning rate" knob one position further each time (new values:
    cache misses), then walk back (values seen before: hits)."""
    from playwright.sync_api import sync_playwright

    walk = Walk()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            install_probes(page)
            goto(page, base_url, "", query, timeout=timeout_ms)  # settled on the kernels
            page.wait_for_function(_COMMIT_JS, polling=100, timeout=timeout_ms)
            knob = page.get_by_role("slider", name="Learning rate", exact=True)
            box = knob.bounding_box()

            def step(direction: int) -> float:  # one position from where the knob is now
                target = int(knob.get_attribute("aria-valuenow")) + direction
                return commit_once(page, knob, box, target, quiet_ms, timeout_ms)

            # Warm-up, not counted: the link's value may lie between the knob's grid values,
            # and the positions are renumbered once it sits on the grid.
            step(+1)
            k = min(presses // 2, int(knob.get_attribute("aria-valuenow")))
            walk.misses += [step(-1) for _ in range(k)]  # new values: cache misses
            walk.hits += [step(+1) for _ in range(k)]  # the same values again: hits
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
    parser.add_argument("--interaction", choices=["commit", "key"], default="commit")
    parser.add_argument(
        "--label", default="Number of samples", help="sidebar slider (--interaction key)"
    )
    parser.add_argument("--presses", type=int, default=40, help="K = presses/2 out and back")
    parser.add_argument("--quiet-ms", type=float, default=400, help="chart stillness = done")
    parser.add_argument("--baseline", default="", help="also a server of this git revision")
    parser.add_argument("--rounds", type=int, default=1, help="walks of each server, in turns")
    args = parser.parse_args(argv)

    if args.baseline and args.url:
        parser.error("--baseline starts its own servers: leave out --url")
    if args.rounds > 1 and "data_seed=" in args.query:
        parser.error("a later round sets data_seed itself: leave it out of --query")
    folder = Path(tempfile.mkdtemp(prefix="latency-baseline-")) if args.baseline else None
    servers: dict[str, StreamlitServer] = {}
    walks = {side: Walk() for side in (("baseline", "new") if args.baseline else ("",))}
    try:
        if folder is not None:  # both sides in one run: the machine is noisy
            baseline = ab.worktree(args.baseline, folder) / args.app
            servers = {"baseline": StreamlitServer(baseline), "new": StreamlitServer(args.app)}
        elif not args.url:
            servers = {"": StreamlitServer(args.app)}
        for server in servers.values():
            server.start()
        started = time.perf_counter()
        for r in range(args.rounds):
            # A later round draws other data, so that its new values are new to the server.
            query = "&".join(q for q in (args.query, r and f"data_seed={1000 + r}") if q)
            sides = list(walks)
            for side in sides if r % 2 == 0 else sides[::-1]:  # each side goes first in turn
                base_url = args.url or servers[side].base_url
                if args.interaction == "commit":
                    one = measure_commits(base_url, query, args.presses)
                else:
                    one = measure(
                        base_url, args.page, query, args.label, args.presses, args.quiet_ms
                    )
                walks[side].extend(one)
        wall = time.perf_counter() - started
    finally:
        for server in servers.values():
            server.close()
        if folder is not None:
            ab.remove(folder)

    what = (
        "a released 'Learning rate' knob to the new payload drawn"
        if args.interaction == "commit"
        else f"a key press on {args.label!r} to the last chart redraw"
    )
    against = f", baseline {args.baseline} against the working tree" if args.baseline else ""
    print(
        f"\nLatency from {what} ({args.url or args.app}, page '/{args.page}', query "
        f"'{args.query}'{against}; {args.rounds} round(s); {wall:.0f} s wall)\n"
    )
    rows = []
    for side, walk in walks.items():
        for name, samples in (("cache miss (new value)", walk.misses), ("cache hit", walk.hits)):
            s = summarize(samples)
            rows.append([f"{side}: {name}" if side else name, s.n, s.median_ms, s.p95_ms, s.max_ms])
        if walk.no_chart_change:
            print(
                f"{side or 'the server'}: {walk.no_chart_change} presses changed no chart; "
                "they count until the script finished."
            )
    print(f"{machine}\n")
    print(markdown_table(["rerun", "n", "median ms", "p95 ms", "max ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
