"""Possible areas and distance intervals: against brute force over the county polygons, and the 偃师 case."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from geo import crs
from geo.possible import AREA, CIRCLE, EXACT, PossibleAreas, rank_bounds
from geo.query import QueryEngine

GEOD = pyproj.Geod(ellps="WGS84")
LUOYANG = ["410302", "410303", "410304", "410305", "410307", "410308", "410311", "410323", "410324", "410325",
           "410326", "410327", "410328", "410329"]


def _samples(polygon: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """A dense sampling of a WGS84 polygon: its boundary every ~50 m and an interior grid every ~1 km."""
    metric = shapely.transform(polygon, lambda c: np.column_stack(crs.to_metric(c[:, 0], c[:, 1])))
    edge = shapely.get_coordinates(shapely.segmentize(shapely.boundary(metric), 50.0))
    x0, y0, x1, y1 = metric.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1, 1000.0), np.arange(y0, y1, 1000.0))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    grid = grid[shapely.contains_xy(metric, grid[:, 0], grid[:, 1])]
    xy = np.vstack([edge, grid])
    lon, lat = crs.from_metric(xy[:, 0], xy[:, 1])
    return np.asarray(lon), np.asarray(lat)


@pytest.fixture(scope="module")
def county_records(layers):
    """300 records located only to a Luoyang county: each drawn at a random point of its county."""
    rng = np.random.default_rng(15)
    districts = layers["districts"].set_index("id")
    codes = rng.choice(LUOYANG, 300)
    points = []
    for code in codes:
        poly = districts.geometry[code]
        x0, y0, x1, y1 = poly.bounds
        while True:
            p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
            if poly.contains(p):
                points.append(p)
                break
    return gpd.GeoDataFrame({"id": [f"r{i}" for i in range(len(codes))], "name_zh": "项目", "name_en": "record",
                             "district_code": codes, "location_precision": "district"},
                            geometry=points, crs=4326)


@pytest.fixture(scope="module")
def engine(layers, county_records):
    return QueryEngine({"districts": layers["districts"], "projects": county_records})


def test_intervals_equal_brute_force_over_the_county(engine, layers, county_records):
    rng = np.random.default_rng(7)
    districts = layers["districts"].set_index("id")
    sampled = {code: _samples(districts.geometry[code]) for code in LUOYANG}
    for _ in range(12):
        lon, lat, radius_km = rng.uniform(111.6, 112.9), rng.uniform(33.8, 34.95), rng.uniform(3, 40)
        res = engine.near(lon=lon, lat=lat, radius_km=radius_km, layer="projects").features.set_index("id")
        expected = set()
        for rid, code in zip(county_records["id"], county_records["district_code"]):
            slon, slat = sampled[code]
            d = np.asarray(crs.geodesic_distance_m(lon, lat, slon, slat)) / 1000.0
            inside = districts.geometry[code].contains(shapely.Point(lon, lat))
            lo, hi = (0.0 if inside else d.min()), d.max()
            if lo <= radius_km * 0.999:
                expected.add(rid)
            if rid not in res.index:
                assert lo >= radius_km * 0.999, (rid, lo, radius_km)
                continue
            got = res.loc[rid]
            assert got["distance_min_km"] == pytest.approx(lo, rel=1e-3, abs=1e-3)
            assert got["distance_max_km"] == pytest.approx(hi, rel=1e-3)
            if abs(hi - radius_km) > radius_km * 1e-3:
                assert got["certainty"] == ("certain" if hi <= radius_km else "possible"), rid
        assert expected <= set(res.index)


def test_certain_hits_first_and_counted(engine):
    res = engine.near(lon=112.45, lat=34.62, radius_km=30, layer="projects")
    f = res.features
    certain = (f["certainty"] == "certain").to_numpy()
    assert certain.any() and (~certain).any()
    assert not (np.diff(certain.astype(int)) > 0).any()  # all certain ones come first
    for part in (f[certain], f[~certain]):
        assert part["distance_min_km"].is_monotonic_increasing
    assert res.summary["certain"] == certain.sum() and res.summary["possible"] == (~certain).sum()
    assert (f["distance_min_km"] <= f["distance_km"]).all() and (f["distance_km"] <= f["distance_max_km"]).all()
    only = engine.near(lon=112.45, lat=34.62, radius_km=30, layer="projects", certain_only=True).features
    assert list(only["id"]) == list(f.loc[certain, "id"])


def test_kinds_of_possible_area(layers):
    frame = gpd.GeoDataFrame(
        {"id": ["s", "t", "d", "c", "x"], "location_precision": ["site", "town", "district", "city", "district"],
         "district_code": [None, None, "410307", "410300", None]},
        geometry=gpd.points_from_xy([112.4, 112.4, 112.79, 112.45, 112.45], [34.6, 34.6, 34.73, 34.62, 34.62]),
        crs=4326)
    areas = PossibleAreas(frame, layers["districts"], {"town": 5.0})
    assert list(areas.kind) == [EXACT, CIRCLE, AREA, AREA, AREA]
    assert areas.radius_m[1] == 5000.0
    assert areas.key[2] == "410307"
    assert areas.key[3] == "city:410300" and areas.areas["city:410300"].name_zh == "洛阳市"
    assert areas.key[4] is not None and not areas.key[4].startswith("city:")  # the district holding the point
    luoyang = layers["districts"][layers["districts"]["city_code"] == "410300"]
    city = areas.geometry(3, frame.geometry[3])
    assert city.area == pytest.approx(shapely.union_all(luoyang.geometry.values).area, rel=1e-9)
    circle = areas.geometry(1, frame.geometry[1])
    assert crs.geodesic_distance_m(112.4, 34.6, *shapely.get_coordinates(circle)[0]) == pytest.approx(5000, rel=2e-3)


def test_the_yanshi_click_finds_stand_ins_as_possible(store_layers_engine):
    """A 20 km click at 偃师: the 8 records placed at the 伊滨 stand-in (洛龙区 only) are possible, each with
    its interval, not 8 hits 'at 14.28 km'."""
    res = store_layers_engine.near(lon=112.7502, lat=34.706, radius_km=20)
    f = res.features.set_index("id")
    stand_ins = f[(f["distance_km"].round(2) == 14.28)]
    assert len(stand_ins) == 8
    assert (stand_ins["certainty"] == "possible").all()
    assert (stand_ins["distance_min_km"] < 14.28).all() and (stand_ins["distance_max_km"] > 20).all()
    assert set(stand_ins["located_to_zh"]) == {"仅定位到洛龙区"}
    assert res.summary["certain"] + res.summary["possible"] == len(f)


def test_nearest_ranks_by_interval_and_says_when_undetermined(store_layers_engine):
    near = store_layers_engine.nearest(layer="institutions", k=5, lon=112.789, lat=34.727)
    assert near["distance_min_km"].is_monotonic_increasing
    # stand-ins far from their own points: no 0.0 km between two records located only to counties
    assert (near["rank_min"] <= np.arange(1, len(near) + 1)).all()
    assert (near["rank_max"] >= np.arange(1, len(near) + 1)).all()
    assert (near["rank_min"] < near["rank_max"]).any()
    one = store_layers_engine.nearest(layer="parks", k=3, feature="yanshi-packaging-materials-park")
    assert "yanshi-packaging-materials-park" not in set(one["id"])
    assert (one["distance_min_km"] <= one["distance_km"]).all()


def test_rank_bounds():
    lo, hi = rank_bounds(np.array([0.0, 1.0, 5.0, 5.0]), np.array([0.0, 3.0, 5.0, 9.0]))
    assert list(lo) == [1, 2, 3, 3] and list(hi) == [1, 2, 3, 4]


@pytest.fixture(scope="module")
def store_layers_engine(layers):
    return QueryEngine(layers)
