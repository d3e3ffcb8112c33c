"""The classroom's storage: classes, their questions and the students' answers.

SQLite by default (one file, several processes on one machine), PostgreSQL through psycopg 3
and a small connection pool when the class outgrows a machine. The schema and its migrations
live here, in one ordered list applied at open. Nothing here knows a page exists: the UI holds
one `Store` per process (`open_store`) and turns `NotSaved` and `Refused` into sentences.

Every method is safe to call from many threads at once: SQLite hands each call its own
connection (a small stack of idle ones is kept), PostgreSQL takes one from the pool.

Example:
    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> store = open_store(f"sqlite:///{folder}/classroom.sqlite3")
    >>> room, key = store.create("{}", Question("Which batch size?", ("1", "32", "200"), 2))
    >>> asked = store.asked(room.code)
    >>> store.answer(room.code, asked.id, "session-a", 2)
    >>> store.answer(room.code, asked.id, "session-b", 0)
    >>> store.tally(room.code, asked.id)
    Tally(answers=2, counts=(1, 0, 1), values=())
    >>> store.is_teacher(format_code(room.code).lower(), key), store.is_teacher(room.code, "guess")
    (True, False)
    >>> store.close()
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from classroom.codes import format_code, hash_key, key_matches, new_code, new_key, normalise_code

# ---------------------------------------------------------------- limits and defaults

MAX_CLASSES = 500  # open (unexpired) classes per server; read at each `create`
MAX_CHANGES = 20  # changes of answer per session per question (the first answer is free)
MIN_HOURS = 0.25  # how long a class lasts: 15 minutes ...
MAX_HOURS = 168  # ... to a week
DEFAULT_HOURS = 24
MIN_OPTIONS = 2  # a multiple-choice question's options; () makes a number question
MAX_OPTIONS = 5
MAX_TEXT = 300  # characters of a question
MAX_OPTION_TEXT = 80  # characters of an option
MAX_VIEW = 8000  # characters of a class's view (the UI's JSON)
MAX_SESSION = 64  # characters of a session id
MAX_NUMBER = 1e12  # the largest answer to a number question, either sign: a chart can bin it
PURGE_AFTER = 24 * 3600.0  # a class expired this long ago is deleted, with its answers
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "classroom.sqlite3"
SQLITE_TIMEOUT = 5.0  # seconds a write waits for another process's write (busy timeout)
POSTGRES_TIMEOUT = 3.0  # seconds a call waits for a pooled connection, or for a row lock

# What a refusal says (the UI shows str(error) as it is).
MOVED_ON = "The teacher has moved on to the next question."
REVEALED = "The answers are revealed; yours is kept as it was."
ENDED = "This class has ended, or its code is unknown."


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class Question:
    """A question for the class: multiple choice (2–5 options) or a number (no options)."""

    text: str
    options: tuple[str, ...] = ()  # 2–5 options: multiple choice; (): a number question
    answer: float | None = None  # the right option's index, or the right number; None: not given


@dataclass(frozen=True)
class Room:
    """A class: its canonical code, the UI's view of it, and when it was made and ends."""

    code: str  # canonical, e.g. "K7QM4X"; format_code gives "K7Q-M4X"
    view: str  # opaque JSON text from the UI, at most MAX_VIEW characters
    created: float  # unix seconds
    expires: float  # unix seconds


@dataclass(frozen=True)
class Asked:
    """A question as asked in a class: its id, whether it is revealed, and when it was asked."""

    id: int
    question: Question
    revealed: bool
    asked: float


@dataclass(frozen=True)
class Tally:
    """The answers to one question, counted."""

    answers: int  # distinct sessions that answered
    counts: tuple[int, ...]  # per option, for multiple choice; () for a number question
    values: tuple[float, ...]  # sorted answers, for a number question; () for multiple choice


class NotSaved(Exception):
    """The database could not be reached, or the write failed: nothing changed; try again."""


