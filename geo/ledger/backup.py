"""Backup and restore: the whole store in one GeoPackage file, and back into either kind of store.

:func:`backup` writes every layer and table of a store to one GeoPackage: the spatial layers (WGS84,
EPSG:4326, as the store keeps them), the register of sources (``sources``), the change log (``changes``)
and, unless ``include_accounts=False``, the accounts tables ``users`` and ``tokens``. The accounts hold
no secret a login could be made from: ``users`` keeps each password only as a salted scrypt hash and
``tokens`` keeps each API token only as its SHA-256 (the tokens themselves were shown once and never
stored). A backup is still worth keeping private: the hashes can be attacked offline, and the change
log names every user. A table ``backup_meta`` (``key``, ``value``) says what the file is: the format
(``corridors-backup``, version 1), when it was made (UTC), from which kind of store (``geopackage`` or
``postgis``) and which data version, the last change id, whether the accounts are in it, and the layers
in store order with their row counts (``layers``, JSON).

The store is read as one consistent snapshot (PostGIS: :meth:`~geo.postgis.PostGISStore.snapshot`, one
transaction; GeoPackage: every layer read under the store's write lock, through its read-modify-write
with nothing to write), and the file is written atomically: to a temporary file beside ``out``, checked
(every layer read back, counted), flushed to disk, then renamed over ``out``. An error or an interrupt
leaves no half file, and an older backup at ``out`` stays as it was.

:func:`restore` loads such a file into a GeoPackage or a PostGIS store (empty or not) in ONE atomic write
(the store's read-modify-write: a GeoPackage is swapped in by rename, PostGIS commits one transaction):
either every layer of the backup is in the store afterwards, or nothing changed. It refuses, with a
:class:`~geo.errors.ValidationError` naming the file, a file that is not a GeoPackage, a damaged one
(SQLite's ``quick_check``, a layer that cannot be read, a row count that differs from ``backup_meta``),
and a GeoPackage that is not a backup of this service (no ``backup_meta``, another format, a required
layer missing). Nothing of the store is touched then.

A user's work is never lost silently. Under the store's write lock, right before it writes, the restore
compares the store's change log with the backup's: a change the store has and the backup has not (an
import, an edit or an undo made after the backup was taken, or a change of another history) would be
lost, so the restore refuses with a :class:`~geo.errors.ConflictError` that names those change ids,
unless ``force=True``. The same holds for the accounts: users added, removed or changed and tokens
made or revoked after the backup. Even with ``force``, a token revoked in the store stays revoked (a
restore never brings a revoked token back to life). A backup made without the accounts leaves the
store's users and tokens as they are. Layers the store has and the backup has not are kept.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from geo import crs
from geo.dataset import content_version
from geo.errors import ConflictError, GeoError, NotFoundError, StoreError, ValidationError
from geo.schema import LAYER_NAMES, LOG_LAYER, REGISTER_LAYER
from geo.store import GeoPackageStore, Layer, Update, is_spatial

#: The table of a backup that says what it holds (``key``, ``value``).
META_TABLE = "backup_meta"
#: What ``backup_meta`` calls the format of this service's backups, and the version written.
FORMAT = "corridors-backup"
FORMAT_VERSION = 1
#: The accounts tables (``geo.accounts``): password hashes and token SHA-256s only.
USERS, TOKENS = "users", "tokens"
ACCOUNT_TABLES: tuple[str, ...] = (USERS, TOKENS)
#: Layers every backup must hold: the spatial layers the app serves, the register and the change log.
REQUIRED_LAYERS: tuple[str, ...] = (*LAYER_NAMES, REGISTER_LAYER, LOG_LAYER)
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Columns of the change log that identify a record change (compared between a store and a backup).
_LOG_KEY = ("change_id", "change_seq", "recorded_at", "layer", "record_id", "operation")


@dataclass
class BackupReport:
    """What a backup wrote: the file, its size, the store it came from and what it holds."""

    out: Path
    size_bytes: int
    store_kind: str
    store: str
    data_version: str
    created_at: str
    layers: dict[str, int]
    last_change_id: str | None
    changes: int
    include_accounts: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping."""
        return {"out": str(self.out), "size_bytes": self.size_bytes, "store_kind": self.store_kind,
                "store": self.store, "data_version": self.data_version, "created_at": self.created_at,
                "layers": dict(self.layers), "last_change_id": self.last_change_id, "changes": self.changes,
                "include_accounts": self.include_accounts, "seconds": round(self.seconds, 3)}


