"""Uploads held by closed sessions are freed within a minute, with `runner.postScriptGC` off
(issue 13): a real `streamlit run app.py` server, an upload from real Chromium, the tab closed.

Streamlit 1.67 alone does not free them: it keeps a disconnected session for a reconnect and
does not shut it down when that time is up, and the runtime's loop keeps naming the last
session it served (`ui/upload.py` says where, and closes such a session 30 s after its tab
goes, clearing its state).

How "the server holds the upload" is observed, and why so:

- Not by resident memory (VmRSS). Whether freed memory goes back to the kernel is the
  allocator's choice (glibc keeps freed 5 MB blocks in its heap once its mmap threshold has
  grown), and the reruns that use the upload allocate and free tens of MB of runs: the figure
  moves for reasons that have nothing to do with the upload, so a threshold on it is flaky.
- Not by Streamlit's `/_stcore/metrics` either: it counts the upload manager's files, but not
  `st.session_state` nor anything our own code might keep (a module-level reference, a cache).
- By asking the server process itself, which is exact. The test starts the same
  `streamlit run app.py` (same flags, the project's `.streamlit/config.toml`) through a short
  launcher that first starts a probe thread on a loopback port; the app code has no hook for
  it. On request, the probe walks every object the garbage collector tracks
  (`gc.get_objects()`) and lists each large `bytes`, `bytearray` or `str` that contains a
  random marker written into the uploaded file, found among their referents, inside untracked
  tuples and dicts, NumPy arrays' bases and `BytesIO` buffers (an `UploadedFile`'s). Tracked
  objects include suspended coroutines (the server's request handlers) and cycles that are
  unreachable but not yet collected, so memory waiting for a collection that never comes
  counts as held, as it should with the post-script collection off. The app freezes its
  start-up objects (`gc.freeze` in `ui.cache`), which hides them from `gc.get_objects()`: the
  test lets that freeze happen before uploading, and the probe unfreezes before it scans, so
  a module-level dict holding the bytes is seen too (unfreezing frees nothing; later full
  collections only walk more objects). Not seen: locals of code running at that very moment,
  which CPython does not report; once the tab is closed, none of its code runs.
  `test_the_probe_sees_bytes_however_they_are_held` checks each kind of holder.

The test first checks that the probe sees the upload while the tab is open (so an empty answer
later means freed, not unseen), closes the browser context (the websocket closes), then asks
every few seconds, for at most 60 s, until nothing holds the marker.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.browser import (
    assert_no_exception,
    attach_error_log,
    find_stage,
    goto,
    stage_metric,
    wait_idle,
)
from harness.server import StreamlitServer, free_port

REPO = Path(__file__).resolve().parents[2]
ROWS = 10_000  # ui.controls.MAX_SAMPLES: the most rows an upload may have
FREED_WITHIN = 60.0  # seconds after the tab closes (issue 13)
POLL = 3.0  # seconds between two scans (a scan takes about a second on 2 cores)
LARGE = 1_000_000  # bytes/str shorter than this cannot hold the ~4.9 MB upload

# The probe, run in the server process: ``_scan(marker)`` lists the large bytes, bytearray and
# str objects that contain ``marker`` and are still alive, with what holds each.
PROBE = r"""
import gc, io, sys

def _name(holder, skip):  # its type, and for a dict or list what holds that: a module...
    name = type(holder).__name__
    if not isinstance(holder, (dict, list)):
        return name
    owners = set()
    for owner in gc.get_referrers(holder):
        if id(owner) in skip:
            continue
        if getattr(owner, "__dict__", None) is holder:  # an object's or a module's attributes
            owners.add(f"{type(owner).__name__} {getattr(owner, '__name__', '')}".strip())
        elif isinstance(owner, dict):
            modules = [m for m in gc.get_referrers(owner) if getattr(m, "__dict__", 0) is owner]
            owners.add(f"module {modules[0].__name__}" if modules else "dict")
        else:
            owners.add(type(owner).__name__)
    return f"{name} in {'/'.join(sorted(owners)[:4])}"

