"""Charts as standalone SVG files: ``GET /charts/<chart>.svg`` for the map panel, reports and slides.

The charts are those of the data page (``geo.charts``: projects by status, projects and firms by chain link,
known investment by district), drawn over the projects the map shows: the map's filters (``corridor``,
``status``, ``chain_link``, ``district``, ``q``) and ``as_of`` apply as on ``/api/layers/projects``. Each file
carries its own styles (``static/app/charts.css`` with the colours of ``/app/style.css``), so it looks the same
in an ``<img>``, opened alone, or pasted into a slide.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app

from geo import chain, charts, filters
from geo.dataset import Dataset
from geo.errors import NotFoundError
from webmap.api import data_as_of, layer_filters, request_args
from webmap.stylesheet import stylesheet

bp = Blueprint("charts", __name__)


def _status(data: Dataset, projects: object) -> str:
    return charts.status_chart(charts.projects_by_status(projects))  # type: ignore[arg-type]


def _chain(data: Dataset, projects: object) -> str:
    return charts.chain_link_chart(chain.coverage({**data.layers, "projects": projects}))


def _districts(data: Dataset, projects: object) -> str:
    return charts.district_investment_chart(charts.investment_by_district(projects, data.layers["districts"]))  # type: ignore[arg-type]


#: The charts by the name in their URL: each draws from the dataset and its filtered projects.
CHARTS: dict[str, Callable[[Dataset, object], str]] = {
    "projects-by-status": _status, "projects-by-chain-link": _chain, "investment-by-district": _districts}


@lru_cache(maxsize=1)
def _chart_css(folder: str) -> str:
    """The charts' stylesheet with the colour variables it reads, as one ``<style>`` text."""
    return stylesheet() + Path(folder, "app", "charts.css").read_text(encoding="utf-8")


def standalone(svg: str, css: str) -> str:
    """An SVG chart of ``geo.charts`` as a document of its own: an XML declaration and its styles inside it."""
    head, sep, rest = svg.partition(">")
    if not sep or not head.startswith("<svg"):
        raise ValueError("not an SVG element")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{head}><style><![CDATA[{css.replace("]]>", "")}]]></style>{rest}'


@bp.get("/charts/<name>.svg")
def chart_svg(name: str) -> Response:
    """One chart (``projects-by-status``, ``projects-by-chain-link``, ``investment-by-district``) over the
    projects the map's filters and ``as_of`` select, as a standalone SVG file."""
    draw = CHARTS.get(name)
    if draw is None:
        raise NotFoundError(f"no chart {name[:60]!r}; expected one of: {', '.join(CHARTS)}", field="chart")
    args = request_args()
    data = data_as_of(args)
    wanted = layer_filters(args, data)
    key = ("chart", name, tuple(sorted(wanted.as_params().items())))
    svg = data.cached(key, lambda: draw(data, filters.apply("projects", data.layers, wanted, data.joined)))
    resp = Response(standalone(svg, _chart_css(str(current_app.static_folder))), mimetype="image/svg+xml")
    resp.headers["Content-Disposition"] = f'inline; filename="{name}.svg"'
    return resp