@dataclass
class RestoreReport:
    """What a restore wrote into a store, from which backup, and what (with ``force``) it replaced."""

    backup_file: Path
    size_bytes: int
    store_kind: str
    store: str
    backup_created_at: str
    backup_store_kind: str
    backup_data_version: str
    layers: dict[str, int]
    last_change_id: str | None
    changes: int
    accounts_restored: bool
    forced: bool = False
    lost_change_ids: list[str] = field(default_factory=list)
    lost_accounts: list[str] = field(default_factory=list)
    kept_revoked_tokens: list[str] = field(default_factory=list)
    kept_layers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping."""
        return {"backup_file": str(self.backup_file), "size_bytes": self.size_bytes, "store_kind": self.store_kind,
                "store": self.store, "backup_created_at": self.backup_created_at,
                "backup_store_kind": self.backup_store_kind, "backup_data_version": self.backup_data_version,
                "layers": dict(self.layers), "last_change_id": self.last_change_id, "changes": self.changes,
                "accounts_restored": self.accounts_restored, "forced": self.forced,
                "lost_change_ids": list(self.lost_change_ids), "lost_accounts": list(self.lost_accounts),
                "kept_revoked_tokens": list(self.kept_revoked_tokens), "kept_layers": list(self.kept_layers),
                "seconds": round(self.seconds, 3)}


# -- helpers ------------------------------------------------------------------------------------------------

def store_kind(store: Any) -> str:
    """``geopackage`` or ``postgis``."""
    return "geopackage" if isinstance(store, GeoPackageStore) else "postgis"


def _text(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _last_change(log: Layer | None) -> tuple[str | None, int]:
    """The id of the last change of a change log (highest ``change_seq``) and how many changes it has."""
    if log is None or len(log) == 0 or "change_id" not in log.columns:
        return None, 0
    seq = pd.to_numeric(log["change_seq"], errors="coerce") if "change_seq" in log.columns else None
    row = int(seq.to_numpy().argmax()) if seq is not None and seq.notna().any() else len(log) - 1
    return _text(log["change_id"].iloc[row]), int(log["change_id"].nunique())


def _snapshot(store: Any) -> tuple[str, dict[str, Layer]]:
    """The store's data version and every layer, of one version (see the module)."""
    if not store.exists():
        raise NotFoundError(f"no store at {store.path}; nothing to back up", file=str(store.path))
    if not isinstance(store, GeoPackageStore):
        return store.snapshot()
    taken: dict[str, Any] = {}

    def read(layers: dict[str, Layer]) -> Update:  # under the write lock: no writer can swap the file
        taken["layers"] = dict(layers)
        taken["version"] = content_version(store.path)
        return Update()  # nothing to write: the store and its version stay as they are

    store.update(read)
    return taken["version"], taken["layers"]


def _write_gpkg(path: Path, layers: Mapping[str, Layer]) -> None:
    """Write layers to a new GeoPackage (spatial ones WGS84 with a spatial index, the others as tables)."""
    for name, frame in layers.items():
        if is_spatial(frame):
            if frame.crs is None or not frame.crs.equals(crs.WGS84):
                raise StoreError(f"layer {name!r} must be in WGS84 (EPSG:4326), got {frame.crs}")
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists(),
                                    layer_options={"SPATIAL_INDEX": "YES"})
        else:
            pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=name, driver="GPKG", append=path.exists())


def _fsync(path: Path, directory: bool = False) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _temporary_beside(out: Path) -> Iterator[Path]:
    """A fresh temporary path beside ``out`` (same file system, so the rename is atomic); removed unless renamed."""
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp.gpkg", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # GDAL creates the file itself
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


# -- backup -------------------------------------------------------------------------------------------------

