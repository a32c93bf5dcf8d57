"""The JSON API over a real temporary store, GeoPackage and PostGIS alike: filters, near, nearest, corridors, chain, errors, OpenAPI."""

from __future__ import annotations

import gzip
import json

import pytest

from webmap import create_app


@pytest.fixture()
def client(served_store):
    """A client of the app over the built store: every test here runs on the GeoPackage and on PostGIS."""
    return create_app({"TESTING": True, "CORRIDORS_STORE": served_store}).test_client()


def test_near_matches_the_cli_shape(client):
    r = client.get("/api/near?lon=112.64&lat=34.615&radius_km=1&layer=projects")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = r.get_json(force=True)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 6
    first = doc["features"][0]["properties"]
    assert list(first)[:10] == ["id", "layer", "name_zh", "name_en", "distance_km", "distance_min_km",
                                "distance_max_km", "certainty", "located_to_zh", "located_to_en"]
    assert doc["summary"]["investment_cny_100m"] == 140
    assert (doc["summary"]["certain"], doc["summary"]["possible"]) == (0, 6)
    assert doc["buffer"]["type"] == "Polygon"
    assert doc["query"]["radius_km"] == 1


def test_near_by_feature_and_polygon(client):
    doc = client.get("/api/near?feature=luo-mian&radius_km=10&layer=parks").get_json(force=True)
    assert "yima-coal-chemical-logistics-park" in {f["id"] for f in doc["features"]}
    poly = json.dumps({"type": "Polygon", "coordinates": [[[112.7, 34.65], [112.9, 34.65], [112.9, 34.8],
                                                             [112.7, 34.8], [112.7, 34.65]]]})
    doc = client.get("/api/near", query_string={"polygon": poly, "radius_km": 1, "layer": "projects"}).get_json(force=True)
    # its point lies in the polygon; the others are located only to counties the polygon reaches into
    by_id = {f["id"]: f["properties"] for f in doc["features"]}
    assert by_id["youbo-battery-foil"]["distance_km"] == 0 and by_id["youbo-battery-foil"]["distance_min_km"] == 0
    assert all(p["certainty"] == "possible" for p in by_id.values())
    assert "youbo-battery-foil" in [f["id"] for f in doc["features"]][:1 + len(by_id) // 2]


def test_near_gcj02_input(client):
    doc = client.get("/api/near?lon=112.7946&lat=34.7259&crs=gcj02&radius_km=2&layer=projects").get_json(force=True)
    wgs = client.get("/api/near?lon=112.789&lat=34.727&radius_km=2&layer=projects").get_json(force=True)
    assert [f["id"] for f in doc["features"]] == [f["id"] for f in wgs["features"]]
    assert "youbo-battery-foil" in {f["id"] for f in doc["features"]}
    assert doc["query"]["input_crs"] == "gcj02"


def test_certain_only_and_possible_area(client):
    doc = client.get("/api/near?lon=112.45&lat=34.62&radius_km=10&certain_only=true").get_json(force=True)
    assert doc["features"] and {f["properties"]["certainty"] for f in doc["features"]} == {"certain"}
    assert doc["summary"]["possible"] == 0 and doc["query"]["certain_only"] is True
    area = client.get("/api/possible-area?feature=youbo-battery-foil").get_json(force=True)
    assert area["type"] == "Feature" and area["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert area["properties"]["located_to_zh"] == "仅定位到偃师区"
    assert client.get("/api/possible-area?feature=nope").status_code == 404
    bad = client.get("/api/near?lon=112.45&lat=34.62&radius_km=10&certain_only=maybe")
    assert bad.status_code == 400 and "certain_only" in bad.get_json()["error"]


@pytest.mark.parametrize("url, field", [
    ("/api/near?lon=112.45&lat=34.62", "radius_km"),
    ("/api/near?lon=112.45&lat=34.62&radius_km=301", "radius_km"),
    ("/api/near?lon=abc&lat=34.62&radius_km=5", "lon"),
    ("/api/near?lon=121.4&lat=31.2&radius_km=5", "lon"),
    ("/api/near?lon=112.45&lat=34.62&radius_km=5&crs=utm", "crs"),
    ("/api/near?lon=1_12.45&lat=34.62&radius_km=5", "lon"),
    ("/api/near?lon=%EF%BC%91%EF%BC%91%EF%BC%92&lat=34.62&radius_km=5", "lon"),  # full-width 112
    ("/api/near?lon=112.45&lat=1e308&radius_km=5", "lat"),
    ("/api/near?lon=112.45&lat=39.9&radius_km=5", "lat"),
    ("/api/near?lon=112.45&lat=nan&radius_km=5", "lat"),
    ("/api/near?lon=112.45&lat=34.62&radius_km=inf", "radius_km"),
    ("/api/near?feature=luo-mian&radius_km=5&crs=gcj02", "crs"),
    ("/api/near?lon=112.45&lat=34.62&radius_km=5&layer=roads", "layer"),
    ("/api/nearest?lon=112.45&lat=34.62&layer=parks&k=2.5", "k"),
    ("/api/nearest?lon=112.45&lat=34.62&layer=parks&k=100000", "k"),
    ("/api/layers/parks?chain_link=foo", "chain_link"),
    ("/api/layers/parks?status=foo", "status"),
    ("/api/site?industry=battery-materials&chain_km=0", "chain_km"),
    ("/api/site?industry=battery-materials&of=luo-mian", "of"),
    ("/api/site?industry=battery-materials&crs=gcj02", "crs"),
    ("/api/site?industry=battery-materials&lon=112.4&lat=34.6", "lon"),
    ("/api/site?industry=battery-materials&top=0", "top"),
    ("/api/site?industry=battery-materials&within_km=10&of=luo-mian&crs=gcj02", "crs"),
    ("/api/site?industry=battery-materials&district=999999", "district"),
    ("/api/site/surface?industry=battery-materials&spacing_km=1", "spacing_km"),
    ("/api/chain?chain=../x", "chain"),
    ("/api/chain?chain=/tmp/evil", "chain"),
    ("/api/near?polygon=notjson&radius_km=5", "polygon"),
    ("/api/nearest?lon=112.45&lat=34.62", "layer"),
    ("/api/nearest?lon=112.45&lat=34.62&layer=parks&k=0", "k"),
    ("/api/layers/parks?corridor=nowhere", "corridor"),
    ("/api/layers/parks?format=shp", "format"),
])
def test_bad_parameters_are_json_400_naming_the_field(client, url, field):
    r = client.get(url)
    assert r.status_code == 400
    body = r.get_json()
    assert body["field"] == field and field in body["error"]


@pytest.mark.parametrize("url", ["/api/near?feature=nope&radius_km=5", "/api/layers/roads", "/api/corridors/nope",
                                 "/api/features/nope", "/api/chain?park=nope", "/api/nothing-here"])
def test_unknown_ids_are_json_404(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert r.get_json()["error"]


def test_layer_filters(client):
    from urllib.parse import parse_qsl

    def ids(query):
        r = client.get("/api/layers/projects", query_string=dict(parse_qsl(query)))
        return {f["id"] for f in r.get_json(force=True)["features"]}

    assert ids("corridor=luo-ji-jiao") == {"luoyang-petrochemical-styrene", "luoyang-petrochemical-ethylene",
                                           "luoyang-petrochemical-refining-restructuring", "jinma-energy-upsizing"}
    assert ids("chain_link=cell") == {"zhongzhou-shidai-phase-1", "zhongzhou-shidai-phase-1-line-1",
                                      "zhongzhou-shidai-phase-2"}
    assert ids("status=planned&district=410482") == {"ruzhou-shuolong-building-materials", "ruxiu-returnee-park-phase-3"}
    assert ids("q=优箔") == {"youbo-battery-foil"}
    assert ids("q=STYRENE") == {"luoyang-petrochemical-styrene"}
    assert len(ids("")) == 14


def test_name_search_finds_a_firm_by_its_other_names(client):
    """data/aliases.csv: 宁德时代 is CATL, whose Luoyang records are named 中州时代."""
    for layer, expected in [("projects", {"zhongzhou-shidai-phase-1", "zhongzhou-shidai-phase-1-line-1",
                                          "zhongzhou-shidai-phase-2"}),
                            ("parks", {"zhongzhou-shidai-base"}), ("institutions", {"zhongzhou-shidai"})]:
        for q in ("宁德时代", "CATL"):
            doc = client.get(f"/api/layers/{layer}", query_string={"q": q}).get_json(force=True)
            assert {f["id"] for f in doc["features"]} == expected, (layer, q)


def test_compact_encoding_and_gzip(client):
    r = client.get("/api/layers/projects?format=compact", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    doc = json.loads(gzip.decompress(r.get_data()))
    assert doc["fields"][:3] == ["lon", "lat", "id"] and len(doc["rows"]) == 14
    assert client.get("/api/layers/corridors?format=compact").status_code == 400


def test_csv_names_the_crs(client):
    r = client.get("/api/layers/parks?format=csv")
    lines = r.get_data(as_text=True).splitlines()
    header = lines[0].split(",")
    assert "lon" in header and "lat" in header and header[-1] == "crs"
    assert lines[1].endswith("EPSG:4326")


def test_corridors_and_chain(client):
    doc = client.get("/api/corridors").get_json()
    assert [c["id"] for c in doc["corridors"]] == ["luo-ji-jiao", "luo-gong", "luo-mian", "luo-ru"]
    assert doc["corridors"][0]["investment_known_cny_100m"] is None
    short = client.get("/api/corridors?members=false").get_json()["corridors"]  # the same, without member lists
    assert short == [{k: v for k, v in c.items() if k not in ("projects", "parks")} for c in doc["corridors"]]
    assert all(c["projects"] is not None for c in doc["corridors"]) and "projects" not in short[0]
    assert client.get("/api/corridors?members=no").status_code == 400
    one = client.get("/api/corridors/luo-gong").get_json()
    # the foil project is located only to 偃师区, which the belt crosses: possibly in it, not present
    assert one["chain"]["scope"] == "corridor" and "foil" in one["chain"]["possible"]
    assert "foil" not in one["chain"]["present"] and "foil" not in one["chain"]["missing"]
    assert one["chains"] == []  # 洛巩's themes fit no chain of the catalogue: its coverage is not claimed
    mian = client.get("/api/corridors/luo-mian").get_json()
    assert [c["chain"] for c in mian["chains"]] == ["new_energy"] and mian["chains"][0]["coverage"]["links"]
    foil = next(link for link in one["chain"]["links"] if link["link_id"] == "foil")
    assert {b["membership"] for b in foil["by"]} == {"possible"}
    metro = client.get("/api/chain").get_json()
    assert "cathode" in metro["missing"]


def test_feature_by_id(client):
    doc = client.get("/api/features/zhongzhou-shidai-phase-1").get_json(force=True)
    assert doc["properties"]["capacity_gwh"] == 60 and doc["properties"]["layer"] == "projects"
    assert doc["geometry"]["type"] == "Point"


def test_openapi_lists_every_endpoint(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/layers/{layer}", "/api/near", "/api/nearest", "/api/corridors", "/api/chain"):
        assert path in doc["paths"]
    rules = {str(r) for r in client.application.url_map.iter_rules() if str(r).startswith("/api/")}
    documented = {p.replace("{layer}", "<layer>").replace("{id}", "<feature_id>") for p in doc["paths"]}
    documented = {p.replace("{change_id}", "<change_id>") for p in documented}
    documented |= {"/api/corridors/<corridor_id>", "/api/openapi.json"}
    assert rules <= documented | {"/api/features/<feature_id>"}


def test_site_api(client):
    doc = client.get("/api/site?industry=battery-materials&top=3").get_json()
    assert [r["rank"] for r in doc["ranking"]] == [1, 2, 3]
    assert doc["ranking"][0]["id"] == "luoyang-new-energy-park"
    assert set(doc["ranking"][0]["breakdown"]) == {"theme", "corridor", "chain", "talent", "anchor", "status"}
    assert doc["ranking"][0]["reason_zh"] and doc["ranking"][0]["reason_en"]
    geo = client.get("/api/site?industry=petrochemicals&top=2&format=geojson").get_json(force=True)
    assert geo["type"] == "FeatureCollection" and geo["features"][0]["properties"]["score"] > 0
    empty = client.get("/api/site?industry=castings&district=410327&corridor=luo-ru").get_json()
    assert empty["ranking"] == [] and "corridor" in empty["empty_because"]
    surface = client.get("/api/site/surface?industry=battery-materials").get_json(force=True)
    assert surface["features"][0]["geometry"]["type"] == "Polygon"
    assert len(client.get("/api/site/industries").get_json()["industries"]) >= 14


@pytest.mark.parametrize("url, status, field", [
    ("/api/site", 400, "industry"),
    ("/api/site?industry=steel", 404, "industry"),
    ("/api/site?industry=castings&weights=theme=-2", 400, "weights"),
    ("/api/site?industry=castings&top=x", 400, "top"),
    ("/api/site?industry=castings&within_km=10", 400, "within_km"),
    ("/api/site?industry=castings&min_status=done", 400, "min_status"),
])
def test_site_api_errors(client, url, status, field):
    r = client.get(url)
    assert r.status_code == status and r.get_json()["field"] == field


@pytest.mark.parametrize("url, field", [
    ("/api/near?feature=nothing-here&radius_km=5", "feature"),
    ("/api/site?industry=battery-materials&within_km=5&of=nothing-here", "of"),
    ("/api/site?industry=no-such-industry", "industry"),
    ("/api/layers/roads", "layer"),
])
def test_unknown_ids_are_json_404_naming_the_parameter(client, url, field):
    r = client.get(url)
    assert r.status_code == 404 and r.get_json()["field"] == field


@pytest.mark.parametrize("chain", ["../chains/new_energy", "/etc/passwd", "new_energy.csv", "..%2Fx"])
def test_chain_is_looked_up_in_the_catalogue_never_as_a_path(client, chain, tmp_path):
    r = client.get("/api/chain", query_string={"chain": chain})
    assert r.status_code == 400 and r.get_json()["field"] == "chain"
    assert "/" not in r.get_json()["error"].split("expected one of:")[1]
    assert client.get("/api/chain?chain=new_energy").status_code == 200


def test_site_chain_km_is_used_as_given(client):
    near = client.get("/api/site?industry=battery-materials&chain_km=0.5").get_json()
    far = client.get("/api/site?industry=battery-materials&chain_km=60").get_json()
    assert near["ranking"] != far["ranking"]


def test_post_near_takes_a_large_polygon_body(client):
    import math
    ring = [[112.45 + 0.2 * math.cos(2 * math.pi * i / 2000), 34.62 + 0.15 * math.sin(2 * math.pi * i / 2000)]
            for i in range(2000)]
    ring.append(ring[0])
    body = json.dumps({"type": "Polygon", "coordinates": [ring]})
    r = client.post("/api/near?radius_km=1&format=json", data=body, content_type="application/geo+json")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    got = r.get_json()
    assert got["query"]["radius_km"] == 1 and got["features"]
    small = client.get("/api/near", query_string={"radius_km": 1, "format": "json", "polygon": json.dumps(
        {"type": "Polygon", "coordinates": [ring[::100] + [ring[0]]]})}).get_json()
    assert {f["id"] for f in small["features"]} <= {f["id"] for f in got["features"]} | {"x"}


def test_post_near_bounds_vertices_and_bytes(client):
    ring = [[112.45 + 1e-5 * i, 34.62 + 1e-5 * (i % 2)] for i in range(10_500)] + [[112.45, 34.62]]
    too_many = json.dumps({"type": "Polygon", "coordinates": [ring]})
    r = client.post("/api/near?radius_km=1", data=too_many, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["field"] == "body" and "10000" in r.get_json()["error"]
    huge = "[" + ",".join(["[112.45,34.62]"] * 120_000) + "]"
    r = client.post("/api/near?radius_km=1", data=huge, content_type="application/json")
    assert r.status_code == 413 and r.is_json
    r = client.post("/api/near?radius_km=1", data="{not json", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["field"] == "body"


# -- the register of sources ---------------------------------------------------------------------------
YOUBO_ITEM = "【快讯】再创产业发展新辉煌——洛阳市产业发展观摩看偃师"


def test_layers_list_the_register_without_geometry(client):
    layers = {entry["name"]: entry for entry in client.get("/api/layers").get_json()["layers"]}
    assert layers["sources"]["geometry_type"] is None and layers["sources"]["crs"] is None
    assert layers["sources"]["feature_count"] >= 9 and layers["parks"]["geometry_type"] == "Point"
    assert client.get("/readyz").get_json()["layers"]["sources"] == layers["sources"]["feature_count"]


def test_the_register_as_json_csv_and_geojson(client):
    doc = client.get("/api/layers/sources?format=json").get_json()
    rows = {r["id"]: r for r in doc["features"]}
    assert doc["crs"] is None and rows["yanshi-observation"]["title_zh"] == YOUBO_ITEM
    assert rows["yanshi-observation"]["item_index"] == 1 and rows["yanshi-observation"]["published_date"] is None
    assert rows["catl-park-2024"]["kind"] == "article" and rows["catl-park-2024"]["item_index"] is None
    lines = client.get("/api/layers/sources?format=csv").get_data().decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:3] == ["id", "kind", "title_zh"] and "crs" not in lines[0] and "lon" not in lines[0]
    assert len(lines) == len(rows) + 1
    fc = client.get("/api/layers/sources").get_json(force=True)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == len(rows)
    assert all(f["geometry"] is None and f["id"] == f["properties"]["id"] for f in fc["features"])


@pytest.mark.parametrize(("query", "field"), [("format=compact", "format"), ("status=planned", "status"),
                                              ("q=偃师", "q"), ("district=410307", "district")])
def test_the_register_takes_no_filter(client, query, field):
    r = client.get(f"/api/layers/sources?{query}")
    assert r.status_code == 400 and r.get_json()["field"] == field


def test_popup_data_carries_the_source_title_kind_and_date(client):
    props = client.get("/api/features/youbo-battery-foil").get_json(force=True)["properties"]
    assert props["source_id"] == "yanshi-observation" and props["source_title_zh"] == YOUBO_ITEM
    assert props["source_kind"] == "related_item" and props["source_published_date"] is None
    assert props["source_title_en"].startswith("Flash")
    article = client.get("/api/features/zhongzhou-shidai-phase-1").get_json(force=True)["properties"]
    assert (article["source_kind"], article["source_published_date"]) == ("article", "2024-09-27")
    assert article["source_publisher"] == "洛阳产业信息"
    doc = client.get("/api/layers/projects?format=json&q=优箔").get_json()
    assert doc["features"][0]["source_title_zh"] == YOUBO_ITEM
    near = client.get("/api/near?feature=youbo-battery-foil&radius_km=5&format=json").get_json()
    assert all("source_title_zh" in f for f in near["features"])


def test_corridor_standing_names_its_source(client):
    one = client.get("/api/corridors/luo-mian").get_json()
    assert one["source_id"] == "corridors-plan-2021" and one["source_title_zh"] == "紧密协作 打造产业新高地"
    assert one["source_published_date"] == "2021-07-23" and one["source_kind"] == "article"


def test_openapi_names_the_register_as_a_layer(client):
    doc = client.get("/api/openapi.json").get_json()
    layer = doc["paths"]["/api/layers/{layer}"]["get"]["parameters"][0]
    assert "sources" in layer["schema"]["enum"] and "parks" in layer["schema"]["enum"]
    download = next(p for p in doc["paths"]["/export/data.{fmt}"]["get"]["parameters"] if p["name"] == "layer")
    assert "sources" in download["schema"]["enum"]


def test_a_sum_with_an_approximate_figure_says_so(client):
    near = client.get("/api/near?feature=zhongzhou-shidai-phase-1&radius_km=1&layer=projects&format=json").get_json()
    assert near["summary"]["investment_cny_100m_qualifier"] is None  # phase I itself is not in its own result
    around = client.get("/api/near?lon=112.64&lat=34.615&radius_km=1&layer=projects&format=json").get_json()
    assert around["summary"]["investment_cny_100m"] == 140
    assert around["summary"]["investment_cny_100m_qualifier"] == "approx"
