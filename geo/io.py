"""Read and validate the source tables into WGS84 GeoDataFrames.

``read_sources`` is the one entry point: it reads ``data/boundaries/districts.geojson`` and every
table of ``data/sources/``, checks each value against :mod:`geo.schema`, checks every position
against the district it names, and returns one GeoDataFrame per layer (EPSG:4326). Problems are
collected over all files and raised together as :class:`SourceErrors`, each naming the file,
row, field and what was expected, so nothing is written from bad input.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo import crs
from geo.errors import ValidationError
from geo.schema import (
    DATE_RE,
    DISTRICT_CODE_RE,
    DISTRICT_FACTS,
    DISTRICTS,
    REGISTER,
    SLUG_RE,
    SOURCE_LAYERS,
    SOURCE_RE,
    Field,
    LayerSpec,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCES_DIR = ROOT / "data" / "sources"
DEFAULT_BOUNDARIES = ROOT / "data" / "boundaries" / "districts.geojson"
#: Margin around the districts' bounding box within which a point still counts as in the region.
METRO_MARGIN_DEG = 0.05


class SourceErrors(ValidationError):
    """Several problems found in the sources; ``errors`` holds each one."""

    def __init__(self, errors: list[ValidationError]) -> None:
        self.errors = errors
        first = errors[0]
        lines = [f"{len(errors)} problem(s) in the source data:"] + [f"  - {e}" for e in errors]
        super().__init__("\n".join(lines))
        self.file, self.row, self.field = first.file, first.row, first.field

    def to_dict(self) -> dict[str, object]:
        """Return all problems as a JSON-ready mapping."""
        out = super().to_dict()
        out["errors"] = [e.to_dict() for e in self.errors]
        return out


@dataclass
class _Collector:
    """Collects validation problems of one build instead of stopping at the first."""

    errors: list[ValidationError]

    def add(self, message: str, *, file: str, row: int | None = None, field: str | None = None) -> None:
        self.errors.append(ValidationError(message, file=file, row=row, field=field))


@dataclass(frozen=True)
class Region:
    """The districts and the metro area's bounds (WGS84 degrees) used to check positions."""

    districts: gpd.GeoDataFrame
    bounds: tuple[float, float, float, float]

    @property
    def county_codes(self) -> set[str]:
        return set(self.districts["code"])

    @property
    def city_codes(self) -> set[str]:
        return set(self.districts["city_code"])

    def area_of(self, code: str) -> shapely.Geometry:
        """Return the WGS84 polygon of a county code, or the union of a city's counties."""
        rows = self.districts[self.districts["code"] == code]
        if rows.empty:
            rows = self.districts[self.districts["city_code"] == code]
        return shapely.union_all(rows.geometry.values)

    def name_of(self, code: str) -> str:
        """Return the Chinese name of a county or city code."""
        hit = self.districts[self.districts["code"] == code]
        if not hit.empty:
            return str(hit["name_zh"].iloc[0])
        hit = self.districts[self.districts["city_code"] == code]
        return str(hit["city_zh"].iloc[0]) if not hit.empty else code

    def locate(self, lon: float, lat: float) -> str | None:
        """Return the county code whose polygon covers the WGS84 point, if any."""
        hits = self.districts[self.districts.covers(shapely.Point(lon, lat))]
        return None if hits.empty else str(hits["code"].iloc[0])


