"""Benchmark: which browser library draws our point tiles (``/tiles/projects/...``) best, in headless Chromium.

The tiles are the server's (``geo.tiles``: grid clusters with exact counts below z13, points from there on), over a
synthetic store (``bench/map_page.py``'s: the real layers plus N random projects, WGS84). Each candidate draws the
same scripted view sequence (``bench/tiles.py``'s 20 steps: the metro area at z9, in to z14 around 伊滨 and 偃师,
pans, out to z8) in a 1280x800 map; a step is timed from ``setView`` to every tile of the view fetched and drawn
(and the next animation frame). Each candidate runs in a fresh browser context after a warm-up pass over the whole
sequence, so the server's per-zoom clusters are built before anything is timed and no HTTP cache is reused.

Candidates that draw the tiles (512 px tiles, the server's tiles of the zoom above, unless said otherwise):
  - ``vectorgrid``: Leaflet.VectorGrid 1.3 (vendored) through the app's ``static/app/tile_points.js``: MVT tiles,
    one canvas per tile, the counts and the map's symbols drawn on it; ``vectorgrid256`` the same with 256 px tiles;
  - ``markers``: plain Leaflet (no library): JSON tiles, one ``L.marker`` with a DivIcon (SVG) per cluster or point,
    the DOM markers the page draws today;
  - ``glify``: Leaflet.glify 3.3 (WebGL): JSON tiles of the view, one WebGL points layer redrawn per step (it draws
    no text, so no counts).
And the script cost of the two WebGL map libraries that would need a second map or a binding in a Leaflet page:
``deck.gl`` 9.4 (``dist.min.js``) and ``maplibre-gl`` 5.x: bytes (gzipped) and time to load and run the script.

Libraries other than the vendored VectorGrid come from npm (``npm pack``) into ``--libs`` (a temporary folder by
default). Usage: python bench/tile_renderers.py [--projects 100000] [--runs 3] [--libs DIR] [--store PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np
from flask import Response, abort, send_file
from map_page import CHROMIUM, CHROMIUM_ARGS, synthetic_store
from tiles import STEPS, WINDOW_PX
from werkzeug.serving import make_server

from geo.style import STATUS_COLORS
from webmap import create_app

#: npm packages: name@version -> the file the page loads (inside the tarball's package/ folder).
NPM = {
    "leaflet.glify@3.3.1": "dist/glify-browser.js",
    "deck.gl@9.4.0": "dist.min.js",
    "maplibre-gl@5.24.1": "dist/maplibre-gl.js",
}

HARNESS = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">
<style>html,body{margin:0} #m{width:%(w)dpx;height:%(h)dpx} .c{border-radius:50%%;background:rgba(241,128,23,.7);
text-align:center;font:600 11px sans-serif;line-height:30px;width:30px;height:30px}</style>
<script src="/static/vendor/leaflet/leaflet.js"></script>
%(libs)s
</head><body><div id="m"></div><script>
const STEPS = %(steps)s, COLORS = %(colors)s, BASE = '/tiles/projects';
const map = L.map('m', {maxZoom: 20, zoomAnimation: false, fadeAnimation: false}).setView([STEPS[0][2], STEPS[0][1]], STEPS[0][0]);
const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
const settle = (layer) => new Promise((r) => { if (layer.isLoading && layer.isLoading()) layer.once('load', r); else r(); });
const svg = (st) => `<svg width="20" height="20"><circle cx="10" cy="10" r="6" fill="${COLORS[st] || COLORS.unknown}" stroke="#fff" stroke-width="2"/></svg>`;
const MarkerGrid = L.GridLayer.extend({
  initialize(o) { L.GridLayer.prototype.initialize.call(this, o); this._m = {}; this.on('tileunload', (e) => {
    const k = this._tileCoordsToKey(e.coords); (this._m[k] || []).forEach((m) => m.remove()); delete this._m[k]; }); },
  createTile(c, done) {
    const el = document.createElement('div'), k = this._tileCoordsToKey(c);
    fetch(`${BASE}/${c.z - 1}/${c.x}/${c.y}.json`).then((r) => r.json()).then((doc) => {
      this._m[k] = doc.features.map((f) => L.marker([f.lat, f.lon], {icon: f.properties.cluster
        ? L.divIcon({className: '', html: `<div class="c">${f.properties.count}</div>`, iconSize: [30, 30]})
        : L.divIcon({className: '', html: svg(f.properties.status), iconSize: [20, 20]})}).addTo(this._map));
      done(null, el);
    });
    return el;
  },
});
function viewTiles() {  // 512 px tiles: the server's tiles of the zoom above
  const z = map.getZoom(), b = map.getPixelBounds(), n = 1 << (z - 1), out = [];
  for (let x = Math.floor(b.min.x / 512); x <= Math.floor((b.max.x - 1) / 512); x++)
    for (let y = Math.floor(b.min.y / 512); y <= Math.floor((b.max.y - 1) / 512); y++)
      if (x >= 0 && y >= 0 && x < n && y < n) out.push([z - 1, x, y]);
  return out;
}
const hex = (h) => ({r: parseInt(h.slice(1, 3), 16) / 255, g: parseInt(h.slice(3, 5), 16) / 255, b: parseInt(h.slice(5, 7), 16) / 255});
let glifyLayer = null;
async function glifyDraw() {
  const docs = await Promise.all(viewTiles().map(([z, x, y]) => fetch(`${BASE}/${z}/${x}/${y}.json`).then((r) => r.json())));
  const feats = docs.flatMap((d) => d.features);
  if (glifyLayer) glifyLayer.remove();
  glifyLayer = L.glify.points({map, data: feats.map((f) => [f.lat, f.lon]),
    size: (i) => (feats[i].properties.cluster ? 14 + 3 * Math.log10(feats[i].properties.count) : 10),
    color: (i) => hex(COLORS[feats[i].properties.status] || '#f18017'), click: () => {}});
}
window.runSteps = async (name) => {
  let layer = null;
  if (name === 'vectorgrid') layer = L.tilePoints(BASE, {statusColors: COLORS}).addTo(map);
  if (name === 'vectorgrid256') layer = L.tilePoints(BASE, {statusColors: COLORS, tileSize: 256, zoomOffset: 0}).addTo(map);
  if (name === 'markers') layer = new MarkerGrid({tileSize: 512}).addTo(map);
  const times = [], waits = [], counts = [];
  for (const [z, lon, lat] of STEPS) {
    performance.clearResourceTimings();
    const t0 = performance.now();
    map.setView([lat, lon], z, {animate: false});
    if (layer) await settle(layer); else await glifyDraw();
    await frame();
    times.push(performance.now() - t0);
    const got = performance.getEntriesByType('resource').filter((r) => r.name.includes('/tiles/'));
    waits.push(Math.max(0, ...got.map((r) => r.responseEnd - t0)));
    counts.push(got.length);
  }
  return {times, waits, counts};
};
window.loadScript = (src) => new Promise((res, rej) => { const s = document.createElement('script'); const t0 = performance.now();
  s.src = src; s.onload = () => res(performance.now() - t0); s.onerror = rej; document.head.append(s); });
</script></body></html>"""


