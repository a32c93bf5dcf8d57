"""The change log: every change to a record, kept in the store, append-only; commits, undo and time travel.

The layers of the store hold the records as they are now; the table ``changes`` holds how they got
there. A *change* (one ``change_id``: a build's seed records, one import, one edit, one undo) is one row
per record it touches, with the record before and after it (JSON: ``{"properties": …, "geometry":
GeoJSON in WGS84}``), who made it and when, and the source it cites. Rows are only ever appended:
an undo is a new change that restores the earlier state; history is never rewritten.

Two times: ``recorded_at`` is when the change entered the ledger (UTC); ``valid_from`` is the day from
which the record stood so, as far as its source says: an article's records are valid from the
article's publication date, an import's or an edit's from the day it was made, and a record whose
source gives no date from the day it was recorded (the ledger knows it only since then). ``as_of(day)`` answers
with the records as they stood at the end of that day (China Standard Time), by ``valid_from``.

Every commit goes through :func:`commit`, which runs in the store's read-modify-write
(:meth:`~geo.store.GeoPackageStore.update`): the changes are planned against the records as they are
at that moment, under the store's write lock, and a change whose ``before`` is not what the store holds
(another user's edit came first) raises :class:`~geo.errors.ConflictError` and writes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs
from geo.errors import ConflictError, NotFoundError, ValidationError
from geo.schema import LOG_LAYER, SOURCE_LAYERS
from geo.store import Layer, Update, in_store_order, is_spatial

#: The table of the change log.
LOG = LOG_LAYER
LOG_COLUMNS: tuple[str, ...] = ("change_seq", "change_id", "recorded_at", "valid_from", "user_name", "kind",
                                "source_id", "layer", "record_id", "operation", "before_json", "after_json",
                                "reverts_change_id")
#: The layers whose records the ledger keeps (districts and the register are reference data).
LEDGER_LAYERS: tuple[str, ...] = ("corridors", "parks", "projects", "institutions")
Kind = Literal["seed", "import", "edit", "undo"]
Operation = Literal["add", "update", "delete"]
#: The time zone of "the end of that day" in ``as_of`` (the offices are in China).
CHINA = timezone(timedelta(hours=8))
Record = dict[str, Any]


# -- records ------------------------------------------------------------------------------------------------

def _plain(value: object) -> object:
    """A JSON value for a cell: None for missing, Python numbers (whole floats as ints), text as text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    return str(value)


def record_of(properties: Mapping[str, object], geometry: shapely.Geometry | None) -> Record:
    """A record as the change log keeps it: its non-missing properties and its WGS84 geometry as GeoJSON."""
    props = {str(k): v for k, v in ((k, _plain(v)) for k, v in properties.items()) if v is not None}
    geom = None if geometry is None or shapely.is_empty(geometry) else json.loads(shapely.to_geojson(geometry))
    return {"properties": props, "geometry": geom}


def records_of(frame: gpd.GeoDataFrame) -> dict[str, Record]:
    """Every record of a layer by id (WGS84)."""
    geom_name = frame.geometry.name
    columns = [c for c in frame.columns if c != geom_name]
    rows = frame[columns].to_dict("records")
    return {str(row["id"]): record_of(row, geom) for row, geom in zip(rows, frame.geometry.values)}


def canonical(record: Record | None) -> str:
    """One text per record value, for comparing two records."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def record_from_json(text: object) -> Record | None:
    """A record from the change log's JSON (None for a missing one)."""
    return None if text is None or (isinstance(text, float) and math.isnan(text)) else json.loads(str(text))


# -- planning --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordChange:
    """One record's change: its layer and id, the operation, the record before and after (None if absent)."""

    layer: str
    record_id: str
    operation: Operation
    before: Record | None
    after: Record | None
    source_id: str | None = None
    valid_from: str | None = None  # YYYY-MM-DD; default: the day of the commit (China time)

    def fields_changed(self) -> list[str]:
        """The properties (and ``geometry``) that differ between before and after."""
        before = (self.before or {}).get("properties", {})
        after = (self.after or {}).get("properties", {})
        names = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if (self.before or {}).get("geometry") != (self.after or {}).get("geometry"):
            names.append("geometry")
        return names


