"""The GeoPackage store: exact layer names, WGS84, reproducible, atomic."""

from __future__ import annotations

import hashlib

import pyogrio
import pytest

from geo.build import build_store
from geo.errors import NotFoundError, StoreError
from geo.store import GeoPackageStore


def test_info_lists_layers_counts_and_crs(store, layers):
    info = {i.name: i for i in store.info()}
    assert list(info) == ["districts", "corridors", "parks", "projects", "institutions"]
    assert all(i.crs == "EPSG:4326" for i in info.values())
    assert info["corridors"].feature_count == 4
    assert info["parks"].geometry_type == "Point"
    assert info["districts"].geometry_type == "MultiPolygon"
    assert {n: i.feature_count for n, i in info.items()} == {n: len(g) for n, g in layers.items()}


def test_building_twice_gives_identical_layers_and_file(tmp_path, store_path):
    again = tmp_path / "again.gpkg"
    build_store(again)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(store_path.read_bytes()).digest()
    a, b = GeoPackageStore(store_path), GeoPackageStore(again)
    for name in a.layer_names():
        assert a.read(name).equals(b.read(name))


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
        build_store(out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["corridors.gpkg"]


def test_layers_must_be_wgs84(tmp_path, layers):
    with pytest.raises(StoreError, match="must be in WGS84"):
        GeoPackageStore(tmp_path / "x.gpkg").write({"parks": layers["parks"].to_crs(32649)})
    assert not (tmp_path / "x.gpkg").exists()
