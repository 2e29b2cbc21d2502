"""The JSON endpoints: search, post look-up and health (related posts: related_routes.py)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from flask import Blueprint, current_app, jsonify, send_from_directory

from index.errors import BuildCorrupt, IndexNotBuilt
from search import Searcher, SearchRequest
from search.searcher import SORTS

from .errors import error_body
from .params import (
    bool_param,
    choice_param,
    date_param,
    int_param,
    list_param,
    text_param,
)
from .responses import cached_answer, encode, json_response

bp = Blueprint("api", __name__)
# Collapses "//" left by empty date parts, but not the one after "https:".
_REPEATED_SLASHES = re.compile(r"(?<!:)/{2,}")


def searcher() -> Searcher:
    return current_app.extensions["postsearch.searcher"]


def public_url(post: dict[str, Any]) -> str:
    """The post's public URL from the PERMALINK template (date parts empty when undated)."""
    return _permalink(current_app.config["PERMALINK"], post["slug"], post.get("date") or "")


@lru_cache(maxsize=16_384)  # a page of results makes ten: popular posts recur
def _permalink(template: str, slug: str, date: str) -> str:
    url = template.format(slug=quote(slug, safe=""), year=date[:4], month=date[5:7], day=date[8:10])
    return _REPEATED_SLASHES.sub("/", url)


@bp.get("/api/search")
def search() -> Any:
    """Full-text search; an empty `q` lists visible posts newest first."""
    # Parameters are read only when the answer is not cached: only valid ones are cached.
    body, zero_result_query = cached_answer(lambda: _search_answer(_search_request()))
    if zero_result_query:
        current_app.extensions["postsearch.zero_results"].record(zero_result_query)
    return json_response(body)


def _search_request() -> SearchRequest:
    """The search the URL asks for. Raises InvalidParameter (400) on a bad value."""
    config = current_app.config
    return SearchRequest(
        q=text_param("q"),
        page=int_param("page", 1),
        per_page=int_param("per_page", config["DEFAULT_PER_PAGE"], config["MAX_PER_PAGE"]),
        categories=list_param("category"),
        tags=list_param("tag"),
        authors=list_param("author"),
        years=list_param("year"),
        featured=bool_param("featured"),
        trending=bool_param("trending"),
        date_from=date_param("from"),
        date_to=date_param("to", end_of_day=True),
        sort=choice_param("sort", SORTS),
        prefix=bool(bool_param("prefix")),
        correct=bool_param("correct") is not False,
    )


def _search_answer(request: SearchRequest) -> tuple[bytes, str | None]:
    """The encoded page, and the query when it is a zero-result search worth reporting."""
    found = searcher().search(request)
    page = found.to_dict()
    for result in page["results"]:
        result["url"] = public_url(result)
    zero = found.total == 0 and bool(found.query) and _unfiltered(request)
    return encode(page), found.query if zero else None


def _unfiltered(request: SearchRequest) -> bool:
    """A first-page, finished search without filters: its zero results are worth reporting
    (a reader's own filters or a half-typed word explain nothing about missing posts)."""
    filters = (request.categories, request.tags, request.authors, request.years)
    flags = (request.featured, request.trending, request.date_from, request.date_to)
    return request.page == 1 and not request.prefix and not any(filters) and flags.count(None) == 4


@bp.get("/api/posts/<path:ref>")
def post(ref: str) -> Any:
    """One visible post's public fields; an alias or old slug answers 301."""
    record = searcher().post(ref)
    record["url"] = public_url(record)
    return jsonify(record)


@bp.get("/healthz")
def healthz() -> Any:
    """200 with the served build, or 503 when there is none to serve."""
    try:
        stats = searcher().stats()
    except (IndexNotBuilt, BuildCorrupt) as exc:
        code = "index_not_built" if isinstance(exc, IndexNotBuilt) else "build_unavailable"
        body = {
            "status": "unavailable",
            "build_id": None,
            "posts": 0,
            **error_body(503, code, str(exc)),
        }
        return jsonify(body), 503
    return jsonify(
        {
            "status": "ok",
            "build_id": stats["build_id"],
            "posts": stats["posts"],
            "built_at": stats["created_at"],
        }
    )


@bp.get("/")
def home() -> Any:
    """The search page."""
    return send_from_directory(current_app.static_folder or "static", "index.html")


@bp.get("/api/suggest")
def suggest() -> Any:
    """Completions of the last word typed and posts whose titles match, for a search box."""

    def answer() -> tuple[bytes, None]:  # parameters read only when not cached (see search)
        config = current_app.config
        q = text_param("q")
        limit = int_param("limit", 8, config["MAX_SUGGESTIONS"])
        titles = int_param("posts", 5, config["MAX_SUGGESTIONS"])
        page = searcher().suggest(q, limit=limit, titles=titles).to_dict()
        for post in page["posts"]:
            post["url"] = public_url(post)
        return encode(page), None

    return json_response(cached_answer(answer)[0])
