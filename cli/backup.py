"""The ``backup`` and ``restore`` commands of ``run.py``: the whole store in one GeoPackage, and back.

``add_parsers(sub)`` adds them to ``run.py``'s sub-parsers. Both work on the store the settings name
(``CORRIDORS_STORE``, else ``DATABASE_URL``, else ``instance/corridors.gpkg``; ``--store`` overrides),
a GeoPackage or PostGIS, through :mod:`geo.ledger.backup`. A refused restore (not a backup, a damaged
file, or changes in the store the backup lacks) exits with 2 and writes nothing.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from cli.config import settings
from geo.store import open_store

EXAMPLES = """examples:
  python run.py backup --out backups/corridors-2024-06-01.gpkg
  python run.py backup --out backup.gpkg --store postgresql://corridors@db/corridors
  python run.py restore backup.gpkg --store instance/restored.gpkg
  python run.py restore backup.gpkg --force          replace changes made since the backup
"""


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def _layers(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {rows}" for name, rows in counts.items())


def run_backup(args: argparse.Namespace) -> int:
    """Write the store to one GeoPackage; print what was written."""
    from geo.ledger.backup import backup

    store = open_store(settings(args).store)
    try:
        report = backup(store, args.out, include_accounts=not args.no_accounts)
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"wrote {report.out} ({_size(report.size_bytes)}) in {report.seconds:.1f} s")
    print(f"  from the {report.store_kind} store {report.store}, data version {report.data_version}, "
          f"at {report.created_at}")
    print(f"  layers (rows): {_layers(report.layers)}")
    print(f"  change log: {report.changes} change(s), the last {report.last_change_id or '(none)'}")
    print("  accounts: " + ("users and tokens included (password hashes and token SHA-256s only; keep the file "
                            "private)" if report.include_accounts else "not included"))
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """Load a backup into the store in one atomic write; print what was written (exit 2 when refused)."""
    from geo.ledger.backup import restore

    store = open_store(settings(args).store)
    try:
        report = restore(store, args.file, force=args.force)
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"restored {report.backup_file} ({_size(report.size_bytes)}) into the {report.store_kind} store "
          f"{report.store} in {report.seconds:.1f} s")
    print(f"  the backup: taken {report.backup_created_at} from a {report.backup_store_kind} store, data version "
          f"{report.backup_data_version}")
    print(f"  layers (rows): {_layers(report.layers)}")
    print(f"  change log: {report.changes} change(s), the last {report.last_change_id or '(none)'}")
    print("  accounts: " + ("restored from the backup" if report.accounts_restored
                            else "not in the backup: the store's users and tokens are kept"))
    if report.lost_change_ids:
        print(f"  --force: replaced {len(report.lost_change_ids)} change(s) the backup lacks: "
              f"{', '.join(report.lost_change_ids)}")
    if report.lost_accounts:
        print(f"  --force: undid account changes: {'; '.join(report.lost_accounts)}")
    if report.kept_revoked_tokens:
        print(f"  tokens revoked in the store stay revoked: {', '.join(report.kept_revoked_tokens)}")
    if report.kept_layers:
        print(f"  kept (not in the backup): {', '.join(report.kept_layers)}")
    return 0


def add_parsers(sub: Any) -> None:
    """Add ``backup`` and ``restore`` to run.py's sub-parsers."""
    p = sub.add_parser("backup", help="write every layer, the register, the change log and the accounts to one "
                       "GeoPackage", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Write the store (every layer in WGS84, the register of sources, the change\n"
                       "log, and the users and tokens: password hashes and token SHA-256s only) to one GeoPackage,\n"
                       "read as one consistent snapshot and written atomically (a temporary file renamed into\n"
                       "place), with a table backup_meta saying what it holds.")
    p.add_argument("--out", required=True, metavar="FILE.gpkg", help="the backup file to write (replaced if there)")
    p.add_argument("--no-accounts", action="store_true", help="leave out the users and tokens tables")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: as for build)")
    p.set_defaults(func=run_backup)

    p = sub.add_parser("restore", help="load a backup (run.py backup) into the store, replacing its layers",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Load FILE into the store (a GeoPackage or PostGIS) in one atomic write.\n"
                       "Refused, with nothing written, when FILE is not a backup of this service or is damaged,\n"
                       "and when the store has changes (or account changes) the backup lacks, unless --force.")
    p.add_argument("file", metavar="FILE.gpkg")
    p.add_argument("--force", action="store_true", help="replace the store even when it has changes the backup "
                   "lacks (they are lost; tokens revoked in the store stay revoked)")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.add_argument("--store", default=None, help="GeoPackage path or postgresql:// URL (default: as for build)")
    p.set_defaults(func=run_restore)


__all__ = ["add_parsers"]
