"""The classroom store against both databases: SQLite (a file in tmp) and PostgreSQL (one
throwaway cluster for the module, from harness.postgres; a fresh database per test).

The trusted reference is the database itself: a tally must equal a direct SQL count.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import classroom
import classroom.store
from classroom import MAX_CHANGES, NotSaved, Question, Refused, Tally, open_store
from classroom.store import ENDED, MOVED_ON, REVEALED, SCHEMA_VERSION
from harness.postgres import PostgresServer, find_bindir

REPO_ROOT = Path(__file__).resolve().parents[1]
CHOICE = Question("Which batch size reaches the lower loss?", ("1", "32", "200"), 0)
NUMBER = Question("How many updates in 5 epochs?", (), 35)


class Databases:
    """Fresh, empty databases of one kind: a file each (SQLite), or one each on the module's
    server (PostgreSQL: CREATE DATABASE)."""

    def __init__(self, kind: str, folder: Path, server: PostgresServer | None) -> None:
        self.kind, self.folder, self.server = kind, folder, server
        self.made = 0

    def new_url(self) -> str:
        self.made += 1
        if self.server is None:
            return f"sqlite:///{self.folder}/classroom{self.made}.sqlite3"
        import psycopg

        name = f"classroom{self.made}"
        with psycopg.connect(self.server.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.server.database_url(name)


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the database directly (not through the store), in autocommit."""
    if url.startswith("sqlite:"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as conn:
            rows = conn.execute(sql, params).fetchall()
            conn.commit()
            return rows
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    if find_bindir() is None:
        pytest.skip(
            "PostgreSQL is not installed (no initdb from pg_config --bindir or in "
            "/usr/lib/postgresql/*/bin); scripts/test.sh installs Debian's postgresql"
        )
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Databases:
    server = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    return Databases(request.param, tmp_path_factory.mktemp(request.param), server)


@pytest.fixture
def url(databases: Databases) -> str:
    return databases.new_url()


@pytest.fixture
def store(url: str) -> Iterator[classroom.Store]:
    opened = open_store(url)
    yield opened
    opened.close()


def direct_counts(url: str, question_id: int) -> dict[float, int]:
    rows = query(
        url, "SELECT value, count(*) FROM answers WHERE question = ? GROUP BY value", (question_id,)
    )
    return {float(value): n for value, n in rows}


# ---------------------------------------------------------------- schema and migrations


def test_schema_is_created_and_opening_again_changes_nothing(url: str) -> None:
    open_store(url).close()
    first = query(url, "SELECT version, applied FROM schema_version ORDER BY version")
    with contextlib.closing(open_store(url)) as store:
        assert store.schema_version() == SCHEMA_VERSION
        room, _ = store.create("{}", CHOICE)
    assert query(url, "SELECT version, applied FROM schema_version ORDER BY version") == first
    assert [v for v, _ in first] == list(range(1, SCHEMA_VERSION + 1))
    for table in ("classes", "questions", "answers"):
        assert query(url, f"SELECT count(*) FROM {table}")[0][0] >= (table != "answers")
    with contextlib.closing(open_store(url)) as store:
        assert store.room(room.code) == room  # kept across opens


def test_a_version_1_database_is_migrated(url: str) -> None:
    open_store(url, schema_version=1).close()
    now = time.time()
    query(
        url,
        "INSERT INTO classes (code, key_hash, view, created, expires) VALUES (?, ?, ?, ?, ?)",
        ("K7QM4X", hashlib.sha256(b"key").hexdigest(), '{"page": "playground"}', now, now + 3600),
    )
    for text in ("First?", "Second?"):
        query(
            url,
            "INSERT INTO questions (class, text, options, answer, asked, revealed) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            ("K7QM4X", text, '["a", "b"]', 1.0, now),
        )
    (second,) = query(url, "SELECT max(id) FROM questions")[0]
    query(url, "INSERT INTO answers VALUES (?, ?, ?, ?, ?)", (second, "s1", 1.0, 0, now))
    with contextlib.closing(open_store(url)) as store:
        assert store.schema_version() == SCHEMA_VERSION
        asked = store.asked("k7q-m4x")  # the latest question became the current one
        assert asked is not None
        assert (asked.id, asked.question) == (second, Question("Second?", ("a", "b"), 1.0))
        assert store.tally("K7QM4X", second) == Tally(1, (0, 1), ())
        assert store.is_teacher("K7QM4X", "key")
        store.answer("K7QM4X", second, "s2", 0)
        assert store.tally("K7QM4X", second) == Tally(2, (1, 1), ())


def test_several_opening_at_once_migrate_once(url: str) -> None:
    stores: list[classroom.Store] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            stores.append(open_store(url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert query(url, "SELECT count(*) FROM schema_version")[0][0] == SCHEMA_VERSION
    for store in stores:
        store.close()


def test_a_newer_database_is_not_touched(url: str) -> None:
    open_store(url).close()
    query(url, "INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION + 1, 0.0))
    with pytest.raises(RuntimeError, match="newer than this app's"):
        open_store(url)


def test_open_store_finds_its_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = tmp_path / "data" / "classroom.sqlite3"
    monkeypatch.setattr(classroom.store, "DEFAULT_PATH", default)
    monkeypatch.delenv("CLASS_DB_URL", raising=False)
    with contextlib.closing(open_store()) as store:  # no URL, no environment: the default
        assert repr(store) == f"Store('sqlite://{default}')"
        store.create("{}", None)
    named = tmp_path / "named.sqlite3"
    monkeypatch.setenv("CLASS_DB_URL", f"sqlite:///{named}")  # four slashes: an absolute path
    with contextlib.closing(open_store()) as store:
        store.create("{}", None)
    assert query(f"sqlite://{named}", "SELECT count(*) FROM classes") == [(1,)]
    assert query(f"sqlite://{default}", "SELECT count(*) FROM classes") == [(1,)]


def test_unknown_url_scheme() -> None:
    with pytest.raises(ValueError, match=r"Got 'mysql:…' instead"):
        open_store("mysql://user:secret@host/db")


# ---------------------------------------------------------------- classes and keys


def test_the_key_is_stored_only_as_its_hash(store: classroom.Store, url: str) -> None:
    room, key = store.create('{"page": "playground"}', CHOICE)
    assert len(key) * 6 >= 128
    assert len(room.code) == 6 and classroom.normalise_code(room.code) == room.code
    (stored,) = query(url, "SELECT key_hash FROM classes WHERE code = ?", (room.code,))[0]
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    every_cell = json.dumps(
        [query(url, f"SELECT * FROM {t}") for t in ("classes", "questions", "answers")]
    )
    assert key not in every_cell
    if url.startswith("sqlite:"):
        store.close()  # checkpoint the WAL into the file
        files = Path(url.removeprefix("sqlite://")).parent.glob("*")
        assert not any(key.encode() in f.read_bytes() for f in files if f.is_file())


def test_is_teacher(store: classroom.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    room, key = store.create("{}", None, hours=1, now=now)
    _, other_key = store.create("{}", None, now=now)
    compared = []
    compare = classroom.codes.hmac.compare_digest
    monkeypatch.setattr(
        classroom.codes.hmac, "compare_digest", lambda a, b: compared.append(1) or compare(a, b)
    )
    assert store.is_teacher(room.code, key)
    assert store.is_teacher(classroom.format_code(room.code).lower(), key)
    assert not store.is_teacher(room.code, other_key)
    assert not store.is_teacher(room.code, key[:-1])
    assert not store.is_teacher("K7QM4Z" if room.code != "K7QM4Z" else "K7QM4Y", key)
    assert not store.is_teacher("not a code", key)
    assert not store.is_teacher(room.code, key, now=now + 3601)  # expired
    assert len(compared) == 7  # every answer went through the constant-time compare


def test_expiry(store: classroom.Store, url: str) -> None:
    now = 1_700_000_000.0
    room, key = store.create("{}", NUMBER, hours=1, now=now)
    asked = store.asked(room.code)
    assert asked is not None
    assert room.expires == now + 3600
    assert store.room(room.code, now=now + 3599) == room
    assert store.room(room.code, now=now + 3600) is None
    store.answer(room.code, asked.id, "s", 1, now=now + 10)
    with pytest.raises(Refused, match=ENDED):
        store.answer(room.code, asked.id, "s", 2, now=now + 3601)
    with pytest.raises(PermissionError):
        store.ask(room.code, key, CHOICE, now=now + 3601)
    # A class expired for more than a day is deleted, with its answers, at the next create.
    store.create("{}", None, now=now + 3600 + 23 * 3600)
    assert query(url, "SELECT count(*) FROM answers")[0][0] == 1
    store.create("{}", None, now=now + 3600 + 25 * 3600)
    assert query(url, "SELECT count(*) FROM classes WHERE code = ?", (room.code,)) == [(0,)]
    assert query(url, "SELECT count(*) FROM answers")[0][0] == 0


def test_at_most_max_classes_open(store: classroom.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classroom.store, "MAX_CLASSES", 3)
    now = time.time()
    codes = {store.create("{}", None, hours=1, now=now)[0].code for _ in range(3)}
    assert len(codes) == 3
    with pytest.raises(Refused) as refused:
        store.create("{}", None, now=now + 60)
    assert str(refused.value) == (
        "This server already has 3 open classes, its limit of 3. Try again when one has ended."
    )
    store.create("{}", None, now=now + 3601)  # the three have expired: they do not count


MESSAGES = [  # (create's arguments, the sentence it is refused with)
    (("{}", Question("Q?", tuple("abcdef"))), "The question needs 2 to 5 options. Got 6 instead."),
    (("{}", Question("Q?", ("a",))), "The question needs 2 to 5 options. Got 1 instead."),
    (
        ("{}", Question("  ", ("a", "b"))),
        "The question's text must have 1 to 300 characters. Got 0 instead.",
    ),
    (
        ("{}", Question("Q" * 301)),
        "The question's text must have 1 to 300 characters. Got 301 instead.",
    ),
    (("{}", Question("Q?", ("a", " "))), "Option 2 must have 1 to 80 characters. Got 0 instead."),
    (
        ("{}", Question("Q?", ("a", "b" * 81))),
        "Option 2 must have 1 to 80 characters. Got 81 instead.",
    ),
    (
        ("{}", Question("Q?", ("a", "b"), 2)),
        "The right answer must be an option's index, from 0 to 1. Got 2 instead.",
    ),
    (
        ("{}", Question("Q?", ("a", "b"), 0.5)),
        "The right answer must be an option's index, from 0 to 1. Got 0.5 instead.",
    ),
    (
        ("{}", Question("Q?", (), math.inf)),
        "The right answer must be a finite number. Got inf instead.",
    ),
    (("{}", Question("Q?", ["a", "b"])), "The question's options must be a tuple of texts."),
    (("x" * 8001, None), "The class's view must be text of at most 8000 characters. Got 8001."),
    (("{}", None, 0.1), "The 'hours' parameter must be in [0.25, 168]. Got 0.1 instead."),
    (("{}", None, 169), "The 'hours' parameter must be in [0.25, 168]. Got 169 instead."),
    (("{}", None, math.nan), "The 'hours' parameter must be in [0.25, 168]. Got nan instead."),
]


@pytest.mark.parametrize(("arguments", "message"), MESSAGES)
def test_validation_messages(store: classroom.Store, arguments: tuple, message: str) -> None:
    with pytest.raises(Refused) as refused:
        store.create(*arguments)
    assert str(refused.value) == message
    room, key = store.create("{}", None)
    if isinstance(arguments[1], Question):
        with pytest.raises(Refused, match=re.escape(message)):
            store.ask(room.code, key, arguments[1])


# ---------------------------------------------------------------- answers


def test_answers_are_checked(store: classroom.Store) -> None:
    room, _ = store.create("{}", CHOICE)
    asked = store.asked(room.code)
    assert asked is not None and asked.question == CHOICE and not asked.revealed
    for value in (2.5, 3, -1, math.nan, "1", True, None):
        with pytest.raises(Refused):
            store.answer(room.code, asked.id, "s", value)  # type: ignore[arg-type]
    with pytest.raises(Refused, match="Got 65"):
        store.answer(room.code, asked.id, "s" * 65, 0)
    with pytest.raises(Refused, match="Got 0"):
        store.answer(room.code, asked.id, "", 0)
    with pytest.raises(Refused, match=ENDED):
        store.answer("K7QM4Z" if room.code != "K7QM4Z" else "K7QM4Y", asked.id, "s", 0)
    store.answer(room.code, asked.id, "s" * 64, 2.0)
    store.answer(classroom.format_code(room.code).lower(), asked.id, "t", 1)
    assert store.tally(room.code, asked.id) == Tally(2, (0, 1, 1), ())
    assert store.mine(room.code, asked.id, "t") == 1.0
    assert store.mine(room.code, asked.id, "nobody") is None

    number, _ = store.create("{}", NUMBER)
    asked = store.asked(number.code)
    assert asked is not None
    for value in (math.inf, -math.inf, math.nan):
        with pytest.raises(Refused, match="a number between"):
            store.answer(number.code, asked.id, "s", value)
    for session, value in (("a", 35), ("b", -1.5), ("c", 1e6), ("d", 35)):
        store.answer(number.code, asked.id, session, value)
    assert store.tally(number.code, asked.id) == Tally(4, (), (-1.5, 35.0, 35.0, 1e6))
    assert store.tally(room.code, asked.id) == Tally(0, (), ())  # another class's question


def test_at_most_max_changes(store: classroom.Store, url: str) -> None:
    room, _ = store.create("{}", CHOICE)
    asked = store.asked(room.code)
    assert asked is not None
    store.answer(room.code, asked.id, "s", 0)
    for change in range(1, MAX_CHANGES + 1):
        store.answer(room.code, asked.id, "s", change % 2)
        store.answer(room.code, asked.id, "s", change % 2)  # the same again is not a change
    with pytest.raises(Refused, match="changed your answer 20 times"):
        store.answer(room.code, asked.id, "s", 2)
    store.answer(room.code, asked.id, "s", MAX_CHANGES % 2)  # the same value is still fine
    assert store.mine(room.code, asked.id, "s") == MAX_CHANGES % 2
    assert query(url, "SELECT changes FROM answers") == [(MAX_CHANGES,)]
    assert store.tally(room.code, asked.id).answers == 1


def test_reveal_and_ask_need_the_key(store: classroom.Store) -> None:
    room, key = store.create("{}", CHOICE)
    _, other_key = store.create("{}", CHOICE)
    first = store.asked(room.code)
    assert first is not None
    store.answer(room.code, first.id, "s", 1)
    store.answer(room.code, first.id, "t", 2)
    for wrong in (other_key, "", key + "x"):
        with pytest.raises(PermissionError):
            store.reveal(room.code, wrong, first.id)
        with pytest.raises(PermissionError):
            store.ask(room.code, wrong, NUMBER)
    assert store.asked(room.code) == first

    store.reveal(room.code, key, first.id)
    revealed = store.asked(room.code)
    assert revealed is not None and revealed.revealed and revealed.id == first.id
    with pytest.raises(Refused) as refused:
        store.answer(room.code, first.id, "s", 2)
    assert str(refused.value) == REVEALED
    with pytest.raises(Refused):
        store.answer(room.code, first.id, "new", 0)
    assert store.mine(room.code, first.id, "s") == 1.0
    with pytest.raises(Refused, match="has no question"):
        store.reveal(room.code, key, first.id + 1000)

    second = store.ask(room.code, key, NUMBER)
    assert second is not None and second == store.asked(room.code)
    assert second.id != first.id and not second.revealed and second.question == NUMBER
    with pytest.raises(Refused) as refused:
        store.answer(room.code, first.id, "u", 0)
    assert str(refused.value) == MOVED_ON
    store.answer(room.code, second.id, "s", 7.5)
    assert store.tally(room.code, first.id) == Tally(2, (0, 1, 1), ())  # kept, not current
    assert store.tally(room.code, second.id) == Tally(1, (), (7.5,))

    assert store.ask(room.code, key, None) is None  # cleared
    assert store.asked(room.code) is None
    with pytest.raises(Refused, match=MOVED_ON):
        store.answer(room.code, second.id, "s", 8)
    assert store.tally(room.code, second.id) == Tally(1, (), (7.5,))


def test_a_question_with_its_own_run_changes_the_view_with_it(store: classroom.Store) -> None:
    room, key = store.create('{"run": 1}', None)
    with pytest.raises(PermissionError):
        store.ask(room.code, key + "x", NUMBER, view='{"run": 2}')
    assert store.room(room.code).view == '{"run": 1}'  # nothing changed without the key
    with pytest.raises(Refused, match="view"):
        store.ask(room.code, key, NUMBER, view="x" * 9000)
    assert store.asked(room.code) is None  # the refused view asked nothing either
    store.ask(room.code, key, NUMBER, view='{"run": 2}')
    assert store.room(room.code).view == '{"run": 2}' and store.asked(room.code).question == NUMBER
    store.ask(room.code, key, CHOICE)  # without a view: the run stays
    assert store.room(room.code).view == '{"run": 2}'


def test_state_reads_the_class_and_its_question_together(store: classroom.Store) -> None:
    room, key = store.create('{"run": 1}', CHOICE)
    assert store.state(room.code) == (room, store.asked(room.code))
    asked = store.ask(room.code, key, NUMBER, view='{"run": 2}')
    now_room, now_asked = store.state(room.code.lower())
    assert now_room.view == '{"run": 2}' and now_asked == asked
    assert store.state("ZZZZZZ") == (None, None) and store.state("not a code") == (None, None)
    assert store.state(room.code, now=room.expires + 1) == (None, None)


def test_a_number_answer_is_bounded(store: classroom.Store) -> None:
    room, _ = store.create("{}", NUMBER)
    asked = store.asked(room.code)
    for far in (1.7e308, -1.7e308, classroom.MAX_NUMBER * 1.01, float("nan")):
        with pytest.raises(Refused, match="between"):
            store.answer(room.code, asked.id, "s", far)
    store.answer(room.code, asked.id, "s", -classroom.MAX_NUMBER)
    assert store.tally(room.code, asked.id).values == (-classroom.MAX_NUMBER,)


def test_tally_equals_a_direct_count(store: classroom.Store, url: str) -> None:
    room, _ = store.create("{}", Question("Q?", ("a", "b", "c", "d", "e")))
    asked = store.asked(room.code)
    assert asked is not None
    final = {}
    for i in range(40):
        value = (i * i) % 5
        store.answer(room.code, asked.id, f"s{i}", value)
        final[f"s{i}"] = value
        if i % 3 == 0:
            store.answer(room.code, asked.id, f"s{i}", (value + 1) % 5)
            final[f"s{i}"] = (value + 1) % 5
    tally = store.tally(room.code, asked.id)
    direct = direct_counts(url, asked.id)
    assert tally.counts == tuple(direct.get(float(v), 0) for v in range(5))
    assert tally.counts == tuple(Counter(final.values()).get(v, 0) for v in range(5))
    assert tally.answers == 40 == sum(direct.values())


# ---------------------------------------------------------------- two processes at once

# Run by each process: open its own store, then on "go" answer from `count` threads at once;
# the first `twice` sessions answer a second time, with another value.
ANSWERING = r"""
import json, sys, threading, time
import classroom

url, code, question, prefix, count, twice = sys.argv[1:7]
question, count, twice = int(question), int(count), int(twice)
store = classroom.open_store(url)
errors = []

def session(i):
    try:
        store.answer(code, question, f"{prefix}{i}", i % 3)
        if i < twice:
            store.answer(code, question, f"{prefix}{i}", (i + 1) % 3)
    except Exception as error:
        errors.append(repr(error))

threads = [threading.Thread(target=session, args=(i,)) for i in range(count)]
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"errors": errors, "seconds": time.perf_counter() - start}), flush=True)
store.close()
"""


def test_100_sessions_in_2_processes_are_each_counted_once(
    store: classroom.Store, url: str
) -> None:
    room, _ = store.create("{}", CHOICE)
    asked = store.asked(room.code)
    assert asked is not None
    per_process, twice = 50, 15
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                ANSWERING,
                url,
                room.code,
                str(asked.id),
                prefix,
                str(per_process),
                str(twice),
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for prefix in ("p", "q")
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        for process in processes:  # both start together
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = [json.loads(process.communicate(timeout=60)[0]) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert [r["errors"] for r in reports] == [[], []]
    assert max(r["seconds"] for r in reports) < 5  # typically well under one second

    expected = Counter(
        (i + 1) % 3 if i < twice else i % 3 for _ in ("p", "q") for i in range(per_process)
    )
    tally = store.tally(room.code, asked.id)
    direct = direct_counts(url, asked.id)
    assert tally.answers == 100
    assert tally.counts == tuple(expected[v] for v in range(3))
    assert tally.counts == tuple(direct.get(float(v), 0) for v in range(3))
    rows = query(url, "SELECT session, changes FROM answers WHERE question = ?", (asked.id,))
    assert len(rows) == len({session for session, _ in rows}) == 100
    assert sorted(changes for _, changes in rows) == [0] * 70 + [1] * 30


# ---------------------------------------------------------------- the database goes away


def test_an_outage_is_not_saved_then_nothing_is_lost(databases: Databases, url: str) -> None:
    timeout = 0.2 if databases.kind == "sqlite" else 2.0
    store = open_store(url, timeout=timeout)
    try:
        room, _ = store.create("{}", CHOICE)
        asked = store.asked(room.code)
        assert asked is not None
        for i in range(10):
            store.answer(room.code, asked.id, f"s{i}", i % 3)
        before = store.tally(room.code, asked.id)

        with outage(databases, url):
            start = time.perf_counter()
            with pytest.raises(NotSaved):
                store.answer(room.code, asked.id, "late", 0)
            assert time.perf_counter() - start < timeout + 3
            with pytest.raises(NotSaved):
                store.answer(room.code, asked.id, "s0", 2)  # a change is not saved either

        assert store.tally(room.code, asked.id) == before
        store.answer(room.code, asked.id, "late", 0)
        store.answer(room.code, asked.id, "s0", 2)
        after = store.tally(room.code, asked.id)
        assert after.answers == before.answers + 1
        assert after.counts == (before.counts[0], before.counts[1], before.counts[2] + 1)
        assert store.mine(room.code, asked.id, "s0") == 2

        if databases.server is not None:
            # A restart while the pool sits idle: its connection is stale, and is replaced
            # as it leaves the pool (the pool's check), so the first call after it saves.
            databases.server.stop()
            databases.server.start()
            store.answer(room.code, asked.id, "after a restart", 1)
            assert store.tally(room.code, asked.id).answers == after.answers + 1
    finally:
        store.close()


@contextlib.contextmanager
def outage(databases: Databases, url: str) -> Iterator[None]:
    """SQLite: another connection holds the file's write lock. PostgreSQL: the server stops."""
    if databases.server is None:
        other = sqlite3.connect(url.removeprefix("sqlite://"), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        databases.server.stop()
        try:
            yield
        finally:
            databases.server.start()
