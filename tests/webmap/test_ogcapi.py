"""OGC API - Features under /ogcapi, on the GeoPackage and on PostGIS: landing, conformance, collections,
queryables, items (paging, limit, bbox, crs, datetime, filters), errors, HTML pages, same answers on both."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pyproj
import pytest
import shapely

from geo import ogcapi
from geo.build import build_store
from geo.ledger.changes import CHINA
from geo.ledger.edits import delete_record, edit_record
from geo.dataset import LiveDataset
from geo.schema import STATUSES
from tests.conftest import set_name_en
from webmap import create_app

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
COLLECTIONS = ["parks", "projects", "corridors", "institutions", "districts"]
PARK = "luoyang-new-energy-park"
#: A box over central Luoyang: (west, south, east, north), CRS84.
BOX = (112.3, 34.55, 112.7, 34.75)


@pytest.fixture(scope="module")
def client(served_store):
    """A client of the app over the built store: every test here runs on the GeoPackage and on PostGIS."""
    return create_app({"TESTING": True, "CORRIDORS_STORE": served_store}).test_client()


@pytest.fixture(scope="module")
def data(served_store):
    """The store's snapshot, read with the library (what the answers are checked against)."""
    return LiveDataset(served_store).current()


def _json(client, url, status=200, **kwargs):
    resp = client.get(url, **kwargs)
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:400])
    return resp.get_json(force=True)


def _rels(doc):
    return {link["rel"]: link for link in doc["links"]}


def _path(href):
    """A link's path and query, for the test client."""
    parts = urlsplit(href)
    return parts.path + ("?" + parts.query if parts.query else "")


def _key(frame):
    return "id" if "id" in frame.columns else "code"


def _ids(doc):
    return [f["id"] for f in doc["features"]]


def _all_ids(client, name, **params):
    query = "&".join(f"{k}={v}" for k, v in {"limit": 10000, **params}.items())
    doc = _json(client, f"/ogcapi/collections/{name}/items?{query}")
    assert doc["numberMatched"] == doc["numberReturned"]
    return _ids(doc)


# -- landing, conformance, OpenAPI -----------------------------------------------------------------------

def test_landing_links(client):
    resp = client.get("/ogcapi")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["X-Data-Version"]
    rels = _rels(resp.get_json())
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["service-desc"]["href"].endswith("/ogcapi/api")
    assert rels["data"]["href"].startswith("http://localhost/ogcapi/collections")
    api = client.get(_path(rels["service-desc"]["href"]))
    assert api.status_code == 200 and api.mimetype == "application/vnd.oai.openapi+json"
    doc = api.get_json(force=True)
    assert doc["openapi"].startswith("3.0.")
    for path in ("/", "/conformance", "/collections", "/collections/{collectionId}",
                 "/collections/{collectionId}/queryables", "/collections/{collectionId}/items/{featureId}",
                 "/collections/parks/items"):
        assert path in doc["paths"], path
    names = {p.get("name") for p in doc["paths"]["/collections/parks/items"]["get"]["parameters"]}
    assert {"status", "corridor_id", "district_code"} <= names
    assert client.get(_path(rels["service-doc"]["href"])).mimetype == "text/html"
    assert client.get(_path(rels["conformance"]["href"])).status_code == 200


def test_conformance(client):
    classes = _json(client, "/ogcapi/conformance")["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/html", "ogcapi-features-1/1.0/conf/oas30",
                 "ogcapi-features-2/1.0/conf/crs"):
        assert f"http://www.opengis.net/spec/{part}" in classes


