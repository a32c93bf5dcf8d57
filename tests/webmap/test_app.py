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
    assert "出处 Source" in html and "Neighbours" in html
    assert client.get("/projects/youbo-battery-foil").status_code == 200
    assert client.get("/institutions/zhongzhou-shidai").status_code == 200
    assert client.get("/projects/nope").status_code == 404


def test_tiles_that_would_not_line_up_are_refused(store_path):
    from geo.settings import SettingsError

    with pytest.raises(SettingsError, match="TILES_CRS=gcj02"):
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


# -- sources: title, kind and date, never a file name --------------------------------------------------
ARTICLE_FILES = ("000_d5982d250ddd8784.txt", "004_0fea41262f4ebcc4.txt")
YOUBO_ITEM = "【快讯】再创产业发展新辉煌——洛阳市产业发展观摩看偃师"


def provenance(html: str) -> str:
    """The text of the page's provenance line (出处 Source: …)."""
    found = re.search(r'<p class="meta provenance">(.*?)</p>', html, re.DOTALL)
    assert found, "no provenance line"
    return re.sub(r"<[^>]+>", "", found.group(1))


def test_a_related_item_is_shown_by_its_title_without_a_date(client):
    html = client.get("/projects/youbo-battery-foil").get_data(as_text=True)
    line = provenance(html)
    assert YOUBO_ITEM in line and "相关条目 related item" in line and "无日期 undated" in line
    assert "年产15万吨电池箔项目" in line  # the excerpt
    assert not re.search(r"\d{4}-\d{2}-\d{2}", line)  # a related item has no date
    assert not any(f in html for f in ARTICLE_FILES)


def test_an_article_is_shown_by_title_publisher_kind_and_date(client):
    line = provenance(client.get("/projects/zhongzhou-shidai-phase-1").get_data(as_text=True))
    assert "向新提质洛阳聚势强链打造新能源产业园" in line and "洛阳产业信息" in line
    assert "文章 article" in line and "2024-09-27" in line
    corridor = provenance(client.get("/corridors/luo-ji-jiao").get_data(as_text=True))
    assert "紧密协作 打造产业新高地" in corridor and "文章 article" in corridor and "2021-07-23" in corridor


def test_no_page_labels_a_source_by_its_file_name(client):
    urls = ["/", "/data", "/corridors", "/corridors/luo-mian", "/site", "/parks/luoyang-new-energy-park",
            "/projects/youbo-battery-foil", "/institutions/zhongzhou-shidai"]
    for url in urls:
        html = client.get(url).get_data(as_text=True)
        assert not any(f in html for f in ARTICLE_FILES), url


def test_the_data_page_shows_sources_and_the_register(client):
    html = client.get("/data").get_data(as_text=True)
    assert '<h2 id="sources">' in html and "无几何 no geometry" in html
    assert YOUBO_ITEM in html and "相关条目 related item" in html and "洛阳产业信息" in html
    assert html.count('class="source"') >= 20  # every record of the point layers and corridors names its source
    assert client.get("/api/layers/sources").status_code == 200  # the page's GeoJSON link for the register


def test_the_map_panel_names_the_articles(client):
    html = client.get("/").get_data(as_text=True)
    panel = re.search(r'<p class="cm-meta" id="cm-sources">(.*?)</p>', html, re.DOTALL).group(1)
    assert "向新提质洛阳聚势强链打造新能源产业园" in panel and "2021-07-23" in panel and "相关条目" in panel


def test_qualified_figures_read_with_their_qualifier(client):
    html = client.get("/parks/zhongzhou-shidai-base").get_data(as_text=True)
    assert "近 nearly 20000" in html and "近 nearly 2000" in html
    assert "jobs_planned_qualifier" not in html
    project = client.get("/projects/zhongzhou-shidai-phase-1").get_data(as_text=True)
    assert "约 about 140" in project and "不到 less than 100" in project


def test_feature_pages_give_notes_in_both_languages(client):
    html = client.get("/parks/jianxi-mianchi-enclave-park").get_data(as_text=True)
    assert "涧西区（洛阳，410305）" in html and "partner_district_codes lists both partners" in html


@pytest.mark.parametrize("url, code", [("/parks/no-such-park", 404), ("/corridors/nope", 404),
                                       ("/projects/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404)])
def test_a_browser_gets_an_html_error_page(client, url, code):
    html = client.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html.status_code == code and html.mimetype == "text/html"
    text = html.get_data(as_text=True)
    assert "未找到" in text and "Not found" in text and "<script>alert" not in text
    assert "/work/" not in text and "Traceback" not in text
    # scripts (no Accept header, or asking for JSON) and the API keep the JSON error
    assert client.get(url).is_json and client.get(url, headers={"Accept": "application/json"}).is_json
    api = client.get("/api/features/no-such-park", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.is_json
