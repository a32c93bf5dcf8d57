"""Edit one record on the map: update, add or delete it as one change of the ledger, never losing an edit.

A client reads a record with its *ETag* (:func:`record_etag`: a short hash of the record exactly as the
store holds it, :func:`~geo.ledger.changes.canonical`) and sends it back with its change. Each of
:func:`edit_record`, :func:`add_record` and :func:`delete_record` is one change through
:func:`~geo.ledger.changes.commit`: planned under the store's write lock against the record as it is at
that moment. When the record is no longer the one the client saw (another user's edit, an import or an
undo came first) the edit raises :class:`~geo.errors.ConflictError` (409) and writes nothing: the client
reloads the record and makes its change again. A record that is gone raises
:class:`~geo.errors.NotFoundError` (404).

What a client may send is checked against the layer's schema (:mod:`geo.schema`) before anything is
written; a bad value raises :class:`~geo.errors.ValidationError` naming the field:

- ``properties`` names fields of the layer; ``None`` (or blank text) clears one, but not a required one.
  The fields the ledger sets itself (``id``, ``source_id``, ``source_row``, ``source``,
  ``source_excerpt``) and ``lon``/``lat`` (the position is the ``geometry``) are refused, as is any
  field the layer does not have. Numbers must be numbers (at least the field's minimum), choices one of
  their values (``status``, ``location_precision``, ``kind``, qualifiers), slugs, dates and district
  codes in their form, and ids of other records (``park_id``, ``corridor_id``) must exist.
- ``geometry`` is a GeoJSON Point in WGS84 inside :data:`geo.params.STUDY_AREA`. Moving a record sets
  ``lon``/``lat``, ``location_precision`` (as the client says, else ``site``), the location notes (as
  the client says, else "edited on the map by <user>" in Chinese and English) and the district the
  point lies in (unless the client names one; a functional zone of the district it left is dropped).

Each change cites a new source of the register, ``edit-<change_id>`` (kind ``edit``, titled
"编辑 <layer>/<id>（<user>）" / "Edit of <layer>/<id> (<user>)", with the user and the time), and the
record's ``source_id`` names it; the article's ``source``/``source_excerpt`` and an import's
``source_row`` no longer cover the record's values and are dropped, as an import drops them. Like every
change it is logged with the record before and after, and :func:`~geo.ledger.changes.revert` undoes it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import shapely

from geo import params
from geo.citations import source_columns
from geo.errors import ConflictError, NotFoundError, ValidationError
from geo.ledger.changes import (
    CHINA,
    Commit,
    Record,
    RecordChange,
    canonical,
    commit,
    record_of,
    records_of,
    utc_now,
)
from geo.ledger.imports import IMPORT_LAYERS
from geo.ledger.rows import derived_id
from geo.schema import (
    DATE_RE,
    DISTRICT_CODE_RE,
    REGISTER_LAYER,
    SLUG_RE,
    SOURCE_LAYERS,
    Field,
)
from geo.store import Layer, Update, is_spatial

#: The layers a record may be edited, added to or deleted from on the map.
EDIT_LAYERS: tuple[str, ...] = IMPORT_LAYERS
#: Fields the ledger sets itself: never sent by a client.
LEDGER_FIELDS: tuple[str, ...] = ("id", "source_id", "source_row", "source", "source_excerpt")
#: Fields set from the geometry: a client moves a record by its geometry.
POSITION_FIELDS: tuple[str, ...] = ("lon", "lat")
#: Fields an edit drops: the earlier source's citation no longer covers the record's values.
DROPPED_FIELDS: tuple[str, ...] = ("source", "source_excerpt", "source_row")
#: Decimal places kept of an edited position (about a centimetre), as an import keeps them.
COORD_DECIMALS = 7
ETAG_CHARS = 16
#: Longest text value accepted (a field without its own limit).
MAX_TEXT_CHARS = 2000


# -- ETags -------------------------------------------------------------------------------------------------

def record_etag(record: Record | None) -> str:
    """A short hash of the record exactly as the store holds it (what a client saw): 16 hex digits."""
    return hashlib.sha256(canonical(record).encode("utf-8")).hexdigest()[:ETAG_CHARS]


def stored_record(properties: Mapping[str, object], geometry: shapely.Geometry | None) -> Record:
    """The record as the store holds it, from a served row: without the register's title, kind, date and
    publisher that :func:`geo.citations.with_sources` joins beside each ``*source_id``."""
    joined = {c for key in properties if isinstance(key, str) and key.endswith("source_id")
              for c in source_columns(key[: -len("source_id")])}
    return record_of({k: v for k, v in properties.items() if k not in joined}, geometry)


def row_etag(properties: Mapping[str, object], geometry: shapely.Geometry | None) -> str:
    """The ETag of a served row (a record with its source joined): the same as of the record in the store."""
    return record_etag(stored_record(properties, geometry))


# -- checking what a client sends --------------------------------------------------------------------------

def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bad(spec: Field, value: object, expected: str | None = None) -> ValidationError:
    return ValidationError(f"{spec.name}={_shown(value)}: expected {expected or spec.expected()}", field=spec.name)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ids(layers: Mapping[str, Layer], name: str, column: str = "id") -> set[str]:
    frame = layers.get(name)
    if frame is None or column not in frame.columns:
        return set()
    return {str(v) for v in frame[column].dropna()}


def _district_codes(layers: Mapping[str, Layer]) -> set[str]:
    return _ids(layers, "districts", "code") | _ids(layers, "districts", "city_code")


def check_value(spec: Field, value: object, layers: Mapping[str, Layer], *, layer: str,
                record_id: str | None = None) -> object:
    """A value of one field as the store keeps it (None clears it); ValidationError naming the field."""
    if isinstance(value, str) and not value.strip():
        value = None
    if value is None:
        return None
    if spec.kind in ("int", "float"):
        if not _is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
            raise _bad(spec, value)
        number = float(value)  # type: ignore[arg-type]
        if spec.kind == "int" and not number.is_integer():
            raise _bad(spec, value)
        if spec.minimum is not None and number < spec.minimum:
            raise _bad(spec, value)
        return int(number) if spec.kind == "int" else number
    if not isinstance(value, str):
        raise _bad(spec, value, f"text: {spec.expected()}")
    text = value.strip()
    limit = spec.max_chars or MAX_TEXT_CHARS
    if len(text) > limit:
        raise _bad(spec, value, f"at most {limit} characters")
    if spec.kind == "choice" and text not in spec.choices:
        raise _bad(spec, value)
    if spec.kind == "slug" and not SLUG_RE.match(text):
        raise _bad(spec, value)
    if spec.kind == "slugs":
        parts = [p.strip() for p in text.split(";")]
        if not all(SLUG_RE.match(p) for p in parts):
            raise _bad(spec, value)
        text = ";".join(parts)
    if spec.kind == "date" and not DATE_RE.match(text):
        raise _bad(spec, value)
    if spec.kind in ("code", "codes"):
        parts = [p.strip() for p in text.split(";")] if spec.kind == "codes" else [text]
        known = _district_codes(layers)
        if not all(DISTRICT_CODE_RE.match(p) and (not known or p in known) for p in parts):
            raise _bad(spec, value)
        text = ";".join(parts)
    if spec.kind == "source":  # only the field ``source``, which the ledger sets itself
        raise _bad(spec, value)
    if spec.references and spec.kind == "slug" and (
            text not in _ids(layers, spec.references) or (spec.references == layer and text == record_id)):
        raise ValidationError(f"{spec.name}={_shown(value)}: no record of {spec.references} has this id"
                                  f"{' (other than this one)' if spec.references == layer else ''}",
                                  field=spec.name)
    return text


def _spec(layer: str):
    if layer not in EDIT_LAYERS:
        raise ValidationError(f"layer={layer!r}: records are edited on the map in {', '.join(EDIT_LAYERS)} only "
                              f"(others come from the sources and a build)", field="layer")
    return SOURCE_LAYERS[layer]


def check_properties(layer: str, properties: object) -> dict[str, object]:
    """The properties a client sends, by name, each a field the client may set (ValidationError otherwise).

    Only the names are checked here; the values are checked against the store as it is, when committed."""
    spec = _spec(layer)
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise ValidationError("properties must be a JSON object of field names and values", field="properties")
    names = {f.name for f in spec.fields}
    for name in properties:
        if name in LEDGER_FIELDS:
            raise ValidationError(f"{name}: set by the ledger itself, not by an edit (the id stays; every edit "
                                  "cites a new source of kind edit)", field=str(name))
        if name in POSITION_FIELDS:
            raise ValidationError(f"{name}: the position is set by the geometry (a GeoJSON Point in WGS84)",
                                  field=str(name))
        if name not in names:
            allowed = [n for n in names if n not in LEDGER_FIELDS + POSITION_FIELDS]
            raise ValidationError(f"{name!r} is not a field of {layer}; expected some of: {', '.join(allowed)}",
                                  field=str(name))
    return dict(properties)


def check_point(geometry: object) -> tuple[float, float] | None:
    """The (lon, lat) of a GeoJSON Point in WGS84 inside the study area (None for no geometry)."""
    if geometry is None:
        return None
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
        raise ValidationError("geometry must be a GeoJSON Point, like {\"type\": \"Point\", \"coordinates\": "
                              "[112.45, 34.62]} (WGS84 lon, lat)", field="geometry")
    coords = geometry.get("coordinates")
    if (not isinstance(coords, (list, tuple)) or len(coords) != 2 or not all(_is_number(c) for c in coords)
            or not all(math.isfinite(float(c)) for c in coords)):
        raise ValidationError(f"geometry coordinates {_shown(coords)}: expected [lon, lat], two numbers (WGS84)",
                              field="geometry")
    lon, lat = (round(float(c), COORD_DECIMALS) for c in coords)
    try:
        params.check_in_study_area(lon, lat, what=f"the point ({lon:g}, {lat:g})")
    except ValidationError as exc:
        raise ValidationError(f"geometry: {exc.detail}", field="geometry") from None
    return lon, lat


def _district_of(layers: Mapping[str, Layer], lon: float, lat: float) -> str | None:
    frame = layers.get("districts")
    if frame is None or not is_spatial(frame) or "code" not in frame.columns:
        return None
    hits = frame[frame.covers(shapely.Point(lon, lat))]
    return None if hits.empty else str(hits["code"].iloc[0])


def _apply(layer: str, props: dict[str, object], given: Mapping[str, object], point: tuple[float, float] | None,
           layers: Mapping[str, Layer], *, record_id: str | None, user: str) -> dict[str, object]:
    """``props`` with the client's values (checked) and position set; required fields may not be cleared."""
    spec = SOURCE_LAYERS[layer]
    for name, raw in given.items():
        field = spec.field(name)
        value = check_value(field, raw, layers, layer=layer, record_id=record_id)
        if value is None and field.required:
            raise ValidationError(f"{name} is required in {layer}: it may be changed but not cleared", field=name)
        props[name] = value
    if point is not None:
        lon, lat = point
        props["lon"], props["lat"] = lon, lat
        if given.get("location_precision") is None:
            props["location_precision"] = "site"
        if given.get("location_note_zh") is None:
            props["location_note_zh"] = f"在地图上由 {user} 编辑"
        if given.get("location_note_en") is None:
            props["location_note_en"] = f"edited on the map by {user}"
        if given.get("district_code") is None:
            found = _district_of(layers, lon, lat)
            if found is not None and found != props.get("district_code"):
                props["district_code"] = found
                if "functional_zone_zh" not in given:  # a zone of the district the record has left
                    props.pop("functional_zone_zh", None)
            elif not props.get("district_code"):
                raise ValidationError(f"the point ({lon:g}, {lat:g}) lies in none of the districts of the metro "
                                      "area: give district_code", field="district_code")
    return props


