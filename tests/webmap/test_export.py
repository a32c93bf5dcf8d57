"""The export endpoints over a real temporary store: maps (PNG/SVG/PDF) and data (GeoJSON/CSV/GeoPackage),
read back with Pillow, pypdf, xml.etree, csv/json and pyogrio; bad parameters give a JSON 400."""

from __future__ import annotations

import csv
import io
import re
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


def test_buffer_query_map_marks_possible_hits_and_gives_the_interval(client):
    """Around 偃师 at 20 km the records located only to 洛龙区 are possible hits: hollow on the map, listed with
    their certainty and distance interval (nearest–farthest possible, km)."""
    r = client.get("/export/map.svg?qlon=112.7502&qlat=34.706&qr=20&qlayer=parks,projects")
    assert r.status_code == 200
    t = texts(r)
    assert "可能在范围内" in t and "Possibly within (hollow)" in t  # the legend row, only when drawn
    assert "确定性" in t and "距离 km" in t and "可能" in t
    doc = client.get("/api/near?lon=112.7502&lat=34.706&radius_km=20&layer=parks,projects").get_json(force=True)
    luolong = [f["properties"] for f in doc["features"] if f["properties"]["located_to_zh"] == "仅定位到洛龙区"]
    assert luolong and {p["certainty"] for p in luolong} == {"possible"}
    assert "8–43" in t  # 洛龙区 lies 8.5 to 42.3 km away
    assert 'style="fill: none; stroke: #' in r.get_data(as_text=True)  # hollow marks


def test_site_ranking_map(client):
    r = client.get("/export/map.svg?industry=battery-materials&top=5")
    t = texts(r)
    assert r.status_code == 200 and any(s.startswith("选址排序") for s in t) and "排序 Ranking" in t


