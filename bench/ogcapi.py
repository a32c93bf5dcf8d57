"""Benchmark: our OGC API - Features (``/ogcapi``) against pygeoapi 0.21 on the same data and load.

The goal (the issue): at least 3x pygeoapi's throughput on the same data and load.

pygeoapi: version 0.21.0 (the last release for Python 3.11) in its own virtual environment
(``--pygeoapi-venv``, default ``~/.cache/corridors-bench/pygeoapi-venv``), made here when missing.
Its OGR provider imports ``osgeo.ogr``: the ``GDAL`` package of PyPI has no wheel and builds only
against ``libgdal-dev`` (``gdal-config``), so the venv is made from Debian's ``/usr/bin/python3`` with
``--system-site-packages`` and Debian's ``python3-gdal`` (``apt-get install -y python3-gdal`` when we
are root and it is missing); only where that python has no ``osgeo`` and ``gdal-config`` exists is
``GDAL==<gdal-config --version>`` built from PyPI instead. Then ``pip install pygeoapi==0.21.0
gunicorn psycopg2-binary sqlalchemy geoalchemy2 pygeofilter`` (the PostgreSQL provider's needs). The
run stops with a clear message if that cannot be done.

Data: N synthetic projects (``--n``, default 100k; fixed seed), uniformly random in the Luoyang metro
area (lon 111.2-113.6, lat 33.6-35.4), carrying every column of the real projects layer (made by
``bench/store.py``'s ``full_layers``: the real layers with ``projects`` replaced). Written to

- a GeoPackage store of the app (``GeoPackageStore.write``, every layer) and, for pygeoapi's OGR
  provider, a GeoPackage of the same projects layer alone (pyogrio, R-tree spatial index, and an index
  on ``id`` so that pygeoapi's ``id = '...'`` filter is not a full scan; ours needs none, it serves from
  memory);
- a throwaway PostGIS cluster (``tests.postgis_cluster``): ``PostGISStore(url).write(layers)``, which
  pygeoapi's PostgreSQL provider reads as table ``corridors.projects`` (``id_field: id``, the geometry
  column as stored, the id index and GiST index of the store).

Servers, on 127.0.0.1, one at a time: ours as shipped (``webmap.server.running_server``: ``run.py serve``,
gunicorn with the repository's gthread worker, ``WEB_WORKERS=--workers``, ``WEB_THREADS=--threads``);
pygeoapi with its venv's gunicorn, ``pygeoapi.flask_app:APP``, ``--workers`` and the same ``--threads``
(gunicorn's stock gthread worker: pygeoapi ships no worker of its own, and sync workers would give it
one request per process), ``--keep-alive 5`` and an access log as ours has, logging level ERROR,
``PYGEOAPI_CONFIG`` and ``PYGEOAPI_OPENAPI`` (made by ``pygeoapi openapi generate``).

Load: per server, store and case, ``--clients`` (8 and 32) concurrent clients, each a thread with its own
keep-alive ``http.client`` connection, spread over ``--client-processes`` processes (so the client's GIL
is not the limit), for ``--seconds`` (10) after an untimed ``--warmup`` (3 s) of the same load; before
the first case every worker is made to load its data (2 x workers x threads requests at once). Cases:
``items?bbox=<0.1 x 0.1 degree box>&limit=100&f=json`` with random boxes inside the data's extent, and
``items/{id}?f=json`` with random existing ids; each client draws the same sequence for both servers. No
``Accept-Encoding`` is sent (neither server compresses then). ``--load wrk`` drives the same clients
(one keep-alive connection each, the same paths) with Debian's ``wrk`` instead (installed when missing):
written in C, it takes a fifth of the Python clients' CPU, which on a 2-core machine otherwise competes
with the server under test; its latencies are wrk's percentiles. Printed per run: requests, req/s, p50/p95
latency, errors (non-200 or exceptions), mean answer size, server CPU (master and workers, from
``/proc``) per request, the database's CPU per request on PostGIS, and the client's CPU. Then a table of
ours/pygeoapi throughput ratios against the 3x goal.

Sanity check (printed): for a few identical boxes with ``limit=10000`` both servers must return the same
set of feature ids, and for a few ids the same ``name_en`` and point.

If our ``/ogcapi`` routes do not answer yet, only pygeoapi is measured (and said so). Everything started
here (servers, the cluster, the temporary folder) is stopped and removed at the end.

Usage: python bench/ogcapi.py [--n 100000] [--seconds 10] [--clients 8,32] [--workers 2] [--threads 4]
                              [--stores gpkg,postgis] [--servers ours,pygeoapi] [--warmup 3] [--seed 7]
                              [--client-processes 2] [--load python|wrk] [--pygeoapi-venv PATH]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import http.client
import importlib.util
import json
import multiprocessing as mp
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from webmap.server import free_port, running_server, stop

PYGEOAPI_VERSION = "0.21.0"
PYGEOAPI_PACKAGES = [f"pygeoapi=={PYGEOAPI_VERSION}", "gunicorn", "psycopg2-binary", "sqlalchemy", "geoalchemy2",
                     "pygeofilter"]
DEFAULT_VENV = Path.home() / ".cache" / "corridors-bench" / "pygeoapi-venv"
#: Debian's python, for which Debian's python3-gdal is built.
SYSTEM_PYTHON = "/usr/bin/python3"
COLLECTION = "projects"
BOX_DEG = 0.1
LIMIT = 100
#: Sanity check: boxes compared whole (limit large enough for every feature in a box), ids compared.
CHECK_BOXES, CHECK_IDS, CHECK_LIMIT = 5, 5, 10_000
READY_TIMEOUT_S = 600.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

#: Printed by the venv's python: what it has (run as ``python -c CHECK``).
CHECK = """
import json, sys
import gunicorn, pygeoapi
from osgeo import gdal, ogr  # noqa: F401 - the OGR provider's imports
from pygeoapi.provider.ogr import OGRProvider  # noqa: F401
from pygeoapi.provider.sql import PostgreSQLProvider  # noqa: F401
print(json.dumps({"pygeoapi": pygeoapi.__version__, "gdal": gdal.__version__, "gunicorn": gunicorn.__version__,
                  "python": sys.version.split()[0], "osgeo": gdal.__file__}))
