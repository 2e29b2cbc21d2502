"""One published build, opened for reading: catalog, related lists and the Whoosh index.

A `LoadedBuild` is immutable once opened (builds never change on disk), so all
threads of a worker share it; only Whoosh searchers are per thread, because a Whoosh
Searcher is not safe to share between threads.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.searching import Searcher as WhooshSearcher

from index.build import FULLTEXT_DIR
from index.catalog import load_catalog
from index.manifest import verify_build
from index.related import RelatedLists
from index.schema import facet_key

from .query import QueryBuilder
from .snippets import Highlighter


class LoadedBuild:
    """Everything needed to answer requests from one build directory."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        self.manifest = verify_build(build_dir)
        self.build_id: str = self.manifest["build_id"]
        self.posts: list[dict[str, Any]] = load_catalog(build_dir)
        self.row_of = {post["slug"]: row for row, post in enumerate(self.posts)}
        self.aliases = _alias_table(self.posts)
        self.related = RelatedLists.load(build_dir)
        self.publish_times = [_parse_date(post["date"]) for post in self.posts]
        self.fulltext = whoosh_index.open_dir(str(build_dir / FULLTEXT_DIR))
        self.queries = QueryBuilder(self.fulltext.schema)
        self.highlighters = {
            "en": Highlighter(self.fulltext.schema["body"].analyzer),
            "other": Highlighter(self.fulltext.schema["body_intl"].analyzer),
        }
        self.category_names = _display_names(self.posts)
        self._local = threading.local()
        self._opened: list[WhooshSearcher] = []
        self._opened_lock = threading.Lock()

    def searcher(self) -> WhooshSearcher:
        """This thread's Whoosh searcher over the build (opened on first use)."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self.fulltext.searcher()
            self._local.searcher = searcher
            with self._opened_lock:
                self._opened.append(searcher)
        return searcher

    def close(self) -> None:
        """Close every thread's Whoosh searcher; call only once no request uses the build."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for searcher in opened:
            searcher.close()
        self.fulltext.storage.close()

    def is_visible(self, row: int, now: dt.datetime) -> bool:
        """False for a scheduled post whose date has not come yet."""
        published = self.publish_times[row]
        return published is None or published <= now

    def scheduled_slugs(self, now: dt.datetime) -> list[str]:
        """Slugs of indexed posts still waiting for their publication date."""
        return [
            post["slug"] for row, post in enumerate(self.posts) if not self.is_visible(row, now)
        ]

    def resolve(self, ref: str) -> int | None:
        """Row of the post whose slug or alias is `ref` (case-insensitive), else None."""
        if ref in self.row_of:
            return self.row_of[ref]
        return self.aliases.get(_alias_key(ref))


def _alias_key(ref: str) -> str:
    """Normalise a slug, path or URL so "/Old/Post/", "old/post" and "https://x/old/post" agree."""
    if "://" in ref:
        ref = ref.split("://", 1)[1].partition("/")[2]
    ref = ref.split("?", 1)[0].split("#", 1)[0].strip().strip("/")
    return ref.removesuffix(".html").casefold()


def _alias_table(posts: list[dict[str, Any]]) -> dict[str, int]:
    table: dict[str, int] = {}
    for row, post in enumerate(posts):
        table.setdefault(post["slug"].casefold(), row)
    for row, post in enumerate(posts):
        for alias in post["aliases"]:
            table.setdefault(_alias_key(alias), row)
    return table


def _display_names(posts: list[dict[str, Any]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for post in posts:
        for category in post["categories"]:
            names.setdefault(facet_key(category["name"]), category["name"])
    return names


def _parse_date(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None
