"""The related-articles endpoints: a post's related posts, and those of an unsaved draft."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from index.posts import LEVELS, UNKNOWN_LEVEL
from search.drafts import Draft, draft_related
from search.errors import InvalidParameter

from .params import int_param
from .responses import cached_answer, encode, json_response
from .routes import public_url, searcher

related_bp = Blueprint("related", __name__)

# Bounds on a draft: a long post is ~100 k characters of Markdown.
MAX_DRAFT_BYTES = 512 * 1024
MAX_TITLE_CHARS = 1_000
MAX_BODY_CHARS = 200_000
MAX_LABELS = 50
MAX_LABEL_CHARS = 200


@related_bp.get("/api/posts/<path:ref>/related")
def related(ref: str) -> Any:
    """The related posts of a post, each with its score parts and reasons."""

    def answer() -> tuple[bytes, None]:  # the limit read only when not cached
        config = current_app.config
        limit = int_param("limit", config["DEFAULT_RELATED_LIMIT"], config["MAX_RELATED_LIMIT"])
        return encode(_with_urls(searcher().related(ref, limit).to_dict())), None

    return json_response(cached_answer(answer)[0])


@related_bp.post("/api/related")
def related_to_draft() -> Any:
    """The posts an unpublished draft should link to, with reasons; nothing is indexed.

    JSON body: `title`, `body` (Markdown), `categories` (names or `{name, type}`),
    `tags`, optional `limit`. Read-only: it needs no token.
    """
    data = _json_object()
    config = current_app.config
    limit = _limit(data, config["DEFAULT_RELATED_LIMIT"], config["MAX_RELATED_LIMIT"])
    draft = Draft(
        title=_text(data, "title", MAX_TITLE_CHARS),
        body=_text(data, "body", MAX_BODY_CHARS),
        categories=tuple(_categories(data.get("categories"))),
        tags=tuple(_names(data.get("tags"), "tags")),
    )
    if not (draft.title.strip() or draft.body.strip() or draft.categories or draft.tags):
        raise InvalidParameter("title", "a draft needs a title, a body, categories or tags")
    loaded = searcher().current()
    page = draft_related(loaded, draft, limit, dt.datetime.now(dt.UTC))
    return jsonify(_with_urls(page.to_dict()))


def _with_urls(page: dict[str, Any]) -> dict[str, Any]:
    for result in page["results"]:
        result["url"] = public_url(result)
    return page


def _json_object() -> dict[str, Any]:
    """The request body as a JSON object. Raises RequestEntityTooLarge or InvalidParameter."""
    if (request.content_length or 0) > MAX_DRAFT_BYTES:
        raise RequestEntityTooLarge(f"a draft is limited to {MAX_DRAFT_BYTES // 1024} KB")
    raw = request.stream.read(MAX_DRAFT_BYTES + 1)
    if len(raw) > MAX_DRAFT_BYTES:
        raise RequestEntityTooLarge(f"a draft is limited to {MAX_DRAFT_BYTES // 1024} KB")
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise InvalidParameter(
            "body", "send the draft as a JSON object: {title, body, categories, tags}"
        )
    return data


def _limit(data: dict[str, Any], default: int, maximum: int) -> int:
    if "limit" not in data:
        return int_param("limit", default, maximum)
    value = data["limit"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameter("limit", "limit must be a positive whole number")
    return min(value, maximum)


def _text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidParameter(name, f"{name} must be text")
    if len(value) > limit:
        raise InvalidParameter(name, f"{name} is longer than {limit} characters")
    return value


def _names(value: Any, name: str) -> list[str]:
    """Label names from a list of strings or a comma-separated string."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or len(items) > MAX_LABELS:
        raise InvalidParameter(name, f"{name} must be a list of at most {MAX_LABELS} names")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str) or len(item) > MAX_LABEL_CHARS:
            raise InvalidParameter(name, f"each of {name} must be text of <= {MAX_LABEL_CHARS}")
        if item.strip() and item.strip() not in names:
            names.append(item.strip())
    return names


def _categories(value: Any) -> list[tuple[str, str]]:
    """(name, level) pairs from names or `{name, type}` objects (the seed's format)."""
    if not isinstance(value, list) or not any(isinstance(v, dict) for v in value):
        return [(name, UNKNOWN_LEVEL) for name in _names(value, "categories")]
    if len(value) > MAX_LABELS:
        raise InvalidParameter("categories", f"at most {MAX_LABELS} categories")
    found: list[tuple[str, str]] = []
    for item in value:
        item = {"name": item} if isinstance(item, str) else item
        name = item.get("name") if isinstance(item, dict) else None
        level = item.get("type", item.get("level")) if isinstance(item, dict) else None
        level = UNKNOWN_LEVEL if level is None else level
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_LABEL_CHARS:
            raise InvalidParameter("categories", "each category needs a name (text)")
        if not isinstance(level, str) or level.lower() not in (*LEVELS, UNKNOWN_LEVEL):
            raise InvalidParameter("categories", f"a category type is one of {', '.join(LEVELS)}")
        found.append((name.strip(), level.lower()))
    return found