"""


class PygeoapiUnavailable(RuntimeError):
    """pygeoapi (with its OGR and PostgreSQL providers) could not be installed."""


def _bench_store():
    """``bench/store.py`` as a module (the synthetic projects with every real column, the metro area)."""
    spec = importlib.util.spec_from_file_location("bench_store", ROOT / "bench" / "store.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- pygeoapi's environment -------------------------------------------------------------------------------

def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)


def _venv_check(venv: Path) -> dict[str, str] | None:
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    done = _run([str(python), "-c", CHECK], timeout=300)
    if done.returncode != 0:
        return None
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found if found["pygeoapi"] == PYGEOAPI_VERSION else None


def _has_osgeo(python: str) -> bool:
    return Path(python).exists() and _run([python, "-c", "from osgeo import ogr"], timeout=120).returncode == 0


def ensure_pygeoapi(venv: Path) -> tuple[dict[str, str], str]:
    """The venv's versions and how it was made; makes the venv if it is missing or incomplete."""
    found = _venv_check(venv)
    if found:
        return found, f"found at {venv}"
    print(f"installing pygeoapi {PYGEOAPI_VERSION} into {venv} ...", flush=True)
    steps: list[str] = []
    if not _has_osgeo(SYSTEM_PYTHON) and os.geteuid() == 0 and shutil.which("apt-get"):
        done = _run(["apt-get", "install", "-y", "-q", "python3-gdal"], timeout=1200)
        if done.returncode != 0:  # an old package list: update once and retry
            _run(["apt-get", "update", "-q"], timeout=1200)
            done = _run(["apt-get", "install", "-y", "-q", "python3-gdal"], timeout=1200)
        steps.append("apt-get install -y python3-gdal" + ("" if done.returncode == 0 else " (failed)"))
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    if _has_osgeo(SYSTEM_PYTHON):
        make = [SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)]
        gdal = "Debian's python3-gdal (venv of /usr/bin/python3 with --system-site-packages)"
        extra: list[str] = []
    elif shutil.which("gdal-config"):
        version = _run(["gdal-config", "--version"]).stdout.strip()
        make = [sys.executable, "-m", "venv", str(venv)]
        gdal = f"GDAL=={version} built from PyPI against the system's libgdal"
        extra = [f"GDAL=={version}"]
    else:
        raise PygeoapiUnavailable(
            "pygeoapi's OGR provider needs the GDAL Python bindings (osgeo.ogr): PyPI's GDAL has no wheel and "
            "needs libgdal-dev (gdal-config) to build, and /usr/bin/python3 has no osgeo (apt-get install "
            f"python3-gdal as root). {'; '.join(steps)}")
    for cmd in (make, [str(venv / "bin" / "pip"), "install", "-q", *PYGEOAPI_PACKAGES, *extra]):
        done = _run(cmd, timeout=3600)
        if done.returncode != 0:
            raise PygeoapiUnavailable(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                                      f"{done.stderr[-3000:]}")
        steps.append(" ".join(cmd[:3] if cmd is make else cmd[:3] + ["..."]))
    found = _venv_check(venv)
    if not found:
        done = _run([str(venv / "bin" / "python"), "-c", CHECK], timeout=300)
        raise PygeoapiUnavailable(f"pygeoapi {PYGEOAPI_VERSION} installed into {venv} but does not import:\n"
                                  f"{done.stderr[-3000:]}")
    return found, f"installed now at {venv}, GDAL from {gdal}"


