"""Folium map builders: they arrange what ``geo`` computed, nothing more.

The main map embeds only the small polygon and line layers (districts, corridor axes and belts);
parks, projects and institutions are loaded by ``static/app/map.js`` from the JSON API in a compact
encoding and clustered together on the client (one Leaflet.markercluster group, chunked loading), so
the page stays light with 100k projects and co-located features of different layers spiderfy as one.
Every asset is served by the app (``webmap.assets.offline_map``).

Drawing order is fixed by panes (:data:`PANES`): districts under belts under axes, whatever is toggled.
The page gets the words it shows (statuses, kinds, precisions, figures with units, district, corridor,
park and chain-link names, both languages) and the label positions (district label points, county seats)
in its configuration (:func:`client_config`), so a popup never shows a raw code.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import shapely
import shapely.ops
from branca.element import Element
from flask import Response
from folium.plugins import MarkerCluster

from geo import chain, citations, crs, siting
from geo.formats import QUALIFIER_LABELS
from geo.schema import STATUSES
from geo.style import (
    CITY_EDGE,
    CORRIDOR_SHORT,
    DISTRICT_EDGE,
    DISTRICT_FILL,
    LAYER_COLORS,
    LAYER_LABELS,
    POSSIBLE_AREA_COLOR,
    QUERY_COLOR,
    STATUS_COLORS,
    STATUS_LABELS,
    corridor_color,
)
from webmap.assets import offline_map
from webmap.tile_points import TilePoints

CENTER = (34.62, 112.45)  # lat, lon of central Luoyang (WGS84)
POINT_LAYERS = ("parks", "projects", "institutions")
#: From this zoom on, the web map labels parks, projects and institutions (district names at every zoom).
FEATURE_LABEL_ZOOM = 12
CLUSTER_OPTIONS = {"chunkedLoading": True, "chunkInterval": 100, "showCoverageOnHover": False,
                   "maxClusterRadius": 50, "spiderfyOnMaxZoom": True, "zoomToBoundsOnClick": True}
assert set(STATUS_COLORS) == set(STATUSES)
#: Map panes, bottom to top: districts, belts, axes under Leaflet's overlayPane (400: the buffer query), then the
#: labels, under the markers (600; map.js puts a seat's or a feature's label beside them).
PANES: dict[str, int] = {"cm-districts": 380, "cm-belts": 390, "cm-axes": 395, "cm-labels": 450}
#: The pane of each embedded layer.
LAYER_PANES: dict[str, str] = {"districts": "cm-districts", "belts": "cm-belts", "corridors": "cm-axes"}

#: Kinds of parks and institutions (``geo.schema``) in both languages.
KIND_LABELS: dict[str, tuple[str, str]] = {
    "park": ("园区", "park"), "base": ("基地", "base"), "zone": ("片区", "zone"), "community": ("社区", "community"),
    "enclave": ("飞地园区", "enclave park"), "university": ("高校", "university"), "college": ("职业院校", "college"),
    "innovation_platforms": ("创新平台", "innovation platforms"), "firm": ("企业", "firm"),
    "developer": ("开发运营方", "developer"), "operator": ("运营方", "operator"),
    "industry_profile": ("产业概况", "industry profile"), "cooperation": ("合作协议", "cooperation"),
}
#: How a record's position was set (``location_precision``), in both languages.
PRECISION_LABELS: dict[str, tuple[str, str]] = {
    "site": ("精确场址", "exact site"), "street": ("街道级", "street level"), "town": ("乡镇级", "town level"),
    "district": ("区县级（替代点）", "county level (stand-in point)"),
    "city": ("市级（替代点）", "city level (stand-in point)"),
}
#: Figures a popup shows: column, label (zh, en) and unit (zh, en); qualifiers (约, 近 …) come from the record.
FIGURES: tuple[tuple[str, str, str, str, str], ...] = (
    ("investment_cny_100m", "投资", "investment", "亿元", "CNY 100 m"),
    ("investment_target_2021_cny_100m", "2021 投资目标", "2021 investment target", "亿元", "CNY 100 m"),
    ("capacity_gwh", "产能", "capacity", "GWh/年", "GWh/yr"),
    ("capacity_kt_per_yr", "产能", "capacity", "千吨/年", "kt/yr"),
    ("signed_investment_cny_100m", "签约投资", "signed investment", "亿元", "CNY 100 m"),
    ("fund_cny_100m", "基金", "fund", "亿元", "CNY 100 m"),
    ("target_output_cny_100m_per_yr", "目标产值", "target output", "亿元/年", "CNY 100 m/yr"),
    ("chain_output_cny_100m_per_yr", "产业链产值", "chain output", "亿元/年", "CNY 100 m/yr"),
    ("jobs_planned", "带动就业", "jobs", "人", "people"),
    ("firms_count", "企业", "firms", "家", "firms"),
    ("firms_operating_count", "投产企业", "firms operating", "家", "firms"),
    ("firms_building_count", "在建企业", "firms building", "家", "firms"),
    ("signed_projects_count", "签约项目", "signed projects", "个", "projects"),
    ("started_projects_count", "开工项目", "projects started", "个", "projects"),
    ("talks_to_signing_days", "洽谈到签约", "talks to signing", "天", "days"),
    ("signing_to_start_days", "签约到开工", "signing to start", "天", "days"),
    ("platforms_national_count", "国家级平台", "national platforms", "个", ""),
    ("platforms_provincial_count", "省级平台", "provincial platforms", "个", ""),
    ("platforms_municipal_count", "市级平台", "municipal platforms", "个", ""),
    ("chain_firms_count", "产业链企业", "chain firms", "家", "firms"),
    ("partner_firms_count", "合作企业", "partner firms", "家", "firms"),
    ("fund_total_cny_100m", "产业基金", "industry fund", "亿元", "CNY 100 m"),
    ("area_km2", "面积", "area", "km²", "km²"),
)
#: Text fields a popup shows in both languages: (zh column, en column, label zh, label en).
TEXT_PAIRS: tuple[tuple[str, str, str, str], ...] = (
    ("firm_zh", "firm_en", "企业", "firm"),
    ("theme_zh", "theme_en", "主题", "theme"),
    ("partners_zh", "partners_en", "合作方", "partners"),
    ("chain_fields_zh", "chain_fields_en", "产业链领域", "chain fields"),
    ("since_period_zh", "since_period_en", "时期", "period"),
    ("build_standard_zh", "build_standard_en", "建设标准", "build standard"),
    ("fund_other_targets_zh", "fund_other_targets_en", "基金投向", "fund targets"),
)



def escaped(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """The given columns with text HTML-escaped: folium's tooltips insert property values as HTML."""
    out = gdf[[*columns, "geometry"]].copy()
    for col in columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("str", "string")):
            out[col] = out[col].map(lambda v: html.escape(v) if isinstance(v, str) else v)
    return out