def _inside(ref):
    # What the collector does not list but may hold the bytes: the items of an untracked tuple
    # or dict (CPython untracks those holding only atoms), a NumPy array's base, a BytesIO's
    # buffer (an UploadedFile's).
    if isinstance(ref, (tuple, dict)) and not gc.is_tracked(ref):
        return gc.get_referents(ref)
    if isinstance(ref, io.BytesIO):
        try:
            return [ref.getvalue()]  # the buffer itself while it is shared, else a copy
        except ValueError:  # closed
            return []
    base = getattr(ref, "base", None) if type(ref).__name__ == "ndarray" else None
    return [] if base is None else [base]

def _find(marker, large):  # {id: [object, {how it is held, when no referrer shows it}]}
    text, found, opened = marker.decode(), {}, set()
    objects = gc.get_objects()
    for obj in objects:
        stack = [(ref, ()) for ref in gc.get_referents(obj) + _inside(obj)]
        while stack:
            ref, via = stack.pop()
            kind = type(ref)
            if kind in (bytes, bytearray, str):
                if len(ref) >= large and (text if kind is str else marker) in ref:
                    entry = found.setdefault(id(ref), [ref, set()])
                    if via or isinstance(obj, io.BytesIO):
                        entry[1].add(" > ".join((type(obj).__name__, *via)))
            elif id(ref) not in opened:
                inner = _inside(ref)
                if inner:
                    opened.add(id(ref))
                    stack += [(item, (*via, kind.__name__)) for item in inner]
    return found

def _scan(marker, large):
    if gc.get_freeze_count():
        gc.unfreeze()  # see the module docstring
    entries = list(_find(marker, large).values())
    skip = {id(entries), id(sys._getframe()), *map(id, entries)}
    held = []
    for ref, vias in entries:
        referrers = gc.get_referrers(ref)
        skip.add(id(referrers))
        holders = [_name(h, skip) for h in referrers if id(h) not in skip] + sorted(vias)
        held.append({"type": type(ref).__name__, "size": len(ref), "holders": sorted(holders)})
    return held
"""

# Run as `python -c LAUNCHER <probe port> <large> run app.py …`: start a thread answering one
# JSON request per connection ({"scan": marker}, or {"scan": null} for the freeze count
# only), then `python -m streamlit run app.py …` in this same process.
LAUNCHER = (
    PROBE
    + r"""
import json, runpy, socket, threading

def _serve(listener, large):
    while True:
        connection, _ = listener.accept()
        with connection, connection.makefile("rwb") as stream:
            request = json.loads(stream.readline())
            answer = {"frozen": gc.get_freeze_count()}
            if request.get("scan"):
                answer["held"] = _scan(request["scan"].encode(), large)
            stream.write(json.dumps(answer).encode() + b"\n")

listener = socket.create_server(("127.0.0.1", int(sys.argv[1])))
threading.Thread(
    target=_serve, args=(listener, int(sys.argv[2])), name="memory-probe", daemon=True
).start()
sys.argv = ["streamlit", *sys.argv[3:]]
runpy.run_module("streamlit", run_name="__main__", alter_sys=True)
"""
)


class ProbedServer(StreamlitServer):
    """`StreamlitServer`, with the probe thread started in the server process first."""

    def __init__(self, app: Path) -> None:
        super().__init__(app)
        self.probe_port = free_port()

    def command(self) -> list[str]:
        python, _, _, *streamlit_args = super().command()  # python -m streamlit run …
        return [python, "-c", LAUNCHER, str(self.probe_port), str(LARGE), *streamlit_args]

    def ask(self, scan: str | None = None, timeout: float = 60.0) -> dict:
        """The probe's answer: {"frozen": gc.get_freeze_count(), "held": [...] if scan}."""
        with socket.create_connection(("127.0.0.1", self.probe_port), timeout=timeout) as sock:
            sock.sendall(json.dumps({"scan": scan}).encode() + b"\n")
            with sock.makefile("rb") as stream:
                return json.loads(stream.readline())


@pytest.fixture
def server():
    probed = ProbedServer(REPO / "app.py")
    try:
        probed.start(timeout=90)
    except (RuntimeError, TimeoutError) as exc:
        probed.close()
        pytest.fail(f"Could not start the app server: {exc}", pytrace=False)
    try:
        yield probed
    finally:
        probed.close()


