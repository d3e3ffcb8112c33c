"""Cold start: from launching `streamlit run app.py` to the first page interactive in Chromium.

"Interactive" = the page's script state is notRunning, its first rerun has finished, and at
least one Plotly chart has drawn its SVG or the live stage has drawn its first frame. A first,
uncounted launch warms numba's on-disk cache (and Python's bytecode cache); then --repeats
launches are timed, each with a fresh browser context (cold HTTP cache, like a student's
first visit). Chromium itself is started once, before the clock: its start-up is not the
app's cost.

Columns: server = launch to `/_stcore/health` "ok"; page = `page.goto` to interactive;
total = launch to interactive.

With --cold, numba's cache (gd/**/__pycache__/*.nbi, *.nbc) is removed before every launch and
there is no warm-up launch: each launch compiles the kernels from scratch (about
``gd._kernels.COMPILE_SECONDS``), which the app does in a background thread while the NumPy
reference serves the first requests
(ui.warmup.warm_up). The page must be interactive well before the compile ends; the last column,
fast, is launch to the compiled kernels' first use (the "preparing the fast engine" notice gone).

    python bench/coldstart.py --app app.py --repeats 3
    python bench/coldstart.py --cold --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import machine_note, markdown_table
from harness.browser import CHROMIUM, CHROMIUM_ARGS, install_probes
from harness.server import StreamlitServer

REPO = Path(__file__).resolve().parents[1]
PREPARING = "Preparing the fast engine"


def clear_numba_cache() -> int:
    """Remove numba's cached kernels (``.nbi``/``.nbc`` under gd/): the next start compiles."""
    files = [f for ext in ("nbi", "nbc") for f in (REPO / "gd").rglob(f"__pycache__/*.{ext}")]
    for f in files:
        f.unlink(missing_ok=True)
    return len(files)


_INTERACTIVE_JS = """
() => {
  const h = window.__stHarness;
  const app = document.querySelector('[data-testid="stApp"]');
  const drawn = (root) => {  // the live stage draws inside a shadow root
    if (root.querySelector('[data-stage][data-drawn]')) return true;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot && drawn(el.shadowRoot)) return true;
    }
    return false;
  };
  return !!h && h.finished > 0 && !!app
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && (document.querySelector('[data-testid="stPlotlyChart"] .main-svg') !== null
        || drawn(document));
}
"""


def one_launch(
    browser, app: str, page_path: str, query: str, timeout: float, cold: bool = False
) -> tuple[float, ...]:
    """Seconds from launch to healthy, from goto to interactive, in total, and (cold) to the
    page's rerun on the compiled kernels."""
    if cold:
        clear_numba_cache()
    server = StreamlitServer(app)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        t_launch = time.perf_counter()
        server.start(timeout=timeout)
        t_healthy = time.perf_counter()
        page = context.new_page()
        install_probes(page)
        url = f"{server.base_url}/{page_path.strip('/')}" + (f"?{query}" if query else "")
        page.goto(url)
        page.wait_for_function(_INTERACTIVE_JS, polling=20, timeout=timeout * 1000)
        t_ready = time.perf_counter()
        t_fast = t_ready
        if cold:  # the notice goes when the page reruns on the compiled kernels
            page.get_by_text(PREPARING).wait_for(state="detached", timeout=timeout * 1000)
            t_fast = time.perf_counter()
    finally:
        context.close()
        server.close()
    return t_healthy - t_launch, t_ready - t_healthy, t_ready - t_launch, t_fast - t_launch


def main(argv: list[str] | None = None) -> int:
    machine = machine_note()  # before our own server and browser add load
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", default="app.py", help="entry script (relative to the repo)")
    parser.add_argument("--page", default="", help='URL path of the page, "" = default')
    parser.add_argument("--query", default="", help="query string without '?'")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per launch")
    parser.add_argument(
        "--cold", action="store_true", help="remove numba's cache before every launch"
    )
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            if not args.cold:
                warm = one_launch(browser, args.app, args.page, args.query, args.timeout)
                print(f"warm-up launch (not counted): {warm[2]:.2f} s", flush=True)
            runs = [
                one_launch(browser, args.app, args.page, args.query, args.timeout, args.cold)
                for _ in range(args.repeats)
            ]
        finally:
            browser.close()

    rows = [[f"#{i + 1}", *(f"{v:.2f}" for v in r)] for i, r in enumerate(runs)]
    rows.append(["median", *(f"{statistics.median(col):.2f}" for col in zip(*runs, strict=True))])
    cache = "numba cache cleared before each launch" if args.cold else "warm numba cache"
    print(f"\nCold start of {args.app} (page '/{args.page}', {cache})\n")
    print(f"{machine}\n")
    print(markdown_table(["launch", "server s", "page s", "total s", "fast s"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