def _values(record: Record | None) -> Record | None:
    """A record without the fields that say where it comes from (for deciding whether an edit changes it)."""
    if record is None:
        return None
    return {"properties": {k: v for k, v in record["properties"].items()
                           if k not in ("source_id", *DROPPED_FIELDS)}, "geometry": record["geometry"]}


# -- the register entry and the result ---------------------------------------------------------------------

def edit_source(change_id: str, layer: str, record_id: str, user: str, when: datetime) -> dict[str, object]:
    """The register entry an edit cites: who edited which record and when."""
    return {
        "id": f"edit-{change_id}", "kind": "edit",
        "title_zh": f"编辑 {layer}/{record_id}（{user}）", "title_en": f"Edit of {layer}/{record_id} ({user})",
        "publisher": user, "published_date": when.astimezone(CHINA).date().isoformat(), "user_name": user,
        "recorded_at": when.isoformat(timespec="seconds"), "change_id": change_id,
    }


@dataclass
class Edit(Commit):
    """What an edit wrote (a :class:`~geo.ledger.changes.Commit`) and the record as it now stands.

    ``record`` is None once deleted; ``etag`` is its ETag (what a client sends back with its next edit);
    ``source`` the register entry it cites (None when nothing changed)."""

    layer: str = ""
    record_id: str = ""
    record: Record | None = None
    etag: str | None = None
    source: dict[str, object] | None = None


