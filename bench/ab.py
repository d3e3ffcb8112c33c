"""Today against a baseline, in one run: two servers started together, loaded in turns.

The machine is noisy (two cores, other work): a figure measured an hour ago is no baseline. This
starts the app of a baseline revision (a git worktree in a temporary folder) and the app of the
working tree side by side, then loads them one after the other, round after round, with
``bench/load.py``'s load (any of its options), and reports each side's rounds and their
medians, and the ratio of the new side's throughput to the baseline's.

    python bench/ab.py --baseline 8c0f7e1 -- --sessions 20 --think 0 --duration 20
    python bench/ab.py --baseline 8c0f7e1 --rounds 3 -- --sessions 100 --think 2 --join-at-once

Only loopback. The worktree is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load
from bench.stats import machine_note, markdown_table, summarize
from harness.server import StreamlitServer
from harness.streamlit_client import StreamlitClient

REPO = Path(__file__).resolve().parents[1]


def worktree(revision: str, folder: Path) -> Path:
    """A checkout of ``revision`` in ``folder`` (detached; removed by ``remove``)."""
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "--force", str(folder), revision],
        check=True,
        capture_output=True,
    )
    return folder


def remove(folder: Path) -> None:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)],
        check=False,
        capture_output=True,
    )


def one_round(args: argparse.Namespace, url: str) -> list[object]:
    """One load of a server: reruns/s, rerun p50/p95, join p50/p95, kB a rerun and a join
    (medians of what their runs sent), errors."""
    tally, _ = asyncio.run(load.run_load(args, url))
    reruns, joins = summarize(tally.rerun_latencies), summarize(tally.load_latencies)
    return [
        round(reruns.n / args.duration, 1),
        reruns.median_ms,
        reruns.p95_ms,
        joins.median_ms,
        joins.p95_ms,
        kilobytes(tally.rerun_bytes),
        kilobytes(tally.load_bytes),
        tally.errors,
    ]


def kilobytes(sizes: list[int]) -> float | None:
    """The median of ``sizes`` in kB (None if there are none)."""
    return round(statistics.median(sizes) / 1000, 1) if sizes else None


async def warm(urls: list[str], args: argparse.Namespace, seconds: float) -> None:
    """Open the page once on each server, then wait while they compile their kernels (the
    NumPy reference serves until then: ``ui/warmup.py``)."""
    for url in urls:
        async with StreamlitClient(url, args.page, args.query, timeout=120) as client:
            await client.connect()
    await asyncio.sleep(seconds)


def main(argv: list[str] | None = None) -> int:
    machine = machine_note()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", required=True, help="git revision of today's figures")
    parser.add_argument("--rounds", type=int, default=3, help="loads of each server, in turns")
    parser.add_argument("--warm", type=float, default=40.0, help="s for the kernels to compile")
    parser.add_argument("load", nargs=argparse.REMAINDER, help="-- then bench/load.py options")
    ours = parser.parse_args(argv)
    rest = ours.load[1:] if ours.load[:1] == ["--"] else ours.load
    args = load.parse(load.make_parser(), rest)
    folder = Path(tempfile.mkdtemp(prefix="ab-baseline-"))
    rows: dict[str, list[list[object]]] = {"baseline": [], "new": []}
    try:
        apps = {"baseline": worktree(ours.baseline, folder) / "app.py", "new": REPO / "app.py"}
        servers = {side: StreamlitServer(app) for side, app in apps.items()}
        for server in servers.values():
            server.start()
        asyncio.run(warm([server.base_url for server in servers.values()], args, ours.warm))
        for _ in range(ours.rounds):
            for side, server in servers.items():
                rows[side].append(one_round(args, server.base_url))
        for server in servers.values():
            server.close()
    finally:
        remove(folder)
    header = ["side", "round", "reruns/s", "p50 ms", "p95 ms", "join p50 ms", "join p95 ms"]
    header += ["kB a rerun", "kB a join"]
    table = [
        [side, k + 1, *row[:7]]
        for side, side_rows in rows.items()
        for k, row in enumerate(side_rows)
    ]
    medians = {
        side: [statistics.median(row[i] or 0 for row in side_rows) for i in range(7)]
        for side, side_rows in rows.items()
    }
    table += [[side, "median", *values] for side, values in medians.items()]
    print(f"\nbaseline {ours.baseline} against the working tree; load: {' '.join(rest)}")
    print(f"{machine}\n")
    print(markdown_table(header, table))
    ratio = medians["new"][0] / medians["baseline"][0] if medians["baseline"][0] else float("nan")
    print(f"\nthroughput, new / baseline: {ratio:.2f}×")
    errors = sum(row[7] for side_rows in rows.values() for row in side_rows)
    print(f"errors (exceptions, disconnects, timeouts): {errors}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
