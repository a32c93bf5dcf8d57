"""Benchmark: the GeoPackage store queried in memory against the PostGIS store queried in SQL.

N synthetic projects (default 100k), uniformly random (fixed seed) in the Luoyang metro area (WGS84
lon 111.2-113.6, lat 33.6-35.4), each with an ``id``, names, a ``status`` and an investment figure.

GeoPackage path: write time (``GeoPackageStore.write``), load time (read the layer, build the
``QueryEngine`` and its STRtree), process RSS after loading, then per query: ``QueryEngine.near`` at
1 km and 10 km (what the app runs), ``in_bbox`` limit 100 and ``by_id`` (``geo.store_queries``).
PostGIS path: write time (``PostGISStore.write``, indexes and ANALYZE included), then the same queries
in SQL (``PostGISStore.near`` / ``in_bbox`` / ``by_id``; each call takes a connection from the store's
pool, the shared lock and checks the data version; two more lines time the near SQL alone on one open
connection). Query points are random in the central part of the area; a bbox is 0.1 x 0.1 degrees around
the point; by-id asks for a random existing id. Figures: median and p95 ms over ``--queries`` points
(after a few untimed warm-up calls), and the median number of hits.

App worker (a second part, after the first: a second GeoPackage file, and the PostGIS schema written
over): both stores are written again, now with every layer the app requires
(``geo.dataset._require_layers``): the repository's real layers (``geo.io.read_sources``, in build order) with ``projects`` replaced by N synthetic projects that carry every column of the real
projects layer, with the same names and dtypes (each value drawn from the real rows, so missing where
the drawn row has none; new unique ``id``, ``name_zh`` and ``name_en``; a random position, with ``lon`` and
``lat`` set to match it; the geometry last). First, 1000 such projects are checked in memory:
``Dataset(layers, belt_km=15)`` builds and ``dataset.engine.near`` answers. Then, per store, the write
time, and a fresh Python subprocess (so the benchmark's own imports and data don't count) that imports
the app (``webmap``, its blueprints and psycopg), records its RSS (VmRSS of /proc/self/status), runs
``webmap.create_app({"CORRIDORS_STORE": location})`` and, through ``test_client()``, ``GET /readyz`` (the
first request: it loads the snapshot of every layer, joins and belts; on PostGIS all layers are read
too, only ``near`` goes to SQL) and ``GET /api/near?lon=112.45&lat=34.62&radius_km=10&layer=projects``
(the first one builds the projects STRtree on a GeoPackage), then records its RSS again and its peak
(VmHWM), and times ``--warm`` more of the same ``/api/near`` (median and p95: the whole request, JSON
serialization of the GeoJSON answer included). Last line: the whole run's time and this process's peak RSS.

The cluster is a throwaway one (``tests/postgis_cluster.py``) unless ``--database-url`` names a database
(its schema ``corridors`` is replaced).
Usage: python bench/store.py [--n 100000] [--queries 50] [--warm 20] [--seed 7] [--database-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from geo import crs
from geo.dataset import Dataset
from geo.postgis import PostGISStore
from geo.query import QueryEngine
from geo.store import GeoPackageStore
from geo.store_queries import MemoryQueries

WEST, EAST, SOUTH, NORTH = 111.2, 113.6, 33.6, 35.4
STATUSES = ("planned", "under_construction", "completed")
WARMUP = 3
BOX_HALF_DEG = 0.05
#: The app worker's query: what a planner's first buffer query looks like (Luoyang, 10 km, projects).
NEAR_URL = "/api/near?lon=112.45&lat=34.62&radius_km=10&layer=projects"
#: Synthetic projects in the in-memory check of the full layers, before the N-row stores are written.
CHECK_N = 1000
#: Longest a worker subprocess may take (s); it is killed past it.
WORKER_TIMEOUT_S = 3600

#: The app worker, run as ``python -c WORKER ROOT LOCATION N WARM``: prints one line, ``RESULT {json}``.
WORKER = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
location, n, warm, near_url = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")

import psycopg  # noqa: F401 - the PostGIS driver, imported on first connect: count it as an import
import webmap
from webmap import api, compress, corridors, data, export, features, health, pages, security, site  # noqa: F401
rss_imports = status("VmRSS")
app = webmap.create_app({"CORRIDORS_STORE": location})
client = app.test_client()
t0 = time.perf_counter()
ready = client.get("/readyz")
first_ms = (time.perf_counter() - t0) * 1000
if ready.status_code != 200:
    sys.exit(f"/readyz answered {ready.status_code}: {ready.get_data(as_text=True)[:2000]}")
count = ready.get_json()["layers"]["projects"]
if count != n:
    sys.exit(f"/readyz counts {count} projects, expected {n}")
t0 = time.perf_counter()
near = client.get(near_url)
first_near_ms = (time.perf_counter() - t0) * 1000
if near.status_code != 200:
    sys.exit(f"{near_url} answered {near.status_code}: {near.get_data(as_text=True)[:2000]}")
body_mb = len(near.get_data()) / 1e6
hits = len(near.get_json()["features"])
del near
rss_requests, peak = status("VmRSS"), status("VmHWM")
ms = []
for _ in range(warm):
    t0 = time.perf_counter()
    answer = client.get(near_url)
    ms.append((time.perf_counter() - t0) * 1000)
    assert answer.status_code == 200, answer.status_code
print("RESULT " + json.dumps({
    "rss_imports": rss_imports, "rss_requests": rss_requests, "peak": peak, "rss_warm": status("VmRSS"),
    "first_ms": first_ms, "first_near_ms": first_near_ms, "warm_ms": ms, "hits": hits, "body_mb": body_mb}))
"""