def plan(layer: str, current: Mapping[str, Record], proposed: Mapping[str, Record | None],
         *, source_id: str | None = None, valid_from: str | None = None) -> list[RecordChange]:
    """The changes that turn ``current`` records into ``proposed`` ones (None deletes); unchanged ones are left out."""
    out = []
    for record_id, after in proposed.items():
        before = current.get(record_id)
        if canonical(before) == canonical(after):
            continue
        operation: Operation = "add" if before is None else "delete" if after is None else "update"
        cited = source_id if after is None else (after["properties"].get("source_id") or source_id)
        out.append(RecordChange(layer, record_id, operation, before, after, cited, valid_from))
    return out


# -- applying --------------------------------------------------------------------------------------------

def _frame_of(records: Sequence[Record], like: gpd.GeoDataFrame | None, layer: str | None = None
              ) -> gpd.GeoDataFrame:
    """Records as a GeoDataFrame (WGS84): the columns of ``like`` first, in its order (else the layer's
    schema order), then any others."""
    props = pd.DataFrame([r["properties"] for r in records])
    geoms = [shapely.from_geojson(json.dumps(r["geometry"])) if r["geometry"] else None for r in records]
    geom_name = like.geometry.name if like is not None else "geometry"
    if like is not None:
        columns = [c for c in like.columns if c != geom_name]
    else:
        spec = SOURCE_LAYERS.get(layer or "")
        columns = [f.name for f in spec.fields] if spec else []
    columns += [c for c in props.columns if c not in columns]
    props = props.reindex(columns=columns)
    return gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms, crs=crs.WGS84, index=props.index).rename(geom_name),
                            crs=crs.WGS84)


#: pandas dtypes of the schema's field kinds (others are text: object).
_KIND_DTYPES = {"float": "float64", "int": "Int64"}


