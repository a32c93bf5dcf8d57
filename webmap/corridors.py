"""Corridor pages: ``/corridors`` (standing of all) and ``/corridors/<id>`` (one, with its map)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from geo import analysis, chain, style
from webmap import maps
from webmap.api import standing
from webmap.data import current_data
from webmap.pages import panel, tiles

bp = Blueprint("corridors", __name__)


#: How a record stands against a belt, in both languages.
IN_BELT_WORDS = {"certain": "确定在带内 certainly", "possible": "可能在带内 possibly (located only to a county the belt "
                 "crosses)", "outside": "不在带内 outside"}


@bp.get("/corridors")
def corridors() -> str:
    """Standing of every corridor against its 2021 target."""
    data = current_data()
    standing = analysis.corridor_standing(data.layers, data.belt_km, radii_km=data.radii_km)
    return render_template("corridors.html", standing=standing, colors=style.CORRIDOR_COLORS)


@bp.get("/corridors/<corridor_id>")
def corridor(corridor_id: str) -> str:
    """One corridor: standing, projects, parks, chain coverage and its own map."""
    data = current_data()
    analysis.corridor(data.layers, corridor_id)  # 404 for unknown ids
    row = next(c for c in standing(data) if c["id"] == corridor_id)
    cov = chain.coverage(data.layers, corridor=corridor_id, joined=data.joined)
    return render_template("corridor.html", c=row, coverage=cov, color=style.corridor_color(corridor_id),
                           in_belt_words=IN_BELT_WORDS)


@bp.get("/corridors/<corridor_id>/map")
def corridor_map(corridor_id: str) -> Response:
    """The map of one corridor: its axis and belt, with the corridor filter set."""
    data = current_data()
    focus = data.layers["corridors"][data.layers["corridors"]["id"] == corridor_id]
    if focus.empty:
        analysis.corridor(data.layers, corridor_id)
    m = maps.build_map(data.layers, data.belts, api_url="/api", tiles=tiles(), panel_html=panel(),
                       focus=data.belts[data.belts["id"] == corridor_id], page="corridor",
                       extra_config={"defaultFilters": {"corridor": corridor_id}})
    return maps.html_response(m)


