"""`/openapi.json`: an OpenAPI 3.1 description of every endpoint, parameter and answer.

Written by hand, next to the routes it describes, and kept true by
tests/test_openapi.py, which runs schemathesis against a live server: every answer it
provokes must have a documented status, content type and body shape.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

openapi_bp = Blueprint("openapi", __name__)

JSON = "application/json"
NULLABLE_STRING = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, headers: dict | None = None) -> dict:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _query(name: str, schema: dict, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, **extra}  # fmt: skip


def _list(name: str, description: str) -> dict[str, Any]:
    items = {"type": "string", "maxLength": 200}
    return _query(name, {"type": "array", "items": items, "maxItems": 20}, description,
                  style="form", explode=True)  # fmt: skip


POSITIVE = {"type": "integer", "minimum": 1}
FLAG = {"type": "string", "enum": ["1", "0", "true", "false", "yes", "no", "on", "off"]}
REF_PARAM = {
    "name": "ref",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "A post's slug (an alias or old slug answers 301).",
}
ETAG = {"ETag": {"description": "Build id and visible posts: send it back in If-None-Match.",
                 "schema": {"type": "string"}}}  # fmt: skip
CACHED = {"304": {"description": "Not modified: the If-None-Match ETag is still current."}}
COMMON = {
    "400": _error("A parameter is invalid; `param` names it."),
    "414": {"description": "The URL is longer than gunicorn's limit_request_line (4094 bytes)."},
    "429": _error("Over RATE_LIMIT; see Retry-After."),
    "503": _error("No build can be served yet."),
}
MOVED = {
    "301": _json(
        _ref("Error"),
        "An alias or old slug: Location holds the canonical URL.",
        {"Location": {"schema": {"type": "string"}}},
    ),  # fmt: skip
    "404": _error("No visible post has this slug."),
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message", "param"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "param": NULLABLE_STRING,
                },
            }
        },
    },
    "Category": {
        "type": "object",
        "required": ["name", "level"],
        "properties": {"name": {"type": "string"}, "level": {"type": "string"}},
    },
    "Hit": {
        "type": "object",
        "required": [
            "slug",
            "title",
            "excerpt",
            "date",
            "categories",
            "tags",
            "authors",
            "score",
            "snippet",
            "title_html",
            "url",
        ],  # fmt: skip
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string", "description": "Plain text: escape it."},
            "title_html": {"type": "string", "description": "Safe HTML, matches in <mark>."},
            "snippet": {"type": "string", "description": "Safe HTML, matches in <mark>."},
            "excerpt": {"type": "string"},
            "date": NULLABLE_STRING,
            "categories": {"type": "array", "items": _ref("Category")},
            "tags": {"type": "array", "items": {"type": "string"}},
            "authors": {"type": "array", "items": {"type": "string"}},
            "score": {"type": "number"},
            "url": {"type": "string"},
        },
    },
    "FacetValue": {
        "type": "object",
        "required": ["name", "value", "count"],
        "properties": {
            "name": {"type": "string"},
            "value": {"type": "string", "description": "What to send back as the filter."},
            "count": {"type": "integer"},
            "level": {"type": "string", "description": "Categories only."},
        },
    },
    "SearchPage": {
        "type": "object",
        "required": [
            "query",
            "total",
            "page",
            "per_page",
            "results",
            "facets",
            "sort",
            "fallback",
            "corrected_query",
            "suggestion",
            "partial",
            "build_id",
        ],  # fmt: skip
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "results": {"type": "array", "items": _ref("Hit")},
            "facets": {
                "type": "object",
                "properties": {
                    name: {"type": "array", "items": _ref("FacetValue")}
                    for name in ("categories", "tags", "authors", "years")
                },
            },
            "sort": {"type": "string", "enum": ["relevance", "newest"]},
            "fallback": {"type": ["string", "null"]},
            "corrected_query": NULLABLE_STRING,
            "suggestion": NULLABLE_STRING,
            "partial": {"type": "boolean"},
            "build_id": {"type": "string"},
        },
    },
    "Suggestions": {
        "type": "object",
        "required": ["query", "completions", "posts", "build_id"],
        "properties": {
            "query": {"type": "string"},
            "completions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["text", "word", "posts"],
                    "properties": {
                        "text": {"type": "string"},
                        "word": {"type": "string"},
                        "posts": {"type": "integer"},
                    },
                },
            },
            "posts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["slug", "title", "title_html", "url"],
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "title_html": {"type": "string"},
                        "date": NULLABLE_STRING,
                        "url": {"type": "string"},
                    },
                },
            },
            "build_id": {"type": "string"},
        },
    },
    "Post": {
        "type": "object",
        "required": ["slug", "title", "excerpt", "date", "categories", "tags", "authors", "url"],
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "excerpt": {"type": "string"},
            "date": NULLABLE_STRING,
            "categories": {"type": "array", "items": _ref("Category")},
            "tags": {"type": "array", "items": {"type": "string"}},
            "authors": {"type": "array", "items": {"type": "string"}},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "image": NULLABLE_STRING,
            "reading_time": {"type": "integer"},
            "lang": {"type": "string"},
            "url": {"type": "string"},
        },
    },
    "RelatedPost": {
        "type": "object",
        "required": [
            "slug",
            "title",
            "excerpt",
            "date",
            "score",
            "score_parts",
            "reasons",
            "reason",
            "url",
        ],  # fmt: skip
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "excerpt": {"type": "string"},
            "date": NULLABLE_STRING,
            "score": {"type": "number"},
            "score_parts": {"type": "object", "additionalProperties": {"type": "number"}},
            "reasons": {"type": "array", "items": {"type": "object"}},
            "reason": {"type": "string", "description": "Why it is related, for readers."},
            "url": {"type": "string"},
        },
    },
    "RelatedPage": {
        "type": "object",
        "required": ["slug", "results", "build_id"],
        "properties": {
            "slug": NULLABLE_STRING,
            "results": {"type": "array", "items": _ref("RelatedPost")},
            "build_id": {"type": "string"},
        },
    },
    "Draft": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 1000},
            "body": {"type": "string", "maxLength": 200000, "description": "Markdown."},
            "categories": {
                "description": "Names, or `{name, type}` objects (type: the category level).",
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": ["string", "object"]}, "maxItems": 50},
                ],
            },
            "tags": {
                "oneOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}, "maxItems": 50},
                ]
            },
            "limit": POSITIVE,
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "build_id", "posts"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "build_id": NULLABLE_STRING,
            "posts": {"type": "integer"},
            "built_at": {"type": "string"},
            "error": {"type": "object", "description": "Why, when unavailable (Error's body)."},
        },
    },
    "Job": {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
        },
    },
}

SEARCH_PARAMETERS = [
    _query("q", {"type": "string", "maxLength": 1000}, "What was typed; empty: newest first."),
    _query("page", POSITIVE, "Page number from 1."),
    _query("per_page", POSITIVE, "Results per page (capped at MAX_PER_PAGE)."),
    _list("category", "Only posts in one of these categories (any level)."),
    _list("tag", "Only posts with one of these tags."),
    _list("author", "Only posts by one of these authors."),
    _list("year", "Only posts from one of these years."),
    _query("featured", FLAG, "Only posts that are (1) or are not (0) featured."),
    _query("trending", FLAG, "Only posts that are (1) or are not (0) trending."),
    _query("from", {"type": "string"}, "Earliest date: 2024, 2024-05, 2024-05-31 or ISO time."),
    _query("to", {"type": "string"}, "Latest date (a bare year, month or day is included)."),
    _query("sort", {"type": "string", "enum": ["relevance", "newest"]}, "Order of results."),
    _query("prefix", FLAG, "1: the last word is still being typed."),
    _query("correct", FLAG, "0: search the words as typed even when a correction exists."),
]  # fmt: skip

HTML_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}


def _paths() -> dict[str, Any]:
    json_get = {"tags": ["search"]}
    return {
        "/api/search": {"get": {**json_get, "summary": "Search posts", "operationId": "search",
            "parameters": SEARCH_PARAMETERS,
            "responses": {"200": _json(_ref("SearchPage"), "A page of results.", ETAG),
                          **CACHED, **COMMON}}},
        "/api/suggest": {"get": {**json_get, "summary": "Completions as you type",
            "operationId": "suggest",
            "parameters": [
                _query("q", {"type": "string", "maxLength": 1000}, "The text typed so far."),
                _query("limit", POSITIVE, "Completions wanted (capped at MAX_SUGGESTIONS)."),
                _query("posts", POSITIVE, "Matching titles wanted (capped at MAX_SUGGESTIONS)."),
            ],
            "responses": {"200": _json(_ref("Suggestions"), "Completions and titles.", ETAG),
                          **CACHED, **COMMON}}},
        "/api/posts/{ref}": {"get": {"tags": ["posts"], "summary": "One post",
            "operationId": "post", "parameters": [REF_PARAM],
            "responses": {"200": _json(_ref("Post"), "The post's public fields.", ETAG),
                          **CACHED, **MOVED, **COMMON}}},
        "/api/posts/{ref}/related": {"get": {"tags": ["related"], "summary": "Related posts",
            "operationId": "related",
            "parameters": [REF_PARAM, _query("limit", POSITIVE, "Posts wanted (capped).")],
            "responses": {"200": _json(_ref("RelatedPage"), "Related posts with reasons.", ETAG),
                          **CACHED, **MOVED, **COMMON}}},
        "/api/related": {"post": {"tags": ["related"], "summary": "Related posts of a draft",
            "operationId": "relatedToDraft",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Draft")}}},
            "responses": {"200": _json(_ref("RelatedPage"), "Posts the draft could link to."),
                          "413": _error("The draft is over 512 KB."),
                          "415": _error("Not a JSON body."), **COMMON}}},
        "/api/reindex": {"post": {"tags": ["admin"], "summary": "Start a reindex",
            "operationId": "startReindex", "security": [{"bearer": []}],
            "requestBody": {"required": False, "content": {JSON: {"schema": {
                "type": "object", "properties": {"full": {"type": "boolean"}}}}}},
            "responses": {"202": _json(_ref("Job"), "The job was queued."),
                          "401": _error("Missing or wrong bearer token."),
                          "404": _error("No ADMIN_TOKEN is set: no admin endpoints."),
                          **COMMON}}},
        "/api/reindex/{job_id}": {"get": {"tags": ["admin"], "summary": "A reindex job",
            "operationId": "reindexStatus", "security": [{"bearer": []}],
            "parameters": [{"name": "job_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": _json(_ref("Job"), "The job's status."),
                          "401": _error("Missing or wrong bearer token."),
                          "404": _error("No such job, or no admin endpoints."),
                          **COMMON}}},
        "/healthz": {"get": {"tags": ["operations"], "summary": "Health",
            "operationId": "health",
            "responses": {"200": _json(_ref("Health"), "A build is served."),
                          "503": _json(_ref("Health"), "No build can be served.")}}},
        "/metrics": {"get": {"tags": ["operations"], "summary": "Prometheus metrics",
            "operationId": "metrics",
            "responses": {"200": {"description": "Prometheus text format.",
                "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"tags": ["operations"], "summary": "This description",
            "operationId": "openapi",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1.")}}},
        "/": {"get": {"tags": ["pages"], "summary": "The search page", "operationId": "home",
            "responses": {"200": {"description": "HTML.", **HTML_PAGE}, **CACHED}}},
        "/posts/{ref}": {"get": {"tags": ["pages"], "summary": "A post's page",
            "operationId": "postPage", "parameters": [REF_PARAM],
            "responses": {"200": {"description": "The post and its related posts.", **HTML_PAGE},
                          "404": {"description": "No such post (JSON for a path no route takes).",
                                  "content": {**HTML_PAGE["content"], **_error("")["content"]}},
                          "301": _json(_ref("Error"), "Alias or old slug; see Location."),
                          **CACHED, "414": COMMON["414"], "429": COMMON["429"],
                          "503": COMMON["503"]}}},
        "/widget.js": {"get": {"tags": ["pages"], "summary": "The embeddable widget",
            "operationId": "widget",
            "responses": {"200": {"description": "JavaScript.",
                "content": {"text/javascript": {"schema": {"type": "string"}}}}, **CACHED}}},
    }  # fmt: skip


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of this service."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "postsearch",
            "version": "1",
            "description": "Full-text search and related posts for a Markdown blog. Every error "
            "has the `Error` shape; `title_html` and `snippet` are the only HTML fields.",
        },
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@openapi_bp.get("/openapi.json")
def openapi() -> object:
    """Serve the OpenAPI document (built once per process)."""
    document = current_app.extensions.setdefault("postsearch.openapi", openapi_document())
    return jsonify(document)