def add_districts(target: folium.Map | folium.FeatureGroup, districts: gpd.GeoDataFrame,
                  pane: str | None = None) -> None:
    """Draw county polygons as the offline base (light fill, grey borders, bilingual tooltips), in ``pane``."""
    folium.GeoJson(
        escaped(districts, ["code", "name_zh", "name_en", "city_zh", "city_en"]),
        style_function=lambda _f: {"color": DISTRICT_EDGE, "weight": 1, "fillColor": DISTRICT_FILL, "fillOpacity": 0.6},
        highlight_function=lambda _f: {"weight": 2, "color": CITY_EDGE},
        tooltip=folium.GeoJsonTooltip(["name_zh", "name_en", "city_zh", "city_en"], labels=False),
        smooth_factor=1.0,
        **({"pane": pane} if pane else {}),
    ).add_to(target)


def add_corridors(axes: folium.FeatureGroup, belts: folium.FeatureGroup, corridors: gpd.GeoDataFrame,
                  corridor_belts: gpd.GeoDataFrame, panes: Mapping[str, str] | None = None) -> None:
    """Draw corridor axes (coloured lines) and belts (translucent polygons) with bilingual tooltips.

    ``panes`` (``LAYER_PANES``) keeps the belts under the axes however they are toggled."""
    panes = panes or {}
    cols = ["id", "name_zh", "name_en", "theme_zh", "investment_target_2021_cny_100m"]
    folium.GeoJson(
        escaped(corridor_belts, ["id", "name_zh", "name_en", "belt_km"]),
        style_function=lambda f: {"color": corridor_color(f["properties"]["id"]), "weight": 1, "opacity": 0.5,
                                  "fillColor": corridor_color(f["properties"]["id"]), "fillOpacity": 0.12},
        tooltip=folium.GeoJsonTooltip(["name_zh", "name_en", "belt_km"], aliases=["", "", "产业带 belt ± km"]),
        **({"pane": panes["belts"]} if panes.get("belts") else {}),
    ).add_to(belts)
    folium.GeoJson(
        escaped(corridors, cols),
        style_function=lambda f: {"color": corridor_color(f["properties"]["id"]), "weight": 5, "opacity": 0.9},
        tooltip=folium.GeoJsonTooltip(["name_zh", "name_en", "theme_zh", "investment_target_2021_cny_100m"],
                                      aliases=["", "", "主题 theme", "2021 目标 target (亿元)"]),
        **({"pane": panes["corridors"]} if panes.get("corridors") else {}),
    ).add_to(axes)