def _typed(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """The layer's schema dtypes on a frame rebuilt from records (JSON keeps 25.0 as 25: it is still a float)."""
    spec = SOURCE_LAYERS.get(layer)
    for f in spec.fields if spec else ():
        if f.name not in frame.columns:
            continue
        dtype = _KIND_DTYPES.get(f.kind, "object")
        if str(frame[f.name].dtype) == dtype:
            continue
        if dtype == "object":  # text, with None (not NaN) where missing
            frame[f.name] = frame[f.name].astype(object).where(frame[f.name].notna(), None)
        else:
            frame[f.name] = pd.to_numeric(frame[f.name], errors="coerce").astype(dtype)
    return frame


def _stored_records(layers: Mapping[str, Layer], name: str) -> dict[str, Record]:
    """The records of a spatial layer of the store by id (empty when the store has none)."""
    frame = layers.get(name)
    return records_of(frame) if frame is not None and is_spatial(frame) and len(frame) else {}


def _apply_to_layer(layer: str, frame: gpd.GeoDataFrame | None, current: Mapping[str, Record],
                    changes: Sequence[RecordChange]) -> gpd.GeoDataFrame:
    """The layer (``current``: its records) with the changes made: updated records keep their place, added
    ones go last."""
    order = {rid: i for i, rid in enumerate(current)}
    state: dict[str, Record | None] = dict(current)
    for change in changes:
        state[change.record_id] = change.after
        order.setdefault(change.record_id, len(order))
    kept = sorted((rid for rid, rec in state.items() if rec is not None), key=order.__getitem__)
    return _typed(_frame_of([state[rid] for rid in kept], frame, layer), layer)


def _check_before(stored: Mapping[str, Mapping[str, Record]], changes: Sequence[RecordChange]) -> None:
    """Raise ConflictError when a change was planned against a record that is no longer as it was
    (``stored``: each touched layer's records as the store holds them)."""
    for change in changes:
        now = stored[change.layer].get(change.record_id)
        if canonical(now) != canonical(change.before):
            raise ConflictError(
                f"{change.layer}/{change.record_id} has changed since this change was prepared (another user's "
                f"edit, or an import, came first); nothing was written: reload it and make the change again · "
                f"记录 {change.record_id} 已被他人修改，未写入任何内容，请刷新后重试", field=change.record_id)


def next_change(log: pd.DataFrame | None) -> tuple[int, str]:
    """The sequence number and id of the next change: ``c000001``, ``c000002`` …"""
    if log is None or log.empty:
        return 1, "c000001"
    number = int(pd.to_numeric(log["change_id"].str[1:], errors="coerce").max()) + 1
    return int(pd.to_numeric(log["change_seq"]).max()) + 1, f"c{number:06d}"


def utc_now() -> datetime:
    """Now, in UTC (the time a change is recorded)."""
    return datetime.now(UTC)


@dataclass
class Commit:
    """What a commit wrote: its change id (None when there was nothing to change) and the record changes."""

    change_id: str | None
    changes: list[RecordChange] = field(default_factory=list)
    recorded_at: str | None = None

    def counts(self) -> dict[str, int]:
        """How many records were added, updated and deleted."""
        out = {"add": 0, "update": 0, "delete": 0}
        for change in self.changes:
            out[change.operation] += 1
        return out


def log_rows(changes: Sequence[RecordChange], *, seq: int, change_id: str, user: str, kind: Kind,
             recorded_at: datetime, reverts: str | None = None) -> pd.DataFrame:
    """The change-log rows of one change."""
    day = recorded_at.astimezone(CHINA).date().isoformat()
    rows = [{
        "change_seq": seq + i, "change_id": change_id, "recorded_at": recorded_at.isoformat(timespec="microseconds"),
        "valid_from": c.valid_from or day, "user_name": user, "kind": kind, "source_id": c.source_id,
        "layer": c.layer, "record_id": c.record_id, "operation": c.operation,
        "before_json": None if c.before is None else canonical(c.before),
        "after_json": None if c.after is None else canonical(c.after), "reverts_change_id": reverts,
    } for i, c in enumerate(changes)]
    return pd.DataFrame(rows, columns=list(LOG_COLUMNS))


Planner = Callable[[dict[str, Layer], str], tuple[Sequence[RecordChange], Update]]


def commit(store: Any, planner: Planner, *, user: str, kind: Kind, reverts: str | None = None,
           recorded_at: datetime | None = None, progress: Callable[[str], None] | None = None) -> Commit:
    """Plan changes against the store as it is (under its write lock) and write them with their log rows at once.

    ``planner(layers, change_id)`` gets the current layers and the id this change will have, and returns
    the record changes and what else to write with them (an :class:`~geo.store.Update`: register rows to
    append, reference layers to replace). Nothing is written when both are empty; a stale ``before``
    raises ConflictError and writes nothing."""
    result = Commit(None)

    def change(layers: dict[str, Layer]) -> Update:
        seq, change_id = next_change(layers.get(LOG))
        changes, extra = planner(layers, change_id)
        changes = list(changes)
        replace, append = dict(extra.replace), dict(extra.append)
        if changes:
            for change in changes:
                if change.layer not in LEDGER_LAYERS:
                    raise ValidationError(f"layer {change.layer!r} is not kept by the ledger; expected one of: "
                                          f"{', '.join(LEDGER_LAYERS)}", field="layer")
            stored = {name: _stored_records(layers, name) for name in dict.fromkeys(c.layer for c in changes)}
            _check_before(stored, changes)
            when = recorded_at or utc_now()
            for name, records in stored.items():
                frame = layers.get(name)
                replace[name] = _apply_to_layer(name, frame if frame is not None and is_spatial(frame) else None,
                                                records, [c for c in changes if c.layer == name])
            append[LOG] = log_rows(changes, seq=seq, change_id=change_id, user=user, kind=kind,
                                   recorded_at=when, reverts=reverts)
            result.change_id, result.changes = change_id, changes
            result.recorded_at = when.isoformat(timespec="microseconds")
        return Update(replace=in_store_order(replace), append=append)

    store.update(change, progress)
    return result


# -- history, undo, time travel ----------------------------------------------------------------------------

def history(log: pd.DataFrame | None, *, record_id: str | None = None, change_id: str | None = None,
            since: date | None = None, layer: str | None = None) -> pd.DataFrame:
    """The change-log rows that match, oldest first (``since``: recorded on or after that day, China time)."""
    if log is None or log.empty:
        return pd.DataFrame(columns=list(LOG_COLUMNS))
    rows = log
    if record_id is not None:
        rows = rows[rows["record_id"] == record_id]
    if change_id is not None:
        rows = rows[rows["change_id"] == change_id]
    if layer is not None:
        rows = rows[rows["layer"] == layer]
    if since is not None:
        start = datetime.combine(since, datetime.min.time(), CHINA).astimezone(UTC)
        rows = rows[pd.to_datetime(rows["recorded_at"], utc=True) >= start]
    return rows.sort_values("change_seq", kind="stable").reset_index(drop=True)


def history_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Change-log rows as JSON-ready mappings, with the records before and after parsed (``before``, ``after``)."""
    out = []
    for row in rows.to_dict("records"):
        item = {k: _plain(v) for k, v in row.items() if k not in ("before_json", "after_json")}
        item["before"] = record_from_json(row.get("before_json"))
        item["after"] = record_from_json(row.get("after_json"))
        out.append(item)
    return out


def revert(log: pd.DataFrame | None, change_id: str) -> list[RecordChange]:
    """The record changes that undo ``change_id``: each record back to its state before it (a new change)."""
    rows = history(log, change_id=change_id)
    if rows.empty:
        raise NotFoundError(f"unknown change {change_id!r}", field="change_id")
    out = []
    for row in rows.itertuples(index=False):
        before, after = record_from_json(row.after_json), record_from_json(row.before_json)
        operation: Operation = "add" if before is None else "delete" if after is None else "update"
        out.append(RecordChange(row.layer, row.record_id, operation, before, after, row.source_id))
    return out


def as_of(log: pd.DataFrame | None, layer: str, day: date, like: gpd.GeoDataFrame | None = None
          ) -> gpd.GeoDataFrame:
    """The records of a layer as they stood at the end of ``day`` (China time), by the ledger (WGS84)."""
    return during(log, layer, day, day, like)


def during(log: pd.DataFrame | None, layer: str, first: date | None, last: date | None,
           like: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The records of a layer that existed on some day from ``first`` to ``last`` (China time, both included;
    None: open), each as it last stood in that period, by the ledger (WGS84).

    A change counts for the whole day it is valid from, so ``during(day, day)`` is the state at the end of
    ``day``. A record deleted within the period is kept, as it stood before it was deleted."""
    if log is None or log.empty:
        return _typed(_frame_of([], like, layer), layer)
    rows = log[log["layer"] == layer]
    rows = rows.assign(_day=rows["valid_from"].astype(str).str[:10], _exists=rows["after_json"].notna())
    if last is not None:
        rows = rows[rows["_day"] <= last.isoformat()]
    rows = rows.sort_values(["_day", "change_seq"], kind="stable")
    existing = rows[rows["_exists"]]
    if first is not None:  # alive on ``first``, or (re)made after it
        on_first = rows[rows["_day"] <= first.isoformat()].drop_duplicates("record_id", keep="last")
        alive = set(on_first.loc[on_first["_exists"], "record_id"])
        alive |= set(existing.loc[existing["_day"] > first.isoformat(), "record_id"])
        existing = existing[existing["record_id"].isin(alive)]
    versions = existing.drop_duplicates("record_id", keep="last").sort_values("change_seq", kind="stable")
    records = [r for r in (record_from_json(t) for t in versions["after_json"]) if r is not None]
    return _typed(_frame_of(records, like, layer), layer)


def first_days(log: pd.DataFrame | None, layer: str) -> dict[str, str]:
    """Each record's first day in the ledger (YYYY-MM-DD, China time): the day its first version is valid from."""
    if log is None or log.empty:
        return {}
    rows = log[(log["layer"] == layer) & log["after_json"].notna()]
    days = rows["valid_from"].astype(str).str[:10].groupby(rows["record_id"].astype(str)).min()
    return days.to_dict()


def parse_day(text: object, field: str = "as_of") -> date:
    """A YYYY-MM-DD day; ValidationError naming ``field`` otherwise."""
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationError(f"{field}={text!r}: expected a day as YYYY-MM-DD", field=field) from None


def known_layers(names: Iterable[str]) -> list[str]:
    """The ledger layers among ``names``, in ledger order."""
    wanted = set(names)
    return [n for n in LEDGER_LAYERS if n in wanted]
