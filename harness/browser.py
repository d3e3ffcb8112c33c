"""Helpers for end-to-end tests of the app in headless Chromium (Playwright, sync API).

Typical test, with the `app_server` and `page` fixtures from `conftest.py`:

    from harness.browser import (
        assert_no_exception, goto, plotly_payload_signature, slider_by_label, wait_idle,
    )

    def test_learning_rate_changes_charts(app_server, page):
        goto(page, app_server, query="learning_rate=0.01")
        before = plotly_payload_signature(page)
        slider_by_label(page, "Learning rate").press("ArrowRight")
        wait_idle(page)
        assert plotly_payload_signature(page) != before
        assert_no_exception(page)

Every helper takes the Playwright `Page` first. None of them measures time: timing belongs in
`bench/`, not in tests.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from ui.lesson import SPREAD_SECONDS

if TYPE_CHECKING:  # Only for hints: importing this module must not need Playwright.
    from playwright.sync_api import Locator, Page

ARTIFACTS = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "artifacts"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# A probe installed before the app's own scripts. It wraps `WebSocket` to count, in the page's
# clock, the `BackMsg.rerun_script` frames the app sends and the `ForwardMsg.script_finished`
# frames it receives (reading only the top-level protobuf field numbers). The script-state
# attribute alone is not enough: for a fast rerun React can render "running" and "notRunning"
# in one commit, so the attribute never changes, and right after a key press it still reads
# notRunning before the rerun starts. It also stamps the last DOM mutation, so we can wait for
# Plotly to finish drawing.
_PROBE_JS = """
(() => {
  if (window.__stHarness) return;
  const RERUN_SCRIPT = $RERUN_SCRIPT, SCRIPT_FINISHED = $SCRIPT_FINISHED;
  const h = window.__stHarness = {
    runs: 0, lastRunAt: -1, finished: 0, lastFinishedAt: -1, lastStatus: null,
    seen: 0, lastMutation: 0,
  };
  const topFields = (data) => {  // {field number: varint value, or -1 if length-delimited}
    const b = data instanceof ArrayBuffer ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const out = {};
    let i = 0;
    const varint = () => {
      let x = 0, scale = 1, c;
      do { c = b[i++]; x += (c & 0x7f) * scale; scale *= 128; } while (c & 0x80 && i < b.length);
      return x;
    };
    while (i < b.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) out[field] = varint();
      else if (wire === 2) { const n = varint(); out[field] = -1; i += n; }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else break;
    }
    return out;
  };
  const onSend = (data) => {
    if (typeof data === 'string' || !(data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
      return;
    }
    if (RERUN_SCRIPT in topFields(data)) { h.runs += 1; h.lastRunAt = performance.now(); }
  };
  const onMessage = (data) => {
    if (!(data instanceof ArrayBuffer)) return;
    const f = topFields(data);
    if (SCRIPT_FINISHED in f) {
      h.finished += 1; h.lastFinishedAt = performance.now(); h.lastStatus = f[SCRIPT_FINISHED];
    }
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => onMessage(e.data));
    }
    send(data) { onSend(data); return super.send(data); }
  };
  new MutationObserver(() => { h.lastMutation = performance.now(); }).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
})();
""".replace("$RERUN_SCRIPT", str(BackMsg.RERUN_SCRIPT_FIELD_NUMBER)).replace(
    "$SCRIPT_FINISHED", str(ForwardMsg.SCRIPT_FINISHED_FIELD_NUMBER)
)

# Idle: the last rerun request has its script_finished (not one cut short by a newer
# request), the page says notRunning, nothing is loading, and the DOM has been still.
_IDLE_JS = """
([seen, t0, graceMs, quietMs]) => {
  const h = window.__stHarness;
  if (!h) return false;
  const now = performance.now();
  // No rerun requested since the last wait: give one that is on its way time to start.
  if (h.runs <= seen && now - t0 < graceMs) return false;
  if (h.runs > 0 && (h.lastFinishedAt < h.lastRunAt || h.lastStatus === $EARLY)) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) {
    return false;
  }
  return now - h.lastMutation >= quietMs;
}
""".replace("$EARLY", str(ForwardMsg.FINISHED_EARLY_FOR_RERUN))

_probed: weakref.WeakSet[Any] = weakref.WeakSet()


@dataclass
class ErrorLog:
    """Browser-side errors seen by one page: `console.error` lines and uncaught exceptions.

    Console errors are kept but not asserted by `assert_no_exception`: on a page with a path
    (e.g. /maps) Streamlit's frontend first probes `/maps/_stcore/host-config` and
    `/maps/_stcore/health`, which log two harmless "404 (Not Found)" errors.
    """

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    # Requests to any host but this machine: a classroom may be offline, so there must be none.
    outside_requests: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"ErrorLog({len(self.console_errors)} console, {len(self.page_errors)} page)"


_error_logs: weakref.WeakKeyDictionary[Any, ErrorLog] = weakref.WeakKeyDictionary()


def install_probes(page: Page) -> None:
    """Add the script-run counter to `page` (before its next navigation). Idempotent.

    `goto` calls this for you; call it yourself only if you navigate with `page.goto`.
    """
    if page not in _probed:
        page.add_init_script(_PROBE_JS)
        _probed.add(page)


def attach_error_log(page: Page) -> ErrorLog:
    """Start recording console errors and uncaught page errors of `page`; see `error_log`."""
    log = _error_logs.get(page)
    if log is None:
        log = _error_logs[page] = ErrorLog()
        page.on("console", lambda msg: _console(log, msg))
        page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))
        page.on("request", lambda request: _outside(log, request.url))
    return log


def _outside(log: ErrorLog, url: str) -> None:
    """Keep the address of a request that leaves this machine (data: and blob: stay local)."""
    host = re.match(r"^[a-z]+://([^/:]+)", url)
    if host and host.group(1) not in ("127.0.0.1", "localhost", "[::1]"):
        log.outside_requests.append(url)


def _console(log: ErrorLog, msg: Any) -> None:
    """Keep a console error's text, and the resource's address when it names one (a failed
    load says only "Failed to load resource: …" in its text)."""
    if msg.type != "error":
        return
    url = (msg.location or {}).get("url") or ""
    log.console_errors.append(f"{msg.text} [{url}]" if url.startswith("http") else msg.text)


def error_log(page: Page) -> ErrorLog:
    """The `ErrorLog` of a page made by the `page` fixture (empty if nothing was recorded)."""
    return _error_logs.get(page) or attach_error_log(page)


def wait_idle(
    page: Page, timeout: float = 30_000, rerun_grace_ms: float = 500, quiet_ms: float = 150
) -> None:
    """Wait until the app has finished the script run in progress (or about to start).

    Done when all hold:
    - a rerun was requested since the previous `wait_idle` (a `rerun_script` frame went out
      on the websocket), or `rerun_grace_ms` passed without one (a key press or click may
      send its request a moment later: this is what the grace period covers);
    - the last request has been answered by a `script_finished` frame that is not
      FINISHED_EARLY_FOR_RERUN;
    - `[data-testid=stApp]` reads `data-test-script-state="notRunning"`;
    - no `stSkeleton` or `stSpinner` element is on the page;
    - no DOM mutation in the document for `quiet_ms` (Plotly draws after the run ends).

    Args:
        page: a page opened with `goto` (or after `install_probes`).
        timeout: milliseconds before Playwright's TimeoutError.
        rerun_grace_ms: how long to wait for a rerun to start when none has yet.
        quiet_ms: how long the DOM must be still.
    """
    install_probes(page)
    seen, t0 = page.evaluate(
        "() => [window.__stHarness ? window.__stHarness.seen : 0, performance.now()]"
    )
    page.wait_for_function(
        _IDLE_JS, arg=[seen, t0, rerun_grace_ms, quiet_ms], polling=50, timeout=timeout
    )
    page.evaluate("() => { window.__stHarness.seen = window.__stHarness.runs; }")


def goto(page: Page, base_url: str, path: str = "", query: str = "", **wait: Any) -> None:
    """Open a page of the app and wait until it is idle.

    Args:
        page: the Playwright page.
        base_url: the server's URL, e.g. the `app_server` fixture's value.
        path: the page's URL path, "" for the default page ("batch_sizes", "/maps"...).
        query: the query string without "?", e.g. "learning_rate=0.1&batch_size=8". Widgets
            bound with `bind="query-params"` start from these values.
        **wait: passed to `wait_idle` (e.g. `timeout=60_000` for a cold numba cache).
    """
    install_probes(page)
    url = base_url.rstrip("/") + "/" + path.strip("/")
    if query:
        url += "?" + query.lstrip("?")
    page.goto(url)
    wait_idle(page, **wait)
    wait_for_fast_engine(page, **wait)


def wait_for_fast_engine(page: Page, **wait: Any) -> None:
    """A fresh server draws its first pages from the NumPy reference while its kernels load,
    saying so, then drops the notice and reruns the page once within
    ``ui.lesson.SPREAD_SECONDS``, which stops the notice's 1 s clock: wait for all that (at
    once if the page never said it)."""
    preparing = page.get_by_text("Preparing the fast engine", exact=False)
    if preparing.count():
        preparing.first.wait_for(state="detached", timeout=wait.get("timeout", 30_000) + 60_000)
        page.wait_for_function(  # the clock has stopped: the page's rerun has begun
            "() => performance.now() - window.__stHarness.lastRunAt > 1500",
            polling=100,
            timeout=(SPREAD_SECONDS + 5) * 1000,
        )
        wait_idle(page, **wait)


def assert_no_exception(page: Page, page_errors: bool = True) -> None:
    """Fail if the app shows an error.

    Checks that there is no `[data-testid=stException]` element and no visible text
    "Traceback" anywhere, and (with `page_errors`) that no uncaught JavaScript error was seen
    by a page from the `page` fixture. The failure message quotes what was shown.
    """
    shown = page.locator('[data-testid="stException"]')
    if shown.count():
        raise AssertionError(f"The app shows an exception:\n{shown.first.inner_text()[:3000]}")
    traceback = page.get_by_text("Traceback")
    if traceback.count():
        raise AssertionError(f"The page shows a traceback:\n{traceback.first.inner_text()[:3000]}")
    log = _error_logs.get(page)
    if page_errors and log is not None and log.page_errors:
        raise AssertionError(f"Uncaught JavaScript errors: {log.page_errors}")


def error_alerts(page: Page) -> list[str]:
    """Texts of the `st.error` boxes on the page (`stAlertContentError`), in page order.

    `assert_no_exception` does not look at these, because a page may show st.error on
    purpose (e.g. "batch_size (512) is larger than the 200 training samples"); assert on
    their text instead, e.g. `assert error_alerts(page) == []`.
    """
    return page.locator('[data-testid="stAlertContentError"]').all_inner_texts()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG to `tests/e2e/artifacts/<name>.png` and return its path.

    Streamlit scrolls inside its own containers (main area and sidebar), so Playwright's
    `full_page=True` alone only captures the viewport. The viewport is stretched to the
    tallest of them (at most 12 000 px) for the shot, then restored.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    path = ARTIFACTS / f"{safe}.png"
    viewport = page.viewport_size
    height = page.evaluate(_CONTENT_HEIGHT_JS)
    if viewport and height > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": min(height, 12_000)})
        page.wait_for_timeout(300)  # let the layout settle; charts keep their width
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if viewport and height > viewport["height"]:
            page.set_viewport_size(viewport)
    return path


_CONTENT_HEIGHT_JS = """
() => {
  const boxes = document.querySelectorAll(
    '[data-testid="stMain"], [data-testid="stMainBlockContainer"], '
    + '[data-testid="stSidebarContent"], [data-testid="stAppViewContainer"]');
  let height = document.documentElement.scrollHeight;
  for (const el of boxes) height = Math.max(height, el.scrollHeight);
  return height;
}
"""


def slider_by_label(page: Page, label: str) -> Locator:
    """The thumb of the slider (or select_slider) labelled exactly `label`.

    The thumb is an `<input type=range>` with role "slider" inside a `[data-testid=stSlider]`
    whose role "group" is named by the label. (The thumb's own accessible name is the label
    twice, "Learning rate Learning rate", in Streamlit 1.67, so match the group, not the
    thumb: a substring match on the thumb would also find "Learning rate decay".)

    Focus it and press keys to move it: `slider_by_label(page, "Batch size")
    .press("ArrowRight")` moves one step and reruns the script once; follow with
    `wait_idle(page)`. Read its value with `.get_attribute("aria-valuetext")` (the formatted
    value, e.g. "0.01"). A range slider has two thumbs: use `.nth(0)` / `.nth(1)`.
    """
    group = page.get_by_role("group", name=label, exact=True)
    return page.locator('[data-testid="stSlider"]').filter(has=group).get_by_role("slider")


_SIGNATURE_JS = """
() => {
  const hash = (s) => {  // FNV-1a, 32 bit: a cheap fingerprint, not a security hash.
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return (h >>> 0).toString(16);
  };
  const describe = (v) => {
    if (v === undefined || v === null) return null;
    if (v.bdata !== undefined) {  // Plotly's base64 typed-array form {dtype, bdata, shape}
      const size = parseInt(String(v.dtype).slice(1), 10) || 1;  // 'f8' -> 8 bytes
      const n = Math.floor(atob(v.bdata).length / size);
      return {n, dtype: v.dtype, shape: v.shape || null, hash: hash(v.bdata)};
    }
    if (ArrayBuffer.isView(v)) v = Array.from(v);
    if (Array.isArray(v)) return {n: v.length, hash: hash(JSON.stringify(v))};
    return {hash: hash(JSON.stringify(v))};
  };
  return [...document.querySelectorAll('.js-plotly-plot')].map((el) =>
    (el.data || []).map((t) => ({
      type: t.type || 'scatter', name: t.name || null,
      x: describe(t.x), y: describe(t.y), z: describe(t.z),
    })));
}
"""


def plotly_payload_signature(page: Page) -> list[list[dict[str, Any]]]:
    """A fingerprint of every Plotly chart's data, which changes when any trace's data does.

    One list per `.js-plotly-plot` element (in page order), one dict per trace with its
    `type`, `name` and, for `x`, `y` and `z`, the number of values `n` and a hash of the
    values (or of Plotly's base64 `bdata`; a 2-D `z` then also has its `shape`). Compare two
    signatures with `==`; the counts are also handy to assert, e.g. `sig[0][0]["y"]["n"]`.
    """
    return page.evaluate(_SIGNATURE_JS)


def script_run_count(page: Page) -> int:
    """How many reruns the page has requested since it was loaded (`rerun_script` frames)."""
    return page.evaluate("() => window.__stHarness ? window.__stHarness.runs : 0")


# --- The live stage (ui/stage) ---------------------------------------------------------------
# The stage is a components.v2 element in an open shadow root: Playwright's locators pierce it
# (`page.locator("[data-stage] .metrics")`, `page.get_by_role("slider", name="Momentum")`), but
# plain `document.querySelector` does not, so `find_stage` keeps the root on `window.__stage`.

_FIND_STAGE_JS = """
() => {
  // Every stage in the page, shadow roots included; a rerun may leave a stale one behind
  // (hidden, or an emptied placeholder's), so the visible one that has drawn wins.
  const all = [];
  const collect = (root) => {
    for (const hit of root.querySelectorAll('[data-stage]')) all.push(hit);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) collect(el.shadowRoot);
  };
  collect(document);
  const drawn = all.filter((s) => s.isConnected && s.hasAttribute('data-drawn'));
  const shown = drawn.filter((s) => s.getClientRects().length > 0);
  window.__stage = shown[shown.length - 1] || drawn[drawn.length - 1] || null;
  return window.__stage !== null;
}
"""

_DRAWN_JS = """
() => (window.__stage && window.__stage.isConnected) ? window.__stage.getAttribute('data-drawn')
  : null
