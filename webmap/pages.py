"""HTML pages: the main map, corridor pages, feature pages and the data overview."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, url_for

from geo import analysis, chain, formats
from geo.errors import NotFoundError
from webmap import maps
from webmap.data import current_data

bp = Blueprint("pages", __name__)

DATA_COLUMNS = {
    "corridors": ["id", "name_zh", "name_en", "theme_zh", "investment_target_2021_cny_100m", "location_precision",
                  "source"],
    "parks": ["id", "name_zh", "name_en", "status", "district_code", "location_precision", "source"],
    "projects": ["id", "name_zh", "name_en", "status", "capacity_gwh", "capacity_kt_per_yr", "investment_cny_100m",
                 "location_precision", "source"],
    "institutions": ["id", "name_zh", "name_en", "kind", "district_code", "location_precision", "source"],
    "districts": ["code", "name_zh", "name_en", "city_zh", "area_km2"],
}
FEATURE_LAYERS = ("parks", "projects", "institutions")


def _tiles() -> dict[str, str] | None:
    url = current_app.config["TILES"]
    if not url or url == "offline":
        return None
    return {"url": url, "attribution": current_app.config["TILES_ATTRIBUTION"]}


def _panel(focus_note: str = "") -> str:
    data = current_data()
    layers = data.layers
    tiles = _tiles()
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
        belt_km=f"{data.belts['belt_km'].iloc[0]:g}",
        tiles_note=(f"底图 basemap: {tiles['url']} ({current_app.config['TILES_CRS']})" if tiles
                    else "离线底图 offline base: 行政区划 district boundaries") + focus_note,
    )


def _page(m) -> Response:
    return Response(m.get_root().render(), mimetype="text/html")


@bp.get("/")
def index() -> Response:
    """The main map: layers, clusters, filters, buffer queries and permalinks."""
    data = current_data()
    m = maps.build_map(data.layers, data.belts, api_url=url_for("api.layers_index").rsplit("/", 1)[0],
                       tiles=_tiles(), panel_html=_panel())
    m.get_root().title = "洛阳都市圈产业走廊地图 · Luoyang industrial-corridor map"
    return _page(m)


@bp.get("/data")
def data_overview() -> str:
    """Every layer with its records (every value escaped by Jinja)."""
    data = current_data()
    tables = []
    for info in data.store.info():
        gdf = data.layer(info.name)
        cols = [c for c in DATA_COLUMNS.get(info.name, ["name_zh", "name_en"]) if c in gdf.columns]
        tables.append({"info": info, "columns": cols, "rows": formats.records(gdf, cols)})
    return render_template("data.html", tables=tables)


@bp.get("/corridors")
def corridors() -> str:
    """Standing of every corridor against its 2021 target."""
    data = current_data()
    return render_template("corridors.html", standing=analysis.corridor_standing(data.layers, data.belt_km),
                           colors=maps.CORRIDOR_COLORS)


@bp.get("/corridors/<corridor_id>")
def corridor(corridor_id: str) -> str:
    """One corridor: standing, projects, parks, chain coverage and its own map."""
    data = current_data()
    analysis.corridor(data.layers, corridor_id)  # 404 for unknown ids
    standing = next(c for c in analysis.corridor_standing(data.layers, data.belt_km) if c["id"] == corridor_id)
    cov = chain.coverage(data.layers, corridor=corridor_id)
    return render_template("corridor.html", c=standing, coverage=cov, color=maps.corridor_color(corridor_id))


@bp.get("/corridors/<corridor_id>/map")
def corridor_map(corridor_id: str) -> Response:
    """The map of one corridor: its axis and belt, with the corridor filter set."""
    data = current_data()
    focus = data.layers["corridors"][data.layers["corridors"]["id"] == corridor_id]
    if focus.empty:
        analysis.corridor(data.layers, corridor_id)
    m = maps.build_map(data.layers, data.belts, api_url="/api", tiles=_tiles(), panel_html=_panel(),
                       focus=data.belts[data.belts["id"] == corridor_id], page="corridor",
                       extra_config={"defaultFilters": {"corridor": corridor_id}})
    return _page(m)


def _feature_page(layer: str, feature_id: str) -> str:
    data = current_data()
    gdf = data.layers[layer]
    hit = gdf[gdf["id"] == feature_id]
    if hit.empty:
        raise NotFoundError(f"unknown {layer[:-1]} id {feature_id!r}", field="id")
    rec = formats.records(hit)[0]
    neighbours = {}
    for other in FEATURE_LAYERS:
        near = data.engine.nearest(feature=feature_id, layer=other, k=5)
        neighbours[other] = formats.records(near, ["id", "layer", "name_zh", "name_en", "distance_km"])
    joined = data.joined[layer].set_index("id").loc[feature_id]
    context: dict[str, Any] = {"layer": layer, "rec": rec, "neighbours": neighbours,
                               "belts": [b for b in str(joined["belt_ids"]).split(";") if b],
                               "plan_corridor": joined["plan_corridor_id"],
                               "county_code": joined["county_code"]}
    if layer == "parks":
        context["projects"] = formats.records(data.layers["projects"][data.layers["projects"]["park_id"] == feature_id],
                                              ["id", "name_zh", "name_en", "status"])
    return render_template("feature.html", **context)


@bp.get("/parks/<feature_id>")
def park(feature_id: str) -> str:
    """A park: its data, projects, neighbours and source."""
    return _feature_page("parks", feature_id)


@bp.get("/projects/<feature_id>")
def project(feature_id: str) -> str:
    """A project: its data, neighbours and source."""
    return _feature_page("projects", feature_id)


@bp.get("/institutions/<feature_id>")
def institution(feature_id: str) -> str:
    """An institution: its data, neighbours and source."""
    return _feature_page("institutions", feature_id)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon, served so browsers do not log a 404."""
    return current_app.send_static_file("app/favicon.svg")