class Refused(ValueError):
    """A rule said no (a limit, a revealed or old question, a bad value); str(e) says which."""


# ---------------------------------------------------------------- validation (the boundary)


def _number(value: Any) -> float | None:
    """`value` as a float if it is a real number (not a bool, not text), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def check_question(question: Question | None) -> None:
    """Raise Refused, with a sentence, unless `question` can be asked (None always can).

    Example:
        >>> check_question(Question("Which?", ("a", "b", "c", "d", "e", "f")))
        Traceback (most recent call last):
        ...
        classroom.store.Refused: The question needs 2 to 5 options. Got 6 instead.
    """
    if question is None:
        return
    if not isinstance(question, Question):
        raise Refused(f"The question must be a Question. Got {type(question).__name__} instead.")
    text = question.text if isinstance(question.text, str) else ""
    if not text.strip() or len(text) > MAX_TEXT:
        got = len(text) if text.strip() else 0
        raise Refused(
            f"The question's text must have 1 to {MAX_TEXT} characters. Got {got} instead."
        )
    options = question.options
    if not isinstance(options, tuple) or not all(isinstance(o, str) for o in options):
        raise Refused("The question's options must be a tuple of texts.")
    if options and not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise Refused(
            f"The question needs {MIN_OPTIONS} to {MAX_OPTIONS} options. "
            f"Got {len(options)} instead."
        )
    for number, option in enumerate(options, start=1):
        if not option.strip() or len(option) > MAX_OPTION_TEXT:
            raise Refused(
                f"Option {number} must have 1 to {MAX_OPTION_TEXT} characters. "
                f"Got {len(option) if option.strip() else 0} instead."
            )
    if question.answer is None:
        return
    answer = _number(question.answer)
    if options and (answer is None or not answer.is_integer() or not 0 <= answer < len(options)):
        raise Refused(
            f"The right answer must be an option's index, from 0 to {len(options) - 1}. "
            f"Got {question.answer!r} instead."
        )
    if answer is None or not math.isfinite(answer):
        raise Refused(f"The right answer must be a finite number. Got {question.answer!r} instead.")


def _check_view(view: Any) -> None:
    if not isinstance(view, str) or len(view) > MAX_VIEW:
        got = len(view) if isinstance(view, str) else type(view).__name__
        raise Refused(f"The class's view must be text of at most {MAX_VIEW} characters. Got {got}.")


def _check_hours(hours: Any) -> float:
    value = _number(hours)
    if value is None or not MIN_HOURS <= value <= MAX_HOURS:
        raise Refused(
            f"The 'hours' parameter must be in [{MIN_HOURS:g}, {MAX_HOURS}]. Got {hours!r} instead."
        )
    return value


# ---------------------------------------------------------------- schema and migrations

# Each step is a list of statements, applied in order, once; schema_version records the last.
# Never edit a step that has shipped: append a new one. `{id}` is the dialect's auto id.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the three tables. No names of people: a session is an anonymous random id.
    (
        """CREATE TABLE classes (
            code TEXT PRIMARY KEY,
            key_hash TEXT NOT NULL,
            view TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL,
            expires DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE questions (
            id {id},
            class TEXT NOT NULL REFERENCES classes (code) ON DELETE CASCADE,
            text TEXT NOT NULL,
            options TEXT NOT NULL,
            answer DOUBLE PRECISION,
            asked DOUBLE PRECISION NOT NULL,
            revealed INTEGER NOT NULL DEFAULT 0)""",
        "CREATE INDEX questions_by_class ON questions (class, id)",
        """CREATE TABLE answers (
            question BIGINT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
            session TEXT NOT NULL,
            value DOUBLE PRECISION NOT NULL,
            changes INTEGER NOT NULL DEFAULT 0,
            at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (question, session))""",
    ),
    # 2: a class names its current question, so a teacher can clear it (until now: the
    # latest asked); the open classes are counted by expiry, and a tally groups by value.
    (
        "ALTER TABLE classes ADD COLUMN current_question BIGINT",
        """UPDATE classes SET current_question =
            (SELECT max(id) FROM questions WHERE questions.class = classes.code)""",
        "CREATE INDEX classes_by_expiry ON classes (expires)",
        "CREATE INDEX answers_by_value ON answers (question, value)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_SCHEMA_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, applied DOUBLE PRECISION NOT NULL)"""

# PostgreSQL advisory locks (any two fixed numbers): one migration, one create at a time.
_SCHEMA_LOCK, _CREATE_LOCK = 0x636C6173, 0x636C6174

Run = Callable[..., Any]  # run(sql, params=()) -> a cursor; `?` marks a parameter


# ---------------------------------------------------------------- the two databases


class _SQLite:
    """SQLite in WAL mode: readers never wait; one writer at a time, others wait `timeout`."""

    dialect = "sqlite"
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    share = update = ""  # BEGIN IMMEDIATE already serialises every write transaction
    auto_id = "INTEGER PRIMARY KEY AUTOINCREMENT"  # ids never reused after a purge
    KEEP = 4  # idle connections kept for the next call

    def __init__(self, path: Path, timeout: float) -> None:
        self.path, self.timeout = path, timeout
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def url(self) -> str:
        return f"sqlite://{self.path}"

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun explicitly below. Used by one thread at
        # a time, but returned to the stack for another: check_same_thread=False.
        conn = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")  # stored in the file; readers never block
        conn.execute("PRAGMA synchronous = NORMAL")  # with WAL: safe against a process crash
        conn.execute("PRAGMA foreign_keys = ON")  # per connection: purges cascade
        return conn

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Run]:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("The store is closed.")
            conn = self._idle.pop() if self._idle else None
        conn = conn or self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn.execute
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.rollback()
        finally:
            self._give_back(conn)

    def _give_back(self, conn: sqlite3.Connection) -> None:
        """Keep a clean connection for the next call (up to KEEP of them); close the rest."""
        with self._lock:
            if not self._closed and not conn.in_transaction and len(self._idle) < self.KEEP:
                self._idle.append(conn)
                return
        conn.close()

    def lock(self, run: Run, key: int) -> None:
        """Nothing to do: a write transaction (BEGIN IMMEDIATE) already excludes the others."""

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _Postgres:
    """PostgreSQL through a psycopg_pool.ConnectionPool of 1 to 4 connections."""

    dialect = "postgresql"
    share, update = " FOR SHARE", " FOR UPDATE"  # a reveal or ask waits for answers in flight
    auto_id = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

    def __init__(self, url: str, timeout: float) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

        self._url = url
        self.errors = (psycopg.Error, PoolTimeout, PoolClosed)
        lock_ms = int(timeout * 1000)
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=4,
            timeout=timeout,  # waiting for a connection longer than this: NotSaved
            # A connection is checked as it leaves the pool, so one that a restarted
            # server dropped is replaced instead of failing the call.
            check=ConnectionPool.check_connection,
            # The pool retries a lost server with a doubling delay (1, 2, 4 ... s) until
            # reconnect_timeout, then gives up until the next call asks again: kept this
            # short, a server that came back is reached within `timeout` of a call.
            reconnect_timeout=timeout,
            kwargs={
                "connect_timeout": max(1, math.ceil(timeout)),
                # A row lock held too long, or a statement that hangs: an error, not a wait.
                "options": f"-c lock_timeout={lock_ms} -c statement_timeout={4 * lock_ms}",
            },
            name="classroom",
            open=True,
        )

    def url(self) -> str:
        parts = urlsplit(self._url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"  # no user, no password

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Run]:
        # The pool commits on a clean exit and rolls back on an exception.
        with self.pool.connection() as conn:

            def run(sql: str, params: Sequence[Any] = ()) -> Any:
                return conn.execute(sql.replace("?", "%s"), params)

            yield run

    def lock(self, run: Run, key: int) -> None:
        """Hold advisory lock `key` until the transaction ends."""
        run("SELECT pg_advisory_xact_lock(?)", (key,))

    def close(self) -> None:
        self.pool.close()


