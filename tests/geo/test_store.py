"""The GeoPackage store: exact layer names, WGS84, reproducible, atomic."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.build import build_store
from geo.dataset import Dataset
from geo.errors import NotFoundError, StoreError
from geo.store import GeoPackageStore, is_spatial

SPATIAL = ["districts", "corridors", "parks", "projects", "institutions"]


def test_info_lists_layers_counts_and_crs(store, layers):
    info = {i.name: i for i in store.info()}
    assert list(info) == [*SPATIAL, "sources", "changes"]  # the register, then the change log
    assert all(info[n].crs == "EPSG:4326" for n in SPATIAL)
    assert (info["sources"].geometry_type, info["sources"].crs) == ("None", "None")  # as GDAL says, for the CLI
    assert info["corridors"].feature_count == 4
    assert info["parks"].geometry_type == "Point"
    assert info["districts"].geometry_type == "MultiPolygon"
    assert {n: i.feature_count for n, i in info.items()} == {n: len(g) for n, g in layers.items()}


def test_building_twice_gives_identical_layers_and_leaves_a_built_store_untouched(tmp_path, store_path):
    again = tmp_path / "again.gpkg"
    build_store(again)
    a, b = GeoPackageStore(store_path), GeoPackageStore(again)
    for name in a.layer_names():
        if name == "changes":  # the same seed change, recorded at the time of each build
            assert a.read(name).drop(columns="recorded_at").equals(b.read(name).drop(columns="recorded_at"))
        else:
            assert a.read(name).equals(b.read(name))
    digest = hashlib.sha256(again.read_bytes()).digest()
    report = build_store(again)  # nothing changed in the sources: nothing is written
    assert (report.change_id, report.added, report.updated, report.unchanged) == (None, 0, 0, 52)
    assert hashlib.sha256(again.read_bytes()).digest() == digest


def test_nullable_figures_survive_the_round_trip(layers):
    parks = layers["parks"].set_index("id")
    assert parks.loc["luoyang-green-casting-park", "firms_count"] == 7
    assert parks["firms_count"].isna().sum() == len(parks) - 1


def test_unknown_layer_is_not_found(store):
    with pytest.raises(NotFoundError, match="unknown layer 'roads'; expected one of: districts"):
        store.read("roads")


def test_missing_store_says_how_to_build(tmp_path):
    with pytest.raises(NotFoundError, match="python run.py build"):
        GeoPackageStore(tmp_path / "none.gpkg").layer_names()


def test_a_failed_write_keeps_the_old_store(tmp_path, layers, monkeypatch):
    out = tmp_path / "corridors.gpkg"
    build_store(out)
    before = out.read_bytes()
    real = pyogrio.write_dataframe
    calls = []

    def failing(df, path, **kw):
        calls.append(kw["layer"])
        if len(calls) == 3:
            raise OSError("disk full")
        return real(df, path, **kw)

    monkeypatch.setattr(pyogrio, "write_dataframe", failing)
    with pytest.raises(StoreError, match="disk full"):
        GeoPackageStore(out).write(layers)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".corridors.gpkg.lock", "corridors.gpkg"]  # no temp file


def test_the_register_is_a_table_without_geometry(store, layers):
    register = layers["sources"]
    assert type(register) is pd.DataFrame and not is_spatial(register) and "geometry" not in register
    assert register["id"].is_unique and set(register["kind"]) <= {"article", "related_item", "import", "edit"}
    assert str(register["item_index"].dtype) == "Int64"  # integers again, not GDAL's floats
    items = register[register["kind"] == "related_item"]
    assert items["item_index"].notna().all() and register.loc[register["kind"] == "article", "item_index"].isna().all()
    youbo = layers["projects"].set_index("id").loc["youbo-battery-foil"]
    assert youbo["source_id"] in set(register["id"])
    assert all(is_spatial(layers[n]) for n in SPATIAL)


def test_a_dataframe_round_trips_as_an_attribute_table(tmp_path):
    points = gpd.GeoDataFrame({"id": ["p"]}, geometry=[shapely.Point(112.4, 34.6)], crs=4326)
    table = pd.DataFrame({"id": ["a", "b"], "title_zh": ["甲", None],
                          "item_index": pd.array([None, 2], dtype="Int64")})
    out = GeoPackageStore(tmp_path / "t.gpkg")
    out.write({"points": points, "table": table})
    assert [row[1] for row in pyogrio.list_layers(out.path)] == ["Point", None]  # no geometry column at all
    back = out.read("table")
    assert type(back) is pd.DataFrame and not is_spatial(back)
    assert back["id"].tolist() == ["a", "b"] and back["title_zh"].iloc[0] == "甲" and pd.isna(back["title_zh"].iloc[1])
    assert back["item_index"].tolist()[1] == 2 and pd.isna(back["item_index"].iloc[0])
    assert is_spatial(out.read("points")) and set(out.read_all()) == {"points", "table"}


def test_the_dataset_keeps_the_register_apart_from_the_spatial_layers(layers):
    data = Dataset(layers)
    info = {i.name: i for i in data.info()}
    assert (info["sources"].geometry_type, info["sources"].crs) == (None, None)
    assert info["sources"].feature_count == len(layers["sources"])
    assert "sources" not in data.spatial and set(data.spatial) == set(SPATIAL)
    assert data.sources is data.layers["sources"]
    youbo = data.layer("projects").set_index("id").loc["youbo-battery-foil"]
    assert youbo["source_title_zh"] == "【快讯】再创产业发展新辉煌——洛阳市产业发展观摩看偃师"
    assert youbo["source_kind"] == "related_item" and youbo["source_published_date"] is None
    near = data.engine.near(radius_km=5, feature="youbo-battery-foil")  # spatial code sees the spatial layers
    assert "source_title_zh" in near.features.columns
    with pytest.raises(Exception, match="unknown layer 'sources'"):
        data.engine.index("sources")


def test_layers_must_be_wgs84(tmp_path, layers):
    with pytest.raises(StoreError, match="must be in WGS84"):
        GeoPackageStore(tmp_path / "x.gpkg").write({"parks": layers["parks"].to_crs(32649)})
    assert not (tmp_path / "x.gpkg").exists()
