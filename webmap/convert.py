"""Small helpers for the map page's own scripts: ``GET /api/convert`` and ``GET /api/me``.

- ``/api/convert?lon=&lat=&crs=gcj02|bd09|wgs84|cgcs2000``: a position as a planner pasted it (from AMap or
  Tencent: GCJ-02; from Baidu: BD-09; from a GPS: WGS84) converted to WGS84 by :func:`geo.crs.to_wgs84`
  (the browser never converts by itself). The position must lie in the study area (400 naming ``lon`` or
  ``lat`` otherwise), as every query's does.
- ``/api/me``: who the page's session is (``user`` null when anonymous), whether they may edit records
  (``can_edit``: the role ``editor`` or stronger) and, for them, the CSRF token their writes send in the
  ``X-CSRFToken`` header. The map pages are cached per data version and shared by every user, so what is
  per user comes from here, never from the page (``Cache-Control: no-store``).
"""

from __future__ import annotations

from flask import Blueprint, Response
from flask_wtf.csrf import generate_csrf

from geo import crs
from webmap.api import request_args, respond
from webmap.auth import caller

bp = Blueprint("convert", __name__, url_prefix="/api")


@bp.get("/convert")
def convert() -> Response:
    """``lon``/``lat`` in ``crs`` (default wgs84) as WGS84 (EPSG:4326), 7 decimals (about a centimetre)."""
    args = request_args()
    point = args.position()
    if point is None:
        args.required("lon", "the longitude of the position to convert")
    x, y, system = point  # type: ignore[misc]
    lon, lat = crs.to_wgs84(x, y, system)
    return respond({"lon": round(float(lon), 7), "lat": round(float(lat), 7), "crs": "EPSG:4326",
                    "from": {"lon": x, "lat": y, "crs": system}})


@bp.get("/me")
def me() -> Response:
    """The session's user, whether they may edit, and (for an editor) the CSRF token of their writes."""
    who = caller()
    user = who.user
    can_edit = bool(user is not None and user.has_role("editor"))
    doc = {"user": None if user is None else {"name": user.name, "role": user.role}, "can_edit": can_edit,
           "csrf_token": generate_csrf() if can_edit and who.via == "session" else None}
    resp = respond(doc)
    resp.headers["Cache-Control"] = "no-store"
    resp.vary.add("Cookie")
    resp.vary.add("Authorization")
    return resp


__all__ = ["bp"]
