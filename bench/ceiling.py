"""Memory ceiling (issue 13): the server's RSS under the class load plus every page's heaviest
permitted request.

One app server process holds everything (the worst case: no second process to share the
sessions). While ``bench/load.py``'s commit load runs (S sessions on the Playground releasing
random live knobs, exponential think time), one more client per page opens that page at its
largest permitted settings (``bench/stall.py``'s ``HEAVY``, the Playground at
``bench/stream.py``'s ``LARGEST``, linear and logistic, and "How big should my batch be?"
at 10 000 rows, the longest runs and the closest target), again and again until the load
ends (``--repeats`` times at most), each time with a new data seed so that nothing comes from
a cache. The resident memory of the server's process tree is sampled every ``--interval`` s.

Prints the machine's load, a markdown table (RSS before the load, peak and at the end; the
load's commits and latency; the verdict against the 1.5 GB target), each heavy request's
server time (send to ``script_finished``, so it includes waiting behind the load), and the
RSS every ~10 s. Exit code 1 if the peak reaches the target or any run failed.

    python bench/ceiling.py                                  # 100 sessions, 60 s
    python bench/ceiling.py --sessions 20 --duration 20 --repeats 1   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load
from bench.critical import HEAVY as CRITICAL_HEAVY
from bench.critical import PAGE as CRITICAL_PAGE
from bench.stall import HEAVY, heavy_requests, split
from bench.stats import fmt, machine_note, markdown_table, summarize
from bench.stream import LARGEST
from harness.server import StreamlitServer, rss_bytes
from harness.streamlit_client import StreamlitClient, StreamlitProtocolError

TARGET_BYTES = 1.5e9  # issue 13: "stays under 1.5 GB"
MB = 2**20
# "How big should my batch be?": its heaviest permitted link (bench/critical.py measures them
# all; logistic regression's example at 20 epochs and the hardest target uses the most CPU).
BATCH_SIZE_CHOICE = f"{CRITICAL_PAGE}?{CRITICAL_HEAVY[1]}"


def heaviest_by_page() -> dict[str, list[str]]:
    """Each page's heaviest permitted requests, in the order one client opens them: for the
    Playground, linear regression's (as in bench/stream.py) and the tanh neuron's at 2,000
    rows (logistic regression's loss surface is over the budget beyond a few hundred rows)."""
    pages: dict[str, list[str]] = {"": [f"?{LARGEST}", "?model=tanh&n=2000"]}
    for request in (*HEAVY, BATCH_SIZE_CHOICE):
        pages.setdefault(split(request)[0], []).append(request)
    return pages


class Trace(load.RssSampler):
    """``RssSampler`` that also keeps every sample, (seconds since start, bytes)."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(pid, interval)
        self.samples: list[tuple[float, int]] = []

    def run(self) -> None:
        start = time.monotonic()
        while not self._stop_event.wait(self.interval):
            rss = rss_bytes(self.pid)
            self.samples.append((time.monotonic() - start, rss))
            self.peak = max(self.peak, rss)


async def one_page(url: str, requests: list[str], repeats: int, delay: float, deadline: float):
    """One client's heavy requests, round after round until ``deadline`` or ``repeats``
    rounds; round r adds ``data_seed=2000 + r``, so every request misses the caches."""
    await asyncio.sleep(delay)
    times: list[tuple[str, float, str]] = []
    for r in range(repeats):
        for request in requests:
            if time.monotonic() >= deadline:
                return times
            seeded = f"{request}&data_seed={2000 + r}"
            try:
                done = await heavy_requests(url, [seeded], 1, asyncio.Event())
            except (TimeoutError, StreamlitProtocolError, OSError) as exc:
                done = [(seeded, None, type(exc).__name__)]  # counted as an error, not a time
            times += [(request, seconds, note) for _, seconds, note in done]
    return times


def load_args(args: argparse.Namespace) -> argparse.Namespace:
    """The namespace ``bench.load.run_load`` reads (its own parser's, so no option is missing):
    commits of all four knobs."""
    return load.parse(
        load.make_parser(),
        [
            "--settle=0",  # the warm-up below already opened every page
            f"--sessions={args.sessions}",
            f"--think={args.think}",
            f"--duration={args.duration}",
            f"--ramp={args.ramp}",
            f"--timeout={args.timeout}",
            f"--seed={args.seed}",
        ],
    )


async def measure(args: argparse.Namespace, server: StreamlitServer):
    url = server.base_url
    pages = heaviest_by_page()
    for page in pages:  # warm up: the kernels, imports and each page's first draw
        async with StreamlitClient(url, page=page, timeout=180) as client:
            await client.connect()
    trace = Trace(server.pid, args.interval)  # its first sample is "before the load"
    trace.start()
    deadline = time.monotonic() + args.duration
    heavy = [
        one_page(url, requests, args.repeats, args.ramp, deadline) for requests in pages.values()
    ]
    try:
        (tally, wall), *heavy_times = await asyncio.gather(
            load.run_load(load_args(args), url), *heavy
        )
    finally:
        trace.stop()
    end = rss_bytes(server.pid)
    trace.peak = max(trace.peak, end)
    return trace, end, tally, wall, [t for times in heavy_times for t in times], pages


def report(args, machine, trace, end, tally, wall, heavy, pages) -> bool:
    s = summarize(tally.rerun_latencies)
    met = trace.peak < TARGET_BYTES
    print(f"\n{machine}\n")
    print(
        f"One server process; {args.sessions} sessions committing live knobs on the Playground "
        f"(think {args.think:g} s, exponential) for {args.duration:g} s (wall {wall:.0f} s), "
        f"plus one client per page opening its heaviest permitted request, new data seed each "
        f"time; RSS of the server's process tree every {args.interval:g} s.\n"
    )
    header = ["RSS before load MB", "peak RSS MB", "RSS at end MB", "commits", "commits/s"]
    header += ["p50 ms", "p95 ms", "max ms", "errors", "peak < 1.5 GB"]
    row = [f"{trace.first / MB:.0f}", f"{trace.peak / MB:.0f}", f"{end / MB:.0f}", s.n]
    row += [f"{s.n / wall:.1f}", s.median_ms, s.p95_ms, s.max_ms, tally.errors]
    row += ["met" if met else "NOT met"]
    print(markdown_table(header, [row]))
    print()
    rows = []
    for requests in pages.values():
        for request in requests:
            seconds = [t for r, t, _ in heavy if r == request and t is not None]
            notes = sorted({n for r, _, n in heavy if r == request and n})
            middle = statistics.median(seconds) if seconds else None
            rows.append(
                [
                    f"`/{request}`",
                    len(seconds),
                    fmt(min(seconds, default=None), 1),
                    fmt(middle, 1),
                    fmt(max(seconds, default=None), 1),
                    ", ".join(notes),
                ]
            )
    print(
        markdown_table(
            ["heaviest request (page?settings)", "n", "min s", "median s", "max s", "note"], rows
        )
    )
    marks = [
        f"{t:.0f} s {rss / MB:.0f}"
        for t, rss in trace.samples[:: max(1, round(10 / args.interval))]
    ]
    print(f"\nRSS MB over time: {', '.join(marks)}; at end {end / MB:.0f}")
    if tally.first_exception or tally.first_error:
        print(f"first error: {(tally.first_exception or tally.first_error)[:300]}")
    failed = [n for _, t, n in heavy if t is None or n == "EXCEPTION"]
    if failed:
        print(f"heavy requests that failed: {len(failed)} ({', '.join(sorted(set(failed)))})")
    return met and not tally.errors and not failed


def main() -> int:
    machine = machine_note()  # before our own server adds load
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", default="app.py", help="entry script (relative to the repo)")
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--think", type=float, default=2.0, help="mean think time, s")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--ramp", type=float, default=5.0, help="s to open all sessions")
    parser.add_argument("--timeout", type=float, default=30.0, help="s per commit run")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of heavy requests, max")
    parser.add_argument("--interval", type=float, default=0.5, help="s between RSS samples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.sessions > 1000 or args.duration > 3600:
        parser.error("Keep it bounded: at most 1000 sessions and 3600 s.")
    with StreamlitServer(args.app) as server:
        results = asyncio.run(measure(args, server))
    return 0 if report(args, machine, *results) else 1


if __name__ == "__main__":
    sys.exit(main())