# ---------------------------------------------------------------- the store


class Store:
    """Classes, questions and answers in one database; make one with `open_store`."""

    def __init__(self, backend: _SQLite | _Postgres) -> None:
        self._db = backend

    def __repr__(self) -> str:
        return f"Store({self._db.url()!r})"

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Run]:
        """A transaction; any database error becomes NotSaved (nothing of it was kept)."""
        try:
            with self._db.transaction(write) as run:
                yield run
        except self._db.errors as error:
            raise NotSaved(f"The classroom database did not answer: {error}") from error

    def _migrate(self, up_to: int = SCHEMA_VERSION) -> None:
        """Apply the missing migration steps, once, even if two processes open at once."""
        with self._transaction(write=True) as run:
            self._db.lock(run, _SCHEMA_LOCK)
            run(_SCHEMA_TABLE)
            (version,) = run("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"The classroom database has schema version {version}, newer than this "
                    f"app's {SCHEMA_VERSION}; update the app."
                )
            for number in range(version + 1, up_to + 1):
                for statement in MIGRATIONS[number - 1]:
                    run(statement.format(id=self._db.auto_id))
                run(
                    "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
                    (number, time.time()),
                )

    def schema_version(self) -> int:
        """The last migration step applied to this database."""
        with self._transaction() as run:
            return run("SELECT max(version) FROM schema_version").fetchone()[0]

    # ------------------------------------------------------------ classes

    def create(
        self,
        view: str,
        question: Question | None,
        hours: float = DEFAULT_HOURS,
        now: float | None = None,
    ) -> tuple[Room, str]:
        """Make a new class, and ask its first question if one is given.

        Args:
            view: the UI's JSON for the class (page, settings, knobs), at most 8000 characters.
            question: the first question, or None.
            hours: how long the class lasts, in [MIN_HOURS, MAX_HOURS].
            now: the time, in unix seconds (default: the clock).

        Returns:
            The class and its teacher key. The key is shown once: only its hash is stored.

        Raises:
            Refused: a bad view, question or duration, or MAX_CLASSES classes already open.
            NotSaved: the database did not answer.
        """
        _check_view(view)
        check_question(question)
        seconds = _check_hours(hours) * 3600.0
        now = time.time() if now is None else float(now)
        key = new_key()
        with self._transaction(write=True) as run:
            self._db.lock(run, _CREATE_LOCK)  # the count below stays true until the insert
            run("DELETE FROM classes WHERE expires < ?", (now - PURGE_AFTER,))
            (open_classes,) = run(
                "SELECT count(*) FROM classes WHERE expires > ?", (now,)
            ).fetchone()
            if open_classes >= MAX_CLASSES:
                raise Refused(
                    f"This server already has {open_classes} open classes, its limit of "
                    f"{MAX_CLASSES}. Try again when one has ended."
                )
            while True:  # a collision is rare (500 of 729 million codes): draw again
                code = new_code()
                inserted = run(
                    "INSERT INTO classes (code, key_hash, view, created, expires) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING RETURNING code",
                    (code, hash_key(key), view, now, now + seconds),
                ).fetchone()
                if inserted is not None:
                    break
            if question is not None:
                self._insert_question(run, code, question, now)
        return Room(code, view, now, now + seconds), key

    def room(self, code: str, now: float | None = None) -> Room | None:
        """The class for a code as typed (any case, spaces or dashes ignored).

        Returns None when the code is unknown, malformed or its class has expired.
        """
        return self.state(code, now)[0]

    def is_teacher(self, code: str, key: str, now: float | None = None) -> bool:
        """Whether `key` is the teacher key of the class (False: unknown/expired class, wrong key).

        The key's hash is compared in constant time (hmac.compare_digest), an unknown class
        against a dummy hash, so the time taken says nothing about the key.
        """
        code = normalise_code(code)
        now = time.time() if now is None else float(now)
        stored = None
        if code is not None:
            with self._transaction() as run:
                row = run(
                    "SELECT key_hash FROM classes WHERE code = ? AND expires > ?", (code, now)
                ).fetchone()
            stored = None if row is None else row[0]
        return key_matches(key, stored)

    def _teacher(self, run: Run, code: str | None, key: str, now: float) -> None:
        """Lock the class for this transaction, or raise PermissionError without its key."""
        row = None
        if code is not None:
            row = run(
                f"SELECT key_hash FROM classes WHERE code = ? AND expires > ?{self._db.update}",
                (code, now),
            ).fetchone()
        if not key_matches(key, None if row is None else row[0]):
            shown = format_code(code) if code else "unknown"
            raise PermissionError(f"This key is not the teacher key of class {shown}.")

    # ------------------------------------------------------------ questions

    def _insert_question(self, run: Run, code: str, question: Question, now: float) -> Asked:
        options = json.dumps(list(question.options), ensure_ascii=False)
        answer = None if question.answer is None else float(question.answer)
        (question_id,) = run(
            "INSERT INTO questions (class, text, options, answer, asked, revealed) "
            "VALUES (?, ?, ?, ?, ?, 0) RETURNING id",
            (code, question.text, options, answer, now),
        ).fetchone()
        run("UPDATE classes SET current_question = ? WHERE code = ?", (question_id, code))
        return Asked(question_id, question, False, now)

    def asked(self, code: str) -> Asked | None:
        """The class's current question (the latest asked), or None: none, or it was cleared."""
        code = normalise_code(code)
        if code is None:
            return None
        with self._transaction() as run:
            return self._asked(run, code)

    @staticmethod
    def _asked(run: Run, code: str) -> Asked | None:
        row = run(
            "SELECT q.id, q.text, q.options, q.answer, q.revealed, q.asked "
            "FROM classes c JOIN questions q ON q.id = c.current_question WHERE c.code = ?",
            (code,),
        ).fetchone()
        if row is None:
            return None
        question_id, text, options, answer, revealed, asked = row
        question = Question(text, tuple(json.loads(options)), answer)
        return Asked(question_id, question, bool(revealed), asked)

    def state(self, code: str, now: float | None = None) -> tuple[Room | None, Asked | None]:
        """The class and its current question, read together in one transaction: a question
        asked with its own run (``ask(view=…)``) is never seen with the old run.

        Returns (None, None) when the code is unknown, malformed or its class has expired.
        """
        code = normalise_code(code)
        if code is None:
            return None, None
        now = time.time() if now is None else float(now)
        with self._transaction() as run:
            row = run(
                "SELECT code, view, created, expires FROM classes WHERE code = ? AND expires > ?",
                (code, now),
            ).fetchone()
            if row is None:
                return None, None
            return Room(*row), self._asked(run, code)

    def ask(
        self,
        code: str,
        key: str,
        question: Question | None,
        now: float | None = None,
        view: str | None = None,
    ) -> Asked | None:
        """The teacher's reset for the next question: it becomes the current one.

        The answers to earlier questions stay stored, no longer current. None clears the
        question (`asked` returns None until the next). A ``view`` replaces the class's view
        in the same transaction (a question that brings its own run), so no student sees
        the new question with the old run.

        Raises:
            PermissionError: `key` is not the class's teacher key (or the class has ended).
            Refused: the question cannot be asked (see `check_question`).
            NotSaved: the database did not answer.
        """
        check_question(question)
        if view is not None:
            _check_view(view)
        code = normalise_code(code)
        now = time.time() if now is None else float(now)
        with self._transaction(write=True) as run:
            self._teacher(run, code, key, now)
            if view is not None:
                run("UPDATE classes SET view = ? WHERE code = ?", (view, code))
            if question is None:
                run("UPDATE classes SET current_question = NULL WHERE code = ?", (code,))
                return None
            return self._insert_question(run, code, question, now)

    def reveal(self, code: str, key: str, question_id: int, now: float | None = None) -> None:
        """Reveal a question's answers to the class; answers to it are closed from now on.

        Raises:
            PermissionError: `key` is not the class's teacher key (or the class has ended).
            Refused: the class has no such question.
            NotSaved: the database did not answer.
        """
        code = normalise_code(code)
        now = time.time() if now is None else float(now)
        with self._transaction(write=True) as run:
            self._teacher(run, code, key, now)
            row = run(
                "UPDATE questions SET revealed = 1 WHERE id = ? AND class = ? RETURNING id",
                (question_id, code),
            ).fetchone()
            if row is None:
                raise Refused(f"Class {format_code(code)} has no question {question_id!r}.")

    # ------------------------------------------------------------ answers

    def answer(
        self, code: str, question_id: int, session: str, value: float, now: float | None = None
    ) -> None:
        """Record or change this session's answer to the class's current question.

        One row per session per question: answering again replaces the value. Sending the
        same value again changes nothing and does not count as a change.

        Args:
            code: the class's code, as typed.
            question_id: the question the student sees; it must still be the current one.
            session: the browser session's anonymous id (1 to 64 characters).
            value: an option's index (0, 1, ...), or a finite number for a number question.
            now: the time, in unix seconds (default: the clock).

        Raises:
            Refused: the class has ended, the question is no longer current or is revealed,
                the value is not an option or not within ±MAX_NUMBER, the session changed its answer
                MAX_CHANGES times already, or the session id is too long.
            NotSaved: the database did not answer (nothing changed).
        """
        if not isinstance(session, str) or not 1 <= len(session) <= MAX_SESSION:
            got = len(session) if isinstance(session, str) else type(session).__name__
            raise Refused(f"The session id must have 1 to {MAX_SESSION} characters. Got {got}.")
        number = _number(value)
        if number is None or not abs(number) <= MAX_NUMBER:  # NaN fails too
            raise Refused(
                f"The answer must be a number between -{MAX_NUMBER:g} and {MAX_NUMBER:g}. "
                f"Got {value!r} instead."
            )
        code = normalise_code(code)
        if code is None:
            raise Refused(ENDED)
        now = time.time() if now is None else float(now)
        with self._transaction(write=True) as run:
            # FOR SHARE (PostgreSQL): a reveal or the next question waits for this answer.
            row = run(
                f"SELECT current_question FROM classes WHERE code = ? AND expires > ?"
                f"{self._db.share}",
                (code, now),
            ).fetchone()
            if row is None:
                raise Refused(ENDED)
            if row[0] is None or row[0] != question_id:
                raise Refused(MOVED_ON)
            options, revealed = run(
                "SELECT options, revealed FROM questions WHERE id = ?", (question_id,)
            ).fetchone()
            if revealed:
                raise Refused(REVEALED)
            count = len(json.loads(options))
            if count and not (number.is_integer() and 0 <= number < count):
                raise Refused(
                    f"The answer must be an option's index, from 0 to {count - 1}. "
                    f"Got {value!r} instead."
                )
            # Atomic, in one statement: insert, or replace the value while the changes last.
            changed = run(
                "INSERT INTO answers (question, session, value, changes, at) "
                "VALUES (?, ?, ?, 0, ?) ON CONFLICT (question, session) DO UPDATE SET "
                "value = excluded.value, at = excluded.at, changes = answers.changes + "
                "CASE WHEN answers.value = excluded.value THEN 0 ELSE 1 END "
                "WHERE answers.changes < ? OR answers.value = excluded.value RETURNING changes",
                (question_id, session, number, now, MAX_CHANGES),
            ).fetchone()
            if changed is None:
                raise Refused(
                    f"You have changed your answer {MAX_CHANGES} times, the limit; "
                    "it stays as it was."
                )

    def mine(self, code: str, question_id: int, session: str) -> float | None:
        """This session's answer to a question of the class, or None if it has not answered."""
        code = normalise_code(code)
        if code is None:
            return None
        with self._transaction() as run:
            row = run(
                "SELECT a.value FROM answers a JOIN questions q ON q.id = a.question "
                "WHERE a.question = ? AND q.class = ? AND a.session = ?",
                (question_id, code, session),
            ).fetchone()
        return None if row is None else row[0]

    def tally(self, code: str, question_id: int) -> Tally:
        """The answers to a question of the class, counted (all zero for an unknown question)."""
        code = normalise_code(code)
        if code is None:
            return Tally(0, (), ())
        with self._transaction() as run:
            row = run(
                "SELECT options FROM questions WHERE id = ? AND class = ?", (question_id, code)
            ).fetchone()
            if row is None:
                return Tally(0, (), ())
            count = len(json.loads(row[0]))
            if count:
                groups = run(
                    "SELECT value, count(*) FROM answers WHERE question = ? GROUP BY value",
                    (question_id,),
                ).fetchall()
                counts = [0] * count
                for value, n in groups:
                    counts[int(value)] += n
                return Tally(sum(counts), tuple(counts), ())
            values = run(
                "SELECT value FROM answers WHERE question = ? ORDER BY value", (question_id,)
            ).fetchall()
            return Tally(len(values), (), tuple(float(v) for (v,) in values))

    def close(self) -> None:
        """Close every connection (the store cannot be used afterwards)."""
        self._db.close()


