"""Queries pushed down to the store: ``near``, ``in_bbox`` and ``by_id`` on both stores, same answers.

The repository's layers are written once to a GeoPackage and to a PostGIS database (the session's
throwaway cluster). The GeoPackage store answers in memory (``geo.store_queries``: STRtree candidates
and ``pyproj.Geod`` distances), PostGIS in SQL (``ST_DWithin``/``ST_Distance`` on geographies, ``&&``).
Both are checked against ``QueryEngine.near`` (the app's query) and against the layers themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from geo import crs
from geo.errors import NotFoundError, ValidationError
from geo.postgis import PostGISStore
from geo.query import QueryEngine
from geo.store import GeoPackageStore, is_spatial
from tests.postgis_cluster import new_database

POINT_LAYERS = ["parks", "projects", "institutions"]
SPATIAL = ["districts", "corridors", *POINT_LAYERS]
POINTS = [(112.45, 34.62), (112.64, 34.615), (112.40, 34.66), (112.20, 34.70)]
RADII_KM = [1, 10, 50]
BOXES = [(112.3, 34.5, 112.6, 34.75), (112.6, 34.55, 112.8, 34.7), (111.0, 33.5, 114.0, 35.5), (100, 10, 101, 11)]
_numbers = itertools.count()


def _new_database(postgis_url: str) -> str:
    """A new database with PostGIS in the session's cluster; its URL."""
    return new_database(postgis_url, f"store_queries_{next(_numbers)}")


@pytest.fixture(scope="module")
def gpkg_store(real_layers, tmp_path_factory) -> GeoPackageStore:
    store = GeoPackageStore(tmp_path_factory.mktemp("store_queries") / "corridors.gpkg")
    store.write(real_layers)
    return store


@pytest.fixture(scope="module")
def pg_store(real_layers, postgis_url) -> Iterator[PostGISStore]:
    with PostGISStore(_new_database(postgis_url)) as store:
        store.write(real_layers)
        yield store


@pytest.fixture(params=["geopackage", "postgis"])
def store(request):
    return request.getfixturevalue("gpkg_store" if request.param == "geopackage" else "pg_store")


@pytest.fixture(scope="module")
def stored(gpkg_store) -> dict:
    """The layers as the store reads them back (what every answer is made of)."""
    return gpkg_store.read_all()


@pytest.fixture(scope="module")
def engine(stored) -> QueryEngine:
    return QueryEngine({name: frame for name, frame in stored.items() if is_spatial(frame)})


def assert_same_rows(got: gpd.GeoDataFrame, expected: gpd.GeoDataFrame) -> None:
    """Same columns and rows in the same order; geometry within 1e-9 degrees; distances to the millimetre."""
    assert list(got.columns) == list(expected.columns)
    assert got.crs == expected.crs
    assert shapely.equals_exact(got.geometry.values, expected.geometry.values, tolerance=1e-9).all()
    got, expected = (pd.DataFrame(f.drop(columns=f.geometry.name)) for f in (got, expected))
    if "distance_km" in expected:
        np.testing.assert_allclose(got.pop("distance_km"), expected.pop("distance_km"), rtol=0, atol=1e-6)
    # integer columns: a slice of a layer with a missing figure elsewhere is float64 in memory, int64 from SQL
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)


def _expected_near(stored, layer, lon, lat, radius_km) -> gpd.GeoDataFrame:
    """The rows within the radius by pyproj.Geod over every row (no index), nearest first, then by id."""
    gdf = stored[layer]
    dist_m = np.asarray(crs.geodesic_distance_m(lon, lat, gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()))
    rows = np.flatnonzero(dist_m <= radius_km * 1000)
    order = np.lexsort((gdf["id"].to_numpy()[rows].astype(str), dist_m[rows]))
    out = gdf.iloc[rows[order]].reset_index(drop=True)
    out.insert(len(out.columns) - 1, "distance_km", dist_m[rows[order]] / 1000)
    return out


