"""Start and stop a real `streamlit run` server for benchmarks and browser tests.

One place for this code: the bench scripts import it directly, and `tests/e2e/conftest.py`
imports it through `sys.path` (the repo root), so both drive the server the same way.

Example:
    >>> from harness.server import StreamlitServer
    >>> with StreamlitServer("app.py") as server:  # doctest: +SKIP
    ...     print(server.base_url, server.rss_mb())
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Flags a browser would otherwise trip over, and loopback only: this server is never exposed.
_BASE_FLAGS = (
    "--server.headless",
    "true",
    "--server.address",
    "127.0.0.1",
    "--browser.gatherUsageStats",
    "false",
    "--server.fileWatcherType",
    "none",
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree_pids(root_pid: int) -> list[int]:
    """Return `root_pid` and all of its descendants, read from /proc (Linux only)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    pids, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def rss_bytes(root_pid: int) -> int:
    """Resident memory (VmRSS) of `root_pid` plus its descendants, in bytes."""
    total = 0
    for pid in process_tree_pids(root_pid):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue  # The process ended between listing and reading.
    return total


class StreamlitServer:
    """A `python -m streamlit run APP` subprocess on a free loopback port.

    The server runs with the app's folder as its working directory, so the project's
    `.streamlit/config.toml` (e.g. `runner.postScriptGC = false`) applies as in production.
    It runs in its own process group, so `stop()` also ends anything it spawned.

    Args:
        app: path of the entry script, absolute or relative to the repo root.
        port: TCP port; a free one when None.
        extra_args: more `streamlit run` flags, e.g. ("--runner.postScriptGC", "true").
        env: extra environment variables for the server.
    """

    def __init__(
        self,
        app: str | Path = "app.py",
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        app_path = Path(app)
        if not app_path.is_absolute():
            app_path = REPO_ROOT / app_path
        self.app = app_path.resolve()
        self.port = port or free_port()
        self.extra_args = tuple(extra_args)
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="streamlit-server-", suffix=".log", delete=False
        )

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"StreamlitServer({self.app.name!r}, port={self.port}, {state})"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("The server has not been started.")
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(self.app),
            "--server.port",
            str(self.port),
            *_BASE_FLAGS,
            *self.extra_args,
        ]

    def start(self, timeout: float = 60.0) -> StreamlitServer:
        """Launch the server and block until `GET /_stcore/health` answers "ok"."""
        if not self.app.exists():
            raise FileNotFoundError(f"No Streamlit app at {self.app}.")
        env = {**os.environ, **self.env}
        # The app's own checkout first on the path, so that `ui` (and the asset folder of its
        # components, which Streamlit looks up when it starts) is this checkout's even for a
        # script in a subfolder (tests/e2e/stage_app.py), not that of whichever checkout was
        # last installed with `pip install -e .`.
        root = next((p for p in self.app.parents if (p / "pyproject.toml").exists()), None)
        if root is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            self.command(),
            cwd=self.app.parent,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.base_url}/_stcore/health"
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(
                    f"streamlit exited with code {self.proc.returncode if self.proc else None} "
                    f"before it was healthy. Its output:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(
            f"streamlit was not healthy at {url} after {timeout:.0f} s. Its output:\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, n_chars: int = 6000) -> str:
        """The last characters the server printed (stdout and stderr together)."""
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace")
        return text[-n_chars:]

    def rss_mb(self) -> float:
        """Resident memory of the server and its children, in MB."""
        return rss_bytes(self.pid) / 2**20

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the server's process group, then SIGKILL whatever is left after `grace` s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        # The group may hold children even after the leader exited.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(5)

    def close(self) -> None:
        """Stop the server and delete its log file."""
        self.stop()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> StreamlitServer:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Proxy:
    """``deploy/serve.sh`` running: K app processes behind HAProxy, on free loopback ports."""

    process: subprocess.Popen
    base_url: str  # the proxy's address
    app_ports: tuple[int, ...]  # each app process's own port, in the order of its cookie

    @classmethod
    def launch(cls, processes: int = 2, database: str | None = None) -> Proxy:
        """Start the script in its own process group (a Ctrl-C reaches all of it); it is not
        waited for: the app processes take a few seconds to answer. ``database``: the
        classroom's store, passed as ``--database``."""
        port, first = free_port(), free_port()
        while first <= port < first + processes or not 1024 < first < 65000 - processes:
            first = free_port()
        command = ["bash", "deploy/serve.sh", "--processes", str(processes), "--port", str(port)]
        command += ["--bind", "127.0.0.1", "--first-app-port", str(first)]
        command += ["--database", database] if database else []
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return cls(process, f"http://127.0.0.1:{port}", tuple(range(first, first + processes)))

    def stop(self) -> int:
        """Ctrl-C, as a teacher would; SIGKILL if it is still running after 30 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait()
