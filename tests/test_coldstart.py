"""Cold start (issue 10): while the numba kernels compile, "auto" runs the NumPy reference (the
same numbers), light pages draw at once and say the fast engine is being prepared, heavy ones
wait for the kernels; ``gd.engine``'s switch is thread-safe."""

import os
import sys
import threading
import time

import numpy as np
import pytest

import gd
from gd import engine
from tests.conftest import stage_payload


@pytest.fixture
def deferred():
    """The kernels "not ready yet" for one test, ready again afterwards whatever happens."""
    from ui import warmup

    warming = warmup.warm_up()  # the process's own warm-up first, so it cannot end our test's
    if warming is not None:
        warming.join(120)
    engine.defer()
    try:
        yield
    finally:
        engine.mark_ready()


def test_auto_runs_the_reference_until_the_kernels_are_ready(deferred):
    assert not engine.ready()
    assert engine.kernels("auto") is None
    assert engine.kernels("numba") is engine.compiled  # an explicit request still compiles
    engine.mark_ready()
    assert engine.ready() and engine.kernels("auto") is engine.compiled


def test_the_reference_gives_the_same_numbers_while_deferred(deferred):
    data = gd.datasets.linear(n=200, seed=0)
    opt = gd.SGD(0.05, momentum=0.9)
    args = {"batch_size": 32, "training": gd.Training(epochs=5)}
    reference = gd.fit(gd.models.LinearRegression(), data.x, data.y, opt, **args)
    engine.mark_ready()
    compiled = gd.fit(gd.models.LinearRegression(), data.x, data.y, opt, **args)
    np.testing.assert_allclose(reference.params, compiled.params, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reference.epoch_loss, compiled.epoch_loss, rtol=1e-12)


def test_waiting_threads_wake_when_the_kernels_are_ready(deferred):
    woke = []
    waiters = [
        threading.Thread(target=lambda: woke.append(engine.wait_ready(10))) for _ in range(8)
    ]
    for thread in waiters:
        thread.start()
    time.sleep(0.1)
    assert not woke
    engine.mark_ready()
    for thread in waiters:
        thread.join(5)
    assert woke == [True] * 8


def test_the_switch_is_safe_while_other_threads_ask(deferred):
    seen, stop = set(), threading.Event()

    def ask():
        while not stop.is_set():
            seen.add(engine.kernels("auto"))

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for thread in askers:
        thread.start()
    for _ in range(200):
        engine.mark_ready()
        engine.defer()
    stop.set()
    for thread in askers:
        thread.join(5)
    assert seen <= {None, engine.compiled}


def test_the_playground_draws_on_the_reference_and_says_so(app, deferred):
    at = app()
    assert not at.exception
    assert any("Preparing the fast engine" in c.value for c in at.caption)
    reference = stage_payload(at)
    engine.mark_ready()
    at.run()  # the page's rerun once the kernels are ready: the notice goes, the numbers stay
    assert not any("Preparing the fast engine" in c.value for c in at.caption)
    assert stage_payload(at).header == reference.header


def stage_path(at) -> tuple[int, ...]:
    """Where the live stage sits in the page's element tree: the browser keeps a component's
    DOM (a drag, what it holds) only while its place stays the same."""

    def walk(node, path):
        if getattr(node, "type", None) == "bidi_component":
            return path
        for index, child in getattr(node, "children", {}).items():
            found = walk(child, (*path, index))
            if found is not None:
                return found
        return None

    return walk(at._tree, ())


def test_the_stage_keeps_its_place_when_the_kernels_take_over(app, deferred):
    """The notice's slot stays, empty, so the stage is not mounted anew mid-drag."""
    at = app()
    preparing = stage_path(at)
    assert preparing is not None
    engine.mark_ready()
    at.run()
    assert stage_path(at) == preparing
    assert not any("Preparing the fast engine" in c.value for c in at.caption)


def test_heavy_settings_wait_for_the_kernels(app, deferred):
    """Above ui.warmup.REFERENCE_WORK the page never runs on the reference: it waits."""
    from ui import stage, warmup
    from ui.controls import Settings

    heavy = Settings(n=2000, batch_size=1, epochs=50)
    assert stage.work(heavy) > warmup.REFERENCE_WORK >= stage.work(Settings())
    threading.Timer(1.0, engine.mark_ready).start()
    started = time.perf_counter()
    at = app(n="2000", batch_size="1", epochs="50")
    assert not at.exception
    assert time.perf_counter() - started >= 1.0  # it waited for the kernels
    assert not any("Preparing the fast engine" in c.value for c in at.caption)


def test_the_disk_cache_counts_as_ready_only_when_every_kernel_is_newer_than_the_source(
    tmp_path, monkeypatch
):
    kernels = engine.compiled
    if kernels is None:
        pytest.skip("numba is not installed")
    source = tmp_path / "_kernels.py"
    source.write_text("")
    monkeypatch.setattr(kernels, "__file__", str(source))
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    assert not kernels.disk_cache_ready()  # nothing cached: the server compiles in a child
    for number, name in enumerate(kernels.ENTRY_KERNELS):
        assert not kernels.disk_cache_ready()  # some are missing
        (cache / f"_kernels.{name}-{300 + number}.{tag}.nbi").write_bytes(b"")
    assert kernels.disk_cache_ready()
    later = time.time() + 60
    os.utime(source, (later, later))  # the source changed after the cache was written
    assert not kernels.disk_cache_ready()


def test_a_warm_up_whose_compiler_is_stopped_by_a_signal_does_not_compile_in_process(
    deferred, monkeypatch
):
    """Ctrl+C reaches the whole process group, the compiling child too: the server is stopping,
    and a compile here would hold the GIL for about 40 s of its shutdown (deploy/serve.sh)."""
    import subprocess

    from ui import warmup

    kernels = engine.compiled
    compiled_here = []
    monkeypatch.setattr(kernels, "disk_cache_ready", lambda: False)
    monkeypatch.setattr(kernels, "warm_up", lambda: compiled_here.append(True))
    monkeypatch.setattr(
        subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, returncode=-2)
    )
    warmup._compile()
    assert compiled_here == [] and engine.ready()
    monkeypatch.setattr(
        subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, returncode=1)
    )
    warmup._compile()  # a child that failed: compile here, as before
    assert compiled_here == [True]
