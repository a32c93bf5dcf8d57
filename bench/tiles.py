"""Benchmark: the server side of the tiled map (``/tiles/projects/<z>/<x>/<y>.mvt``) at 100k and 1M projects.

For each size, a synthetic store (``bench/map_page.py``'s: the real layers plus N random projects in the
metro area, WGS84) is served by the real app in this process (Flask test client, gzip as a browser asks
for it). A scripted view sequence like a planner's (the first view of the metro area at z9 in a
1280x800 window, then 20 steps: zoom in to z14 around 伊滨 and 偃师, pan, zoom out) asks for the tiles
each view shows. Printed per size: store load (first request), the first view's tiles, bytes (gzipped,
as sent) and server time; per step p50/p95 of the server time of all its tiles; server time per tile
p50/p95 (first request of a tile of a new zoom included: that is when a zoom's clusters are computed);
RSS of the process after loading and after the sequence.

Usage: python bench/tiles.py [--sizes 100000,1000000] [--fmt mvt|json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import mercantile
import numpy as np
from map_page import synthetic_store

from webmap import create_app

WINDOW_PX = (1280, 800)
STEPS = [(9, 112.45, 34.62), (10, 112.55, 34.65), (11, 112.64, 34.62), (12, 112.64, 34.62), (13, 112.64, 34.615),
         (14, 112.64, 34.615), (14, 112.70, 34.64), (14, 112.76, 34.68), (13, 112.79, 34.72), (12, 112.79, 34.72),
         (12, 112.60, 34.70), (11, 112.45, 34.62), (11, 112.20, 34.55), (12, 112.20, 34.55), (13, 112.18, 34.52),
         (13, 112.30, 34.52), (12, 112.40, 34.60), (10, 112.45, 34.62), (9, 112.45, 34.62), (8, 112.45, 34.62)]


def rss_mb() -> float:
    """This process's resident memory (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def view_tiles(z: int, lon: float, lat: float) -> list[mercantile.Tile]:
    """The tiles a WINDOW_PX window centred at (lon, lat) shows at zoom z."""
    cx, cy = mercantile.xy(lon, lat)
    m_per_px = 2 * 20037508.342789244 / (256 * 2**z)
    half_w, half_h = WINDOW_PX[0] / 2 * m_per_px, WINDOW_PX[1] / 2 * m_per_px
    w, s = mercantile.lnglat(cx - half_w, cy - half_h)
    e, n = mercantile.lnglat(cx + half_w, cy + half_h)
    return list(mercantile.tiles(w, s, e, n, z))


def run(n: int, fmt: str) -> None:
    """Serve a store of n projects and replay the view sequence; print the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corridors.gpkg"
        t0 = time.perf_counter()
        synthetic_store(path, n)
        print(f"{n:>9,} projects: store written in {time.perf_counter() - t0:.1f} s", flush=True)
        client = create_app({"TESTING": True, "CORRIDORS_STORE": str(path)}).test_client()
        before = rss_mb()
        t0 = time.perf_counter()
        assert client.get("/readyz").status_code == 200
        print(f"  first request (load, joins, belts): {time.perf_counter() - t0:.1f} s; RSS {before:.0f} -> "
              f"{rss_mb():.0f} MB", flush=True)
        per_tile, per_step, first = [], [], None
        for i, (z, lon, lat) in enumerate(STEPS):
            step_t, step_bytes, count = 0.0, 0, 0
            for tile in view_tiles(z, lon, lat):
                t0 = time.perf_counter()
                r = client.get(f"/tiles/projects/{tile.z}/{tile.x}/{tile.y}.{fmt}", headers={"Accept-Encoding": "gzip"})
                dt = time.perf_counter() - t0
                assert r.status_code == 200, r.get_data(as_text=True)[:200]
                per_tile.append(dt)
                step_t += dt
                step_bytes += len(r.data)
                if fmt == "json":
                    body = gzip.decompress(r.data) if r.headers.get("Content-Encoding") == "gzip" else r.data
                    count += json.loads(body)["count"]
            if i == 0:
                first = (len(view_tiles(z, lon, lat)), step_bytes, step_t, count)
            else:
                per_step.append(step_t)
        assert first is not None

        def pct(values: list[float], q: float) -> float:
            return float(np.percentile(values, q)) * 1e3

        print(f"  first view (z{STEPS[0][0]}, {first[0]} tiles): {first[1] / 1024:.1f} kB sent, server "
              f"{first[2] * 1e3:.0f} ms" + (f", {first[3]:,} projects counted" if fmt == "json" else ""))
        print(f"  pan/zoom step (20 steps): server p50 {pct(per_step, 50):.0f} ms, p95 {pct(per_step, 95):.0f} ms")
        print(f"  per tile ({len(per_tile)} tiles): p50 {pct(per_tile, 50):.1f} ms, p95 {pct(per_tile, 95):.1f} ms, "
              f"mean {statistics.fmean(per_tile) * 1e3:.1f} ms")
        print(f"  RSS after the sequence: {rss_mb():.0f} MB", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--fmt", default="mvt", choices=["mvt", "json"])
    args = parser.parse_args(argv)
    for n in (int(float(s)) for s in args.sizes.split(",")):
        run(n, args.fmt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
