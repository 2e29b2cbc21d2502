"""Every setting of the service with its default and one line of help.

The server and the `postsearch` command read the same settings (defaults, then
`POSTSEARCH_<NAME>` environment variables), so `postsearch reindex` with no options
rebuilds exactly the index that the server serves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, NamedTuple


class Setting(NamedTuple):
    """A configuration value: its default and what it is for."""

    default: Any
    help: str


SETTINGS: dict[str, Setting] = {
    "POSTS_DIR": Setting("data/posts", "Folder of Markdown posts that `postsearch reindex` reads."),
    "INDEX_DIR": Setting("data/build", "Folder holding the builds and the `current` link."),
    "PERMALINK": Setting("/posts/{slug}",
                         "URL of a post in results; fields {slug}, {year}, {month}, {day}."),
    "DEFAULT_PER_PAGE": Setting(10, "Search results per page when `per_page` is not given."),
    "MAX_PER_PAGE": Setting(50, "Largest `per_page` served; larger values are capped."),
    "DEFAULT_RELATED_LIMIT": Setting(5, "Related posts returned when `limit` is not given."),
    "MAX_RELATED_LIMIT": Setting(20, "Largest related `limit` served; larger values are capped."),
    "SEARCH_TIME_LIMIT": Setting(2.0, "Seconds a search may run before partial results return."),
    "MAX_RESULTS_WINDOW": Setting(1000, "Deepest result reachable by paging (page × per_page)."),
    "KEEP_BUILDS": Setting(3, "Builds kept on disk, the current one included."),
    "BUILD_GRACE_SECONDS": Setting(60.0, "Seconds an old build survives after being replaced."),
}

ENV_PREFIX = "POSTSEARCH_"


def defaults() -> dict[str, Any]:
    """Setting name -> default value."""
    return {name: setting.default for name, setting in SETTINGS.items()}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults overridden by `POSTSEARCH_<NAME>` variables (numbers parsed as JSON)."""
    environ = os.environ if environ is None else environ
    values = defaults()
    for name, setting in SETTINGS.items():
        raw = environ.get(ENV_PREFIX + name)
        if raw is not None:
            values[name] = _coerce(name, raw, setting.default)
    return values


def _coerce(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, str):
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name} must be a number, got {raw!r}") from None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"{ENV_PREFIX}{name} must be a number, got {raw!r}")
    return type(default)(value)


def check_settings(values: Mapping[str, Any]) -> None:
    """Fail at startup on a setting the service cannot work with."""
    if "{slug}" not in values["PERMALINK"]:
        raise ValueError("PERMALINK must contain {slug}")
    for name in ("DEFAULT_PER_PAGE", "MAX_PER_PAGE", "DEFAULT_RELATED_LIMIT",
                 "MAX_RELATED_LIMIT", "MAX_RESULTS_WINDOW", "KEEP_BUILDS"):
        if int(values[name]) < 1:
            raise ValueError(f"{name} must be at least 1")
