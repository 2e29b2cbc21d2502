"""The related-articles endpoints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from .params import int_param
from .routes import public_url, searcher

related_bp = Blueprint("related", __name__)


@related_bp.get("/api/posts/<path:ref>/related")
def related(ref: str) -> Any:
    """The related posts of a post, each with its score parts and reasons."""
    config = current_app.config
    limit = int_param("limit", config["DEFAULT_RELATED_LIMIT"], config["MAX_RELATED_LIMIT"])
    page = searcher().related(ref, limit).to_dict()
    for result in page["results"]:
        result["url"] = public_url(result)
    return jsonify(page)
