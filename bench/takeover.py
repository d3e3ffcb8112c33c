"""A drag across the moment the compiled kernels take over, on a server started cold.

numba's cache is removed (``bench/coldstart.py``'s ``clear_numba_cache``) and the app started:
its pages come from the NumPy reference, saying so in the sidebar, while the kernels compile
(about ``gd._kernels.COMPILE_SECONDS``). A light link (the reference serves it at once) is
opened in Chromium, and the "Learning rate" knob of the live stage is dragged back and forth
from then until ``ui.lesson.SPREAD_SECONDS`` + 2 s after the notice has gone, then released.

Reported first: the server CPU that the notice's 1 s clock costs, over 10 s of the idle page
while the notice is up (the compiling child is a process of its own, not counted). Then: when
the notice went; how many different runs the stage drew during the drag; whether
the stage is still the element it was when the drag began (a stage mounted anew loses the drag
and what it holds); the rerun requests sent during the drag (the notice's 1 s clock) and after
the release (one: the commit); and the rerun requests of the idle page in the 20 s after that
(0: the clock has stopped).

    python bench/takeover.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.coldstart import _INTERACTIVE_JS, PREPARING, clear_numba_cache
from bench.stats import machine_note, markdown_table
from harness.browser import CHROMIUM, CHROMIUM_ARGS, find_stage, install_probes, script_run_count
from harness.server import StreamlitServer
from ui.lesson import SPREAD_SECONDS


def server_cpu(pid: int) -> float:
    """Seconds of CPU the process has used (user + system)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def clock_cost(page, pid: int, seconds: float = 10.0) -> str:
    """Server CPU a tick of the notice's clock, over ``seconds`` of the idle page."""
    runs, cpu = script_run_count(page), server_cpu(pid)
    page.wait_for_timeout(seconds * 1000)
    ticks = script_run_count(page) - runs
    return f"{ticks} ticks, {(server_cpu(pid) - cpu) / max(1, ticks) * 1000:.1f} ms each"


_DRAWN_JS = "() => window.__stage.isConnected ? window.__stage.getAttribute('data-drawn') : null"


def drag_across(page, timeout: float) -> dict[str, object]:
    """Drag the learning rate until the notice has gone and the page has rerun; release."""
    find_stage(page)
    page.evaluate("() => { window.__stage.__benchMark = true; }")
    knob = page.locator("[data-stage]").get_by_role("slider", name="Learning rate", exact=True)
    box = knob.bounding_box()
    y, left = box["y"] + box["height"] / 2, box["x"] + box["width"] * 0.2
    before = script_run_count(page)
    page.mouse.move(left, y)
    page.mouse.down()
    drawn, step, start, gone = set(), 0, time.monotonic(), None
    while time.monotonic() - start < timeout:
        step += 1
        page.mouse.move(left + box["width"] * 0.6 * (step % 20) / 20, y)
        page.wait_for_timeout(50)
        drawn.add(page.evaluate(_DRAWN_JS))
        if gone is None and page.get_by_text(PREPARING, exact=False).count() == 0:
            gone = time.monotonic() - start
        if gone is not None and time.monotonic() - start > gone + SPREAD_SECONDS + 2:
            break
    kept = page.evaluate("() => window.__stage.isConnected && window.__stage.__benchMark === true")
    during = script_run_count(page) - before
    page.mouse.up()
    page.wait_for_timeout(3000)
    after = script_run_count(page) - before - during
    idle_from = script_run_count(page)
    page.wait_for_timeout(20_000)
    return {
        "notice gone after (s of dragging)": "never" if gone is None else f"{gone:.1f}",
        "runs drawn during the drag": len(drawn - {None}),
        "same stage element at the release": kept,
        "rerun requests during the drag": during,
        "rerun requests after the release": after,
        "rerun requests of the idle page, 20 s": script_run_count(page) - idle_from,
    }


def main(argv: list[str] | None = None) -> int:
    machine = machine_note()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", default="app.py", help="entry script (relative to the repo)")
    parser.add_argument("--query", default="n=50&epochs=2", help="a link light enough")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds of dragging")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    clear_numba_cache()
    server = StreamlitServer(args.app)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            server.start(timeout=120)
            page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            install_probes(page)
            page.goto(f"{server.base_url}/?{args.query}")
            page.wait_for_function(_INTERACTIVE_JS, polling=50, timeout=120_000)
            if page.get_by_text(PREPARING, exact=False).count() == 0:
                print("The page did not say the fast engine was being prepared: a warm start?")
                return 1
            result = {"the clock, 10 s with the notice up": clock_cost(page, server.pid)}
            result |= drag_across(page, args.timeout)
        finally:
            browser.close()
            server.close()
    print(f"\nA drag across the kernels' takeover ({args.app}?{args.query})\n\n{machine}\n")
    print(markdown_table(["", "value"], [[name, str(v)] for name, v in result.items()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
