"""Corridor pages: ``/corridors`` (standing of all) and ``/corridors/<id>`` (one, with its map).

The figures, fits and charts are computed in ``geo`` (``geo.analysis.corridor_standing``, ``geo.chain``,
``geo.charts``); these views only arrange them: the charts are SVG text that ``geo.charts`` escaped.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template
from markupsafe import Markup

from geo import analysis, chain, charts, style
from webmap import maps
from webmap.api import data_as_of, request_args, standing
from webmap.data import current_data
from webmap.pages import panel, tiles

bp = Blueprint("corridors", __name__)


#: How a record stands against a belt, in both languages.
IN_BELT_WORDS = {"certain": "确定在带内 certainly", "possible": "可能在带内 possibly (located only to a county or the city "
                 "that the belt crosses)", "outside": "不在带内 outside"}
#: How a record belongs to a corridor (``geo.analysis.corridor_members``), in both languages.
MEMBERSHIP_WORDS = {"named": "规划点名 named in the plan",
                    "named+belt": "规划点名，确定在带内 named in the plan, certainly in the belt",
                    "belt": "未点名，确定在带内 not named, certainly in the belt",
                    "possible": "未点名，可能在带内 not named, possibly in the belt"}
#: How precisely a record is located, in both languages.
PRECISION_WORDS = {"site": "地块 site", "street": "街道 street", "town": "乡镇 town", "district": "区县 district",
                   "city": "仅到城市 city only"}
#: Each status in words, both languages (``geo.style.STATUS_LABELS``).
STATUS_WORDS = {key: style.bilingual(pair) for key, pair in style.STATUS_LABELS.items()}


def _words() -> dict[str, Any]:
    return {"in_belt_words": IN_BELT_WORDS, "membership_words": MEMBERSHIP_WORDS, "precision_words": PRECISION_WORDS,
            "status_words": STATUS_WORDS, "group_labels": charts.GROUP_LABELS, "target_note": charts.TARGET_NOTE,
            "qualified": charts.qualified}


def city_only(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split a corridor's members: those shown in its tables, and those not named in its plan that are located
    only to the city (every axis starts at the city centre, so they may lie in or out of any belt)."""
    apart = [r for r in records if r.get("location_precision") == "city" and not str(r["membership"]).startswith("named")]
    return [r for r in records if r not in apart], apart


@bp.get("/corridors")
def corridors() -> str:
    """Standing of every corridor against its 2021 target, with a chart of the four side by side (``as_of``:
    as the ledger stood that day)."""
    data = data_as_of(request_args())
    rows = analysis.corridor_standing(data.layers, data.belt_km, joined_layers=data.joined)
    chart = Markup(charts.corridor_investment_chart(rows, "corridors-investment")) if rows else None
    return render_template("corridors.html", standing=rows, colors=style.CORRIDOR_COLORS, chart=chart,
                           as_of=request_args().text("as_of"), **_words())


@bp.get("/corridors/<corridor_id>")
def corridor(corridor_id: str) -> str:
    """One corridor: standing, projects by status, parks, the chain that fits its theme and its own map
    (``as_of``: as the ledger stood that day)."""
    data = data_as_of(request_args())
    analysis.corridor(data.layers, corridor_id)  # 404 for unknown ids
    row = next(c for c in standing(data) if c["id"] == corridor_id)
    coverages = chain.fitting_coverages(data.layers, corridor_id, row["chains"], data.joined)
    projects, projects_city = city_only(row["projects"])
    parks, parks_city = city_only(row["parks"])
    return render_template(
        "corridor.html", c=row, coverages=coverages, color=style.corridor_color(corridor_id),
        projects=projects, projects_city=projects_city, parks=parks, parks_city=parks_city,
        catalogue=[chain.chain_name(k) for k in chain.CHAINS],
        investment_chart=Markup(charts.corridor_investment_chart([row], f"{corridor_id}-investment")),
        status_chart=Markup(charts.corridor_status_chart(row, f"{corridor_id}-status")),
        as_of=request_args().text("as_of"), **_words())


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