def npm_libs(folder: Path) -> dict[str, Path]:
    """The npm files of NPM under folder (packed and unpacked there on first use); missing ones are left out."""
    out = {}
    for spec, inner in NPM.items():
        name, version = spec.rsplit("@", 1)
        unpacked = folder / f"{name}-{version}"
        if not (unpacked / "package" / inner).is_file():
            try:
                subprocess.run(["npm", "pack", spec, "--silent"], cwd=folder, check=True, capture_output=True, timeout=300)
                with tarfile.open(folder / f"{name.replace('/', '-')}-{version}.tgz") as tar:
                    tar.extractall(unpacked, filter="data")
            except (OSError, subprocess.SubprocessError, tarfile.TarError) as exc:
                print(f"  {spec}: not measured ({exc})")
                continue
        out[name] = unpacked / "package" / inner
    return out


def harness(name: str) -> str:
    """The page of one candidate (its scripts, the map, the step runner)."""
    vectorgrid = ["/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js", "/static/app/tile_points.js"]
    libs = {"vectorgrid": vectorgrid, "vectorgrid256": vectorgrid, "glify": ["/_bench/lib/leaflet.glify"]}.get(name, [])
    tags = "\n".join(f'<script src="{u}"></script>' for u in libs)
    return HARNESS % {"w": WINDOW_PX[0], "h": WINDOW_PX[1], "libs": tags,
                      "steps": json.dumps([list(s) for s in STEPS]), "colors": json.dumps(STATUS_COLORS)}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main(argv: list[str] | None = None) -> int:
    """Build the store, serve it with the harness pages, draw the sequence with each candidate, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--libs", type=Path, default=None, help="folder for the npm packages (default: temporary)")
    parser.add_argument("--store", type=Path, help="reuse (or keep) the synthetic store at this path")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        libs_dir = args.libs or Path(tmp)
        libs_dir.mkdir(parents=True, exist_ok=True)
        libs = npm_libs(libs_dir)
        store = args.store or Path(tmp) / "synthetic.gpkg"
        if not store.exists():
            t0 = time.perf_counter()
            synthetic_store(store, args.projects)
            print(f"synthetic store: {args.projects:,} projects, built in {time.perf_counter() - t0:.1f} s", flush=True)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = create_app({"CORRIDORS_STORE": str(store)})

        @app.get("/_bench/page/<name>")
        def _page(name: str) -> Response:
            return Response(harness(name), mimetype="text/html")

        @app.get("/_bench/lib/<name>")
        def _lib(name: str) -> Response:
            return send_file(libs[name], mimetype="text/javascript") if name in libs else abort(404)

        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        candidates = ["vectorgrid", "vectorgrid256", "markers"] + (["glify"] if "leaflet.glify" in libs else [])
        results: dict[str, list[float]] = {}
        firsts: dict[str, list[float]] = {}
        waits: dict[str, list[float]] = {}
        tiles_per_step: dict[str, list[int]] = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            def run(name: str) -> list[float]:
                context = browser.new_context(viewport={"width": WINDOW_PX[0], "height": WINDOW_PX[1]})
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"{url}/_bench/page/{name}")
                out = page.evaluate("name => runSteps(name)", name)
                context.close()
                if errors:
                    raise RuntimeError(f"{name}: {errors[:3]}")
                waits.setdefault(name, []).extend(out["waits"][1:])
                tiles_per_step.setdefault(name, []).extend(out["counts"][1:])
                return out["times"]

            run("markers")  # warm-up: the server builds each zoom's clusters once
            for name in candidates:
                try:
                    runs = [run(name) for _ in range(args.runs)]
                except Exception as exc:  # noqa: BLE001 - a candidate that fails is reported, not fatal
                    print(f"{name}: failed: {exc}")
                    continue
                firsts[name] = [r[0] for r in runs]
                results[name] = [t for r in runs for t in r[1:]]
            print(f"\nDrawing the 20-step view sequence ({WINDOW_PX[0]}x{WINDOW_PX[1]}, {args.projects:,} projects, "
                  f"{args.runs} runs each; ms from setView to every tile fetched and drawn):")
            print(f"{'candidate':<14}{'first view':>12}{'step p50':>10}{'step p95':>10}{'step max':>10}"
                  f"{'tiles in p50':>14}{'tiles/step':>12}")
            for name, times in results.items():
                print(f"{name:<14}{min(firsts[name]):>10.0f}ms{pct(times, 50):>8.0f}ms{pct(times, 95):>8.0f}ms"
                      f"{max(times):>8.0f}ms{pct(waits[name], 50):>12.0f}ms{np.mean(tiles_per_step[name]):>12.1f}")
            print("(tiles in: from setView to the last tile response of the step, the rest is drawing)")
            print("\nScript cost (bytes as sent gzipped; time to load and run the script in a blank page, best of 3):")
            files = {"leaflet.vectorgrid + tile_points.js": [
                ROOT / "webmap/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
                ROOT / "webmap/static/app/tile_points.js"]}
            files.update({name: [path] for name, path in libs.items()})
            for name, paths in files.items():
                raw = sum(p.stat().st_size for p in paths)
                gz = sum(len(gzip.compress(p.read_bytes(), 6)) for p in paths)
                srcs = (["/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js", "/static/app/tile_points.js"]
                        if name.startswith("leaflet.vectorgrid") else [f"/_bench/lib/{name}"])
                best = float("inf")
                for _ in range(3):
                    context = browser.new_context()
                    page = context.new_page()
                    page.goto(f"{url}/_bench/page/none")
                    best = min(best, sum(page.evaluate("src => loadScript(src)", s) for s in srcs))
                    context.close()
                print(f"  {name:<38}{raw / 1024:>8.0f} kB raw {gz / 1024:>7.0f} kB gzipped {best:>7.0f} ms")
            browser.close()
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
