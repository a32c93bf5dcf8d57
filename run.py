#!/usr/bin/env python3
"""洛阳都市圈产业走廊地图 · Luoyang industrial-corridor map: the command line.

Examples:
  python run.py build            validate data/sources/ and write instance/corridors.gpkg
  python run.py layers           list the layers of the store, their feature counts and CRS
  python run.py near --lon 112.45 --lat 34.62 --radius-km 10 [--layer projects] [--crs gcj02]
  python run.py near --feature luo-mian --radius-km 10 --format geojson
  python run.py nearest --lon 112.45 --lat 34.62 --layer institutions -k 3
  python run.py corridors        standing of the four corridors against their 2021 targets
  python run.py chain [--park ID | --corridor ID]   present and missing links of the battery chain
  python run.py site --industry battery-materials --top 5   ranked parks with the reasons
  python run.py export --out map.pdf [--corridor ID | --near ... | --site INDUSTRY] [--size A4-landscape]
  python run.py serve            start the map on http://127.0.0.1:8000/ (HOST, PORT settings)
  python run.py import 项目库.xlsx --layer projects --crs gcj02 --dry-run   preview an office's list
  python run.py history --since 2026-11-01      the ledger's changes;   python run.py undo c000042
  python run.py users add wang --role editor    who may write;          python run.py tokens add wang

Every coordinate read or written is WGS84 (EPSG:4326) unless an option says otherwise.
Settings: CORRIDORS_STORE (path of the GeoPackage, default instance/corridors.gpkg, or a
postgresql:// URL), DATABASE_URL (a PostGIS store, used when CORRIDORS_STORE is unset),
CORRIDOR_BELT_KM (belt half-width either side of a corridor axis, default 15).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from geo.errors import GeoError


def settings(args: argparse.Namespace, store: str | None = None):
    """The settings, read once from the environment (``store``, else ``--store``, and ``--belt-km`` override them)."""
    from cli.config import settings as read

    return read(args, store)


def _dataset(args: argparse.Namespace):
    """The store's layers with their indexes, belts (of the configured width) and joins."""
    from cli.config import dataset

    return dataset(args)


def _cmd_build(args: argparse.Namespace) -> int:
    from geo.build import build_store

    build_store(settings(args, args.out).store, sources_dir=args.sources, boundaries=args.boundaries, progress=print)
    return 0


def _cmd_layers(args: argparse.Namespace) -> int:
    from geo.store import open_store

    store = open_store(settings(args).store)
    rows = [(i.name, str(i.feature_count), i.geometry_type, i.crs) for i in store.info()]
    header = ("layer", "features", "geometry", "crs")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(4)]
    print(f"store: {store.path}")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def _engine(args: argparse.Namespace):
    return _dataset(args).engine


RESULT_TABLE = ("certainty", "distance_min_km", "distance_max_km", "distance_km", "rank_min", "rank_max", "layer", "id",
                "name_zh", "name_en", "status", "located_to_en")


def _print_result(gdf, fmt: str, **members) -> None:
    from geo import formats

    if fmt == "geojson":
        print(formats.dumps(formats.feature_collection(gdf, **members)))
    elif fmt == "json":
        print(formats.dumps({**members, "features": formats.records(gdf)}))
    elif fmt == "csv":
        sys.stdout.write(formats.to_csv(gdf))
    else:
        print(formats.to_table(formats.records(gdf), [c for c in RESULT_TABLE if c in gdf.columns]))


def _cmd_near(args: argparse.Namespace) -> int:
    result = _engine(args).near(radius_km=args.radius_km, lon=args.lon, lat=args.lat, system=args.crs,
                                feature=args.feature, layer=args.layer, certain_only=args.certain_only)
    if args.format == "table":
        q = result.query
        s = result.summary
        where = f"feature {q['feature']}" if "feature" in q else f"({q['lon']}, {q['lat']}) WGS84"
        print(f"within {q['radius_km']:g} km of {where}: {len(result.features)} features, {s['certain']} certainly "
              f"and {s['possible']} possibly within (distances geodesic, km: to the point drawn, and the nearest "
              "and farthest point of where each record may lie)")
        _print_result(result.features, "table")
        print(f"by layer: {s['by_layer']}  by status: {s['by_status']}")
        about = "about " if s.get("investment_cny_100m_qualifier") else ""
        invest = "unknown" if s["investment_cny_100m"] is None else f"{about}{s['investment_cny_100m']:g} 亿元"
        print(f"investment inside: {invest} ({s['projects_with_investment']} projects with a figure, "
              f"{s['projects_without_investment']} without)")
    else:
        _print_result(result.features, args.format, query=result.query, summary=result.summary)
    return 0