# Each way the probe must see bytes held: the name of a holder, and the code that makes it.
HOLDERS = {
    "a module-level list": "module.kept = [data]",
    "an untracked tuple in a dict": "kept = {'key': ('name', data)}; gc.collect()",
    "a NumPy array's base": "kept = {'key': numpy.frombuffer(data, dtype=numpy.uint8)}",
    "an UploadedFile's buffer": "kept = [io.BytesIO(data)]",
    "a dict frozen by gc.freeze": "kept = {'key': data}; gc.freeze()",
    "the decoded text": "kept = {'key': data.decode()}",
    "a local of a suspended coroutine": "kept = hold([data]); next(kept)",
}
SELF_CHECK = r"""
import io, numpy, sys, types
module = sys.modules["kept_here"] = types.ModuleType("kept_here")

def hold(box):  # a generator, suspended as the server's coroutines are between events
    held = box.pop()  # now only this frame holds the bytes
    yield held is not None

for name, code in HOLDERS.items():
    data = f"x_{MARKER},y\\n".encode() + b"0.5,1.5\\n" * 200_000
    exec(code)
    del data
    assert _scan(MARKER.encode(), LARGE), f"the probe misses {name}"
    module.kept = kept = None
    gc.collect()
    assert not _scan(MARKER.encode(), LARGE), f"the probe still sees {name} once it is gone"
"""


def test_the_probe_sees_bytes_however_they_are_held():
    """The probe's side of the regression test: every holder in ``HOLDERS`` is seen, and
    nothing once it is dropped (in a fresh interpreter: the probe unfreezes the collector)."""
    preamble = f"HOLDERS = {HOLDERS!r}\nMARKER = {secrets.token_hex(16)!r}\nLARGE = {LARGE}\n"
    done = subprocess.run(
        [sys.executable, "-c", preamble + PROBE + SELF_CHECK],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def big_csv(path: Path, marker: str) -> int:
    """Write ``ROWS`` rows of long decimals under a header that carries ``marker``, just under
    the 5 000 000-byte limit; return the file's size."""
    rows = (f"{i / ROWS:.238f},{2 * i / ROWS + 1:.238f}\n" for i in range(ROWS))
    path.write_text(f"x_{marker},y\n" + "".join(rows))
    return path.stat().st_size


def test_an_upload_is_freed_within_a_minute_of_closing_the_tab(server, browser, tmp_path):
    marker = secrets.token_hex(16)
    upload = tmp_path / "long_decimals.csv"
    size = big_csv(upload, marker)
    assert 4_500_000 < size <= 5_000_000

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    attach_error_log(page)
    try:
        goto(page, server.base_url, query="source=csv", timeout=90_000)
        find_stage(page)
        # The kernels' warm-up ends with gc.freeze: let it happen before the upload exists.
        deadline = time.monotonic() + 120
        while not server.ask()["frozen"] and time.monotonic() < deadline:
            time.sleep(0.5)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            str(upload)
        )
        page.get_by_text("No file yet", exact=False).wait_for(state="detached", timeout=60_000)
        wait_idle(page, timeout=90_000)
        find_stage(page)
        assert stage_metric(page, "per-epoch .note").startswith(f"⌈{ROWS} / 32⌉")  # used
        assert_no_exception(page)
        held = server.ask(marker)["held"]
        assert held, "The probe does not see the upload while its tab is open."
    finally:
        context.close()

    closed = time.monotonic()
    while True:
        held = server.ask(marker)["held"]
        waited = time.monotonic() - closed
        if not held or waited > FREED_WITHIN:
            break
        time.sleep(POLL)
    state = f"{len(held)} copies still held" if held else "freed"
    print(f"upload of {size:,} bytes: {state} {waited:.1f} s after its tab closed", file=sys.stderr)
    assert not held, (
        f"{waited:.0f} s after its tab closed, the server still holds the upload: "
        + "; ".join(f"{h['type']} of {h['size']:,} bytes held by {h['holders']}" for h in held)
    )
