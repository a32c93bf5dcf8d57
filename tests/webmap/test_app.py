"""The Flask app over a real temporary store: pages, the layers API and its errors."""

from __future__ import annotations

import pytest

from webmap import create_app


@pytest.fixture()
def client(store_path):
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)})
    return app.test_client()


def test_index_lists_every_layer_bilingually(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("洛阳都市圈产业走廊地图", "Luoyang industrial-corridor map", "中州时代生产基地一期", "EPSG:4326"):
        assert text in html
    assert "<script" not in html  # no scripts at all, so nothing from a CDN


def test_layer_geojson(client):
    r = client.get("/api/layers/projects")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = r.get_json(force=True)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 14
    props = {f["properties"]["id"]: f["properties"] for f in doc["features"]}
    assert props["zhongzhou-shidai-phase-1"]["capacity_gwh"] == 60
    assert props["zhongzhou-shidai-phase-2"]["investment_cny_100m"] is None


def test_unknown_layer_is_a_json_404(client):
    r = client.get("/api/layers/roads")
    assert r.status_code == 404
    assert "unknown layer 'roads'" in r.get_json()["error"]


def test_layers_index(client):
    names = [layer["name"] for layer in client.get("/api/layers").get_json()["layers"]]
    assert names == ["districts", "corridors", "parks", "projects", "institutions"]


def test_data_is_escaped(tmp_path, sources_copy):
    from geo.build import build_store
    import csv

    path = sources_copy / "parks.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[0]["name_en"] = "<script>alert(1)</script>"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "x.gpkg"
    build_store(out, sources_dir=sources_copy)
    html = create_app({"CORRIDORS_STORE": str(out)}).test_client().get("/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
