"""Admin endpoints: start a reindex and follow it. They exist only when a token is set."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from .errors import error_response
from .jobs import read_job, start_job

admin = Blueprint("admin", __name__)


@admin.before_request
def require_token() -> Any:
    """404 when no ADMIN_TOKEN is configured; 401 unless the bearer token matches."""
    token = current_app.config["ADMIN_TOKEN"]
    if not token:
        return error_response(404, "not_found", "The requested URL was not found on the server.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        response = error_response(401, "unauthorized", "a valid bearer token is required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="postsearch"'
        return response
    return None


@admin.post("/api/reindex")
def start_reindex() -> Any:
    """Start a reindex in the background; 202 with the job id and where to follow it."""
    body = request.get_json(silent=True) or {}
    full = body.get("full", False) if isinstance(body, dict) else False
    if not isinstance(full, bool):
        return error_response(400, "invalid_parameter", "full must be true or false", "full")
    config = current_app.config
    job = start_job(
        Path(config["POSTS_DIR"]),
        Path(config["INDEX_DIR"]),
        full,
        int(config["KEEP_BUILDS"]),
        float(config["BUILD_GRACE_SECONDS"]),
    )
    response = jsonify(
        {
            "id": job["id"],
            "status": job["status"],
            "full": full,
            "status_url": f"/api/reindex/{job['id']}",
        }
    )
    response.status_code = 202
    response.headers["Location"] = f"/api/reindex/{job['id']}"
    return response


@admin.get("/api/reindex/<job_id>")
def reindex_status(job_id: str) -> Any:
    """The job's status: queued, running, succeeded (with the build) or failed (with why)."""
    job = read_job(Path(current_app.config["INDEX_DIR"]), job_id)
    if job is None:
        return error_response(404, "job_not_found", f"no reindex job {job_id[:40]!r}", "job_id")
    return jsonify(job)
