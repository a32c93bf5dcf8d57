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

The cluster is a throwaway one (``tests/postgis_cluster.py``) unless ``--database-url`` names a database
(its schema ``corridors`` is replaced).
Usage: python bench/store.py [--n 100000] [--queries 50] [--seed 7] [--database-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from geo import crs
from geo.postgis import PostGISStore
from geo.query import QueryEngine
from geo.store import GeoPackageStore
from geo.store_queries import MemoryQueries

WEST, EAST, SOUTH, NORTH = 111.2, 113.6, 33.6, 35.4
STATUSES = ("planned", "under_construction", "completed")
WARMUP = 3
BOX_HALF_DEG = 0.05


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


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic projects (default 100000)")
    parser.add_argument("--queries", type=int, default=50, help="query points (default 50)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="a PostGIS database to use instead of a throwaway cluster")
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