# -- data -------------------------------------------------------------------------------------------------

@dataclass
class Data:
    """Where the data went and what the load draws from."""

    gpkg_store: Path
    pygeoapi_gpkg: Path
    geometry: str
    n: int
    bounds: tuple[float, float, float, float]


def write_data(n: int, seed: int, folder: Path, url: str | None) -> Data:
    """The real layers with N synthetic projects: our GeoPackage store, pygeoapi's GeoPackage, PostGIS."""
    import pyogrio

    from geo.io import read_sources
    from geo.postgis import PostGISStore
    from geo.store import GeoPackageStore, in_store_order

    bench_store = _bench_store()
    real = in_store_order(read_sources())
    t0 = time.perf_counter()
    layers = bench_store.full_layers(real, n, np.random.default_rng(seed))
    projects = layers[COLLECTION]
    print(f"{n} synthetic projects with all {projects.shape[1]} columns of the real layer made in "
          f"{time.perf_counter() - t0:.1f} s (other layers as they are: "
          f"{', '.join(f'{k} {len(v)}' for k, v in layers.items() if k != COLLECTION)})")
    gpkg = GeoPackageStore(folder / "corridors.gpkg")
    t0 = time.perf_counter()
    gpkg.write(layers)
    print(f"  our GeoPackage store written in {time.perf_counter() - t0:.1f} s "
          f"({gpkg.path.stat().st_size / 1e6:.0f} MB, every layer)")
    theirs = folder / "pygeoapi-projects.gpkg"
    t0 = time.perf_counter()
    pyogrio.write_dataframe(projects, theirs, layer=COLLECTION, driver="GPKG", layer_options={"SPATIAL_INDEX": "YES"})
    with contextlib.closing(sqlite3.connect(theirs)) as db:
        db.execute(f'CREATE INDEX "{COLLECTION}_id_idx" ON "{COLLECTION}" ("id")')
        db.commit()
    print(f"  pygeoapi's GeoPackage (projects alone, R-tree, index on id) written in "
          f"{time.perf_counter() - t0:.1f} s ({theirs.stat().st_size / 1e6:.0f} MB)")
    if url is not None:
        t0 = time.perf_counter()
        with PostGISStore(url) as pg:  # its pool closes here: the servers have the database to themselves
            pg.write(layers)
        print(f"  PostGIS store written in {time.perf_counter() - t0:.1f} s (indexes and ANALYZE included)")
    data = Data(gpkg.path, theirs, projects.geometry.name, n,
                (bench_store.WEST, bench_store.SOUTH, bench_store.EAST, bench_store.NORTH))
    del layers, projects, real
    gc.collect()
    return data


# -- servers ----------------------------------------------------------------------------------------------

@dataclass
class Target:
    """A running server under test: its name, base URL, path prefix of the API and process group."""

    name: str
    base_url: str
    prefix: str
    pgid: int
    log: Callable[[], str]

    def items(self, query: str) -> str:
        return f"{self.prefix}/collections/{COLLECTION}/items?{query}"

    def item(self, feature_id: str) -> str:
        return f"{self.prefix}/collections/{COLLECTION}/items/{feature_id}?f=json"