Build = Callable[[dict[str, Layer], Record | None, str], Record | None]


def _commit_edit(store: Any, layer: str, record_id: str, build: Build, *, expected_etag: str | None,
                 user: str, adding: bool = False) -> Edit:
    """One change of one record, planned under the store's write lock (see the module)."""
    when = utc_now()
    out = Edit(None, layer=layer, record_id=record_id)

    def planner(layers: dict[str, Layer], change_id: str) -> tuple[list[RecordChange], Update]:
        frame = layers.get(layer)
        current = records_of(frame) if frame is not None and is_spatial(frame) and len(frame) else {}
        rid = str(record_id)
        now = current.get(rid)
        if adding and now is not None:
            raise ConflictError(f"{layer}/{rid} exists already (a record of the same name): edit it instead · "
                                f"同名记录 {rid} 已存在，请编辑该记录", field="name_zh")
        if not adding and now is None:
            raise NotFoundError(f"unknown record {layer}/{rid}: it does not exist, or was deleted · 记录不存在或已删除",
                                field="id")
        if expected_etag is not None and record_etag(now) != expected_etag:
            raise ConflictError(
                f"{layer}/{rid} has changed since it was loaded (ETag \"{expected_etag}\"; it is now "
                f"\"{record_etag(now)}\": another user's edit, an import or an undo came first); nothing was "
                f"written: reload it and make the change again · 记录 {rid} 已被他人修改，未写入任何内容，请刷新后重试",
                field=rid)
        source_id = f"edit-{change_id}"
        after = build(layers, now, source_id)
        out.record, out.etag = (after, record_etag(after)) if after is not None else (None, None)
        if after is not None and now is not None and canonical(_values(after)) == canonical(_values(now)):
            out.record, out.etag = now, record_etag(now)  # nothing changes: nothing is written
            return [], Update()
        operation = "add" if now is None else "delete" if after is None else "update"
        source = edit_source(change_id, layer, rid, user, when)
        out.source = source
        return ([RecordChange(layer, rid, operation, now, after, source_id)],
                Update(append={REGISTER_LAYER: pd.DataFrame([source])}))

    done = commit(store, planner, user=user, kind="edit", recorded_at=when)
    out.change_id, out.changes, out.recorded_at = done.change_id, done.changes, done.recorded_at
    if done.change_id is None:
        out.source = None
    return out


