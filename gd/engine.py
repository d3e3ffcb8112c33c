"""Which engine runs the loops: numba's kernels when numba is installed, else the NumPy reference.

This is the one place that decides. ``gd.fit``, ``gd.sweep`` and ``gd.family`` ask ``kernels()``
and ``loop()``; a test that wants the no-numba path sets ``gd.engine.compiled = None``.

A server that compiles the kernels in a background thread says so with ``defer()``: until
``mark_ready()``, "auto" runs the NumPy reference (the same numbers), so the first requests need
not wait for a cold compile (``_kernels.COMPILE_SECONDS``); "numba" still asks for the kernels.
Both are thread-safe (one ``threading.Event``); ``wait_ready`` blocks until the kernels are ready.

Example:
    >>> from gd.loop import train_loop
    >>> loop("numpy") is train_loop
    True
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Literal

from gd.loop import train_loop
from gd.validation import check_choice

try:
    from gd import _kernels as compiled
except ImportError:  # numba is missing: the NumPy reference serves alone, with the same numbers.
    compiled = None

Engine = Literal["auto", "numba", "numpy"]
_ready = threading.Event()  # set: "auto" may use the compiled kernels
_ready.set()


def defer() -> None:
    """The compiled kernels are not ready yet: "auto" runs the NumPy reference until
    ``mark_ready()``.

    Example:
        >>> defer(); kernels("auto") is None
        True
        >>> mark_ready(); kernels("auto") is compiled
        True
    """
    _ready.clear()


def mark_ready() -> None:
    """The compiled kernels are ready: "auto" uses them again (see ``defer``)."""
    _ready.set()


def ready() -> bool:
    """False between ``defer()`` and ``mark_ready()``."""
    return _ready.is_set()


def wait_ready(timeout: float | None = None) -> bool:
    """Block until the kernels are ready (or ``timeout`` seconds pass); True if they are."""
    return _ready.wait(timeout)


def kernels(engine: Engine = "auto") -> ModuleType | None:
    """The compiled kernels for ``engine``, or None where the NumPy reference should run."""
    check_choice("engine", engine, ("auto", "numba", "numpy"))
    if engine == "numpy" or (engine == "auto" and not _ready.is_set()):
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
