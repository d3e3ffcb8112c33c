"""The one cost model of every page that shows compute time: a fixed cost per update plus a
cost per row, timed once per model and server process (``cost_model``), the machine it was
timed on, and the sentence that says so. Moved out of ``ui.cache``, which caches ``gd``'s runs.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import numpy as np
import streamlit as st

import gd
from gd.critical import StepCost, time_steps
from ui.models import MODELS

# The cost model is timed on this many synthetic rows at these batch sizes: small enough to
# take a fraction of a second once per model and process, large enough to see a cost per row.
COST_ROWS = 1024
COST_SIZES = (1, 8, 64, 512, 1024)


def machine() -> str:
    """The processor and core count the timings were measured on."""
    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            name = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass  # not Linux: platform's answer stands
    return f"{name}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


@dataclass(frozen=True)
class CostModel:
    """The one cost model of every page that shows compute time: ``cost.fixed_ms`` per update
    plus ``cost.per_row_ms`` per row of its batch, as a framework pays it, and what was timed.

    Example:
        >>> model = CostModel(StepCost(0.02, 0.001), "Linear regression", 1024, (1, 1024), "x")
        >>> round(float(model.ms(updates=10, samples=100)), 6)   # 10 × 0.02 + 100 × 0.001
        0.3
    """

    cost: StepCost
    model: str  # the model's label
    rows: int  # synthetic training rows timed
    sizes: tuple[int, ...]  # batch sizes timed
    machine: str

    def ms(self, updates, samples):
        """Milliseconds for ``updates`` updates that read ``samples`` rows in all."""
        return self.cost.fixed_ms * np.asarray(updates, dtype=float) + (
            self.cost.per_row_ms * np.asarray(samples, dtype=float)
        )

    def ms_per_epoch(self, batch_size: int, n_train: int) -> float:
        """⌈n/B⌉ updates and n rows: one epoch's milliseconds."""
        return float(self.ms(gd.rules.batches_per_epoch(n_train, batch_size), n_train))


@st.cache_resource(show_spinner="Timing one update at several batch sizes (once)…")
def cost_model(model_name: str) -> CostModel:
    """``gd.critical.time_steps`` on ``COST_ROWS`` synthetic rows of the model at
    ``COST_SIZES``: measured once per model and server process, whatever the settings (a step's
    cost depends on its batch, not on the data set), so no page times anything per request."""
    spec = MODELS[model_name]
    data = spec.generator(n=COST_ROWS, seed=0)
    cost = time_steps(spec.build(), data.x, data.y, COST_SIZES)
    return CostModel(cost, spec.label, COST_ROWS, COST_SIZES, machine())


def cost_sentence(model: CostModel) -> str:
    """What the cost model says, what was timed, and on what.

    Example:
        >>> print(cost_sentence(CostModel(StepCost(0.02, 0.0), "Linear regression", 1024,
        ...                                (1, 1024), "a CPU")))  # doctest: +NORMALIZE_WHITESPACE
        Time = updates × 20 µs + rows read × a cost per row too small to measure next to it.
        Timed once on this server (a CPU): `gd.fit`'s NumPy loop, 1 and 2 epochs of 1024
        synthetic rows of the Linear regression model at batch sizes 1 and 1024, best of 3,
        split by least squares into a fixed cost per update and a cost per row. A framework
        pays for a step the same way (Keras and PyTorch: Python and a kernel launch per step);
        the compiled loop that trains these runs removes most of the fixed cost, so it would
        not show what you will meet. Your machine's numbers will differ; their ratios less.
    """
    cost = model.cost
    per_row = (
        f"{1000 * cost.per_row_ms:.3g} µs"
        if cost.per_row_ms > 0
        else "a cost per row too small to measure next to it"
    )
    sizes = ", ".join(str(b) for b in model.sizes[:-1]) + f" and {model.sizes[-1]}"
    return (
        f"Time = updates × {1000 * cost.fixed_ms:.3g} µs + rows read × {per_row}. Timed once "
        f"on this server ({model.machine}): `gd.fit`'s NumPy loop, 1 and 2 epochs of "
        f"{model.rows} synthetic rows of the {model.model} model at batch sizes {sizes}, "
        "best of 3, split by least squares into a fixed cost per update and a cost per row. "
        "A framework pays for a step the same way (Keras and PyTorch: Python and a kernel "
        "launch per step); the compiled loop that trains these runs removes most of the fixed "
        "cost, so it would not show what you will meet. Your machine's numbers will differ; "
        "their ratios less."
    )