def _record(props: Mapping[str, object], geometry: dict[str, Any] | None) -> Record:
    """A record as the store gives it back (numbers as :func:`~geo.ledger.changes.record_of` writes them)."""
    return {"properties": record_of(props, None)["properties"], "geometry": geometry}


def _point_geojson(lon: float, lat: float) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(shapely.Point(lon, lat)))


def _cited(props: dict[str, object], source_id: str) -> dict[str, object]:
    for name in DROPPED_FIELDS:
        props.pop(name, None)
    props["source_id"] = source_id
    return props


def _moved(point: tuple[float, float] | None, now: Record | None) -> tuple[float, float] | None:
    """The new position, or None when the client sent the record's own position back (nothing moves)."""
    if point is None or now is None:
        return point
    return None if _point_geojson(*point) == now.get("geometry") else point


# -- the three edits ---------------------------------------------------------------------------------------

def edit_record(store: Any, layer: str, record_id: str, *, properties: Mapping[str, object] | None,
                geometry: Mapping[str, Any] | None = None, expected_etag: str | None, user: str) -> Edit:
    """Update the given properties (None clears one) and, with ``geometry``, move the record: one change.

    ``expected_etag`` is the ETag of the record as the client saw it (None: no check); a different
    record in the store raises ConflictError and writes nothing. Nothing changes: nothing is written."""
    given = check_properties(layer, properties)
    point = check_point(geometry)

    def build(layers: dict[str, Layer], now: Record | None, source_id: str) -> Record:
        assert now is not None
        moved = _moved(point, now)
        props = _apply(layer, dict(now["properties"]), given, moved, layers, record_id=record_id, user=user)
        geom = _point_geojson(*moved) if moved is not None else now["geometry"]
        return _record(_cited(props, source_id), geom)

    return _commit_edit(store, layer, record_id, build, expected_etag=expected_etag, user=user)


