"""deploy/serve.sh: K app processes behind HAProxy, started, used, healed and stopped for real.

Needs Debian's haproxy (scripts/test.sh installs it, as it installs Chromium). Marked slow:
it starts two Streamlit processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import re
import shutil
import signal
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import websockets

from harness.server import Proxy, StreamlitServer, process_tree_pids
from harness.streamlit_client import StreamlitClient, StreamlitProtocolError

REPO = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs Debian's haproxy"),
]


def get(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()  # case-blind lookups
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def run(coroutine):
    """``asyncio.run`` on a thread of its own: the browser tests of the same pytest session
    leave an event loop running on this one (Playwright's sync API)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def wait_until(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("timed out")


def app_pid(port: int) -> int | None:
    """The pid of the Streamlit process listening on ``port`` (from its command line)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"streamlit" in b" ".join(command) and str(port).encode() in command:
                return int(entry)
    return None


@pytest.fixture(scope="module")
def served():
    proxy = Proxy.launch(processes=2)
    process, base, (first, _) = proxy.process, proxy.base_url, proxy.app_ports
    try:
        wait_until(lambda: get(base + "/_stcore/health")[0] == 200)
        for app_port in (first, first + 1):  # both processes up before any test counts them
            wait_until(lambda p=app_port: get(f"http://127.0.0.1:{p}/_stcore/health")[0] == 200)
        seen = set()  # and HAProxy's checks have seen both up: new browsers reach both

        def both_reached() -> bool:  # a 503 has no cookie: HAProxy's checks have not seen one yet
            cookie = get(base + "/")[1]["set-cookie"]
            if cookie:
                seen.add(re.match(r"SGD_SERVER=(app\d)", cookie).group(1))
            return seen == {"app0", "app1"}

        wait_until(both_reached)
        yield process, base, proxy.app_ports
    finally:
        if process.poll() is None:  # the last test stops it with Ctrl-C itself
            proxy.stop()


def test_pages_come_with_a_sticky_cookie_and_security_headers(served):
    _, base, _ = served
    status, headers, body = get(base + "/")
    assert status == 200 and b"<html" in body.lower()
    assert re.match(r"SGD_SERVER=app[01];", headers["set-cookie"])
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert get(base + "/_stcore/metrics")[0] == 403


@pytest.mark.parametrize(
    "path",
    [
        "/_stcore/metrics",
        "/%5Fstcore/metrics",
        "/_stcore/%6detrics",
        "/%5f%73tcore/%6D%65trics",
        "//_stcore/metrics",
        "/./_stcore/metrics",
    ],
)
def test_the_metrics_endpoint_is_refused_however_its_path_is_spelled(served, path):
    """Issue 21: %5Fstcore and %6detrics reached Streamlit's metrics through the proxy; the
    refusal carries the same security headers as the app's pages."""
    _, base, _ = served
    status, headers, body = get(base + path)
    assert status == 403, (path, body[:200])
    assert b"active_sessions" not in body and b"cache_memory" not in body
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_the_content_policy_allows_only_what_the_app_uses(served):
    """No eval, and websockets only to this origin ('self'), not to any host (issue 21)."""
    _, base, _ = served
    policy = get(base + "/")[1]["Content-Security-Policy"]
    assert "'unsafe-eval'" not in policy
    connect = re.search(r"connect-src ([^;]*)", policy).group(1).split()
    assert connect == ["'self'"]


def test_a_websocket_from_another_site_is_refused_by_the_proxy(served):
    """Issue 21: refused at the proxy, it never makes Streamlit look up an outside address."""
    _, base, _ = served
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip
    stream = base + "/_stcore/stream"
    assert get(stream, {**upgrade, "Origin": "http://evil.example"})[0] == 403
    # The app's own pages still connect: test_a_session_runs_the_app_through_the_proxy.


def test_a_body_above_the_upload_limit_is_refused_by_the_proxy(served):
    """The proxy answers 413 from the request's headers, before any body reaches an app."""
    _, base, _ = served
    host, port = base.split("://", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"PUT /_stcore/upload_file/x/y HTTP/1.1\r\nHost: " + host.encode()
            + b"\r\nContent-Length: 5200000\r\n\r\n"
        )  # fmt: skip
        status = connection.recv(64).split(b" ")[1]
    assert status == b"413"


def test_streamlit_javascript_is_gzipped(served):
    _, base, _ = served
    _, _, page = get(base + "/")
    script = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', page).group(1).decode()
    status, headers, body = get(f"{base}/{script}", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert len(gzip.decompress(body)) > 2 * len(body)


def test_a_session_runs_the_app_through_the_proxy(served):
    _, base, _ = served

    result = run(_first_run(base))
    assert not result.exceptions
    assert result.widget("Number of samples") is not None
    assert result.components  # the live stage


def backend_of(client: StreamlitClient) -> str:
    """Which app process HAProxy put this websocket on: the cookie of its 101 answer."""
    return re.match(r"SGD_SERVER=(app\d)", client._ws.response.headers["set-cookie"]).group(1)


def test_killing_a_process_moves_only_its_sessions(served):
    _, base, ports = served
    wait_until(lambda: all(app_pid(port) for port in ports))

    async def classroom():
        clients = []
        while len({backend_of(c) for c in clients}) < 2 and len(clients) < 12:
            client = StreamlitClient(base, timeout=30)  # leastconn spreads new websockets
            await client.connect()
            clients.append(client)
        on = {client: backend_of(client) for client in clients}
        os.kill(app_pid(ports[0]), signal.SIGKILL)  # the process of cookie "app0"
        outcome = {}
        for client in clients:
            try:
                outcome[client] = not (await client.rerun()).exceptions
            except (StreamlitProtocolError, OSError, websockets.WebSocketException):
                outcome[client] = "dropped"
            await client.close()
        again = StreamlitClient(base, timeout=30)  # a dropped student reconnects
        reconnected = not (await again.connect()).exceptions
        await again.close()
        return [(on[c], outcome[c]) for c in clients], reconnected

    sessions, reconnected = run(classroom())
    assert {backend for backend, _ in sessions} == {"app0", "app1"}
    assert all(outcome == "dropped" for backend, outcome in sessions if backend == "app0")
    assert all(outcome is True for backend, outcome in sessions if backend == "app1")
    assert reconnected
    wait_until(lambda: get(f"http://127.0.0.1:{ports[0]}/_stcore/health")[0] == 200)


def test_a_process_that_dies_is_started_again(served):
    _, base, (first, _) = served
    wait_until(lambda: app_pid(first) is not None)
    victim = app_pid(first)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: app_pid(first) not in (None, victim), timeout=30)
    wait_until(lambda: get(f"http://127.0.0.1:{first}/_stcore/health")[0] == 200)
    assert get(base + "/_stcore/health")[0] == 200  # the other process served meanwhile


def test_ctrl_c_stops_everything(served):
    process, _, ports = served
    tree = process_tree_pids(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0
    # Every process the script started is gone within a few seconds (a Streamlit process
    # finishes its own shutdown after its parent has moved on).
    wait_until(lambda: not [pid for pid in tree if Path(f"/proc/{pid}").exists()], timeout=10)
    assert all(app_pid(port) is None for port in ports)


def test_a_refused_websocket_makes_no_outside_request_without_the_proxy():
    """Issue 21: one `streamlit run app.py`, no HAProxy in front. Each cross-site websocket
    Streamlit refused made it ask checkip.amazonaws.com for this machine's public address
    (two requests of up to 1 s on its event loop). Every outside HTTP(S) request of the server
    goes through a local listener here, which counts them: none may come."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    outside = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {"HTTP_PROXY": outside, "HTTPS_PROXY": outside, "NO_PROXY": "", "no_proxy": ""}
    with StreamlitServer(env=env) as server:
        assert not run(_first_run(server.base_url)).exceptions  # app.py has run once
        for origin in ("http://evil.example", "https://203.0.113.7:8501"):
            assert run(_refused(server.ws_url, origin)) == 403
        requests_out = 0
        with contextlib.suppress(TimeoutError):
            while True:
                listener.accept()[0].close()
                requests_out += 1
        log = server.log_tail()
    listener.close()
    assert requests_out == 0 and "external IP" not in log


async def _first_run(base: str):
    async with StreamlitClient(base, timeout=60) as client:
        return await client.connect()


async def _refused(url: str, origin: str) -> int:
    """The HTTP status with which the server refuses a websocket from ``origin``."""
    with pytest.raises(websockets.exceptions.InvalidStatus) as refusal:
        async with websockets.connect(url, origin=origin, open_timeout=30):
            pass
    return refusal.value.response.status_code
