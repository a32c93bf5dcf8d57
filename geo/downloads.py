"""Data downloads of layers and query results as GeoJSON (WGS84), CSV (lon/lat, CRS named) or GeoPackage (WGS84).

Each function returns ``(bytes, mimetype, filename)``, ready for an HTTP response or a file. GeoJSON and
CSV come from :mod:`geo.formats` (as the JSON API); the GeoPackage is written by pyogrio to a temporary
file (one layer per table, e.g. a query's features and its buffer) with a fixed timestamp, so the same
data give the same bytes.

Every record carries its ``source_id`` and its source's title, kind, date and publisher
(``source_title_zh`` …, :func:`geo.citations.with_sources`); a GeoPackage also holds the register rows
of the sources its records cite, as the attribute table ``sources``. The register itself (``layer=sources``)
downloads as CSV, as GeoJSON with null geometries, or as a GeoPackage attribute table.
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
import pandas as pd
import pyogrio

from geo import citations, crs, filters, formats
from geo.errors import ValidationError
from geo.schema import REGISTER_LAYER
from geo.store import BUILD_TIMESTAMP, is_spatial

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


def _plain_columns(gdf: pd.DataFrame) -> pd.DataFrame:
    """Columns a GeoPackage can hold: dicts and lists become JSON text; extra geometry columns WKT."""
    out = gdf.copy()
    active = out.geometry.name if is_spatial(out) else None
    for col in out.columns:
        if col == active:
            continue
        values = out[col]
        if isinstance(values.dtype, gpd.array.GeometryDtype):
            out[col] = values.to_wkt()
        elif values.dtype == object and values.map(lambda v: isinstance(v, (dict, list, tuple))).any():
            out[col] = values.map(_json_text)
    return out


def gpkg_bytes(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """A GeoPackage (WGS84) holding each GeoDataFrame as a layer named by its key (a DataFrame without
    geometry as an attribute table)."""
    with tempfile.TemporaryDirectory(prefix="corridors-") as tmp:
        path = Path(tmp) / "download.gpkg"
        with _fixed_date():
            for name, gdf in tables.items():
                if not is_spatial(gdf):
                    pyogrio.write_dataframe(_plain_columns(pd.DataFrame(gdf)), path, layer=name, driver="GPKG",
                                            append=path.exists())
                    continue
                frame = _plain_columns(_wgs84(gdf))
                kinds = set(frame.geometry.geom_type.dropna())
                pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists(),
                                        geometry_type=None if len(kinds) == 1 else "Unknown",
                                        layer_options={"SPATIAL_INDEX": "YES"})
        return path.read_bytes()


def download(gdf: pd.DataFrame, fmt: str, name: str, extra: Mapping[str, pd.DataFrame] | None = None,
             **members: Any) -> Download:
    """One table as GeoJSON (``members`` added at the top level), CSV or GeoPackage (``extra`` layers added).

    A table without geometry gives GeoJSON features with null geometries and a GeoPackage attribute table."""
    key = check_format(fmt)
    stem = safe_name(name)
    if is_spatial(gdf):
        gdf = _wgs84(gdf)
    if key == "geojson":
        doc = formats.feature_collection(gdf, name=stem, **({"crs": "EPSG:4326"} if is_spatial(gdf) else {}),
                                         **members)
        body = formats.dumps(doc).encode("utf-8")
    elif key == "csv":
        body = formats.csv_bytes(formats.to_csv(gdf))  # UTF-8 with a BOM: Excel on Chinese Windows reads it right
    else:
        body = gpkg_bytes({stem.replace("-", "_"): gdf, **dict(extra or {})})
    return body, MIMETYPES[key], f"{stem}.{key}"


def register_of(layers: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    """The register of sources among the layers (a table without geometry), if there is one."""
    register = layers.get(REGISTER_LAYER)
    return None if register is None or is_spatial(register) else register


def cited_sources(gdf: pd.DataFrame, register: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """``{"sources": the register rows the records cite}`` for a GeoPackage, or {} (no register, no citation)."""
    ids = [v for col in gdf.columns if isinstance(col, str) and col.endswith("source_id") for v in gdf[col]]
    rows = citations.cited(register, ids)
    return {REGISTER_LAYER: rows} if rows is not None and len(rows) else {}


def refuse_filters(layer: str, wanted: filters.Filters | None) -> None:
    """The filters are about places and records; a table without geometry (the register) takes none."""
    given = list((wanted.as_params() if wanted is not None else {}).keys())
    if given:
        raise ValidationError(f"the table {layer!r} has no geometry and takes no filter; drop {given[0]}",
                              field=given[0])


def layer_download(layers: Mapping[str, pd.DataFrame], layer: str, fmt: str, *,
                   wanted: filters.Filters | None = None, joined: Mapping[str, gpd.GeoDataFrame] | None = None,
                   belts: gpd.GeoDataFrame | None = None) -> Download:
    """A layer of the store (or ``belts``), filtered like the web map, in WGS84, each record with its source's
    title, kind and date; or the register of sources (``sources``, no filters)."""
    from geo import analysis

    register = register_of(layers)
    if layer == "belts":
        gdf = belts if belts is not None else analysis.corridor_belts(layers["corridors"])
        if wanted is not None and wanted.corridor:
            gdf = gdf[gdf["id"].isin(wanted.corridor)]
    elif layer in layers and not is_spatial(layers[layer]):
        refuse_filters(layer, wanted)
        return download(layers[layer], fmt, layer)
    elif layer in layers:
        gdf = citations.with_sources(filters.apply(layer, layers, wanted or filters.Filters(), joined), register)
    else:
        raise ValidationError(f"unknown layer {layer!r}; expected one of: {', '.join([*layers, 'belts'])}",
                              field="layer")
    params = wanted.as_params() if wanted is not None else {}
    suffix = "-filtered" if params else ""
    return download(gdf, fmt, f"{layer}{suffix}", extra=cited_sources(gdf, register), filters=params)


def near_download(result: Any, fmt: str, register: pd.DataFrame | None = None) -> Download:
    """A buffer query's features (with ``distance_km`` to the point drawn, the interval ``distance_min_km`` –
    ``distance_max_km`` over where each may lie, its ``certainty`` and ``located_to_zh``/``located_to_en``, and
    their sources' titles when ``register`` is given); the GeoPackage also holds the buffer polygon and the
    register rows the features cite."""
    buffer = gpd.GeoDataFrame({"radius_km": [result.query.get("radius_km")],
                               "certain_only": [bool(result.query.get("certain_only", False))]},
                              geometry=[result.buffer], crs=crs.WGS84)
    features = citations.with_sources(result.features, register)
    return download(features, fmt, "near", extra={"near_buffer": buffer, **cited_sources(features, register)},
                    query=result.query, summary=result.summary)


def ranking_download(ranking: gpd.GeoDataFrame, fmt: str, name: str = "site", **members: Any) -> Download:
    """A ranking (id, name_zh, name_en, score, rank, geometry, …) with nested columns as JSON text in CSV/GPKG."""
    frame = ranking.copy()
    if fmt.lower() == "csv":
        for col in frame.columns:
            if col != frame.geometry.name and frame[col].dtype == object:
                frame[col] = frame[col].map(_json_text)
    return download(frame, fmt, name, **members)


__all__ = ["FORMATS", "MIMETYPES", "check_format", "cited_sources", "download", "gpkg_bytes",
           "layer_download", "near_download", "ranking_download", "refuse_filters", "register_of", "safe_name"]
