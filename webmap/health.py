"""Probes for a load balancer: ``/healthz`` (the process answers) and ``/readyz`` (the store reads)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from geo.errors import StoreUnavailable
from webmap.data import current_data

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answering (says nothing about the store)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready when the store opens and every layer reads; 503 with what to do otherwise."""
    try:
        data = current_data()
    except StoreUnavailable as exc:
        return jsonify({"status": "unavailable", "error": str(exc)}), 503
    return jsonify({"status": "ready", "data_version": data.version,
                    "layers": {i.name: i.feature_count for i in data.info()}}), 200
