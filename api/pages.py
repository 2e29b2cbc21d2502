"""HTML pages besides the search page: `/posts/<slug>` and the embeddable `/widget.js`.

A post page is made from the served build alone (the catalog record and the body HTML
that `index/pages.py` rendered and sanitised at build time); the posts folder is never
read while serving. Everything from the post but the body goes through Jinja's
autoescaping. The related posts below the body come from the same widget other sites
embed, so the page is also the widget's reference integration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory

from search.errors import PostNotFound

pages = Blueprint("pages", __name__)

# Scripts only from this server; the body's own markup was cleaned at build time, so
# this is defence in depth. Images may come from anywhere a blog hosts them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' https: data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
LEVEL_ORDER = ("general", "medium", "specific", "niche", "exact")


@pages.get("/posts/<path:ref>")
def post_page(ref: str) -> Any:
    """A post rendered from the build, with its related posts; an old slug answers 301."""
    searcher = current_app.extensions["postsearch.searcher"]
    try:
        record = searcher.post(ref)
        loaded = searcher.current()
        row = loaded.row_of.get(record["slug"])
        if row is None:  # the build changed between the two look-ups
            raise PostNotFound(ref)
        body = loaded.pages.get(row)
    except PostNotFound:
        guess = ref.rsplit("/", 1)[-1].replace("-", " ")[:100]
        html = render_template("not_found.html", ref=ref, guess=guess)
        return _html(html, 404)
    html = render_template(
        "post.html", post=record, body=body, categories=category_names(record["categories"])
    )
    return _html(html, 200)


@pages.get("/widget.js")
def widget() -> Response:
    """The embeddable search box and related-posts widget (dependency-free)."""
    response = send_from_directory(
        current_app.static_folder or "static", "widget.js", mimetype="text/javascript"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"  # it is public code
    return response


def category_names(categories: list[dict[str, str]]) -> list[str]:
    """Category names from general to narrow, each once (the seed repeats the exact one)."""
    ordered = sorted(
        categories,
        key=lambda c: LEVEL_ORDER.index(c["level"]) if c["level"] in LEVEL_ORDER else 9,
    )
    return list(dict.fromkeys(c["name"] for c in ordered))


def long_date(iso: str) -> str:
    """`2024-05-31T10:00:00Z` -> `31 May 2024` (dates are UTC)."""
    try:
        moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return f"{moment.day} {moment:%B %Y}"


def _html(html: str, status: int) -> Response:
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@pages.record_once
def _register_filters(state: Any) -> None:
    state.app.add_template_filter(long_date, "long_date")


@pages.after_app_request
def _protect_search_page(response: Response) -> Response:
    """The search page (a static file, served by routes.py) gets the same policy."""
    if request.endpoint == "api.home":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response
