"""/tiles/<layer>/<z>/<x>/<y>.mvt|.json: exact counts with the map's filters and as_of, on both stores."""

from __future__ import annotations

import mapbox_vector_tile
import mercantile
import pytest

from geo import tiles
from webmap import create_app


@pytest.fixture(scope="module")
def client(served_store):
    return create_app({"TESTING": True, "CORRIDORS_STORE": served_store}).test_client()


def _count(client, layer: str, z: int, query: str = "") -> int:
    """The records of a layer over the tiles covering the study area at zoom z."""
    total = 0
    for t in mercantile.tiles(110.6, 33.0, 114.2, 36.0, z):
        r = client.get(f"/tiles/{layer}/{z}/{t.x}/{t.y}.json{query}")
        assert r.status_code == 200, r.get_json()
        total += r.get_json()["count"]
    return total


@pytest.mark.parametrize("layer", ["parks", "projects", "institutions"])
def test_tile_counts_equal_the_layer_with_filters_and_as_of(client, layer):
    everything = len(client.get(f"/api/layers/{layer}?format=json").get_json()["features"])
    assert _count(client, layer, 6) == everything
    planned = len(client.get(f"/api/layers/{layer}?format=json&status=planned").get_json()["features"])
    assert _count(client, layer, 6, "?status=planned") == planned
    then = len(client.get(f"/api/layers/{layer}?format=json&as_of=2024-01-01").get_json()["features"])
    assert _count(client, layer, 6, "?as_of=2024-01-01") == then
    assert then < everything  # the 2024-09-27 article's records were not in the ledger yet


def test_points_when_zoomed_in_and_vector_tiles(client):
    tile = mercantile.tile(112.64, 34.615, tiles.POINTS_FROM_Z)  # the 伊滨 stand-in: 5 projects
    doc = client.get(f"/tiles/projects/{tile.z}/{tile.x}/{tile.y}.json").get_json()
    assert doc["kind"] == "points" and doc["crs"] == "EPSG:4326"
    assert "zhongzhou-shidai-phase-1" in {f["properties"]["id"] for f in doc["features"]}
    r = client.get(f"/tiles/projects/{tile.z}/{tile.x}/{tile.y}.mvt", headers={"Accept-Encoding": "gzip"})
    assert r.mimetype == "application/vnd.mapbox-vector-tile"
    body = r.data if r.headers.get("Content-Encoding") != "gzip" else __import__("gzip").decompress(r.data)
    decoded = mapbox_vector_tile.decode(body)["projects"]["features"]
    assert sorted(f["properties"]["id"] for f in decoded) == sorted(f["properties"]["id"] for f in doc["features"])


@pytest.mark.parametrize("url, field", [("/tiles/projects/3/9/0.json", "x"), ("/tiles/districts/3/0/0.mvt", "layer"),
                                        ("/tiles/projects/3/0/0.json?status=nope", "status"),
                                        ("/tiles/projects/3/0/0.mvt?as_of=yesterday", "as_of")])
def test_bad_requests_are_a_json_400_naming_the_field(client, url, field):
    r = client.get(url)
    assert r.status_code == 400 and r.get_json()["field"] == field


def test_a_new_snapshot_builds_the_big_layers_tile_sources_in_the_background(served_store, monkeypatch):
    built = []
    monkeypatch.setattr(tiles, "TileSource", lambda name, frame: built.append((name, len(frame))) or name)
    app = create_app({"TESTING": True, "CORRIDORS_STORE": served_store, "BIG_LAYER_FEATURES": "5"})
    client = app.test_client()
    assert client.get("/readyz").status_code == 200  # loads the snapshot: no tile asked for
    for thread in [t for t in __import__("threading").enumerate() if t.name == "warm-tiles"]:
        thread.join(10)
    data = app.extensions["corridors_data"].current()
    big = {layer for layer in ("parks", "projects", "institutions") if len(data.layers[layer]) > 5}
    assert {name for name, _ in built} == big and {"projects", "parks"} <= big
    assert all(n == len(data.layers[name]) for name, n in built)  # unfiltered
    client.get("/readyz")  # the same snapshot: nothing built again
    assert len(built) == len(big)
    assert ("standing", "no members") in data.memo._values  # the time panel's corridor standing too


def test_a_json_tile_counts_its_records_per_chain_link(client):
    features = client.get("/api/layers/projects").get_json()["features"]  # GeoJSON: located or not
    links = [f["properties"].get("chain_link") for f in features if f.get("geometry")]
    want = {link: links.count(link) for link in set(links) if link}
    assert client.get("/tiles/projects/0/0/0.json").get_json()["chain_links"] == want != {}
    assert client.get("/tiles/projects/0/0/0.json?chain_link=cell").get_json()["chain_links"] == {"cell": want["cell"]}
