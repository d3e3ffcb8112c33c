"""Drag latency of the live stage: from a pointer move on a knob to the new run on screen.

Opens the stage harness (tests/e2e/stage_app.py) in headless Chromium, drags the
"Learning rate" knob across its track in 40 mouse moves, and measures, for every move that
selects a new run, the time from the move's pointer event (`event.timeStamp`) to the stage
setting `data-drawn` to the new value (done in the frame that drew it). No server round trip
is involved, so this measures the browser alone. Targets (issue 9): p50 ≤ 33 ms, p95 ≤ 50 ms.

Usage:
    python3 bench/drag.py [--steps 40] [--repeats 3] [--query "n=10000&batch_size=1&epochs=100"]
                          [--url http://127.0.0.1:8501] [--app app.py]   # the real Playground
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from harness.browser import CHROMIUM, CHROMIUM_ARGS, find_stage, goto  # noqa: E402
from harness.server import StreamlitServer  # noqa: E402

HARNESS = REPO_ROOT / "tests" / "e2e" / "stage_app.py"

# Record each pointer move on the stage and each change of data-drawn, on one clock.
RECORD_JS = """
() => {
  const s = window.__stage;
  const log = window.__dragLog = {moves: [], drawn: [], painted: []};
  const channel = new MessageChannel();  // a message posted in a frame runs after its paint
  channel.port1.onmessage = () => log.painted.push(performance.now());
  s.addEventListener('pointermove', (e) => log.moves.push(e.timeStamp), true);
  new MutationObserver(() => {
    log.drawn.push([performance.now(), s.getAttribute('data-drawn')]);
    channel.port2.postMessage(0);
  }).observe(s, {attributes: true, attributeFilter: ['data-drawn']});
}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def drag(page, label: str = "Learning rate", steps: int = 40) -> tuple[list[float], list[float]]:
    """Drag knob ``label`` from one end to the other in ``steps`` moves.

    Returns:
        Per move, milliseconds to ``data-drawn`` showing the new run (set in the frame that
        drew it), and to the end of that frame's paint (the first task after it).
    """
    find_stage(page)  # keeps the stage's root on window.__stage
    page.evaluate(RECORD_JS)
    track = page.get_by_role("slider", name=label, exact=True)
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    left, right = box["x"] + 2, box["x"] + box["width"] - 2
    page.mouse.move(right, y)
    page.mouse.down()
    page.wait_for_timeout(100)
    page.evaluate(
        "() => { const l = window.__dragLog; l.moves = []; l.drawn = []; l.painted = []; }"
    )
    for k in range(1, steps + 1):
        before = page.evaluate("() => window.__stage.getAttribute('data-drawn')")
        page.mouse.move(right + (left - right) * k / steps, y)
        page.wait_for_function(
            "(b) => window.__stage.getAttribute('data-drawn') !== b", arg=before, timeout=5_000
        )
    log = page.evaluate("() => window.__dragLog")
    page.mouse.up()
    page.wait_for_timeout(1500)  # let the commit's rerun finish before the next drag
    drawn, painted = [], []
    for t in log["moves"]:
        after = [when for when, _ in log["drawn"] if when >= t]
        done = [when for when in log["painted"] if when >= t]
        if after and done:
            drawn.append(after[0] - t)
            painted.append(done[0] - t)
    return drawn, painted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--query", default="", help="settings for the harness, as in a link")
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument(
        "--app", default=str(HARNESS), help="entry script to serve (default: the harness)"
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    server = None
    if args.url is None:
        server = StreamlitServer(args.app).start(timeout=90)
    url = args.url or server.base_url
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
            )
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            # goto waits for the page a fresh server settles on (its kernels loaded)
            goto(page, url, query=args.query, timeout=120_000)
            latencies: list[float] = []
            painted: list[float] = []
            for _ in range(args.repeats):
                drawn_ms, painted_ms = drag(page, steps=args.steps)
                latencies += drawn_ms
                painted += painted_ms
            browser.close()
    finally:
        if server is not None:
            server.close()
    where = args.query or "default settings"
    print(f"drag on 'Learning rate' ({where}): {len(latencies)} moves, {args.repeats} drags")
    print(f"  move -> data-drawn  p50 {statistics.median(latencies):6.1f} ms  (target ≤ 33)")
    print(f"                      p95 {percentile(latencies, 0.95):6.1f} ms  (target ≤ 50)")
    print(f"                      max {max(latencies):6.1f} ms")
    print(f"  move -> painted     p50 {statistics.median(painted):6.1f} ms")
    print(f"                      p95 {percentile(painted, 0.95):6.1f} ms")


if __name__ == "__main__":
    main()
