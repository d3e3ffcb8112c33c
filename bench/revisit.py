"""A second visit of the heaviest pages: the same link opened again in a new session, as a
student reopening a teacher's link does, which should find everything it needs in the caches
(issue 19: "From Keras to here" at its heaviest settings, second visit ≤ 4 s).

For each repeat, a server of the working tree and one of a baseline revision (a git worktree)
are started in turn; each is warmed by one request per model, then opens every link twice over
Streamlit's websocket protocol and reads the server's CPU time over each visit.

With ``--browser``, each side's server is opened instead in headless Chromium at 1280×720 (the
projector): after one warming visit, each of the first two links in a new tab ``--repeats``
times, timed from navigation until the page is idle (its run finished and its DOM still for
0.3 s, which is not counted): the server's work and the browser's drawing together.

    python bench/revisit.py --baseline HEAD~1 --repeats 3
    python bench/revisit.py --baseline HEAD~1 --repeats 4 --browser
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ab import REPO, remove, worktree
from bench.engine import machine
from bench.inside import open_page
from bench.stats import markdown_table
from harness.browser import goto
from harness.server import StreamlitServer

PAGE = "keras_to_here"
LINKS = (
    "",  # the defaults
    "n=10000&batch_size=1&epochs=100",  # the heaviest run: ~56 MB, and its illustrative pair
    "n=10000&batch_size=1&epochs=100&momentum=0.9&decay=0.01&validation_split=0.2",
    "model=tanh&n=2000&batch_size=1",
    "model=network&n=2000&batch_size=1",
)


def visits(app: Path, seed: int) -> dict[str, list[dict]]:
    """Every link opened twice on a fresh server of ``app``: {link: [first, second]}."""
    seen = {}
    with StreamlitServer(app) as server:
        for model in ("linear", "logistic", "tanh", "network"):  # kernels and cost models, once
            open_page(server, f"model={model}&data_seed=99", page=PAGE)
        for k, link in enumerate(LINKS):
            query = f"{link}&data_seed={seed + k}" if link else f"data_seed={seed + k}"
            seen[link] = [open_page(server, query, page=PAGE) for _ in range(2)]
            for visit in seen[link]:
                assert not visit["errors"] and not visit["offer"], (link, visit)
    return seen


QUIET_MS = 300


def labels(link: str, side: str, baseline: str) -> list[str]:
    """A table row's first two cells: the link, and which side."""
    return [
        f"`{PAGE}?{link}`" if link else f"`{PAGE}` (defaults)",
        side if side == "new" else f"baseline `{baseline}`",
    ]


def browser_visits(app: Path, repeats: int) -> dict[str, list[float]]:
    """The first two links opened ``repeats`` times each in new Chromium tabs on a fresh server
    of ``app``, after one warming visit of each: {link: [seconds to idle, ...]}."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, list[float]] = {}
    with StreamlitServer(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        context = browser.new_context(viewport={"width": 1280, "height": 720})

        def visit(link: str) -> float:
            tab = context.new_page()
            start = time.perf_counter()
            goto(tab, server.base_url, PAGE, link, timeout=180_000, quiet_ms=QUIET_MS)
            seconds = time.perf_counter() - start - QUIET_MS / 1000
            tab.close()
            return seconds

        for link in LINKS[:2]:
            visit(link)
            seen[link] = [visit(link) for _ in range(repeats)]
        browser.close()
    return seen


def browser_main(apps: dict[str, Path], args: argparse.Namespace) -> None:
    """Print each side's browser visits of the first two links, one row per link and side."""
    rows = []
    for side, app in apps.items():
        seen = browser_visits(app, args.repeats)
        rows += [
            [
                *labels(link, side, args.baseline),
                ", ".join(f"{s:.1f}" for s in seen[link]),
                f"{statistics.median(seen[link]):.1f}",
            ]
            for link in LINKS[:2]
        ]
        print(f"{side} done", flush=True)
    print("\n## Visits in Chromium at 1280x720, after a warming one\n")
    print(markdown_table(["link", "side", "visits, s", "median, s"], rows))


def websocket_main(apps: dict[str, Path], args: argparse.Namespace) -> None:
    """Print the medians of each link's two visits over the websocket protocol, per side."""
    results: dict[str, list[dict]] = {"baseline": [], "new": []}
    for repeat in range(args.repeats):
        for side, app in apps.items():
            results[side].append(visits(app, seed=1000 * (repeat + 1)))
            print(f"repeat {repeat + 1}: {side} done", flush=True)

    def median(side: str, link: str, visit: int, key: str) -> float:
        return statistics.median(seen[link][visit][key] for seen in results[side])

    rows = [
        [
            *labels(link, side, args.baseline),
            f"{median(side, link, 0, 'done'):.2f}",
            f"{median(side, link, 1, 'done'):.2f}",
            f"{median(side, link, 1, 'cpu'):.2f}",
        ]
        for link in LINKS
        for side in results
    ]
    headers = ["link", "side", "first visit, s", "second visit, s", "second visit, server CPU s"]
    print(f"\n## A second visit (median of {args.repeats})\n")
    print(markdown_table(headers, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="a git revision to compare with")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--browser", action="store_true", help="time visits in Chromium")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "baseline"
        apps = {"baseline": worktree(args.baseline, folder) / "app.py", "new": REPO / "app.py"}
        try:
            (browser_main if args.browser else websocket_main)(apps, args)
        finally:
            remove(folder)
    print(f"\nMachine: {machine()} (load average {load:.1f} before the first server)")
    browser = " --browser" if args.browser else ""
    print(
        f"Command: `python bench/revisit.py --baseline {args.baseline} "
        f"--repeats {args.repeats}{browser}`"
    )


if __name__ == "__main__":
    main()
