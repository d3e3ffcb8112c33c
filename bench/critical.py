"""Critical-batch speed: ``gd.critical_batch`` on the issue's grid, against its 1 s target.

The grid of issue 12: linear regression on n = 1 000 rows, 12 batch sizes (powers of two and
full batch) × 16 learning rates (10⁻³ … 1, geometric) × 3 seeds, runs of up to 100 epochs.
The time depends on the target: the search stops once no learning rate can still beat the best
one, so an easy target costs little, and a target no run reaches runs every one of the
576 runs for all 100 epochs (the worst case). Each row is the median of ``--repeats`` whole
calls, after ``gd._kernels.warm_up()``; the last column compares with one ``gd.fit`` per run,
the way a page would do it without ``gd.critical_batch`` (timed once, worst case only).

    python bench/critical.py                # prints the "Critical batch size" section
    python bench/critical.py --repeats 3    # quicker, noisier
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
from gd.critical import critical_batch
from gd.models import LinearStats

N = 1000
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, N]  # 12
LEARNING_RATES = np.geomspace(1e-3, 1.0, 16)
SEEDS = (0, 1, 2)
MAX_EPOCHS = 100
TARGET_SECONDS = 1.0
# How far from the start loss towards the minimum the target lies; 2 means below the minimum,
# which no run reaches (the worst case: every run for all 100 epochs).
FRACTIONS = (0.9, 0.999, 0.99999, 2.0)


def with_a_loop(model, x, y, target: float) -> float:
    """Seconds for one ``gd.fit`` per run, first reaches read from each Run."""
    begin = time.perf_counter()
    for size in BATCH_SIZES:
        for rate in LEARNING_RATES:
            for seed in SEEDS:
                run = gd.fit(
                    model, x, y, gd.SGD(float(rate)), batch_size=size, epochs=MAX_EPOCHS, seed=seed
                )
                np.flatnonzero(run.loss <= target)
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-loop", action="store_true", help="skip the gd.fit loop (slow)")
    args = parser.parse_args()

    _kernels.warm_up()
    data = gd.datasets.linear(n=N, seed=0)
    model = gd.models.LinearRegression()
    start = model.loss(model.init_params(1), data.x[:, None], data.y)
    lowest = LinearStats.from_data(data.x[:, None], data.y).min_loss
    rows = []
    for fraction in FRACTIONS:
        target = start - fraction * (start - lowest)

        def call(target=target):
            return critical_batch(
                model,
                data.x,
                data.y,
                batch_sizes=BATCH_SIZES,
                learning_rates=LEARNING_RATES,
                target_loss=target,
                max_epochs=MAX_EPOCHS,
                seeds=SEEDS,
            )

        result = call()
        ms = median_ms(call, args.repeats)
        loop = (
            ""
            if fraction != FRACTIONS[-1] or args.no_loop
            else with_a_loop(model, data.x, data.y, target)
        )
        rows.append(
            [
                f"{fraction:g}" if fraction <= 1 else "unreachable",
                f"{target:.4g}",
                f"{int(result.reached.sum())} of {len(BATCH_SIZES)}",
                f"{result.b_crit:.3g}",
                f"{ms:.0f}",
                f"{ms / 1000 / TARGET_SECONDS:.2f}",
                f"{loop * 1000:.0f} ({loop * 1000 / ms:.0f}×)" if loop else "",
            ]
        )
    print("## Critical batch size\n")
    print(
        f"`gd.critical_batch`, linear regression, n = {N}, {len(BATCH_SIZES)} batch sizes × "
        f"{LEARNING_RATES.size} learning rates × {len(SEEDS)} seeds, up to {MAX_EPOCHS} "
        f"epochs; median of {args.repeats} calls. Target: at most {TARGET_SECONDS:g} s.\n"
    )
    print(
        markdown_table(
            [
                "target (fraction of the way down)",
                "target loss",
                "batch sizes reached",
                "b_crit",
                "ms",
                "share of the 1 s budget",
                "one gd.fit per run, ms",
            ],
            rows,
        )
    )
    print(f"\nMachine: {machine()}")
    print("Command: `python bench/critical.py`")


if __name__ == "__main__":
    main()
