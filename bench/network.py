"""The network's speed: ``gd.models.MLP`` compiled against its NumPy reference, in one run.

Two measurements of issue 18, each a ratio with both sides timed in this one process after
``gd._kernels.warm_up()``:

* Training: n = 1 000 rows of ``gd.datasets.curve``, 16 tanh units, batch size 1, 100 epochs
  (100 000 updates): ``gd._kernels.train_loop`` against ``gd.loop.train_loop`` on the same row
  orders (the target is at most 100 ms compiled), and the whole ``gd.fit`` call, which also
  scores the full loss at up to ``gd.fit.LOSS_BUDGET / n`` kept points.
* The drawn plane: 80 × 80 cells at n = 1 000 (the target is at most 150 ms): the compiled
  ``MLP.plane_losses`` against the exact compiled ``losses`` of the same points and against
  NumPy.

    python bench/network.py               # the "Network" section of docs/benchmarks.md
    python bench/network.py --repeats 3   # quicker, noisier
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gd
from bench.engine import machine, median_ms, ms
from bench.stats import markdown_table
from gd import _kernels, engine
from gd.fit import row_orders
from gd.loop import train_loop

N, HIDDEN, EPOCHS = 1000, 16, 100
AXIS = np.linspace(-2.0, 2.0, 80)  # each axis of the plane: 80 × 80 cells
OPT = gd.SGD(learning_rate=0.01, momentum=0.9)


def numpy_engine(call):
    """``call`` with ``gd.engine`` as if numba were missing: the NumPy reference."""
    saved, engine.compiled = engine.compiled, None
    try:
        return call()
    finally:
        engine.compiled = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timings per figure (median)")
    repeats = parser.parse_args().repeats
    _kernels.warm_up()
    data = gd.datasets.curve(N, "sine", seed=0)
    x, y = data.x[:, None], data.y  # (N, 1), (N,)
    rows = []
    for activation in ("tanh", "relu"):
        model = gd.models.MLP(hidden=HIDDEN, activation=activation)
        start, order = model.init_params(1), row_orders(N, EPOCHS, True, 0)
        args = (model, x, y, order, 1, OPT, start, 1e12)
        compiled = median_ms(lambda args=args: _kernels.train_loop(*args), repeats)
        reference = median_ms(lambda args=args: train_loop(*args), max(1, repeats // 3))
        whole = median_ms(
            lambda model=model: gd.fit(model, x, y, OPT, gd.Training(epochs=EPOCHS), batch_size=1),
            repeats,
        )
        rows.append(
            [
                f"train loop, {activation}",
                ms(compiled),
                ms(reference),
                f"{reference / compiled:.0f}×",
            ]
        )
        rows.append([f"whole gd.fit, {activation}", ms(whole), "", ""])
        basis = np.random.default_rng(0).normal(size=(3, model.n_params(1))) * 0.5
        drawn = median_ms(lambda m=model, b=basis: m.plane_losses(x, y, b, AXIS, AXIS), repeats)
        exact = median_ms(
            lambda m=model, b=basis: gd.models.Model.plane_losses(m, x, y, b, AXIS, AXIS),
            max(1, repeats // 3),
        )
        slow = numpy_engine(
            lambda m=model, b=basis: median_ms(lambda: m.plane_losses(x, y, b, AXIS, AXIS), 1)
        )
        rows.append(
            [
                f"plane 80×80, {activation}: exact compiled",
                ms(drawn),
                ms(exact),
                f"{exact / drawn:.1f}×",
            ]
        )
        rows.append(
            [f"plane 80×80, {activation}: NumPy", ms(drawn), ms(slow), f"{slow / drawn:.0f}×"]
        )
    print(f"Machine: {machine()}\n")
    print(f"`--repeats {repeats}`; milliseconds, medians.\n")
    print(markdown_table(["what", "compiled (ms)", "against (ms)", "ratio"], rows))


if __name__ == "__main__":
    main()