def _rel(path: Path) -> str:
    """Name a file relative to the repository when it lies inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _parse(spec: Field, raw: str, region: Region | None) -> tuple[object, str | None]:
    """Parse one cell; return (value, problem) with value None for an empty cell."""
    text = raw.strip()
    if text == "":
        return None, ("a value is required: " + spec.expected()) if spec.required else None
    bad = f"expected {spec.expected()}, got {raw!r}"
    if spec.kind in ("int", "float"):
        try:
            number = float(text)
        except ValueError:
            return None, bad
        if not math.isfinite(number) or (spec.kind == "int" and not number.is_integer()):
            return None, bad
        if spec.minimum is not None and number < spec.minimum:
            return None, bad
        return (int(number) if spec.kind == "int" else number), None
    ok = {
        "slug": lambda: bool(SLUG_RE.match(text)),
        "slugs": lambda: all(SLUG_RE.match(s.strip()) for s in text.split(";")),
        "date": lambda: bool(DATE_RE.match(text)),
        "choice": lambda: text in spec.choices,
        "source": lambda: bool(SOURCE_RE.match(text)),
        "code": lambda: bool(DISTRICT_CODE_RE.match(text))
        and (region is None or text in region.county_codes | region.city_codes),
        "codes": lambda: all(bool(DISTRICT_CODE_RE.match(c.strip()))
                             and (region is None or c.strip() in region.county_codes | region.city_codes)
                             for c in text.split(";")),
        "str": lambda: spec.max_chars is None or len(text) <= spec.max_chars,
    }[spec.kind]()
    if not ok:
        return None, bad
    if spec.kind in ("slugs", "codes"):
        text = ";".join(s.strip() for s in text.split(";"))
    return text, None


def _validate_records(
    spec: LayerSpec,
    file: str,
    columns: Iterable[str],
    records: list[Mapping[str, str]],
    region: Region | None,
    problems: _Collector,
) -> pd.DataFrame:
    """Check the columns and every cell of a table; return the parsed, typed frame."""
    columns = list(columns)
    names = [f.name for f in spec.fields]
    for missing in [n for n in names if n not in columns and spec.field(n).required]:
        problems.add("column is missing", file=file, field=missing)
    for extra in [c for c in columns if c not in names]:
        problems.add(f"unknown column; expected only: {', '.join(names)}", file=file, field=extra)
    parsed: dict[str, list[object]] = {n: [] for n in names}
    for row_no, record in enumerate(records, start=1):
        for f in spec.fields:
            value, problem = _parse(f, str(record.get(f.name, "") or ""), region)
            if problem and f.name in columns:
                problems.add(problem, file=file, row=row_no, field=f.name)
            parsed[f.name].append(value)
    frame = pd.DataFrame(parsed, columns=names)
    for f in spec.fields:
        if f.kind == "int":
            frame[f.name] = pd.array(frame[f.name], dtype="Int64")
        elif f.kind == "float":
            frame[f.name] = pd.to_numeric(frame[f.name]).astype("float64")
        else:
            frame[f.name] = frame[f.name].astype("object")
    return frame


def _check_points(frame: pd.DataFrame, file: str, region: Region, problems: _Collector) -> None:
    """Check that lon/lat are in the region, not swapped, and inside the district they name."""
    west, south, east, north = region.bounds
    for row_no, rec in enumerate(frame.itertuples(index=False), start=1):
        lon, lat, code = rec.lon, rec.lat, rec.district_code
        if lon is None or lat is None or pd.isna(lon) or pd.isna(lat):
            continue
        where = f"({lon:.6f}, {lat:.6f})"
        if west <= lat <= east and south <= lon <= north:
            problems.add(f"lon and lat look swapped: {where} puts lon in the latitude range; "
                         f"expected lon {west:.2f}..{east:.2f} and lat {south:.2f}..{north:.2f} "
                         "(WGS84)", file=file, row=row_no, field="lon")
            continue
        if not (west <= lon <= east and south <= lat <= north):
            problems.add(f"point {where} lies outside the Luoyang metro area; expected lon "
                         f"{west:.2f}..{east:.2f} and lat {south:.2f}..{north:.2f} (WGS84)",
                         file=file, row=row_no, field="lon" if not west <= lon <= east else "lat")
            continue
        if not isinstance(code, str):
            continue
        precision = rec.location_precision
        if precision == "city" and code not in region.city_codes:
            problems.add(f"location_precision is 'city' but {code} is a county code; expected a "
                         "city code such as 410300", file=file, row=row_no, field="district_code")
        elif code not in region.county_codes and precision != "city":
            problems.add(f"{code} is a city code; expected a county code for location_precision "
                         f"'{precision}'", file=file, row=row_no, field="district_code")
        if not region.area_of(code).covers(shapely.Point(lon, lat)):
            found = region.locate(lon, lat)
            inside = f"{region.name_of(found)} ({found})" if found else "no listed district"
            problems.add(f"point {where} lies in {inside}, not in {region.name_of(code)} ({code}) "
                         "as named", file=file, row=row_no, field="district_code")


def read_districts(path: Path = DEFAULT_BOUNDARIES, facts: Path | None = None,
                   register_ids: set[str] | None = None) -> Region:
    """Read the county boundaries (WGS84) and attach the district facts table."""
    file = _rel(path)
    problems = _Collector([])
    try:
        raw = pyogrio.read_dataframe(path)
    except Exception as exc:
        raise SourceErrors([ValidationError(f"cannot read boundaries: {exc}", file=file)]) from exc
    records = [{k: ("" if pd.isna(v) else str(v)) for k, v in r.items()}
               for r in raw.drop(columns="geometry").to_dict("records")]
    frame = _validate_records(DISTRICTS, file, raw.columns.drop("geometry"), records, None, problems)
    _check_ids(frame["code"], file, "code", problems)
    for row_no, geom in enumerate(raw.geometry.values, start=1):
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.add("expected a Polygon or MultiPolygon geometry", file=file, row=row_no, field="geometry")
        elif not geom.is_valid:
            problems.add(f"invalid polygon: {shapely.is_valid_reason(geom)}", file=file, row=row_no,
                         field="geometry")
    if problems.errors:
        raise SourceErrors(problems.errors)
    districts = gpd.GeoDataFrame(frame, geometry=raw.geometry.values, crs=crs.WGS84)
    districts.insert(0, "id", districts["code"])  # an id like every other layer's (the six-digit code)
    districts.insert(2, "level", "county")
    districts["area_km2"] = (districts.to_crs(crs.METRIC_CRS).area / 1e6).round(1)
    west, south, east, north = districts.total_bounds
    region = Region(districts, (west - METRO_MARGIN_DEG, south - METRO_MARGIN_DEG,
                                east + METRO_MARGIN_DEG, north + METRO_MARGIN_DEG))
    if facts is not None and facts.exists():
        region = Region(_join_facts(region, facts, register_ids), region.bounds)
    return region


def _join_facts(region: Region, path: Path, register_ids: set[str] | None = None) -> gpd.GeoDataFrame:
    """Attach the district-wide figures of ``district_facts.csv`` to the county rows."""
    file = _rel(path)
    problems = _Collector([])
    table = _read_csv(path)
    frame = _validate_records(DISTRICT_FACTS, file, table.columns, table.to_dict("records"), region, problems)
    _check_ids(frame["district_code"], file, "district_code", problems)
    for row_no, code in enumerate(frame["district_code"], start=1):
        if isinstance(code, str) and code not in region.county_codes:
            problems.add(f"expected a county code, got {code}", file=file, row=row_no, field="district_code")
    if register_ids is not None:
        _check_cited(frame, file, register_ids, problems)
    if problems.errors:
        raise SourceErrors(problems.errors)
    facts = frame.rename(columns={"note": "facts_note", "source": "facts_source", "source_id": "facts_source_id",
                                  "source_excerpt": "facts_source_excerpt", "district_code": "code"})
    return region.districts.merge(facts, on="code", how="left")


def _read_csv(path: Path) -> pd.DataFrame:
    """Read a UTF-8 CSV as text cells (nothing guessed, empty cells stay empty)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SourceErrors([ValidationError(f"cannot read CSV: {exc}", file=_rel(path))]) from exc


