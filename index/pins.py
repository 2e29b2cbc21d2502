"""Editor pins and excludes: front-matter references resolved to posts of a build.

Blogs name related posts in many ways (`related:` with slugs, Jekyll file names with
or without the extension, `date-postname` stems, URLs, old aliases), so a reference
is tried as each of them. References that name no indexed post, or the post itself,
are reported by the reindex and otherwise ignored: a typo in one post's front matter
must never stop a build. Pins are resolved again on every build, full or incremental,
because a pin may name a post that was added, renamed or deleted since.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catalog import alias_key

MAX_PINS = 20  # the API serves at most MAX_RELATED_LIMIT (20) posts per list
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")
_POST_SUFFIX = re.compile(r"\.(md|markdown)$")


@dataclass
class PinTable:
    """Resolved pins (in the editor's order) and excludes per row, and what failed."""

    pins: list[list[int]]
    excludes: list[list[int]]
    unresolved: list[dict[str, str]] = field(default_factory=list)

    @property
    def width(self) -> int:
        """The most pins any post has."""
        return max((len(p) for p in self.pins), default=0)

    @classmethod
    def empty(cls, rows: int) -> PinTable:
        """No pins and no excludes for `rows` posts."""
        return cls([[] for _ in range(rows)], [[] for _ in range(rows)])


def resolve_pins(records: Sequence[Mapping[str, Any]]) -> PinTable:
    """Resolve every record's `related` and `related_exclude` references to rows."""
    table = PinTable.empty(len(records))
    if not any(record.get("related") or record.get("related_exclude") for record in records):
        return table  # most blogs pin nothing: skip the reference table
    lookup = lookup_table(records)
    for row, record in enumerate(records):
        excluded = _resolve_field(record, row, "related_exclude", lookup, table.unresolved)
        pinned = _resolve_field(record, row, "related", lookup, table.unresolved)
        for pin in pinned:
            if pin in excluded:
                _report(table.unresolved, record, "related", records[pin]["slug"], "also excluded")
        pinned = [pin for pin in pinned if pin not in excluded]
        for pin in pinned[MAX_PINS:]:
            reason = f"more than {MAX_PINS} pins; the rest are ignored"
            _report(table.unresolved, record, "related", records[pin]["slug"], reason)
        table.pins[row] = pinned[:MAX_PINS]
        table.excludes[row] = excluded
    return table


def find_post(ref: str, lookup: Mapping[str, int]) -> int | None:
    """The row a reference names (slug, alias, path, file name, stem or URL), else None."""
    key = _POST_SUFFIX.sub("", alias_key(ref))
    last = key.rsplit("/", 1)[-1]
    for candidate in (key, last, _DATE_PREFIX.sub("", last)):
        if candidate and candidate in lookup:
            return lookup[candidate]
    return None


def lookup_table(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Reference key -> row; slugs win over aliases, which win over file names."""
    return reference_lookup(
        [record["slug"] for record in records],
        [record.get("aliases", []) for record in records],
        [record.get("path", "") for record in records],
    )


def reference_lookup(
    slugs: Sequence[str], aliases: Sequence[Sequence[str]], paths: Sequence[str]
) -> dict[str, int]:
    """The same table from the columns of every post (a build's summary)."""
    lookup: dict[str, int] = {}
    for row, slug in enumerate(slugs):
        lookup.setdefault(alias_key(slug), row)
    for row, names in enumerate(aliases):
        for alias in names:
            lookup.setdefault(alias_key(alias), row)
    for row, post_path in enumerate(paths):
        path = _POST_SUFFIX.sub("", alias_key(post_path))
        stem = path.rsplit("/", 1)[-1]
        for key in (path, stem, _DATE_PREFIX.sub("", stem)):
            if key:
                lookup.setdefault(key, row)
    return lookup


def _resolve_field(
    record: Mapping[str, Any],
    row: int,
    name: str,
    lookup: Mapping[str, int],
    unresolved: list[dict[str, str]],
) -> list[int]:
    found: list[int] = []
    for ref in record.get(name, []):
        target = find_post(ref, lookup)
        if target is None:
            _report(unresolved, record, name, ref, "no indexed post has this slug or file name")
        elif target == row:
            _report(unresolved, record, name, ref, "names the post itself")
        elif target not in found:
            found.append(target)
    return found


def _report(
    unresolved: list[dict[str, str]], record: Mapping[str, Any], name: str, ref: str, why: str
) -> None:
    unresolved.append(
        {
            "slug": record["slug"],
            "path": record.get("path", ""),
            "field": name,
            "pin": ref,
            "reason": why,
        }
    )