# --- near ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("radius_km", RADII_KM)
def test_near_gives_the_query_engines_ids_in_its_order(store, stored, engine, radius_km):
    found = 0
    for (lon, lat), layer in itertools.product(POINTS, POINT_LAYERS):
        got = store.near(layer, shapely.Point(lon, lat), radius_km * 1000)
        app = engine.near(radius_km=radius_km, lon=lon, lat=lat, layer=layer).features
        # the store finds records by their points; the engine adds those whose possible area (a county)
        # reaches into the radius, and orders certain hits first
        by_point = app[app["distance_km"] <= radius_km].set_index("id")
        assert sorted(got["id"]) == sorted(by_point.index), (layer, lon, lat, radius_km)
        # the engine rounds distance_km to 0.1 m
        np.testing.assert_allclose(got["distance_km"], by_point.loc[got["id"], "distance_km"], rtol=0,
                                   atol=0.5e-4 + 1e-9)
        assert_same_rows(got, _expected_near(stored, layer, lon, lat, radius_km))
        found += len(got)
    assert found > 0


def test_both_stores_give_the_same_near_rows(gpkg_store, pg_store):
    for lon, lat in POINTS:
        for layer in POINT_LAYERS:
            assert_same_rows(pg_store.near(layer, shapely.Point(lon, lat), 20_000),
                             gpkg_store.near(layer, shapely.Point(lon, lat), 20_000))
        for layer in ("districts", "corridors"):
            # lines and polygons: in memory the nearest point is found in UTM 49N (geo.query.geodesic_between),
            # PostGIS measures on the spheroid; they agree to centimetres
            a = gpkg_store.near(layer, shapely.Point(lon, lat), 20_000)
            b = pg_store.near(layer, shapely.Point(lon, lat), 20_000)
            key = "code" if layer == "districts" else "id"
            assert set(a[key]) == set(b[key])
            merged = a[[key, "distance_km"]].merge(b[[key, "distance_km"]], on=key)
            np.testing.assert_allclose(merged["distance_km_x"], merged["distance_km_y"], rtol=0, atol=1e-3)


def test_near_pages_with_limit_and_offset(store):
    everything = store.near("projects", shapely.Point(112.45, 34.62), 50_000)
    assert len(everything) >= 8
    assert_same_rows(store.near("projects", shapely.Point(112.45, 34.62), 50_000, limit=3, offset=2),
                     everything.iloc[2:5].reset_index(drop=True))
    assert_same_rows(store.near("projects", shapely.Point(112.45, 34.62), 50_000, offset=len(everything) - 1),
                     everything.iloc[-1:].reset_index(drop=True))
    assert store.near("projects", shapely.Point(112.45, 34.62), 50_000, limit=0).empty


def test_near_filters_on_attributes(store):
    point = shapely.Point(112.45, 34.62)
    everything = store.near("projects", point, 50_000)
    planned = store.near("projects", point, 50_000, where={"status": ["planned"]})
    assert 0 < len(planned) < len(everything)
    assert_same_rows(planned, everything[everything["status"] == "planned"].reset_index(drop=True))
    both = store.near("projects", point, 50_000, where={"status": ["planned", "under_construction"]})
    assert_same_rows(both, everything)
    assert store.near("projects", point, 50_000, where={"status": ["no-such-status"]}).empty


# --- in_bbox and by_id ------------------------------------------------------------------------------------


def test_in_bbox_gives_the_rows_whose_box_meets_it_in_stored_order(store, stored):
    found = 0
    for layer, box in itertools.product(SPATIAL, BOXES):
        gdf = stored[layer]
        bounds = shapely.bounds(gdf.geometry.values)
        w, s, e, n = box
        meets = (bounds[:, 0] <= e) & (bounds[:, 2] >= w) & (bounds[:, 1] <= n) & (bounds[:, 3] >= s)
        got = store.in_bbox(layer, *box)
        assert_same_rows(got, gdf[meets].reset_index(drop=True))
        found += len(got)
    assert found > 0


def test_in_bbox_pages_and_filters(store, stored):
    box = BOXES[2]
    everything = store.in_bbox("projects", *box)
    assert len(everything) == len(stored["projects"])
    assert_same_rows(store.in_bbox("projects", *box, limit=4, offset=3), everything.iloc[3:7].reset_index(drop=True))
    building = store.in_bbox("projects", *box, where={"status": ["under_construction"]})
    assert_same_rows(building, everything[everything["status"] == "under_construction"].reset_index(drop=True))


def test_by_id_gives_the_record(store, stored):
    for layer in SPATIAL:
        key = "code" if layer == "districts" else "id"
        for value in stored[layer][key].iloc[[0, -1]]:
            assert_same_rows(store.by_id(layer, value),
                             stored[layer][stored[layer][key] == value].reset_index(drop=True))
    with pytest.raises(NotFoundError, match="unknown id 'nope' in layer 'parks'"):
        store.by_id("parks", "nope")