def _check_ids(ids: pd.Series, file: str, field: str, problems: _Collector) -> None:
    """Report every repeated value of an id column with the row it first appeared in."""
    seen: dict[object, int] = {}
    for row_no, value in enumerate(ids, start=1):
        if not isinstance(value, str):
            continue
        if value in seen:
            problems.add(f"duplicate id {value!r}; first used in row {seen[value]}", file=file,
                         row=row_no, field=field)
        else:
            seen[value] = row_no


def _read_points(spec: LayerSpec, path: Path, region: Region, problems: _Collector) -> gpd.GeoDataFrame:
    """Read a CSV point layer; positions come from its WGS84 ``lon``/``lat`` columns."""
    file = _rel(path)
    table = _read_csv(path)
    frame = _validate_records(spec, file, table.columns, table.to_dict("records"), region, problems)
    _check_points(frame, file, region, problems)
    geometry = gpd.points_from_xy(frame["lon"].fillna(np.nan), frame["lat"].fillna(np.nan), crs=crs.WGS84)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=crs.WGS84)


def _read_lines(spec: LayerSpec, path: Path, region: Region, problems: _Collector) -> gpd.GeoDataFrame:
    """Read a GeoJSON line layer (WGS84, RFC 7946) and check every geometry."""
    file = _rel(path)
    try:
        raw = pyogrio.read_dataframe(path)
        declared = json.loads(path.read_text(encoding="utf-8")).get("crs")
    except Exception as exc:
        raise SourceErrors([ValidationError(f"cannot read GeoJSON: {exc}", file=file)]) from exc
    if declared:
        problems.add("GeoJSON sources must be WGS84 without a 'crs' member (RFC 7946)", file=file, field="crs")
    props = raw.drop(columns="geometry")
    records = [{k: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
                for k, v in r.items()} for r in props.to_dict("records")]
    frame = _validate_records(spec, file, props.columns, records, region, problems)
    west, south, east, north = region.bounds
    for row_no, geom in enumerate(raw.geometry.values, start=1):
        if geom is None or geom.geom_type not in ("LineString", "MultiLineString"):
            got = "no geometry" if geom is None else geom.geom_type
            problems.add(f"expected a LineString geometry, got {got}", file=file, row=row_no, field="geometry")
            continue
        coords = shapely.get_coordinates(geom)
        if len(np.unique(coords, axis=0)) < 2 or not geom.is_valid or not np.isfinite(coords).all():
            problems.add("invalid line: it needs at least two distinct, finite points", file=file,
                         row=row_no, field="geometry")
            continue
        gx0, gy0, gx1, gy1 = geom.bounds
        if gx0 < west or gx1 > east or gy0 < south or gy1 > north:
            problems.add(f"line reaches outside the Luoyang metro area (lon {west:.2f}..{east:.2f}, "
                         f"lat {south:.2f}..{north:.2f}, WGS84)", file=file, row=row_no, field="geometry")
    return gpd.GeoDataFrame(frame, geometry=raw.geometry.values, crs=crs.WGS84)