def synthetic_projects(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    lon, lat = rng.uniform(WEST, EAST, n), rng.uniform(SOUTH, NORTH, n)
    ids = np.char.add("p", np.char.zfill(np.arange(n).astype(str), 7)).astype(object)
    return gpd.GeoDataFrame({
        "id": ids,
        "name_zh": np.char.add("项目", np.arange(n).astype(str)).astype(object),
        "name_en": np.char.add("Project ", np.arange(n).astype(str)).astype(object),
        "status": rng.choice(STATUSES, n).astype(object),
        "investment_cny_100m": np.round(rng.uniform(0.5, 50, n), 2),
    }, geometry=gpd.points_from_xy(lon, lat), crs=crs.WGS84)


def full_projects(real: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """N projects with every column of the real layer (same names, order and dtypes, the geometry last):
    each value drawn from the real rows (missing where the drawn row has none), new unique ids and names,
    random positions in the metro area (``lon``/``lat`` matching the geometry)."""
    lon, lat = rng.uniform(WEST, EAST, n), rng.uniform(SOUTH, NORTH, n)
    geom = real.geometry.name
    columns: dict[str, object] = {
        name: real[name].take(rng.integers(0, len(real), n)).reset_index(drop=True)  # keeps the dtype
        for name in real.columns if name != geom}
    numbers = np.arange(n).astype(str)
    # object, as the real layer's text (pandas would otherwise infer its own string dtype)
    columns["id"] = pd.Series(np.char.add("synthetic-", np.char.zfill(numbers, 7)), dtype=object)
    columns["name_zh"] = pd.Series(np.char.add("合成项目", numbers), dtype=object)
    columns["name_en"] = pd.Series(np.char.add("Synthetic project ", numbers), dtype=object)
    columns["lon"], columns["lat"] = lon, lat
    columns[geom] = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=real.crs)
    frame = gpd.GeoDataFrame(columns, geometry=geom, crs=real.crs)
    if list(frame.columns) != list(real.columns) or not frame.dtypes.equals(real.dtypes):
        raise AssertionError(f"synthetic projects differ from the real layer:\n{frame.dtypes}\n{real.dtypes}")
    return frame


def full_layers(real: dict[str, gpd.GeoDataFrame | pd.DataFrame], n: int,
                rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
    """The real layers (in build order) with ``projects`` replaced by N synthetic ones."""
    return {name: full_projects(frame, n, rng) if name == "projects" else frame for name, frame in real.items()}


def rss_mb(key: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(label: str, calls: list[Callable[[], int]]) -> None:
    for call in calls[:WARMUP]:
        call()
    ms, hits = [], []
    for call in calls:
        t0 = time.perf_counter()
        hits.append(call())
        ms.append((time.perf_counter() - t0) * 1000)
    p95 = float(np.percentile(ms, 95))
    print(f"  {label:<22} median {statistics.median(ms):8.2f} ms   p95 {p95:8.2f} ms   "
          f"hits (median) {statistics.median(hits):g}")


def query_calls(near: Callable[[float, float, float], int], bbox: Callable[[float, float], int],
                by_id: Callable[[str], int], points: np.ndarray, ids: list[str]) -> None:
    timed("near 1 km", [lambda x=x, y=y: near(x, y, 1.0) for x, y in points])
    timed("near 10 km", [lambda x=x, y=y: near(x, y, 10.0) for x, y in points])
    timed("bbox 0.1°, limit 100", [lambda x=x, y=y: bbox(x, y) for x, y in points])
    timed("by id", [lambda i=i: by_id(i) for i in ids])


def run_worker(location: str, n: int, warm: int) -> dict[str, object]:
    """Run :data:`WORKER` over a store in a fresh interpreter; its measurements (it is killed on timeout)."""
    done = subprocess.run([sys.executable, "-c", WORKER, str(ROOT), location, str(n), str(warm), NEAR_URL],
                          cwd=ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the app worker failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def app_workers(n: int, warm: int, seed: int, folder: Path, pg: PostGISStore, url: str) -> None:
    """The second part: every layer in both stores, the app's memory and first/warm requests per store."""
    from geo.build import in_store_order
    from geo.io import read_sources

    real = in_store_order(read_sources())
    rng = np.random.default_rng([seed, 1])  # its own stream: the first part's figures stay as they were
    print(f"\nApp worker: every layer ({', '.join(f'{k} {len(v)}' for k, v in real.items() if k != 'projects')}; "
          f"projects: {n} synthetic, all {real['projects'].shape[1]} columns); webmap.create_app and "
          f"test_client() in a fresh subprocess per store")
    check = Dataset(full_layers(real, CHECK_N, rng), belt_km=15)
    found = check.engine.near(radius_km=10, lon=112.45, lat=34.62)
    print(f"  check: Dataset(layers, belt_km=15) over {CHECK_N} synthetic projects builds; engine.near 10 km "
          f"around (112.45, 34.62) finds {len(found.features)} features {found.summary['by_layer']}")
    del check, found
    t0 = time.perf_counter()
    layers = full_layers(real, n, rng)
    print(f"  {n} synthetic projects made in {time.perf_counter() - t0:.1f} s")

    gpkg = GeoPackageStore(folder / "app.gpkg")
    t0 = time.perf_counter()
    gpkg.write(layers)
    gpkg_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    pg.write(layers)
    pg_write = time.perf_counter() - t0
    del layers
    gc.collect()

    for title, location, write in (
            (f"GeoPackage, {gpkg.path.stat().st_size / 1e6:.1f} MB file", str(gpkg.path), gpkg_write),
            ("PostGIS (the snapshot is read in SQL, then near runs in SQL)", url, pg_write)):
        t0 = time.perf_counter()
        r = run_worker(location, n, warm)
        wall = time.perf_counter() - t0
        print(f"\n  {title}")
        print(f"    write                  {write:8.2f} s")
        print(f"    worker RSS after imports {r['rss_imports']:.0f} MB, after first requests {r['rss_requests']:.0f} MB "
              f"(+{r['rss_requests'] - r['rss_imports']:.0f} MB for the data)")
        print(f"    worker peak RSS {r['peak']:.0f} MB (VmHWM, during the first requests); "
              f"{r['rss_warm']:.0f} MB after the warm requests")
        print(f"    first request /readyz  {r['first_ms'] / 1000:8.2f} s   (loads the snapshot: every layer, joins, belts)")
        print(f"    first /api/near        {r['first_near_ms']:8.1f} ms  ({r['hits']} features, "
              f"{r['body_mb']:.1f} MB GeoJSON)")
        ms = r["warm_ms"]
        print(f"    warm /api/near         median {statistics.median(ms):8.1f} ms   "
              f"p95 {float(np.percentile(ms, 95)):8.1f} ms   ({len(ms)} requests)")
        print(f"    worker subprocess      {wall:8.1f} s in all (start, imports, load, requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic projects (default 100000)")
    parser.add_argument("--queries", type=int, default=50, help="query points (default 50)")
    parser.add_argument("--warm", type=int, default=20, help="warm /api/near requests per app worker (default 20)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="a PostGIS database to use instead of a throwaway cluster")
    args = parser.parse_args()
    start = time.perf_counter()

    rng = np.random.default_rng(args.seed)
    projects = synthetic_projects(args.n, rng)
    points = np.column_stack([rng.uniform(WEST + 0.3, EAST - 0.3, args.queries),
                              rng.uniform(SOUTH + 0.3, NORTH - 0.3, args.queries)])
    ids = [str(projects["id"].iat[i]) for i in rng.integers(0, args.n, args.queries)]
    print(f"{args.n} synthetic projects, {args.queries} query points (seed {args.seed})")

    with contextlib.ExitStack() as stack:
        url = args.database_url
        if url is None:
            from tests.postgis_cluster import postgis_cluster

            t0 = time.perf_counter()
            url = stack.enter_context(postgis_cluster())
            print(f"throwaway PostGIS cluster up in {time.perf_counter() - t0:.1f} s")
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-store-")))

        gpkg = GeoPackageStore(folder / "corridors.gpkg")
        t0 = time.perf_counter()
        gpkg.write({"projects": projects})
        gpkg_write = time.perf_counter() - t0
        pg = stack.enter_context(PostGISStore(url))  # its pool closes before the cluster stops
        t0 = time.perf_counter()
        pg.write({"projects": projects})
        pg_write = time.perf_counter() - t0
        del projects
        gc.collect()

        print(f"\nGeoPackage (in memory: QueryEngine / geo.store_queries), {gpkg.path.stat().st_size / 1e6:.1f} MB file")
        print(f"  write                  {gpkg_write:8.2f} s")
        before = rss_mb()
        t0 = time.perf_counter()
        layer = gpkg.read("projects")
        engine = QueryEngine({"projects": layer})
        engine.index("projects")
        load = time.perf_counter() - t0
        memory = MemoryQueries({"projects": layer})
        memory.in_bbox("projects", *points[0], *points[0])  # builds the WGS84 STRtree of in_bbox
        print(f"  load + STRtree         {load:8.2f} s")
        print(f"  process RSS            {rss_mb():8.0f} MB after loading ({rss_mb() - before:+.0f} MB for the layer)")
        query_calls(
            lambda x, y, r: len(engine.near(radius_km=r, lon=x, lat=y, layer="projects").features),
            lambda x, y: len(memory.in_bbox("projects", x - BOX_HALF_DEG, y - BOX_HALF_DEG, x + BOX_HALF_DEG,
                                            y + BOX_HALF_DEG, limit=100)),
            lambda i: len(memory.by_id("projects", i)), points, ids)

        print(f"\nPostGIS (SQL: ST_DWithin on the geography index, ST_Distance; && ; id =), {pg.path}")
        print(f"  write                  {pg_write:8.2f} s")
        query_calls(
            lambda x, y, r: len(pg.near("projects", shapely.Point(x, y), r * 1000)),
            lambda x, y: len(pg.in_bbox("projects", x - BOX_HALF_DEG, y - BOX_HALF_DEG, x + BOX_HALF_DEG,
                                        y + BOX_HALF_DEG, limit=100)),
            lambda i: len(pg.by_id("projects", i)), points, ids)
        # the same near SQL on one open connection: the query without checkout, lock and version check
        with pg._connect() as conn:
            for radius_km in (1.0, 10.0):
                statements = [pg._near_statement(conn, "projects", shapely.Point(x, y), radius_km * 1000,
                                                 limit=None, offset=0, where=None)[:2] for x, y in points]
                timed(f"near {radius_km:g} km, SQL only",
                      [lambda s=s, p=p: len(conn.execute(sa.text(s), p).all()) for s, p in statements])

        layer = engine = memory = statements = None  # the first part's data: not held meanwhile
        gc.collect()
        app_workers(args.n, args.warm, args.seed, folder, pg, url)
    print(f"\ndone in {time.perf_counter() - start:.0f} s; peak RSS of this process {rss_mb('VmHWM'):.0f} MB")


if __name__ == "__main__":
    main()