@pytest.mark.parametrize("url, field", [
    ("/export/map.png?size=B5", "size"),
    ("/export/map.png?dpi=5000", "dpi"),
    ("/export/map.gif", "format"),
    ("/export/map.png?layers=rivers", "layers"),
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=0", "qr"),
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=5&qcertain=AAA", "qcertain"),
    ("/export/map.png?qcertain=true", "qr"),
    ("/export/map.png?status=finished", "status"),
    ("/export/map.png?extent=view&z=9", "lat"),
    ("/export/map.png?bbox=112.5,34.5,112.7", "bbox"),
    ("/export/map.png?bbox=112.7,34.5,112.5,34.7", "bbox"),
    ("/export/map.png?bbox=112.5,34.5,112.7,34.7&extent=auto", "bbox"),
    ("/export/map.png?bbox=-80,-50,-60,-40", "bbox"),
    ("/export/map.png?extent=all", "extent"),
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
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert r.mimetype == "text/csv" and {"lon", "lat", "crs"} <= set(rows[0]) and rows[0]["crs"] == "EPSG:4326"
    assert 'filename="parks.csv"' in r.headers["Content-Disposition"]
    r = client.get("/export/data.gpkg?layer=corridors")
    path = tmp_path / "corridors.gpkg"
    path.write_bytes(r.data)
    got = pyogrio.read_dataframe(path, layer="corridors")
    assert r.mimetype == "application/geopackage+sqlite3" and len(got) == 4 and got.crs.to_epsg() == 4326


def test_query_data_matches_the_api(client, tmp_path):
    api = client.get("/api/near?lon=112.45&lat=34.62&radius_km=10").get_json(force=True)
    r = client.get("/export/data.csv?qlon=112.45&qlat=34.62&qr=10")
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [row["id"] for row in rows] == [f["id"] for f in api["features"]]
    for row, f in zip(rows, api["features"]):  # the certainty and the interval over where each may lie
        p = f["properties"]
        assert row["certainty"] == p["certainty"] and row["located_to_en"] == p["located_to_en"]
        assert float(row["distance_min_km"]) == p["distance_min_km"] and float(row["distance_max_km"]) == p["distance_max_km"]
    r = client.get("/export/data.gpkg?qlon=112.45&qlat=34.62&qr=10")
    path = tmp_path / "near.gpkg"
    path.write_bytes(r.data)
    assert [n for n, _ in pyogrio.list_layers(path)] == ["near", "near_buffer", "sources"]
    near = pyogrio.read_dataframe(path, layer="near")
    assert list(near["certainty"]) == [f["properties"]["certainty"] for f in api["features"]]
    assert {"distance_min_km", "distance_max_km", "located_to_zh", "located_to_en"} <= set(near.columns)
    cited = pyogrio.read_dataframe(path, layer="sources")
    assert set(near["source_id"].dropna()) == set(cited["id"])  # the register rows the features cite
    r = client.get("/export/data.geojson?industry=battery-materials&top=3")
    assert len(r.get_json(force=True)["features"]) == 3
    # the map's "certain only" box (qcertain) narrows the downloads as it narrows /api/near
    certain = client.get("/api/near?lon=112.45&lat=34.62&radius_km=10&certain_only=true").get_json(force=True)
    r = client.get("/export/data.csv?qlon=112.45&qlat=34.62&qr=10&qcertain=true")
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [row["id"] for row in rows] == [f["id"] for f in certain["features"]] and len(rows) < len(api["features"])


# -- sources in downloads and on maps ------------------------------------------------------------------
YOUBO_ITEM = "【快讯】再创产业发展新辉煌——洛阳市产业发展观摩看偃师"
SOURCE_COLUMNS = {"source_id", "source_title_zh", "source_title_en", "source_kind", "source_published_date"}


def test_downloads_carry_each_records_source(client, tmp_path):
    rows = list(csv.DictReader(io.StringIO(client.get("/export/data.csv?layer=projects").data.decode("utf-8-sig"))))
    youbo = next(r for r in rows if r["id"] == "youbo-battery-foil")
    assert SOURCE_COLUMNS <= set(youbo) and youbo["source_title_zh"] == YOUBO_ITEM
    assert youbo["source_kind"] == "related_item" and youbo["source_published_date"] == ""
    doc = client.get("/export/data.geojson?layer=corridors").get_json(force=True)
    assert all(f["properties"]["source_published_date"] == "2021-07-23" for f in doc["features"])
    path = tmp_path / "parks.gpkg"
    path.write_bytes(client.get("/export/data.gpkg?layer=parks").data)
    assert [n for n, _ in pyogrio.list_layers(path)] == ["parks", "sources"]
    parks = pyogrio.read_dataframe(path, layer="parks")
    register = pyogrio.read_dataframe(path, layer="sources")
    assert SOURCE_COLUMNS <= set(parks.columns) and set(parks["source_id"]) == set(register["id"])
    assert pyogrio.read_info(path, layer="sources")["geometry_type"] is None


def test_the_register_downloads_as_a_table(client, tmp_path):
    path = tmp_path / "sources.gpkg"
    r = client.get("/export/data.gpkg?layer=sources")
    path.write_bytes(r.data)
    assert r.status_code == 200 and [tuple(x) for x in pyogrio.list_layers(path)] == [("sources", None)]
    got = pyogrio.read_dataframe(path)
    assert "yanshi-observation" in set(got["id"]) and "geometry" not in got
    rows = list(csv.DictReader(io.StringIO(client.get("/export/data.csv?layer=sources").data.decode("utf-8-sig"))))
    assert {r["id"] for r in rows} == set(got["id"]) and "crs" not in rows[0]
    doc = client.get("/export/data.geojson?layer=sources").get_json(force=True)
    assert all(f["geometry"] is None for f in doc["features"]) and "crs" not in doc
    assert client.get("/export/data.csv?layer=sources&status=planned").get_json()["field"] == "status"


def test_a_map_names_its_sources_by_title_not_file(client):
    r = client.get("/export/map.svg?corridor=luo-gong")
    footer = [t for t in texts(r) if t.startswith("来源 Sources")]
    assert footer and "紧密协作 打造产业新高地" in footer[0]
    everything = " ".join(texts(r))
    assert ".txt" not in everything and "文章 article" in everything


# -- hostile input (regressions): never a 500 --------------------------------------------------------
def _json_400(r, field: str) -> dict:
    assert r.status_code == 400 and r.mimetype == "application/json", (r.status_code, r.data[:300])
    doc = r.get_json()
    assert doc["field"] == field, doc
    assert "/work" not in doc["error"] and "/usr" not in doc["error"] and ".py" not in doc["error"]
    return doc


@pytest.mark.parametrize("lat, lon, z", [(34.6, 112.4, 3), (34.6, 112.4, 0), (34.6, 112.4, 6), (34.6, 112.4, 4.5),
                                         (85.05, 112.4, 0), (-85.05, 112.4, 0), (70.0, 112.4, 4),
                                         (34.6, 112.4 + 360, 9), (34.6, 112.4, 22)])
def test_extent_view_at_any_zoom_draws_the_drawable_part_of_the_view(client, lat, lon, z):
    """A low zoom's view box ran past the poles and round the world; projected into UTM 49N it gave NaN
    axis limits (a 500). It is clipped to what the UTM 49N map can draw."""
    r = client.get(f"/export/map.png?dpi=50&extent=view&lat={lat}&lon={lon}&z={z}")
    assert r.status_code == 200, r.get_json()
    assert Image.open(io.BytesIO(r.data)).size == (584, 413)
    assert float(r.headers["X-Map-Scale"].split(":")[1]) > 0


@pytest.mark.parametrize("query, field", [
    ("lat=84.9&lon=112.4&z=10", "lat"),  # beyond the drawable area's north edge
    ("lat=84.9&lon=112.4&z=3", "lat"),
    ("lat=-85&lon=112.4&z=3", "lat"),
    ("lat=34.6&lon=-70&z=10", "lon"),  # the other side of the world
    ("lat=nan&lon=112.4&z=9", "lat"),
    ("lat=86&lon=112.4&z=9", "lat"),
    ("lat=34.6&lon=inf&z=9", "lon"),
    ("lat=34.6&lon=112.4&z=-1", "z"),
    ("lat=34.6&lon=112.4&z=23", "z"),
    ("lat=34.6&lon=112.4", "z"),
    ("lon=112.4&z=9", "lat"),
])
def test_extent_view_off_the_map_or_malformed_is_a_400_naming_the_field(client, query, field):
    _json_400(client.get(f"/export/map.png?dpi=50&extent=view&{query}"), field)


@pytest.mark.parametrize("title", ["Budget $5 to $10", r"$\undefinedmacro$", "${{{{{{{{{{x}}}}}}}}}}$",
                                   "$" + "{" * 98 + "x" + "}" * 98 + "$"])
def test_titles_with_dollars_are_literal(client, title):
    """$…$ was mathtext: a 500 for an unknown macro, RecursionError for deep braces, silent garbling otherwise."""
    r = client.get("/export/map.svg", query_string={"title": title})
    assert r.status_code == 200 and title in texts(r)
    assert client.get("/export/map.png", query_string={"title": title, "dpi": 50}).status_code == 200
    assert client.get("/export/map.pdf", query_string={"title": title}).status_code == 200


def test_filters_with_dollars_are_literal(client):
    r = client.get("/export/map.svg", query_string={"q": r"$\undefinedmacro$", "status": "planned"})
    assert r.status_code == 200
    assert any(r"q=$\undefinedmacro$" in t and "status=planned" in t for t in texts(r))


@pytest.mark.parametrize("title", ["x" * 201, "a\x00b", "line\nbreak", "bell\x07", "esc\x1b[31m"])
def test_titles_too_long_or_with_control_characters_are_a_400(client, title):
    doc = _json_400(client.get("/export/map.svg", query_string={"title": title}), "title")
    assert "200" in doc["error"] or "control" in doc["error"]
    assert client.get("/export/map.svg", query_string={"title": "x" * 200}).status_code == 200


def test_the_name_filter_is_bounded_like_the_title(client):
    _json_400(client.get("/export/map.png", query_string={"q": "a\x00b"}), "q")
    _json_400(client.get("/export/map.png", query_string={"q": "x" * 201}), "q")


@pytest.mark.parametrize("query, field, limit", [
    ("size=A3-landscape&dpi=600", "dpi", "40"),
    ("size=A3-portrait&dpi=460", "dpi", "40"),
    ("size=8000x8000", "size", "40"),
    ("size=8001x1000", "size", "8000"),
    ("size=100x100", "size", "320"),
    ("size=99999999999999999999999999x1080", "size", "8000"),
    ("size=1920x1080&dpi=abc", "dpi", "600"),
    ("dpi=nan", "dpi", "600"),
    ("dpi=1e400", "dpi", "600"),
    ("dpi=72.5", "dpi", "whole"),  # the OpenAPI document says integer
])
def test_the_work_of_one_export_is_bounded(client, query, field, limit):
    doc = _json_400(client.get(f"/export/map.png?{query}"), field)
    assert limit in doc["error"]


def test_a3_at_300_dpi_still_works(client):
    r = client.get("/export/map.svg?size=A3-landscape&dpi=300")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"


def test_svg_is_always_an_attachment(client):
    """An SVG shown inline by the browser can run script: it is always downloaded."""
    for url in ("/export/map.svg", "/export/map.svg?download=1", "/export/map.svg?download=0"):
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["Content-Disposition"] == 'attachment; filename="luoyang-metro.svg"'
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/export/map.pdf").headers["Content-Disposition"].startswith("inline;")
    assert client.get("/export/map.pdf?download=1").headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("url, field", [
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=0", "qr"),
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=nan", "qr"),
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=abc", "qr"),
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=301", "qr"),
    ("/export/map.png?qlon=nan&qlat=34.62&qr=5", "qlon"),
    ("/export/map.png?qlon=200&qlat=34.62&qr=5", "qlon"),
    ("/export/map.png?qlon=112.45&qlat=abc&qr=5", "qlat"),
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=5&qlayer=rivers", "qlayer"),
    ("/export/map.png?qlon=112.45&qlat=34.62&qr=5&crs=foo", "crs"),
    ("/export/data.csv?qlon=112.45&qlat=34.62&qr=-1", "qr"),
    ("/export/data.csv?qlon=112.45&qlat=34.62&qr=5&qlayer=,", "qlayer"),
    ("/export/map.png?extent=sideways", "extent"),
    ("/export/map.png?corridor=luo-ru&extent=sideways", "extent"),
    ("/export/map.png?qr=301", "qr"),  # a query parameter without the query was ignored, whatever its value
    ("/export/map.png?qr=5", "qlon"),
    ("/export/map.png?qlon=999", "qr"),
    ("/export/data.csv?layer=parks&qlayer=parks", "qr"),
    ("/export/map.png?download=maybe", "download"),
    ("/export/map.png?crs=AAA", "crs"),
    ("/export/map.png?crs=gcj02", "crs"),  # no position it could be the system of
    ("/export/map.png?qfeature=luo-mian&qr=5&crs=gcj02", "crs"),
    ("/export/data.csv?layer=parks&crs=bd09", "crs"),
    ("/export/data.csv?layer=parks&download=TRUE", "download"),
    ("/export/map.png?qlon=112.45&qr=5", "qlat"),
    ("/export/data.csv?qlat=34.62&qr=5", "qlon"),
    ("/export/map.png?layers=districts,rivers", "layers"),
])
def test_query_parameters_are_named_as_the_export_takes_them(client, url, field):
    """The buffer query's errors named the engine's arguments (radius_km, lon, layer), not qr, qlon, qlayer."""
    _json_400(client.get(url + "&dpi=50"), field)


def test_an_unknown_query_feature_is_a_404_naming_qfeature(client):
    r = client.get("/export/map.png?qfeature=nope&qr=5")
    assert r.status_code == 404 and r.get_json()["field"] == "qfeature"


@pytest.mark.parametrize("url", [
    "/export/map.png?dpi=50&industry=battery-materials&within_km=1&lon=112.45&lat=34.62",  # co-located: one point
    "/export/map.png?dpi=50&industry=battery-materials&within_km=0.001&lon=112&lat=34",  # nothing left
    "/export/map.svg?industry=battery-materials&within_km=0.001&lon=112&lat=34",
    "/export/map.png?dpi=50&qlon=112.45&qlat=34.62&qr=0.000001",
    "/export/map.png?dpi=50&layers=",
    "/export/map.png?dpi=50&layers=,,,",
    "/export/map.png?size=8000x320",
    "/export/map.png?size=320x8000",
])
def test_degenerate_but_valid_requests_draw_a_map(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.get_json()


def test_a_repeated_map_is_drawn_once_per_data_version(store_path):
    from webmap import create_app
    from webmap.data import live_data

    app = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)})
    client = app.test_client()
    url = "/export/map.png?dpi=50&corridor=luo-mian&title=cache"
    first = client.get(url)
    with app.app_context():
        memo = live_data().current().memo
    hits = memo.hits
    again = client.get(url)
    assert first.status_code == again.status_code == 200 and first.data == again.data
    assert memo.hits == hits + 1


