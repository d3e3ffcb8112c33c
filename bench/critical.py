"""Critical-batch speed: ``gd.critical_batch`` on the issue's grid, against its 1 s target.

The grid of issue 12: linear regression on n = 1 000 rows, 12 batch sizes (powers of two and
full batch) × 16 learning rates (10⁻³ … 1, geometric) × 3 seeds, runs of up to 100 epochs.
The time depends on the target: the search stops once no learning rate can still beat the best
one, so an easy target costs little, and a target no run reaches runs every one of the
576 runs for all 100 epochs (the worst case). Each row is the median of ``--repeats`` whole
calls, after ``gd._kernels.warm_up()``; the last column compares with one ``gd.fit`` per run,
the way a page would do it without ``gd.critical_batch`` (timed once, worst case only).

    python bench/critical.py                # prints the "Critical batch size" section
    python bench/critical.py --repeats 3    # quicker, noisier

``--page`` measures the page "How big should my batch be?" instead (issue 17: at most 3 s at
the defaults; no permitted link above 5 s of server CPU). Each repeat starts servers of its own
(``harness/server.py``) and opens the page over Streamlit's websocket protocol
(``harness/streamlit_client.py``), as a browser tab does: when the first chart arrives (the steps
chart, drawn while the other batch sizes are measured), when the page's run ends, and the
server's CPU time (its process tree, from /proc) over the request. Cases: the defaults as the
first request of a new server process (numba's kernels loaded from its disk cache, the shared
cost model timed: once per process), the defaults in a running process that has not seen them
(warmed by another link), the same again from the cache, and the heaviest links the work
budget lets through, each at the hardest target (no run reaches it: every round runs).

    python bench/critical.py --page --repeats 3

``--seeds`` measures how many shuffling seeds the page's median needs: on the page's default
problem, the search is repeated with ``--sets`` disjoint sets of k seeds for each k, and the
table gives how much the measured steps S(B) and the fitted B_crit move between the sets
(relative standard deviation; for S, the largest over the batch sizes), and how many sets pass
issue 17's held-out check (no rise past max(1 step, 25 %), S_min ≤ 1.05 × the fewest steps,
S(1)/S(n) ≥ 10, a fit that holds).

    python bench/critical.py --seeds --sets 16
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gd
from bench.engine import machine, median_ms
from bench.stats import markdown_table
from gd import _kernels
from gd.critical import critical_batch
from gd.models import LinearStats
from harness.server import StreamlitServer, process_tree_pids
from harness.streamlit_client import StreamlitClient

N = 1000
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, N]  # 12
LEARNING_RATES = np.geomspace(1e-3, 1.0, 16)
SEEDS = (0, 1, 2)
MAX_EPOCHS = 100
TARGET_SECONDS = 1.0
# How far from the start loss towards the minimum the target lies; 2 means below the minimum,
# which no run reaches (the worst case: every run for all 100 epochs).
FRACTIONS = (0.9, 0.999, 0.99999, 2.0)


def with_a_loop(model, x, y, target: float) -> float:
    """Seconds for one ``gd.fit`` per run, first reaches read from each Run."""
    begin = time.perf_counter()
    for size in BATCH_SIZES:
        for rate in LEARNING_RATES:
            for seed in SEEDS:
                run = gd.fit(
                    model,
                    x,
                    y,
                    gd.SGD(float(rate)),
                    gd.Training(epochs=MAX_EPOCHS, seed=seed),
                    batch_size=size,
                )
                np.flatnonzero(run.loss <= target)
    return time.perf_counter() - begin


PAGE = "batch_size_choice"
PAGE_TARGET_S = 3.0  # issue 17: the page at its defaults
CPU_LIMIT_S = 5.0  # issue 21: no permitted link above this much server CPU
HARDEST = "target_fraction=99.999+%25"
# Candidates for the heaviest permitted links: each model's example, and the sidebar's data at
# the largest rows and epochs that fit; the hardest target makes every run go every round.
HEAVY = (
    f"critical_max_epochs=20&{HARDEST}",
    f"model=logistic&critical_max_epochs=20&{HARDEST}",
    f"model=tanh&critical_max_epochs=20&{HARDEST}",
    f"critical_sidebar_data=true&n=1000&critical_max_epochs=10&{HARDEST}",
    f"critical_sidebar_data=true&n=500&momentum=0.9&critical_max_epochs=20&{HARDEST}",
    f"critical_sidebar_data=true&model=logistic&n=100&critical_max_epochs=10&{HARDEST}",
    f"critical_sidebar_data=true&model=tanh&n=200&critical_max_epochs=10&{HARDEST}",
    # issue 21's link (43 s of a core before): refused, with an offer
    "model=logistic&n=10000&momentum=0.99&nesterov=true&critical_max_epochs=100"
    "&target_fraction=0.99999&critical_sidebar_data=true",
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for child in process_tree_pids(pid):
        try:
            with open(f"/proc/{child}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


async def _open(url: str, query: str):
    async with StreamlitClient(url, page=PAGE, query_string=query, timeout=300) as client:
        return await client.connect()


def open_page(server: StreamlitServer, query: str) -> dict:
    """Open the page once: first chart and end of the run (s after the request), CPU seconds."""
    before = cpu_seconds(server.pid)
    result = asyncio.run(_open(server.base_url, query))
    cpu = cpu_seconds(server.pid) - before
    charts = [
        at
        for msg, at in zip(result.messages, result.arrivals, strict=True)
        if msg.WhichOneof("type") == "delta"
        and msg.delta.WhichOneof("type") == "new_element"
        and msg.delta.new_element.WhichOneof("type") == "plotly_chart"
    ]
    alerts = [alert.body for alert in result.elements_of("alert")]
    return {
        "first": charts[0] if charts else None,
        "done": result.elapsed,
        "cpu": cpu,
        "refused": any("Too much work" in a for a in alerts),
        "exceptions": result.exceptions,
    }


def page_main(repeats: int) -> None:
    """The page's load time at its defaults, and the server CPU of the heaviest links."""
    from ui import batch_size_choice as choice
    from ui import controls

    cases: dict[str, list[dict]] = {"cold": [], "warm": [], "cached": []}
    heavy: dict[str, list[dict]] = {query: [] for query in HEAVY}
    load = os.getloadavg()[0]
    for _ in range(repeats):
        with StreamlitServer("app.py") as server:
            cases["cold"].append(open_page(server, ""))
        with StreamlitServer("app.py") as server:
            open_page(server, "momentum=0.5")  # the process warmed by another link
            cases["warm"].append(open_page(server, ""))
            cases["cached"].append(open_page(server, ""))
            for query in HEAVY:
                heavy[query].append(open_page(server, query))
    for runs in [*cases.values(), *heavy.values()]:
        for run in runs:
            assert not run["exceptions"], run["exceptions"]

    def median(runs: list[dict], key: str) -> str:
        values = [run[key] for run in runs if run[key] is not None]
        return f"{statistics.median(values):.2f}" if values else "–"

    def spread(runs: list[dict], key: str) -> str:
        values = [run[key] for run in runs]
        return f"{median(runs, key)} ({min(values):.2f}–{max(values):.2f})"

    names = {
        "cold": "defaults, first request of a new server process",
        "warm": "defaults, a running process that has not seen them",
        "cached": "defaults again (cached)",
    }
    print("## How big should my batch be? (the page)\n")
    print(
        f"Websocket client (`harness/streamlit_client.py`), one `streamlit run` process per case "
        f"and repeat; median (min–max) of {repeats}. Target: the page at its defaults within "
        f"{PAGE_TARGET_S:g} s; no permitted link above {CPU_LIMIT_S:g} s of server CPU.\n"
    )
    rows = [
        [names[key], median(runs, "first"), spread(runs, "done"), spread(runs, "cpu")]
        for key, runs in cases.items()
    ]
    print(
        markdown_table(
            ["request", "first chart, s", "page done, s", "server CPU, s"],
            rows,
        )
    )
    print()
    rows = []
    for query, runs in heavy.items():
        params = dict(part.split("=", 1) for part in query.split("&"))
        settings = controls.Settings(
            **{
                key: controls.CONTROLS[key].parse(value)
                for key, value in params.items()
                if key in controls.CONTROLS
            }
        )
        sidebar = params.get(choice.SIDEBAR_DATA) == "true"
        epochs = int(params.get(choice.MAX_EPOCHS, choice.DEFAULT_EPOCHS))
        work = choice.work(choice.problem(settings, sidebar), None, epochs)
        refused = all(run["refused"] for run in runs)
        rows.append(
            [
                f"`{PAGE}?{query}`",
                f"{work / 1e6:,.0f} M",
                "refused, offers what fits" if refused else "runs",
                spread(runs, "done"),
                spread(runs, "cpu"),
            ]
        )
    print(
        markdown_table(
            ["link (hardest target: every round runs)", "work", "", "page done, s", "CPU, s"],
            rows,
        )
    )
    print(f"\nMachine: {machine()} (load average {load:.1f} before the first server)")
    print(f"Command: `python bench/critical.py --page --repeats {repeats}`")


