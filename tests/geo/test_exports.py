"""The export plan (geo.exports): the map spec or the data download of each subject, and the map's options."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pyogrio
import pytest
import shapely

from geo import downloads, exports, mapspecs, render
from geo.dataset import load_dataset
from geo.errors import NotFoundError, ValidationError
from geo.filters import Filters
from geo.siting import Constraints

SOURCE_COLUMNS = {"source_id", "source_title_zh", "source_title_en", "source_kind", "source_published_date"}


@pytest.fixture(scope="module")
def data(store):
    return load_dataset(store)


def test_geo_exports_has_no_command_line_or_web_code():
    from pathlib import Path

    text = Path(exports.__file__).read_text(encoding="utf-8")
    for word in ("argparse", "print(", "flask", "sys.argv", "sys.exit"):
        assert word not in text, word


# -- maps ------------------------------------------------------------------------------------------------
def test_metro_map_whole_filtered_and_framed(data):
    spec = exports.map_spec(data, exports.Metro())
    assert spec.kind == "metro" and spec.title_en == "Industrial corridors of the Luoyang metropolitan area"
    filtered = exports.map_spec(data, exports.Metro(Filters(status=("planned",)), visible=("districts", "projects")))
    assert filtered.kind == "filtered" and "status=planned" in filtered.subtitle
    assert set(filtered.marks["layer"]) == {"projects"} and set(filtered.marks["status"]) == {"planned"}
    assert filtered.belts is None and filtered.corridors is None
    box = (112.3, 34.5, 112.6, 34.7)
    framed = exports.map_spec(data, exports.Metro(extent=box))
    assert framed.extent == box and framed.pad == 0.0 and framed.min_extent_km == 1.0


def test_metro_map_checks_its_filters_and_layers(data):
    for subject, field in [(exports.Metro(Filters(status=("finished",))), "status"),
                           (exports.Metro(Filters(q="a\x00b")), "q"),
                           (exports.Metro(visible=("rivers",)), "layers")]:
        with pytest.raises(ValidationError) as err:
            exports.map_spec(data, subject)
        assert err.value.field == field


def test_corridor_map_is_the_corridor_spec_with_the_datasets_belts(data):
    spec = exports.map_spec(data, exports.Corridor("luo-ru"))
    same = mapspecs.corridor_map(data.layers, "luo-ru", belts=data.belts, joined=data.joined)
    assert spec.kind == "corridor" and spec.title_zh == same.title_zh == "洛汝新型建材产业带"
    assert spec.table.rows == same.table.rows and list(spec.belts["id"]) == ["luo-ru"]
    with pytest.raises(NotFoundError) as err:
        exports.map_spec(data, exports.Corridor("nope"))
    assert err.value.field == "corridor"


def test_near_map_numbers_the_query_result(data):
    near = exports.Near(radius_km="5", lon="112.45", lat="34.62", layers=("all",))
    spec = exports.map_spec(data, near)
    result = data.engine.near(radius_km=5, lon=112.45, lat=34.62)
    assert spec.kind == "near" and spec.title_zh.startswith("周边 5 公里查询")
    assert [r["name_zh"] for r in spec.table.rows] == list(result.features["name_zh"])
    # certain hits first, each row with its certainty and distance interval; the marks hollow where possible
    assert [r["certainty"] for r in spec.table.rows] == [
        {"certain": "确定", "possible": "可能"}[c] for c in result.features["certainty"]]
    assert [r["interval"] for r in spec.table.rows] == [
        mapspecs.interval_km(lo, hi) for lo, hi in zip(result.features["distance_min_km"], result.features["distance_max_km"])]
    hits = spec.marks[spec.marks["role"].eq("feature")]
    assert list(hits["certainty"]) == list(result.features["certainty"])
    assert f"确定 {result.summary['certain']} certain · 可能 {result.summary['possible']} possible" in spec.subtitle
    projects = exports.near_result(data, exports.Near(radius_km=5, lon=112.45, lat=34.62, layers=("projects",)))
    assert set(projects.features["layer"]) == {"projects"}


def test_near_certain_only_and_a_query_from_a_stand_in(data):
    near = exports.Near(radius_km=30, lon=112.7502, lat=34.706, certain_only=True)
    spec = exports.map_spec(data, near)
    assert {r["certainty"] for r in spec.table.rows} == {"确定"} and "仅确定 certain only" in spec.subtitle
    assert exports.near_result(data, near).query["certain_only"] is True
    # a park located only to 偃师区: the query starts from the county, and the map draws the county as the query
    around = exports.map_spec(data, exports.Near(radius_km=5, feature="yanshi-packaging-materials-park"))
    county = data.engine.possible_area("yanshi-packaging-materials-park")[2]
    assert around.query.geom_type.endswith("Polygon") and around.query.equals(county)


@pytest.mark.parametrize("near, field", [
    (exports.Near(radius_km="0", lon="112.45", lat="34.62"), "radius_km"),
    (exports.Near(radius_km="5", lon="121.47", lat="31.23"), "lon"),
    (exports.Near(radius_km="5", lon="112.45", lat="34.62", layers=("rivers",)), "layer"),
    (exports.Near(radius_km="5", feature="nope"), "feature"),
])
def test_near_errors_name_the_engines_parameters(data, near, field):
    with pytest.raises((ValidationError, NotFoundError)) as err:
        exports.map_spec(data, near)
    assert err.value.field == field


def test_site_map_ranks_and_draws_the_surface_on_request(data):
    spec = exports.map_spec(data, exports.Site("battery-materials", top=5))
    assert spec.kind == "ranking" and spec.title_zh.startswith("选址排序") and spec.table.total == 5
    assert spec.surface is None
    with_surface = exports.map_spec(data, exports.Site("battery-materials", top=5, surface=True))
    assert with_surface.surface is not None and len(with_surface.surface) > 50
    # outside every county: no park may lie within 1 m (at (112, 34) the county-located parks possibly do)
    empty = exports.map_spec(data, exports.Site("battery-materials", constraints=Constraints(within_km=0.001, lon=110.9,
                                                                                             lat=33.5)))
    assert empty.table.total == 0 and "无候选" in empty.subtitle


def test_a_layer_is_data_and_the_metro_area_is_not(data):
    with pytest.raises(ValidationError) as err:
        exports.map_spec(data, exports.Layer("parks"))
    assert err.value.field == "layer"
    with pytest.raises(ValidationError) as err:
        exports.download(data, exports.Metro(), "csv")
    assert err.value.field == "layer"


# -- map options -----------------------------------------------------------------------------------------
def test_map_output_defaults_and_checks_in_order():
    assert exports.MapOutput("PNG").dpi == 300 and exports.MapOutput("svg").dpi == 150
    out = exports.MapOutput("pdf", size="", dpi=" ", title="  规划 Planned  ")
    assert (out.fmt, out.size, out.dpi, out.title) == ("pdf", "A4-landscape", 150, "规划 Planned")
    for kwargs, field in [({"fmt": "gif", "dpi": "5000"}, "format"), ({"fmt": "png", "size": "B5"}, "size"),
                          ({"fmt": "png", "dpi": "5000", "title": "a\x00b"}, "dpi"),
                          ({"fmt": "png", "size": "A3-landscape", "dpi": 600}, "dpi"),
                          ({"fmt": "svg", "title": "x" * 201}, "title")]:
        with pytest.raises(ValidationError) as err:
            exports.MapOutput(**kwargs)
        assert err.value.field == field, kwargs


def test_draw_map_to_bytes_and_to_a_file(data, tmp_path):
    output = exports.MapOutput("png", size="400x320", dpi=72, title="Test 测试", date="2024-01-01")
    drawn = exports.draw_map(data, exports.Corridor("luo-mian"), output)
    assert drawn.body.startswith(b"\x89PNG") and drawn.facts.pixels == (400, 320)
    assert drawn.spec.kind == "corridor" and drawn.facts.crs == "EPSG:32649"
    path = tmp_path / "m.png"
    again = exports.draw_map(data, exports.Corridor("luo-mian"), output, dest=path)
    assert again.body is None and path.read_bytes() == drawn.body


# -- the extent shown: a browser's view -------------------------------------------------------------------
#: 伊滨区 as the web map shows it at lon 112.64, lat 34.615, z 12 (WGS84 west, south, east, north).
YIBIN = (112.526, 34.520, 112.754, 34.710)


def test_parse_bbox_reads_a_view_and_names_the_field():
    assert exports.parse_bbox("112.526,34.52,112.754,34.71") == YIBIN
    assert exports.parse_bbox(list(YIBIN)) == YIBIN
    assert exports.parse_bbox(" 112.5 , 34.5 , 112.7 , 34.7 ") == (112.5, 34.5, 112.7, 34.7)
    # Leaflet counts past ±180 as one pans round the world: the copy nearest the map's area is taken
    assert exports.parse_bbox("472.5,34.5,472.7,34.7") == pytest.approx((112.5, 34.5, 112.7, 34.7))
    # a low zoom's view is clipped to what UTM 49N can draw
    assert exports.parse_bbox("-180,-85,180,85") == render.DRAWABLE_WGS84
    for bad in ("112.5,34.5,112.7", "a,b,c,d", "112.7,34.5,112.5,34.7", "112.5,34.7,112.7,34.5", "nan,34,113,35",
                "１１２,34,113,35", "112,34,113,89", "-80,-50,-60,-40", "1" * 300, "", None, 5):
        with pytest.raises(ValidationError) as err:
            exports.parse_bbox(bad, "bbox")
        assert err.value.field == "bbox", bad
        assert len(err.value.detail) < 300


def test_a_map_output_with_an_extent_shows_it_for_every_kind_of_map(data):
    output = exports.MapOutput("png", size="800x600", dpi=72, extent="112.526,34.52,112.754,34.71")
    assert output.extent == YIBIN
    with pytest.raises(ValidationError) as err:
        exports.MapOutput("png", extent="112.7,34.5,112.5,34.7")
    assert err.value.field == "extent"
    frame = shapely.box(*YIBIN)
    for subject in (exports.Metro(), exports.Corridor("luo-ru"), exports.Near(radius_km=30, lon=112.45, lat=34.62),
                    exports.Site("battery-materials", top=5)):
        drawn = exports.draw_map(data, subject, output)
        west, south, east, north = drawn.facts.extent_wgs84
        assert shapely.box(west, south, east, north).contains(frame), subject
        assert (east - west) < 2 * (YIBIN[2] - YIBIN[0]) and (north - south) < 2 * (YIBIN[3] - YIBIN[1]), subject
        assert drawn.spec.extent == YIBIN and drawn.spec.pad == 0.0
    whole = exports.draw_map(data, exports.Metro(), dataclasses.replace(output, extent=None))
    assert whole.facts.scale_denominator > 5 * drawn.facts.scale_denominator


def test_a_metro_view_counts_and_cites_what_it_shows(data):
    whole = exports.map_spec(data, exports.Metro())
    view = exports.map_spec(data, exports.Metro(), YIBIN)
    assert exports.map_spec(data, exports.Metro(extent=YIBIN)).subtitle == view.subtitle  # either way of asking
    parks = int(data.layers["parks"].intersects(shapely.box(*YIBIN)).sum())
    assert view.subtitle.startswith(f"视图内 in view: 园区 {parks} · ") and 0 < parks < len(data.layers["parks"])
    assert not whole.subtitle.startswith("视图内")
    # the footer cites the sources of what the view draws: a subset of the metro area's
    assert set(view.sources["id"]) <= set(whole.sources["id"]) and len(view.sources) > 0


# -- data ------------------------------------------------------------------------------------------------
def test_near_download_carries_sources_and_the_buffer(data, tmp_path):
    near = exports.Near(radius_km=10, lon=112.45, lat=34.62)
    body, mimetype, name = exports.download(data, near, "gpkg")
    assert (mimetype, name) == ("application/geopackage+sqlite3", "near.gpkg")
    path = tmp_path / "near.gpkg"
    path.write_bytes(body)
    assert [n for n, _ in pyogrio.list_layers(path)] == ["near", "near_buffer", "sources"]
    doc = json.loads(exports.download(data, near, "geojson")[0])
    assert doc["query"]["radius_km"] == 10 and SOURCE_COLUMNS <= set(doc["features"][0]["properties"])
    interval = {"distance_km", "distance_min_km", "distance_max_km", "certainty", "located_to_zh", "located_to_en"}
    assert all(interval <= set(f["properties"]) for f in doc["features"])
    assert {"certain", "possible"} <= set(doc["summary"])
    assert doc["summary"]["certain"] + doc["summary"]["possible"] == len(doc["features"])
    rows = list(csv.DictReader(io.StringIO(exports.download(data, near, "csv")[0].decode("utf-8-sig"))))
    assert interval <= set(rows[0]) and [r["certainty"] for r in rows] == [
        f["properties"]["certainty"] for f in doc["features"]]
    near_layer = pyogrio.read_dataframe(path, layer="near")
    assert interval <= set(near_layer.columns)
    assert exports.download(data, near, "geojson")[0] == downloads.near_download(
        exports.near_result(data, near), "geojson", data.sources)[0]


def test_corridor_download_is_its_parks_and_projects(data, tmp_path):
    body, mimetype, name = exports.download(data, exports.Corridor("luo-mian"), "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert name == "corridor-luo-mian.csv" and mimetype.startswith("text/csv")
    assert {r["layer"] for r in rows} == {"parks", "projects"} and SOURCE_COLUMNS <= set(rows[0])
    spec = exports.map_spec(data, exports.Corridor("luo-mian"))
    assert [r["id"] for r in rows] and len(rows) == len(spec.table.rows)
    path = tmp_path / "c.gpkg"
    path.write_bytes(exports.download(data, exports.Corridor("luo-mian"), "gpkg")[0])
    assert [n for n, _ in pyogrio.list_layers(path)] == ["corridor_luo_mian", "sources"]


def test_site_and_layer_downloads(data):
    doc = json.loads(exports.download(data, exports.Site("battery-materials", top=3), "geojson")[0])
    assert len(doc["features"]) == 3 and doc["industry"]["id"] == "battery-materials" and "weights" in doc
    body, _, name = exports.download(data, exports.Layer("projects", Filters(status=("planned",))), "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert name == "projects-filtered.csv" and rows and {r["status"] for r in rows} == {"planned"}
    with pytest.raises(ValidationError) as err:
        exports.download(data, exports.Layer("projects", Filters(status=("finished",))), "csv")
    assert err.value.field == "status"
    with pytest.raises(ValidationError) as err:
        exports.download(data, exports.Layer("parks"), "shp")
    assert err.value.field == "format"
