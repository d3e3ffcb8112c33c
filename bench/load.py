"""Load test: S simulated students at once, over Streamlit's websocket protocol.

Each session opens the page once (a real script run), then until the deadline: thinks (random
time around --think seconds), acts, and waits for the rerun to finish. Two actions:

- ``--action commit`` (the Playground's live stage): release a live knob at a random one of
  its positions, read from the stage's payload, exactly as the browser's ``setTriggerValue``
  sends it; only the stage's fragment reruns. ``--knob`` picks the knob(s).
- ``--action widget``: set the sidebar widget(s) named by ``--label`` to a random value. A
  float slider gets random floats off the step grid, so reruns miss st.cache_data; a
  select_slider gets random options. Each is a run of the page (the Playground's browser
  reruns only the fragment its sidebar shares with the stage: this is the heavier case).

Reports one markdown row: sessions, reruns, throughput, rerun latency (send to
script_finished) p50/p95/max, errors (exceptions shown by the app, disconnects, timeouts),
and the server's peak RSS (its process tree, polled every 100 ms).

Only loopback; bounded by --duration (+ one --timeout for runs in flight).

    python bench/load.py --sessions 100 --think 2 --duration 60          # commits
    python bench/load.py --sessions 1 --think 0.2 --duration 30          # server time per commit
    python bench/load.py --action widget --label "Number of samples" --label Epochs
    python bench/load.py --sessions 100 --server-arg=--runner.postScriptGC=true   # A/B
    python bench/load.py --sessions 100 --join-at-once --url http://127.0.0.1:8080  # a class
    python bench/load.py --sessions 20 --think 0 --repeat   # a release beyond its computation

``--join-at-once`` is a class opening the teacher's link: every session connects at the same
moment (no ramp), and acts as soon as its own page has loaded, thinking only between actions;
the first page load's p50/p95 is then the join time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import machine_note, markdown_table, summarize
from harness.server import StreamlitServer, rss_bytes
from harness.streamlit_client import StreamlitClient, StreamlitProtocolError
from ui.stage.payload import MAGIC, decode, read


@dataclass
class Tally:
    """Everything the sessions measured, shared by all of them (one event loop, no locks)."""

    load_latencies: list[float] = field(default_factory=list)
    rerun_latencies: list[float] = field(default_factory=list)
    rerun_sent: list[float] = field(default_factory=list)  # s after the load's start
    load_bytes: list[int] = field(default_factory=list)  # what each join's run sent
    rerun_bytes: list[int] = field(default_factory=list)  # what each action's run sent
    exceptions: int = 0
    error_alerts: int = 0
    disconnects: int = 0
    timeouts: int = 0
    first_exception: str = ""
    first_alert: str = ""
    first_error: str = ""

    def record(self, result) -> None:
        """Count what the app showed: an exception, or an st.error box."""
        if result.exceptions:
            self.exceptions += 1
            self.first_exception = self.first_exception or result.exceptions[0].message
        if result.error_alerts:
            self.error_alerts += 1
            self.first_alert = self.first_alert or result.error_alerts[0]

    def __repr__(self) -> str:
        return f"Tally({len(self.rerun_latencies)} reruns, {self.errors} errors)"

    @property
    def errors(self) -> int:
        return self.exceptions + self.disconnects + self.timeouts


class RssSampler(threading.Thread):
    """Polls the resident memory of a process tree every `interval` s; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = self.first = rss_bytes(pid)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def think_time(rng: random.Random, mean: float, dist: str) -> float:
    if mean <= 0:
        return 0.0
    if dist == "uniform":
        return rng.uniform(0, 2 * mean)
    return rng.expovariate(1 / mean)


