"""Exports zoomed to a view (``bbox=`` / ``extent=view``): the marks in view numbered and named in a key (when
there are few enough to read), and the scale bar in the lower corner with fewer drawn features under it."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import crs, mapspecs, render
from geo.render import inset
from geo.render.canvas import MapCanvas, Stage
from geo.render.furniture import scale_bar
from geo.render.sheet import Sheet
from tests.geo.test_render import outside

SVG = "{http://www.w3.org/2000/svg}"
#: The 伊滨区 view (WGS84 west, south, east, north), as the web map shows it at lon 112.64, lat 34.615, z 12.
YIBIN = (112.526, 34.520, 112.754, 34.710)


def render_svg(spec: render.MapSpec, size: str = "A4-landscape") -> tuple[list[str], render.MapFacts]:
    data, facts = render.render_bytes(spec, "svg", size=size, dpi=50, date="2024-03-01")
    return ["".join(t.itertext()) for t in ET.fromstring(data).iter(f"{SVG}text")], facts


def in_frame(spec: render.MapSpec, facts: render.MapFacts) -> gpd.GeoDataFrame:
    """The spec's symbols whose true place lies in the drawn frame (UTM 49N)."""
    marks = spec.marks.to_crs(crs.METRIC_CRS)
    return marks[marks.within(shapely.box(*facts.extent_metric)) & marks["layer"].ne("anchor")]


@pytest.fixture(scope="module")
def yibin(layers) -> render.MapSpec:
    return mapspecs.metro_map(layers, extent=YIBIN)


# -- the key of a zoomed view -----------------------------------------------------------------------------
@pytest.mark.parametrize("size", ["A4-landscape", "A3-portrait"])
def test_a_zoomed_view_numbers_its_marks_and_names_them_in_a_key(yibin, size):
    """Zoomed to 伊滨区 the ring of parks, projects and institutions was drawn but nothing named them."""
    texts, facts = render_svg(yibin, size)
    shown = in_frame(yibin, facts)
    n = len(shown)
    assert 0 < n <= inset.MAX_VIEW_KEY and facts.inset is None  # the view is the detail: no inset
    numbers = [label.text for label in facts.labels if label.kind == "number"]
    assert sorted(numbers, key=int) == [str(i) for i in range(1, n + 1)]  # every symbol numbered, once
    assert all(label.frame_pt == facts.map_box_pt for label in facts.labels if label.kind == "number")
    assert facts.table_rows == facts.table_total == n  # the key lists every one
    assert inset.VIEW_KEY_TITLE in texts
    assert set(shown["name_zh"]) <= set(texts)  # each symbol in view is named in the key
    assert "编号见图中要素表 Numbers refer to the table of features" in facts.legend
    assert outside(facts) == []  # numbers and names stay inside the frame
    assert "洛龙区" in texts and facts.north_arrow.covers == 0


def test_a_view_with_many_marks_gets_no_key(layers):
    """Beyond ``MAX_VIEW_KEY`` symbols, numbers would not be readable: no key, and the map is drawn as before (no
    numbers on the main map; the detail inset, if any, keys its own)."""
    whole = tuple(float(v) for v in layers["districts"].total_bounds)
    spec = mapspecs.metro_map(layers, extent=whole)
    marks = render.layers.marks_metric(spec, 1.0)
    frame = render.fit_frame(render.metric_extent(whole, 1.0, 0.0), (0, 0, 500, 400))
    assert spec.view and int(shapely.contains_xy(shapely.box(frame.x0, frame.y0, frame.x1, frame.y1),
                                                 marks.xy[:, 0], marks.xy[:, 1]).sum()) > inset.MAX_VIEW_KEY
    assert inset.view_key(spec, marks, frame) is None


