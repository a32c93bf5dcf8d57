#!/usr/bin/env python3
"""洛阳都市圈产业走廊地图 · Luoyang industrial-corridor map: the command line.

Examples:
  python run.py build            validate data/sources/ and write data/build/corridors.gpkg
  python run.py layers           list the layers of the store, their feature counts and CRS
  python run.py serve            start the map on http://127.0.0.1:8000/ (HOST, PORT settings)

Every coordinate read or written is WGS84 (EPSG:4326) unless an option says otherwise.
Settings: CORRIDORS_STORE (path of the GeoPackage, default data/build/corridors.gpkg).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from geo.errors import GeoError


def _cmd_build(args: argparse.Namespace) -> int:
    from geo.build import build_store

    build_store(args.out, sources_dir=args.sources, boundaries=args.boundaries, progress=print)
    return 0


def _cmd_layers(args: argparse.Namespace) -> int:
    from geo.store import open_store

    store = open_store(args.store)
    rows = [(i.name, str(i.feature_count), i.geometry_type, i.crs) for i in store.info()]
    header = ("layer", "features", "geometry", "crs")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(4)]
    print(f"store: {store.path}")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    from geo.store import open_store

    store = open_store(args.store)
    if not store.exists():
        print(f"no store at {store.path}: building it first")
        from geo.build import build_store

        build_store(store.path, progress=print)
    os.environ["CORRIDORS_STORE"] = str(store.path)
    bind = f"{args.host}:{args.port}"
    print(f"serving the map on http://{bind}/ (store {store.path}, WGS84)")
    if args.dev:
        from webmap import create_app

        create_app().run(host=args.host, port=args.port, debug=True)
        return 0
    gunicorn = [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(args.workers),
                "--access-logfile", "-", "webmap:create_app()"]
    os.execv(sys.executable, gunicorn)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the command line."""
    from geo import io

    parser = argparse.ArgumentParser(
        prog="run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("build", help="validate the sources and write the GeoPackage store",
                       description="Validate data/sources/ and data/boundaries/, then write all "
                       "layers (WGS84) to the GeoPackage atomically: on any error the old store is kept.")
    p.add_argument("--out", type=Path, default=None, help="GeoPackage to write (default: $CORRIDORS_STORE "
                   "or data/build/corridors.gpkg)")
    p.add_argument("--sources", type=Path, default=io.DEFAULT_SOURCES_DIR, help="folder of the source tables")
    p.add_argument("--boundaries", type=Path, default=io.DEFAULT_BOUNDARIES, help="district boundaries GeoJSON (WGS84)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("layers", help="list the layers of the store with feature counts and CRS")
    p.add_argument("--store", type=Path, default=None, help="GeoPackage to read (default: as for build)")
    p.set_defaults(func=_cmd_layers)

    p = sub.add_parser("serve", help="start the web map with a production WSGI server (gunicorn)",
                       description="Build the store if it is missing, then serve the map and the JSON API. "
                       "Settings: HOST (default 127.0.0.1), PORT (default 8000), WEB_WORKERS (default 2).")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    p.add_argument("--store", type=Path, default=None, help="GeoPackage to serve (default: as for build)")
    p.add_argument("--dev", action="store_true", help="use Flask's development server with reloading instead")
    p.set_defaults(func=_cmd_serve)
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