"""


def find_stage(page: Page, timeout: float = 90_000) -> None:
    """Wait until the page's live stage has drawn its first frame (and remember its root)."""
    page.wait_for_function(_FIND_STAGE_JS, polling=100, timeout=timeout)


def drawn(page: Page) -> dict[str, str]:
    """The knob values of the run on screen, from the stage's `data-drawn` test hook.

    E.g. `{"learning_rate": "0.05", "batch_size": "32", "momentum": "0", "decay": "0"}`
    (Python's `:g` spelling). Finds the stage again if a rerun replaced its element.
    """
    text = page.evaluate(_DRAWN_JS)
    if text is None:
        find_stage(page)
        text = page.evaluate(_DRAWN_JS)
    return dict(part.split("=", 1) for part in text.split(";"))


def stage_update(page: Page) -> int:
    """The stage's playback cursor (`data-update`): how many updates the path shows."""
    find_stage(page)
    return int(page.evaluate("() => window.__stage.getAttribute('data-update')"))


def held_parts(page: Page) -> int:
    """How many parts of its last payload the stage took from the one before (`data-held`):
    0 for a whole payload; after a release, the knob's family and the scene (issue 19)."""
    find_stage(page)
    return int(page.evaluate("() => window.__stage.getAttribute('data-held')"))


