"""Classroom mode behind deploy/serve.sh (issue 20): two app processes given one PostgreSQL
server with ``--database``. A class of 20 answers at once, half through each process, and
every answer is counted once. Marked slow: it starts PostgreSQL and two Streamlit processes.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest

import classroom
from harness.postgres import PostgresServer, find_bindir
from harness.server import Proxy
from harness.streamlit_client import StreamlitClient
from tests.test_deploy import get, run, wait_until
from ui.classroom import ClassView

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs Debian's haproxy"),
    pytest.mark.skipif(find_bindir() is None, reason="needs Debian's postgresql"),
]
STUDENTS = 20
OPTIONS = ("1", "32", "200")


@pytest.fixture(scope="module")
def served_with_postgres():
    with PostgresServer() as postgres:
        proxy = Proxy.launch(processes=2, database=postgres.url)
        try:
            for port in proxy.app_ports:
                wait_until(lambda p=port: get(f"http://127.0.0.1:{p}/_stcore/health")[0] == 200)
            yield proxy, postgres.url
        finally:
            proxy.stop()


async def student(base_url: str, code: str, choice: str) -> None:
    """One student's session: open the class link, answer with ``choice``."""
    async with StreamlitClient(base_url, query_string=f"class={code}", timeout=180) as client:
        first = await client.connect()
        assert not first.exceptions, first.exceptions
        answered = await client.set({"Your answer": choice, "Answer": True})
        assert not answered.exceptions, answered.exceptions
        assert any("Your answer" in m.body for m in answered.elements_of("alert"))


def test_a_class_answering_at_once_through_two_processes_is_counted_once(served_with_postgres):
    proxy, url = served_with_postgres
    store = classroom.open_store(url)  # the processes made the schema; this only reads it
    question = classroom.Question("Which batch size?", OPTIONS, 0.0)
    room, _ = store.create(ClassView().to_json(), question)
    # Straight to each process, so that half of the class is on each for certain.
    bases = [f"http://127.0.0.1:{port}" for port in proxy.app_ports]

    async def everyone() -> None:
        await asyncio.gather(
            *(student(bases[i % 2], room.code, OPTIONS[i % 3]) for i in range(STUDENTS))
        )

    run(everyone())
    asked = store.asked(room.code)
    assert store.tally(room.code, asked.id) == classroom.Tally(STUDENTS, (7, 7, 6), ())
    store.close()
