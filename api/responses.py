"""Encoded JSON answers of the read endpoints, kept per worker and keyed by URL and ETag.

The build's own answer cache (search/cache.py) saves the search; what is left of a
repeated request is turning the answer into JSON, which for a page of results with
four facets costs as much again. The ETag already names everything a GET answer depends
on (build, visible posts, code), so the bytes sent for a URL under one ETag can be sent
again as they are: a new build or a post going live changes the ETag and with it every
key, and the stale entries age out of the LRU. Bounded by RESPONSE_CACHE_MB per worker.
Only answers that succeed are kept (once the cache has filled up, from a URL's second
request on); errors are raised before anything is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request

from search.cache import AnswerCache

# An answer: the encoded body, plus what the view must still do for every request
# answered with it (a zero-result search is counted each time it is made).
Answer = tuple[bytes, Any]
_ENTRIES = 100_000  # the size budget binds first; this only bounds the key table
# Once the cache has filled up, an answer is kept from the second request of its URL on,
# when that URL is among the last this many missed ones (under 2 MB of hashes): one-off
# searches, most of a site's distinct queries, then never push out the popular answers.
_MISSES_REMEMBERED = 16_384


def install_response_cache(app: Flask) -> None:
    """Give the app its per-worker cache of encoded answers (0 MB: none)."""
    budget = int(float(app.config["RESPONSE_CACHE_MB"]) * 1024 * 1024)
    app.extensions["postsearch.responses"] = AnswerCache(
        _ENTRIES if budget > 0 else 0,
        max_size=budget,
        size_of=_answer_size,
        admit_repeats_of=_MISSES_REMEMBERED,
    )


def cached_answer(compute: Callable[[], Answer]) -> Answer:
    """The answer for this URL under the current ETag, computed on the first request."""
    etag = g.get("postsearch_etag")
    if not etag or request.method != "GET":
        return compute()
    key = (etag, request.path, request.query_string)
    responses: AnswerCache = current_app.extensions["postsearch.responses"]
    return responses.get_or_compute(key, compute)


def encode(payload: Any) -> bytes:
    """The payload as Flask's `jsonify` would send it (same key order, same newline)."""
    return current_app.json.encode(payload)


def json_response(body: bytes) -> Response:
    return current_app.response_class(body, mimetype="application/json")


def _answer_size(answer: Answer) -> int:
    return len(answer[0]) + 200  # the key and tuple overhead, roughly