def open_store(
    url: str | None = None, *, timeout: float | None = None, schema_version: int | None = None
) -> Store:
    """Open the classroom's database, creating or migrating its schema.

    Args:
        url: 'sqlite:///ABSOLUTE/PATH.sqlite3', or 'postgresql://user:pass@host:port/db'
            (also 'postgres://'). None: the environment's CLASS_DB_URL, else SQLite at
            DEFAULT_PATH (<repo root>/data/classroom.sqlite3; its folder is created).
        timeout: seconds a call waits before NotSaved: SQLite's busy timeout (another write
            holds the file; default 5), PostgreSQL's wait for a pooled connection or a row
            lock (default 3).
        schema_version: migrate only up to this step (for tests of the migrations).

    Returns:
        A Store, safe to share between the threads of a process: open one per process.

    Raises:
        NotSaved: the database could not be reached (PostgreSQL) or opened.
        ValueError: the URL names neither SQLite nor PostgreSQL.
    """
    if url is None:
        url = os.environ.get("CLASS_DB_URL") or None
    backend: _SQLite | _Postgres
    if url is None:
        DEFAULT_PATH.parent.mkdir(parents=True, exist_ok=True)
        backend = _SQLite(DEFAULT_PATH, SQLITE_TIMEOUT if timeout is None else timeout)
    elif url.startswith("sqlite:///"):
        path = "/" + url[len("sqlite:///") :].lstrip("/")
        backend = _SQLite(Path(path), SQLITE_TIMEOUT if timeout is None else timeout)
    elif url.startswith(("postgresql://", "postgres://")):
        backend = _Postgres(url, POSTGRES_TIMEOUT if timeout is None else timeout)
    else:
        scheme = url.split(":", 1)[0] if ":" in url else url[:20]
        raise ValueError(
            "The classroom database URL must start with 'sqlite:///', 'postgresql://' or "
            f"'postgres://'. Got '{scheme}:…' instead."
        )
    store = Store(backend)
    try:
        store._migrate(SCHEMA_VERSION if schema_version is None else schema_version)
    except BaseException:
        store.close()
        raise
    return store
