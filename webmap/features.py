"""Feature pages: ``/parks/<id>``, ``/projects/<id>``, ``/institutions/<id>`` with data, neighbours, source."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from geo import citations, formats
from geo.errors import NotFoundError
from webmap.data import current_data

bp = Blueprint("features", __name__)
FEATURE_LAYERS = ("parks", "projects", "institutions")
#: Shown in the page's provenance line (title, kind, date, excerpt), not as rows of its table: the file
#: name of the old ``source`` column is never the label of a source.
PROVENANCE_KEYS = frozenset({"source", "source_id", "source_excerpt", *citations.source_columns(),
                             "location_note", "location_note_zh", "location_note_en"})


def _feature_page(layer: str, feature_id: str) -> str:
    data = current_data()
    gdf = data.layers[layer]
    hit = gdf[gdf["id"] == feature_id]
    if hit.empty:
        raise NotFoundError(f"unknown {layer[:-1]} id {feature_id!r}", field="id")
    rec = formats.qualified(formats.records(hit)[0])
    neighbours = {}
    for other in FEATURE_LAYERS:
        near = data.engine.nearest(feature=feature_id, layer=other, k=5)
        neighbours[other] = formats.records(near, ["id", "layer", "name_zh", "name_en", "distance_km"])
    joined = data.joined[layer].set_index("id").loc[feature_id]
    context: dict[str, Any] = {"layer": layer, "rec": rec, "neighbours": neighbours, "provenance_keys": PROVENANCE_KEYS,
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


