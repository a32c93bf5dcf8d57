"""Folium map builders: they arrange what ``geo`` computed, nothing more.

The main map embeds only the small polygon and line layers (districts, corridor axes and belts);
parks, projects and institutions are loaded by ``static/app/map.js`` from the JSON API in a compact
encoding and clustered on the client (Leaflet.markercluster, chunked loading), so the page stays
light with 100k projects. Every asset is served by the app (``webmap.assets.offline_map``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
from branca.element import Element
from flask import Response
from folium.plugins import MarkerCluster

from geo import chain, citations
from geo.formats import QUALIFIER_LABELS
from geo.schema import STATUSES
from geo.style import LAYER_COLORS, LAYER_LABELS, POSSIBLE_AREA_COLOR, STATUS_COLORS, STATUS_LABELS, corridor_color
from webmap.assets import offline_map

CENTER = (34.62, 112.45)  # lat, lon of central Luoyang (WGS84)
POINT_LAYERS = ("parks", "projects", "institutions")
CLUSTER_OPTIONS = {"chunkedLoading": True, "chunkInterval": 100, "showCoverageOnHover": False,
                   "maxClusterRadius": 50, "spiderfyOnMaxZoom": True}
assert set(STATUS_COLORS) == set(STATUSES)



def escaped(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """The given columns with text HTML-escaped: folium's tooltips insert property values as HTML."""
    out = gdf[[*columns, "geometry"]].copy()
    for col in columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("str", "string")):
            out[col] = out[col].map(lambda v: html.escape(v) if isinstance(v, str) else v)
    return out


def add_districts(target: folium.Map | folium.FeatureGroup, districts: gpd.GeoDataFrame) -> None:
    """Draw county polygons as the offline base (light fill, grey borders, bilingual tooltips)."""
    folium.GeoJson(
        escaped(districts, ["code", "name_zh", "name_en", "city_zh"]),
        style_function=lambda _f: {"color": "#888", "weight": 1, "fillColor": "#f4f1ea", "fillOpacity": 0.6},
        highlight_function=lambda _f: {"weight": 2, "color": "#444"},
        tooltip=folium.GeoJsonTooltip(["name_zh", "name_en", "city_zh", "code"], labels=False),
        smooth_factor=1.0,
    ).add_to(target)


def add_corridors(axes: folium.FeatureGroup, belts: folium.FeatureGroup, corridors: gpd.GeoDataFrame,
                  corridor_belts: gpd.GeoDataFrame) -> None:
    """Draw corridor axes (coloured lines) and belts (translucent polygons) with bilingual tooltips."""
    cols = ["id", "name_zh", "name_en", "theme_zh", "investment_target_2021_cny_100m"]
    folium.GeoJson(
        escaped(corridor_belts, ["id", "name_zh", "name_en", "belt_km"]),
        style_function=lambda f: {"color": corridor_color(f["properties"]["id"]), "weight": 1, "opacity": 0.5,
                                  "fillColor": corridor_color(f["properties"]["id"]), "fillOpacity": 0.12},
        tooltip=folium.GeoJsonTooltip(["name_zh", "name_en", "belt_km"], aliases=["", "", "belt ± km"]),
    ).add_to(belts)
    folium.GeoJson(
        escaped(corridors, cols),
        style_function=lambda f: {"color": corridor_color(f["properties"]["id"]), "weight": 5, "opacity": 0.9},
        tooltip=folium.GeoJsonTooltip(["name_zh", "name_en", "theme_zh", "investment_target_2021_cny_100m"],
                                      aliases=["", "", "主题 theme", "2021 目标 target (亿元)"]),
    ).add_to(axes)


