"""The classroom's storage: pure Python (never imports streamlit or plotly).

A teacher makes a class (a short code students type, a secret teacher key), asks one question
at a time; students (anonymous browser sessions) answer; the teacher sees the counts and
reveals. `open_store` gives the process's `Store` (SQLite by default, PostgreSQL through
``CLASS_DB_URL``); `codes` makes the codes and keys.

Example:
    >>> format_code("K7QM4X"), normalise_code("k7q-m4x")
    ('K7Q-M4X', 'K7QM4X')
"""

from classroom.codes import format_code, normalise_code
from classroom.store import (
    DEFAULT_HOURS,
    DEFAULT_PATH,
    MAX_CHANGES,
    MAX_CLASSES,
    MAX_HOURS,
    MAX_NUMBER,
    MAX_OPTIONS,
    MIN_HOURS,
    MIN_OPTIONS,
    Asked,
    NotSaved,
    Question,
    Refused,
    Room,
    Store,
    Tally,
    open_store,
)

__all__ = [
    "DEFAULT_HOURS",
    "DEFAULT_PATH",
    "MAX_CHANGES",
    "MAX_CLASSES",
    "MAX_HOURS",
    "MAX_NUMBER",
    "MAX_OPTIONS",
    "MIN_HOURS",
    "MIN_OPTIONS",
    "Asked",
    "NotSaved",
    "Question",
    "Refused",
    "Room",
    "Store",
    "Tally",
    "format_code",
    "normalise_code",
    "open_store",
]
