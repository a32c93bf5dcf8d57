"""The export endpoints over a real temporary store: maps (PNG/SVG/PDF) and data (GeoJSON/CSV/GeoPackage),
read back with Pillow, pypdf, xml.etree, csv/json and pyogrio; bad parameters give a JSON 400."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pyogrio
import pytest
from PIL import Image
from pypdf import PdfReader

from webmap import create_app
from webmap.export import bp

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def client(store_path):
    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)})
    if "export" not in app.blueprints:  # until webmap/__init__.py registers it
        app.register_blueprint(bp)
    return app.test_client()


def texts(resp) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(resp.data).iter(f"{SVG}text")]


def test_png_of_the_metro_area(client):
    r = client.get("/export/map.png?dpi=100")
    assert r.status_code == 200 and r.mimetype == "image/png"
    img = Image.open(io.BytesIO(r.data))
    assert img.size == (1169, 826) and img.mode == "RGB"  # A4 landscape at 100 dpi
    assert r.headers["X-Map-CRS"] == "EPSG:32649" and r.headers["X-Map-Scale"].startswith("1:")
    assert r.headers["Content-Disposition"].startswith("inline;")
    assert client.get("/export/map.png?dpi=72&download=1").headers["Content-Disposition"].startswith("attachment;")


def test_pdf_page_is_a4_landscape(client):
    r = client.get("/export/map.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    box = PdfReader(io.BytesIO(r.data)).pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((842, 595), abs=1)


def test_permalink_state_becomes_a_filtered_map(client):
    url = ("/export/map.svg?lat=34.62&lon=112.45&z=9&layers=districts,corridors,parks,projects"
           "&status=planned&title=规划项目 Planned")
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    t = texts(r)
    assert "规划项目 Planned" in t and any("status=planned" in s for s in t)
    assert "规划" in t and "在建" not in t  # the legend shows the statuses drawn, nothing else
    assert not any(s.startswith("产业带范围") for s in t)  # belts were switched off in the permalink


def test_extent_view_uses_the_permalink_view(client):
    wide = client.get("/export/map.png?dpi=72")
    view = client.get("/export/map.png?dpi=72&lat=34.62&lon=112.45&z=12&extent=view")
    assert view.status_code == 200
    def scale(resp) -> float:
        return float(resp.headers["X-Map-Scale"].split(":")[1])

    assert scale(view) < scale(wide) / 5


def test_corridor_only_gives_the_corridor_map(client):
    r = client.get("/export/map.svg?corridor=luo-ru")
    t = texts(r)
    assert "洛汝新型建材产业带" in t and "Luoyang–Ruzhou New Building Materials Belt" in t
    assert "产业带园区与项目 Parks and projects of the corridor" in t


def test_buffer_query_map_numbers_the_features(client):
    r = client.get("/export/map.svg?qlon=112.45&qlat=34.62&qr=5&qlayer=all")
    t = texts(r)
    assert r.status_code == 200 and any(s.startswith("周边 5 公里查询") for s in t)
    doc = client.get("/api/near?lon=112.45&lat=34.62&radius_km=5").get_json(force=True)
    names = [f["properties"]["name_zh"] for f in doc["features"]]
    assert names and all(n in t for n in names[:10])
    r = client.get("/export/map.png?qfeature=luo-mian&qr=10&dpi=72")
    assert r.status_code == 200


def test_site_ranking_map(client):
    r = client.get("/export/map.svg?industry=battery-materials&top=5")
    t = texts(r)
    assert r.status_code == 200 and any(s.startswith("选址排序") for s in t) and "排序 Ranking" in t


@pytest.mark.parametrize("url, field", [
    ("/export/map.png?size=B5", "size"),
    ("/export/map.png?dpi=5000", "dpi"),
    ("/export/map.gif", "format"),
    ("/export/map.png?layers=rivers", "layers"),
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=0", "radius_km"),
    ("/export/map.png?status=finished", "status"),
    ("/export/map.png?extent=view&z=9", "z"),
    ("/export/data.shp?layer=parks", "format"),
    ("/export/data.csv", "layer"),
    ("/export/data.csv?layer=rivers", "layer"),
])
def test_bad_parameters_are_a_json_400_naming_the_field(client, url, field):
    r = client.get(url)
    assert r.status_code == 400 and r.mimetype == "application/json"
    assert r.get_json()["field"] == field


def test_layer_data_in_three_formats(client, tmp_path):
    r = client.get("/export/data.geojson?layer=projects&status=planned")
    doc = r.get_json(force=True)
    assert r.mimetype == "application/geo+json" and doc["type"] == "FeatureCollection"
    assert doc["features"] and {f["properties"]["status"] for f in doc["features"]} == {"planned"}
    r = client.get("/export/data.csv?layer=parks")
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8"))))
    assert r.mimetype == "text/csv" and {"lon", "lat", "crs"} <= set(rows[0]) and rows[0]["crs"] == "EPSG:4326"
    assert 'filename="parks.csv"' in r.headers["Content-Disposition"]
    r = client.get("/export/data.gpkg?layer=corridors")
    path = tmp_path / "corridors.gpkg"
    path.write_bytes(r.data)
    got = pyogrio.read_dataframe(path)
    assert r.mimetype == "application/geopackage+sqlite3" and len(got) == 4 and got.crs.to_epsg() == 4326


def test_query_data_matches_the_api(client, tmp_path):
    api = client.get("/api/near?lon=112.45&lat=34.62&radius_km=10").get_json(force=True)
    r = client.get("/export/data.csv?qlon=112.45&qlat=34.62&qr=10")
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8"))))
    assert [row["id"] for row in rows] == [f["id"] for f in api["features"]]
    r = client.get("/export/data.gpkg?qlon=112.45&qlat=34.62&qr=10")
    path = tmp_path / "near.gpkg"
    path.write_bytes(r.data)
    assert [n for n, _ in pyogrio.list_layers(path)] == ["near", "near_buffer"]
    r = client.get("/export/data.geojson?industry=battery-materials&top=3")
    assert len(r.get_json(force=True)["features"]) == 3
