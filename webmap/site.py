"""The site-selection page (``/site``): a form, the ranked parks with reasons, and the map of scores."""

from __future__ import annotations

import html

import folium
from branca.colormap import LinearColormap
from flask import Blueprint, Response, render_template, request

from geo import formats, siting
from geo.errors import GeoError, ValidationError
from geo.schema import STATUSES
from geo.style import SCORE_COLORS, STATUS_LABELS
from webmap import maps
from webmap.api import request_args, site_result, surface_result
from webmap.assets import offline_map
from webmap.data import current_data

bp = Blueprint("site", __name__)


def score_colormap() -> LinearColormap:
    """Colour ramp of suitability scores 0–100 (with its legend)."""
    return LinearColormap(SCORE_COLORS, vmin=0, vmax=100, caption="适宜性 suitability score (0–100)")


@bp.get("/site")
def site_page() -> str:
    """Form, ranked list (expected score, its range, ties) with reasons and breakdown, and the map (an iframe of
    /site/map with the same query)."""
    data = current_data()
    industries = siting.read_industries().to_dict("records")
    result, error = None, None
    if request.args.get("industry"):
        try:
            result = site_result(request_args(), data)
        except GeoError as exc:
            error = str(exc)
    ranking = formats.records(result.ranking) if result is not None else []
    return render_template(
        "site.html", industries=industries, args=request.args, result=result, ranking=ranking, error=error,
        weights=siting.parse_weights(request.args.get("weights")) if not error else siting.DEFAULT_WEIGHTS,
        labels=siting.CRITERIA_LABELS, statuses=STATUSES, status_labels=STATUS_LABELS, mc_draws=siting.MC_DRAWS,
        park_names=dict(zip(data.layers["parks"]["id"], data.layers["parks"]["name_zh"])),
        corridors=data.layers["corridors"][["id", "name_zh", "name_en"]].to_dict("records"),
        districts=data.layers["districts"][["code", "name_zh", "name_en"]].to_dict("records"),
        parks=data.layers["parks"][["id", "name_zh", "name_en"]].to_dict("records"),
        query=request.query_string.decode(),
    )


@bp.get("/site/map")
def site_map() -> Response:
    """The map of a site-selection result: suitability hexagons and numbered candidates coloured by expected score
    (tooltips give the range and ties)."""
    data = current_data()
    result = site_result(request_args(), data)
    try:
        _, surface = surface_result(request_args(), data, str(result.industry["id"]))
    except ValidationError as exc:  # only park criteria (theme, status) weighted: a hexagon has nothing to score
        if exc.field != "weights":
            raise
        surface = None
    cmap = score_colormap()
    m = offline_map(location=list(maps.CENTER), zoom_start=8, control_scale=True, min_zoom=6, max_zoom=18)
    base = folium.FeatureGroup(name="行政区 Districts").add_to(m)
    maps.add_districts(base, data.layers["districts"])
    if surface is not None:
        folium.GeoJson(
            surface[["score", "score_min", "score_max", "geometry"]],
            name="适宜性 Suitability surface",
            style_function=lambda f: {"fillColor": cmap(f["properties"]["score"]), "fillOpacity": 0.55, "weight": 0},
            tooltip=folium.GeoJsonTooltip(["score", "score_min", "score_max"],
                                          aliases=["适宜性 expected score", "最低 lowest", "最高 highest"]),
        ).add_to(m)
    axes = folium.FeatureGroup(name="产业带 Corridors").add_to(m)
    belts = folium.FeatureGroup(name="产业带范围 Belts", show=False).add_to(m)
    maps.add_corridors(axes, belts, data.layers["corridors"], data.belts)
    cands = folium.FeatureGroup(name="候选园区 Candidate parks").add_to(m)
    ranks = dict(zip(result.ranking["id"], result.ranking["rank"])) if len(result.ranking) else {}
    for rec in result.ranking.itertuples():
        color = cmap(rec.score)
        tie = ""
        if rec.tied_with:
            shown = [str(ranks[t]) for t in rec.tied_with if t in ranks]
            hidden = len(rec.tied_with) - len(shown)
            tie = " · 并列 tied with " + ", ".join([*(f"#{r}" for r in shown),
                                                  *([f"{hidden} 个未列出 not listed"] if hidden else [])])
        label = html.escape(f"{rec.rank}. {rec.name_zh} · {rec.name_en} — {rec.score:.1f} "
                            f"({rec.score_min:.1f}–{rec.score_max:.1f}){tie}")
        folium.Marker(
            [rec.geometry.y, rec.geometry.x],
            icon=folium.DivIcon(html=f'<div class="site-rank" style="background:{color}">{int(rec.rank)}</div>',
                                icon_size=(24, 24), icon_anchor=(12, 12)),
            tooltip=folium.Tooltip(label),
            popup=folium.Popup(label + "<br>" + html.escape(rec.reason_zh) + "<br>" + html.escape(rec.reason_en),
                               max_width=360),
        ).add_to(cands)
    cmap.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    bounds = data.layers["districts"].total_bounds
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    m.get_root().header.add_child(folium.Element(
        '<style>.site-rank{width:22px;height:22px;border-radius:50%;border:1px solid #333;text-align:center;'
        'font:bold 12px/22px sans-serif;color:#000}</style>'), name="site_css")
    return maps.html_response(m)
