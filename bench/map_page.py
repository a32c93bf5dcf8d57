"""Benchmark: the main map with 100k or 1M synthetic projects, served as shipped, in headless Chromium.

Builds a synthetic store (the real districts, corridors, parks and institutions plus N random projects inside
the Luoyang metro area, WGS84), serves it with ``run.py serve`` (gunicorn as ``make serve`` runs it, 2 workers,
on 127.0.0.1), loads ``/`` in Debian's Chromium through Playwright (1280x800) and prints:
  - bytes over the wire to the first usable view (HTML, scripts, styles, data, tiles; compressed as sent) and
    uncompressed, and the number of requests;
  - time to the first clusters (the first cluster drawn) and to the first usable view (counts shown, every
    tile of the view drawn, or every point loaded);
  - time per pan/zoom step over the scripted sequence of ``bench/tiles.py`` (20 steps: the metro area at z9,
    in to z14 around 伊滨 and 偃师, pans, out to z8): p50/p95, from ``setView`` to every tile of the view drawn,
    and of that the time until the last tile of the step arrived (the rest is drawing);
  - server time per tile, p50/p95: the browser's time to first byte of each tile request (on loopback);
  - memory per gunicorn worker (RSS) after the runs.
With more than ``BIG_LAYER_FEATURES`` (20,000) projects the page draws them from ``/tiles/``; ``--baseline``
measures the same page sending every point (BIG_LAYER_FEATURES above N), as before tiles.
Goal at 1M: first view under 1.5 MB and 1.5 s, each step under 200 ms p95.

Run 0 is the first to ask for the sequence's tiles; the later runs get the tiles the server kept (as a second
planner looking at the same places would).

Usage: python bench/map_page.py [--projects 100000] [--runs 3] [--baseline]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import io
from geo.schema import STATUSES
from geo.store import GeoPackageStore

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
WINDOW = (1280, 800)
#: The view sequence of bench/tiles.py: (zoom, lon, lat).
STEPS = [(9, 112.45, 34.62), (10, 112.55, 34.65), (11, 112.64, 34.62), (12, 112.64, 34.62), (13, 112.64, 34.615),
         (14, 112.64, 34.615), (14, 112.70, 34.64), (14, 112.76, 34.68), (13, 112.79, 34.72), (12, 112.79, 34.72),
         (12, 112.60, 34.70), (11, 112.45, 34.62), (11, 112.20, 34.55), (12, 112.20, 34.55), (13, 112.18, 34.52),
         (13, 112.30, 34.52), (12, 112.40, 34.60), (10, 112.45, 34.62), (9, 112.45, 34.62), (8, 112.45, 34.62)]


def synthetic_store(path: Path, n: int, seed: int = 7) -> None:
    """Write a store with the real layers and ``n`` random projects (WGS84) to ``path``."""
    layers = io.read_sources()
    rng = np.random.default_rng(seed)
    districts = layers["districts"]
    lon = rng.uniform(111.4, 113.4, n)
    lat = rng.uniform(33.9, 35.2, n)
    real = layers["projects"]
    template = real.iloc[[0]].drop(columns="geometry")
    projects = pd.DataFrame({c: np.repeat(template[c].to_numpy(), n) for c in template.columns})
    projects["id"] = [f"synthetic-project-{i:06d}" for i in range(n)]
    projects["name_zh"] = [f"合成项目{i}" for i in range(n)]
    projects["name_en"] = [f"Synthetic project {i}" for i in range(n)]
    projects["status"] = rng.choice(STATUSES, n)
    projects["chain_link"] = rng.choice(["cell", "foil", "anode", None], n)
    projects["lon"], projects["lat"] = lon, lat
    layers["projects"] = gpd.GeoDataFrame(projects, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    layers["districts"] = districts
    GeoPackageStore(path).write(layers)


# in the page: whether the projects are drawn and settled (tiles: every tile of the view drawn; points: all loaded)
SETTLED = """() => {
  if (document.body.dataset.loaded !== 'true') return false;
  const t = CorridorMap.tileLayers && CorridorMap.tileLayers.projects;
  if (CorridorMap.tileMode && CorridorMap.tileMode.projects) return CorridorMap.map.hasLayer(t) && !t.isLoading();
  return true;
}"""
FIRST_CLUSTER = """() => {
  const t = CorridorMap && CorridorMap.tileLayers && CorridorMap.tileLayers.projects;
  if (t && CorridorMap.tileMode.projects) return t.drawnFeatures().length > 0;
  return !!document.querySelector('.marker-cluster');
}"""
STEP = """async ([z, lon, lat]) => {
  const map = CorridorMap.map, t = CorridorMap.tileLayers.projects;
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  map.setView([lat, lon], z, {animate: false});
  if (CorridorMap.tileMode.projects && t.isLoading()) await new Promise((r) => t.once('load', r));
  await frame();
  const ms = performance.now() - t0;
  const got = performance.getEntriesByType('resource').filter((r) => r.name.includes('/tiles/') && r.startTime >= t0);
  return {ms, tiles: got.length, net: got.length ? Math.max(...got.map((r) => r.responseEnd)) - t0 : 0};
}"""
TILE_TTFB = """() => performance.getEntriesByType('resource').filter((r) => r.name.includes('/tiles/') && r.name.includes('.mvt'))
  .map((r) => r.responseStart - r.requestStart)"""


def measure(url: str) -> dict[str, object]:
    """Load the page in headless Chromium, then run the step sequence; return bytes and times."""
    from playwright.sync_api import sync_playwright

    sent = {"bytes": 0, "raw": 0, "requests": 0}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WINDOW[0], "height": WINDOW[1]})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")

        def finished(event):  # bytes on the wire: compressed where the server compressed
            sent["requests"] += 1
            sent["bytes"] += event["encodedDataLength"]

        def received(event):  # bytes after decompression
            sent["raw"] += event["dataLength"]

        cdp.on("Network.loadingFinished", finished)
        cdp.on("Network.dataReceived", received)
        z, lon, lat = STEPS[0]
        t0 = time.perf_counter()
        page.goto(f"{url}?z={z}&lat={lat}&lon={lon}")
        page.wait_for_function(FIRST_CLUSTER, timeout=300_000, polling=10)
        first = time.perf_counter() - t0
        page.wait_for_function(SETTLED, timeout=300_000, polling=10)
        usable = time.perf_counter() - t0
        page.wait_for_timeout(300)  # the last responses' loadingFinished events
        at_usable = dict(sent)
        tiles = page.evaluate("() => !!(CorridorMap.tileMode && CorridorMap.tileMode.projects)")
        count = page.evaluate("() => document.querySelector('.cm-count[data-layer=projects] b').textContent")
        done = [page.evaluate(STEP, list(s)) for s in STEPS[1:]]
        steps, net, fetched = ([d[k] for d in done] for k in ("ms", "net", "tiles"))
        ttfb = page.evaluate(TILE_TTFB)
        browser.close()
    return {"first_clusters_s": first, "usable_s": usable, "steps_ms": steps, "steps_net_ms": net,
            "steps_tiles": fetched, "tile_ttfb_ms": ttfb, "tiles": tiles,
            "count": count, **at_usable}


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory (MB) of each gunicorn worker (the children of the master process)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip() or 0) == master and "VmRSS" in fields:
            out.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(out)


def load_every_worker(base_url: str) -> None:
    """Make both workers load the store (concurrent requests on new connections reach both), then wait until each
    has built in the background what a new snapshot prepares for the page (webmap.tiles.warm: the tile sources,
    then the corridor standing, which these requests wait for)."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.request import urlopen

    for path in ("/readyz", "/api/corridors?members=false"):
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda url: urlopen(url, timeout=900).read(), [base_url + path] * 16))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(store: Path, n: int, runs: int, big: int | None) -> None:
    """Serve the store as shipped and measure ``runs`` page loads; print the figures."""
    from webmap.server import running_server

    env = {"BIG_LAYER_FEATURES": str(big)} if big else {}
    t0 = time.perf_counter()
    with running_server(store, env=env, workers=2, ready_path="/readyz", ready_timeout=900) as server:
        print(f"server ready in {time.perf_counter() - t0:.1f} s (one worker loaded the store; the other loads on "
              "its first request)", flush=True)
        url = server.base_url + "/"
        load_every_worker(server.base_url)
        cold = measure(url)  # no tile of the sequence asked before
        rows = [measure(url) for _ in range(runs)]  # the server keeps the tiles it encoded (a source's last 2048)
        rss = worker_rss_mb(server.process.pid)
    mode = "tiles" if rows[0]["tiles"] else "all points"
    for i, r in [(0, cold), *enumerate(rows, 1)]:
        steps = r["steps_ms"]
        label = "run 0, no tile asked before" if i == 0 else f"run {i}"
        print(f"{label} ({mode}, {r['count']} projects counted): first usable view {r['bytes'] / 1e6:.2f} MB over the "
              f"wire ({r['raw'] / 1e6:.2f} MB uncompressed, {r['requests']} requests); first clusters "
              f"{r['first_clusters_s']:.2f} s, usable {r['usable_s']:.2f} s; pan/zoom step p50 {pct(steps, 50):.0f} ms, "
              f"p95 {pct(steps, 95):.0f} ms (max {max(steps):.0f}); of which until the last tile arrived p50 "
              f"{pct(r['steps_net_ms'], 50):.0f} ms, p95 {pct(r['steps_net_ms'], 95):.0f} ms; "
              f"{sum(r['steps_tiles'])} tiles fetched in the steps")
    for what, ttfb in (("run 0", cold["tile_ttfb_ms"]), ("later runs", [t for r in rows for t in r["tile_ttfb_ms"]])):
        if ttfb:
            print(f"server time per tile, {what} (time to first byte, {len(ttfb)} tiles): p50 {pct(ttfb, 50):.1f} "
                  f"ms, p95 {pct(ttfb, 95):.1f} ms")
    print("RSS per worker: " + ", ".join(f"{m:.0f} MB" for m in rss))
    best = min(rows, key=lambda r: r["usable_s"])
    steps = [s for r in rows for s in r["steps_ms"]]
    print(f"goal at 1M: first view < 1.5 MB {'met' if best['bytes'] < 1.5e6 else 'MISSED'}, < 1.5 s "
          f"{'met' if best['usable_s'] < 1.5 else 'MISSED'}; step p95 < 200 ms "
          f"{'met' if pct(steps, 95) < 200 else 'MISSED'} ({pct(steps, 95):.0f} ms over runs 1-{runs}; run 0: "
          f"{pct(cold['steps_ms'], 95):.0f} ms)", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Build the synthetic store, serve it, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", action="store_true",
                        help="also measure the page sending every point (BIG_LAYER_FEATURES above N)")
    parser.add_argument("--store", type=Path, help="reuse (or keep) the synthetic store at this path")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "synthetic.gpkg"
        if not store.exists():
            t0 = time.perf_counter()
            synthetic_store(store, args.projects)
            print(f"synthetic store: {args.projects:,} projects, built in {time.perf_counter() - t0:.1f} s", flush=True)
        print(f"== {args.projects:,} projects, the page as shipped (BIG_LAYER_FEATURES "
              f"{os.environ.get('BIG_LAYER_FEATURES', 'default 20000')})")
        run(store, args.projects, args.runs, None)
        if args.baseline:
            print(f"== {args.projects:,} projects, every point sent (BIG_LAYER_FEATURES={args.projects + 1})")
            run(store, args.projects, args.runs, args.projects + 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
