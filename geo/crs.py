"""Coordinate reference systems of the project and conversions between them.

The store holds WGS84 lon/lat (EPSG:4326). Sources arrive in other systems:

* **WGS84** (EPSG:4326): GPS, OpenStreetMap, everything stored by ``geo``.
* **GCJ-02** ("Mars coordinates"): the obfuscated datum that Chinese law imposes on published
  maps; AMap (Gaode) and Tencent return it. It is WGS84 plus a smooth, nonlinear offset
  computed on the Krasovsky ellipsoid. Outside the usual ``out_of_china`` box (lon
  72.004-137.8347, lat 0.8293-55.8271) the providers apply no offset, so there GCJ-02
  equals WGS84, and so it does here.
* **BD-09**: Baidu's coordinates, GCJ-02 with a further rotation/scaling offset. It is
  applied everywhere, with no China box, like the widely used ``coordtransform`` formula.
* **CGCS2000** (EPSG:4490): China's official geodetic datum. It agrees with WGS84 to within
  centimetres; pyproj converts it with a "ballpark" (null) transformation.

The forward transforms (to GCJ-02, to BD-09) are closed formulas. Their inverses are found
exactly by iterating the forward formula until the step is below 1e-9 degrees, so a round
trip stays below 1 mm. The usual one-step inverse (subtract the offset found at the GCJ-02
point) is off by up to about 5 m over China, 3 m around Luoyang.

Near Luoyang (WGS84 112.45 E, 34.62 N) ``wgs84_to_gcj02`` moves a point about 574 m east and
113 m south (585 m); ``wgs84_to_bd09`` about 1164 m east and 577 m north (1.30 km). These are
the figures this module computes, checked in ``tests/geo/test_crs.py``. The China box is
coarse (it includes e.g. Korea and Mongolia); that matches the common implementations.

Every function takes and returns (lon, lat) in that order. Scalars give floats; array-likes
give numpy arrays of the broadcast shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike

from geo.errors import ValidationError

if TYPE_CHECKING:
    import geopandas as gpd

WGS84 = "EPSG:4326"
CGCS2000 = "EPSG:4490"
# UTM zone 49N (central meridian 111 E, lon 108-114 E) covers all of the Luoyang region.
METRIC_CRS = "EPSG:32649"

# User-facing names of the lon/lat systems ``to_wgs84`` / ``from_wgs84`` accept
# ("cgcs2000" is accepted too, as an alias handled by pyproj).
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")

Coord = float | np.ndarray
LonLat = tuple[Coord, Coord]
Converter = Callable[[ArrayLike, ArrayLike], LonLat]
GeomOrArray = shapely.Geometry | np.ndarray

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

_TOL_DEG = 1e-9
_MAX_ITER = 30

_GEOD = pyproj.Geod(ellps="WGS84")


def _prepare(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x, y, x.ndim == 0


def _finish(x: np.ndarray, y: np.ndarray, scalar: bool) -> LonLat:
    if scalar:
        return float(x), float(y)
    return np.array(x, dtype=float), np.array(y, dtype=float)


def _outside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x < 72.004) | (x > 137.8347) | (y < 0.8293) | (y > 55.8271)


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> bool | np.ndarray:
    """Return True where WGS84/GCJ-02 lon/lat (degrees) lies outside the GCJ-02 offset box."""
    x, y, scalar = _prepare(lon, lat)
    out = _outside(x, y)
    return bool(out) if scalar else out


def _gcj_offset(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 (degrees) at WGS84 lon/lat; zero outside China."""
    dx, dy = x - 105.0, y - 35.0
    common = (20.0 * np.sin(6.0 * dx * np.pi) + 20.0 * np.sin(2.0 * dx * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * dx + 3.0 * dy + 0.2 * dy * dy + 0.1 * dx * dy
    dlat += 0.2 * np.sqrt(np.abs(dx)) + common
    dlat += (20.0 * np.sin(dy * np.pi) + 40.0 * np.sin(dy / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(dy / 12.0 * np.pi) + 320.0 * np.sin(dy * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + dx + 2.0 * dy + 0.1 * dx * dx + 0.1 * dx * dy
    dlon += 0.1 * np.sqrt(np.abs(dx)) + common
    dlon += (20.0 * np.sin(dx * np.pi) + 40.0 * np.sin(dx / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(dx / 12.0 * np.pi) + 300.0 * np.sin(dx / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = np.radians(y)
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _outside(x, y)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _gcj_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(x, y)
    return x + dlon, y + dlat


def _bd_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_backward_approx(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = x - 0.0065, y - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    tx: np.ndarray,
    ty: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x, y) == (tx, ty) by fixed-point iteration from the guess (x, y)."""
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if not (np.fmax(np.abs(ex), np.abs(ey)) >= _TOL_DEG).any():  # NaN never blocks
            break
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS84 lon/lat (degrees) to GCJ-02 lon/lat (degrees); identity outside China."""
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_gcj_forward(x, y), scalar)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 lon/lat (degrees) to WGS84 lon/lat (degrees), exact to <1 mm by iteration."""
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_invert(_gcj_forward, x, y, x, y), scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 lon/lat (degrees) to Baidu BD-09 lon/lat (degrees)."""
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_bd_forward(x, y), scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert Baidu BD-09 lon/lat (degrees) to GCJ-02 lon/lat (degrees), exact by iteration."""
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_invert(_bd_forward, x, y, *_bd_backward_approx(x, y)), scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS84 lon/lat (degrees) to Baidu BD-09 lon/lat (degrees) via GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert Baidu BD-09 lon/lat (degrees) to WGS84 lon/lat (degrees), exact by iteration."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


@functools.lru_cache(maxsize=32)
def transformer(src: str, dst: str) -> pyproj.Transformer:
    """Return a cached pyproj transformer from CRS ``src`` to ``dst`` (lon/lat, x/y order)."""
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _pyproj(src: str, dst: str, x: ArrayLike, y: ArrayLike) -> LonLat:
    a, b, scalar = _prepare(x, y)
    return _finish(*transformer(src, dst).transform(a, b), scalar)


def cgcs2000_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert CGCS2000 lon/lat (EPSG:4490, degrees) to WGS84 lon/lat (EPSG:4326, degrees)."""
    return _pyproj(CGCS2000, WGS84, lon, lat)


def wgs84_to_cgcs2000(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS84 lon/lat (EPSG:4326, degrees) to CGCS2000 lon/lat (EPSG:4490, degrees)."""
    return _pyproj(WGS84, CGCS2000, lon, lat)


def _identity(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    x, y, scalar = _prepare(lon, lat)
    return _finish(x, y, scalar)


_TO_WGS84: dict[str, Converter] = {
    "wgs84": _identity,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
    "cgcs2000": cgcs2000_to_wgs84,
}
_FROM_WGS84: dict[str, Converter] = {
    "wgs84": _identity,
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
    "cgcs2000": wgs84_to_cgcs2000,
}


def _system_key(system: object) -> str:
    if isinstance(system, str) and (key := system.strip().lower()) in _TO_WGS84:
        return key
    allowed = ", ".join(_TO_WGS84)
    raise ValidationError(
        f"unknown coordinate system {system!r}; expected one of: {allowed}", field="system"
    )


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> LonLat:
    """Convert lon/lat (degrees) in ``system`` (wgs84/gcj02/bd09/cgcs2000) to WGS84 lon/lat."""
    return _TO_WGS84[_system_key(system)](lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> LonLat:
    """Convert WGS84 lon/lat (degrees) to lon/lat in ``system`` (wgs84/gcj02/bd09/cgcs2000)."""
    return _FROM_WGS84[_system_key(system)](lon, lat)


def to_metric(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Project WGS84 lon/lat (degrees) to UTM 49N easting/northing (METRIC_CRS, metres)."""
    return _pyproj(WGS84, METRIC_CRS, lon, lat)


def from_metric(x: ArrayLike, y: ArrayLike) -> LonLat:
    """Unproject UTM 49N easting/northing (METRIC_CRS, metres) to WGS84 lon/lat (degrees)."""
    return _pyproj(METRIC_CRS, WGS84, x, y)


def geod() -> pyproj.Geod:
    """Return the shared WGS84-ellipsoid ``pyproj.Geod``."""
    return _GEOD


def geodesic_distance_m(
    lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike
) -> Coord:
    """Return the geodesic distance (metres) between WGS84 lon/lat points, element-wise."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    _, _, dist = _GEOD.inv(*(a.ravel() for a in arrays))
    dist = np.asarray(dist, dtype=float).reshape(arrays[0].shape)
    return float(dist) if dist.ndim == 0 else dist


def shift_geometry(geom: GeomOrArray, func: Converter) -> GeomOrArray:
    """Apply a lon/lat converter (e.g. ``gcj02_to_wgs84``) to every vertex of a shapely geometry.

    Works on one geometry or an array of them; Z values are kept unchanged.
    """

    def apply(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    return shapely.transform(geom, apply, include_z=True)


def gdf_to_wgs84(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """Return a copy of a lon/lat GeoDataFrame in ``system`` converted to WGS84 (EPSG:4326)."""
    key = _system_key(system)
    if gdf.crs is not None and not gdf.crs.is_geographic:
        raise ValidationError(
            f"expected lon/lat geometries in {key}, got projected CRS {gdf.crs.to_string()}",
            field="crs",
        )
    import geopandas as gpd

    geoms = shift_geometry(np.asarray(gdf.geometry.values), _TO_WGS84[key])
    series = gpd.GeoSeries(geoms, index=gdf.index, crs=WGS84, name=gdf.geometry.name)
    return gdf.set_geometry(series)


def geodesic_between(query_metric: shapely.Geometry, geoms_metric: np.ndarray) -> np.ndarray:
    """Geodesic distance (m) between the metric-nearest points of a query and each geometry; 0 if they touch."""
    lines = shapely.shortest_line(query_metric, geoms_metric)
    ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    lon, lat = from_metric(ends[:, :, 0].ravel(), ends[:, :, 1].ravel())
    lon, lat = np.asarray(lon).reshape(-1, 2), np.asarray(lat).reshape(-1, 2)
    dist = np.asarray(geodesic_distance_m(lon[:, 0], lat[:, 0], lon[:, 1], lat[:, 1]), dtype=float)
    dist[shapely.intersects(query_metric, geoms_metric)] = 0.0
    return dist
