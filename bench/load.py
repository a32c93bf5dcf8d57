"""Benchmark: throughput and latency of the real server under concurrent clients (prints figures).

Starts the server as shipped (``run.py serve --store ...`` as ``make serve`` runs it, on 127.0.0.1 and a
free port, via ``webmap.server.running_server``) unless ``--base-url`` names one already running, then:

1. ``--clients`` (50) clients for ``--seconds`` (30) on a mix of ``/api/near?lon=112.45&lat=34.62&radius_km=10``,
   ``/api/layers/projects``, ``/api/site?industry=battery-materials`` and ``/``;
2. ``--png-clients`` (10) clients for ``--seconds`` on ``/export/map.png``.

Each client is a thread with its own keep-alive ``http.client`` connection (reopened when the server
closes it) sending ``Accept-Encoding: gzip`` like a browser, so the client costs little CPU. Each phase
starts with an untimed warm-up of ``--warmup`` seconds (layers loaded in every worker, fonts, caches).
Printed per phase: requests, throughput (req/s), latency p50/p95/p99/max, errors (non-2xx or
exceptions, by kind) and the client's own CPU use; then p50/p99 per URL. Exits 1 if any request failed.

Usage:
  python bench/load.py [--clients 50] [--seconds 30] [--png-clients 10] [--warmup 3]
  python bench/load.py --base-url http://127.0.0.1:8000            # a server already running
  python bench/load.py --root /tmp/before                          # the run.py serve of another checkout
  python bench/load.py --env WEB_THREADS=4                         # settings of the started server
"""

from __future__ import annotations

import argparse
import collections
import http.client
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webmap.server import running_server

MIX = [
    "/api/near?lon=112.45&lat=34.62&radius_km=10",
    "/api/layers/projects",
    "/api/site?industry=battery-materials",
    "/",
]
PNG = ["/export/map.png"]


@dataclass
class Result:
    """Latencies (s) by path and errors by kind, of one phase."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: collections.Counter = field(default_factory=collections.Counter)
    seconds: float = 0.0
    client_cpu_s: float = 0.0

    def all_latencies(self) -> list[float]:
        return sorted(x for values in self.latencies.values() for x in values)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (nan if none)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil
    return sorted_values[int(rank) - 1]


def client(host: str, port: int, paths: list[str], offset: int, deadline: float, result: Result,
           lock: threading.Lock) -> None:
    """Request ``paths`` round-robin (from ``offset``) on one keep-alive connection until ``deadline``."""
    latencies: list[tuple[str, float]] = []
    errors: collections.Counter = collections.Counter()
    conn = http.client.HTTPConnection(host, port, timeout=120)
    i = offset
    while time.monotonic() < deadline:
        path = paths[i % len(paths)]
        i += 1
        start = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException) as exc:
            errors[type(exc).__name__] += 1
            conn.close()  # the next request opens a new connection
            continue
        if 200 <= resp.status < 300:
            latencies.append((path, time.perf_counter() - start))
        else:
            errors[f"HTTP {resp.status}"] += 1
    conn.close()
    with lock:
        for path, seconds in latencies:
            result.latencies[path].append(seconds)
        result.errors.update(errors)


def load(base_url: str, paths: list[str], clients: int, seconds: float) -> Result:
    """``clients`` concurrent clients on ``paths`` for ``seconds``."""
    parts = urlsplit(base_url)
    result, lock = Result(), threading.Lock()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(parts.hostname, parts.port, paths, k, start + seconds, result,
                                                     lock), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    result.client_cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return result


def report(title: str, result: Result) -> int:
    """Print the figures of a phase; return the number of errors."""
    values = result.all_latencies()
    n_errors = sum(result.errors.values())
    ms = lambda s: f"{s * 1000:.0f} ms"
    print(f"{title}: {len(values)} requests in {result.seconds:.1f} s = {len(values) / result.seconds:.1f} req/s; "
          f"latency p50 {ms(percentile(values, 50))}, p95 {ms(percentile(values, 95))}, "
          f"p99 {ms(percentile(values, 99))}, max {ms(values[-1]) if values else '-'}; "
          f"errors {n_errors}{f' {dict(result.errors)}' if n_errors else ''}; "
          f"client CPU {100 * result.client_cpu_s / result.seconds:.0f}% of one core")
    for path, lat in result.latencies.items():
        lat = sorted(lat)
        print(f"    {path:<48} {len(lat):>6}  p50 {ms(percentile(lat, 50)):>8}  p99 {ms(percentile(lat, 99)):>8}")
    return n_errors


def run_phases(base_url: str, args: argparse.Namespace) -> int:
    errors = 0
    for title, paths, clients in (("mix", MIX, args.clients), ("png", PNG, args.png_clients)):
        if clients <= 0:
            continue
        if args.warmup > 0:
            load(base_url, paths, clients, args.warmup)
        result = load(base_url, paths, clients, args.seconds)
        errors += report(f"{title}, {clients} clients, {args.seconds:g} s", result)
    return errors


def store_path(given: Path | None) -> Path:
    """The store to serve: --store, else the configured one, else one built into a temporary folder."""
    import os

    from geo.settings import Settings
    from geo.store import GeoPackageStore

    if given is not None:
        return given
    store = GeoPackageStore(Settings.from_mapping(os.environ).store_path)
    if store.exists():
        return Path(store.path)
    from geo.build import build_store

    out = Path(tempfile.mkdtemp(prefix="bench-load-")) / "corridors.gpkg"
    build_store(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients on the mix (default 50)")
    parser.add_argument("--png-clients", type=int, default=10, help="concurrent clients on the PNG export (default 10)")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each phase (default 30)")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed warm-up before each phase (default 3)")
    parser.add_argument("--base-url", default=None, help="hit this running server instead of starting one")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose run.py serve is started (default: this one)")
    parser.add_argument("--store", type=Path, default=None, help="GeoPackage to serve (default: as for run.py build)")
    parser.add_argument("--workers", type=int, default=2, help="WEB_WORKERS of the started server (default 2)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment of the started server, e.g. --env WEB_THREADS=8 (repeatable)")
    args = parser.parse_args(argv)

    if args.base_url:
        print(f"server: {args.base_url}")
        errors = run_phases(args.base_url.rstrip("/"), args)
    else:
        env = dict(item.split("=", 1) for item in args.env)
        with running_server(store_path(args.store), env=env, workers=args.workers, root=args.root) as server:
            settings = " ".join(f"{k}={v}" for k, v in {"WEB_WORKERS": args.workers, **env}.items())
            print(f"server: {server.base_url}: {args.root.resolve()}/run.py serve, {settings}")
            errors = run_phases(server.base_url, args)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