def test_content_negotiation(client):
    assert client.get("/ogcapi/collections", headers={"Accept": "text/html"}).mimetype == "text/html"
    assert client.get("/ogcapi/collections", headers={"Accept": "application/json"}).mimetype == "application/json"
    assert client.get("/ogcapi/collections/parks/items",
                      headers={"Accept": "application/geo+json"}).mimetype == "application/geo+json"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/ogcapi/collections/parks/items", headers={"Accept": browser}).mimetype == "text/html"
    assert client.get("/ogcapi/collections/parks/items?f=json",
                      headers={"Accept": browser}).mimetype == "application/geo+json"
    assert client.get("/ogcapi/collections/parks/items").mimetype == "application/geo+json"
    assert _json(client, "/ogcapi?f=xml", 400)["code"] == "InvalidParameterValue"


# -- collections and queryables --------------------------------------------------------------------------

def test_collections_and_extents(client, data):
    doc = _json(client, "/ogcapi/collections")
    assert [c["id"] for c in doc["collections"]] == COLLECTIONS
    for c in doc["collections"]:
        frame = data.layers[c["id"]]
        assert c["itemType"] == "feature" and c["storageCrs"] == CRS84
        assert set(c["crs"]) == {CRS84, EPSG + "4326", EPSG + "4490", EPSG + "3857", EPSG + "32649"}
        assert c["title"] and c["description"]
        assert c["extent"]["spatial"]["bbox"][0] == pytest.approx(list(frame.total_bounds), abs=1e-6)
        rels = {link["rel"] for link in c["links"]}
        assert {"self", "alternate", "items"} <= rels
        one = _json(client, f"/ogcapi/collections/{c['id']}")
        assert one["extent"] == c["extent"]
    by_id = {c["id"]: c for c in doc["collections"]}
    start, end = by_id["projects"]["extent"]["temporal"]["interval"][0]
    assert start == "2021-07-22T16:00:00Z"  # the ledger's first day: the 2021 plan, China time
    assert end is None  # the records are in the store now: open-ended
    assert "temporal" not in by_id["districts"]["extent"]  # districts carry no date


def test_queryables(client, data):
    parks = _json(client, "/ogcapi/collections/parks/queryables")
    assert parks["type"] == "object" and parks["$id"].endswith("/collections/parks/queryables")
    props = parks["properties"]
    assert props["status"]["enum"] == list(STATUSES)
    assert {"corridor_id", "district_code", "kind", "id"} <= set(props)
    assert "name_zh" not in props and "fund_cny_100m_qualifier" not in props
    projects = _json(client, "/ogcapi/collections/projects/queryables")["properties"]
    assert {"status", "corridor_id", "chain_link", "park_id", "industry", "district_code"} <= set(projects)
    districts = _json(client, "/ogcapi/collections/districts/queryables")["properties"]
    assert _key(data.layers["districts"]) in districts and "city_code" in districts
    resp = client.get("/ogcapi/collections/parks/queryables")
    assert resp.mimetype == "application/schema+json"


