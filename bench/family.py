"""Family speed: the runs behind the live stage's four knobs, at the Playground's default and
largest settings.

A commit on the stage asks ``gd.family`` for every knob: about 40 learning rates, the batch
sizes, about 20 momentums and 14 decays, each run exact (``tests/test_family.py``). The
largest settings (n = 10 000, batch size 1, 100 epochs: a million updates a run) also time the
current run alone (``gd.fit``), which the page shows first while the families stream in.
The ratio column compares with one ``gd.fit`` call per value in the same process, the way a
page would build a family without ``gd.family``.

    python bench/family.py              # prints the "Families" section of docs/benchmarks.md
    python bench/family.py --largest    # adds the largest settings (about a minute)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gd
from bench.engine import machine, median_ms
from bench.stats import markdown_table
from gd import _kernels, rules

LEARNING_RATES = np.geomspace(1e-4, 10.0, 41)
MOMENTUMS = np.append(np.linspace(0.0, 0.95, 20), 0.99)
DECAYS = np.append(0.0, np.geomspace(1e-4, 1.0, 13))


def knobs(n_train: int) -> dict[str, np.ndarray]:
    return {
        "learning_rate": LEARNING_RATES,
        "batch_size": np.array([*rules.powers_of_two_below(n_train), n_train]),
        "momentum": MOMENTUMS,
        "decay": DECAYS,
    }


def with_a_loop(model, x, y, opt, knob, values, **kwargs) -> list[gd.Run]:
    """One ``gd.fit`` per value: what the stage would cost without ``gd.family``."""
    runs = []
    for value in values.tolist():
        if knob == "batch_size":
            runs.append(gd.fit(model, x, y, opt, **(kwargs | {"batch_size": value})))
        else:
            changes = {knob: value} | ({"nesterov": False} if value == 0.0 else {})
            runs.append(gd.fit(model, x, y, dataclasses.replace(opt, **changes), **kwargs))
    return runs


def settings_rows(n: int, batch_size: int, epochs: int, repeats: int) -> list[list[str]]:
    data = gd.datasets.linear(n=n, seed=0)
    model = gd.models.LinearRegression()
    opt = gd.SGD(0.05)
    kwargs = {"batch_size": batch_size, "training": gd.Training(epochs=epochs, init=(-1.0, 2.0))}
    rows = []
    total_family = total_loop = 0.0
    for knob, values in knobs(n).items():

        def one_family(knob=knob, values=values):
            return gd.family(model, data.x, data.y, opt, knob=knob, values=values, **kwargs)

        def one_loop(knob=knob, values=values):
            return with_a_loop(model, data.x, data.y, opt, knob, values, **kwargs)

        family_ms = median_ms(one_family, repeats)
        loop_ms = median_ms(one_loop, max(1, repeats // 3))
        total_family += family_ms
        total_loop += loop_ms
        rows.append(
            [
                knob,
                str(values.size),
                f"{family_ms:.3g}",
                f"{loop_ms:.3g}",
                f"{loop_ms / family_ms:.1f}×",
            ]
        )
    rows.append(
        [
            "all four",
            "",
            f"{total_family:.3g}",
            f"{total_loop:.3g}",
            f"{total_loop / total_family:.1f}×",
        ]
    )
    current_ms = median_ms(lambda: gd.fit(model, data.x, data.y, opt, **kwargs), repeats)
    rows.append(["current run (`gd.fit`)", "1", f"{current_ms:.3g}", "", ""])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--largest", action="store_true", help="also n=10000, batch 1, 100 epochs")
    args = parser.parse_args()
    _kernels.warm_up()
    gd.family(
        gd.models.LinearRegression(), [0.0, 1.0], [0.0, 1.0], gd.SGD(), knob="decay", values=[0.0]
    )
    print(f"Machine: {machine()}.\n")
    header = ["knob", "runs", "gd.family ms", "loop of gd.fit ms", "ratio"]
    print("Default Playground settings: linear regression, n = 200, batch size 32, 20 epochs.\n")
    print(markdown_table(header, settings_rows(200, 32, 20, repeats=21)))
    if args.largest:
        print(
            "\nLargest settings: n = 10 000, batch size 1, 100 epochs (a million updates a run).\n"
        )
        print(markdown_table(header, settings_rows(10_000, 1, 100, repeats=1)))


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - started:.0f} s in all)")
