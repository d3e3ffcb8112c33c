"""Which engine runs the loops: numba's kernels when numba is installed, else the NumPy reference.

This is the one place that decides. ``gd.fit``, ``gd.sweep`` and ``gd.family`` ask ``kernels()``
and ``loop()``; a test that wants the no-numba path sets ``gd.engine.compiled = None``.

Example:
    >>> from gd.loop import train_loop
    >>> loop("numpy") is train_loop
    True
"""

from __future__ import annotations

from types import ModuleType
from typing import Literal

from gd.loop import train_loop
from gd.validation import check_choice

try:
    from gd import _kernels as compiled
except ImportError:  # numba is missing: the NumPy reference serves alone, with the same numbers.
    compiled = None

Engine = Literal["auto", "numba", "numpy"]


def kernels(engine: Engine = "auto") -> ModuleType | None:
    """The compiled kernels for ``engine``, or None where the NumPy reference should run."""
    check_choice("engine", engine, ("auto", "numba", "numpy"))
    if engine == "numpy":
        return None
    if engine == "numba" and compiled is None:
        raise ValueError(
            "engine='numba' needs the numba package; install it or use engine='numpy'."
        )
    return compiled


def loop(engine: Engine = "auto"):
    """The training loop for ``engine``: ``gd._kernels.train_loop`` or ``gd.loop.train_loop``."""
    chosen = kernels(engine)
    return train_loop if chosen is None else chosen.train_loop
