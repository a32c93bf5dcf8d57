"""The ledger's commands of ``run.py``: ``import``, ``template``, ``history``, ``undo``.

``add_parsers(sub)`` adds them to ``run.py``'s sub-parsers. Each parses its arguments, calls
:mod:`geo.ledger` (the same functions the web's ``/api/import`` and ``/api/history`` use) and prints.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from cli.config import settings
from geo.errors import ValidationError
from geo.store import open_store

CRS_CHOICES = ["wgs84", "gcj02", "bd09", "cgcs2000"]


def _user(args: argparse.Namespace) -> str:
    """Who the change is recorded as: ``--user``, else the login name of this shell."""
    return args.user or os.environ.get("USER") or getpass.getuser()


def _print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    for line in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())


def run_import(args: argparse.Namespace) -> int:
    """Preview or commit a file; exit 0 when committed or previewed clean, 2 when rows were rejected."""
    from geo.ledger.imports import import_file

    path = Path(args.file)
    if not path.is_file():
        raise ValidationError(f"no file {path}", field="FILE")
    store = open_store(settings(args).store)
    try:
        report = import_file(store, path.read_bytes(), path.name, layer=args.layer, input_crs=args.crs,
                             sheet=args.sheet, user=_user(args), dry_run=args.dry_run,
                             skip_invalid=args.skip_invalid)
    finally:
        store.close()
    if args.format == "json":
        _print_json(report.to_dict())
        return report.exit_code
    doc = report.to_dict()
    counts = doc["counts"]
    if report.dry_run:
        what = "preview (nothing written)"
    elif report.committed:
        what = f"committed as change {report.change_id}"
    elif report.rejected and not args.skip_invalid:
        what = "rows rejected: nothing written"
    else:
        what = "nothing to change: the store already holds these records"
    print(f"{path.name} → {args.layer} ({args.crs} → WGS84 EPSG:4326): {what}")
    print(f"  add {counts['add']}  update {counts['update']}  unchanged {counts['unchanged']}  "
          f"possible duplicates {counts['duplicate']}  rejected rows {counts['rejected']}")
    rows = [[str(m["row"]), m["column"] or "", (m["value"] or "")[:30], f"{m['message_zh']} · {m['message_en']}"]
            for m in doc["rejected"]]
    rows += [[str(o["row"]), "", o["id"], o["message_en"]] for o in doc["duplicates"]]
    rows += [[str(o["row"]), "", o["id"], "update: " + ", ".join(o["fields"])] for o in doc["updated"]]
    for outcome in [*doc["added"], *doc["updated"], *doc["duplicates"]]:
        rows += [[str(w["row"]), w["column"] or "", (w["value"] or "")[:30], f"warning: {w['message_en']}"]
                 for w in outcome.get("warnings", [])]
    if rows:
        _table(rows, ["row", "column", "value / id", "what"])
    if report.rejected and not args.skip_invalid and not report.dry_run:
        print("nothing was written: fix the rejected rows, or commit the others with --skip-invalid")
    return report.exit_code


def run_template(args: argparse.Namespace) -> int:
    """Write the XLSX template of a layer (both header languages and an example row)."""
    from geo.ledger.template import write_template

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_template(args.layer, out)
    print(f"wrote {out}: the {args.layer} template (headers in Chinese and English, one example row; "
          "coordinates in the system you declare with --crs when importing)")
    return 0


def _log(args: argparse.Namespace):
    from geo.dataset import load_dataset

    data = load_dataset(open_store(settings(args).store))
    return data.changes


def run_history(args: argparse.Namespace) -> int:
    """Print the changes of the ledger (of one record, or since a day)."""
    from geo.ledger.changes import history, parse_day

    since = parse_day(args.since, "since") if args.since else None
    rows = history(_log(args), record_id=args.id, since=since, change_id=args.change)
    if args.format == "json":
        _print_json(rows.to_dict("records"))
        return 0
    _table([[r.change_id, r.recorded_at[:19].replace("T", " "), r.valid_from, r.user_name, r.kind, r.layer,
             r.record_id, r.operation, "" if pd.isna(r.reverts_change_id) else r.reverts_change_id]
            for r in rows.itertuples(index=False)],
           ["change", "recorded (UTC)", "valid from", "user", "kind", "layer", "id", "operation", "reverts"])
    print(f"{len(rows)} record change(s)")
    return 0


def run_undo(args: argparse.Namespace) -> int:
    """Undo a change with a new change restoring what it changed (409 if a record changed since)."""
    from geo.ledger.changes import commit, revert
    from geo.store import Update

    store = open_store(settings(args).store)
    try:
        done = commit(store, lambda layers, _cid: (revert(layers.get("changes"), args.change_id), Update()),
                      user=_user(args), kind="undo", reverts=args.change_id)
    finally:
        store.close()
    print(f"change {done.change_id} undoes {args.change_id}: {done.counts()}")
    return 0


def add_parsers(sub: Any) -> None:
    """Add ``import``, ``template``, ``history`` and ``undo`` to run.py's sub-parsers."""
    from geo.ledger.imports import IMPORT_LAYERS

    p = sub.add_parser("import", help="import an office's spreadsheet (XLSX, CSV, GeoJSON, GeoPackage) into the ledger",
                       description="Read FILE, check every row, and (unless --dry-run) commit the rows in one "
                       "change: all or none (--skip-invalid: the valid ones). Exit 0 when committed or previewed "
                       "clean, 2 when rows were rejected.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--layer", required=True, choices=IMPORT_LAYERS)
    p.add_argument("--crs", default="wgs84", choices=CRS_CHOICES,
                   help="system of the file's coordinates: wgs84 (GPS), gcj02 (AMap/Tencent), bd09 (Baidu), cgcs2000")
    p.add_argument("--sheet", default=None, help="sheet (XLSX) or layer (GeoPackage) to read (default the first)")
    p.add_argument("--dry-run", action="store_true", help="preview only: say what would change, write nothing")
    p.add_argument("--skip-invalid", action="store_true", help="commit the valid rows when some are rejected")
    p.add_argument("--user", default=None, help="who the change is recorded as (default: $USER)")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: as for build)")
    p.set_defaults(func=run_import)

    p = sub.add_parser("template", help="write the XLSX import template of a layer")
    p.add_argument("--layer", required=True, choices=IMPORT_LAYERS)
    p.add_argument("--out", required=True)
    p.set_defaults(func=run_template)

    p = sub.add_parser("history", help="the ledger's changes (every import, edit, undo and seed build)")
    p.add_argument("--id", default=None, help="only the changes of this record")
    p.add_argument("--change", default=None, help="only the record changes of this change id")
    p.add_argument("--since", default=None, help="only changes recorded on or after this day (YYYY-MM-DD, China time)")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: as for build)")
    p.set_defaults(func=run_history)

    p = sub.add_parser("undo", help="undo a change: a new change restores what it changed")
    p.add_argument("change_id", metavar="CHANGE_ID")
    p.add_argument("--user", default=None, help="who the undo is recorded as (default: $USER)")
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: as for build)")
    p.set_defaults(func=run_undo)


__all__ = ["add_parsers"]
