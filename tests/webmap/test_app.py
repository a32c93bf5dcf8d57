"""The Flask app over a real temporary store: pages and their escaping."""

from __future__ import annotations

import csv
import re

import pytest

from geo.build import build_store
from webmap import create_app


@pytest.fixture()
def client(store_path):
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)})
    return app.test_client()


def test_main_map_loads_only_local_assets(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "洛阳都市圈产业走廊地图" in html and "Luoyang industrial-corridor map" in html
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith(("/", "#")) for u in urls), urls
    for u in urls:
        if u.startswith("/static/"):
            assert client.get(u).status_code == 200, u
    assert "leaflet.markercluster.js" in html and "/static/app/map.js" in html
    assert "https://" not in html.replace("https://leafletjs.com", "")


def test_data_page_lists_every_layer_bilingually(client):
    html = client.get("/data").get_data(as_text=True)
    for text in ("中州时代生产基地一期", "Zhongzhou Shidai production base, phase I", "EPSG:4326", "institutions"):
        assert text in html


def test_corridor_pages(client):
    html = client.get("/corridors").get_data(as_text=True)
    assert "洛济焦高端石化产业带" in html and "未知 unknown" in html
    one = client.get("/corridors/luo-ru")
    assert one.status_code == 200 and "汝阳绿色建材产业园" in one.get_data(as_text=True)
    assert client.get("/corridors/luo-ru/map").status_code == 200
    assert client.get("/corridors/nope").status_code == 404


def test_feature_pages(client):
    html = client.get("/parks/luoyang-new-energy-park").get_data(as_text=True)
    assert "000_d5982d250ddd8784.txt" in html and "Neighbours" in html
    assert client.get("/projects/youbo-battery-foil").status_code == 200
    assert client.get("/institutions/zhongzhou-shidai").status_code == 200
    assert client.get("/projects/nope").status_code == 404


def test_tiles_that_would_not_line_up_are_refused(store_path):
    with pytest.raises(ValueError, match="TILES_CRS=gcj02"):
        create_app({"CORRIDORS_STORE": str(store_path), "TILES": "http://tiles.local/{z}/{x}/{y}.png",
                    "TILES_CRS": "gcj02"})
    app = create_app({"CORRIDORS_STORE": str(store_path), "TILES": "/tiles/{z}/{x}/{y}.png"})
    assert "/tiles/{z}/{x}/{y}.png" in app.test_client().get("/").get_data(as_text=True)


def test_data_is_escaped(tmp_path, sources_copy):
    path = sources_copy / "parks.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    rows[0]["name_en"] = "<script>alert(1)</script>"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "x.gpkg"
    build_store(out, sources_dir=sources_copy)
    client = create_app({"CORRIDORS_STORE": str(out)}).test_client()
    for url in ("/data", f"/parks/{rows[0]['id']}", "/", "/corridors/luo-gong"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/data").get_data(as_text=True)


def test_corridor_tooltips_are_escaped(tmp_path, sources_copy):
    import json

    path = sources_copy / "corridors.geojson"
    fc = json.loads(path.read_text(encoding="utf-8"))
    fc["features"][0]["properties"]["name_en"] = "<img src=x onerror=alert(1)>"
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "x.gpkg"
    build_store(out, sources_dir=sources_copy)
    html = create_app({"CORRIDORS_STORE": str(out)}).test_client().get("/").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