def add_record(store: Any, layer: str, *, properties: Mapping[str, object] | None,
               geometry: Mapping[str, Any] | None, user: str) -> Edit:
    """Add a record (its id derived from ``name_zh``, as an import derives it) at a point: one change.

    ``name_zh`` and the geometry are required; a record of the same name already there raises ConflictError."""
    given = check_properties(layer, properties)
    name = given.get("name_zh")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"name_zh is required to add a record to {layer} · 需要中文名称", field="name_zh")
    point = check_point(geometry)
    if point is None:
        raise ValidationError("geometry is required to add a record: a GeoJSON Point (WGS84)", field="geometry")
    record_id = derived_id(layer, name.strip())

    def build(layers: dict[str, Layer], now: Record | None, source_id: str) -> Record:
        props = _apply(layer, {"id": record_id}, given, point, layers, record_id=record_id, user=user)
        return _record(_cited(props, source_id), _point_geojson(*point))

    return _commit_edit(store, layer, record_id, build, expected_etag=None, user=user, adding=True)


def delete_record(store: Any, layer: str, record_id: str, *, expected_etag: str | None, user: str) -> Edit:
    """Delete a record (the ledger keeps it: an undo brings it back): one change; ConflictError if it changed."""
    _spec(layer)
    return _commit_edit(store, layer, record_id, lambda layers, now, source_id: None,
                        expected_etag=expected_etag, user=user)


def feature_of(edit: Edit, register: pd.DataFrame | None = None) -> dict[str, Any]:
    """The record an edit left as a GeoJSON Feature (WGS84), as ``GET /api/features/<id>`` gives it: without
    ``lon``/``lat``, with its layer and its source's title, kind, date and publisher (the edit's own source,
    else the one ``register`` has for the record's ``source_id``)."""
    record = edit.record or {"properties": {}, "geometry": None}
    props = {k: v for k, v in record["properties"].items() if k not in POSITION_FIELDS}
    source = edit.source
    if source is None and register is not None and "id" in register.columns:
        rows = register[register["id"] == props.get("source_id")]
        if len(rows):
            source = {k: (None if pd.isna(v) else v) for k, v in rows.iloc[0].to_dict().items()}
    if source is not None and props.get("source_id") == source["id"]:
        joined = {column: source.get(name) for column, name in zip(
            source_columns(), ("title_zh", "title_en", "kind", "published_date", "publisher"))}
        ordered: dict[str, Any] = {}
        for key, value in props.items():
            ordered[key] = value
            if key == "source_id":
                ordered.update(joined)
        props = ordered
    props["layer"] = edit.layer
    return {"type": "Feature", "id": edit.record_id, "properties": props, "geometry": record["geometry"]}


__all__ = ["EDIT_LAYERS", "LEDGER_FIELDS", "Edit", "add_record", "check_point", "check_properties", "check_value",
           "delete_record", "edit_record", "edit_source", "feature_of", "record_etag", "row_etag", "stored_record"]
