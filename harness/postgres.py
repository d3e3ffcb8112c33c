"""A throwaway PostgreSQL cluster in a temporary folder, for tests and benchmarks.

`initdb` makes the cluster, `pg_ctl` starts it on a free TCP port on 127.0.0.1 (and a unix
socket in the folder), and the folder is removed at the end. `stop()` and `start()` take the
server away for a moment and bring it back on the same port, with its data. PostgreSQL
refuses to run as root, so as root (CI) the binaries run as the `postgres` user through
`runuser`, with the folder handed to that user.

Example:
    >>> from harness.postgres import PostgresServer, find_bindir
    >>> with PostgresServer() as server:  # doctest: +SKIP
    ...     print(server.url)
    postgresql://postgres@127.0.0.1:PORT/postgres
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.server import free_port

USER = "postgres"  # the cluster's superuser, and the system user that runs it as root


def find_bindir() -> Path | None:
    """The folder of initdb, pg_ctl and postgres (`pg_config --bindir`, else the newest of
    /usr/lib/postgresql/*/bin), or None when PostgreSQL is not installed."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """A PostgreSQL server of its own, trust-authenticated, on loopback only.

    Args:
        port: the TCP port (default: a free one).
        bindir: the server's binaries (default: `find_bindir()`).
    """

    def __init__(self, port: int | None = None, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        if self.bindir is None:
            raise FileNotFoundError(
                "PostgreSQL is not installed: no initdb found (pg_config --bindir, "
                "/usr/lib/postgresql/*/bin); install it with: sudo apt-get install postgresql"
            )
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._as_root = os.geteuid() == 0
        self._initialised = False
        self.running = False

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"PostgresServer(port={self.port}, folder={str(self.folder)!r}, {state})"

    @property
    def url(self) -> str:
        """The server's `postgres` database, over TCP."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        """The URL of database `name` on this server."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}\n{log}"
            )
        return result

    def _initdb(self) -> None:
        if self._as_root:
            user = pwd.getpwnam(USER)
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        self._initialised = True

    def start(self) -> None:
        """Start the server (making the cluster the first time) and wait until it accepts."""
        if not self._initialised:
            self._initdb()
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            # Throwaway data: no waiting on the disk.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server ("fast": end sessions and shut down cleanly; "immediate": a crash)."""
        if self.running:
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
            self.running = False

    def close(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
