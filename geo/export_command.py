"""The ``export`` command of ``run.py``: a map (PNG, SVG, PDF; drawn in UTM 49N) or data (GeoJSON, CSV,
GeoPackage; WGS84) of the metro area, a corridor, a buffer query or a site ranking, to a file.

``add_parser(sub)`` adds the sub-command to ``run.py``'s sub-parsers; the output format follows the
file's extension (.png .svg .pdf .geojson .csv .gpkg).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from geo.errors import ValidationError

MAP_EXTS = ("png", "svg", "pdf")
DATA_EXTS = ("geojson", "csv", "gpkg")
EXAMPLES = """examples:
  python run.py export --out luoyang.pdf                                 the metro area, A4 landscape
  python run.py export --out luoyang.png --dpi 300 --status planned      the metro area, filtered
  python run.py export --out luo-ru.svg --corridor luo-ru                one corridor, its belt, parks, projects
  python run.py export --out near.pdf --lon 112.45 --lat 34.62 --radius-km 10
  python run.py export --out near.png --feature luo-mian --radius-km 10 --size 1920x1080
  python run.py export --out site.pdf --site battery-materials --top 10  a site ranking
  python run.py export --out planned.gpkg --layer projects --status planned
  python run.py export --out near.csv --near --lon 112.45 --lat 34.62 --radius-km 10
"""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``export`` to run.py's sub-parsers (``sub``) and set its ``func``."""
    p = sub.add_parser(
        "export", help="export a map (PNG/SVG/PDF) or data (GeoJSON/CSV/GeoPackage) to a file",
        description="Write a static map (title, legend, scale bar in km, north arrow, sources, CRS, date; drawn "
        "in UTM 49N) or the data behind it (WGS84). The format follows the extension of --out. Without "
        "--corridor/--near/--site: the whole metro area, narrowed by the filters.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path, help="file to write: .png .svg .pdf .geojson .csv .gpkg")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--corridor", help="a corridor id: its axis, belt, parks and projects")
    mode.add_argument("--near", action="store_true", help="a buffer query (also implied by --radius-km)")
    mode.add_argument("--site", metavar="INDUSTRY", help="a site ranking for an industry id")
    q = p.add_argument_group("buffer query (as `run.py near`)")
    q.add_argument("--lon", help="longitude of the query point (degrees, in --crs)")
    q.add_argument("--lat", help="latitude of the query point (degrees, in --crs)")
    q.add_argument("--crs", default="wgs84", choices=["wgs84", "gcj02", "bd09", "cgcs2000"],
                   help="coordinate system of --lon/--lat (default wgs84)")
    q.add_argument("--feature", help="id of a park, project, institution, corridor or district code")
    q.add_argument("--radius-km", help="search radius in km (0 < r <= 300)")
    p.add_argument("--layer", default=None, help="near: the layers searched (default all); data of the metro "
                   "area: the layer written (parks, projects, institutions, corridors, districts, belts)")
    f = p.add_argument_group("filters of the metro map (as the web map)")
    f.add_argument("--status", help="comma-separated statuses")
    f.add_argument("--chain-link", help="comma-separated chain links")
    f.add_argument("--district", help="comma-separated county or city codes")
    f.add_argument("--q", help="name search")
    f.add_argument("--layers", help="layers drawn (default all): districts,belts,corridors,parks,projects,institutions")
    p.add_argument("--top", type=int, default=None, help="--site: the best N parks (default all)")
    p.add_argument("--title", default=None, help="map title (Chinese and/or English; default from the content)")
    p.add_argument("--size", default="A4-landscape", help="A4-landscape (default), A4-portrait, A3-landscape, "
                   "A3-portrait, or pixels like 1920x1080")
    p.add_argument("--dpi", default=300, help="dots per inch of a PNG on paper sizes (default 300)")
    p.add_argument("--date", default=None, help="date printed in the footer (default today)")
    p.add_argument("--store", type=Path, default=None, help="GeoPackage to read (default: as for build)")
    p.set_defaults(func=run)
    return p


