"""Engine speed: the numba fast path against the NumPy reference, end to end through ``gd.fit``.

Both engines run in this one process, on the same read-only dataset the app would pass, after
``gd._kernels.warm_up()``. Each timing is a whole ``gd.fit`` call, so it includes drawing the
row orders and filling every field of the ``Run`` (losses, epoch losses, ...). A second table
times ``Model.loss_grid``, the loss surface behind every contour plot.

    python bench/engine.py               # prints the "Engine" section of docs/benchmarks.md
    python bench/engine.py --repeats 5   # quicker, noisier
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gd
from bench.stats import markdown_table
from gd import _kernels

N = 1000
EPOCHS = 100
OPT = gd.SGD(learning_rate=0.01, momentum=0.9)


def machine() -> str:
    """One line naming the machine, the libraries and the load, for the benchmark record."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} × {cpu}; Python {platform.python_version()}, NumPy {np.__version__}, "
        f"numba {numba.__version__}; load average {load}; "
        f"{datetime.date.today().isoformat()}"
    )


def median_ms(call: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def ms(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def training_rows(repeats: int) -> list[list[object]]:
    data = gd.datasets.linear(n=N, seed=0)
    model = gd.models.LinearRegression()
    x = data.x[:, None]  # (N, 1), as fit hands it to the loop
    rows = []
    for batch_size in (1, 32, N):

        def run(engine: str, batch_size: int = batch_size) -> gd.Run:
            return gd.fit(
                model,
                data.x,
                data.y,
                OPT,
                gd.Training(epochs=EPOCHS),
                batch_size=batch_size,
                engine=engine,
            )

        done = run("numba")
        fast = median_ms(lambda run=run: run("numba"), repeats)
        loop_only = median_ms(  # the compiled loop alone: no row orders, no Run to fill
            lambda done=done: _kernels.train_loop(
                model,
                x,
                data.y,
                done.order,
                done.batch_size,
                OPT,
                done.params[0],
                done.divergence_threshold,
            ),
            repeats,
        )
        # The reference costs ~10 µs per update: fewer repeats where a call takes seconds.
        reference = median_ms(
            lambda run=run: run("numpy"), min(repeats, max(3, 10**5 // done.updates))
        )
        speed_up = f"{reference / fast:.0f}×"
        rows.append(
            [batch_size, f"{done.updates:,}", ms(fast), ms(loop_only), ms(reference), speed_up]
        )
    return rows


def loss_grid_rows(repeats: int) -> list[list[object]]:
    n = 10_000
    cases = [
        (gd.models.LinearRegression(), gd.datasets.linear(n=n, seed=0), 200),
        (gd.models.LogisticRegression(), gd.datasets.logistic(n=n, seed=0), 80),
        (gd.models.TanhNeuron(), gd.datasets.tanh(n=n, seed=0), 80),
    ]
    rows = []
    for model, data, size in cases:
        axis0, axis1 = np.linspace(-4, 4, size), np.linspace(-3, 3, size)
        x = data.x[:, None]
        slow = not model.cheap_losses  # a pass over every sample at every grid point
        elapsed = median_ms(
            lambda m=model, d=data, x=x, a=axis0, b=axis1: m.loss_grid(x, d.y, a, b),
            max(1, repeats // 7) if slow else repeats,
        )
        rows.append([model.name, f"{size}×{size}", f"{n:,}", ms(elapsed)])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="calls per numba timing")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    _kernels.warm_up()
    warm_up_s = time.perf_counter() - start
    print(f"Machine: {machine()}. `warm_up()`: {warm_up_s:.2f} s in a fresh process.\n")
    print(
        f"Training: linear regression, N = {N}, {EPOCHS} epochs, learning_rate=0.01, "
        "momentum=0.9; median ms per `gd.fit` call, every `Run` field filled.\n"
    )
    header = ["batch size", "updates", "numba ms", "of which loop ms", "numpy ms", "speed-up"]
    print(markdown_table(header, training_rows(args.repeats)))
    print("\nLoss surface: `Model.loss_grid`, median ms per call.\n")
    print(markdown_table(["model", "grid", "N", "ms"], loss_grid_rows(args.repeats)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