# --- refused ----------------------------------------------------------------------------------------------


def test_unknown_layers_and_columns_are_named(store):
    point = shapely.Point(112.45, 34.62)
    with pytest.raises(NotFoundError, match="unknown layer 'roads'"):
        store.near("roads", point, 1000)
    with pytest.raises(NotFoundError, match="unknown layer 'roads'"):
        store.in_bbox("roads", *BOXES[0])
    with pytest.raises(NotFoundError, match="unknown layer 'roads'"):
        store.by_id("roads", "x")
    with pytest.raises(NotFoundError, match="unknown layer 'parks; drop table parks'"):
        store.near("parks; drop table parks", point, 1000)
    with pytest.raises(ValidationError, match="unknown column 'colour' in layer 'projects'"):
        store.near("projects", point, 1000, where={"colour": ["red"]})
    with pytest.raises(ValidationError, match="unknown column 'status\" OR 1=1 --' in layer 'projects'"):
        store.in_bbox("projects", *BOXES[0], where={'status" OR 1=1 --': ["x"]})
    with pytest.raises(ValidationError, match="layer 'sources' has no geometry"):
        store.near("sources", point, 1000)


def test_bad_arguments_are_refused(store):
    point = shapely.Point(112.45, 34.62)
    for kwargs, field in [({"limit": -1}, "limit"), ({"offset": 1.5}, "offset"), ({"where": {"status": "planned"}},
                                                                                    "where")]:
        with pytest.raises(ValidationError) as info:
            store.near("projects", point, 1000, **kwargs)
        assert info.value.field == field
    with pytest.raises(ValidationError, match="radius_m"):
        store.near("projects", point, 0)
    with pytest.raises(ValidationError, match="west <= east"):
        store.in_bbox("projects", 113, 34, 112, 35)


# --- PostGIS: the geography index is what answers near ----------------------------------------------------


def test_explain_near_uses_the_geography_index(postgis_url):
    rng = np.random.default_rng(12)
    n = 5000
    points = gpd.GeoDataFrame(
        {"id": [f"p{i:05d}" for i in range(n)], "status": rng.choice(["planned", "completed"], n)},
        geometry=gpd.points_from_xy(rng.uniform(111.2, 113.6, n), rng.uniform(33.6, 35.4, n)), crs=crs.WGS84)
    store = PostGISStore(_new_database(postgis_url))
    store.write({"points": points})
    point = shapely.Point(112.45, 34.62)
    with store, store._connect() as conn:
        sql, params, _, _ = store._near_statement(conn, "points", point, 1000, limit=None, offset=0,
                                                  where={"status": ["planned"]})
        assert '"geometry"::geography' in sql
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.execute(sa.text(f"EXPLAIN {sql}"), params).scalars())
    assert "points_geog_idx" in plan, plan
    got = store.near("points", point, 10_000)
    dist = np.asarray(crs.geodesic_distance_m(point.x, point.y, points.geometry.x, points.geometry.y))
    assert set(got["id"]) == set(points["id"][dist <= 10_000])
    np.testing.assert_allclose(got["distance_km"], np.sort(dist[dist <= 10_000]) / 1000, rtol=0, atol=1e-6)
    store.close()


def test_by_id_uses_the_id_index(pg_store):
    with pg_store._connect() as conn:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.execute(sa.text(
            "EXPLAIN SELECT * FROM corridors.parks WHERE id = 'x' ORDER BY store_row")).scalars())
    assert "parks_id_idx" in plan, plan


def test_queries_reuse_the_connection_and_the_catalogue(pg_store):
    """A query on a known version: one pooled connection, and only the version is looked up again."""
    pg_store.by_id("parks", pg_store.read("parks")["id"].iat[0])  # the catalogue and parks' columns known
    statements: list[str] = []
    engine = pg_store._engine

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        connects = engine.pool.checkedin() + engine.pool.checkedout()
        for _ in range(3):
            assert len(pg_store.near("parks", shapely.Point(112.45, 34.62), 10_000)) > 0
        assert engine.pool.checkedin() + engine.pool.checkedout() == connects and engine.pool.checkedout() == 0
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    catalogue = [s for s in statements if "store_layers" in s or "information_schema" in s or "to_regclass" in s]
    assert catalogue == [], catalogue
    assert sum("store_meta" in s for s in statements) == 3
