"""Tiles of point layers: clusters whose counts add up exactly, points from POINTS_FROM_Z, MVT that decodes."""

from __future__ import annotations

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import numpy as np
import pytest

from geo import tiles
from geo.errors import ValidationError
from geo.schema import STATUSES


@pytest.fixture(scope="module")
def points() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(17)
    n = 20_000
    lon, lat = rng.uniform(111.5, 113.5, n), rng.uniform(33.8, 35.2, n)
    lon[:50], lat[:50] = 112.45, 34.62  # fifty records at one stand-in point
    return gpd.GeoDataFrame({"id": [f"p{i}" for i in range(n)], "name_zh": "项目", "name_en": "project",
                             "status": rng.choice([*STATUSES, None], n)},
                            geometry=gpd.points_from_xy(lon, lat), crs=4326)


@pytest.fixture(scope="module")
def source(points) -> tiles.TileSource:
    return tiles.TileSource("projects", points)


def _covering(points: gpd.GeoDataFrame, z: int) -> list[mercantile.Tile]:
    return list(mercantile.tiles(*points.total_bounds, z))


@pytest.mark.parametrize("z", [0, 4, 8, 10, 12])
def test_cluster_counts_add_up_exactly_and_sit_in_their_tile(points, source, z):
    total, by_status = 0, {}
    for tile in _covering(points, z):
        doc = tiles.to_json(source, tile)
        assert doc["kind"] == "clusters"
        w, s, e, n = doc["bounds"]
        for f in doc["features"]:
            p = f["properties"]
            assert w <= f["lon"] <= e and s <= f["lat"] <= n
            assert p["count"] == sum(v for k, v in p.items() if k.startswith("count_"))
            for k, v in p.items():
                if k.startswith("count_"):
                    by_status[k] = by_status.get(k, 0) + v
        total += doc["count"]
    assert total == len(points)
    assert by_status["count_planned"] == int((points["status"] == "planned").sum())
    assert by_status["count_other"] == int(points["status"].isna().sum())


@pytest.mark.parametrize("z", [tiles.POINTS_FROM_Z, tiles.POINTS_FROM_Z + 2])
def test_points_from_points_from_z_partition_the_layer(points, source, z):
    # every record in exactly one tile (a sample of tiles around the stand-in, then all of one ancestor)
    ancestor = mercantile.tile(112.45, 34.62, tiles.POINTS_FROM_Z - 2)
    seen: list[str] = []
    for tile in mercantile.children(ancestor, zoom=z):
        doc = tiles.to_json(source, tile)
        assert doc["kind"] == "points"
        seen += [f["properties"]["id"] for f in doc["features"]]
    w, s, e, n = mercantile.bounds(ancestor)
    inside = points.cx[w:e, s:n]
    assert sorted(seen) == sorted(inside["id"]) and len(seen) == len(set(seen))
    assert {f"p{i}" for i in range(50)} <= set(seen)  # the fifty at one point are all there


def test_a_dense_tile_keeps_clustering(points, monkeypatch):
    monkeypatch.setattr(tiles, "MAX_POINTS_PER_TILE", 10)
    source = tiles.TileSource("projects", points)
    doc = tiles.to_json(source, mercantile.tile(112.45, 34.62, tiles.POINTS_FROM_Z))
    assert doc["kind"] == "clusters" and doc["count"] >= 50


def test_mvt_decodes_to_the_same_features(source):
    for z in (9, tiles.POINTS_FROM_Z + 1):
        tile = mercantile.tile(112.45, 34.62, z)
        doc = tiles.to_json(source, tile)
        layer = mapbox_vector_tile.decode(tiles.to_mvt(source, tile))["projects"]
        assert len(layer["features"]) == len(doc["features"]) > 0
        assert layer["extent"] == tiles.EXTENT
        key = "count" if doc["kind"] == "clusters" else "id"
        assert sorted(f["properties"][key] for f in layer["features"]) == \
            sorted(f["properties"][key] for f in doc["features"])
        for f in layer["features"]:
            x, y = f["geometry"]["coordinates"]
            assert 0 <= x <= tiles.EXTENT and 0 <= y <= tiles.EXTENT


