"""Summary statistics and markdown output shared by the bench scripts.

Example:
    >>> summarize([0.010, 0.020, 0.030, 0.040])
    Summary(n=4, median_ms=25.0, p95_ms=40.0, max_ms=40.0)
    >>> summarize([]).median_ms is None
    True
"""

from __future__ import annotations

import math
import os
import statistics
from typing import NamedTuple


class Summary(NamedTuple):
    """Latency summary of a list of samples, in milliseconds (None when there are none)."""

    n: int
    median_ms: float | None
    p95_ms: float | None
    max_ms: float | None


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100]) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(seconds: list[float]) -> Summary:
    """n, median, p95 and max of durations given in seconds, reported in milliseconds."""
    if not seconds:
        return Summary(0, None, None, None)
    ms = [s * 1000 for s in seconds]
    return Summary(len(ms), statistics.median(ms), percentile(ms, 95), max(ms))


def fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A GitHub-flavoured markdown table; floats are printed with one decimal."""

    def cell(v: object) -> str:
        return fmt(v) if isinstance(v, float) or v is None else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_note() -> str:
    """A line on how busy the machine was: other work on its cores inflates every timing."""
    load1, _, _ = os.getloadavg()
    cores = os.cpu_count() or 1
    busy = " BUSY: timings are inflated, rerun when idle" if load1 > 0.5 * cores else ""
    return f"machine: {cores} cores, load average {load1:.1f} before the run{busy}"
