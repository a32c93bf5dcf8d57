"""Tests of ``geo.crs``: published reference vectors, round trips, the Luoyang offset, pyproj."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from geo import crs
from geo.errors import ValidationError

FWD_TOL_DEG = 1e-6

# (wgs_lon, wgs_lat, gcj_lon, gcj_lat). Published by googollee/eviltransform
# (python/test.py, also go/transform_test.go): Shanghai, Shenzhen, Beijing.
EVILTRANSFORM_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]

# wandergis/coordtransform, test/app.js: each function applied to (116.404, 39.915).
COORDTRANSFORM_IN = (116.404, 39.915)
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
# Its bd09togcj02 is the one-step closed-form inverse, accurate to a few 1e-7 degrees.
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)

# ipcjs/coordtransform, src/test/java/me/demo/util/geo/test/CoordinateTransformUtilTest.java
# (the version with assertArrayEquals; repeated in ipcjs/coordtransform_dart):
# wgs84ToBd09(118.3013077, 32.2719040).
IPCJS_WGS84 = (118.3013077, 32.2719040)
IPCJS_BD09 = (118.31309502519456, 32.27614034221775)

# hujiulong/gcoord, test/unit/crs/GCJ02.spec.js: GCJ02 (123, 45) to WGS84 and to BD09,
# published to 8 decimals.
GCOORD_GCJ02 = (123.0, 45.0)
GCOORD_WGS84 = (122.99395597, 44.99804071)
GCOORD_BD09 = (123.00636499, 45.00636899)

# googollee/eviltransform, matlab/test/testSuite.m (gcj2bdTest/bd2gcjTest): a Beijing pair
# given to 5 decimals (their tolerance 5e-5), so compared at 1e-5 degrees.
EVILTRANSFORM_BD_PAIR = {"bd09": (116.43351, 39.90851), "gcj02": (116.42703, 39.90245)}

# Outside the China box: Denver, Brisbane, Rio de Janeiro (eviltransform
# matlab/test/testSuite.m edge cases) and (183, 45) from gcoord's GCJ02.spec.js.
OUTSIDE_CHINA = [(-104.9903, 39.7392), (153.0251, -27.4698), (-43.1729, -22.9068), (183.0, 45.0)]

LUOYANG = (112.45, 34.62)


def luoyang_grid() -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.linspace(111.0, 113.6, 27), np.linspace(33.6, 35.4, 19))


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wlon, wlat, glon, glat):
    lon, lat = crs.wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=FWD_TOL_DEG)
    assert lat == pytest.approx(glat, abs=FWD_TOL_DEG)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_GCJ)
def test_gcj02_to_wgs84_recovers_eviltransform_input(wlon, wlat, glon, glat):
    lon, lat = crs.gcj02_to_wgs84(glon, glat)
    assert crs.geodesic_distance_m(lon, lat, wlon, wlat) < 0.01


def test_forward_transforms_match_coordtransform():
    assert crs.wgs84_to_gcj02(*COORDTRANSFORM_IN) == pytest.approx(
        COORDTRANSFORM_WGS84_TO_GCJ02, abs=FWD_TOL_DEG
    )
    assert crs.gcj02_to_bd09(*COORDTRANSFORM_IN) == pytest.approx(
        COORDTRANSFORM_GCJ02_TO_BD09, abs=FWD_TOL_DEG
    )


def test_bd09_to_gcj02_is_exact_and_near_coordtransform_one_step():
    gcj = crs.bd09_to_gcj02(*COORDTRANSFORM_IN)
    assert crs.gcj02_to_bd09(*gcj) == pytest.approx(COORDTRANSFORM_IN, abs=1e-9)
    assert gcj == pytest.approx(COORDTRANSFORM_BD09_TO_GCJ02, abs=FWD_TOL_DEG)


def test_wgs84_to_bd09_matches_ipcjs_and_inverts():
    assert crs.wgs84_to_bd09(*IPCJS_WGS84) == pytest.approx(IPCJS_BD09, abs=FWD_TOL_DEG)
    back = crs.bd09_to_wgs84(*IPCJS_BD09)
    assert crs.geodesic_distance_m(*back, *IPCJS_WGS84) < 0.01


def test_gcoord_vectors():
    assert crs.gcj02_to_wgs84(*GCOORD_GCJ02) == pytest.approx(GCOORD_WGS84, abs=FWD_TOL_DEG)
    assert crs.gcj02_to_bd09(*GCOORD_GCJ02) == pytest.approx(GCOORD_BD09, abs=FWD_TOL_DEG)


def test_eviltransform_bd_pair():
    bd, gcj = EVILTRANSFORM_BD_PAIR["bd09"], EVILTRANSFORM_BD_PAIR["gcj02"]
    assert crs.gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1e-5)
    assert crs.bd09_to_gcj02(*bd) == pytest.approx(gcj, abs=1e-5)


@pytest.mark.parametrize(
    ("forward", "backward"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
    ],
)
def test_round_trip_over_luoyang_grid(forward, backward):
    lon, lat = luoyang_grid()
    there = forward(lon, lat)
    assert np.all(crs.geodesic_distance_m(*there, lon, lat) > 100.0)  # really moved
    back = backward(*there)
    assert back[0].shape == lon.shape
    assert crs.geodesic_distance_m(*back, lon, lat).max() < 0.01


def test_luoyang_gcj02_offset_size_and_direction():
    wlon, wlat = LUOYANG
    glon, glat = crs.wgs84_to_gcj02(wlon, wlat)
    east = crs.geodesic_distance_m(wlon, wlat, glon, wlat)
    north = crs.geodesic_distance_m(wlon, wlat, wlon, glat)
    assert glon > wlon and glat < wlat  # east and south
    assert 300.0 < east < 800.0
    assert 50.0 < north < 200.0
    # The figures the module docstring states: 574 m east, 113 m south.
    assert east == pytest.approx(574.0, abs=2.0)
    assert north == pytest.approx(113.0, abs=2.0)


def test_luoyang_bd09_offset_figure():
    blon, blat = crs.wgs84_to_bd09(*LUOYANG)
    assert blon > LUOYANG[0] and blat > LUOYANG[1]
    assert crs.geodesic_distance_m(*LUOYANG, blon, blat) == pytest.approx(1299.0, abs=3.0)


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE_CHINA)
def test_no_gcj02_offset_outside_china(lon, lat):
    assert crs.out_of_china(lon, lat)
    assert crs.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert crs.gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_out_of_china_box_is_mixed_in_one_array():
    lon = np.array([LUOYANG[0], -104.9903])
    lat = np.array([LUOYANG[1], 39.7392])
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    assert glon[0] != lon[0]
    assert (glon[1], glat[1]) == (lon[1], lat[1])
    assert crs.out_of_china(lon, lat).tolist() == [False, True]


def test_scalars_give_floats_and_arrays_keep_shape():
    lon, lat = crs.wgs84_to_gcj02(*LUOYANG)
    assert type(lon) is float and type(lat) is float
    lon, lat = crs.gcj02_to_wgs84([[112.4, 112.5]], [[34.6, 34.7]])
    assert isinstance(lon, np.ndarray) and lon.shape == (1, 2) and lat.shape == (1, 2)
    lon, lat = crs.wgs84_to_bd09(np.array([112.4, 112.5, 112.6]), 34.6)  # broadcast
    assert lon.shape == lat.shape == (3,)
    empty = crs.bd09_to_wgs84(np.array([]), np.array([]))
    assert empty[0].shape == (0,)


@pytest.mark.parametrize("system", ["gcj02", "GCJ02", " bd09 ", "wgs84", "cgcs2000"])
def test_to_and_from_wgs84_dispatch(system):
    lon, lat = crs.from_wgs84(*LUOYANG, system)
    back = crs.to_wgs84(lon, lat, system)
    assert crs.geodesic_distance_m(*back, *LUOYANG) < 0.01


def test_dispatch_uses_the_named_system():
    assert crs.from_wgs84(*LUOYANG, "gcj02") == crs.wgs84_to_gcj02(*LUOYANG)
    assert crs.to_wgs84(*LUOYANG, "bd09") == crs.bd09_to_wgs84(*LUOYANG)
    assert crs.to_wgs84(*LUOYANG, "wgs84") == LUOYANG


@pytest.mark.parametrize("bad", ["gcj-03", "", "EPSG:4326", None])
def test_unknown_system_raises_validation_error(bad):
    with pytest.raises(ValidationError) as info:
        crs.to_wgs84(*LUOYANG, bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in crs.COORD_SYSTEMS:
        assert name in message
    with pytest.raises(ValidationError, match="unknown coordinate system"):
        crs.from_wgs84(*LUOYANG, bad)


def test_cgcs2000_via_pyproj():
    lon, lat = luoyang_grid()
    wlon, wlat = crs.cgcs2000_to_wgs84(lon, lat)
    assert crs.geodesic_distance_m(wlon, wlat, lon, lat).max() < 1.0
    clon, clat = crs.wgs84_to_cgcs2000(*LUOYANG)
    assert crs.geodesic_distance_m(clon, clat, *LUOYANG) < 1.0


def test_transformer_is_cached_and_lon_lat_ordered():
    t = crs.transformer(crs.WGS84, crs.METRIC_CRS)
    assert t is crs.transformer(crs.WGS84, crs.METRIC_CRS)
    x, y = t.transform(*LUOYANG)
    assert 600_000 < x < 700_000 and 3_800_000 < y < 3_900_000


def test_metric_round_trip():
    lon, lat = luoyang_grid()
    x, y = crs.to_metric(lon, lat)
    assert x.shape == lon.shape
    assert x.min() > 166_000 and x.max() < 834_000  # inside UTM zone 49N's easting range
    back = crs.from_metric(x, y)
    assert crs.geodesic_distance_m(*back, lon, lat).max() < 1e-6
    # 1 km east of Luoyang in the metric CRS is about 1 km on the ellipsoid.
    x0, y0 = crs.to_metric(*LUOYANG)
    moved = crs.from_metric(x0 + 1000.0, y0)
    assert crs.geodesic_distance_m(*LUOYANG, *moved) == pytest.approx(1000.0, rel=1e-3)


def test_geodesic_distance_one_degree_of_latitude():
    d = crs.geodesic_distance_m(112.45, 34.1, 112.45, 35.1)
    assert isinstance(d, float)
    assert d == pytest.approx(110_900.0, abs=100.0)
    assert crs.geod() is crs.geod()
    many = crs.geodesic_distance_m([112.0, 112.9], 34.62, 112.45, 34.62)
    assert many.shape == (2,)
    assert many[0] == pytest.approx(many[1])


def test_shift_geometry_moves_every_vertex_and_keeps_z():
    line = LineString([(112.40, 34.60), (112.50, 34.65), (112.45, 34.70)])
    moved = crs.shift_geometry(line, crs.wgs84_to_gcj02)
    expected = np.column_stack(crs.wgs84_to_gcj02(*np.asarray(line.coords).T))
    np.testing.assert_allclose(np.asarray(moved.coords), expected, rtol=0, atol=1e-12)
    back = crs.shift_geometry(moved, crs.gcj02_to_wgs84)
    np.testing.assert_allclose(np.asarray(back.coords), np.asarray(line.coords), atol=1e-8)

    p3 = crs.shift_geometry(Point(112.45, 34.62, 150.0), crs.wgs84_to_bd09)
    assert p3.has_z and p3.z == 150.0
    assert (p3.x, p3.y) == pytest.approx(crs.wgs84_to_bd09(*LUOYANG), abs=1e-12)


def test_gdf_to_wgs84():
    square = Polygon([(112.4, 34.6), (112.5, 34.6), (112.5, 34.7), (112.4, 34.7)])
    gcj = crs.shift_geometry(np.array([square, Point(*LUOYANG)]), crs.wgs84_to_gcj02)
    gdf = gpd.GeoDataFrame({"name": ["square", "point"]}, geometry=list(gcj), crs=crs.WGS84)
    out = crs.gdf_to_wgs84(gdf, "GCJ02")
    assert out is not gdf and out.crs.to_epsg() == 4326
    assert list(out["name"]) == ["square", "point"]
    assert shapely.equals_exact(out.geometry.iloc[0], square, tolerance=1e-8)
    assert out.geometry.iloc[1].distance(Point(*LUOYANG)) < 1e-8
    assert shapely.equals_exact(gdf.geometry.iloc[1], gcj[1], tolerance=0)  # input untouched

    plain = gpd.GeoDataFrame(geometry=[Point(*LUOYANG)])  # no CRS set
    assert crs.gdf_to_wgs84(plain, "wgs84").crs.to_epsg() == 4326
    with pytest.raises(ValidationError):
        crs.gdf_to_wgs84(gdf, "mars")
    with pytest.raises(ValidationError, match="projected"):
        crs.gdf_to_wgs84(gdf.to_crs(crs.METRIC_CRS), "gcj02")
