"""Fixtures for end-to-end tests: a real `streamlit run app.py` server and headless Chromium.

Every test in this folder is marked `e2e` (deselect with `-m "not e2e"`).

Environment variables (all optional):
- `E2E_APP`: the entry script to serve instead of `<repo>/app.py` (e.g. a demo app).
- `E2E_BASE_URL`: test an already running server instead of starting one.

Fixtures:
- `app_server` (session): the base URL, e.g. "http://127.0.0.1:41235".
- `browser` (session): Playwright's Chromium, from Debian's /usr/bin/chromium.
- `page` (function): a fresh 1400x900 context and page, recording console errors and
  uncaught page errors (see `helpers.error_log`); a failing test leaves a screenshot
  `tests/e2e/artifacts/FAILED-<test>.png`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # for `harness.server`, shared with the benchmarks

from harness import browser as helpers  # noqa: E402
from harness.server import StreamlitServer  # noqa: E402
from harness.streamlit_client import StreamlitClient  # noqa: E402
from ui.warmup import PREPARING  # noqa: E402

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items: mark only the ones in this folder.
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    setattr(item, f"rep_{report.when}", report)  # read by the `page` fixture
    return report


@pytest.fixture(scope="module")
def stage_server() -> Iterator[str]:
    """The live stage's harness (``stage_app.py``) served alone, for one module: its URL."""
    server = StreamlitServer(Path(__file__).resolve().parent / "stage_app.py")
    try:
        server.start(timeout=90)
    except (RuntimeError, TimeoutError) as exc:
        server.close()
        pytest.fail(f"Could not start the stage harness: {exc}", pytrace=False)
    yield server.base_url
    server.close()


@pytest.fixture(scope="session")
def app_server() -> Iterator[str]:
    """Base URL of a `streamlit run` server for the whole session (started and stopped here)."""
    external = os.environ.get("E2E_BASE_URL")
    if external:
        yield external.rstrip("/")
        return
    server = StreamlitServer(os.environ.get("E2E_APP", REPO_ROOT / "app.py"))
    try:
        server.start(timeout=60)
    except (RuntimeError, TimeoutError, FileNotFoundError) as exc:
        server.close()
        pytest.fail(f"Could not start the app server: {exc}", pytrace=False)
    try:
        _until_compiled(server.base_url)
        yield server.base_url
    finally:
        server.close()


def _until_compiled(base_url: str, timeout: float = 300.0) -> None:
    """Wait until the server's numba kernels are compiled (no page says ``PREPARING``): a fresh
    checkout compiles them once, about 40 s alone and longer beside other processes, and the
    first test's page would wait for them (a page with heavy work waits; the cold start has its
    own test, tests/test_coldstart.py). Opens the Playground over the websocket protocol."""

    async def preparing() -> bool:
        async with StreamlitClient(base_url, timeout=timeout) as client:
            result = await client.connect()
        return any(PREPARING in m.body for m in result.elements_of("markdown"))

    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(1) as thread:  # Playwright's event loop may run in this one
        while thread.submit(asyncio.run, preparing()).result():
            if time.monotonic() > deadline:
                pytest.fail("The app server's kernels did not compile in time.", pytrace=False)
            time.sleep(2)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(helpers.CHROMIUM).exists():
        pytest.fail(
            f"{helpers.CHROMIUM} is missing. Install Debian's Chromium with "
            "`apt-get install chromium chromium-driver` (`playwright install` cannot "
            "download a browser here).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=helpers.CHROMIUM, args=list(helpers.CHROMIUM_ARGS), headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A new page in a new 1400x900 context; its errors are in `helpers.error_log(page)`."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    new_page = context.new_page()
    new_page.set_default_timeout(30_000)
    helpers.attach_error_log(new_page)
    helpers.install_probes(new_page)
    yield new_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        try:
            helpers.screenshot(new_page, f"FAILED-{request.node.name}")
        except Exception as exc:  # The page may be what broke; keep the original failure.
            print(f"Could not save a failure screenshot: {exc}")
    context.close()