def _safe_json(value: Any) -> str:
    """JSON that is safe inside a <script> element."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _pair(zh: object, en: object) -> list[str]:
    """A ``[zh, en]`` pair of texts (blank for a missing value)."""
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in (zh, en)]


def place_names(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, list[str]]:
    """Bilingual names of every district code and city code (``410300`` → 洛阳市 Luoyang)."""
    d = layers["districts"]
    names = {str(r.city_code): _pair(r.city_zh, r.city_en) for r in d.itertuples()}
    names.update({str(r.code): _pair(r.name_zh, r.name_en) for r in d.itertuples()})
    return names


def district_labels(districts: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Where each district's name goes (its pole of inaccessibility, WGS84), biggest first (label priority)."""
    if districts.empty:
        return []
    metric = districts.to_crs(crs.METRIC_CRS)
    poles = []
    for geom in metric.geometry:
        parts = list(getattr(geom, "geoms", [geom]))
        biggest = max(parts, key=lambda g: g.area)
        poles.append(shapely.ops.polylabel(biggest, tolerance=250.0))
    points = gpd.GeoSeries(poles, crs=crs.METRIC_CRS).to_crs(crs.WGS84)
    out = [{"code": str(r.code), "zh": str(r.name_zh), "en": str(r.name_en), "lat": round(pt.y, 5),
            "lon": round(pt.x, 5), "area_km2": round(float(g.area) / 1e6, 1)}
           for r, pt, g in zip(districts.itertuples(), points, metric.geometry)]
    return sorted(out, key=lambda r: -r["area_km2"])


def county_seats(layers: Mapping[str, gpd.GeoDataFrame]) -> list[dict[str, Any]]:
    """County seats the data places records at: the stand-in point of records located to a county whose
    location note says it is the seat (驻地), one per county (WGS84)."""
    names = {str(r.code): _pair(r.name_zh, r.name_en) for r in layers["districts"].itertuples()}
    counts: dict[str, dict[tuple[float, float], int]] = {}
    for name in POINT_LAYERS:
        gdf = layers.get(name)
        if gdf is None or gdf.empty or "location_note_zh" not in gdf:
            continue
        seat = gdf[(gdf["location_precision"] == "district") & gdf["location_note_zh"].fillna("").str.contains("驻地")
                   & gdf["district_code"].isin(list(names))]
        for code, x, y in zip(seat["district_code"], seat.geometry.x, seat.geometry.y):
            spot = (round(float(y), 5), round(float(x), 5))
            counts.setdefault(str(code), {})[spot] = counts.get(str(code), {}).get(spot, 0) + 1
    out = []
    for code, spots in sorted(counts.items()):
        (lat, lon), _ = max(spots.items(), key=lambda kv: (kv[1], kv[0]))
        out.append({"code": code, "zh": names[code][0], "en": names[code][1], "lat": lat, "lon": lon})
    return out


