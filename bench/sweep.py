"""Sweep speed: ``gd.sweep`` against a Python loop of ``gd.fit`` calls over the same grid.

The grid: 20 learning rates (log-spaced, 1e-3 to 10, across the stability bound) × 20 batch
sizes (unique log-spaced integers from 1 to N) × 3 seeds, 20 epochs each, linear regression on
N = 1000 rows. Both run in this one process after ``gd._kernels.warm_up()``; the loop uses the
numba engine too, so the ratio measures running every configuration in one compiled, parallel
call rather than one ``gd.fit`` (and one ``Run``) per configuration. The script checks that both
give the same numbers before printing.

    python bench/sweep.py                # prints the "Sweep" section of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gd
from bench.engine import machine, median_ms
from bench.stats import markdown_table
from gd import _kernels
from gd.sweep import Sweep, stability_bound, sweep

N = 1000
EPOCHS = 20
SEEDS = (0, 1, 2)


def log_spaced_integers(low: int, high: int, count: int) -> np.ndarray:
    """``count`` unique integers from low to high, as evenly spaced in log as integers allow."""
    points = count
    while True:  # rounding merges neighbours near ``low``; ask for more points until it doesn't
        values = np.unique(np.rint(np.geomspace(low, high, points)).astype(np.int64))
        if values.size >= count:
            keep = np.rint(np.linspace(0, values.size - 1, count)).astype(np.int64)
            return values[keep]
        points += 1


def sweep_with_a_loop(model, x, y, learning_rates, batch_sizes) -> Sweep:
    """The same grid, one ``gd.fit`` per configuration: what a page would do without gd.sweep."""
    shape = (learning_rates.size, batch_sizes.size, 1, len(SEEDS))
    final_loss, diverged = np.empty(shape), np.empty(shape, dtype=bool)
    updates = np.empty(shape, dtype=np.int64)
    for cell in np.ndindex(shape):
        rate, size, _, seed = cell
        run = gd.fit(
            model,
            x,
            y,
            gd.SGD(float(learning_rates[rate])),
            gd.Training(epochs=EPOCHS, seed=SEEDS[seed]),
            batch_size=int(batch_sizes[size]),
            engine="numba",
        )
        final_loss[cell], diverged[cell], updates[cell] = (
            run.loss[-1],
            run.diverged_at is not None,
            run.updates,
        )
    momentums, seeds = np.zeros(1), np.array(SEEDS)
    return Sweep(learning_rates, batch_sizes, momentums, seeds, final_loss, diverged, updates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="calls per gd.sweep timing")
    args = parser.parse_args(argv)

    _kernels.warm_up()
    data = gd.datasets.linear(n=N, seed=0)
    model = gd.models.LinearRegression()
    learning_rates = np.geomspace(1e-3, 10.0, 20)
    batch_sizes = log_spaced_integers(1, N, 20)

    def compiled() -> Sweep:
        return sweep(
            model,
            data.x,
            data.y,
            gd.SGD(float(learning_rates[0])),
            gd.Training(epochs=EPOCHS),
            learning_rates=learning_rates,
            batch_sizes=batch_sizes,
            seeds=SEEDS,
        )

    result = compiled()
    start = time.perf_counter()
    looped = sweep_with_a_loop(model, data.x, data.y, learning_rates, batch_sizes)
    loop_ms = 1000 * (time.perf_counter() - start)
    np.testing.assert_allclose(result.final_loss, looped.final_loss, rtol=1e-12)
    np.testing.assert_array_equal(result.diverged, looped.diverged)
    np.testing.assert_array_equal(result.updates, looped.updates)
    sweep_ms = median_ms(compiled, args.repeats)

    runs = result.final_loss.size
    print(f"Machine: {machine()}.\n")
    print(
        f"Grid: {learning_rates.size} learning rates × {batch_sizes.size} batch sizes "
        f"({', '.join(map(str, batch_sizes))}) × {len(SEEDS)} seeds = {runs} runs, "
        f"{EPOCHS} epochs, linear regression, N = {N}; {int(result.updates.sum()):,} updates "
        f"in all; {int(result.diverged.sum())} runs diverged (stability bound "
        f"{stability_bound(data.x, data.y):.3g}).\n"
    )
    rows = [
        ["`gd.sweep` (median)", f"{sweep_ms:.0f}", f"{sweep_ms / runs * 1000:.0f}", "1×"],
        [
            "loop of `gd.fit(engine='numba')`",
            f"{loop_ms:.0f}",
            f"{loop_ms / runs * 1000:.0f}",
            f"{loop_ms / sweep_ms:.0f}× slower",
        ],
    ]
    print(markdown_table(["method", "ms", "µs per run", "ratio"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