def test_a_corridor_download_matches_the_cli(client, store_path, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    web = client.get("/export/data.geojson?corridor=luo-mian")
    assert web.status_code == 200
    out = tmp_path / "luo-mian.geojson"
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "run.py", "export", "--out", str(out), "--corridor", "luo-mian",
                          "--store", str(store_path)], cwd=root, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == web.data


def test_exports_and_features_follow_the_time_view(client):
    """The map's time slider writes as_of into the permalink: downloads and popups answer as of that day."""
    now = list(csv.DictReader(io.StringIO(client.get("/export/data.csv?layer=projects").data.decode("utf-8-sig"))))
    then = list(csv.DictReader(io.StringIO(
        client.get("/export/data.csv?layer=projects&as_of=2024-01-01").data.decode("utf-8-sig"))))
    api = client.get("/api/layers/projects?as_of=2024-01-01&format=json").get_json()["features"]
    assert [r["id"] for r in then] == [f["id"] for f in api] and len(then) < len(now)
    assert client.get("/export/map.png?as_of=2024-01-01&dpi=72").status_code == 200
    assert client.get("/export/map.png?as_of=yesterday").get_json()["field"] == "as_of"
    gone = client.get("/api/features/zhongzhou-shidai-phase-1?as_of=2021-07-23")
    assert gone.status_code == 404  # reported in 2024: not in the ledger yet on that day