def client_config(layers: Mapping[str, gpd.GeoDataFrame], *, api_url: str, page: str,
                  overlays: Mapping[str, str], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What map.js needs: API root, overlay variables, styles, bilingual labels and names, label positions."""
    links = chain.read_chain()
    corridors = layers["corridors"]
    industries = siting.read_industries()
    return {
        "api": api_url.rstrip("/"),
        "page": page,
        "overlays": dict(overlays),
        "pointLayers": list(POINT_LAYERS),
        "layerLabels": LAYER_LABELS,
        "layerColors": LAYER_COLORS,  # buffer-query hits: solid when certain, outline only when possible
        "possibleAreaColor": POSSIBLE_AREA_COLOR,
        "statusColors": STATUS_COLORS,
        "queryColor": QUERY_COLOR,
        "statusLabels": STATUS_LABELS,
        "corridorColors": {c: corridor_color(c) for c in layers["corridors"]["id"]},
        "chainLinks": {r.link_id: [r.name_zh, r.name_en] for r in links.itertuples()},
        "sourceKinds": {k: list(v) for k, v in citations.KIND_LABELS.items()},
        "qualifiers": {k: list(v) for k, v in QUALIFIER_LABELS.items()},
        "kindLabels": {k: list(v) for k, v in KIND_LABELS.items()},
        "precisionLabels": {k: list(v) for k, v in PRECISION_LABELS.items()},
        "figures": [list(f) for f in FIGURES],
        "textPairs": [list(t) for t in TEXT_PAIRS],
        "placeNames": place_names(layers),
        "corridorNames": {str(r.id): _pair(r.name_zh, r.name_en) for r in corridors.itertuples()},
        "corridorShort": {k: list(v) for k, v in CORRIDOR_SHORT.items()},
        "parkNames": {str(r.id): _pair(r.name_zh, r.name_en) for r in layers["parks"].itertuples()},
        "industryNames": {str(r.id): _pair(r.name_zh, r.name_en) for r in industries.itertuples()},
        "districtLabels": district_labels(layers["districts"]),
        "seats": county_seats(layers),
        "featureLabelZoom": FEATURE_LABEL_ZOOM,
        "center": list(CENTER),
        **(extra or {}),
    }


def big_layer_features() -> int:
    """The ``BIG_LAYER_FEATURES`` setting of the running app (its default outside one, e.g. in a notebook)."""
    from flask import current_app, has_app_context

    from geo.settings import DEFAULT_BIG_LAYER_FEATURES
    if has_app_context() and "settings" in current_app.extensions:
        return int(current_app.extensions["settings"].big_layer_features)
    return DEFAULT_BIG_LAYER_FEATURES


def build_map(layers: Mapping[str, gpd.GeoDataFrame], corridor_belts: gpd.GeoDataFrame, *, api_url: str,
              page: str = "main", tiles: Mapping[str, str] | None = None, panel_html: str = "",
              focus: gpd.GeoDataFrame | None = None, extra_config: Mapping[str, Any] | None = None,
              tiles_url: str = "/tiles", big_features: int | None = None) -> folium.Map:
    """The interactive map: base, corridor layers, client-loaded clustered points, panel and app script.

    A point layer with more than ``big_features`` features (``BIG_LAYER_FEATURES``) after the filters is drawn
    from its vector tiles under ``tiles_url`` instead (a :class:`webmap.tile_points.TilePoints` per point layer,
    hidden until map.js switches to it); counts stay exact (from the server)."""
    m = offline_map(location=list(CENTER), zoom_start=9, control_scale=True, prefer_canvas=False,
                    min_zoom=6, max_zoom=18)
    if tiles and tiles.get("url"):
        folium.TileLayer(tiles=tiles["url"], attr=tiles.get("attribution") or "tiles", name="底图 Basemap",
                         max_zoom=18, overlay=False, control=True).add_to(m)
    for pane, z in PANES.items():  # districts < belts < axes, whatever is toggled on again
        folium.map.CustomPane(pane, z_index=z, pointer_events=pane != "cm-labels").add_to(m)
    groups = {}
    for key in ("districts", "belts", "corridors"):
        zh, en = LAYER_LABELS[key]
        groups[key] = folium.FeatureGroup(name=f"{zh} {en}", overlay=True, control=True, show=True).add_to(m)
    add_districts(groups["districts"], layers["districts"], pane=LAYER_PANES["districts"])
    corridors = layers["corridors"]
    belts = corridor_belts
    if focus is not None:
        corridors = corridors[corridors["id"].isin(focus["id"])]
        belts = belts[belts["id"].isin(focus["id"])]
    add_corridors(groups["corridors"], groups["belts"], corridors, belts, panes=LAYER_PANES)
    # one cluster group for every point layer, filled by map.js from the API, so co-located parks, projects and
    # institutions cluster and spiderfy together; map.js puts one switch per layer in the layer control
    points = MarkerCluster(name="points", overlay=True, control=False, show=True, options=CLUSTER_OPTIONS).add_to(m)
    # the same layers as tiles, for a layer too big to send whole: map.js shows one instead of the markers
    tile_layers = {layer: TilePoints(f"{tiles_url.rstrip('/')}/{layer}", name=f"tiles:{layer}", control=False,
                                     show=False, chain_links=chain.read_chain()["link_id"].tolist()).add_to(m)
                   for layer in POINT_LAYERS}
    control = folium.LayerControl(collapsed=False, position="topright").add_to(m)
    bounds = (focus if focus is not None else layers["districts"]).total_bounds
    overlays = {k: g.get_name() for k, g in groups.items()}
    overlays["points"] = points.get_name()
    overlays["control"] = control.get_name()
    overlays.update({f"tiles:{layer}": t.get_name() for layer, t in tile_layers.items()})
    # map.js fits these bounds itself unless the permalink names a view (a folium fit_bounds would
    # animate and swallow the permalink's setView)
    extra = {"bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
             "tileRoot": tiles_url.rstrip("/"),
             "bigLayerFeatures": big_layer_features() if big_features is None else int(big_features),
             "layerTotals": {layer: len(layers[layer]) for layer in POINT_LAYERS if layer in layers},
             **(extra_config or {})}
    cfg = client_config(layers, api_url=api_url, page=page, overlays=overlays, extra=extra)
    root = m.get_root()
    root.header.add_child(Element('<link rel="stylesheet" href="/app/style.css">'
                                  '<link rel="stylesheet" href="/static/app/map.css">'
                                  '<meta name="viewport" content="width=device-width, initial-scale=1">'),
                          name="app_css")
    root.header.add_child(Element('<script src="/static/app/map.js"></script>'), name="app_js")
    root.html.add_child(Element(panel_html), name="app_panel")
    # folium adds its own scripts while rendering, after this one: start once the page has run them all
    # folium declares some of its objects with `let` (the layer control): not properties of window, so they are handed
    # over by name; map.js finds its layers in the third argument
    handles = "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in overlays.items()) + "}"
    init = (f"window.addEventListener('DOMContentLoaded', () => CorridorMap.init({m.get_name()}, {_safe_json(cfg)}, "
            f"{handles}));")
    root.script.add_child(Element(init), name="app_init")
    return m


def html_response(m: folium.Map) -> Response:
    """The rendered map page as an HTML response."""
    return Response(m.get_root().render(), mimetype="text/html")