@pytest.mark.parametrize("z, x, y, field", [(-1, 0, 0, "z"), (21, 0, 0, "z"), (3, 8, 0, "x"), (3, 0, -1, "y")])
def test_bad_tiles_name_the_field(z, x, y, field):
    with pytest.raises(ValidationError) as err:
        tiles.check_tile(z, x, y)
    assert err.value.field == field


def test_only_point_layers(layers):
    with pytest.raises(ValidationError, match="points"):
        tiles.TileSource("districts", layers["districts"])


@pytest.mark.parametrize("z", [0, 5, 9, tiles.POINTS_FROM_Z - 1, tiles.POINTS_FROM_Z])
def test_each_zoom_built_from_the_one_above_equals_binning_the_records(source, z):
    col, row = source._cells(z, source.x, source.y)
    direct = tiles._clusters(tiles._group_records(tiles.cell_keys(col, row, z), source.x, source.y, source.status_code))
    built = source.clusters(z)
    assert np.array_equal(built.keys, direct.keys) and np.array_equal(built.count, direct.count)
    assert np.array_equal(built.by_status, direct.by_status)
    assert np.allclose(built.x, direct.x, rtol=0, atol=1e-6) and np.allclose(built.y, direct.y, rtol=0, atol=1e-6)


def test_a_dense_tile_beyond_points_from_z_clusters_its_own_records(points, monkeypatch):
    monkeypatch.setattr(tiles, "MAX_POINTS_PER_TILE", 10)
    source = tiles.TileSource("projects", points)
    doc = tiles.to_json(source, mercantile.tile(112.45, 34.62, tiles.POINTS_FROM_Z + 3))
    assert doc["kind"] == "clusters" and doc["count"] == len(source.point_rows(
        mercantile.tile(112.45, 34.62, tiles.POINTS_FROM_Z + 3))) >= 50
    assert sum(f["properties"]["count"] for f in doc["features"] if f["lon"] == 112.45) >= 50


def test_chain_link_counts_of_tiles_add_up_to_the_layer():
    rng = np.random.default_rng(3)
    n = 5000
    lon, lat = rng.uniform(111.5, 113.5, n), rng.uniform(33.8, 35.2, n)
    frame = gpd.GeoDataFrame({"chain_link": rng.choice(["cell", "foil", None], n)},
                             geometry=gpd.points_from_xy(lon, lat), crs=4326)
    source = tiles.TileSource("projects", frame)
    assert source.chain_links(mercantile.Tile(0, 0, 0)) == frame["chain_link"].value_counts().to_dict()
    for z in (5, tiles.POINTS_FROM_Z + 1):
        total: dict[str, int] = {}
        ancestor = mercantile.tile(112.45, 34.62, z - 2)
        for tile in mercantile.children(ancestor, zoom=z):
            for link, count in source.chain_links(tile).items():
                total[link] = total.get(link, 0) + count
        w, s, e, n_ = mercantile.bounds(ancestor)
        assert total == frame.cx[w:e, s:n_]["chain_link"].value_counts().to_dict() != {}


def test_encoded_tiles_are_kept_up_to_tiles_kept(points, monkeypatch):
    monkeypatch.setattr(tiles, "TILES_KEPT", 3)
    source = tiles.TileSource("projects", points)
    encoded = []
    monkeypatch.setattr(tiles, "_encode_mvt", lambda s, t: encoded.append(t) or b"tile")
    asked = [mercantile.Tile(x, 0, 3) for x in range(4)]
    for tile in [*asked, asked[3], asked[0]]:
        assert tiles.to_mvt(source, tile) == b"tile"
    assert encoded == [*asked, asked[0]]  # the fourth pushed out the first; the last was kept
