"""Benchmark: time to export static maps (geo.render) per format and kind, best of N runs.

Reads the store (``CORRIDORS_STORE`` or data/build/corridors.gpkg; built into a temporary folder if
missing), renders each case N times into memory and prints the best and the median time, the output
size and, for PNG, the pixel size. One untimed warm-up render first (font registration, caches).
Cases: the whole metro area as an A4 landscape PNG at 300 dpi (the goal: under 2 s), SVG and PDF;
A3 landscape PNG at 300 dpi; the largest PNG an export may ask for (A3 landscape at the highest dpi under
``geo.render.MAX_PAGE_PIXELS``); a 1920x1080 slide; a corridor map, a 10 km buffer query and a site ranking
(A4 PNG at 300 dpi each).
Usage: python bench/export.py [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import analysis, mapspecs, render
from geo.query import QueryEngine
from geo.settings import Settings
from geo.store import GeoPackageStore

GOAL_S = 2.0  # the whole metro area, A4 landscape, 300 dpi PNG


def load_layers() -> dict:
    """Every layer of the configured store (built into a temporary folder when there is none)."""
    store = GeoPackageStore(Settings.from_mapping(os.environ).store_path)
    if not store.exists():
        from geo.build import build_store

        store = GeoPackageStore(Path(tempfile.mkdtemp(prefix="bench-export-")) / "corridors.gpkg")
        build_store(store.path)
    return store.read_all()


def largest_a3_dpi() -> int:
    """The highest whole dpi at which an A3 page stays within ``render.MAX_PAGE_PIXELS`` (the export's bound)."""
    w_in, h_in = (mm / 25.4 for mm in render.PAGE_MM["A3"])
    return min(render.DPI_RANGE[1], math.floor(math.sqrt(render.MAX_PAGE_PIXELS / (w_in * h_in))))


def cases(layers: dict) -> list[tuple[str, render.MapSpec, str, str, int]]:
    """(name, spec, format, size, dpi) of each benchmark case."""
    belts = analysis.corridor_belts(layers["corridors"])
    joined = analysis.joined(layers)
    metro = mapspecs.metro_map(layers, belts=belts)
    near = mapspecs.near_map(layers, QueryEngine(layers).near(radius_km=10, lon=112.45, lat=34.62))
    out = [
        ("metro A4 300 dpi", metro, "png", "A4-landscape", 300),
        ("metro A4", metro, "svg", "A4-landscape", 300),
        ("metro A4", metro, "pdf", "A4-landscape", 300),
        ("metro A3 300 dpi", metro, "png", "A3-landscape", 300),
        (f"metro A3 {largest_a3_dpi()} dpi (limit)", metro, "png", "A3-landscape", largest_a3_dpi()),
        ("metro slide", metro, "png", "1920x1080", 300),
        ("corridor A4 300 dpi", mapspecs.corridor_map(layers, "luo-ji-jiao", belts=belts, joined=joined), "png",
         "A4-landscape", 300),
        ("near 10 km A4 300 dpi", near, "png", "A4-landscape", 300),
    ]
    try:
        from geo import siting

        result = siting.rank_parks(layers, industry_id="battery-materials", top=10)
        out.append(("site ranking A4 300 dpi", mapspecs.ranking_map(layers, result.ranking), "png", "A4-landscape", 300))
    except ImportError:
        pass
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (default 5)")
    args = parser.parse_args(argv)
    layers = load_layers()
    todo = cases(layers)
    render.render_bytes(todo[0][1], "png", size="A4-landscape", dpi=72)  # warm-up: fonts, caches
    print(f"{'case':28} {'format':6} {'best s':>7} {'median s':>9} {'size':>10}  pixels")
    goal_time = None
    for name, spec, fmt, size, dpi in todo:
        times, data, facts = [], b"", None
        for _ in range(args.runs):
            buf = io.BytesIO()
            t0 = time.perf_counter()
            facts = render.render_map(spec, buf, fmt, size=size, dpi=dpi)
            times.append(time.perf_counter() - t0)
            data = buf.getvalue()
        pixels = f"{facts.pixels[0]}x{facts.pixels[1]}" if fmt == "png" else "—"
        print(f"{name:28} {fmt:6} {min(times):7.3f} {statistics.median(times):9.3f} {len(data) / 1e6:8.2f} MB  {pixels}")
        if name.startswith("metro A4 300") and fmt == "png":
            goal_time = min(times)
    ok = goal_time is not None and goal_time < GOAL_S
    print(f"goal: metro A4 300 dpi PNG under {GOAL_S:g} s (best of {args.runs}): {goal_time:.3f} s "
          f"{'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