async def session(index: int, args: argparse.Namespace, url: str, deadline: float, tally: Tally):
    """One simulated student until `deadline`; reconnects after a disconnect or a timeout."""
    rng = random.Random(args.seed * 100_003 + index)
    await asyncio.sleep(0.0 if args.join_at_once else index * args.ramp / max(1, args.sessions))
    joined = False
    while time.monotonic() < deadline:
        client = StreamlitClient(url, args.page, args.query, timeout=args.timeout)
        try:
            first = await client.connect()
            joined = joined or not args.join_at_once  # the first action follows the load
            tally.load_latencies.append(first.elapsed)
            tally.load_bytes.append(first.nbytes)
            tally.record(first)
            act = commit_action(first, args, rng) if args.action == "commit" else None
            widgets = [first.widget(label) for label in args.label] if act is None else []
            while True:
                pause = think_time(rng, args.think, args.think_dist) if joined else 0.0
                joined = True
                await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    return
                sent = time.monotonic()
                if act is not None:
                    result = await act(client)
                else:
                    result = await client.rerun({w.id: w.random_value(rng) for w in widgets})
                tally.rerun_latencies.append(result.elapsed)
                tally.rerun_sent.append(sent - (deadline - args.duration))
                tally.rerun_bytes.append(result.nbytes)
                tally.record(result)
        except TimeoutError:
            tally.timeouts += 1  # The run's late messages would confuse this connection: redo it.
        except (StreamlitProtocolError, OSError, websockets.WebSocketException) as exc:
            tally.disconnects += 1
            tally.first_error = tally.first_error or f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.5)
        except KeyError as exc:  # No such label: a setup error, not a load result.
            tally.first_error = str(exc)
            raise
        finally:
            await client.close()


def holds(header: dict) -> list[str]:
    """What a browser holding this payload says it holds with a release (``stage.js``)."""
    ids = [entry.get("id") for entry in header["knobs"]]
    return [i for i in [*ids, header.get("scene", {}).get("id")] if i]


def commit_action(first, args: argparse.Namespace, rng: random.Random):
    """Release a random knob (of ``--knob``) at a random position of the stage's payload,
    saying what it holds, as the browser does."""
    if not first.components:
        raise KeyError("No live stage on this page: use --action widget.")
    stage = first.components[0]
    header = decode(stage.proto.bytes).header
    positions = {k["knob"]: k["values"] for k in header["knobs"] if k["knob"] in args.knob}
    held = [holds(header)]

    async def act(client: StreamlitClient):
        knob = sorted(positions)[0] if args.repeat else rng.choice(sorted(positions))
        values = positions[knob]
        index = len(values) // 2 if args.repeat else rng.randrange(len(values))
        value = {"knob": knob, "value": values[index], "index": index, "holds": held[0]}
        result = await client.trigger(stage, "commit", value)
        if result.components:  # the payload now held: a held family keeps its id
            held[0] = holds(read(result.components[0].proto.bytes, MAGIC, "a stage")[0])
        return result

    return act


async def run_load(args: argparse.Namespace, url: str) -> tuple[Tally, float]:
    tally = Tally()
    if args.settle > 0:  # the teacher opens the page first: the server loads its kernels
        async with StreamlitClient(url, args.page, args.query, timeout=args.timeout) as first:
            await first.connect()
            await asyncio.sleep(args.settle)
    start = time.monotonic()
    deadline = start + args.duration
    tasks = [
        asyncio.create_task(session(i, args, url, deadline, tally)) for i in range(args.sessions)
    ]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, KeyError):
            raise result
        if isinstance(result, BaseException):
            tally.disconnects += 1
            tally.first_error = tally.first_error or f"{type(result).__name__}: {result}"
    return tally, time.monotonic() - start