def backup(store: Any, out: str | os.PathLike[str], *, include_accounts: bool = True) -> BackupReport:
    """Write every layer and table of ``store`` to the GeoPackage ``out``, atomically (see the module).

    ``include_accounts=False`` leaves out ``users`` and ``tokens`` (password hashes and token SHA-256s).
    NotFoundError when the store has not been built; ValidationError when ``out`` is the store itself."""
    started = time.perf_counter()
    out = Path(out)
    if isinstance(store, GeoPackageStore) and out.resolve() == store.path.resolve():
        raise ValidationError("the backup cannot be written over the store itself; choose another file",
                              file=str(out), field="out")
    if out.is_dir():
        raise ValidationError("is a folder: give the backup's file name (FILE.gpkg)", file=str(out), field="out")
    version, layers = _snapshot(store)
    missing = [name for name in REQUIRED_LAYERS if name not in layers]
    if missing:
        raise StoreError(f"the store lacks the layer(s) {', '.join(missing)}: it is not a complete store of this "
                         "service (rebuild it with `python run.py build`)", file=str(store.path))
    if META_TABLE in layers:
        raise StoreError(f"the store has a layer called {META_TABLE!r}, the name a backup keeps for itself",
                         file=str(store.path))
    if not include_accounts:
        layers = {name: frame for name, frame in layers.items() if name not in ACCOUNT_TABLES}
    last_change_id, changes = _last_change(layers.get(LOG_LAYER))
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    counts = {name: len(frame) for name, frame in layers.items()}
    meta = {
        "format": FORMAT, "format_version": str(FORMAT_VERSION), "created_at": created_at,
        "store_kind": store_kind(store), "store": str(store.path), "data_version": str(version),
        "last_change_id": last_change_id or "", "changes": str(changes),
        "include_accounts": "true" if include_accounts and any(n in layers for n in ACCOUNT_TABLES) else "false",
        "layers": json.dumps([{"name": name, "rows": counts[name], "spatial": is_spatial(frame)}
                              for name, frame in layers.items()], ensure_ascii=False),
    }
    meta_frame = pd.DataFrame({"key": pd.Series(list(meta), dtype=object),
                               "value": pd.Series(list(meta.values()), dtype=object)})
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _temporary_beside(out) as tmp:
            _write_gpkg(tmp, {**layers, META_TABLE: meta_frame})
            _open_backup(tmp)  # read it back whole: a backup that cannot be restored is never kept
            _fsync(tmp)
            os.replace(tmp, out)
        _fsync(out.parent, directory=True)
    except GeoError as exc:
        raise StoreError(f"could not write the backup: {exc.detail}", file=str(out)) from exc
    except Exception as exc:  # OSError, GDAL's and pandas' own errors
        raise StoreError(f"could not write the backup: {type(exc).__name__}: {exc}", file=str(out)) from exc
    return BackupReport(out, out.stat().st_size, store_kind(store), str(store.path), str(version), created_at,
                        counts, last_change_id, changes, meta["include_accounts"] == "true",
                        time.perf_counter() - started)


# -- reading a backup ---------------------------------------------------------------------------------------

@dataclass
class Backup:
    """A backup file read whole and checked: its ``backup_meta`` and its layers, in store order."""

    path: Path
    meta: dict[str, str]
    layers: dict[str, Layer]

    @property
    def has_accounts(self) -> bool:
        return self.meta.get("include_accounts") == "true" and any(n in self.layers for n in ACCOUNT_TABLES)


def _refuse(path: Path, why: str) -> ValidationError:
    return ValidationError(f"not a usable backup of this service: {why}; nothing was restored", file=str(path),
                           field="backup_file")


def _check_sqlite(path: Path) -> None:
    """Raise when the file is not an SQLite database or SQLite finds it damaged (a truncated file)."""
    with open(path, "rb") as fh:
        head = fh.read(100)
    if not head.startswith(_SQLITE_MAGIC):
        raise _refuse(path, "not a GeoPackage (no SQLite header)")
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"the GeoPackage is damaged ({exc})") from None
    if [tuple(r) for r in rows] != [("ok",)]:
        raise _refuse(path, f"the GeoPackage is damaged ({'; '.join(str(r[0]) for r in rows[:3])})")


def read_backup(backup_file: str | os.PathLike[str]) -> Backup:
    """Read and check a backup file (see the module); ValidationError naming the file if it is not usable."""
    return _open_backup(Path(backup_file))