# -- items -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", COLLECTIONS)
def test_paging_through_every_collection(client, data, name):
    frame = data.layers[name]
    expected = [str(v) for v in frame[_key(frame)]]
    url, seen, pages = f"/ogcapi/collections/{name}/items?limit=3", [], 0
    while url:
        doc = _json(client, url)
        assert doc["type"] == "FeatureCollection" and doc["numberMatched"] == len(expected)
        assert doc["numberReturned"] == len(doc["features"]) <= 3
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["timeStamp"])
        rels = _rels(doc)
        assert {"self", "alternate", "collection"} <= set(rels)
        assert ("prev" in rels) == (pages > 0)
        seen += _ids(doc)
        pages += 1
        url = _path(rels["next"]["href"]) if "next" in rels else None
    assert seen == expected
    assert pages == -(-len(expected) // 3)


def test_prev_link_and_offset(client):
    doc = _json(client, "/ogcapi/collections/parks/items?limit=5&offset=7")
    rels = _rels(doc)
    assert parse_qs(urlsplit(rels["prev"]["href"]).query)["offset"] == ["2"]
    assert parse_qs(urlsplit(rels["next"]["href"]).query)["offset"] == ["12"]
    assert _ids(doc) == _all_ids(client, "parks")[7:12]
    assert _json(client, "/ogcapi/collections/parks/items?offset=1000")["numberReturned"] == 0


def test_limit_is_clamped_to_10000(client, data):
    doc = _json(client, "/ogcapi/collections/projects/items?limit=50000")
    assert doc["numberReturned"] == len(data.layers["projects"])
    prep = ogcapi.prepare(data, "projects")
    assert ogcapi.items_query(prep, {"limit": ["50000"]}).limit == ogcapi.MAX_LIMIT == 10_000
    assert ogcapi.items_query(prep, {}).limit == ogcapi.DEFAULT_LIMIT == 10
    assert _json(client, "/ogcapi/collections/projects/items")["numberReturned"] == 10
    for bad in ("0", "-1", "ten", "1.5"):
        assert _json(client, f"/ogcapi/collections/projects/items?limit={bad}", 400)["code"] == \
            "InvalidParameterValue"
    assert _json(client, "/ogcapi/collections/projects/items?offset=-1", 400)["code"] == "InvalidParameterValue"


def _expected_in_box(frame, box):
    geom = shapely.box(*box)
    return [str(i) for i, g in zip(frame[_key(frame)], frame.geometry) if g is not None and g.intersects(geom)]


@pytest.mark.parametrize("name", ["parks", "projects", "districts", "corridors"])
def test_bbox_in_crs84_and_in_epsg4326(client, data, name):
    w, s, e, n = BOX
    expected = _expected_in_box(data.layers[name], BOX)
    assert expected, name
    assert _all_ids(client, name, bbox=f"{w},{s},{e},{n}") == expected
    assert _all_ids(client, name, bbox=f"{w},{s},{e},{n}", **{"bbox-crs": CRS84}) == expected
    assert _all_ids(client, name, bbox=f"{s},{w},{n},{e}", **{"bbox-crs": EPSG + "4326"}) == expected
    assert _all_ids(client, name, bbox=f"{s},{w},{n},{e}", **{"bbox-crs": EPSG + "4490"}) == expected
    assert _json(client, f"/ogcapi/collections/{name}/items?bbox={w},{s},0,{e},{n},100")["numberMatched"] == \
        len(expected)


def test_bbox_in_utm(client, data):
    to_utm = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:32649", always_xy=True)
    x0, y0 = to_utm.transform(112.2, 34.4)
    x1, y1 = to_utm.transform(112.9, 34.9)
    utm_box = shapely.box(x0, y0, x1, y1)
    frame = data.layers["parks"]
    pts = [shapely.Point(to_utm.transform(g.x, g.y)) for g in frame.geometry]
    expected = [str(i) for i, p in zip(frame["id"], pts) if utm_box.intersects(p)]
    got = _all_ids(client, "parks", bbox=f"{x0},{y0},{x1},{y1}", **{"bbox-crs": EPSG + "32649"})
    assert got == expected and got


def test_bad_bbox(client):
    for bad in ("1,2,3", "a,b,c,d", "112.7,34.5,112.3,34.8", "200,0,210,10", "1,2,3,4,5"):
        assert _json(client, f"/ogcapi/collections/parks/items?bbox={bad}", 400)["code"] == "InvalidParameterValue"
    assert _json(client, "/ogcapi/collections/parks/items?bbox=1,2,3,4&bbox-crs=EPSG:2000", 400)
    assert _json(client, "/ogcapi/collections/parks/items?bbox-crs=" + EPSG + "4326", 400)


def test_output_crs(client, data):
    base = _json(client, "/ogcapi/collections/parks/items?limit=100")
    resp = client.get(f"/ogcapi/collections/parks/items?limit=100&crs={EPSG}4326")
    assert resp.headers["Content-Crs"] == f"<{EPSG}4326>"
    assert client.get("/ogcapi/collections/parks/items").headers["Content-Crs"] == f"<{CRS84}>"
    latlon = resp.get_json(force=True)
    assert pyproj.CRS("EPSG:4326").axis_info[0].direction == "north"  # EPSG:4326 is lat/lon
    for a, b in zip(base["features"], latlon["features"]):
        assert a["id"] == b["id"]
        assert b["geometry"]["coordinates"] == pytest.approx(a["geometry"]["coordinates"][::-1], abs=1e-9)
    cgcs = _json(client, f"/ogcapi/collections/parks/items?limit=100&crs={EPSG}4490")
    assert cgcs["features"][0]["geometry"]["coordinates"] == pytest.approx(
        base["features"][0]["geometry"]["coordinates"][::-1], abs=1e-6)
    utm = client.get(f"/ogcapi/collections/parks/items?limit=100&crs={EPSG}32649")
    assert utm.headers["Content-Crs"] == f"<{EPSG}32649>"
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32649", always_xy=True)
    assert [a.direction for a in pyproj.CRS("EPSG:32649").axis_info] == ["east", "north"]
    for a, b in zip(base["features"], utm.get_json(force=True)["features"]):
        lon, lat = a["geometry"]["coordinates"]
        assert b["geometry"]["coordinates"] == pytest.approx(list(to_utm.transform(lon, lat)), abs=0.002)
        assert 100_000 < b["geometry"]["coordinates"][0] < 900_000  # metres, not degrees
    merc = _json(client, f"/ogcapi/collections/corridors/items?crs={EPSG}3857")
    to_merc = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    first = data.layers["corridors"].geometry.iloc[0].coords[0]
    assert merc["features"][0]["geometry"]["coordinates"][0] == pytest.approx(list(to_merc.transform(*first)),
                                                                             abs=0.002)
    one = client.get(f"/ogcapi/collections/parks/items/{PARK}?crs={EPSG}4326")
    assert one.headers["Content-Crs"] == f"<{EPSG}4326>"
    x, y = data.layers["parks"].set_index("id").geometry[PARK].coords[0]
    assert one.get_json(force=True)["geometry"]["coordinates"] == pytest.approx([y, x])
    assert _json(client, "/ogcapi/collections/parks/items?crs=EPSG:9999", 400)["code"] == "InvalidParameterValue"
    assert _json(client, "/ogcapi/collections/parks/items?crs=EPSG:4326")["features"]  # a short form too


def _as_of_ids(client, name, day):
    doc = _json(client, f"/api/layers/{name}?as_of={day}")
    return sorted(str(f["properties"]["id"]) for f in doc["features"])


@pytest.mark.parametrize("name", ["projects", "parks", "corridors", "institutions"])
def test_datetime_instant_is_the_ledgers_as_of(client, name):
    for day in ("2021-07-22", "2021-07-23", "2024-05-15", "2024-09-26", "2024-09-27", "2026-01-01"):
        assert sorted(_all_ids(client, name, datetime=day)) == _as_of_ids(client, name, day), day


def test_datetime_filters(client, data):
    projects = data.layers["projects"]
    article = _all_ids(client, "projects", datetime="2024-09-27")
    assert set(article) >= set(projects.loc[projects["source_published_date"] == "2024-09-27", "id"])
    assert _all_ids(client, "projects", datetime="2024-09-27T00:00:00Z") == article  # 08:00 that day in China
    assert _all_ids(client, "projects", datetime="2024-09-26T17:00:00Z") == article  # 01:00 on the 27th
    assert _all_ids(client, "projects", datetime="2024-09-26T15:59:59Z") != article  # 23:59 on the 26th
    assert _all_ids(client, "projects", datetime="../2020-12-31") == []
    plan = set(projects.loc[projects["source_published_date"] == "2021-07-23", "id"])
    assert set(_all_ids(client, "projects", datetime="../2021-07-23")) == plan
    # nothing is deleted in the seed, so an interval is what stood at its end
    assert _all_ids(client, "projects", datetime="2021-07-23/2024-09-26") == \
        _all_ids(client, "projects", datetime="2024-09-26")
    assert _all_ids(client, "projects", datetime="2024-01-01/..") == [str(i) for i in projects["id"]]
    assert _all_ids(client, "projects", datetime="../..") == [str(i) for i in projects["id"]]
    # districts are outside the ledger and have no date: only the fully open interval matches them
    assert _all_ids(client, "districts", datetime="2024-09-27") == []
    assert _all_ids(client, "districts", datetime="2024-01-01/..") == []
    assert len(_all_ids(client, "districts", datetime="../..")) == len(data.layers["districts"])
    for bad in ("yesterday", "2024-13-01", "2024-09-27/2024-01-01", "a/b/c", ".."):
        assert _json(client, f"/ogcapi/collections/projects/items?datetime={bad}", 400)["code"] == \
            "InvalidParameterValue"


def test_datetime_follows_edits_and_deletions(built):
    """An edit or deletion today: the days before still show the record as it was, like ``as_of``."""
    project = "zhongzhou-shidai-phase-1"
    edit_record(built, "parks", PARK, properties={"name_en": "Renamed park"}, expected_etag=None, user="editor1")
    delete_record(built, "projects", project, expected_etag=None, user="editor1")
    client = create_app({"TESTING": True, "CORRIDORS_STORE": str(getattr(built, "url", None) or built.path)}
                        ).test_client()
    today = datetime.now(CHINA).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    for day in (yesterday, today.isoformat()):
        assert sorted(_all_ids(client, "projects", datetime=day)) == _as_of_ids(client, "projects", day)
    assert project in _all_ids(client, "projects", datetime=yesterday)
    assert project not in _all_ids(client, "projects", datetime=today.isoformat())
    assert project not in _all_ids(client, "projects")
    kept = _json(client, f"/ogcapi/collections/projects/items?datetime={yesterday}/..&limit=10000")
    assert project in _ids(kept)  # it existed in the interval: shown as it was before its deletion
    def name(day):
        doc = _json(client, f"/ogcapi/collections/parks/items?datetime={day}&limit=10000")
        return next(f["properties"]["name_en"] for f in doc["features"] if f["id"] == PARK)
    assert name(today.isoformat()) == "Renamed park" != name(yesterday)
    assert name(f"../{yesterday}") == name(yesterday)


def test_equality_filters(client, data):
    parks = data.layers["parks"]
    for status in STATUSES:
        assert _all_ids(client, "parks", status=status) == list(parks.loc[parks["status"] == status, "id"])
    both = _all_ids(client, "parks", status="planned,operating")
    assert both == list(parks.loc[parks["status"].isin(["planned", "operating"]), "id"])
    projects = data.layers["projects"]
    got = _all_ids(client, "projects", corridor_id="luo-mian", status="under_construction")
    assert got == list(projects.loc[(projects["corridor_id"] == "luo-mian")
                                    & (projects["status"] == "under_construction"), "id"])
    assert _all_ids(client, "projects", chain_link="cell") == list(projects.loc[projects["chain_link"] == "cell", "id"])
    doc = _json(client, "/ogcapi/collections/parks/items?status=planned&limit=1")
    assert doc["numberMatched"] == int((parks["status"] == "planned").sum())
    assert "status=planned" in _rels(doc)["self"]["href"]
    if doc["numberMatched"] > 1:
        assert "status=planned" in _rels(doc)["next"]["href"]
    assert _json(client, "/ogcapi/collections/parks/items?status=bogus", 400)["code"] == "InvalidParameterValue"
    assert _all_ids(client, "parks", corridor_id="no-such-corridor") == []


# -- one feature, errors ---------------------------------------------------------------------------------

def test_one_feature(client, data):
    doc = _json(client, f"/ogcapi/collections/parks/items/{PARK}")
    assert doc["type"] == "Feature" and doc["id"] == PARK
    assert doc["properties"]["name_en"] == data.layers["parks"].set_index("id").at[PARK, "name_en"]
    rels = _rels(doc)
    assert rels["collection"]["href"].endswith("/ogcapi/collections/parks?f=json")
    assert rels["related"]["href"] == f"http://localhost/parks/{PARK}"
    assert rels["via"]["href"] == "http://localhost/data#sources"
    assert doc["properties"]["source_id"] in rels["via"]["title"]
    assert client.get(_path(rels["related"]["href"])).status_code == 200
    district = str(data.layers["districts"][_key(data.layers["districts"])].iloc[0])
    d = _json(client, f"/ogcapi/collections/districts/items/{district}")
    assert d["id"] == district and d["geometry"]["type"] in ("Polygon", "MultiPolygon")
    items = _json(client, "/ogcapi/collections/parks/items?limit=1")
    assert _rels(items["features"][0])["self"]["href"].endswith(f"/items/{items['features'][0]['id']}?f=json")


def test_errors_are_ogc_exceptions(client):
    doc = _json(client, "/ogcapi/collections/parks/items?foo=1", 400)
    assert doc["code"] == "InvalidParameterValue" and "foo" in doc["description"]
    assert set(doc) == {"code", "description"}
    assert _json(client, "/ogcapi/collections/nope", 404)["code"] == "NotFound"
    assert _json(client, "/ogcapi/collections/nope/items", 404)["code"] == "NotFound"
    assert _json(client, "/ogcapi/collections/nope/queryables", 404)["code"] == "NotFound"
    assert _json(client, "/ogcapi/collections/parks/items/nope", 404)["code"] == "NotFound"
    assert _json(client, "/ogcapi/collections/sources", 404)["code"] == "NotFound"
    assert _json(client, f"/ogcapi/collections/parks/items/{PARK}?limit=3", 400)["code"] == "InvalidParameterValue"
    assert _json(client, "/ogcapi/collections?bbox=1,2,3,4", 400)["code"] == "InvalidParameterValue"
    assert _json(client, "/ogcapi/collections/parks/items?limit=1&limit=2", 400)["code"] == "InvalidParameterValue"


# -- HTML ------------------------------------------------------------------------------------------------

class _Assets(HTMLParser):
    """Every URL a page loads or links, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.inline = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("href"):
            self.loads.append(a["href"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "script" and not a.get("src"):
            self._in_script = True

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline += 1

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


HTML_PAGES = ("/ogcapi?f=html", "/ogcapi/conformance?f=html", "/ogcapi/api?f=html", "/ogcapi/collections?f=html",
              "/ogcapi/collections/projects?f=html", "/ogcapi/collections/projects/queryables?f=html",
              "/ogcapi/collections/projects/items?f=html&limit=3&offset=3",
              f"/ogcapi/collections/parks/items/{PARK}?f=html", "/ogcapi/collections/corridors/items/luo-mian?f=html")


@pytest.mark.parametrize("url", HTML_PAGES)
def test_html_pages_load_only_the_apps_own_assets(client, url):
    resp = client.get(url)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    page = _Assets()
    page.feed(html)
    assert page.inline == 0
    for src in page.loads:
        assert src.startswith("/static/"), src
    for href in page.links:
        assert not href.startswith(("http://", "https://", "//")) or href.startswith("http://localhost/"), href
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    if "/items/" in url:
        assert "/static/vendor/leaflet/leaflet.js" in page.loads and "/static/app/ogcapi.js" in page.loads
        assert 'id="ogc-map"' in html and "data-geometry=" in html
        assert client.get("/static/app/ogcapi.js").status_code == 200


def test_html_items_page_links_pages(client):
    html = client.get("/ogcapi/collections/projects/items?f=html&limit=3&offset=3").get_data(as_text=True)
    assert 'rel="next"' in html and 'rel="prev"' in html and "f=html" in html
    assert "items/youbo-battery-foil?f=html" in html or "?f=html" in html


def test_html_values_are_escaped_and_edits_show_at_once(tmp_path, sources_copy, store_path):
    out = tmp_path / "x.gpkg"
    shutil.copy(store_path, out)
    client = create_app({"TESTING": True, "CORRIDORS_STORE": str(out)}).test_client()
    before = client.get(f"/ogcapi/collections/parks/items/{PARK}")
    set_name_en(sources_copy, "parks", PARK, "<script>alert(1)</script>")
    build_store(out, sources_dir=sources_copy)
    after = client.get(f"/ogcapi/collections/parks/items/{PARK}")
    assert after.get_json(force=True)["properties"]["name_en"] == "<script>alert(1)</script>"
    assert after.headers["X-Data-Version"] != before.headers["X-Data-Version"]
    for url in (f"/ogcapi/collections/parks/items/{PARK}?f=html", "/ogcapi/collections/parks/items?f=html&limit=50"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_map_panel_names_the_ogcapi_url(client):
    html = client.get("/").get_data(as_text=True)
    assert "Open in QGIS" in html and "http://localhost/ogcapi" in html


# -- both stores give the same answers --------------------------------------------------------------------

SAME_ANSWERS = (
    "/ogcapi/collections",
    "/ogcapi/collections/projects/queryables",
    "/ogcapi/collections/parks/items?limit=7&offset=3",
    f"/ogcapi/collections/projects/items?bbox={BOX[1]},{BOX[0]},{BOX[3]},{BOX[2]}&bbox-crs={EPSG}4326",
    f"/ogcapi/collections/districts/items?limit=50&crs={EPSG}32649",
    "/ogcapi/collections/corridors/items",
    "/ogcapi/collections/projects/items?datetime=2024-01-01/..&status=under_construction",
    f"/ogcapi/collections/parks/items/{PARK}?crs={EPSG}4326",
)


def _without_stamp(doc):
    doc.pop("timeStamp", None)
    return doc


@pytest.mark.parametrize("url", SAME_ANSWERS)
def test_both_stores_give_the_same_answers(store_path, postgis_store_url, url):
    gpkg = create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client().get(url)
    pg = create_app({"TESTING": True, "CORRIDORS_STORE": postgis_store_url}).test_client().get(url)
    assert gpkg.status_code == pg.status_code == 200
    assert gpkg.headers["Content-Type"] == pg.headers["Content-Type"]
    assert gpkg.headers.get("Content-Crs") == pg.headers.get("Content-Crs")
    a, b = _without_stamp(gpkg.get_json(force=True)), _without_stamp(pg.get_json(force=True))
    if "features" in a:
        for fa, fb in zip(a.pop("features"), b.pop("features")):
            assert fa["id"] == fb["id"] and fa["properties"] == fb["properties"] and fa["links"] == fb["links"]
            ga, gb = shapely.geometry.shape(fa["geometry"]), shapely.geometry.shape(fb["geometry"])
            assert ga.geom_type.removeprefix("Multi") == gb.geom_type.removeprefix("Multi")
            assert np.allclose(shapely.get_coordinates(ga), shapely.get_coordinates(gb), rtol=0, atol=1e-6), fa["id"]
    assert a == b


def test_districts_without_an_id_column_use_their_code(store_path):
    from geo.dataset import Dataset
    from geo.store import GeoPackageStore

    layers = GeoPackageStore(store_path).read_all()
    layers["districts"] = layers["districts"].drop(columns=["id"], errors="ignore")
    data = Dataset(layers)
    base = "http://localhost/ogcapi"
    codes = [str(c) for c in layers["districts"]["code"]]
    got = ogcapi.items(data, "districts", {"limit": ["1000"]}, base)
    assert [r["id"] for r in got.records()] == codes
    assert ogcapi.item(data, "districts", codes[0], {}, base).record["code"] == codes[0]
    assert "code" in ogcapi.queryables(data, "districts", base)["properties"]