def make_parser() -> argparse.ArgumentParser:
    """The load's options (``bench/ab.py`` takes the same)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--app", default="app.py", help="entry script (relative to the repo)")
    parser.add_argument("--url", default="", help="load a running server instead (loopback)")
    parser.add_argument("--server-pid", type=int, default=0, help="its pid, for peak RSS")
    parser.add_argument(
        "--server-arg", action="append", default=[], help="extra `streamlit run` flag"
    )
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--think", type=float, default=2.0, help="mean think time, s (0 ok)")
    parser.add_argument("--think-dist", choices=["exponential", "uniform"], default="exponential")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds to open all sessions")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per run")
    parser.add_argument("--page", default="", help='URL path of the page, "" = default')
    parser.add_argument("--query", default="", help="query string without '?'")
    parser.add_argument("--action", choices=["commit", "widget"], default="commit")
    parser.add_argument(
        "--knob", action="append", default=[], help="stage knob(s) to commit (all four)"
    )
    parser.add_argument(
        "--label", action="append", default=[], help='widget to randomize ("Number of samples")'
    )
    parser.add_argument(
        "--join-at-once",
        action="store_true",
        help="every session connects at once and acts as soon as its page has loaded",
    )
    parser.add_argument(
        "--repeat",
        action="store_true",
        help="every release is of one knob position (the first knob's middle one): after the "
        "first, its runs come from the caches, so it costs what a release costs beyond them",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--settle", type=float, default=5.0, help="s between a first page load and the load"
    )
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parser``'s arguments, with the defaults that depend on others, and checked."""
    args = parser.parse_args(argv)
    args.label = args.label or ["Number of samples"]
    args.knob = args.knob or ["learning_rate", "batch_size", "momentum", "decay"]
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "ws://127.")):
        parser.error("--url must be a loopback address.")
    if args.sessions > 1000 or args.duration > 3600:
        parser.error("Keep it bounded: at most 1000 sessions and 3600 s.")
    return args


def main(argv: list[str] | None = None) -> int:
    machine = machine_note()  # before our own server and browser add load
    args = parse(make_parser(), argv)

    server = None
    if not args.url:
        server = StreamlitServer(args.app, extra_args=tuple(args.server_arg)).start()
    url = args.url or server.base_url
    pid = server.pid if server else args.server_pid
    sampler = RssSampler(pid) if pid else None
    if sampler:
        sampler.start()
    cpu_before = time.process_time()
    try:
        tally, wall = asyncio.run(run_load(args, url))
    finally:
        if sampler:
            sampler.stop()
        if server is not None:
            server.close()

    s = summarize(tally.rerun_latencies)
    header = [
        "sessions",
        "think s",
        "duration s",
        "reruns",
        "reruns/s",
        "p50 ms",
        "p95 ms",
        "max ms",
        "exceptions",
        "disconnects",
        "timeouts",
        "peak RSS MB",
    ]
    row = [
        args.sessions,
        f"{args.think:g}",
        f"{args.duration:g}",
        s.n,
        f"{s.n / args.duration:.1f}",
        s.median_ms,
        s.p95_ms,
        s.max_ms,
        tally.exceptions,
        tally.disconnects,
        tally.timeouts,
        f"{sampler.peak / 2**20:.0f}" if sampler else "–",
    ]
    print(
        f"\nLoad on {args.url or args.app}: "
        + (f"commits of {args.knob}" if args.action == "commit" else f"labels {args.label}")
        + f", think {args.think_dist}, "
        + ("joined at once, " if args.join_at_once else f"ramp {args.ramp:g} s, ")
        + f"wall {wall:.0f} s {' '.join(args.server_arg)}\n"
    )
    print(f"{machine}\n")
    print(markdown_table(header, [row]))
    first_load = summarize(tally.load_latencies)
    print(
        f"\nfirst page load: n={first_load.n}, p50 {first_load.median_ms or 0:.0f} ms, "
        f"p95 {first_load.p95_ms or 0:.0f} ms"
    )
    if args.join_at_once:  # the joins and first actions arrive together: the rest, apart
        sent = zip(tally.rerun_latencies, tally.rerun_sent, strict=True)
        later = summarize([took for took, at in sent if at >= 10])
        print(
            f"actions sent from 10 s after the joins on: n={later.n}, "
            f"p50 {later.median_ms or 0:.0f} ms, p95 {later.p95_ms or 0:.0f} ms"
        )
    if sampler:
        print(
            f"server RSS: {sampler.first / 2**20:.0f} MB at start, peak {sampler.peak / 2**20:.0f}"
        )
    client_cpu = (time.process_time() - cpu_before) / wall
    print(f"load client CPU: {client_cpu:.0%} of one core (it shares the machine with the server)")
    if tally.first_exception:
        print(f"first exception shown by the app: {tally.first_exception[:300]}")
    if tally.first_alert:
        print(f"st.error shown in {tally.error_alerts} runs; the first: {tally.first_alert[:300]}")
    if tally.first_error:
        print(f"first connection error: {tally.first_error[:300]}")
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
