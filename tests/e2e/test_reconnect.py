"""A killed process loses its sessions' uploads (issue 21): after the reconnect the page says so
and shows one state, in real Chromium through deploy/serve.sh (one process behind HAProxy;
needs Debian's haproxy)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import urllib.request

import pytest

from harness.browser import (
    ARTIFACTS,
    assert_no_exception,
    find_stage,
    goto,
    wait_for_fast_engine,
    wait_idle,
)
from harness.server import Proxy
from tests.test_deploy import app_pid

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs Debian's haproxy"),
]

LOST = "Your uploaded file is gone"
NO_FILE = "No file yet"
UPLOADER = '[data-testid="stFileUploader"]'


def healthy(base: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    url = f"{base}/_stcore/health"
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture(scope="module")
def served():
    proxy = Proxy.launch(processes=1)
    try:
        healthy(f"http://127.0.0.1:{proxy.app_ports[0]}")
        healthy(proxy.base_url)  # and HAProxy's check has seen it
        yield proxy
    finally:
        proxy.stop()


def ticks(page) -> list[dict[str, list[str]]]:
    """The tick labels each canvas of the stage drew (its ``data-ticks`` test hook)."""
    canvases = page.locator("[data-stage] canvas").all()
    return [json.loads(canvas.get_attribute("data-ticks")) for canvas in canvases]


def data_x_ticks(page) -> list[float]:
    return [float(v) for v in ticks(page)[2]["x"]]  # the panels: contour, losses, data, rate


def shown(page, text: str) -> int:
    return page.get_by_text(text, exact=False).count()


def test_a_killed_process_says_the_upload_is_lost_and_shows_one_state(served, page, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 720})  # a projector
    port = served.app_ports[0]
    goto(page, served.base_url, query="source=csv", timeout=90_000)
    find_stage(page)
    assert shown(page, NO_FILE) == 1 and shown(page, LOST) == 0  # a fresh link: nothing lost
    rows = tmp_path / "far.csv"  # x from 100 to 149: its axis cannot pass for the synthetic one
    rows.write_text("x,y\n" + "".join(f"{100 + i},{2 * i + 1}\n" for i in range(50)))
    page.locator(f'{UPLOADER} input[type="file"]').set_input_files(str(rows))
    page.get_by_text(NO_FILE, exact=False).wait_for(state="detached", timeout=30_000)
    wait_idle(page)
    find_stage(page)
    assert min(data_x_ticks(page)) >= 100  # the upload is the data

    victim = app_pid(port)
    os.kill(victim, signal.SIGKILL)  # the process that holds the session and its upload
    deadline = time.monotonic() + 30
    while app_pid(port) in (None, victim) and time.monotonic() < deadline:
        time.sleep(0.3)
    healthy(f"http://127.0.0.1:{port}")
    # No click: the page reruns on the reconnect and says what happened.
    page.get_by_text(LOST, exact=False).wait_for(timeout=60_000)
    page.wait_for_function(  # the run after the notice's brings the uploader back, empty
        "() => [...document.querySelectorAll('[data-testid=\"stFileUploader\"]')]"
        ".map((u) => u.innerText.includes('far.csv')).join() === 'false'",
        timeout=30_000,
    )
    # The new process serves from the NumPy reference until its kernels load; then the notice
    # goes and the page reruns once (ui.lesson._engine_notice): wait for that too.
    wait_for_fast_engine(page, timeout=60_000)
    find_stage(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reconnect-upload-lost.png"))

    assert shown(page, LOST) == 1
    assert shown(page, NO_FILE) == 0  # one message, not a notice beside "No file yet"
    assert "far.csv" not in page.locator(UPLOADER).inner_text()  # the stale entry is gone
    assert "source=csv" in page.url  # still the upload's page, ready for the file again
    assert max(data_x_ticks(page)) < 10  # the synthetic data, as the notice says
    assert page.locator("[data-stage]").count() == 1
    for axes in ticks(page):  # each tick label once: one set of axes per chart
        assert len(axes["x"]) == len(set(axes["x"])) and len(axes["y"]) == len(set(axes["y"]))
    assert_no_exception(page)

    # Uploading again brings the file back and the notice goes.
    page.locator(f'{UPLOADER} input[type="file"]').set_input_files(str(rows))
    page.get_by_text(LOST, exact=False).wait_for(state="detached", timeout=30_000)
    wait_idle(page)
    find_stage(page)
    assert min(data_x_ticks(page)) >= 100
    assert shown(page, NO_FILE) == 0
    assert_no_exception(page)
