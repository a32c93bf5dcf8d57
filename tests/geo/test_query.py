"""near and nearest: exact at the edge against pyproj.Geod, CRS options, features, polygons, errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo import crs
from geo.errors import NotFoundError, ValidationError
from geo.query import RESULT_COLUMNS, LayerIndex, QueryEngine

GEOD = pyproj.Geod(ellps="WGS84")
CENTRE = (112.45, 34.62)


@pytest.fixture(scope="module")
def engine(layers):
    return QueryEngine(layers)


def _points_at(lon0: float, lat0: float, distances_km: list[float], azimuths: list[float]) -> gpd.GeoDataFrame:
    lons, lats, _ = GEOD.fwd([lon0] * len(distances_km), [lat0] * len(distances_km), azimuths,
                             [d * 1000 for d in distances_km])
    return gpd.GeoDataFrame({"id": [f"p{i}" for i in range(len(lons))], "name_zh": "点", "name_en": "pt"},
                            geometry=gpd.points_from_xy(lons, lats), crs=4326)


def _within(idx: LayerIndex, lon: float, lat: float, radius_km: float) -> tuple[np.ndarray, np.ndarray]:
    x, y = crs.to_metric(lon, lat)
    return idx.within(shapely.Point(x, y), shapely.Point(lon, lat), radius_km * 1000)


def test_edge_is_exact_in_every_direction():
    azimuths = list(range(0, 360, 15))
    inside = _points_at(*CENTRE, [9.99] * len(azimuths), azimuths)
    outside = _points_at(*CENTRE, [10.01] * len(azimuths), azimuths)
    idx = LayerIndex("t", gpd.GeoDataFrame(pd_concat([inside, outside]), crs=4326))
    rows, dist = _within(idx, *CENTRE, 10)
    assert sorted(rows) == list(range(len(azimuths)))
    assert np.allclose(dist, 9990, atol=1e-3)


def pd_concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_near_matches_brute_force_geodesic_truth(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    lon = rng.uniform(111.0, 113.6, n)
    lat = rng.uniform(33.7, 35.3, n)
    gdf = gpd.GeoDataFrame({"id": [f"r{i}" for i in range(n)]}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    idx = LayerIndex("random", gdf)
    for _ in range(20):
        qlon, qlat = rng.uniform(111.5, 113.2), rng.uniform(34.0, 35.0)
        radius_km = float(rng.choice([0.5, 1, 5, 10, 25, 80, 300]))
        _, _, truth_m = GEOD.inv(np.full(n, qlon), np.full(n, qlat), lon, lat)
        expected = np.flatnonzero(truth_m <= radius_km * 1000)
        rows, dist = _within(idx, qlon, qlat, radius_km)
        assert np.array_equal(np.sort(rows), expected)
        assert np.allclose(dist, truth_m[rows], atol=1e-6)


def test_results_are_sorted_and_carry_the_common_columns(engine):
    res = engine.near(lon=112.45, lat=34.62, radius_km=10)
    f = res.features
    assert list(f.columns[:10]) == list(RESULT_COLUMNS)
    certain = (f["certainty"] == "certain").to_numpy()
    assert certain.any() and not (np.diff(certain.astype(int)) > 0).any()  # certain hits first
    for part in (f[certain], f[~certain]):  # then by the nearest, then the farthest possible distance
        keys = list(zip(part["distance_min_km"], part["distance_max_km"]))
        assert keys == sorted(keys)
    assert (f["distance_min_km"] <= 10).all() and (f.loc[certain, "distance_max_km"] <= 10).all()
    assert (f.loc[~certain, "distance_max_km"] > 10).all()
    assert res.summary["feature_count"] == len(f)
    assert f.crs.to_epsg() == 4326


def test_same_place_given_in_gcj02_and_bd09_gives_the_same_answer(engine):
    lon, lat = 112.789, 34.727  # 偃师
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    blon, blat = crs.wgs84_to_bd09(lon, lat)
    a = engine.near(lon=lon, lat=lat, radius_km=12)
    b = engine.near(lon=glon, lat=glat, system="gcj02", radius_km=12)
    c = engine.near(lon=blon, lat=blat, system="BD09", radius_km=12)
    assert list(a.features["id"]) == list(b.features["id"]) == list(c.features["id"])
    assert np.allclose(a.features["distance_km"], b.features["distance_km"], atol=1e-3)
    # naively using the GCJ-02 numbers as WGS84 moves the point ~585 m: distances change
    naive = engine.near(lon=glon, lat=glat, radius_km=12)
    assert not np.allclose(naive.features["distance_km"], a.features["distance_km"], atol=0.1)


def test_near_a_corridor_includes_the_parks_on_its_axis(engine):
    res = engine.near(feature="luo-mian", radius_km=10, layer="parks")
    ids = set(res.features["id"])
    assert {"mianchi-green-building-materials-park", "yima-coal-chemical-logistics-park"} <= ids
    assert "ruzhou-prefab-park" not in ids
    assert "luo-mian" not in ids
    assert res.features.loc[res.features["id"] == "yima-coal-chemical-logistics-park", "distance_km"].iloc[0] == 0


def test_near_a_district_polygon_is_zero_inside(engine):
    res = engine.near(feature="410482", radius_km=5, layer="projects")  # 汝州市
    inside = res.features[res.features["id"] == "ruzhou-shuolong-building-materials"]
    assert inside["distance_km"].iloc[0] == 0


def test_near_a_drawn_polygon(engine):
    box = shapely.box(112.7, 34.65, 112.9, 34.8)  # around 偃师
    res = engine.near(polygon=box, radius_km=1, layer="projects")
    assert "youbo-battery-foil" in set(res.features["id"])
    assert res.features["distance_km"].iloc[0] == 0


def test_summary_counts_and_investment(engine):
    res = engine.near(lon=112.64, lat=34.615, radius_km=1, layer="projects")
    s = res.summary
    # the five projects placed at the 伊滨 stand-in and one located only to the city: all possibly within
    assert s["by_layer"] == {"projects": 6} and s["certain"] == 0 and s["possible"] == 6
    assert s["by_district"] == {"410300": 1, "410311": 5}
    assert s["investment_cny_100m"] == 140  # phase I of 中州时代 is the only one with a figure
    assert s["projects_without_investment"] == 5
    assert s["by_chain_link"] == {"anode": 1, "cell": 3, "structural-parts": 1}


def test_nearest_institutions(engine):
    got = engine.nearest(lon=112.64, lat=34.615, layer="institutions", k=3)
    assert len(got) == 3
    assert got["id"].iloc[0] == "zhongzhou-shidai"  # located to 洛龙区, where the point lies: nearest possible 0
    keys = list(zip(got["distance_min_km"], got["distance_max_km"]))
    assert keys == sorted(keys)
    for rec in got.itertuples():  # distance_km is still the distance to the point drawn
        point = engine.layers["institutions"].set_index("id").geometry[rec.id]
        assert rec.distance_km == pytest.approx(GEOD.inv(112.64, 34.615, point.x, point.y)[2] / 1000, abs=1e-3)
    assert (got["rank_min"] == 1).all() and (got["rank_max"] == 3).all()  # all three could be the nearest


def test_nearest_to_a_feature_excludes_it(engine):
    got = engine.nearest(feature="youbo-battery-foil", layer="projects", k=2)
    assert "youbo-battery-foil" not in set(got["id"])
    assert len(got) == 2


@pytest.mark.parametrize("radius", [0, -1, 300.01, "ten", float("nan")])
def test_bad_radius(engine, radius):
    with pytest.raises(ValidationError, match="radius_km"):
        engine.near(lon=112.45, lat=34.62, radius_km=radius)


def test_radius_of_300_km_is_allowed(engine):
    res = engine.near(lon=112.45, lat=34.62, radius_km=300, layer="parks")
    assert len(res.features) == len(engine.layers["parks"])


def test_point_outside_the_region(engine):
    with pytest.raises(ValidationError, match="outside the Luoyang metro area"):
        engine.near(lon=121.47, lat=31.23, radius_km=5)


def test_unknown_feature_layer_and_crs(engine):
    with pytest.raises(NotFoundError, match="unknown feature id 'nowhere'"):
        engine.near(feature="nowhere", radius_km=5)
    with pytest.raises(ValidationError, match="unknown layer 'roads'"):
        engine.near(lon=112.45, lat=34.62, radius_km=5, layer="roads")
    with pytest.raises(ValidationError, match="unknown coordinate system 'utm'"):
        engine.near(lon=112.45, lat=34.62, radius_km=5, system="utm")
    with pytest.raises(ValidationError, match="exactly one of"):
        engine.near(lon=112.45, lat=34.62, feature="luo-ru", radius_km=5)
    with pytest.raises(ValidationError, match="k"):
        engine.nearest(lon=112.45, lat=34.62, layer="parks", k=0)
