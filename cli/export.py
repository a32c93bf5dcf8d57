"""The ``export`` command of ``run.py``: a map (PNG, SVG, PDF; drawn in UTM 49N) or data (GeoJSON, CSV,
GeoPackage; WGS84) of the metro area, a corridor, a buffer query or a site ranking, to a file.

``add_parser(sub)`` adds the sub-command to ``run.py``'s sub-parsers; the output format follows the
file's extension (.png .svg .pdf .geojson .csv .gpkg). What the arguments ask is read into a subject of
:mod:`geo.exports` (:func:`subject_of`), the plan the web's ``/export/`` uses too, so the command line and
the web give the same map and the same bytes for the same request; this module only parses and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from geo import exports
from geo.errors import ValidationError
from geo.filters import Filters

EXAMPLES = """examples:
  python run.py export --out luoyang.pdf                                 the metro area, A4 landscape
  python run.py export --out luoyang.png --dpi 300 --status planned      the metro area, filtered
  python run.py export --out luo-ru.svg --corridor luo-ru                one corridor, its belt, parks, projects
  python run.py export --out near.pdf --lon 112.45 --lat 34.62 --radius-km 10
  python run.py export --out near.png --feature luo-mian --radius-km 10 --size 1920x1080
  python run.py export --out site.pdf --site battery-materials --top 10  a site ranking
  python run.py export --out yibin.png --bbox 112.56,34.56,112.72,34.67  the metro map of one view
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
    q.add_argument("--certain-only", action="store_true",
                   help="only records whose whole possible area lies within the radius")
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
    p.add_argument("--size", default=exports.DEFAULT_SIZE, help="A4-landscape (default), A4-portrait, A3-landscape, "
                   "A3-portrait, or pixels like 1920x1080")
    p.add_argument("--dpi", default=300, help="dots per inch of a PNG on paper sizes (default 300)")
    p.add_argument("--date", default=None, help="date printed in the footer (default today)")
    p.add_argument("--bbox", default=None, metavar="W,S,E,N", help="a map: show this WGS84 box (west,south,east,"
                   "north degrees, e.g. a browser's view) instead of what the map draws")
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL to read (default: "
                   "$CORRIDORS_STORE, else $DATABASE_URL, as for build)")
    p.set_defaults(func=run)
    return p


def format_of(out: Path) -> str:
    """The output format named by the extension of ``--out`` (ValidationError naming ``out`` otherwise)."""
    ext = out.suffix.lower().lstrip(".")
    if ext not in exports.FORMATS:
        raise ValidationError(f"unknown output extension {out.suffix!r}; expected one of: "
                              f"{', '.join('.' + e for e in exports.FORMATS)}", field="out")
    return ext


def _list(text: str | None) -> tuple[str, ...] | None:
    """A comma-separated option as a tuple of its stripped values (None when not given)."""
    return None if text is None else tuple(v.strip() for v in text.split(","))


def subject_of(args: argparse.Namespace) -> exports.Subject:
    """What the arguments ask for, as a subject of :mod:`geo.exports` (checked there, with the data)."""
    wanted = Filters.from_mapping({"status": args.status, "chain_link": args.chain_link,
                                   "district": args.district, "q": args.q})
    near = args.near or args.radius_km is not None
    if near:
        if args.radius_km is None:
            raise ValidationError("--near needs --radius-km (and --lon/--lat or --feature)", field="radius_km")
        return exports.Near(radius_km=args.radius_km, lon=args.lon, lat=args.lat, feature=args.feature,
                            system=args.crs, layers=_list(args.layer or None), certain_only=args.certain_only)
    if args.site:
        return exports.Site(industry_id=args.site, top=args.top)
    if args.corridor:
        return exports.Corridor(args.corridor)
    if format_of(args.out) in exports.DATA_FORMATS:
        if not args.layer:
            raise ValidationError("for data give --layer, --corridor, --near or --site", field="layer")
        return exports.Layer(args.layer, wanted)
    visible = tuple(v for v in _list(args.layers) if v) if args.layers else None
    return exports.Metro(wanted, visible=visible)


def dataset(args: argparse.Namespace):
    """The store's layers with their indexes, belts and joins (``--store``, else the settings)."""
    from cli.config import dataset as read

    return read(args)


def run(args: argparse.Namespace) -> int:
    """Write the map or the data the arguments describe; print what was written."""
    ext = format_of(args.out)
    bbox = None if args.bbox is None else exports.parse_bbox(args.bbox, "bbox")
    output = exports.MapOutput(ext, size=args.size, dpi=args.dpi, title=args.title, date=args.date, extent=bbox) \
        if ext in exports.MAP_FORMATS else None
    if output is None and bbox is not None:
        raise ValidationError("--bbox is the extent of a map (.png .svg .pdf), not of data", field="bbox")
    subject = subject_of(args)
    data = dataset(args)
    if output is None:
        body, _, _ = exports.download(data, subject, ext)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(body)
        print(f"wrote {args.out} ({len(body):,} bytes, {ext}, WGS84 EPSG:4326)")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    drawn = exports.draw_map(data, subject, output, dest=args.out)
    facts = drawn.facts
    size = f"{facts.pixels[0]}x{facts.pixels[1]} px" if ext == "png" else \
        f"{facts.page_pt[0]:.0f}x{facts.page_pt[1]:.0f} pt"
    listed = f"{facts.table_total} listed, " if drawn.spec.table is not None else ""
    print(f"wrote {args.out} ({facts.size}, {size}; scale 1:{facts.scale_denominator:,.0f}, scale bar "
          f"{facts.scale_bar.length_km:g} km; {listed}{facts.marks} symbols; drawn in {facts.crs})")
    return 0
