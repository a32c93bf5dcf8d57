"""The main map page (``/``) and the data overview (``/data``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, render_template, url_for
from markupsafe import Markup

from geo import chain, charts, citations, formats
from webmap import maps
from webmap.data import current_data, current_settings

bp = Blueprint("pages", __name__)

DATA_COLUMNS = {
    "corridors": ["id", "name_zh", "name_en", "theme_zh", "investment_target_2021_cny_100m", "location_precision",
                  "source"],
    "parks": ["id", "name_zh", "name_en", "status", "district_code", "location_precision", "source"],
    "projects": ["id", "name_zh", "name_en", "status", "capacity_gwh", "capacity_kt_per_yr", "investment_cny_100m",
                 "location_precision", "source"],
    "institutions": ["id", "name_zh", "name_en", "kind", "district_code", "location_precision", "source"],
    "districts": ["code", "name_zh", "name_en", "city_zh", "area_km2"],
    # the register: what users see of a source (its file is in the downloads, never its label)
    "sources": ["id", "kind", "title_zh", "title_en", "publisher", "published_date", "item_index"],
}
#: What a "source" cell of the data page shows: the source's title, kind and date from the register.
SOURCE_CELL = ("source_id", *citations.source_columns())


def tiles() -> dict[str, str] | None:
    """The configured basemap (None for the offline base)."""
    settings = current_settings()
    url = settings.tiles
    if not url or url == "offline":
        return None
    return {"url": url, "attribution": settings.tiles_attribution}


def panel(focus_note: str = "") -> str:
    """The side panel of a map page: filters, buffer query, legend (values escaped by Jinja)."""
    data = current_data()
    layers = data.layers
    basemap = tiles()
    register = data.sources
    articles = [] if register is None else [
        citations.label(r, prefix="", english=False) for r in register.to_dict("records") if r["kind"] == "article"]
    items = 0 if register is None else int((register["kind"] != "article").sum())
    choices = [("产业带 Corridors", layers["corridors"][["id", "name_zh", "name_en"]].to_dict("records")),
               ("园区 Parks", layers["parks"][["id", "name_zh", "name_en"]].to_dict("records"))]
    # projects can be many (100k): they are queried from their popups, not listed here
    return render_template(
        "map_panel.html",
        corridors=layers["corridors"][["id", "name_zh", "name_en"]].to_dict("records"),
        districts=layers["districts"][["code", "name_zh", "name_en"]].to_dict("records"),
        statuses=list(maps.STATUS_LABELS.items()),
        status_labels=maps.STATUS_LABELS,
        status_colors=list(maps.STATUS_COLORS.items()),
        chain_links=chain.read_chain().to_dict("records"),
        layer_labels=maps.LAYER_LABELS,
        corridor_colors={c: maps.corridor_color(c) for c in layers["corridors"]["id"]},
        feature_choices=choices,
        source_articles=articles,
        source_items=items,
        belt_km=f"{data.belts['belt_km'].iloc[0]:g}",
        tiles_note=(f"底图 basemap: {basemap['url']} ({current_settings().tiles_crs})" if basemap
                    else "离线底图 offline base: 行政区划 district boundaries") + focus_note,
    )


@bp.get("/")
def index() -> Response:
    """The main map: layers, clusters, filters, buffer queries and permalinks."""
    data = current_data()

    def render() -> str:
        m = maps.build_map(data.layers, data.belts, api_url=url_for("api.layers_index").rsplit("/", 1)[0],
                           tiles=tiles(), panel_html=panel())
        m.get_root().title = "洛阳都市圈产业走廊地图 · Luoyang industrial-corridor map"
        return m.get_root().render()

    # the page takes its state from the URL in the browser: it depends only on the data version
    return Response(data.cached(("page", "index"), render), mimetype="text/html")


@bp.get("/data")
def data_overview() -> str:
    """Every layer with its records (every value escaped by Jinja)."""
    data = current_data()
    tables = []
    for info in data.info():
        gdf = data.layer(info.name)
        cols = [c for c in DATA_COLUMNS.get(info.name, ["name_zh", "name_en"])
                if c in gdf.columns or (c == "source" and "source_title_zh" in gdf.columns)]
        fetch = [*cols, *(SOURCE_CELL if "source" in cols else ())]
        tables.append({"info": info, "columns": cols, "rows": formats.records(gdf, fetch)})
    return render_template("data.html", tables=tables,
                           charts=data.cached(("page", "data-charts"), lambda: data_charts(data.layers)))


def data_charts(layers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The data page's charts (SVG that ``geo.charts`` escaped): projects by status, projects and firms by chain
    link, known project investment by district."""
    out = []
    if "projects" in layers:
        out.append({"id": "chart-status", "svg": Markup(charts.status_chart(charts.projects_by_status(layers["projects"])))})
    if "projects" in layers and "institutions" in layers:
        out.append({"id": "chart-chain", "svg": Markup(charts.chain_link_chart(chain.coverage(layers)))})
    if "projects" in layers and "districts" in layers:
        rows = charts.investment_by_district(layers["projects"], layers["districts"])
        out.append({"id": "chart-districts", "svg": Markup(charts.district_investment_chart(rows))})
    return out


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon, served so browsers do not log a 404."""
    return current_app.send_static_file("app/favicon.svg")