def wait_drawn(page: Page, knob: str, text: str, timeout: float = 5_000) -> None:
    """Wait until the stage draws the run with `knob` at `text` (e.g. "momentum", "0.9")."""
    find_stage(page)
    page.wait_for_function(
        "([k, v]) => (window.__stage.getAttribute('data-drawn') || '').split(';')"
        ".includes(k + '=' + v)",
        arg=[knob, text],
        timeout=timeout,
    )


def knob(page: Page, label: str) -> Locator:
    """A live knob of the stage (role slider, named by its label, e.g. "Learning rate")."""
    return page.locator("[data-stage]").get_by_role("slider", name=label, exact=True)


def stage_metric(page: Page, name: str) -> str:
    """A value of the stage's metrics row: name is its class, "per-epoch", "updates",
    "final", "distance" or "status"; add " .note" for the line under the value."""
    part = name if " " in name else f"{name} .value"
    return page.locator(f"[data-stage] .metrics .{part}").inner_text()


_SCRIPT_STATE_JS = """
() => {
  if (window.__scriptStates) return;
  const log = window.__scriptStates = {running: 0};
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') log.running += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}
"""


def script_state_runs(page: Page) -> int:
    """How often `[data-testid=stApp]` turned `running` since the first call on this page.

    The first call installs the observer and returns 0. A fast rerun may never show
    `running` (see `_PROBE_JS`), so use it beside `script_run_count`, not instead of it.
    """
    page.evaluate(_SCRIPT_STATE_JS)
    return page.evaluate("() => window.__scriptStates.running")


_FOCUSED_JS = """
() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  const by = a && a.getAttribute('aria-labelledby');
  const root = a && a.getRootNode();
  const named = by && root.getElementById ? root.getElementById(by) : null;
  return named ? named.textContent : (a ? (a.getAttribute('aria-label') || a.textContent) : '');
}
"""


def focused_name(page: Page) -> str:
    """The accessible name of the focused element, inside shadow roots too (a stage knob is
    named by its label through aria-labelledby)."""
    return page.evaluate(_FOCUSED_JS).strip()