def _kind(path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    if ext not in (*MAP_EXTS, *DATA_EXTS):
        raise ValidationError(f"unknown output extension {path.suffix!r}; expected one of: "
                              f"{', '.join('.' + e for e in (*MAP_EXTS, *DATA_EXTS))}", field="out")
    return ext


def _rank(layers: Any, args: argparse.Namespace) -> Any:
    """Run geo.siting.rank_parks for --site (a clear error if site selection is not installed)."""
    try:
        from geo import siting
    except ImportError:
        raise ValidationError("site selection is not available yet", field="site") from None
    if not hasattr(siting, "rank_parks"):
        raise ValidationError("site selection is not available yet", field="site")
    return siting.rank_parks(layers, industry_id=args.site, top=args.top)


def run(args: argparse.Namespace) -> int:
    """Write the map or the data the arguments describe; print what was written."""
    from geo import analysis, downloads, mapspecs, render
    from geo.filters import Filters
    from geo.query import QueryEngine
    from geo.store import open_store

    ext = _kind(args.out)
    layers = open_store(args.store).read_all()
    wanted = Filters.from_mapping({"status": args.status, "chain_link": args.chain_link,
                                   "district": args.district, "q": args.q})
    near = args.near or args.radius_km is not None
    if near and args.radius_km is None:
        raise ValidationError("--near needs --radius-km (and --lon/--lat or --feature)", field="radius_km")
    result = None
    if near:
        layer = args.layer.split(",") if args.layer and args.layer != "all" else None
        result = QueryEngine(layers).near(radius_km=args.radius_km, lon=args.lon, lat=args.lat, system=args.crs,
                                          feature=args.feature, layer=layer)
    elif args.site:
        result = _rank(layers, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if ext in DATA_EXTS:
        if near:
            body, _, _ = downloads.near_download(result, ext, register=layers.get("sources"))
        elif args.site:
            body, _, _ = downloads.ranking_download(result.ranking, ext, f"site-{args.site}")
        elif args.corridor:
            j = analysis.joined(layers)
            analysis.corridor(layers, args.corridor)
            import geopandas as gpd
            import pandas as pd

            parts = [analysis.corridor_members(j[n], args.corridor).assign(layer=n) for n in ("parks", "projects")]
            members = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")
            body, _, _ = downloads.download(members, ext, f"corridor-{args.corridor}")
        elif args.layer:
            body, _, _ = downloads.layer_download(layers, args.layer, ext, wanted=wanted)
        else:
            raise ValidationError("for data give --layer, --corridor, --near or --site", field="layer")
        args.out.write_bytes(body)
        print(f"wrote {args.out} ({len(body):,} bytes, {ext}, WGS84 EPSG:4326)")
        return 0
    if near:
        spec = mapspecs.near_map(layers, result)
    elif args.site:
        ind = result.industry
        spec = mapspecs.ranking_map(layers, result.ranking, subject=(str(ind["name_zh"]), str(ind["name_en"])))
    elif args.corridor:
        spec = mapspecs.corridor_map(layers, args.corridor)
    else:
        visible = [v.strip() for v in args.layers.split(",") if v.strip()] if args.layers else None
        spec = mapspecs.metro_map(layers, filters=wanted, visible=visible)
    facts = render.render_map(spec, args.out, size=args.size, dpi=args.dpi, title=args.title, date=args.date)
    size = f"{facts.pixels[0]}x{facts.pixels[1]} px" if ext == "png" else \
        f"{facts.page_pt[0]:.0f}x{facts.page_pt[1]:.0f} pt"
    listed = f"{facts.table_total} listed, " if spec.table is not None else ""
    print(f"wrote {args.out} ({facts.size}, {size}; scale 1:{facts.scale_denominator:,.0f}, scale bar "
          f"{facts.scale_bar.length_km:g} km; {listed}{facts.marks} symbols; drawn in {facts.crs})")
    return 0