# -- exports follow the view (bbox, X-Map-Extent), the stylesheet of geo.style, the export dialog ----------------
#: 伊滨区 as the web map shows it at lon 112.64, lat 34.615, z 12 (WGS84 west, south, east, north).
YIBIN = "112.526,34.52,112.754,34.71"


def extent_of(resp) -> tuple[float, ...]:
    return tuple(float(v) for v in resp.headers["X-Map-Extent"].split(","))


def test_bbox_is_the_view_and_the_map_says_what_it_shows(client):
    """The map page sends its view as bbox (Leaflet's getBounds): the map shows it, not the metro area, and says so
    in X-Map-Extent and in the PNG's own text chunks."""
    view = tuple(float(v) for v in YIBIN.split(","))
    permalink = "lat=34.615&lon=112.64&z=12&layers=belts,corridors,districts,institutions,parks,projects"
    r = client.get(f"/export/map.png?{permalink}&dpi=50&bbox={YIBIN}")
    assert r.status_code == 200
    west, south, east, north = extent_of(r)
    assert west <= view[0] and south <= view[1] and east >= view[2] and north >= view[3]
    assert east - west < 2 * (view[2] - view[0]) and north - south < 2 * (view[3] - view[1])
    img = Image.open(io.BytesIO(r.data))
    assert img.text["Extent"].startswith(r.headers["X-Map-Extent"]) and "EPSG:32649" in img.text["CRS"]
    # the same with extent=view (bbox wins over lat/lon/z); the permalink alone still draws the whole area
    same = client.get(f"/export/map.png?{permalink}&dpi=50&extent=view&bbox={YIBIN}")
    assert extent_of(same) == extent_of(r)
    whole = client.get(f"/export/map.png?{permalink}&dpi=50")
    assert extent_of(whole)[2] - extent_of(whole)[0] > 5 * (east - west)
    svg = client.get(f"/export/map.svg?{permalink}&bbox={YIBIN}")
    assert any(t.startswith("视图内 in view: 园区 ") for t in texts(svg))


