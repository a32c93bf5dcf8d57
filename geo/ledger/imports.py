"""Import an office's file into the ledger: a preview of every row first, then one atomic commit.

:func:`import_file` reads the file (:func:`geo.ledger.rows.parse_file`), compares each accepted row
with the store's records and says what it would do:

- ``add``: a record the store does not have;
- ``update``: a record with the same id (the file's own id, or the id derived from the name) whose
  values differ, with the fields that change. An empty cell never clears a value the store holds, and
  a row located less precisely than the record (a district, where the store has a site) keeps the
  record's position, with a warning;
- ``unchanged``: nothing would change (importing the same file twice changes nothing the second time);
- ``duplicate``: a new record whose normalised name, or a name of the same firm (``data/aliases.csv``:
  宁德时代 / 中州时代 / CATL), matches a record already within ``DUPLICATE_KM`` of it (or in the same district
  when either is located only to a district: its point is a stand-in): not added, reported
  as ``possible duplicate of <id>`` (give the id in the file to update that record instead);
- ``rejected``: the row numbers, columns, values and what was expected, in Chinese and English.

With ``dry_run`` nothing is written. Otherwise the rows are planned again under the store's write lock
and committed as one change (all rows or none; with ``skip_invalid`` the valid rows when some were
rejected). Every imported record cites a new ``import`` source of the register (file, sheet, user,
time) and keeps its row number (``source_row``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo import crs
from geo.errors import ValidationError
from geo.ledger.changes import (
    CHINA,
    Commit,
    Record,
    RecordChange,
    commit,
    record_of,
    records_of,
    utc_now,
)
from geo.ledger.rows import ImportContext, ImportRow, ParsedFile, RowMessage, parse_file
from geo.schema import LOCATION_PRECISIONS, REGISTER_LAYER
from geo.store import Layer, Update, is_spatial

#: Layers an office imports.
IMPORT_LAYERS: tuple[str, ...] = ("parks", "projects", "institutions")
#: How near (km) a record with the same normalised name or firm must be to count as a possible duplicate.
DUPLICATE_KM = 5.0
ALIASES_CSV = Path(__file__).resolve().parents[2] / "data" / "aliases.csv"
#: The position fields a less precise row never overwrites.
POSITION_FIELDS = ("lon", "lat", "district_code", "functional_zone_zh", "location_precision",
                   "location_note_zh", "location_note_en")
#: Fields the import sets itself (not compared when deciding whether a row changes a record).
CITATION_FIELDS = ("source_id", "source_row", "source", "source_excerpt")
_PUNCTUATION = re.compile(r"[\s\-—–_·・,，.。、()（）\[\]【】《》\"'“”‘’]+")


def normalised_name(name: object) -> str:
    """A name compared for duplicates: NFKC, lower case, without spaces and punctuation."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", str(name or "")).lower())


def read_aliases(path: Path = ALIASES_CSV) -> dict[str, str]:
    """Normalised alias -> the group (firm) it names, from ``data/aliases.csv``."""
    if not path.is_file():
        return {}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {normalised_name(n): g for n, g in zip(table["name"], table["group_id"]) if n}


@dataclass
class RowOutcome:
    """What an import does with one accepted row."""

    row: int
    record_id: str
    action: str  # add | update | unchanged | duplicate
    name_zh: str | None = None
    fields: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    warnings: list[RowMessage] = field(default_factory=list)
    after: Record | None = None
    before: Record | None = None

    def to_dict(self) -> dict[str, Any]:
        """The outcome as a JSON-ready mapping (without the records)."""
        out: dict[str, Any] = {"row": self.row, "id": self.record_id, "name_zh": self.name_zh}
        if self.action == "update":
            out["fields"] = self.fields
        if self.duplicate_of:
            out["duplicate_of"] = self.duplicate_of
            out["message_zh"] = f"可能与已有记录 {self.duplicate_of} 重复（名称相同或同一企业，相距 {DUPLICATE_KM:g} 公里以内）"
            out["message_en"] = (f"possible duplicate of {self.duplicate_of} (same name or firm within "
                                 f"{DUPLICATE_KM:g} km); give its id in the file to update it instead")
        if self.warnings:
            out["warnings"] = [w.to_dict() for w in self.warnings]
        return out


