"""HTTP conventions integrators expect: CORS, ETag / 304 and Cache-Control.

Cross-origin reads are what the embeddable widget (`/widget.js`) needs: a blog on
another origin calls `/api/*` from the reader's browser. Only origins listed in
CORS_ORIGINS get the `Access-Control-Allow-Origin` header (none by default), and
preflight requests are answered here, before routing or rate limits see them.

Every answer of a read endpoint is a function of the URL, the served build (plus the
clock, for scheduled posts going live) and the code that renders it, so the build id,
the number of visible posts and a hash of the templates and scripts make a strong
validator: a client that sends the ETag back gets `304 Not Modified` without the search
being run at all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, g, request

from index.errors import ServiceError

# Endpoints whose GET answer depends only on the URL and the served build.
CACHEABLE_ENDPOINTS = frozenset(
    {"api.search", "api.suggest", "api.post", "related.related", "pages.post_page"}
)
CORS_PATHS = ("/api/", "/openapi.json", "/healthz")
CORS_METHODS = "GET, HEAD, POST, OPTIONS"
CORS_MAX_AGE = "600"
EXPOSED_HEADERS = "ETag, Retry-After, Location"


def allowed_origins(value: str) -> frozenset[str]:
    """Parse CORS_ORIGINS: origins separated by commas or spaces, or `*` for any."""
    return frozenset(o.strip().rstrip("/") for o in value.replace(",", " ").split() if o.strip())


def install_http_conventions(app: Flask) -> None:
    """Answer preflights, add CORS headers, and validate and tag cacheable answers."""
    origins = allowed_origins(str(app.config["CORS_ORIGINS"]))
    app.extensions["postsearch.cors_origins"] = origins
    app.extensions["postsearch.code_token"] = _code_token(app)

    @app.before_request
    def preflight_and_conditional() -> Response | None:
        if _is_preflight():
            return _preflight_response(origins)
        if request.method in ("GET", "HEAD") and request.endpoint in CACHEABLE_ENDPOINTS:
            g.postsearch_etag = _build_etag()
            if g.postsearch_etag and request.if_none_match.contains_weak(g.postsearch_etag):
                response = Response(status=304)
                response.set_etag(g.postsearch_etag)
                return response
        return None

    @app.after_request
    def tag_response(response: Response) -> Response:
        etag = g.get("postsearch_etag")
        if etag and response.status_code in (200, 304):
            response.set_etag(etag)
            response.headers["Cache-Control"] = current_app.config["CACHE_CONTROL"]
        _add_cors_headers(response, origins)
        return response


def _is_preflight() -> bool:
    return (
        request.method == "OPTIONS"
        and "Origin" in request.headers
        and "Access-Control-Request-Method" in request.headers
    )


def _origin_allowed(origins: frozenset[str]) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when this origin is not allowed."""
    origin = request.headers.get("Origin")
    if not origin or not request.path.startswith(CORS_PATHS):
        return None
    if "*" in origins:
        return "*"
    return origin if origin.rstrip("/") in origins else None


def _preflight_response(origins: frozenset[str]) -> Response:
    """204 for a preflight; without allow headers the browser refuses the real request."""
    response = Response(status=204)
    allow = _origin_allowed(origins)
    if allow:
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        # Only simple headers are needed; Authorization (admin) never crosses origins.
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def _add_cors_headers(response: Response, origins: frozenset[str]) -> None:
    if origins and request.path.startswith(CORS_PATHS):
        response.vary.add("Origin")
    allow = _origin_allowed(origins)
    if allow:
        response.headers["Access-Control-Allow-Origin"] = allow
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS


def _build_etag() -> str | None:
    """The served build's id and visible post count (None when no build can be served)."""
    try:
        stats = current_app.extensions["postsearch.searcher"].stats()
    except ServiceError:
        return None
    return f"{stats['build_id']}.{stats['posts']}.{current_app.extensions['postsearch.code_token']}"


def _code_token(app: Flask) -> str:
    """A short hash of the templates and static files, so a deploy changes every ETag."""
    digest = hashlib.sha256()
    for folder in (app.template_folder, app.static_folder):
        root = Path(app.root_path, folder or "")
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:8]
