"""Read and validate query-string parameters; a bad value is a 400 naming the parameter."""

from __future__ import annotations

import datetime as dt

from flask import request

from search.errors import InvalidParameter

MAX_PARAM_CHARS = 1000


def _raw(name: str) -> str | None:
    """The parameter's first value, or None when absent.

    Not `request.args.get`: for an absent name, werkzeug raises and catches a
    BadRequestKeyError inside `get`, and a search request asks for a dozen absent ones.
    """
    args = request.args
    return args[name] if name in args else None


def int_param(name: str, default: int, maximum: int | None = None) -> int:
    """An integer ≥ 1 from the query string, capped at `maximum`.

    Raises InvalidParameter for text that is not a positive whole number.
    """
    raw = _raw(name)
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
    value = _raw(name) or ""
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


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def bool_param(name: str) -> bool | None:
    """A yes/no parameter: None when absent. Raises InvalidParameter for other text."""
    raw = _raw(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise InvalidParameter(name, f"{name} must be 1 or 0 (true or false), got {raw[:20]!r}")


def date_param(name: str, end_of_day: bool = False) -> dt.datetime | None:
    """A date (YYYY, YYYY-MM or YYYY-MM-DD, or a full ISO time) as an aware UTC datetime.

    A date without a time covers its whole span: as an upper bound, "2024" means the end
    of 2024. Raises InvalidParameter for anything else.
    """
    raw = _raw(name)
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    try:
        if len(text) in (4, 7, 10) and text[:4].isdigit():
            parts = [int(p) for p in text.split("-")]
            start = dt.datetime(parts[0], *(parts[1:] + [1] * (3 - len(parts))), tzinfo=dt.UTC)
            if not end_of_day:
                return start
            if len(parts) == 1:
                after = start.replace(year=start.year + 1)
            elif len(parts) == 2:
                after = (start + dt.timedelta(days=32)).replace(day=1)
            else:
                after = start + dt.timedelta(days=1)
            return after - dt.timedelta(microseconds=1)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise InvalidParameter(
            name, f"{name} must be a date like 2024-05-31, got {raw[:30]!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def choice_param(name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first when absent). Raises InvalidParameter otherwise."""
    raw = (_raw(name) or "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise InvalidParameter(name, f"{name} must be one of {', '.join(choices)}")
    return raw