def _safe_json(value: Any) -> str:
    """JSON that is safe inside a <script> element."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def client_config(layers: Mapping[str, gpd.GeoDataFrame], *, api_url: str, page: str,
                  overlays: Mapping[str, str], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What map.js needs: API root, overlay variables, styles and bilingual labels."""
    links = chain.read_chain()
    return {
        "api": api_url.rstrip("/"),
        "page": page,
        "overlays": dict(overlays),
        "pointLayers": list(POINT_LAYERS),
        "layerLabels": LAYER_LABELS,
        "layerColors": LAYER_COLORS,  # buffer-query hits: solid when certain, outline only when possible
        "possibleAreaColor": POSSIBLE_AREA_COLOR,
        "statusColors": STATUS_COLORS,
        "statusLabels": STATUS_LABELS,
        "corridorColors": {c: corridor_color(c) for c in layers["corridors"]["id"]},
        "chainLinks": {r.link_id: [r.name_zh, r.name_en] for r in links.itertuples()},
        "sourceKinds": {k: list(v) for k, v in citations.KIND_LABELS.items()},
        "qualifiers": {k: list(v) for k, v in QUALIFIER_LABELS.items()},
        "center": list(CENTER),
        **(extra or {}),
    }


def build_map(layers: Mapping[str, gpd.GeoDataFrame], corridor_belts: gpd.GeoDataFrame, *, api_url: str,
              page: str = "main", tiles: Mapping[str, str] | None = None, panel_html: str = "",
              focus: gpd.GeoDataFrame | None = None, extra_config: Mapping[str, Any] | None = None) -> folium.Map:
    """The interactive map: base, corridor layers, client-loaded clustered points, panel and app script."""
    m = offline_map(location=list(CENTER), zoom_start=9, control_scale=True, prefer_canvas=False,
                    min_zoom=6, max_zoom=18)
    if tiles and tiles.get("url"):
        folium.TileLayer(tiles=tiles["url"], attr=tiles.get("attribution") or "tiles", name="底图 Basemap",
                         max_zoom=18, overlay=False, control=True).add_to(m)
    groups = {}
    for key in ("districts", "belts", "corridors"):
        zh, en = LAYER_LABELS[key]
        groups[key] = folium.FeatureGroup(name=f"{zh} {en}", overlay=True, control=True, show=True).add_to(m)
    add_districts(groups["districts"], layers["districts"])
    corridors = layers["corridors"]
    belts = corridor_belts
    if focus is not None:
        corridors = corridors[corridors["id"].isin(focus["id"])]
        belts = belts[belts["id"].isin(focus["id"])]
    add_corridors(groups["corridors"], groups["belts"], corridors, belts)
    for key in POINT_LAYERS:  # filled by map.js from the API; clustered on the client
        zh, en = LAYER_LABELS[key]
        groups[key] = MarkerCluster(name=f"{zh} {en}", overlay=True, control=True, show=True,
                                    options=CLUSTER_OPTIONS).add_to(m)
    control = folium.LayerControl(collapsed=False, position="topright").add_to(m)
    bounds = (focus if focus is not None else layers["districts"]).total_bounds
    overlays = {k: g.get_name() for k, g in groups.items()}
    overlays["control"] = control.get_name()
    # map.js fits these bounds itself unless the permalink names a view (a folium fit_bounds would
    # animate and swallow the permalink's setView)
    extra = {"bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]], **(extra_config or {})}
    cfg = client_config(layers, api_url=api_url, page=page, overlays=overlays, extra=extra)
    root = m.get_root()
    root.header.add_child(Element('<link rel="stylesheet" href="/static/app/map.css">'
                                  '<meta name="viewport" content="width=device-width, initial-scale=1">'),
                          name="app_css")
    root.header.add_child(Element('<script src="/static/app/map.js"></script>'), name="app_js")
    root.html.add_child(Element(panel_html), name="app_panel")
    # folium adds its own scripts while rendering, after this one: start once the page has run them all
    init = f"window.addEventListener('DOMContentLoaded', () => CorridorMap.init({m.get_name()}, {_safe_json(cfg)}));"
    root.script.add_child(Element(init), name="app_init")
    return m


def html_response(m: folium.Map) -> Response:
    """The rendered map page as an HTML response."""
    return Response(m.get_root().render(), mimetype="text/html")