def _cmd_nearest(args: argparse.Namespace) -> int:
    gdf = _engine(args).nearest(layer=args.layer, k=args.k, lon=args.lon, lat=args.lat, system=args.crs,
                                feature=args.feature)
    _print_result(gdf, args.format, query={"layer": args.layer, "k": args.k, "crs": "EPSG:4326"})
    return 0


def _cmd_corridors(args: argparse.Namespace) -> int:
    from geo import analysis, formats

    data = _dataset(args)
    rows = analysis.corridor_standing(data.layers, data.belt_km, joined_layers=data.joined)
    if args.format == "json":
        print(formats.dumps(rows))
        return 0
    table = [{**r, "target": r["investment_target_2021_cny_100m"],
              "known": r["investment_known_cny_100m"] if r["investment_known_cny_100m"] is not None else "unknown",
              "status": ", ".join(f"{k} {v}" for k, v in r["projects_by_status"].items()) or "—",
              "districts": len(r["districts_crossed"])} for r in rows]
    print(f"corridor standing (2021 targets, 亿元; belts {rows[0]['belt_km']:g} km either side of the axis)")
    print(formats.to_table(table, ["id", "name_zh", "target", "known", "projects_named", "projects_in_belt",
                                   "status", "parks_named", "parks_in_belt", "districts", "axis_length_km"]))
    return 0


def _cmd_chain(args: argparse.Namespace) -> int:
    from geo import chain, formats

    data = _dataset(args)
    cov = chain.coverage(data.layers, park=args.park, corridor=args.corridor, chain=args.chain, joined=data.joined)
    if args.format == "json":
        print(formats.dumps(cov))
        return 0
    print(f"{cov['name_zh']} {cov['name_en']}: chain {cov['chain']}, "
          f"{len(cov['present'])}/{len(cov['links'])} links present")
    table = [{"link": r["link_id"], "name_zh": r["name_zh"], "present": "yes" if r["present"] else "MISSING",
              "by": "; ".join(f"{b['name_zh']}" for b in r["by"]) or "—"} for r in cov["links"]]
    print(formats.to_table(table, ["link", "name_zh", "present", "by"]))
    return 0


def _site_constraints(args: argparse.Namespace):
    from geo.siting import Constraints

    def many(value: str | None) -> tuple[str, ...]:
        return tuple(v.strip() for v in (value or "").split(",") if v.strip())

    return Constraints(within_km=args.within_km, of_feature=args.of, lon=args.lon, lat=args.lat, system=args.crs,
                       districts=many(args.district), exclude_districts=many(args.exclude_district),
                       corridors=many(args.corridor), min_status=args.min_status)