SEED_COUNTS = (1, 3, 5, 7, 9, 15)


def seeds_main(sets: int) -> None:
    """How much the page's measurement moves between disjoint sets of k seeds."""
    from gd.critical import critical_batch
    from ui import batch_size_choice as choice
    from ui import batch_size_choice_charts as views
    from ui import cache, controls

    _kernels.warm_up()
    s = choice.problem(controls.Settings())
    x, y = cache.training_rows(s, None)
    model = s.spec.build()
    start, lowest = choice._losses(s, None)
    target = choice.target_loss(start, lowest, choice.DEFAULT_TARGET)
    load = os.getloadavg()[0]

    def held_out(result) -> bool:
        steps = result.steps
        rises = any(b - a > max(1.0, 0.25 * a) for a, b in itertools.pairwise(steps))
        return bool(
            result.reached.all()
            and not rises
            and result.s_min <= 1.05 * steps.min()
            and steps[0] / steps[-1] >= 10
            and views.fit_holds(result)
        )

    rows = []
    for k in SEED_COUNTS:
        results, seconds = [], []
        for j in range(sets):
            begin = time.perf_counter()
            results.append(
                critical_batch(
                    model,
                    x,
                    y,
                    choice.optimizer(s, 0.1),
                    gd.Training(epochs=choice.DEFAULT_EPOCHS, init=s.start),
                    batch_sizes=choice.batch_sizes_for(y.size),
                    learning_rates=choice.learning_rates_for(s, None),
                    target_loss=target,
                    seeds=range(1000 * j, 1000 * j + k),
                    stay_epochs=choice.STAY_EPOCHS,
                )
            )
            seconds.append(time.perf_counter() - begin)
        steps = np.array([r.steps for r in results])  # (sets, B)
        spread = steps.std(axis=0) / steps.mean(axis=0)
        b_crit = np.array([r.b_crit for r in results])
        rows.append(
            [
                k,
                f"{100 * spread.max():.0f} %",
                f"{100 * spread.mean():.0f} %",
                f"{100 * b_crit.std() / b_crit.mean():.0f} %",
                f"{np.median(b_crit):.3g}",
                f"{sum(held_out(r) for r in results)} of {sets}",
                f"{statistics.median(seconds):.2f}",
            ]
        )
        print(rows[-1], flush=True)
    print("\n### How many seeds the median needs\n")
    print(
        f"The page's default problem ({choice.EXAMPLES['linear'].words()}; target "
        f"{choice.target_label(choice.DEFAULT_TARGET)}, {choice.RATES} learning rates, up to "
        f"{choice.DEFAULT_EPOCHS} epochs), searched with {sets} disjoint sets of k seeds each.\n"
    )
    print(
        markdown_table(
            [
                "seeds k",
                "S(B) moves by (largest over B)",
                "S(B) moves by (mean over B)",
                "B_crit moves by",
                "B_crit (median)",
                "sets passing the held-out check",
                "s per search",
            ],
            rows,
        )
    )
    print(f"\nMachine: {machine()} (load average {load:.1f} at the start)")
    print(f"Command: `python bench/critical.py --seeds --sets {sets}`")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-loop", action="store_true", help="skip the gd.fit loop (slow)")
    parser.add_argument("--page", action="store_true", help="the page, in a real server")
    parser.add_argument("--seeds", action="store_true", help="how many seeds the median needs")
    parser.add_argument("--sets", type=int, default=16, help="disjoint seed sets per count")
    args = parser.parse_args()
    if args.page:
        page_main(args.repeats)
        return
    if args.seeds:
        seeds_main(args.sets)
        return

    _kernels.warm_up()
    data = gd.datasets.linear(n=N, seed=0)
    model = gd.models.LinearRegression()
    start = model.loss(model.init_params(1), data.x[:, None], data.y)
    lowest = LinearStats.from_data(data.x[:, None], data.y).min_loss
    rows = []
    for fraction in FRACTIONS:
        target = start - fraction * (start - lowest)

        def call(target=target):
            return critical_batch(
                model,
                data.x,
                data.y,
                gd.SGD(0.1),
                gd.Training(epochs=MAX_EPOCHS),
                batch_sizes=BATCH_SIZES,
                learning_rates=LEARNING_RATES,
                target_loss=target,
                seeds=SEEDS,
            )

        result = call()
        ms = median_ms(call, args.repeats)
        loop = (
            ""
            if fraction != FRACTIONS[-1] or args.no_loop
            else with_a_loop(model, data.x, data.y, target)
        )
        rows.append(
            [
                f"{fraction:g}" if fraction <= 1 else "unreachable",
                f"{target:.4g}",
                f"{int(result.reached.sum())} of {len(BATCH_SIZES)}",
                f"{result.b_crit:.3g}",
                f"{ms:.0f}",
                f"{ms / 1000 / TARGET_SECONDS:.2f}",
                f"{loop * 1000:.0f} ({loop * 1000 / ms:.0f}×)" if loop else "",
            ]
        )
    print("## Critical batch size\n")
    print(
        f"`gd.critical_batch`, linear regression, n = {N}, {len(BATCH_SIZES)} batch sizes × "
        f"{LEARNING_RATES.size} learning rates × {len(SEEDS)} seeds, up to {MAX_EPOCHS} "
        f"epochs; median of {args.repeats} calls. Target: at most {TARGET_SECONDS:g} s.\n"
    )
    print(
        markdown_table(
            [
                "target (fraction of the way down)",
                "target loss",
                "batch sizes reached",
                "b_crit",
                "ms",
                "share of the 1 s budget",
                "one gd.fit per run, ms",
            ],
            rows,
        )
    )
    print(f"\nMachine: {machine()}")
    print("Command: `python bench/critical.py`")


if __name__ == "__main__":
    main()
