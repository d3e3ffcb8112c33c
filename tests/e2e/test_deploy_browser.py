"""A class through the proxy, in real Chromium: an upload reaches the process that holds the
session (deploy/serve.sh, two processes behind HAProxy; needs Debian's haproxy)."""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from harness.browser import (
    assert_no_exception,
    error_log,
    find_stage,
    goto,
    stage_metric,
    wait_idle,
)
from harness.server import Proxy

REPO = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs Debian's haproxy"),
]


@pytest.fixture(scope="module")
def proxy():
    served = Proxy.launch(processes=2)
    deadline = time.monotonic() + 90
    # Both processes up, and HAProxy's own checks have seen one: until they pass it answers 503.
    health = [f"http://127.0.0.1:{port}/_stcore/health" for port in served.app_ports]
    health.append(f"{served.base_url}/_stcore/health")
    while time.monotonic() < deadline:
        try:
            if all(urllib.request.urlopen(url, timeout=2).status == 200 for url in health):
                break
        except OSError:
            time.sleep(0.5)
    try:
        yield served.base_url
    finally:
        served.stop()


def test_an_upload_through_the_proxy_reaches_the_session(proxy, page, tmp_path):
    goto(page, proxy, query="source=csv", timeout=90_000)
    find_stage(page)
    assert stage_metric(page, "per-epoch .note").startswith("⌈200 / 32⌉")  # synthetic data
    rows = tmp_path / "fifty.csv"
    rows.write_text("x,y\n" + "".join(f"{i / 10},{2 * i / 10 + 1}\n" for i in range(50)))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(rows))
    page.get_by_text("No file yet", exact=False).wait_for(state="detached", timeout=30_000)
    wait_idle(page)
    find_stage(page)
    assert stage_metric(page, "per-epoch .note").startswith("⌈50 / 32⌉")  # the upload's rows
    assert_no_exception(page)
    assert error_log(page).outside_requests == []
    # The proxy's content policy (no eval, websockets to this origin only) breaks nothing.
    blocked = [e for e in error_log(page).console_errors if "Content Security Policy" in e]
    assert blocked == []
