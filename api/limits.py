"""Optional per-client rate limiting of the public endpoints (flask-limiter)."""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many


def install_rate_limits(app: Flask) -> Limiter | None:
    """Limit every route but /healthz to RATE_LIMIT per client address (off when empty).

    A refused request is a 429 in the usual JSON error shape (`too_many_requests`) with
    `Retry-After` and the `X-RateLimit-*` headers.

    Counts live in RATE_LIMIT_STORAGE: `memory://` counts per worker process; point it
    at Redis or memcached (`redis://host:6379`) to share counts between workers.
    """
    rule = app.config["RATE_LIMIT"]
    if not rule:
        return None
    try:
        parse_many(rule)
    except ValueError as exc:
        raise ValueError(f"RATE_LIMIT {rule!r} is not a rate limit: {exc}") from None
    # One budget per client across all endpoints (application limits), not per route.
    limiter = Limiter(
        get_remote_address,
        app=app,
        application_limits=[rule],
        storage_uri=app.config["RATE_LIMIT_STORAGE"],
        application_limits_exempt_when=_is_health_check,
        headers_enabled=True,
    )
    return limiter


def _is_health_check() -> bool:
    return request.path == "/healthz"