@dataclass
class ImportReport:
    """The preview (and, once committed, the change) of one import."""

    layer: str
    file_name: str
    sheet: str | None
    input_crs: str
    dry_run: bool
    outcomes: list[RowOutcome]
    rejected: list[RowMessage]
    parsed: ParsedFile
    change_id: str | None = None
    source_id: str | None = None
    committed: bool = False

    def of(self, action: str) -> list[RowOutcome]:
        """The outcomes with this action."""
        return [o for o in self.outcomes if o.action == action]

    @property
    def exit_code(self) -> int:
        """0 when committed or previewed clean, 2 when rows were rejected."""
        return 2 if self.rejected else 0

    def to_dict(self) -> dict[str, Any]:
        """The report as the API and ``--format json`` give it."""
        return {
            "layer": self.layer, "file_name": self.file_name, "sheet": self.sheet, "input_crs": self.input_crs,
            "output_crs": "EPSG:4326", "dry_run": self.dry_run, "committed": self.committed,
            "change_id": self.change_id, "source_id": self.source_id,
            "counts": {a: len(self.of(a)) for a in ("add", "update", "unchanged", "duplicate")}
            | {"rejected": len({m.row for m in self.rejected})},
            "added": [o.to_dict() for o in self.of("add")],
            "updated": [o.to_dict() for o in self.of("update")],
            "unchanged": [o.to_dict() for o in self.of("unchanged")],
            "duplicates": [o.to_dict() for o in self.of("duplicate")],
            "rejected": [m.to_dict() for m in self.rejected],
            "warnings": [m.to_dict() for m in self.parsed.warnings],
            "columns": dict(self.parsed.columns), "ignored_columns": list(self.parsed.ignored_columns),
            "units": dict(self.parsed.units),
        }


def _row_record(row: ImportRow) -> Record:
    """An accepted row as a record (WGS84 point), without its empty cells."""
    props = {k: v for k, v in row.record.items() if v is not None}
    return record_of(props, shapely.Point(float(props["lon"]), float(props["lat"])))


def _coarse(precision: object) -> bool:
    """Whether a record is located no better than its district (its point stands in for the county)."""
    return precision in ("district", "city")


def _precision_rank(record: Record | None) -> int:
    value = (record or {}).get("properties", {}).get("location_precision")
    return LOCATION_PRECISIONS.index(value) if value in LOCATION_PRECISIONS else len(LOCATION_PRECISIONS)


def _merge(current: Record, row: Record, outcome: RowOutcome) -> Record:
    """The record after an update: the row's values over the current ones; a coarser position is not taken."""
    props = dict(current["properties"])
    incoming = dict(row["properties"])
    geometry = row["geometry"]
    if _precision_rank(row) > _precision_rank(current):
        for name in POSITION_FIELDS:
            incoming.pop(name, None)
        geometry = current["geometry"]
        outcome.warnings.append(RowMessage(
            outcome.row, None, None,
            f"本行位置精度（{row['properties'].get('location_precision')}）低于已有记录"
            f"（{current['properties'].get('location_precision')}），保留已有位置",
            f"the row is located less precisely ({row['properties'].get('location_precision')}) than the record "
            f"({current['properties'].get('location_precision')}); the record keeps its position"))
    props.update(incoming)
    return {"properties": props, "geometry": geometry}


def _compared(record: Record | None) -> Record | None:
    """A record without the fields an import sets itself, for deciding whether anything changes."""
    if record is None:
        return None
    return {"properties": {k: v for k, v in record["properties"].items() if k not in CITATION_FIELDS},
            "geometry": record["geometry"]}


class _Duplicates:
    """Existing records of a layer by normalised name and firm group, to find possible duplicates."""

    def __init__(self, frame: Layer | None, aliases: dict[str, str]) -> None:
        self.aliases = aliases
        self.rows: list[tuple[str, str, set[str], float, float, str | None, bool]] = []
        if frame is None or not is_spatial(frame) or frame.empty:
            return
        pts = frame.geometry.representative_point()
        blank = pd.Series(None, index=frame.index, dtype=object)
        for rid, zh, en, x, y, code, precision in zip(
                frame["id"], frame.get("name_zh", blank), frame.get("name_en", blank), pts.x, pts.y,
                frame.get("district_code", blank), frame.get("location_precision", blank)):
            self.rows.append((str(rid), normalised_name(zh), self._groups(zh, en), float(x), float(y),
                              None if pd.isna(code) else str(code), _coarse(precision)))

    def _groups(self, *names: object) -> set[str]:
        out = set()
        for name in names:
            text = normalised_name(name)
            out.update(g for alias, g in self.aliases.items() if alias and alias in text)
        return out

    def of(self, record_id: str, record: Record) -> str | None:
        """The id of an existing record this new one possibly duplicates, if any: the same name or firm, and
        within ``DUPLICATE_KM`` (or in the same district, when either is located only to a district)."""
        props = record["properties"]
        name, groups = normalised_name(props.get("name_zh")), self._groups(props.get("name_zh"), props.get("name_en"))
        lon, lat = record["geometry"]["coordinates"]
        same = [r for r in self.rows if r[0] != record_id and (r[1] == name or r[2] & groups)]
        if not same:
            return None
        dist = np.asarray(crs.geodesic_distance_m(lon, lat, [r[3] for r in same], [r[4] for r in same]))
        coarse, code = _coarse(props.get("location_precision")), props.get("district_code")
        for i in np.argsort(dist, kind="stable"):
            r = same[int(i)]
            if dist[i] <= DUPLICATE_KM * 1000 or ((coarse or r[6]) and code is not None and code == r[5]):
                return r[0]
        return None


