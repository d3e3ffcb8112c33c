"""First picture at heavy settings: the current run first, the families after.

Opens the Playground over Streamlit's websocket protocol (harness/streamlit_client.py) with a
link to heavy settings, each time with a new shuffle seed so nothing is cached, and reports
when the stage's first component arrives (the current run alone), when the full stage
arrives (every knob's family), and when the run finished. Targets (issue 9): the current run
first within 150 ms of the families' start; the families' time is reported.

    python bench/stream.py                                   # n=10000, batch 1, 100 epochs
    python bench/stream.py --query "n=5000&batch_size=1&epochs=30" --repeats 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import machine_note
from harness.server import StreamlitServer
from harness.streamlit_client import StreamlitClient

LARGEST = "n=10000&batch_size=1&epochs=5"  # the heaviest the budget lets through


def component_arrivals(result) -> list[tuple[float, int]]:
    """(seconds after the request, payload bytes) of each stage component the run sent."""
    return [
        (at, len(msg.delta.new_element.bidi_component.bytes))
        for msg, at in zip(result.messages, result.arrivals, strict=True)
        if msg.WhichOneof("type") == "delta"
        and msg.delta.WhichOneof("type") == "new_element"
        and msg.delta.new_element.WhichOneof("type") == "bidi_component"
    ]


async def one(url: str, query: str):
    async with StreamlitClient(url, query_string=query, timeout=120) as client:
        result = await client.connect()
        return component_arrivals(result), result.elapsed, result.exceptions


def main() -> None:
    machine = machine_note()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--query", default=LARGEST)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with StreamlitServer("app.py") as server:
        asyncio.run(one(server.base_url, "seed=999"))  # warm the process (kernels, imports)
        first, full, done = [], [], []
        for seed in range(args.repeats):
            arrivals, elapsed, exceptions = asyncio.run(
                one(server.base_url, f"{args.query}&seed={seed + 1}")
            )
            assert not exceptions, exceptions
            first.append(arrivals[0][0])
            full.append(arrivals[-1][0])
            done.append(elapsed)
            sizes = [size for _, size in arrivals]
    print(f"{machine}\n\nPlayground at {args.query}, {args.repeats} cold runs (new seeds):")
    print(f"  first stage (current run alone): median {1e3 * statistics.median(first):.0f} ms")
    print(f"  full stage (every knob):         median {1e3 * statistics.median(full):.0f} ms")
    print(f"  run finished:                    median {1e3 * statistics.median(done):.0f} ms")
    print(f"  payload bytes of the last run's components: {sizes}")


if __name__ == "__main__":
    main()