def _open_backup(path: Path) -> Backup:
    if not path.is_file():
        raise ValidationError("no such file; give the backup's path (FILE.gpkg)", file=str(path), field="backup_file")
    _check_sqlite(path)
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - GDAL raises its own family
        raise _refuse(path, f"the GeoPackage cannot be read ({exc})") from None
    if META_TABLE not in names:
        raise _refuse(path, f"it has no {META_TABLE!r} table (made by `python run.py backup`)")
    source = GeoPackageStore(path)
    try:
        table = source.read(META_TABLE)
        meta = {str(k): "" if _text(v) is None else str(v) for k, v in zip(table["key"], table["value"])}
        listed = json.loads(meta.get("layers", ""))
        order = [str(item["name"]) for item in listed]
        expected = {str(item["name"]): int(item["rows"]) for item in listed}
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign table: any error means the same
        raise _refuse(path, f"its {META_TABLE!r} table cannot be read ({type(exc).__name__}: {exc})") from None
    if meta.get("format") != FORMAT:
        raise _refuse(path, f"its {META_TABLE!r} names the format {meta.get('format')!r}, not {FORMAT!r}")
    if not meta.get("format_version", "").isdigit() or int(meta["format_version"]) > FORMAT_VERSION:
        raise _refuse(path, f"format version {meta.get('format_version')!r}: this service reads up to "
                      f"{FORMAT_VERSION}; restore it with a newer version of the service")
    missing = [name for name in dict.fromkeys([*REQUIRED_LAYERS, *order]) if name not in names]
    if missing:
        raise _refuse(path, f"the layer(s) {', '.join(missing)} are missing")
    layers: dict[str, Layer] = {}
    for name in order:
        try:
            frame = source.read(name)
        except Exception as exc:  # noqa: BLE001 - sqlite, GDAL and pandas each raise their own family
            raise _refuse(path, f"the layer {name!r} cannot be read ({type(exc).__name__}: {exc})") from None
        if len(frame) != expected[name]:
            raise _refuse(path, f"the layer {name!r} has {len(frame)} rows where {META_TABLE} says "
                          f"{expected[name]}: the file is damaged or was changed")
        if is_spatial(frame) and (frame.crs is None or not frame.crs.equals(crs.WGS84)):
            raise _refuse(path, f"the layer {name!r} is not in WGS84 (EPSG:4326): {frame.crs}")
        layers[name] = frame
    return Backup(path, meta, layers)


# -- restore ------------------------------------------------------------------------------------------------

def _log_keys(log: Layer | None) -> dict[tuple[str | None, ...], str]:
    """Every record change of a change log, by its identifying columns -> its change id."""
    if log is None or len(log) == 0 or "change_id" not in log.columns:
        return {}
    columns = [c for c in _LOG_KEY if c in log.columns]
    out = {}
    for row in pd.DataFrame(log)[columns].itertuples(index=False):
        values = tuple(_text(v) for v in row)
        if columns[1:2] == ["change_seq"] and values[1] is not None:  # 12 and 12.0 are one sequence number
            values = (values[0], str(int(float(values[1]))), *values[2:])
        out[values] = str(values[0])
    return out


def lost_changes(current_log: Layer | None, backup_log: Layer | None) -> list[str]:
    """The change ids of the store's change log that the backup's lacks (in whole or in part), oldest first."""
    kept = _log_keys(backup_log)
    lost = [cid for key, cid in _log_keys(current_log).items() if key not in kept]
    return sorted(dict.fromkeys(lost), key=lambda cid: (len(cid), cid))


def _rows(frame: Layer | None, key: str) -> dict[str, dict[str, str | None]]:
    if frame is None or len(frame) == 0 or key not in frame.columns:
        return {}
    return {str(r[key]): {k: _text(v) for k, v in r.items()} for r in pd.DataFrame(frame).to_dict("records")}


