"""Server CPU per link of "Inside one mini-batch" (or, with ``--page playground``, of the
Playground), against issue 21's limits.

Issue 21: no permitted link takes more than 2 s of server CPU at the defaults of its other
settings, nor more than 5 s at the heaviest; a link above the work budget is refused with an
offer. Each repeat starts a server of its own (``harness/server.py``), warms it (numba's kernels
and the shared cost model of each model: once per process), then opens every link once over
Streamlit's websocket protocol (``harness/streamlit_client.py``), as a browser tab does, and
reads the server's CPU time (its process tree, from /proc) over the request. Every link draws
its own data (``data_seed``), so nothing it computes is in a cache already, the loss surface
included.

    python bench/inside.py --repeats 3
    python bench/inside.py --page playground --repeats 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.critical import cpu_seconds
from bench.engine import machine
from bench.stats import markdown_table
from harness.server import StreamlitServer
from harness.streamlit_client import StreamlitClient

PAGE = "inside_a_batch"
DEFAULTS_LIMIT_S = 2.0  # issue 21: a link that sets one setting, the others at their defaults
HEAVIEST_LIMIT_S = 5.0  # issue 21: any permitted link
HEAVY = "n=10000&epochs=100&batch_size=1"
LINKS = (
    "",  # the defaults
    "n=10000",
    "model=logistic&n=10000",
    "model=tanh&n=10000",
    "epochs=100&batch_size=1",
    HEAVY,
    f"{HEAVY}&model=logistic",
    f"{HEAVY}&model=tanh",
    f"{HEAVY}&momentum=0.9&validation_split=0.2",
    "n=10000&epochs=100&batch_size=10000&model=logistic",
    "n=2000&epochs=100&batch_size=1&model=logistic&momentum=0.9",
    # the heaviest links that fit (each model's), and what the refusals above offer
    "n=10000&epochs=30&batch_size=1",
    "n=10000&epochs=50&batch_size=1&momentum=0.9&validation_split=0.2",
    "n=1000&model=logistic",
    "n=500&epochs=50&batch_size=1&model=logistic",
    "n=1000&epochs=30&batch_size=1&model=tanh",
)


# The Playground: its live stage's families, its loss surface and widened windows, and the
# full loss at every kept point are counted (ui.stage.work); the heaviest links that fit for
# each model, and links the budget refuses.
PLAYGROUND_LINKS = (
    "",  # the defaults
    "n=10000",
    "n=10000&batch_size=1&epochs=5",
    "n=10000&batch_size=1&epochs=100",
    "model=tanh&n=2000",
    "model=tanh&n=10000&epochs=10",
    "model=logistic&n=500",
    "model=logistic&n=1000&epochs=5",
    "model=logistic&n=10000",
)
PAGES = {"inside_a_batch": (PAGE, LINKS), "playground": ("", PLAYGROUND_LINKS)}

THREADS = "Threads, each writing its own one-row update"  # the threads section's slider


async def _open(server: StreamlitServer, page: str, query: str, one_thread: bool):
    """The first run of the page, then (``one_thread``) its rerun with one Hogwild thread and
    the server's CPU seconds over that rerun alone."""
    async with StreamlitClient(server.base_url, page=page, query_string=query, timeout=300) as c:
        first = await c.connect()
        if not one_thread or THREADS not in first.widgets:
            return first, None
        slider = first.widget(THREADS)
        before = cpu_seconds(server.pid)
        again = await c.rerun({slider.id: slider.options[0]})
        assert not again.exceptions, again.exceptions
        return first, cpu_seconds(server.pid) - before


def open_page(
    server: StreamlitServer, query: str, one_thread: bool = False, page: str = PAGE
) -> dict:
    """Open the page once: the end of its run (s), the server's CPU seconds, refused or not;
    with ``one_thread``, the CPU of the rerun that moves the threads slider to 1 (its one-row
    run never blows up, so it is the longest)."""
    before = cpu_seconds(server.pid)
    result, rerun = asyncio.run(_open(server, page, query, one_thread))
    cpu = cpu_seconds(server.pid) - before - (rerun or 0.0)
    alerts = [alert.body for alert in result.elements_of("alert")]
    offer = next((a for a in alerts if "Too much work" in a), None)
    return {
        "done": result.elapsed,
        "cpu": cpu,
        "one_thread": rerun,
        "offer": offer,
        "errors": result.exceptions,
    }


def offered(alert: str) -> str:
    """The nearest setting a refusal offers, from its sentence: "1,000 samples"."""
    label = alert.split("The nearest setting that fits: **", 1)[-1].split("**", 1)[0]
    return label.removeprefix("use ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--app", default="app.py")
    parser.add_argument("--page", choices=sorted(PAGES), default="inside_a_batch")
    args = parser.parse_args()
    page, links = PAGES[args.page]
    runs: dict[str, list[dict]] = {link: [] for link in links}
    load = os.getloadavg()[0]
    for repeat in range(args.repeats):
        with StreamlitServer(args.app) as server:
            for model in ("linear", "logistic", "tanh"):  # kernels and cost models, once
                open_page(server, f"model={model}&data_seed=99", page=page)
            for k, link in enumerate(links):
                seed = f"data_seed={1000 * (repeat + 1) + k}"
                query = f"{link}&{seed}" if link else seed
                run = open_page(server, query, one_thread=True, page=page)
                assert not run["errors"], (link, run["errors"])
                runs[link].append(run)
                print(
                    f"{link or '(defaults)'}: {run['cpu']:.2f} s, {run['one_thread']}", flush=True
                )

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    rows = []
    for link, results in runs.items():
        refused = [r["offer"] for r in results if r["offer"]]
        one = [r["one_thread"] for r in results if r["one_thread"] is not None]
        rows.append(
            [
                f"`{page}?{link}`" if link else f"`{page or '/'}` (defaults)",
                f"refused, offers {offered(refused[0])}" if refused else "runs",
                spread([r["done"] for r in results]),
                spread([r["cpu"] for r in results]),
                spread(one) if one else "–",
                f"{max(r['cpu'] + (r['one_thread'] or 0.0) for r in results):.2f}",
            ]
        )
    print(f"\n## {args.page}: server CPU per link (issue 21)\n")
    print(
        f"Websocket client, one `streamlit run` process per repeat, warmed by one request per "
        f"model; every link with a data seed of its own; median (min–max) of {args.repeats}. "
        f"Limits: {DEFAULTS_LIMIT_S:g} s of server CPU at the defaults of the other settings, "
        f"{HEAVIEST_LIMIT_S:g} s at the heaviest.\n"
    )
    headers = ["link", "", "page done, s", "server CPU, s", "then 1 thread, CPU s", "sum, max"]
    print(markdown_table(headers, rows))
    print(f"\nMachine: {machine()} (load average {load:.1f} before the first server)")
    print(f"Command: `python bench/inside.py --page {args.page} --repeats {args.repeats}`")


if __name__ == "__main__":
    main()
