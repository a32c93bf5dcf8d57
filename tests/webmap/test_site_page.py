"""The site-selection page and map as HTML: errors in both languages, the legend of the surface, tied and
co-located parks on the map, parameters the form keeps (issue 16; the browser tests are tests/browser/test_site.py)."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict

from geo.errors import NotFoundError, ValidationError
from webmap import create_app
from webmap.site import escape_for_folium, explain_error, kept_params, text_color


@pytest.fixture(scope="module")
def client(store_path):
    return create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client()


@pytest.mark.parametrize(("error", "zh"), [
    (ValidationError("expected a whole number (1 <= value <= 1000), got 'abc'", field="top"),
     "“显示前”（top）须为整数（1 ≤ 值 ≤ 1000），收到的是 'abc'"),
    (NotFoundError("unknown industry 'steel'; expected one of: castings, graphene", field="industry"),
     "“产业”（industry）没有 'steel' 这一项；请从列表中选择"),
    (ValidationError("unknown criterion 'foo'; expected one of: theme, chain", field="weights"),
     "“权重”（weights）没有名为 'foo' 的准则；可用的准则：园区主题 theme、产业链邻近 chain"),
    (ValidationError("weight of talent must be a number >= 0, got '-1'", field="weights"),
     "“权重”（weights）准则“人才”的权重须为不小于 0 的数字，收到的是 '-1'"),
    (ValidationError("of is used only with within_km; give within_km or drop of", field="of"),
     "“之内”（of）只能与“距离 (km)”一起使用；请填写“距离 (km)”或去掉此项"),
    (ValidationError("within_km needs a feature (of) or lon and lat", field="within_km"),
     "“距离 (km)”（within_km）距离约束需要一个参照：请在“之内”中选择园区或产业带（或给出经纬度）"),
    (NotFoundError("unknown feature id 'nope'", field="of"), "“之内”（of）找不到编号为 'nope' 的要素"),
    (ValidationError("something new", field="top"), "“显示前”（top）请检查此参数（英文说明见下）"),
])
def test_errors_are_explained_in_both_languages(error, zh):
    out = explain_error(error)
    assert out["zh"] == zh and out["field"] == error.field
    assert out["en"].endswith(error.detail) and error.field in out["en"]


def test_the_page_shows_a_bad_parameter_in_both_languages_and_marks_the_field(client):
    html = client.get("/site?industry=battery-materials&min_status=done").get_data(as_text=True)
    error = re.search(r'<div class="error site-error" id="site-error".*?</div>', html, re.DOTALL).group(0)
    assert "参数有误" in error and "“最低状态”（min_status）没有 &#39;done&#39; 这一项" in error
    assert "Invalid request" in error and "minimum status (min_status): unknown min_status" in error
    assert re.search(r'<select name="min_status" aria-invalid="true"', html)
    assert 'id="site-map"' not in html  # no map frame to answer with a raw error


def test_kept_parameters_ride_along_but_not_a_bad_one(client):
    html = client.get("/site?industry=battery-materials&top=3&chain_km=5&spacing_km=8").get_data(as_text=True)
    assert '<input type="hidden" name="chain_km" value="5">' in html
    assert '<input type="hidden" name="spacing_km" value="8">' in html
    assert "中心间距 8 km" in html and "centres 8 km apart" in html
    bad = client.get("/site?industry=battery-materials&spacing_km=1&chain_km=5").get_data(as_text=True)
    assert 'name="spacing_km"' not in bad and '<input type="hidden" name="chain_km" value="5">' in bad
    assert "“六边形间距 (km)”（spacing_km）须为数字（3 ≤ 值 ≤ 50）" in bad
    args = {"lon": "112.4", "lat": "34.6", "crs": "gcj02", "chain_km": "5"}
    assert kept_params(MultiDict(args), {"field": "lat"}) == {"chain_km": ["5"]}
    assert kept_params(MultiDict(args), None) == {k: [v] for k, v in args.items()}


def test_the_map_marks_ties_and_shared_stand_ins_and_has_a_legend(client):
    resp = client.get("/site/map?industry=battery-materials")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    badges = dict(re.findall(r'class=\\"site-rank[^"\\]*\\" data-id=\\"([^"\\]+)\\"[^\n]*?\\u003e([^\\]+)\\u003c/div', html))
    assert len(badges) == 20
    assert badges["chanhe-dual-carbon-park"] == badges["luoyang-international-health-tech-park"] == "5="
    assert badges["luoyang-new-energy-park"] == "1"
    assert html.count("share one stand-in point (not their actual sites) with 4 other listed parks") == 5 * 2
    assert "共用同一替代位置" in html
    # the legend: scale 0–100, what the hexagons score; the app's own stylesheet and script, no CDN
    legend = re.search(r'<details class="site-legend".*?</details>', html, re.DOTALL).group(0)
    assert 'id="site-legend-scale"' in legend and "6 km" in legend and "not parks" in legend and "并列 tied" in legend
    assert "suitability score (0\\u2013100)" in html and ".tickValues([0, 25, 50, 75, 100])" in html  # branca, d3
    assert '<link rel="stylesheet" href="/static/app/site.css"/>' in html
    assert '<script src="/static/app/site_map.js"></script>' in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_helpers():
    assert escape_for_folium("${x}`<b>\\") == "&#36;{x}&#96;&lt;b&gt;&#92;"
    assert text_color("#fff7bc") == "#000" and text_color("#993404ff") == "#fff"
