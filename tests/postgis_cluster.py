"""A throwaway PostgreSQL + PostGIS cluster for a test session.

:func:`postgis_cluster` runs ``initdb`` (``--no-sync``, trust auth, as the ``postgres`` user when we
are root: ``initdb``/``pg_ctl`` refuse root) in a fresh temporary folder, starts it with ``pg_ctl``
listening only on a Unix socket in that folder (no TCP, so no port can clash with anything; ``fsync``
off), creates a database with ``CREATE EXTENSION postgis`` and yields its URL
``postgresql://postgres@/corridors?host=<socket dir>&port=<port>``. On the way out, whatever happened
(a failing test, an interrupt), the server is stopped (``pg_ctl stop -m immediate``, then the
postmaster's own pid if it is still there) and the folder removed. Takes about 1.5 s.

The binaries come from Debian's ``postgresql-15`` and ``postgresql-15-postgis-3``
(``scripts/install_postgis.sh``, run by ``make test``); ``PG_BINDIR`` names another folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DATABASE = "corridors"
SUPERUSER = "postgres"
#: Settings for a server whose data we throw away: no durability, nothing on TCP.
SERVER_CONF = """
fsync = off
synchronous_commit = off
full_page_writes = off
listen_addresses = ''
unix_socket_directories = '{socket_dir}'
port = {port}
max_connections = 100
shared_buffers = 32MB
log_min_messages = warning
"""


class ClusterUnavailable(RuntimeError):
    """PostgreSQL or PostGIS is not installed (run scripts/install_postgis.sh)."""


def find_bindir() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: $PG_BINDIR, else the newest /usr/lib/postgresql/N/bin."""
    if os.environ.get("PG_BINDIR"):
        candidates = [Path(os.environ["PG_BINDIR"])]
    else:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise ClusterUnavailable("PostgreSQL is not installed: run scripts/install_postgis.sh (or make test)")


def _free_port() -> int:
    """A port number no local TCP listener holds (the server listens on a socket file only, so any would do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    """Run ``cmd`` as the postgres user when we are root (initdb and pg_ctl refuse root)."""
    return ["runuser", "-u", SUPERUSER, "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(_as_owner(cmd), capture_output=True, text=True, check=False, timeout=120, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop(bindir: Path, data: Path) -> None:
    """Stop the server at once; if it is still running after pg_ctl, kill the postmaster by its pid."""
    pid = _postmaster_pid(data)
    if pid is None:
        return
    with contextlib.suppress(Exception):
        done = subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate",
                                         "-w", "-t", "10"]), capture_output=True, check=False, timeout=30)
        if done.returncode == 0:  # pg_ctl waited until the postmaster had gone
            return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)  # the postmaster we started; its children exit when it goes


@contextlib.contextmanager
def postgis_cluster(database: str = DATABASE) -> Iterator[str]:
    """Start a throwaway PostGIS cluster; yield the URL of its database; stop it and remove it afterwards."""
    bindir = find_bindir()
    control = Path("/usr/share/postgresql") / bindir.parent.name / "extension" / "postgis.control"
    if bindir.parent.parent == Path("/usr/lib/postgresql") and not control.is_file():
        raise ClusterUnavailable("PostGIS is not installed: run scripts/install_postgis.sh (or make test)")
    base = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp" if os.geteuid() == 0 else None))
    data, sockets = base / "data", base / "run"
    try:
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(base, SUPERUSER, SUPERUSER)
            shutil.chown(sockets, SUPERUSER, SUPERUSER)
        _run([str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--no-sync",
              "--no-instructions", "-E", "UTF8", "--locale=C"])
        port = _free_port()
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(SERVER_CONF.format(socket_dir=sockets, port=port))
        try:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w", "-t", "30",
                  "start"])
            url = f"postgresql://{SUPERUSER}@/{database}?host={sockets}&port={port}"
            import psycopg

            admin = f"postgresql://{SUPERUSER}@/postgres?host={sockets}&port={port}"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{database}"')
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION postgis")
            yield url
        finally:
            _stop(bindir, data)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":  # python tests/postgis_cluster.py: start one, print its URL and timings, stop it
    t0 = time.perf_counter()
    with postgis_cluster() as url:
        print(f"up in {time.perf_counter() - t0:.2f} s: {url}")
        t1 = time.perf_counter()
    print(f"stopped and removed in {time.perf_counter() - t1:.2f} s")


def database_url(url: str, name: str) -> str:
    """The URL of database ``name`` in the cluster of ``url``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def drop_connections(url: str) -> int:
    """Terminate every server process of the database of ``url`` (as a restart or an idle timeout would)."""
    import sqlalchemy as sa

    name = urlsplit(url).path.lstrip("/")
    admin = sa.create_engine(database_url(url, "postgres").replace("postgresql:", "postgresql+psycopg:", 1),
                             poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        dropped = conn.execute(sa.text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                                       "FROM pg_stat_activity WHERE datname = :name"), {"name": name}).scalar_one()
    admin.dispose()
    return int(dropped)


def new_database(url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` in the cluster of ``url`` (from ``template``, else empty with PostGIS); its URL."""
    import sqlalchemy as sa

    def engine(database: str, **kwargs):
        return sa.create_engine(database_url(url, database).replace("postgresql:", "postgresql+psycopg:", 1),
                                poolclass=sa.pool.NullPool, **kwargs)

    admin = engine("postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    admin.dispose()
    if template is None:
        created = engine(name)
        with created.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION postgis"))
        created.dispose()
    return database_url(url, name)
