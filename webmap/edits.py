"""Editing records on the map: ``PATCH`` and ``DELETE /api/features/<id>``, ``POST /api/layers/<layer>/features``.

Every write needs a user who may write (``webmap.auth.require_writer``) and goes through
:mod:`geo.ledger.edits`: one change of the ledger per request, planned under the store's write lock.
An edit or a delete names the version of the record it was made on: the header ``If-Match`` carries the
``ETag`` that ``GET /api/features/<id>`` (or the previous edit) gave. Without it the answer is 428; when
the record has changed since (another user's edit came first) it is 409 and nothing is written: the
client reloads the record (a new ETag) and makes its change again. Answers: the record as a GeoJSON
Feature with its new ``ETag`` header (also as the member ``etag``) and the ``change_id``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request

from geo.errors import GeoError, ValidationError
from geo.ledger import edits
from webmap.api import respond
from webmap.auth import current_writer, require_writer
from webmap.data import current_data, live_data

bp = Blueprint("edits", __name__, url_prefix="/api")

#: Members a request body may have: a GeoJSON Feature's, of which ``properties`` and ``geometry`` count.
BODY_MEMBERS: frozenset[str] = frozenset({"type", "id", "properties", "geometry"})


class PreconditionRequired(GeoError):
    """An edit or delete without ``If-Match``: it must say which version of the record it was made on."""

    http_status = 428


def expected_etag() -> str:
    """The ETag of ``If-Match`` (one, quoted as sent by ``ETag``); 428 without one, 400 for several or ``*``."""
    raw = request.headers.get("If-Match", "")
    if not raw.strip():
        raise PreconditionRequired(
            "If-Match is required: send the ETag of the record as you loaded it (GET /api/features/<id> gives it), "
            "so that an edit made meanwhile by someone else is never overwritten · 请在 If-Match 请求头中发送记录的 ETag",
            field="If-Match")
    tags = request.if_match
    found = tags.as_set(include_weak=True)  # a proxy that compresses may weaken it: the value is the same
    if tags.star_tag or len(found) != 1:
        raise ValidationError(f"If-Match={raw[:100]!r}: expected one ETag of the record, like \"3f2a9c0d1e4b5a67\" "
                              "(not *: an edit says which version it changes)", field="If-Match")
    return found.pop()


def _body() -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """``properties`` and ``geometry`` of the JSON body (a GeoJSON Feature or just those members)."""
    try:
        doc = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("the body is not JSON: send {\"properties\": {...}, \"geometry\": {...}}",
                              field="body") from None
    if not isinstance(doc, dict):
        raise ValidationError("the body must be a JSON object: {\"properties\": {...}, \"geometry\": {...}}",
                              field="body")
    for key in doc:
        if key not in BODY_MEMBERS:
            raise ValidationError(f"unknown member {key!r} of the body; expected properties and geometry",
                                  field=str(key))
    return doc.get("properties"), doc.get("geometry")


def _answer(done: edits.Edit, status: int = 200) -> Response:
    """The record as a GeoJSON Feature with its ETag and the change id."""
    doc = {**edits.feature_of(done, current_data().sources), "etag": done.etag, "change_id": done.change_id}
    resp = respond(doc, "application/geo+json", status)
    if done.etag:
        resp.set_etag(done.etag)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.patch("/features/<feature_id>")
@require_writer()
def edit(feature_id: str) -> Response:
    """Change some properties (None clears one) and, with a geometry, move the record; ``If-Match`` required."""
    layer, _ = current_data().engine.feature(feature_id)  # 404 for an unknown id
    etag = expected_etag()
    properties, geometry = _body()
    user = current_writer()
    done = edits.edit_record(live_data().store, layer, feature_id, properties=properties, geometry=geometry,
                             expected_etag=etag, user=user.name)
    return _answer(done)


@bp.delete("/features/<feature_id>")
@require_writer()
def delete(feature_id: str) -> Response:
    """Delete a record (the ledger keeps it; an undo brings it back); ``If-Match`` required."""
    layer, _ = current_data().engine.feature(feature_id)
    etag = expected_etag()
    user = current_writer()
    done = edits.delete_record(live_data().store, layer, feature_id, expected_etag=etag, user=user.name)
    resp = respond({"change_id": done.change_id, "layer": layer, "id": feature_id, "deleted": True,
                    "source_id": f"edit-{done.change_id}"})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/layers/<layer>/features")
@require_writer()
def add(layer: str) -> Response:
    """Add a record to parks, projects or institutions: ``name_zh`` and a Point geometry at least."""
    current_data().layer(layer)  # 404 for an unknown layer
    properties, geometry = _body()
    user = current_writer()
    done = edits.add_record(live_data().store, layer, properties=properties, geometry=geometry, user=user.name)
    resp = _answer(done, 201)
    resp.headers["Location"] = f"/api/features/{done.record_id}"
    return resp


__all__ = ["PreconditionRequired", "bp", "expected_etag"]
