"""Every setting of the service with its default and one line of help.

The server and the `postsearch` command read the same settings (defaults, then
`POSTSEARCH_<NAME>` environment variables), so `postsearch reindex` with no options
rebuilds exactly the index that the server serves.
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple


class Setting(NamedTuple):
    """A configuration value: its default and what it is for."""

    default: Any
    help: str


SETTINGS: dict[str, Setting] = {
    "POSTS_DIR": Setting("data/posts", "Folder of Markdown posts that `postsearch reindex` reads."),
    "INDEX_DIR": Setting("data/build", "Folder holding the builds and the `current` link."),
    "PERMALINK": Setting(
        "/posts/{slug}", "URL of a post in results; fields {slug}, {year}, {month}, {day}."
    ),
    "DEFAULT_PER_PAGE": Setting(10, "Search results per page when `per_page` is not given."),
    "MAX_PER_PAGE": Setting(50, "Largest `per_page` served; larger values are capped."),
    "DEFAULT_RELATED_LIMIT": Setting(5, "Related posts returned when `limit` is not given."),
    "MAX_RELATED_LIMIT": Setting(20, "Largest related `limit` served; larger values are capped."),
    "MAX_SUGGESTIONS": Setting(10, "Largest `limit` and `posts` served by /api/suggest."),
    "SEARCH_TIME_LIMIT": Setting(2.0, "Seconds a phrase search may run before partial results."),
    "ANSWER_CACHE_ENTRIES": Setting(
        256, "Answers each worker keeps per build (search, suggest, related); 0: no cache."
    ),
    "RESPONSE_CACHE_MB": Setting(
        32.0,
        "Megabytes of encoded GET answers each worker keeps (per URL and ETag; once it has"
        " filled up, a URL's answer is kept from its second request on); 0: none.",
    ),
    "BOOST_FEATURED": Setting(0.0, "Featured posts score ×(1 + this); 0: off (the default)."),
    "BOOST_TRENDING": Setting(0.0, "Trending posts score ×(1 + this); 0: off (the default)."),
    "BOOST_FRESHNESS": Setting(
        0.0, "Scores ×(1 + this × 0.5^(age / FRESHNESS_HALF_LIFE_DAYS)); 0: off (the default)."
    ),
    "FRESHNESS_HALF_LIFE_DAYS": Setting(365.0, "Age at which the freshness boost halves."),
    "MAX_RESULTS_WINDOW": Setting(1000, "Deepest result reachable by paging (page × per_page)."),
    "ZERO_RESULTS_LOG": Setting(
        "",
        "File zero-result searches are appended to; empty: zero-results.jsonl in INDEX_DIR; "
        "`off`: not written.",
    ),
    "KEEP_BUILDS": Setting(3, "Builds kept on disk, the current one included."),
    "BUILD_GRACE_SECONDS": Setting(60.0, "Seconds an old build survives after being replaced."),
    "ADMIN_TOKEN": Setting("", "Bearer token for POST /api/reindex; empty: no admin endpoints."),
    "RATE_LIMIT": Setting("", "Per-client limit, e.g. `60/minute`; empty: no limit."),
    "RATE_LIMIT_STORAGE": Setting("memory://", "Where rate-limit counts live (per worker)."),
    "CORS_ORIGINS": Setting(
        "",
        "Origins whose pages may call the API (the widget), comma-separated, or `*`; empty: none.",
    ),
    "CACHE_CONTROL": Setting(
        "public, no-cache",
        "Cache-Control of search, post and related answers (they carry an ETag).",
    ),
    "LOG_FORMAT": Setting("text", "One log line per request: `text`, `json` or `off`."),
}

ENV_PREFIX = "POSTSEARCH_"


def zero_results_path(settings: Mapping[str, Any]) -> Path | None:
    """Where zero-result searches are logged (None when logging is off)."""
    value = str(settings["ZERO_RESULTS_LOG"]).strip()
    if value.lower() == "off":
        return None
    return Path(value) if value else Path(settings["INDEX_DIR"]) / "zero-results.jsonl"


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


PERMALINK_FIELDS = {"slug", "year", "month", "day"}


def check_settings(values: Mapping[str, Any]) -> None:
    """Fail at startup on a setting the service cannot work with. Raises ValueError."""
    check_permalink(values["PERMALINK"])
    for name in (
        "DEFAULT_PER_PAGE",
        "MAX_PER_PAGE",
        "DEFAULT_RELATED_LIMIT",
        "MAX_RELATED_LIMIT",
        "MAX_RESULTS_WINDOW",
        "KEEP_BUILDS",
    ):
        if int(values[name]) < 1:
            raise ValueError(f"{name} must be at least 1")
    for default, maximum in (
        ("DEFAULT_PER_PAGE", "MAX_PER_PAGE"),
        ("DEFAULT_RELATED_LIMIT", "MAX_RELATED_LIMIT"),
    ):
        if int(values[default]) > int(values[maximum]):
            raise ValueError(f"{default} must not exceed {maximum}")
    for name in ("BOOST_FEATURED", "BOOST_TRENDING", "BOOST_FRESHNESS"):
        if not 0 <= float(values[name]) <= 100:
            raise ValueError(f"{name} must be between 0 and 100")
    if float(values["FRESHNESS_HALF_LIFE_DAYS"]) <= 0:
        raise ValueError("FRESHNESS_HALF_LIFE_DAYS must be more than 0")


def check_permalink(template: str) -> None:
    """A permalink must name {slug} and may use only {year}, {month} and {day} besides."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"PERMALINK is not a valid template: {exc}") from None
    if "slug" not in fields:
        raise ValueError("PERMALINK must contain {slug}")
    unknown = fields - PERMALINK_FIELDS
    if unknown:
        raise ValueError(
            f"PERMALINK may only use {{slug}}, {{year}}, {{month}}, {{day}}; "
            f"not {', '.join(sorted(unknown))}"
        )