def test_maps_with_their_own_table_or_not_zoomed_keep_their_key(layers):
    """A corridor map framed to a view keeps its own table; the whole metro map (not a view) keeps its detail
    inset and its key (drawn in tests/geo/test_render.py)."""
    frame = render.fit_frame(render.metric_extent(YIBIN, 1.0, 0.0), (0, 0, 500, 400))
    corridor = mapspecs.corridor_map(layers, "luo-gong")
    framed = dataclasses.replace(corridor, extent=YIBIN, pad=0.0, min_extent_km=1.0)
    assert framed.view and not corridor.view and framed.table is not None
    assert inset.view_key(framed, render.layers.marks_metric(framed, 1.0), frame) is None
    metro = mapspecs.metro_map(layers)
    assert not metro.view
    assert inset.view_key(metro, render.layers.marks_metric(metro, 1.0), frame) is None
    zoomed = mapspecs.metro_map(layers, extent=YIBIN)
    numbers, key = inset.view_key(zoomed, render.layers.marks_metric(zoomed, 1.0), frame)
    assert key.title == inset.VIEW_KEY_TITLE and len(key.rows) == int((numbers != "").sum()) > 0


# -- the scale bar's corner -------------------------------------------------------------------------------
def test_the_scale_bar_leaves_a_lower_left_crowded_by_marks(yibin):
    """The scale bar was fixed at the lower left and covered the marks there: it goes to the lower right."""
    _, before = render_svg(yibin)
    bar = before.scale_bar
    assert bar.corner == "lower left" and bar.covers == 0 and bar.box_metric is not None
    # put four projects (and so their numbers) where the bar was
    x0, y0, x1, y1 = bar.box_metric
    xs, ys = np.linspace(x0 + (x1 - x0) * 0.15, x1 - (x1 - x0) * 0.15, 4), np.full(4, (y0 + y1) / 2)
    lon, lat = crs.from_metric(xs, ys)
    extra = yibin.marks[yibin.marks["layer"].eq("projects")].head(1)
    extra = pd.concat([extra] * 4, ignore_index=True)
    extra["id"] = [f"test-{i}" for i in range(4)]
    extra["name_zh"] = [f"左下角项目{i}" for i in range(4)]
    extra["name_en"] = [f"Lower-left project {i}" for i in range(4)]
    extra["order"] = 0
    extra = extra.set_geometry(gpd.points_from_xy(lon, lat, crs="EPSG:4326"))
    crowded = dataclasses.replace(yibin, marks=pd.concat([yibin.marks, extra], ignore_index=True))
    texts, facts = render_svg(crowded)
    bar = facts.scale_bar
    assert bar.corner == "lower right" and bar.covers == 0
    box = shapely.box(*bar.box_metric)
    assert not in_frame(crowded, facts).intersects(box).any()  # no mark under the bar
    assert all(name in texts for name in extra["name_zh"])  # the new marks are drawn and keyed
    # the bar is in the frame, clear of the north arrow
    assert shapely.box(*facts.extent_metric).contains(box)
    assert not box.intersects(shapely.Point(facts.north_arrow.centre_metric).buffer(facts.north_arrow.radius_m))
    assert outside(facts) == []


def _canvas() -> MapCanvas:
    sheet = Sheet(render.parse_page("A4-landscape", 50))
    box = (30.0, 60.0, 500.0, 400.0)
    c = MapCanvas(sheet, box, render.fit_frame((600_000.0, 3_800_000.0, 700_000.0, 3_880_000.0), box))
    c.enter(Stage.LAYERS)
    return c


def test_the_scale_bar_takes_the_corner_with_fewer_features_but_never_the_insets():
    f = _canvas().frame
    low_left = [shapely.Point(f.x0 + (f.x1 - f.x0) * t, f.y0 + 3_000.0) for t in (0.05, 0.1, 0.15)]
    low_right = [shapely.Point(f.x1 - (f.x1 - f.x0) * 0.1, f.y0 + 3_000.0)]

    c = _canvas()
    assert scale_bar(c).corner == "lower left"  # an empty map: the usual corner
    c = _canvas()
    c.features.extend(low_left + low_right)
    bar = scale_bar(c)
    assert bar.corner == "lower right" and bar.covers == 1  # the fewer features
    c = _canvas()
    c.features.extend(low_left)
    right = c.display_box(f.x0 + (f.x1 - f.x0) * 0.6, f.y0, f.x1, f.y0 + (f.y1 - f.y0) * 0.4)  # an inset there
    bar = scale_bar(c, avoid=[right])
    assert bar.corner == "lower left"  # over marks rather than over the inset
    assert not shapely.box(*bar.box_metric).intersects(shapely.box(f.x0 + (f.x1 - f.x0) * 0.6, f.y0, f.x1,
                                                                     f.y0 + (f.y1 - f.y0) * 0.4))
