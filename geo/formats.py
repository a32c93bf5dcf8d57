"""Turn query results into output formats: GeoJSON (WGS84, RFC 7946), CSV, JSON records and text tables.

A table without geometry (the register of sources) is written the same ways: as GeoJSON its features
have ``"geometry": null`` (RFC 7946 §3.2: an unlocated feature), as CSV it has no ``lon``/``lat``/``wkt``
and no ``crs`` column.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.errors import ValidationError
from geo.store import is_spatial

FORMATS: tuple[str, ...] = ("table", "json", "geojson", "csv")


def plain(value: Any) -> Any:
    """Return a JSON-ready Python value (None for NaN/NA, ints for integral numpy numbers)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def records(gdf: pd.DataFrame, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts without the geometry; adds WGS84 ``lon``/``lat`` of point rows."""
    cols = [c for c in (columns or gdf.columns) if c != "geometry" and c in gdf.columns]
    values = gdf[cols].astype(object).to_numpy().tolist()
    out = [{c: plain(v) for c, v in zip(cols, row)} for row in values]
    if is_spatial(gdf) and "lon" not in cols and len(gdf):
        geoms = np.asarray(gdf.geometry.values)
        is_point = shapely.get_type_id(geoms) == 0
        xs, ys = shapely.get_x(geoms), shapely.get_y(geoms)
        for rec, point, x, y in zip(out, is_point, xs, ys):
            if point:
                rec["lon"], rec["lat"] = round(float(x), 7), round(float(y), 7)
    return out


def feature_collection(gdf: pd.DataFrame, **members: Any) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS84) of the rows; extra top-level members may be added.

    Rows of a table without geometry become features with ``"geometry": null``."""
    spatial = is_spatial(gdf)
    if spatial and gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    props = records(gdf.drop(columns=["lon", "lat"], errors="ignore") if spatial else gdf)
    geoms = gdf.geometry.values if spatial else [None] * len(gdf)
    features = []
    for prop, geom in zip(props, geoms):
        prop.pop("lon", None)
        prop.pop("lat", None)
        features.append({"type": "Feature", "id": prop.get("id"), "properties": prop,
                         "geometry": json.loads(shapely.to_geojson(geom)) if geom is not None else None})
    return {"type": "FeatureCollection", **members, "features": features}


def to_csv(gdf: pd.DataFrame) -> str:
    """CSV text with WGS84 ``lon``/``lat`` for points and ``wkt`` for other geometries; states the CRS.

    A table without geometry is written as it is (no position columns, no ``crs``)."""
    recs = records(gdf)
    frame = pd.DataFrame(recs)
    if not is_spatial(gdf):
        frame = pd.DataFrame(recs, columns=list(gdf.columns))
        buf = io.StringIO()
        frame.to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue()
    if len(gdf):
        not_point = gdf.geometry.geom_type.to_numpy() != "Point"
        if not_point.any():
            frame["wkt"] = np.where(not_point, shapely.to_wkt(gdf.geometry.values, rounding_precision=7), "")
    frame["crs"] = "EPSG:4326"
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


#: Encodings of a CSV download (``encoding=``): UTF-8 with a byte-order mark (the default, so that Excel on Chinese
#: Windows opens it as UTF-8), plain UTF-8 (no BOM) or GB18030 (the Chinese national encoding, a superset of GBK).
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "utf-8", "gb18030")
DEFAULT_CSV_ENCODING = "utf-8-sig"


def check_csv_encoding(value: str | None, fmt: str = "csv") -> str:
    """The encoding of a CSV download from a client's ``encoding`` (None: the default, UTF-8 with a BOM);
    refused for an unknown encoding, or when ``fmt`` is not csv (it would be ignored)."""
    text = (value or "").strip()
    if text and (fmt or "").lower() != "csv":
        raise ValidationError(f"encoding is for CSV only; drop it or ask for format csv (got {fmt!r})",
                              field="encoding")
    if not text:
        return DEFAULT_CSV_ENCODING
    for option in CSV_ENCODINGS:
        if text.lower() == option:
            return option
    raise ValidationError(f"unknown encoding {text[:40]!r}; expected one of: {', '.join(CSV_ENCODINGS)}",
                          field="encoding")


def csv_bytes(text: str, encoding: str = DEFAULT_CSV_ENCODING) -> bytes:
    """CSV text as the bytes of a download: UTF-8 with a BOM (default), plain UTF-8 or GB18030."""
    return text.encode(check_csv_encoding(encoding))


def csv_content_type(encoding: str = DEFAULT_CSV_ENCODING) -> str:
    """The Content-Type of a CSV download in ``encoding`` (``text/csv`` with its charset)."""
    return f"text/csv; charset={'gb18030' if check_csv_encoding(encoding) == 'gb18030' else 'utf-8'}"


def encode_download(body: bytes, content_type: str, fmt: str, encoding: str | None) -> tuple[bytes, str]:
    """A data download (``geo.downloads``: CSV as UTF-8 with a BOM) in the client's ``encoding`` (None: as it is),
    with its Content-Type; ``encoding`` is refused for any format but csv."""
    key = check_csv_encoding(encoding, fmt)
    if (fmt or "").lower() != "csv" or encoding is None or not encoding.strip():
        return body, content_type
    text = body.decode("utf-8-sig")
    return csv_bytes(text, key), csv_content_type(key)


def to_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain text table of the given columns (for the terminal)."""
    def cell(v: Any) -> str:
        if v is None:
            return "—"
        if isinstance(v, float):
            return f"{v:g}"
        return str(v)

    grid = [list(columns)] + [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(_width(row[i]) for row in grid) for i in range(len(columns))]
    return "\n".join("  ".join(v + " " * (w - _width(v)) for v, w in zip(row, widths)).rstrip() for row in grid)


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)


def dumps(value: Any) -> str:
    """JSON text (UTF-8, Chinese kept readable) of a JSON-ready value."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=plain)


#: How a qualified figure reads (``geo.schema.QUALIFIERS``), Chinese and English: never as an exact number.
QUALIFIER_LABELS: dict[str, tuple[str, str]] = {
    "approx": ("约", "about"),
    "nearly": ("近", "nearly"),
    "more_than": ("逾", "more than"),
    "less_than": ("不到", "less than"),
    "proposed": ("拟定", "proposed"),
}


def qualified(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record whose qualified figures read with their qualifier ("近 nearly 20000"), qualifier columns folded in."""
    out = dict(record)
    for key, qualifier in record.items():
        figure = key.removesuffix("_qualifier")
        if figure == key:
            continue
        out.pop(key)
        if qualifier in QUALIFIER_LABELS and out.get(figure) is not None:
            zh, en = QUALIFIER_LABELS[qualifier]
            out[figure] = f"{zh} {en} {out[figure]:g}" if isinstance(out[figure], (int, float)) else \
                f"{zh} {en} {out[figure]}"
    return out
