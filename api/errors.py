"""One JSON error shape for every failure, and the map from our exceptions to HTTP."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from index.errors import BuildCorrupt, IndexNotBuilt, ServiceError
from search.errors import InvalidParameter, PostMoved, PostNotFound

log = logging.getLogger(__name__)

_STATUS_OF: list[tuple[type[ServiceError], int, str]] = [
    (InvalidParameter, 400, "invalid_parameter"),
    (PostNotFound, 404, "post_not_found"),
    (IndexNotBuilt, 503, "index_not_built"),
    (BuildCorrupt, 503, "build_unavailable"),
]


def error_body(status: int, code: str, message: str, param: str | None = None) -> dict:
    """The body of every error response."""
    return {"error": {"status": status, "code": code, "message": message, "param": param}}


def error_response(status: int, code: str, message: str, param: str | None = None) -> Response:
    """A JSON error response with the matching status."""
    response = jsonify(error_body(status, code, message, param))
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Route our exceptions, Werkzeug's HTTP errors and real bugs to JSON answers."""

    @app.errorhandler(PostMoved)
    def moved(exc: PostMoved) -> Response:
        # A relative Location built from the route alone: never from Host or query keys.
        location = url_for(request.endpoint or "api.post", ref=exc.slug)
        if request.query_string:
            location += "?" + request.query_string.decode("latin-1")
        response = error_response(301, "moved_permanently", str(exc))
        response.headers["Location"] = location
        return response

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError) -> Response:
        for kind, status, code in _STATUS_OF:
            if isinstance(exc, kind):
                return error_response(status, code, str(exc), getattr(exc, "param", None))
        return unexpected(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(exc.code or 500, code, exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "internal server error")
