"""Data downloads of layers and query results as GeoJSON (WGS84), CSV (lon/lat, CRS named) or GeoPackage (WGS84).

Each function returns ``(bytes, mimetype, filename)``, ready for an HTTP response or a file. GeoJSON and
CSV come from :mod:`geo.formats` (as the JSON API); the GeoPackage is written by pyogrio to a temporary
file (one layer per table, e.g. a query's features and its buffer) with a fixed timestamp, so the same
data give the same bytes.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from geo import crs, filters, formats
from geo.errors import ValidationError
from geo.store import BUILD_TIMESTAMP

FORMATS: tuple[str, ...] = ("geojson", "csv", "gpkg")
MIMETYPES: dict[str, str] = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
}
Download = tuple[bytes, str, str]


def _json_text(value: Any) -> Any:
    """Dicts, lists and tuples as JSON text (numpy numbers made plain); anything else unchanged."""
    if not isinstance(value, (dict, list, tuple)):
        return value
    return json.dumps(value, ensure_ascii=False, default=lambda v: v.item() if hasattr(v, "item") else str(v))


@contextmanager
def _fixed_date() -> Iterator[None]:
    """Write GeoPackage timestamps as the store's fixed build time, so that equal data give equal bytes."""
    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": BUILD_TIMESTAMP})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def check_format(fmt: str) -> str:
    """Validate a download format (geojson, csv or gpkg)."""
    key = (fmt or "").lower()
    if key not in FORMATS:
        raise ValidationError(f"unknown data format {fmt!r}; expected one of: {', '.join(FORMATS)}", field="format")
    return key


def safe_name(name: str) -> str:
    """A file-name stem of letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-") or "data"


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        return gdf.set_crs(crs.WGS84)
    return gdf if gdf.crs.equals(crs.WGS84) else gdf.to_crs(crs.WGS84)


def _plain_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns a GeoPackage can hold: dicts and lists become JSON text; extra geometry columns WKT."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        values = out[col]
        if isinstance(values.dtype, gpd.array.GeometryDtype):
            out[col] = values.to_wkt()
        elif values.dtype == object and values.map(lambda v: isinstance(v, (dict, list, tuple))).any():
            out[col] = values.map(_json_text)
    return out


def gpkg_bytes(tables: Mapping[str, gpd.GeoDataFrame]) -> bytes:
    """A GeoPackage (WGS84) holding each GeoDataFrame as a layer named by its key."""
    with tempfile.TemporaryDirectory(prefix="corridors-") as tmp:
        path = Path(tmp) / "download.gpkg"
        with _fixed_date():
            for name, gdf in tables.items():
                frame = _plain_columns(_wgs84(gdf))
                kinds = set(frame.geometry.geom_type.dropna())
                pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists(),
                                        geometry_type=None if len(kinds) == 1 else "Unknown",
                                        layer_options={"SPATIAL_INDEX": "YES"})
        return path.read_bytes()


def download(gdf: gpd.GeoDataFrame, fmt: str, name: str, extra: Mapping[str, gpd.GeoDataFrame] | None = None,
             **members: Any) -> Download:
    """One table as GeoJSON (``members`` added at the top level), CSV or GeoPackage (``extra`` layers added)."""
    key = check_format(fmt)
    stem = safe_name(name)
    gdf = _wgs84(gdf)
    if key == "geojson":
        doc = formats.feature_collection(gdf, name=stem, crs="EPSG:4326", **members)
        body = formats.dumps(doc).encode("utf-8")
    elif key == "csv":
        body = formats.to_csv(gdf).encode("utf-8")
    else:
        body = gpkg_bytes({stem.replace("-", "_"): gdf, **dict(extra or {})})
    return body, MIMETYPES[key], f"{stem}.{key}"


def layer_download(layers: Mapping[str, gpd.GeoDataFrame], layer: str, fmt: str, *,
                   wanted: filters.Filters | None = None, joined: Mapping[str, gpd.GeoDataFrame] | None = None,
                   belts: gpd.GeoDataFrame | None = None) -> Download:
    """A layer of the store (or ``belts``), filtered like the web map, in WGS84."""
    from geo import analysis

    if layer == "belts":
        gdf = belts if belts is not None else analysis.corridor_belts(layers["corridors"])
        if wanted is not None and wanted.corridor:
            gdf = gdf[gdf["id"].isin(wanted.corridor)]
    elif layer in layers:
        gdf = filters.apply(layer, layers, wanted or filters.Filters(), joined)
    else:
        raise ValidationError(f"unknown layer {layer!r}; expected one of: {', '.join([*layers, 'belts'])}",
                              field="layer")
    params = wanted.as_params() if wanted is not None else {}
    suffix = "-filtered" if params else ""
    return download(gdf, fmt, f"{layer}{suffix}", filters=params)


def near_download(result: Any, fmt: str) -> Download:
    """A buffer query's features (with distance_km); the GeoPackage also holds the buffer polygon."""
    buffer = gpd.GeoDataFrame({"radius_km": [result.query.get("radius_km")]}, geometry=[result.buffer],
                              crs=crs.WGS84)
    return download(result.features, fmt, "near", extra={"near_buffer": buffer}, query=result.query,
                    summary=result.summary)


def ranking_download(ranking: gpd.GeoDataFrame, fmt: str, name: str = "site", **members: Any) -> Download:
    """A ranking (id, name_zh, name_en, score, rank, geometry, …) with nested columns as JSON text in CSV/GPKG."""
    frame = ranking.copy()
    if fmt.lower() == "csv":
        for col in frame.columns:
            if col != frame.geometry.name and frame[col].dtype == object:
                frame[col] = frame[col].map(_json_text)
    return download(frame, fmt, name, **members)


__all__ = ["FORMATS", "MIMETYPES", "check_format", "download", "gpkg_bytes", "layer_download", "near_download",
           "ranking_download", "safe_name"]