def _cmd_site(args: argparse.Namespace) -> int:
    from geo import formats, siting

    if args.list_industries:
        table = siting.read_industries()
        print(formats.to_table(table.to_dict("records"), ["id", "name_zh", "name_en", "chain_links", "themes"]))
        return 0
    if not args.industry:
        raise SystemExit("error: give --industry ID (see --list-industries)")
    data = _dataset(args)
    result = siting.rank_parks(data.layers, industry_id=args.industry, top=args.top, weights=args.weights,
                               constraints=_site_constraints(args), chain_km=args.chain_km, engine=data.engine,
                               joined=data.joined, belts=data.belts)
    ranking = result.ranking
    members = {"industry": result.industry, "weights": result.weights, "constraints": result.constraints,
               "empty_because": result.empty_because}
    if args.format == "geojson":
        print(formats.dumps(formats.feature_collection(ranking, **members)))
    elif args.format == "json":
        print(formats.dumps({**members, "ranking": formats.records(ranking)}))
    else:
        ind = result.industry
        print(f"site selection for {ind['name_zh']} {ind['name_en']} (weights "
              + ", ".join(f"{k}={v:g}" for k, v in result.weights.items()) + ")")
        if ranking.empty:
            print(f"no park qualifies: {result.empty_because}")
            return 0
        rows = formats.records(ranking, ["rank", "score", "id", "name_zh", "status"])
        print(formats.to_table(rows, ["rank", "score", "id", "name_zh", "status"]))
        for rec in ranking.itertuples():
            print(f"{rec.rank}. {rec.name_zh}: {rec.reason_zh}\n   {rec.name_en}: {rec.reason_en}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from geo.store import open_store
    from webmap.server import is_loopback

    if args.dev and not is_loopback(args.host):
        print(f"error: --dev runs the Werkzeug debugger, which lets anyone who reaches it run code on this "
              f"machine: refusing --host {args.host!r}, which is not a loopback address. Use --host 127.0.0.1 "
              "(or ::1, localhost) with --dev, or serve without --dev.", file=sys.stderr)
        return 2
    location = settings(args).store
    store = open_store(location)
    if not store.exists():
        print(f"no store at {store.path}: building it first")
        from geo.build import build_store

        build_store(location, progress=print)
    os.environ["CORRIDORS_STORE"] = location
    host = f"[{args.host}]" if ":" in args.host and not args.host.startswith("[") else args.host
    bind = f"{host}:{args.port}"
    print(f"serving the map on http://{bind}/ (store {store.path}, WGS84)", flush=True)
    if args.dev:
        from webmap import create_app

        create_app().run(host=args.host.strip("[]"), port=args.port, debug=True)
        return 0
    # gthread workers; every other setting (threads, timeouts, limits, access log) is in the config file
    config = Path(__file__).resolve().parent / "webmap" / "gunicorn_conf.py"
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", str(config), "--bind", bind,
                "--workers", str(args.workers), "webmap:create_app()"]
    os.execv(sys.executable, gunicorn)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the command line."""
    from geo import io

    parser = argparse.ArgumentParser(
        prog="run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="validate the sources and write the store (GeoPackage or PostGIS)",
                       description="Validate data/sources/ and data/boundaries/, then write all layers (WGS84) "
                       "to the store atomically (a GeoPackage file swapped in, or one PostGIS transaction): on "
                       "any error the old store is kept.")
    p.add_argument("--out", default=None, help="GeoPackage path or postgresql:// URL to write (default: "
                   "$CORRIDORS_STORE, else $DATABASE_URL, else instance/corridors.gpkg)")
    p.add_argument("--sources", type=Path, default=io.DEFAULT_SOURCES_DIR, help="folder of the source tables")
    p.add_argument("--boundaries", type=Path, default=io.DEFAULT_BOUNDARIES, help="district boundaries GeoJSON (WGS84)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("layers", help="list the layers of the store with feature counts and CRS")
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL to read (default: as for build)")
    p.set_defaults(func=_cmd_layers)

    def add_target(p: argparse.ArgumentParser, feature: bool = True) -> None:
        p.add_argument("--lon", type=str, help="longitude of the query point (degrees, in --crs)")
        p.add_argument("--lat", type=str, help="latitude of the query point (degrees, in --crs)")
        p.add_argument("--crs", default="wgs84", choices=["wgs84", "gcj02", "bd09", "cgcs2000"],
                       help="coordinate system of --lon/--lat: wgs84 (GPS), gcj02 (AMap/Tencent), bd09 (Baidu)")
        if feature:
            p.add_argument("--feature", help="id of a park, project, institution, corridor or district code")
        p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL to read (default: as for build)")

    formats = ["table", "json", "geojson", "csv"]
    p = sub.add_parser("near", help="buffer query: everything within --radius-km of a point or a feature",
                       description="Everything within a geodesic distance of a point (--lon/--lat) or of a "
                       "feature (--feature id). Output positions are WGS84; distance_km is geodesic to the "
                       "nearest point of each feature (0 inside); distance_min_km and distance_max_km to the nearest "
                       "and farthest point of where it may lie (its county, for a record located only to a "
                       "county); certainty is certain (all of that area within the radius) or possible.")
    add_target(p)
    p.add_argument("--radius-km", required=True, help="search radius in km (0 < r <= 300)")
    p.add_argument("--layer", default="all", help="parks, projects, institutions, corridors, districts or all")
    p.add_argument("--certain-only", action="store_true",
                   help="only records whose whole possible area lies within the radius")
    p.add_argument("--format", default="table", choices=formats)
    p.set_defaults(func=_cmd_near)

    p = sub.add_parser("nearest", help="the k nearest features of a layer to a point or a feature")
    add_target(p)
    p.add_argument("--layer", required=True, help="parks, projects, institutions, corridors or districts")
    p.add_argument("-k", type=int, default=5, help="how many (default 5)")
    p.add_argument("--format", default="table", choices=formats)
    p.set_defaults(func=_cmd_nearest)

    p = sub.add_parser("corridors", help="standing of each corridor against its 2021 investment target")
    p.add_argument("--belt-km", type=float, default=None, help="belt half-width in km (default $CORRIDOR_BELT_KM or 15)")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: as for build)")
    p.set_defaults(func=_cmd_corridors)

    p = sub.add_parser("chain", help="industrial-chain coverage: present and missing links")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--park", help="id of a park (with the parks under it)")
    group.add_argument("--corridor", help="id of a corridor (named in its plan or in its belt)")
    p.add_argument("--chain", default="new_energy", help="chain definition in data/chains/ (default new_energy)")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: as for build)")
    p.set_defaults(func=_cmd_chain)

    p = sub.add_parser("site", help="site selection: rank parks for an industry, with the reasons",
                       description="Rank the parks for an industry by a weighted suitability model "
                       "(criteria: theme, corridor, chain, talent, anchor, status; see geo/siting.py). "
                       "Positions are WGS84; distances geodesic km.")
    p.add_argument("--industry", help="industry id (see --list-industries)")
    p.add_argument("--list-industries", action="store_true", help="list the industry catalogue and exit")
    p.add_argument("--top", type=int, default=None, help="show the best N parks (default all)")
    p.add_argument("--weights", default=None, help="criterion weights, e.g. theme=2,chain=1 (defaults: theme=3,"
                   "corridor=2,chain=2,talent=1,anchor=1,status=1)")
    p.add_argument("--within-km", type=float, default=None, help="only parks within this many km of --of or --lon/--lat")
    p.add_argument("--of", default=None, help="feature id for --within-km")
    p.add_argument("--lon", type=float, default=None)
    p.add_argument("--lat", type=float, default=None)
    p.add_argument("--crs", default="wgs84", choices=["wgs84", "gcj02", "bd09", "cgcs2000"])
    p.add_argument("--district", default=None, help="only parks in these county/city codes (comma-separated)")
    p.add_argument("--exclude-district", default=None, help="no parks in these codes (comma-separated)")
    p.add_argument("--corridor", default=None, help="only parks of these corridors (comma-separated ids)")
    p.add_argument("--min-status", default=None, help="minimum park status: planned, under_construction, operating")
    p.add_argument("--chain-km", type=float, default=15.0, help="radius for chain neighbours (default 15 km)")
    p.add_argument("--format", default="table", choices=["table", "json", "geojson"])
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: as for build)")
    p.set_defaults(func=_cmd_site)

    p = sub.add_parser("serve", help="start the web map with a production WSGI server (gunicorn)",
                       description="Build the store if it is missing, then serve the map and the JSON API with "
                       "gunicorn's threaded workers (settings in webmap/gunicorn_conf.py). Settings: HOST (default "
                       "127.0.0.1), PORT (default 8000), WEB_WORKERS (processes, default 2), WEB_THREADS (threads "
                       "per process, default 16), WEB_READ_TIMEOUT_S (seconds a client has to send its request "
                       "head, default 10).")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL to serve (default: as for build)")
    p.add_argument("--dev", action="store_true", help="use Flask's development server with the debugger and "
                   "reloading instead; only on a loopback --host (127.0.0.1, ::1, localhost)")
    p.set_defaults(func=_cmd_serve)

    from cli import accounts, backup, export, ledger

    export.add_parser(sub)
    accounts.add_parser(sub)  # users, tokens: who may write
    ledger.add_parsers(sub)  # import, template, history, undo
    backup.add_parsers(sub)  # backup, restore
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except GeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
