"""Coerce loosely typed front-matter values into the types a `Post` holds.

Real blogs write the same field many ways (a list, a comma-separated string, a
string "false", a YAML date); each helper accepts those shapes and raises
`ValueError` with a plain reason for anything else, which the parser turns into a
`PostParseError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from dateutil import parser as date_parser

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0", ""}
_MAX_TEXT = 100_000
_MAX_ITEMS = 500


def _show(value: Any) -> str:
    """A short description of a bad value: never repr() a structure (a YAML alias bomb
    expands to gigabytes when printed)."""
    if isinstance(value, (str, int, float, bool, dt.date)) or value is None:
        return repr(value)[:40]
    return f"a {type(value).__name__}"


def as_text(value: Any, field: str) -> str | None:
    """Return a scalar as stripped text (None for null); reject lists and mappings."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float, dt.date)):
        text = str(value).strip()
        if len(text) > _MAX_TEXT:
            raise ValueError(f"{field} is longer than {_MAX_TEXT} characters")
        return text or None
    raise ValueError(f"{field} must be text, not {type(value).__name__}")


def as_bool(value: Any, field: str) -> bool | None:
    """Return a boolean from YAML booleans or the strings real files hold ("false", "yes")."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError(f"{field} must be true or false, not {_show(value)}")


def as_int(value: Any, field: str) -> int | None:
    """Return a non-negative integer from a number or text like "6 min"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{field} must be a number, not a boolean")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{field} must be a finite number")
        return max(0, min(int(value), 1_000_000))
    if isinstance(value, str):
        match = re.match(r"\s*(\d{1,6})", value)
        if match:
            return int(match.group(1))
    raise ValueError(f"{field} must be a number, not {_show(value)}")


def as_list(value: Any, field: str) -> list[str]:
    """Return a list of names from a YAML list or a comma-separated string; nulls dropped."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        items: list[Any] = str(value).split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError(f"{field} must be a list or a comma-separated string")
    if len(items) > _MAX_ITEMS:
        raise ValueError(f"{field} has more than {_MAX_ITEMS} entries")
    names: list[str] = []
    for item in items:
        text = as_text(item, f"an entry of {field}")
        if text and text not in names:
            names.append(text)
    return names


def as_datetime(value: Any, field: str) -> dt.datetime | None:
    """Return an aware UTC datetime from YAML dates, ISO strings or "YYYY-MM-DD HH:MM".

    A time without a zone is taken as UTC, so builds do not depend on the machine's zone.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = _parse_date_text(value.strip(), field)
    else:
        raise ValueError(f"{field} must be a date, not {type(value).__name__}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(f"{field} is out of range: {_show(value)}") from None


def _parse_date_text(text: str, field: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    if not re.match(r"^\d{4}-\d{1,2}-\d{1,2}", text):
        raise ValueError(f"{field} is not a date: {text!r:.40}")
    try:
        return date_parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{field} is not a date: {text!r:.40}") from exc