def test_the_view_frames_every_kind_of_map(client):
    for query in ("corridor=luo-gong", "qlon=112.45&qlat=34.62&qr=30", "industry=battery-materials&top=5"):
        r = client.get(f"/export/map.png?{query}&dpi=50&extent=view&bbox={YIBIN}")
        assert r.status_code == 200, query
        west, south, east, north = extent_of(r)
        assert west <= 112.526 and east >= 112.754 and east - west < 0.5, query
        assert south <= 34.52 and north >= 34.71 and north - south < 0.4, query
        auto = client.get(f"/export/map.png?{query}&dpi=50")
        assert extent_of(auto) != extent_of(r), query


def test_the_stylesheet_is_geo_styles_colours(client):
    from geo import style

    r = client.get("/app/style.css")
    assert r.status_code == 200 and r.mimetype == "text/css"
    css = r.get_data(as_text=True)
    for status, color in style.STATUS_COLORS.items():
        assert f"--cm-status-{status}: {color};" in css
    assert f"--cm-query: {style.QUERY_COLOR};" in css and f"--cm-corridor-luo-gong: {style.CORRIDOR_COLORS['luo-gong']};" in css
    assert "<" not in css and "url(" not in css
    again = client.get("/app/style.css", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("url, page", [("/", "map"), ("/corridors/luo-gong", "corridor"),
                                       ("/site?industry=battery-materials&top=5", "site"),
                                       ("/corridors/luo-gong/map", "map")])
def test_the_map_corridor_and_site_pages_have_the_export_dialog(client, url, page):
    html = client.get(url).get_data(as_text=True)
    start = html.index("<dialog id=\"ex-dialog\"")
    dialog = html[start:html.index("</dialog>", start)]
    assert f'data-page="{page}"' in dialog
    for fmt in ("png", "svg", "pdf"):
        assert f'name="format" value="{fmt}"' in dialog
    for size in ("A4", "A3"):
        assert f'name="paper" value="{size}"' in dialog
    assert 'name="orientation" value="portrait"' in dialog and 'name="extent" value="view"' in dialog
    assert '<script src="/static/app/export.js"></script>' in html
    assert 'href="/app/style.css"' in html and 'href="/static/app/export.css"' in html
    assert "<script" not in dialog and not re.search(r"\son[a-z]+\s*=", dialog)  # no inline script or handler


def test_the_dialog_escapes_the_site_query(client):
    html = client.get('/site?industry=battery-materials&top=5&x="><script>alert(1)</script>').get_data(as_text=True)
    start = html.index("<dialog id=\"ex-dialog\"")
    dialog = html[start:html.index("</dialog>", start)]
    assert 'data-query="industry=battery-materials&amp;top=5&amp;x=' in dialog and "<script" not in dialog
