"""What a class costs the server while it waits: every student's page polls the class every
``ui.classroom.POLL_SECONDS`` (a fragment with ``run_every``), to notice a reveal or the next
question.

A `streamlit run app.py` server is started with a throwaway SQLite class database, a class
with a question is made, and ``--students`` websocket sessions (harness/streamlit_client.py,
no browser) open the class link and answer. Then, for ``--duration`` seconds, each session
sends its poll as a browser's timer does (a fragment rerun every 2 s, the sessions spread
evenly over the period), and the server's CPU over that window is reported, with each
poll's round trip.

    python bench/classroom.py --students 100 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import machine_note, markdown_table, summarize
from bench.takeover import server_cpu
from harness.server import StreamlitServer
from harness.streamlit_client import StreamlitClient

ROOT = Path(__file__).resolve().parents[1]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of polling")
    return parser.parse_args()


async def join(base_url: str, code: str) -> tuple[StreamlitClient, str, float]:
    """A student's session on the class link, answered: its client, poll id and interval."""
    client = StreamlitClient(base_url, query_string=f"class={code}", timeout=120)
    result = await client.connect()
    polls = {k: v for k, v in result.auto_reruns.items() if v >= 2}
    (poll, every), *_ = polls.items()
    return client, poll, every


async def main(args: argparse.Namespace) -> None:
    import classroom
    from ui import classroom as cls
    from ui import questions

    ready = questions.READY["How many updates will one epoch take?"]
    store = classroom.open_store(os.environ["CLASS_DB_URL"])
    room, _ = store.create(cls.ClassView.of("", ready.settings()).to_json(), ready.question())
    with StreamlitServer(ROOT / "app.py").start(timeout=120) as server:
        warm = StreamlitClient(server.base_url, timeout=300)
        while "Preparing" in str((await warm.connect()).elements):  # the kernels compile once
            await warm.close()
            await asyncio.sleep(2)
        await warm.close()
        t0 = time.perf_counter()
        students = []
        for _ in range(args.students):
            students.append(await join(server.base_url, room.code))
        joined = time.perf_counter() - t0
        asked = store.asked(room.code)
        for i, _ in enumerate(students):
            store.answer(room.code, asked.id, f"bench-{i}", 7.0)
        every = students[0][2]
        rounds: list[float] = []

        async def poll(client: StreamlitClient, fragment: str, offset: float, until: float):
            await asyncio.sleep(offset)
            while time.perf_counter() < until:
                result = await client.rerun(fragment_id=fragment)
                rounds.append(result.elapsed)
                await asyncio.sleep(max(0.0, every - result.elapsed))

        pid = server.pid
        cpu0, wall0 = server_cpu(pid), time.perf_counter()
        until = wall0 + args.duration
        await asyncio.gather(
            *(
                poll(client, fragment, i * every / len(students), until)
                for i, (client, fragment, _) in enumerate(students)
            )
        )
        cpu, wall = server_cpu(pid) - cpu0, time.perf_counter() - wall0
        polls = summarize(rounds)

        for client, _, _ in students:
            await client.close()
    print(
        markdown_table(
            ["students", "joining (s)", "polls", "poll p50 / p95 (ms)", "server CPU (% of a core)"],
            [
                [
                    args.students,
                    f"{joined:.1f}",
                    len(rounds),
                    f"{polls.median_ms:.1f} / {polls.p95_ms:.1f}",
                    f"{100 * cpu / wall:.0f}",
                ]
            ],
        )
    )
    print(f"\nEach session polls every {every:g} s.", machine_note())


if __name__ == "__main__":
    os.environ.setdefault(
        "CLASS_DB_URL", f"sqlite:///{tempfile.mkdtemp(prefix='bench-class-')}/classes.sqlite3"
    )
    asyncio.run(main(parse()))