def pygeoapi_config(port: int, data: Data, store: str, url: str | None) -> dict:
    """pygeoapi's configuration (0.21: server, logging, metadata, resources) over one store."""
    west, south, east, north = data.bounds
    if store == "gpkg":
        provider = {"type": "feature", "name": "OGR", "data": {"source_type": "GPKG", "source": str(data.pygeoapi_gpkg)},
                    "id_field": "id", "title_field": "name_en", "layer": COLLECTION}
    else:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        provider = {"type": "feature", "name": "PostgreSQL",
                    "data": {"host": query.get("host", parts.hostname or "localhost"),
                             "port": int(query.get("port", parts.port or 5432)),
                             "dbname": parts.path.lstrip("/"), "user": parts.username or "postgres",
                             "search_path": ["corridors", "public"]},
                    "id_field": "id", "title_field": "name_en", "table": COLLECTION, "geom_field": data.geometry}
    return {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "language": "en-US",
                   "gzip": False, "pretty_print": False, "cors": False,
                   "limits": {"default_items": 10, "max_items": CHECK_LIMIT},
                   "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                           "attribution": "OpenStreetMap contributors"}},
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench", "description": "benchmark", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": "https://example.org/",
                               "url": "https://example.org/"},
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "bench", "url": "https://example.org/"},
            "contact": {"name": "bench", "email": "bench@example.org", "role": "pointOfContact"}},
        "resources": {COLLECTION: {
            "type": "collection", "title": "Projects", "description": "Synthetic projects",
            "keywords": ["projects"],
            "extents": {"spatial": {"bbox": [west, south, east, north],
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [provider]}},
    }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            resp.read()
            return resp.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def pygeoapi_server(venv: Path, folder: Path, data: Data, store: str, url: str | None, workers: int,
                    threads: int) -> Iterator[Target]:
    """pygeoapi under its venv's gunicorn until the block ends; nothing of it is left afterwards."""
    port = free_port()
    config, openapi = folder / f"pygeoapi-{store}.yml", folder / f"pygeoapi-{store}-openapi.yml"
    config.write_text(json.dumps(pygeoapi_config(port, data, store, url), indent=1))  # JSON is YAML
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    done = _run([str(venv / "bin" / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
                env=env, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"pygeoapi openapi generate failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    log_path = folder / f"pygeoapi-{store}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(venv / "bin" / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
             "--worker-class", "gthread", "--keep-alive", "5", "--timeout", "30", "--access-logfile", "-",
             "--bind", f"127.0.0.1:{port}", "pygeoapi.flask_app:APP"],
            cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    target = Target("pygeoapi", f"http://127.0.0.1:{port}", "", process.pid,
                    lambda: log_path.read_text(errors="replace"))
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _answers(f"{target.base_url}/collections/{COLLECTION}?f=json"):
            if process.poll() is not None:
                raise RuntimeError(f"pygeoapi exited with {process.returncode}:\n{target.log()[-5000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"pygeoapi did not answer in {READY_TIMEOUT_S:.0f} s:\n{target.log()[-5000:]}")
            time.sleep(0.2)
        yield target
    finally:
        stop(process)


@contextlib.contextmanager
def our_server(location: str, workers: int, threads: int) -> Iterator[Target | None]:
    """Our server as shipped (None, after saying why, if its /ogcapi routes do not answer)."""
    with running_server(location, env={"WEB_WORKERS": str(workers), "WEB_THREADS": str(threads)}, workers=workers,
                        ready_timeout=READY_TIMEOUT_S) as server:
        target = Target("ours", server.base_url, "/ogcapi", server.process.pid, server.log)
        probe = f"{server.base_url}/ogcapi/collections/{COLLECTION}?f=json"
        try:
            with urllib.request.urlopen(probe, timeout=READY_TIMEOUT_S) as resp:
                resp.read()
            yield target
        except OSError as exc:
            print(f"  ours: GET {probe} fails ({exc}): our /ogcapi routes do not answer yet, ours is not measured")
            yield None


# -- load -------------------------------------------------------------------------------------------------

@dataclass
class Run:
    """One timed run: latencies (s), errors by kind, bytes, wall time and CPU seconds."""

    latencies: list[float] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    body_bytes: int = 0
    seconds: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    db_cpu_s: float | None = None
    #: Answers and latency percentiles (ms) when the load tool reports only those (wrk), not each latency.
    answers: int | None = None
    percentiles_ms: dict[float, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies) if self.answers is None else self.answers

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if q in self.percentiles_ms:
            return self.percentiles_ms[q]
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")


def paths_for(target: Target, case: str, client: int, seed: int, data_bounds: tuple[float, float, float, float],
              n: int, count: int = 4096) -> list[str]:
    """The request paths of one client (the same boxes or ids for every server: they depend on seed and client)."""
    rng = np.random.default_rng([seed, client, 0 if case == "bbox" else 1])
    if case == "bbox":
        west, south, east, north = data_bounds
        xs, ys = rng.uniform(west, east - BOX_DEG, count), rng.uniform(south, north - BOX_DEG, count)
        return [target.items(f"bbox={x:.4f},{y:.4f},{x + BOX_DEG:.4f},{y + BOX_DEG:.4f}&limit={LIMIT}&f=json")
                for x, y in zip(xs.tolist(), ys.tolist())]
    return [target.item(f"synthetic-{i:07d}") for i in rng.integers(0, n, count).tolist()]


def _client_thread(host: str, port: int, paths: list[str], start: float, deadline: float, out: dict) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=120)
    latencies, errors, size, last = [], collections.Counter(), 0, start
    i = 0
    while time.monotonic() < start:
        time.sleep(0.001)
    while time.monotonic() < deadline:
        path = paths[i % len(paths)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] += 1
            conn.close()
            continue
        last = time.monotonic()
        if resp.status == 200:
            latencies.append(time.perf_counter() - t0)
            size += len(body)
        else:
            errors[f"HTTP {resp.status}"] += 1
    conn.close()
    out.setdefault("latencies", []).extend(latencies)
    out.setdefault("errors", collections.Counter()).update(errors)
    out["bytes"] = out.get("bytes", 0) + size
    out["last"] = max(out.get("last", start), last)


def _client_process(host: str, port: int, path_lists: list[list[str]], start: float, deadline: float,
                    queue: mp.Queue) -> None:
    """Threads of one client process; puts its latencies, errors, bytes, last answer time and CPU on the queue."""
    outs = [{} for _ in path_lists]
    threads = [threading.Thread(target=_client_thread, args=(host, port, paths, start, deadline, out))
               for paths, out in zip(path_lists, outs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put({"latencies": [x for o in outs for x in o.get("latencies", [])],
               "errors": dict(sum((o.get("errors", collections.Counter()) for o in outs), collections.Counter())),
               "bytes": sum(o.get("bytes", 0) for o in outs), "last": max(o.get("last", start) for o in outs),
               "cpu": usage.ru_utime + usage.ru_stime})


#: wrk's Lua script: each of its threads walks the clients' paths from its own offset; at the end one line of JSON.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local threads, next_id = {}, 0
function setup(thread)
  thread:set("offset", next_id * 4096)
  next_id = next_id + 1
  threads[#threads + 1] = thread
end
function init(args) i = offset or 0; bytes = 0; bad = 0 end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
function response(status, headers, body)
  if status == 200 then bytes = bytes + #body else bad = bad + 1 end
end
function done(summary, latency, requests)
  local b, n = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bytes"); n = n + t:get("bad") end
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, '
    .. '"non200": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\\n', summary.requests,
    summary.duration, b, latency:percentile(50), latency:percentile(95), n, e.connect, e.read, e.write, e.timeout))
end
"""


def ensure_wrk() -> str:
    """The path of ``wrk`` (Debian's package, installed here when missing and we are root)."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0:
        _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"], timeout=600)
        found = shutil.which("wrk")
        if found is None:
            _run(["apt-get", "update", "-qq"], timeout=600)
            _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"], timeout=600)
            found = shutil.which("wrk")
    if found is None:
        raise SystemExit("--load wrk needs wrk (apt-get install wrk)")
    return found


def load_wrk(target: Target, path_lists: list[list[str]], seconds: float, threads: int,
             postmaster: int | None) -> Run:
    """The same clients as :func:`load` (one keep-alive connection each, the same paths), driven by wrk (C):
    its ``threads`` take far less CPU than Python clients, so more of the machine is left to the server."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script, paths = Path(folder, "paths.lua"), Path(folder, "paths.txt")
        script.write_text(WRK_SCRIPT)
        interleaved = [p for group in zip(*path_lists) for p in group]
        paths.write_text("\n".join(interleaved) + "\n")
        threads = max(1, min(threads, len(path_lists)))
        before, child0 = _cpu(target.pgid, postmaster), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([wrk, f"-t{threads}", f"-c{len(path_lists)}", f"-d{seconds:g}s", "--timeout", "120s",
                               "-s", str(script), target.base_url], capture_output=True, text=True,
                              env={**os.environ, "BENCH_PATHS": str(paths)}, timeout=seconds + 600)
        after, child1 = _cpu(target.pgid, postmaster), resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    doc = json.loads(line[len("BENCH "):])
    errors = collections.Counter({k: doc[k] for k in ("non200", "connect", "read", "write", "timeout") if doc[k]})
    return Run(errors=errors, body_bytes=doc["bytes"], seconds=doc["duration_us"] / 1e6,
               client_cpu_s=(child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime),
               server_cpu_s=after[0] - before[0],
               db_cpu_s=None if before[1] is None or after[1] is None else after[1] - before[1],
               answers=doc["requests"] - doc["non200"], percentiles_ms={50: doc["p50_us"] / 1000, 95: doc["p95_us"] / 1000})


def _proc_table() -> dict[int, tuple[int, int, float, float]]:
    """pid -> (parent pid, process group, CPU seconds, CPU seconds of its exited children) of every process."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / CLK_TCK,
                                  (int(fields[13]) + int(fields[14])) / CLK_TCK)
    return table


def _cpu(pgid: int, postmaster: int | None) -> tuple[float, float | None]:
    """CPU seconds so far of a server's process group, and of the database (its postmaster, the postmaster's
    children, and the children that exited: a backend whose connection closed)."""
    table = _proc_table()
    server = sum(cpu for _, group, cpu, _ in table.values() if group == pgid)
    if postmaster is None or postmaster not in table:
        return server, None
    return server, table[postmaster][3] + sum(cpu for pid, (parent, _, cpu, _) in table.items()
                                              if pid == postmaster or parent == postmaster)


def load(target: Target, path_lists: list[list[str]], seconds: float, processes: int,
         postmaster: int | None) -> Run:
    """The clients (one path list each) on ``target`` for ``seconds``, spread over ``processes`` processes."""
    parts = urlsplit(target.base_url)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    shares = [path_lists[k::processes] for k in range(processes) if path_lists[k::processes]]
    start = time.monotonic() + 0.5  # every process and thread is up before the clock starts
    deadline = start + seconds
    procs = [ctx.Process(target=_client_process, args=(parts.hostname, parts.port, share, start, deadline, queue),
                         daemon=True) for share in shares]
    for p in procs:
        p.start()
    while time.monotonic() < start:
        time.sleep(0.005)
    cpu0 = _cpu(target.pgid, postmaster)
    results = [queue.get(timeout=seconds + 600) for _ in procs]
    cpu1 = _cpu(target.pgid, postmaster)
    for p in procs:
        p.join()
    run = Run()
    for r in results:
        run.latencies.extend(r["latencies"])
        run.errors.update(r["errors"])
        run.body_bytes += r["bytes"]
        run.client_cpu_s += r["cpu"]
    run.seconds = max(max(r["last"] for r in results), deadline) - start
    run.server_cpu_s = cpu1[0] - cpu0[0]
    run.db_cpu_s = None if cpu0[1] is None else cpu1[1] - cpu0[1]
    return run


def get_json(target: Target, path: str) -> tuple[int, dict | None]:
    """GET a JSON answer: (status, document), the document None unless 200 (status 0: no answer)."""
    try:
        with urllib.request.urlopen(target.base_url + path, timeout=300) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError):
        return 0, None


def sanity(target: Target, data: Data, seed: int) -> dict[str, object]:
    """What the sanity check compares: the ids of a few whole boxes, and a few features by id."""
    rng = np.random.default_rng([seed, 99])
    west, south, east, north = data.bounds
    answers: dict[str, object] = {}
    for x, y in zip(rng.uniform(west, east - BOX_DEG, CHECK_BOXES).tolist(),
                    rng.uniform(south, north - BOX_DEG, CHECK_BOXES).tolist()):
        box = f"{x:.4f},{y:.4f},{x + BOX_DEG:.4f},{y + BOX_DEG:.4f}"
        status, doc = get_json(target, target.items(f"bbox={box}&limit={CHECK_LIMIT}&f=json"))
        answers[f"bbox {box}"] = (status, sorted(str(f["id"]) for f in doc["features"]) if doc else None)
    for i in rng.integers(0, data.n, CHECK_IDS).tolist():
        fid = f"synthetic-{i:07d}"
        status, doc = get_json(target, target.item(fid))
        answers[f"item {fid}"] = (status, (str(doc["id"]), doc["properties"].get("name_en"),
                                           [round(c, 6) for c in doc["geometry"]["coordinates"]]) if doc else None)
    return answers


def print_sanity(theirs: dict[str, object], ours: dict[str, object]) -> None:
    print("  sanity check (the same requests to both servers):")
    for key, (status, value) in theirs.items():
        our_status, our_value = ours[key]
        if key.startswith("bbox"):
            counts = f"pygeoapi {len(value) if value else '-'} features, ours {len(our_value) if our_value else '-'}"
            same = "same ids" if value is not None and value == our_value else "DIFFERENT ids"
            print(f"    {key:<44} {counts}: {same} (HTTP {status} / {our_status})")
        else:
            same = "same id, name_en and point" if value is not None and value == our_value else \
                f"DIFFERENT: {value} / {our_value}"
            print(f"    {key:<44} {same} (HTTP {status} / {our_status})")


def warm_workers(target: Target, workers: int, threads: int, data: Data, seed: int) -> float:
    """Requests on 2 x workers x threads fresh connections at once, so every worker loads its data; seconds."""
    paths = paths_for(target, "bbox", 10_000, seed, data.bounds, data.n, count=2 * workers * threads)
    t0 = time.perf_counter()
    pool = [threading.Thread(target=get_json, args=(target, p)) for p in paths]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - t0


CASES = {"bbox": f"items?bbox=<{BOX_DEG:g}° box>&limit={LIMIT}", "item": "items/{id}"}


def measure(target: Target, args: argparse.Namespace, data: Data, clients: list[int],
            postmaster: int | None) -> dict[tuple[str, int], Run]:
    warm = warm_workers(target, args.workers, args.threads, data, args.seed)
    print(f"  {target.name}: {target.base_url} ({2 * args.workers * args.threads} warm-up requests at once in "
          f"{warm:.1f} s)")
    runs = {}
    for case, title in CASES.items():
        for n_clients in clients:
            lists = [paths_for(target, case, c, args.seed, data.bounds, data.n) for c in range(n_clients)]
            if args.load == "wrk":
                if args.warmup > 0:
                    load_wrk(target, lists, args.warmup, args.client_processes, None)
                run = load_wrk(target, lists, args.seconds, args.client_processes, postmaster)
            else:
                if args.warmup > 0:
                    load(target, lists, args.warmup, args.client_processes, None)
                run = load(target, lists, args.seconds, args.client_processes, postmaster)
            runs[case, n_clients] = run
            n = run.count
            errors = sum(run.errors.values())
            db = "" if run.db_cpu_s is None else f", db CPU {1000 * run.db_cpu_s / max(n, 1):.1f} ms/req"
            print(f"    {target.name:<8} {title:<36} {n_clients:>3} clients: {n:>6} req in {run.seconds:5.1f} s "
                  f"= {run.rate:7.1f} req/s  p50 {run.pct(50):7.1f} ms  p95 {run.pct(95):7.1f} ms  "
                  f"errors {errors}{f' {dict(run.errors)}' if errors else ''}  "
                  f"({run.body_bytes / max(n, 1) / 1000:.1f} kB/answer; server CPU "
                  f"{1000 * run.server_cpu_s / max(n, 1):.1f} ms/req{db}; client CPU "
                  f"{100 * run.client_cpu_s / run.seconds:.0f}% of a core)", flush=True)
    return runs


def postmaster_pid(url: str | None) -> int | None:
    """The pid of a throwaway cluster's postmaster (its data folder is beside the socket folder)."""
    if url is None:
        return None
    host = parse_qs(urlsplit(url).query).get("host", [""])[0]
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((Path(host).parent / "data" / "postmaster.pid").read_text().split()[0])
    return None


def _rate(run: Run | None) -> str:
    return f"{run.rate:.1f}" if run else "-"


def _p50(run: Run | None) -> str:
    return f"{run.pct(50):.1f}" if run else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic projects (default 100000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed seconds of the same load before each run")
    parser.add_argument("--clients", default="8,32", help="concurrent clients, comma-separated (default 8,32)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of both servers (default 2)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per worker of both servers (default 4, our WEB_THREADS default)")
    parser.add_argument("--stores", default="gpkg,postgis", help="gpkg, postgis or both (default)")
    parser.add_argument("--servers", default="pygeoapi,ours", help="pygeoapi, ours or both (default)")
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the clients are spread over (with --load wrk: wrk's threads)")
    parser.add_argument("--load", choices=("python", "wrk"), default="python",
                        help="the load client: Python threads (default) or wrk (C, far less client CPU)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pygeoapi-venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    stores = [s for s in args.stores.split(",") if s]
    servers = [s for s in args.servers.split(",") if s]
    start = time.perf_counter()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; both servers: {args.workers} workers x "
          f"{args.threads} threads (gthread); {args.seconds:g} s per run after {args.warmup:g} s warm-up; "
          f"clients over {args.client_processes} {'wrk threads' if args.load == 'wrk' else 'processes'}")

    if "pygeoapi" in servers:
        try:
            t0 = time.perf_counter()
            versions, how = ensure_pygeoapi(args.pygeoapi_venv)
        except PygeoapiUnavailable as exc:
            print(f"pygeoapi could not be installed, so nothing is compared: {exc}", file=sys.stderr)
            return 2
        print(f"pygeoapi {versions['pygeoapi']} ({how}, {time.perf_counter() - t0:.0f} s): Python "
              f"{versions['python']}, GDAL {versions['gdal']} ({versions['osgeo']}), gunicorn {versions['gunicorn']}")

    results: dict[tuple[str, str, str, int], Run] = {}
    with contextlib.ExitStack() as stack:
        url = None
        if "postgis" in stores:
            from tests.postgis_cluster import postgis_cluster

            t0 = time.perf_counter()
            url = stack.enter_context(postgis_cluster())
            print(f"throwaway PostGIS cluster up in {time.perf_counter() - t0:.1f} s")
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-ogcapi-")))
        data = write_data(args.n, args.seed, folder, url)
        for store in stores:
            location = str(data.gpkg_store) if store == "gpkg" else url
            postmaster = postmaster_pid(url) if store == "postgis" else None
            print(f"\n{'GeoPackage (pygeoapi: OGR provider)' if store == 'gpkg' else 'PostGIS (pygeoapi: PostgreSQL provider)'}")
            checks: dict[str, dict[str, object]] = {}
            for name in servers:
                if name == "pygeoapi":
                    server = pygeoapi_server(args.pygeoapi_venv, folder, data, store, url, args.workers, args.threads)
                else:
                    server = our_server(location, args.workers, args.threads)
                with server as target:
                    if target is None:
                        continue
                    checks[name] = sanity(target, data, args.seed)
                    for (case, n_clients), run in measure(target, args, data, clients, postmaster).items():
                        results[name, store, case, n_clients] = run
            if len(checks) == 2:
                print_sanity(checks["pygeoapi"], checks["ours"])

    print(f"\nSummary: throughput ours / pygeoapi (goal: at least 3x), {args.workers} workers x {args.threads} threads")
    print(f"  {'store':<9} {'case':<36} {'clients':>7} {'pygeoapi req/s':>15} {'ours req/s':>11} {'ratio':>7}  "
          f"{'p50 ms (pygeoapi / ours)':>25}")
    met = []
    for store in stores:
        for case, title in CASES.items():
            for n_clients in clients:
                theirs, ours = results.get(("pygeoapi", store, case, n_clients)), results.get(("ours", store, case, n_clients))
                ratio = ours.rate / theirs.rate if theirs and ours and theirs.rate else float("nan")
                if theirs and ours:
                    met.append(ratio >= 3)
                p50 = f"{_p50(theirs)} / {_p50(ours)}"
                print(f"  {store:<9} {title:<36} {n_clients:>7} {_rate(theirs):>15} {_rate(ours):>11} "
                      f"{ratio:6.2f}x  {p50:>25}")
    if met:
        print(f"  goal (>= 3x) met in {sum(met)} of {len(met)} cases")
    errors = sum(sum(r.errors.values()) for r in results.values())
    print(f"\ndone in {time.perf_counter() - start:.0f} s; {errors} errors in all")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