def plan_rows(parsed: ParsedFile, layers: dict[str, Layer], aliases: dict[str, str] | None = None) -> list[RowOutcome]:
    """What each accepted row of a parsed file would do to the store's layer (see the module)."""
    frame = layers.get(parsed.layer)
    current = records_of(frame) if frame is not None and is_spatial(frame) and len(frame) else {}
    duplicates = _Duplicates(frame, read_aliases() if aliases is None else aliases)
    out = []
    for row in parsed.rows:
        record_id = str(row.record["id"])
        incoming = _row_record(row)
        outcome = RowOutcome(row.row, record_id, "add", row.record.get("name_zh"), warnings=list(row.warnings))
        before = current.get(record_id)
        if before is None:
            outcome.duplicate_of = duplicates.of(record_id, incoming)
            outcome.action = "duplicate" if outcome.duplicate_of else "add"
            outcome.after = incoming
        else:
            after = _merge(before, incoming, outcome)
            if _compared(after) == _compared(before):
                outcome.action = "unchanged"
            else:
                outcome.action, outcome.before, outcome.after = "update", before, after
                outcome.fields = RecordChange(parsed.layer, record_id, "update", _compared(before),
                                              _compared(after)).fields_changed()
        out.append(outcome)
    return out


def _import_source(change_id: str, parsed: ParsedFile, user: str, when: datetime) -> pd.DataFrame:
    """The register entry an import's records cite: the file, its sheet, who imported it and when."""
    sheet = f"，工作表 {parsed.sheet}" if parsed.sheet else ""
    sheet_en = f", sheet {parsed.sheet}" if parsed.sheet else ""
    return pd.DataFrame([{
        "id": f"import-{change_id}", "kind": "import",
        "title_zh": f"导入 {parsed.file_name}{sheet}（{user}）",
        "title_en": f"Import of {parsed.file_name}{sheet_en} ({user})",
        "publisher": user, "published_date": when.astimezone(CHINA).date().isoformat(),
        "file_name": parsed.file_name, "sheet_name": parsed.sheet, "user_name": user,
        "recorded_at": when.isoformat(timespec="seconds"), "change_id": change_id,
    }])


def import_file(store: Any, data: bytes, file_name: str, *, layer: str, input_crs: str = "wgs84",
                sheet: str | None = None, user: str, dry_run: bool = False, skip_invalid: bool = False,
                context: ImportContext | None = None, layers: dict[str, Layer] | None = None) -> ImportReport:
    """Preview (``dry_run``) or commit one file of ``layer`` records (WGS84 once read; see the module).

    ``layers`` is the store's current snapshot for the preview (read from ``store`` when not given);
    the commit plans again under the store's write lock. Nothing is written when rows were rejected,
    unless ``skip_invalid``."""
    if layer not in IMPORT_LAYERS:
        raise ValidationError(f"layer={layer!r}: expected one of {', '.join(IMPORT_LAYERS)}", field="layer")
    snapshot = layers if layers is not None else store.read_all()
    parsed = parse_file(data, file_name, layer=layer, crs=input_crs, sheet=sheet,
                        context=context or ImportContext.from_layers(snapshot))
    aliases = read_aliases()
    report = ImportReport(layer, file_name, parsed.sheet, input_crs, dry_run, [], parsed.rejected, parsed)
    if dry_run or (parsed.rejected and not skip_invalid):
        report.outcomes = plan_rows(parsed, snapshot, aliases)
        return report
    # a commit plans once, under the store's write lock, against the records as they are then
    when = utc_now()

    def planner(current: dict[str, Layer], change_id: str) -> tuple[list[RecordChange], Update]:
        source_id = f"import-{change_id}"
        outcomes = plan_rows(parsed, current, aliases)
        report.outcomes = outcomes
        changes = []
        for o in outcomes:
            if o.action not in ("add", "update"):
                continue
            after = {"properties": {**o.after["properties"], "source_id": source_id, "source_row": o.row},
                     "geometry": o.after["geometry"]}
            for name in ("source", "source_excerpt"):  # the article's citation no longer covers these values
                after["properties"].pop(name, None)
            changes.append(RecordChange(layer, o.record_id, o.action, o.before, after, source_id))
        if not changes:
            return [], Update()
        return changes, Update(append={REGISTER_LAYER: _import_source(change_id, parsed, user, when)})

    done: Commit = commit(store, planner, user=user, kind="import", recorded_at=when)
    report.change_id, report.committed = done.change_id, done.change_id is not None
    report.source_id = f"import-{done.change_id}" if done.change_id else None
    return report