def lost_accounts(current: Mapping[str, Layer], backup_layers: Mapping[str, Layer]) -> list[str]:
    """What of the store's accounts a restore would undo: users added, changed or removed and tokens made or
    revoked since the backup (``user NAME …`` / ``token ID …``)."""
    out = []
    now_users, then_users = _rows(current.get(USERS), "name"), _rows(backup_layers.get(USERS), "name")
    for name, row in now_users.items():
        if name not in then_users:
            out.append(f"user {name} (added since the backup)")
        elif row != then_users[name]:
            out.append(f"user {name} (password or role changed since the backup)")
    if USERS in current:  # a store with accounts: a user it no longer has was removed
        out += [f"user {name} (removed since the backup)" for name in then_users if name not in now_users]
    now_tokens, then_tokens = _rows(current.get(TOKENS), "token_id"), _rows(backup_layers.get(TOKENS), "token_id")
    for token_id, row in now_tokens.items():
        if token_id not in then_tokens:
            out.append(f"token {token_id} of {row.get('user_name')} (made since the backup)")
        elif row != then_tokens[token_id]:
            out.append(f"token {token_id} of {row.get('user_name')} (revoked since the backup)")
    return out


def _keep_revocations(current: Mapping[str, Layer], tokens: Layer) -> tuple[Layer, list[str]]:
    """The backup's tokens with every revocation the store has kept (by token SHA-256): which were kept."""
    revoked = {row["token_sha256"]: row["revoked_at"] for row in _rows(current.get(TOKENS), "token_id").values()
               if row.get("revoked_at") and row.get("token_sha256")}
    if not revoked or len(tokens) == 0 or "token_sha256" not in tokens.columns:
        return tokens, []
    out = pd.DataFrame(tokens).copy()
    out["revoked_at"] = out["revoked_at"].astype(object)
    kept = []
    for i, (sha, token_id, when) in enumerate(zip(out["token_sha256"], out["token_id"], out["revoked_at"])):
        if sha in revoked and _text(when) is None:
            out.iat[i, out.columns.get_loc("revoked_at")] = revoked[sha]
            kept.append(str(token_id))
    return out, kept


def restore(store: Any, backup_file: str | os.PathLike[str], *, force: bool = False) -> RestoreReport:
    """Load a backup into ``store`` in one atomic write (see the module).

    ValidationError naming the file when it is not a usable backup; ConflictError naming the change ids
    (and accounts) the store has and the backup has not, unless ``force``. In both cases nothing is written."""
    started = time.perf_counter()
    path = Path(backup_file)
    if isinstance(store, GeoPackageStore) and path.resolve() == store.path.resolve():
        raise ValidationError("the backup is the store itself", file=str(path), field="backup_file")
    found = _open_backup(path)
    layers = found.layers
    report = RestoreReport(
        path, path.stat().st_size, store_kind(store), str(store.path), found.meta.get("created_at", ""),
        found.meta.get("store_kind", ""), found.meta.get("data_version", ""), {n: len(f) for n, f in layers.items()},
        *_last_change(layers.get(LOG_LAYER)), accounts_restored=found.has_accounts, forced=force)

    def change(current: dict[str, Layer]) -> Update:  # under the store's write lock: nothing can come in between
        lost = lost_changes(current.get(LOG_LAYER), layers.get(LOG_LAYER))
        accounts = lost_accounts(current, layers) if found.has_accounts else []
        if (lost or accounts) and not force:
            what = []
            if lost:
                what.append(f"{len(lost)} change(s) the backup does not have would be lost: {', '.join(lost)}")
            if accounts:
                what.append(f"account changes made since the backup would be undone: {'; '.join(accounts)}")
            raise ConflictError(
                f"refusing to restore {path} over {store.path}: {'; and '.join(what)}. Nothing was written. Take a "
                "backup of the store as it is first, or restore with --force (force=True) to replace it anyway · "
                "存储中有备份之后的修改，恢复将丢失这些修改，未写入任何内容", field="backup_file")
        report.lost_change_ids, report.lost_accounts = lost, accounts
        replace = dict(layers)
        if found.has_accounts and TOKENS in replace:
            replace[TOKENS], report.kept_revoked_tokens = _keep_revocations(current, replace[TOKENS])
        report.kept_layers = [name for name in current if name not in replace]
        return Update(replace=replace)

    store.update(change)
    report.seconds = time.perf_counter() - started
    return report


__all__ = [
    "ACCOUNT_TABLES", "FORMAT", "FORMAT_VERSION", "META_TABLE", "REQUIRED_LAYERS", "Backup", "BackupReport",
    "RestoreReport", "backup", "lost_accounts", "lost_changes", "read_backup", "restore", "store_kind",
]
