"""Memory growth of the server over many random reruns (a leak check), via the websocket client.

One or a few sessions each do random reruns: every other rerun releases a random live knob
of the Playground's stage at a random position (as bench/load.py does), the others set random
values of the sidebar widgets found by label (number of samples, epochs), so most settings are
new and fill the caches. The server's RSS (its process tree) is sampled after a warm-up
of --warmup reruns and at the end, and every --every reruns in between. With st.cache_data
bounded (max_entries), RSS should level off; growth that keeps climbing is a leak.

    python bench/memory.py --reruns 2000
    python bench/memory.py --sessions 4 --reruns 2000 --label Epochs
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import commit_action
from bench.stats import machine_note, markdown_table, summarize
from harness.server import StreamlitServer, rss_bytes
from harness.streamlit_client import StreamlitClient
from ui.stage import KNOBS

DEFAULT_LABELS = ["Number of samples", "Epochs"]


async def run(args: argparse.Namespace, url: str, pid: int, machine: str) -> int:
    rng = random.Random(args.seed)
    clients = [
        StreamlitClient(url, args.page, args.query, args.timeout) for _ in range(args.sessions)
    ]
    try:
        firsts = await asyncio.gather(*(c.connect() for c in clients))
        present = firsts[0].widgets
        labels = [label for label in args.label if label in present]
        missing = sorted(set(args.label) - set(labels))
        if missing:
            print(f"note: no widget labelled {missing}; using {labels}.")
        if not labels:
            raise SystemExit(f"None of {args.label} is on the page. Labels: {sorted(present)}.")
        widgets = [[first.widget(label) for label in labels] for first in firsts]
        stage = SimpleNamespace(knob=list(KNOBS))
        commits = [
            commit_action(first, stage, rng) if first.components else None for first in firsts
        ]

        samples: list[tuple[int, float]] = []
        latencies: list[float] = []
        exceptions = 0
        alerts: dict[str, int] = {}
        done = 0
        started = time.perf_counter()
        while done < args.reruns:
            batch = min(args.sessions, args.reruns - done)

            async def one(i: int) -> None:
                nonlocal exceptions
                if commits[i] is not None and rng.random() < 0.5:
                    result = await commits[i](clients[i])
                else:
                    result = await clients[i].rerun({w.id: w.random_value(rng) for w in widgets[i]})
                latencies.append(result.elapsed)
                exceptions += bool(result.exceptions)
                for body in result.error_alerts:
                    alerts[body] = alerts.get(body, 0) + 1

            await asyncio.gather(*(one(i) for i in range(batch)))
            before, done = done, done + batch
            if (
                before < args.warmup <= done
                or done == args.reruns
                or (done // args.every > before // args.every)
            ):
                samples.append((done, rss_bytes(pid) / 2**20))
                print(f"  {done:5d} reruns: RSS {samples[-1][1]:7.1f} MB", flush=True)
        wall = time.perf_counter() - started
    finally:
        for client in clients:
            await client.close()

    warm = next(mb for n, mb in samples if n >= args.warmup)
    end = samples[-1][1]
    tail = [mb for n, mb in samples if n >= args.reruns // 2]
    s = summarize(latencies)
    print(
        f"\nMemory over {args.reruns} random reruns of {labels} and the stage's knobs "
        f"({args.sessions} sessions)\n"
    )
    print(f"{machine}\n")
    print(
        markdown_table(
            [
                "reruns",
                "RSS after warm-up MB",
                "RSS at end MB",
                "growth MB",
                "growth 2nd half MB",
                "p50 ms",
                "exceptions",
                "wall s",
            ],
            [
                [
                    args.reruns,
                    warm,
                    end,
                    end - warm,
                    tail[-1] - tail[0],
                    s.median_ms,
                    exceptions,
                    f"{wall:.0f}",
                ]
            ],
        )
    )
    for body, count in sorted(alerts.items(), key=lambda kv: -kv[1])[:5]:
        print(f"st.error shown {count}x: {body[:200]}")
    return 1 if exceptions else 0


def main(argv: list[str] | None = None) -> int:
    machine = machine_note()  # before our own server and browser add load
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", default="app.py", help="entry script (relative to the repo)")
    parser.add_argument("--url", default="", help="a running server (loopback) instead")
    parser.add_argument("--server-pid", type=int, default=0, help="its pid, needed with --url")
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--reruns", type=int, default=2000, help="total, over all sessions")
    parser.add_argument("--warmup", type=int, default=100, help="reruns before the baseline")
    parser.add_argument("--every", type=int, default=250, help="sample RSS every N reruns")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--page", default="", help='URL path of the page, "" = default')
    parser.add_argument("--query", default="", help="query string without '?'")
    parser.add_argument("--label", action="append", default=[], help="widget to randomize")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.label = args.label or DEFAULT_LABELS
    if args.url and not args.server_pid:
        parser.error("--url needs --server-pid to read the server's memory.")
    if not 0 < args.warmup < args.reruns <= 100_000:
        parser.error("Need 0 < --warmup < --reruns <= 100000.")

    server = None
    if not args.url:
        server = StreamlitServer(args.app).start()
    try:
        pid = server.pid if server else args.server_pid
        return asyncio.run(run(args, args.url or server.base_url, pid, machine))
    finally:
        if server is not None:
            server.close()


if __name__ == "__main__":
    sys.exit(main())
