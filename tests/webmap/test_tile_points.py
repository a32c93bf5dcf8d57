"""TilePoints, the folium layer of big point layers drawn from /tiles/: local assets, notebook use, the main map's switch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import pytest

from geo.settings import SettingsError
from webmap import create_app
from webmap.assets import offline_map
from webmap.tile_points import TilePoints

STATIC = Path(__file__).resolve().parents[2] / "webmap" / "static"


def _links(html: str) -> list[str]:
    return re.findall(r"""<script[^>]*\bsrc\s*=\s*["']([^"']*)["']""", html)


def test_the_plugin_renders_into_a_folium_map_with_local_assets(store_path):
    m = offline_map(location=[34.62, 112.45], zoom_start=9)
    TilePoints("/tiles/projects", params={"status": "planned", "q": ""}, name="projects").add_to(m)
    html = m.get_root().render()
    made = re.search(r'L\.tilePoints\("/tiles/projects", (\{.*?\})\);', html)
    assert made, "no L.tilePoints call"
    options = json.loads(made.group(1))
    assert options["layer"] == "projects" and options["params"] == {"status": "planned"}  # blank filters left out
    assert options["statusColors"]["planned"] == "#4e79a7"
    assert ".addTo(map_" in html  # shown: added to the map
    assert not re.findall(r"https?://", html)
    client = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client()
    links = _links(html)
    for url in ("/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js", "/static/app/tile_points.js"):
        assert url in links
        assert client.get(url).status_code == 200
    # the library before the app's layer class, both after Leaflet
    assert links.index("/static/vendor/leaflet/leaflet.js") < links.index(
        "/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js") < links.index("/static/app/tile_points.js")


def test_from_a_notebook_the_assets_come_from_the_app_serving_the_tiles():
    m = folium.Map(location=[34.62, 112.45], zoom_start=9, tiles=None)
    layer = TilePoints("http://127.0.0.1:8000/tiles/institutions/", show=False).add_to(m)
    html = m.get_root().render()
    assert "http://127.0.0.1:8000/static/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js" in html
    assert "http://127.0.0.1:8000/static/app/tile_points.js" in html
    assert f"{layer.get_name()}.addTo(" not in html  # show=False: made, not added
    assert '"layer": "institutions"' in html and "unpkg" not in html
    assert TilePoints.default_js == []  # the class lists stay untouched (per-instance links)


def _config(html: str) -> dict:
    init = re.search(r"CorridorMap\.init\([^,]+, ", html)
    assert init, "no CorridorMap.init call"
    return json.JSONDecoder().raw_decode(html, init.end())[0]


def test_the_main_map_carries_the_threshold_and_a_hidden_tile_layer_per_point_layer(store_path):
    client = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path), "BIG_LAYER_FEATURES": "10"}).test_client()
    html = client.get("/").get_data(as_text=True)
    cfg = _config(html)
    assert cfg["bigLayerFeatures"] == 10 and cfg["tileRoot"] == "/tiles"
    assert cfg["layerTotals"] == {"parks": 20, "projects": 14, "institutions": 14}
    for layer in ("parks", "projects", "institutions"):
        name = cfg["overlays"][f"tiles:{layer}"]
        assert f'var {name} = L.tilePoints("/tiles/{layer}"' in html
        assert f"{name}.addTo(" not in html  # map.js shows it only when the layer is big
    default = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client()
    assert _config(default.get("/").get_data(as_text=True))["bigLayerFeatures"] == 20_000


@pytest.mark.parametrize("value", ["0", "-5", "1e6", "many"])
def test_a_bad_threshold_stops_start_up(store_path, value):
    with pytest.raises(SettingsError, match="BIG_LAYER_FEATURES"):
        create_app({"CORRIDORS_STORE": str(store_path), "BIG_LAYER_FEATURES": value})


def test_a_tile_naming_its_data_version_may_be_kept_by_the_browser(store_path):
    client = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client()
    count = client.get("/tiles/projects/0/0/0.json")
    version = count.headers["X-Data-Version"]
    assert count.headers["Cache-Control"] == "no-cache" and count.get_json()["count"] == 14
    kept = client.get(f"/tiles/projects/7/105/51.mvt?status=planned&v={version}")
    assert kept.status_code == 200 and kept.headers["Cache-Control"] == "private, max-age=86400, immutable"
    assert client.get("/tiles/projects/7/105/51.mvt?v=0000").headers["Cache-Control"] == "no-cache"  # another version
    assert kept.headers["Access-Control-Allow-Origin"] == "*"  # a notebook's page may draw them (public reading)


def test_tiles_are_not_shared_across_origins_when_reading_needs_a_login(store_path):
    client = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path), "READ_ACCESS": "login"}).test_client()
    assert "Access-Control-Allow-Origin" not in client.get("/tiles/projects/0/0/0.json").headers
