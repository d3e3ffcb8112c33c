"""A frame above the websocket limit is refused without being held (issue 21).

Streamlit (Tornado) reads a websocket message whole, up to ``server.maxMessageSize``, before
anything refuses it: at Streamlit's default of 200 MB, five connections each sending 190 MiB
took a server from 901 to 1917 MB. ``.streamlit/config.toml`` sets the limit to a few times the
largest message the app sends (measured: 0.94 MB, docs/deploy.md), so five frames just over it
leave the server's memory within 100 MB of where it was. Marked slow: it starts a server.
"""

from __future__ import annotations

import asyncio
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import websockets

from harness.server import StreamlitServer

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def limit_bytes() -> int:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    return int(config["server"]["maxMessageSize"] * 1e6)  # Streamlit counts it in 10⁶ bytes


async def send_over(url: str, size: int) -> str:
    """Open a websocket, send one binary frame of ``size`` bytes, return how it ended."""
    try:
        async with websockets.connect(url, max_size=None, open_timeout=30) as socket:
            await socket.send(b"\0" * size)
            await asyncio.wait_for(socket.recv(), timeout=30)
            return "answered"
    except websockets.ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else None}"
    except (TimeoutError, OSError) as error:
        return type(error).__name__


def test_five_frames_just_over_the_limit_leave_memory_where_it_was():
    with StreamlitServer(ROOT / "app.py").start(timeout=90) as server:
        before = server.rss_mb()
        size = limit_bytes() + 1_000_000

        async def five():
            return await asyncio.gather(*(send_over(server.ws_url, size) for _ in range(5)))

        with ThreadPoolExecutor(1) as pool:  # a thread of its own: Playwright may hold a loop
            ends = pool.submit(asyncio.run, five()).result()
        after = server.rss_mb()
    assert all(end.startswith("closed") for end in ends), ends
    assert after - before < 100, (before, after)
