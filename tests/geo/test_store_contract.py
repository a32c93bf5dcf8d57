"""One contract for every store: the GeoPackage file and the PostGIS database behave alike.

Each contract test runs against a fresh GeoPackage in a temporary folder and a fresh PostGIS database
(copied from an empty template in the session's throwaway cluster, ``postgis_url``). The values read
back are compared with what the GeoPackage store of the session (``layers``, built from the
repository's sources) gives: same columns, dtypes, values and row order, geometry within 1e-9°.
Then the PostGIS store's own promises: one transaction per write, a new version on every write, the
Alembic schema and the geography index that geodesic queries use.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd
import pytest
import shapely
import sqlalchemy as sa

from geo.dataset import content_version
from geo.errors import NotFoundError, StoreError
from geo.postgis import SCHEMA, PostGISStore
from geo.store import GeoPackageStore, Update, is_spatial, open_store
from tests.postgis_cluster import drop_connections, new_database

SPATIAL = ["districts", "corridors", "parks", "projects", "institutions"]
_numbers = itertools.count()


@dataclass
class Handle:
    """A store under test and how to read its version (PostGIS: data_version(); GeoPackage: content hash)."""

    store: GeoPackageStore | PostGISStore
    version: Callable[[], str]


@pytest.fixture(scope="session")
def postgis_template(postgis_url: str) -> str:
    """An empty database with the PostGIS extension, to copy for each test."""
    new_database(postgis_url, "contract_template")
    return "contract_template"


@pytest.fixture()
def fresh_postgis_url(postgis_url: str, postgis_template: str) -> str:
    """URL of a new, empty PostGIS database for one test."""
    return new_database(postgis_url, f"contract_{next(_numbers)}", template=postgis_template)


@pytest.fixture(params=["geopackage", "postgis"])
def handle(request: pytest.FixtureRequest, tmp_path) -> Iterator[Handle]:
    """A new, empty store of each kind."""
    if request.param == "geopackage":
        path = tmp_path / "corridors.gpkg"
        yield Handle(GeoPackageStore(path), lambda: content_version(path))
        return
    store = open_store(request.getfixturevalue("fresh_postgis_url"))
    assert isinstance(store, PostGISStore)
    with store:
        yield Handle(store, store.data_version)


def assert_same_layer(got, expected) -> None:
    """Same type, columns, dtypes, values, row order; geometry equal within 1e-9 degrees, same CRS."""
    assert type(got) is type(expected)
    assert list(got.columns) == list(expected.columns)
    if is_spatial(expected):
        assert got.geometry.name == expected.geometry.name
        assert got.crs == expected.crs
        assert shapely.equals_exact(got.geometry.values, expected.geometry.values, tolerance=1e-9).all()
        got, expected = (pd.DataFrame(f.drop(columns=f.geometry.name)) for f in (got, expected))
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


# --- the contract -----------------------------------------------------------------------------------------


def test_a_new_store_is_empty_and_says_how_to_build(handle):
    assert not handle.store.exists()
    with pytest.raises(NotFoundError, match="python run.py build"):
        handle.store.layer_names()


def test_written_layers_read_back_as_the_geopackage_gives_them(handle, real_layers, layers):
    progress: list[str] = []
    handle.store.write(real_layers, progress=progress.append)
    assert handle.store.exists()
    assert handle.store.layer_names() == [*SPATIAL, "sources"]
    assert "  wrote layer parks: 20 features" in progress and "  wrote table sources: 9 rows (no geometry)" in progress
    for name in handle.store.layer_names():
        assert_same_layer(handle.store.read(name), layers[name])
    everything = handle.store.read_all()
    assert list(everything) == [n for n in layers if n != "changes"]  # the built store also holds the log
    for name, frame in everything.items():
        assert_same_layer(frame, layers[name])


def test_nullable_figures_and_text_survive(handle, real_layers):
    handle.store.write(real_layers)
    parks = handle.store.read("parks").set_index("id")
    assert parks.loc["luoyang-green-casting-park", "firms_count"] == 7
    assert parks["firms_count"].isna().sum() == len(parks) - 1
    sources = handle.store.read("sources")
    assert str(sources["item_index"].dtype) == "Int64"  # a table keeps nullable integers
    assert sources["title_zh"].str.len().gt(0).all()


def test_info_gives_counts_geometry_types_and_crs(handle, real_layers, store):
    handle.store.write(real_layers)
    # the session's GeoPackage built from the same sources (which also holds the change log)
    assert handle.store.info() == [i for i in store.info() if i.name != "changes"]
    info = {i.name: i for i in handle.store.info()}
    assert (info["districts"].geometry_type, info["corridors"].geometry_type) == ("MultiPolygon", "LineString")
    assert (info["sources"].geometry_type, info["sources"].crs) == ("None", "None")
    assert {n: i.feature_count for n, i in info.items()} == {n: len(f) for n, f in real_layers.items()}


def test_unknown_layer_is_not_found(handle, real_layers):
    handle.store.write(real_layers)
    with pytest.raises(NotFoundError, match="unknown layer 'roads'; expected one of: districts"):
        handle.store.read("roads")


def test_a_failed_write_keeps_the_previous_layers_and_version(handle, real_layers, layers):
    handle.store.write(real_layers)
    before = handle.version()
    bad = real_layers["parks"].to_crs(32649)  # not WGS84: refused
    with pytest.raises(StoreError, match="layer 'bad_parks' must be in WGS84"):
        handle.store.write({**real_layers, "bad_parks": bad})
    assert handle.version() == before
    assert handle.store.layer_names() == [*SPATIAL, "sources"]
    for name in SPATIAL:
        assert_same_layer(handle.store.read(name), layers[name])


def test_a_write_replaces_every_layer_and_the_version(handle, real_layers):
    handle.store.write(real_layers)
    first = handle.version()
    parks = real_layers["parks"].copy()
    parks.loc[0, "name_en"] = "Renamed park"
    handle.store.write({"parks": parks})
    assert handle.version() != first
    assert handle.store.layer_names() == ["parks"]  # the other layers went with the old version
    assert handle.store.read("parks").loc[0, "name_en"] == "Renamed park"


# --- PostGIS only ----------------------------------------------------------------------------------------


def test_update_replaces_named_layers_and_appends_rows_at_once(handle, real_layers):
    handle.store.write(real_layers)
    before = handle.version()
    parks = real_layers["parks"].iloc[:3].copy()
    log = pd.DataFrame({"change_id": ["c1", "c1"], "record_id": ["a", "b"]})
    handle.store.update(lambda current: Update(replace={"parks": parks}, append={"changes": log}))
    assert handle.version() != before
    assert list(handle.store.read("parks")["id"]) == list(parks["id"])
    assert list(handle.store.read("projects")["id"]) == list(real_layers["projects"]["id"])
    assert handle.store.layer_names()[-1] == "changes"
    more = pd.DataFrame({"change_id": ["c2"], "record_id": ["c"]})
    handle.store.update(lambda current: Update(append={"changes": more}))
    assert handle.store.read("changes").to_dict("list") == {"change_id": ["c1", "c1", "c2"],
                                                            "record_id": ["a", "b", "c"]}


def test_an_update_that_raises_changes_nothing(handle, real_layers):
    handle.store.write(real_layers)
    before = handle.version()

    def refuse(current):
        assert set(current) == set(real_layers)  # it saw every layer
        raise ValueError("no")

    with pytest.raises(ValueError):
        handle.store.update(refuse)
    assert handle.version() == before and len(handle.store.read("parks")) == len(real_layers["parks"])


def test_concurrent_updates_take_turns_and_lose_nothing(handle, real_layers):
    handle.store.write({**real_layers, "counter": pd.DataFrame({"n": [0]})})

    def bump(current):
        return Update(replace={"counter": pd.DataFrame({"n": [int(current["counter"]["n"].iat[0]) + 1]})})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: handle.store.update(bump), range(16)))
    assert int(handle.store.read("counter")["n"].iat[0]) == 16


@pytest.fixture()
def postgis(fresh_postgis_url) -> Iterator[PostGISStore]:
    with PostGISStore(fresh_postgis_url) as store:
        yield store


def _engine(store: PostGISStore) -> sa.Engine:
    return store._engine


def test_a_database_error_mid_write_rolls_everything_back(postgis, real_layers, layers):
    postgis.write(real_layers)
    before = postgis.data_version()
    broken = real_layers["sources"].copy()
    broken.loc[0, "title_en"] = "nul \x00 byte"  # PostgreSQL text cannot hold NUL: fails inside the transaction
    changed = real_layers["parks"].copy()
    changed["name_en"] = "changed"
    with pytest.raises(StoreError, match="could not write layer 'sources'"):
        spatial = {n: f for n, f in real_layers.items() if n != "sources"}
        # parks replaced and a new layer made before the register fails
        postgis.write({**spatial, "parks": changed, "extra": real_layers["parks"], "sources": broken})
    assert postgis.data_version() == before
    assert postgis.layer_names() == [*SPATIAL, "sources"]
    for name in postgis.layer_names():
        assert_same_layer(postgis.read(name), layers[name])
    with _engine(postgis).connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('corridors.extra')")).scalar() is None


def test_every_write_gives_a_new_version(postgis, real_layers):
    postgis.write(real_layers)
    first = postgis.data_version()
    postgis.write(real_layers)  # the same layers again: still a new version
    assert postgis.data_version() != first
    with _engine(postgis).connect() as conn:
        rows = conn.execute(sa.text(f"SELECT version, written_at FROM {SCHEMA}.store_meta")).all()
    assert len(rows) == 1 and rows[0].version == postgis.data_version() and rows[0].written_at is not None


def test_schema_is_versioned_by_alembic(postgis, real_layers):
    assert postgis.schema_revision() is None
    postgis.migrate()
    assert postgis.schema_revision() == "0001"
    assert not postgis.exists()  # migrated, nothing written yet
    postgis.migrate()  # idempotent
    postgis.write(real_layers)
    assert postgis.schema_revision() == "0001"


def test_spatial_layers_are_srid_4326_with_a_geography_index_that_dwithin_uses(postgis, real_layers):
    postgis.write(real_layers)
    with _engine(postgis).connect() as conn:
        srids = dict(conn.execute(sa.text(
            "SELECT f_table_name, srid FROM geometry_columns WHERE f_table_schema = :s"), {"s": SCHEMA}).all())
        assert srids == dict.fromkeys(SPATIAL, 4326)
        for name in SPATIAL:
            indexes = conn.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE schemaname = :s AND tablename = :t"),
                                   {"s": SCHEMA, "t": name}).scalars().all()
            assert any("USING gist (((geometry)::geography))" in d for d in indexes), indexes
            if "id" in real_layers[name].columns:
                assert any(f"{name}_id_idx ON corridors.{name} USING btree (id)" in d for d in indexes), indexes
        conn.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(conn.execute(sa.text(
            f"EXPLAIN SELECT id FROM {SCHEMA}.parks WHERE ST_DWithin(geometry::geography, "
            "ST_SetSRID(ST_MakePoint(112.45, 34.62), 4326)::geography, 10000)")).scalars())
        assert "parks_geog_idx" in plan, plan
        tables = conn.execute(sa.text("SELECT to_regclass('corridors.sources')")).scalar()
        assert tables is not None  # the register is a plain table
        assert not conn.execute(sa.text(
            "SELECT count(*) FROM geometry_columns WHERE f_table_name = 'sources'")).scalar()


def test_open_store_takes_postgresql_urls_and_hides_the_password():
    for url in ("postgresql://planner:secret@db.example/corridors", "postgres://planner:secret@db.example/corridors"):
        store = open_store(url)
        assert isinstance(store, PostGISStore)
        assert "secret" not in repr(store) and "secret" not in store.path
        assert store.path.endswith("planner:***@db.example/corridors")


def test_an_unreachable_server_is_a_store_error(tmp_path):
    store = PostGISStore(f"postgresql://nobody@/corridors?host={tmp_path}&port=1")
    with pytest.raises(StoreError, match="cannot connect to the PostGIS store"):
        store.exists()


def test_a_write_by_another_store_is_seen_at_once(postgis, fresh_postgis_url, real_layers):
    postgis.write(real_layers)
    assert postgis.layer_names() == [*SPATIAL, "sources"]
    assert "name_en" in postgis.read("parks").columns  # the catalogue and parks' columns now kept
    parks = real_layers["parks"].rename(columns={"name_en": "label"})
    with PostGISStore(fresh_postgis_url) as other:  # as another process would
        other.write({"parks": parks})
        version = other.data_version()
    assert postgis.data_version() == version
    assert postgis.layer_names() == ["parks"]
    assert list(postgis.read("parks").columns) == list(parks.columns)
    assert set(postgis.near("parks", shapely.Point(112.45, 34.62), 50_000).columns) >= {"label", "distance_km"}


def test_a_store_closes_its_pool_and_opens_it_again(postgis, real_layers):
    postgis.write(real_layers)
    engine = postgis._engine
    assert postgis._engine is engine  # one engine for every call
    assert engine.pool.checkedout() == 0 and engine.pool.checkedin() >= 1
    postgis.close()
    assert engine.pool.checkedin() == 0
    assert postgis.layer_names() == [*SPATIAL, "sources"]  # a new pool on the next call
    assert postgis._engine is not engine
    with postgis as same:
        assert same is postgis
    assert postgis._engine_obj is None


def test_connections_the_server_dropped_are_replaced_without_a_failed_call(postgis, fresh_postgis_url, real_layers):
    """No ping before each use: a dropped connection fails its first statement and a fresh one is taken."""
    postgis.write(real_layers)
    version = postgis.data_version()
    with ThreadPoolExecutor(4) as pool:  # several connections in the pool, all about to be dropped
        list(pool.map(lambda _: postgis.read("parks"), range(8)))
    assert _engine(postgis).pool.checkedin() >= 2
    assert drop_connections(fresh_postgis_url) >= 2
    assert postgis.data_version() == version  # the fast path's connection was dead: the long way answers
    assert drop_connections(fresh_postgis_url) >= 1
    assert len(postgis.read("parks")) == len(real_layers["parks"])
    assert drop_connections(fresh_postgis_url) >= 1
    postgis.update(lambda layers: Update(replace={"parks": layers["parks"].head(3)}))  # a write too
    assert postgis.data_version() != version
