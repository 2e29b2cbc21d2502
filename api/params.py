"""Read and validate query-string parameters; a bad value is a 400 naming the parameter."""

from __future__ import annotations

from flask import request

from search.errors import InvalidParameter

MAX_PARAM_CHARS = 1000


def int_param(name: str, default: int, maximum: int | None = None) -> int:
    """An integer ≥ 1 from the query string, capped at `maximum`.

    Raises InvalidParameter for text that is not a positive whole number.
    """
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 30:
        raise InvalidParameter(name, f"{name} must be a positive whole number, got {raw[:20]!r}")
    value = int(text)
    if value < 1:
        raise InvalidParameter(name, f"{name} must be at least 1")
    return min(value, maximum) if maximum else value


def text_param(name: str) -> str:
    """A text parameter (empty when absent). Raises InvalidParameter when absurdly long."""
    value = request.args.get(name, "")
    if len(value) > MAX_PARAM_CHARS:
        raise InvalidParameter(name, f"{name} is longer than {MAX_PARAM_CHARS} characters")
    return value


def list_param(name: str, limit: int = 20) -> tuple[str, ...]:
    """All non-empty values of a repeated parameter (also comma-separated), at most `limit`."""
    values = [v.strip() for raw in request.args.getlist(name) for v in raw.split(",")]
    values = [v for v in values if v]
    if len(values) > limit or any(len(v) > 200 for v in values):
        raise InvalidParameter(name, f"at most {limit} {name} values of up to 200 characters")
    return tuple(dict.fromkeys(values))
