"""Serving helpers: which hosts the debugger may bind, and the real server run as a child process.

``running_server`` starts the server exactly as ``make serve`` does
(``.venv/bin/python run.py serve --store PATH`` with ``HOST``/``PORT`` in the environment), waits
until it answers and stops its whole process group afterwards. The tests (``tests/serving.py``) and
``bench/load.py`` use it; it needs only the standard library. The gunicorn settings themselves are
in ``webmap/gunicorn_conf.py``.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: The repository (the folder of run.py).
ROOT = Path(__file__).resolve().parents[1]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine: 127.0.0.0/8, ::1 or localhost."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running server: its base URL (no trailing slash), its process and its log file."""

    base_url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            resp.read()
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def stop(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM the process group of ``process`` (master and workers), SIGKILL it if still there."""
    pgid = process.pid  # started in its own session: the group id is its pid
    if process.poll() is None:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:  # whatever is left of the group: a master that did not stop, or orphaned workers
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


@contextmanager
def running_server(store_path: str | os.PathLike[str], env: Mapping[str, str] | None = None, workers: int = 2,
                   *, root: str | os.PathLike[str] = ROOT, host: str = "127.0.0.1", port: int | None = None,
                   python: str | None = None, ready_path: str = "/api/layers",
                   ready_timeout: float = 30.0) -> Iterator[Server]:
    """Run ``run.py serve --store store_path`` of the checkout ``root`` on ``host``, until the block ends.

    ``env`` overrides the environment (e.g. ``{"WEB_READ_TIMEOUT_S": "2"}``); ``workers`` sets
    ``WEB_WORKERS``; ``port`` defaults to a free one; ``python`` defaults to ``root``'s
    ``.venv/bin/python`` (else this interpreter). Yields once ``GET ready_path`` answers 200;
    raises RuntimeError with the server's output if it exits or does not answer within
    ``ready_timeout`` seconds. Afterwards nothing of it is left running.
    """
    root = Path(root)
    if python is None:
        venv_python = root / ".venv" / "bin" / "python"
        python = str(venv_python if venv_python.exists() else Path(sys.executable))
    port = port or free_port(host)
    full_env = {**os.environ, "HOST": host, "PORT": str(port), "WEB_WORKERS": str(workers), **(env or {})}
    url_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{url_host}:{port}"
    fd, log_name = tempfile.mkstemp(prefix="corridors-server-", suffix=".log")
    log_path = Path(log_name)
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen([python, "run.py", "serve", "--store", str(store_path)], cwd=root,
                                   env=full_env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(base_url, process, log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while not _answers(base_url + ready_path):
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer {ready_path} in {ready_timeout} s:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        stop(process)
        log_path.unlink(missing_ok=True)