def _check_cited(frame: pd.DataFrame, file: str, register_ids: set[str], problems: _Collector) -> None:
    """Every record cites a source of the register by its ``source_id``."""
    for row_no, value in enumerate(frame["source_id"], start=1):
        if isinstance(value, str) and value not in register_ids:
            problems.add(f"unknown source id {value!r}; expected an id of data/sources/{REGISTER.file}",
                         file=file, row=row_no, field="source_id")


def read_register(path: Path) -> pd.DataFrame:
    """Read and validate the register of sources (no geometry): unique ids, and where each source lies."""
    file = _rel(path)
    problems = _Collector([])
    if not path.exists():
        raise SourceErrors([ValidationError("the register of sources is missing", file=file)])
    table = _read_csv(path)
    frame = _validate_records(REGISTER, file, table.columns, table.to_dict("records"), None, problems)
    _check_ids(frame["id"], file, "id", problems)
    for row_no, rec in enumerate(frame.to_dict("records"), start=1):
        if rec["kind"] in ("article", "related_item") and not isinstance(rec["file"], str):
            problems.add("an article or related item names its file", file=file, row=row_no, field="file")
        if rec["kind"] == "related_item":
            for name in ("item_index", "item_heading_zh"):
                if pd.isna(rec[name]):
                    problems.add("a related item gives its position and heading in the file", file=file,
                                 row=row_no, field=name)
            if isinstance(rec["published_date"], str):
                problems.add("a related item is undated in its file; leave published_date empty", file=file,
                             row=row_no, field="published_date")
    if problems.errors:
        raise SourceErrors(problems.errors)
    return frame


def _check_references(layers: Mapping[str, gpd.GeoDataFrame], problems: _Collector,
                      files: Mapping[str, str]) -> None:
    """Check that ids are unique across layers and that every reference names a real id."""
    owner: dict[str, str] = {}
    for name, gdf in layers.items():
        if name in ("districts", REGISTER.name):
            continue
        for row_no, value in enumerate(gdf["id"], start=1):
            if not isinstance(value, str):
                continue
            if value in owner and owner[value] != name:
                problems.add(f"id {value!r} is already used in layer {owner[value]}; ids must be unique "
                             "across layers", file=files[name], row=row_no, field="id")
            owner.setdefault(value, name)
    for name, gdf in layers.items():
        if name not in ("districts", REGISTER.name):
            _check_ids(gdf["id"], files[name], "id", problems)
    for name, gdf in layers.items():
        spec = SOURCE_LAYERS.get(name)
        if spec is None:
            continue
        for f in spec.fields:
            if f.references is None:
                continue
            known = set(layers[f.references]["id"])
            for row_no, value in enumerate(gdf[f.name], start=1):
                if isinstance(value, str) and value not in known:
                    problems.add(f"unknown {f.references} id {value!r}; expected an id of {files[f.references]}",
                                 file=files[name], row=row_no, field=f.name)


def read_sources(
    sources_dir: Path = DEFAULT_SOURCES_DIR,
    boundaries: Path = DEFAULT_BOUNDARIES,
) -> dict[str, gpd.GeoDataFrame]:
    """Read, validate and return every layer keyed by name: WGS84 GeoDataFrames, and the register of
    sources (``sources``, a DataFrame without geometry) that every record cites."""
    sources_dir = Path(sources_dir)
    register = read_register(sources_dir / REGISTER.file)
    register_ids = set(register["id"])
    region = read_districts(Path(boundaries), sources_dir / DISTRICT_FACTS.file, register_ids)
    problems = _Collector([])
    layers: dict[str, gpd.GeoDataFrame] = {"districts": region.districts, REGISTER.name: register}
    files = {REGISTER.name: _rel(sources_dir / REGISTER.file)}
    for name, spec in SOURCE_LAYERS.items():
        path = sources_dir / spec.file
        files[name] = _rel(path)
        if not path.exists():
            problems.add("source file is missing", file=files[name])
            continue
        reader = _read_lines if spec.geometry == "line" else _read_points
        layers[name] = reader(spec, path, region, problems)
    if not problems.errors:
        _check_references(layers, problems, files)
    if problems.errors:
        raise SourceErrors(problems.errors)
    return layers
