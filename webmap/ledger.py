"""The ledger on the web: ``POST /api/import``, ``/api/history``, undo, the template, and the ``/ledger`` page.

Every write needs a user who may write (``webmap.auth.require_writer``: a login, or a bearer token) and
goes through the same :mod:`geo.ledger` functions as ``run.py import`` / ``history`` / ``undo``. The
store is the app's own (``webmap.data.live_data().store``); the next request of every worker serves what
was committed.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request, send_file

from geo.errors import ValidationError
from geo.ledger import changes as ledger
from geo.ledger.imports import IMPORT_LAYERS, import_file
from geo.ledger.readers import MAX_IMPORT_BYTES
from geo.ledger.template import write_template
from geo.store import Update
from webmap.api import request_args, respond
from webmap.auth import current_writer, require_writer
from webmap.data import current_data, live_data

bp = Blueprint("ledger", __name__)

#: Largest upload to ``/api/import``: the file limit and room for the multipart envelope.
MAX_UPLOAD_BYTES = MAX_IMPORT_BYTES + 64 * 1024
#: Most history rows one answer gives (``limit``).
MAX_HISTORY_ROWS = 10_000
CRS_CHOICES = ("wgs84", "gcj02", "bd09", "cgcs2000")


def _flag(args: Any, name: str) -> bool:
    return args.choice(name, ("0", "1", "true", "false"), "0") in ("1", "true")


@bp.post("/api/import")
@require_writer()
def import_() -> tuple[Response, int]:
    """Preview (``dry_run=1``) or commit a file (multipart field ``file``) of parks, projects or institutions."""
    args = request_args()
    layer = args.choice("layer", IMPORT_LAYERS)
    if layer is None:
        raise ValidationError(f"layer is required: one of {', '.join(IMPORT_LAYERS)}", field="layer")
    input_crs = args.choice("crs", CRS_CHOICES, "wgs84")
    sheet = args.text("sheet")
    dry_run, skip_invalid = _flag(args, "dry_run"), _flag(args, "skip_invalid")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError("send the file as the multipart form field 'file' · 请以表单字段 file 上传文件",
                              field="file")
    data = upload.read(MAX_IMPORT_BYTES + 1)
    user = current_writer()
    # the client's file name is only ever text (the register's record of the import), never a path
    file_name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    report = import_file(live_data().store, data, file_name, layer=layer, input_crs=input_crs, sheet=sheet,
                         user=user.name, dry_run=dry_run, skip_invalid=skip_invalid,
                         layers={**current_data().layers, **current_data().internal})
    status = 422 if report.rejected and not dry_run and not report.committed else 200
    return respond(report.to_dict()), status


@bp.get("/api/import/template")
def template() -> Response:
    """The XLSX template of a layer (headers in Chinese and English, one example row)."""
    layer = request_args().choice("layer", IMPORT_LAYERS, "projects")
    out = io.BytesIO()
    write_template(layer, out)
    out.seek(0)
    return send_file(out, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     as_attachment=True, download_name=f"{layer}-template.xlsx")


@bp.get("/api/history")
def history() -> Response:
    """The change log (oldest first): of one record (``id``), one change (``change``), a layer, since a day."""
    args = request_args()
    since = args.text("since")
    limit = args.integer("limit", 1000, minimum=1, maximum=MAX_HISTORY_ROWS)
    rows = ledger.history(current_data().changes, record_id=args.text("id"), change_id=args.text("change"),
                          layer=args.choice("layer", ledger.LEDGER_LAYERS),
                          since=ledger.parse_day(since, "since") if since else None)
    total = len(rows)
    rows = rows.tail(limit)
    return respond({"changes": ledger.history_records(rows), "count": len(rows), "total": total,
                    "times": "recorded_at is UTC; valid_from and since are days in China time (UTC+8)"})


@bp.post("/api/history/<change_id>/revert")
@require_writer()
def revert(change_id: str) -> Response:
    """Undo a change: a new change restores each record it touched (409 if one has changed since)."""
    user = current_writer()
    done = ledger.commit(live_data().store,
                         lambda layers, _cid: (ledger.revert(layers.get(ledger.LOG), change_id), Update()),
                         user=user.name, kind="undo", reverts=change_id)
    return respond({"change_id": done.change_id, "reverts": change_id, "counts": done.counts(),
                    "records": [{"layer": c.layer, "id": c.record_id, "operation": c.operation}
                                for c in done.changes]})


def _upload_limit() -> None:
    """Let an import upload be as large as the import allows (every other request keeps the app's limit)."""
    if request.endpoint == "ledger.import_":
        request.max_content_length = MAX_UPLOAD_BYTES


def init_app(app: Flask) -> None:
    """Register the ledger's views and the upload limit of ``/api/import``."""
    app.before_request(_upload_limit)
    app.register_blueprint(bp)


@bp.get("/ledger")
def page() -> str:
    """The ledger page: upload a file, preview it, commit it; the template; the latest changes."""
    data = current_data()
    recent = ledger.history(data.changes).tail(20).iloc[::-1]
    return render_template("ledger.html", layers=IMPORT_LAYERS, crs_choices=CRS_CHOICES,
                           recent=ledger.history_records(recent), max_mb=MAX_IMPORT_BYTES // (1024 * 1024))
