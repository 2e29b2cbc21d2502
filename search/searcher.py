"""Answer search, related and post look-ups from the current build.

A `Searcher` follows the index directory's `current` link: each call checks the link
(a few microseconds) and opens a newly published build on first use, so workers pick
up a reindex on their next request without a restart. Nothing is opened before the
first call, which keeps a pre-fork server safe (a searcher inherited across fork
reads garbage from shared file offsets).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.query import AndNot, Every, Not, Or, Query, Require, Term
from whoosh.sorting import Count, FieldFacet

from index.errors import BuildCorrupt, IndexNotBuilt
from index.schema import ENGLISH_TEXT_FIELDS, OTHER_TEXT_FIELDS, facet_key
from index.store import current_build_dir

from .errors import InvalidParameter, PostMoved, PostNotFound
from .loaded import LoadedBuild
from .query import ParsedQuery
from .related import related_page
from .results import FacetValue, Hit, RelatedPage, SearchPage
from .snippets import lead

log = logging.getLogger(__name__)

MAX_FACET_VALUES = 100
# A replaced build stays open this long for requests still running on it (gunicorn's
# worker timeout is shorter).
RETIRE_AFTER_SECONDS = 120.0


@dataclass(frozen=True)
class SearchRequest:
    """One search: the reader's text, the page wanted and category filters (OR-ed)."""

    q: str = ""
    page: int = 1
    per_page: int = 10
    categories: tuple[str, ...] = ()


class Searcher:
    """Reads whatever build `index_dir/current` points to; safe to share between threads."""

    def __init__(
        self, index_dir: Path | str, time_limit: float = 2.0, max_results_window: int = 1000
    ) -> None:
        self.index_dir = Path(index_dir)
        self.time_limit = time_limit
        self.max_results_window = max_results_window
        self._loaded: LoadedBuild | None = None
        self._failed: Path | None = None
        self._failure: BuildCorrupt | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._retired: list[tuple[float, LoadedBuild]] = []

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the open build and every replaced one (at shutdown, or in tests)."""
        with self._lock:
            builds = [b for _, b in self._retired] + ([self._loaded] if self._loaded else [])
            self._retired, self._loaded, self._failed = [], None, None
        for loaded in builds:
            loaded.close()

    def _retire(self, old: LoadedBuild | None) -> None:
        """Close replaced builds once requests that started on them must have finished."""
        now = time.monotonic()
        if old is not None:
            self._retired.append((now, old))
        while self._retired and now - self._retired[0][0] > RETIRE_AFTER_SECONDS:
            self._retired.pop(0)[1].close()

    def current(self) -> LoadedBuild:
        """The build to answer from, reopened when `current` moved.

        Raises IndexNotBuilt before the first build, BuildCorrupt if the only build fails
        its check (a corrupt new build is ignored while an older one is served).
        """
        if os.getpid() != self._pid:  # forked after opening: never reuse the parent's files
            self._loaded, self._failed, self._pid = None, None, os.getpid()
            self._retired = []
        target = current_build_dir(self.index_dir)
        loaded = self._loaded
        if loaded is not None and (target == loaded.build_dir or target == self._failed):
            return loaded
        with self._lock:
            if self._loaded is not None and target in (self._loaded.build_dir, self._failed):
                return self._loaded
            if target is None or not target.is_dir():
                raise IndexNotBuilt(self.index_dir)
            if target == self._failed and self._failure is not None:
                raise self._failure  # checked once; not re-read on every request
            try:
                fresh = LoadedBuild(target)
                self._retire(self._loaded)
                self._loaded = fresh
            except Exception as exc:
                self._failed = target
                self._failure = (
                    exc if isinstance(exc, BuildCorrupt) else BuildCorrupt(target, str(exc))
                )
                log.error("cannot open build %s: %s", target, exc)
                if self._loaded is None:
                    raise self._failure from exc
            return self._loaded

    def search(self, request: SearchRequest, now: dt.datetime | None = None) -> SearchPage:
        """Run one search. Raises InvalidParameter when the page is beyond the result window."""
        loaded = self.current()
        now = now or dt.datetime.now(dt.UTC)
        if request.page * request.per_page > self.max_results_window:
            raise InvalidParameter(
                "page", f"page × per_page must stay within {self.max_results_window} results"
            )
        parsed = loaded.queries.parse(request.q) if request.q.strip() else None
        page = self._run(loaded, parsed, request, now)
        excludes = parsed is not None and any(
            isinstance(q, (Not, AndNot)) for q in _walk(parsed.query)
        )
        if page.total == 0 and parsed is not None and not parsed.fallback and not excludes:
            any_word = ParsedQuery(parsed.text, loaded.queries.plain_words(parsed.text), True)
            if not any_word.is_empty and str(any_word.query) != str(parsed.query):
                retry = self._run(loaded, any_word, request, now)
                if retry.total:
                    retry.fallback = "any_word"
                    page = retry
        return page

    def _run(
        self,
        loaded: LoadedBuild,
        parsed: ParsedQuery | None,
        request: SearchRequest,
        now: dt.datetime,
    ) -> SearchPage:
        page = SearchPage(
            query=request.q,
            total=0,
            page=request.page,
            per_page=request.per_page,
            hits=[],
            facets={"categories": []},
            build_id=loaded.build_id,
            fallback="plain_words" if parsed and parsed.fallback else None,
        )
        if parsed is not None and parsed.is_empty:
            return page
        # Filters go into the query itself: TimeLimitCollector bypasses a collector's
        # own filter and mask.
        query: Query = Every() if parsed is None else parsed.query
        scheduled = _any_of("slug", loaded.scheduled_slugs(now))
        if scheduled is not None:
            query = AndNot(query, scheduled)
        chosen = [facet_key(c) for c in request.categories]
        wanted = _any_of("category", chosen)
        limit = request.page * request.per_page
        results = self._collect(
            loaded,
            query if wanted is None else Require(query, wanted),
            limit,
            browse=parsed is None,
            page=page,
        )
        page.total = len(results)
        # Category counts ignore the category filter itself: ticking a second category
        # widens the results (OR), so each box shows what it would add.
        counted = results if wanted is None else self._collect(loaded, query, 1, True, page)
        page.facets["categories"] = _category_facet(counted.groups("categories"), loaded, chosen)
        start = (request.page - 1) * request.per_page
        page.hits = [
            self._hit(loaded, hit, parsed) for hit in results[start : start + request.per_page]
        ]
        return page

    def _collect(
        self, loaded: LoadedBuild, query: Query, limit: int, browse: bool, page: SearchPage
    ) -> Any:
        """Run a query for its top `limit` hits and the category counts of all matches."""
        searcher = loaded.searcher()
        collector = searcher.collector(
            limit=limit,
            sortedby="published" if browse else None,
            reverse=browse,
            groupedby={"categories": FieldFacet("category", allow_overlap=True)},
            maptype=Count,
        )
        # Thread timer, not SIGALRM: gunicorn gthread workers search outside the main thread.
        timed = TimeLimitCollector(collector, timelimit=self.time_limit, use_alarm=False)
        try:
            searcher.search_with_collector(query, timed)
        except TimeLimit:
            page.partial = True
        return timed.results()

    def _hit(self, loaded: LoadedBuild, hit: Any, parsed: ParsedQuery | None) -> Hit:
        fields = hit.fields()
        post = loaded.posts[loaded.row_of[fields["slug"]]]
        english = post["lang"] == "en"
        highlighter = loaded.highlighters["en" if english else "other"]
        terms = (
            parsed.terms(ENGLISH_TEXT_FIELDS if english else OTHER_TEXT_FIELDS) if parsed else set()
        )
        content = fields.get("content", "")
        return Hit(
            slug=post["slug"],
            title=post["title"],
            excerpt=post["excerpt"],
            date=post["date"],
            categories=post["categories"],
            tags=post["tags"] + post["keywords"],
            score=round(float(hit.score or 0.0), 4) if parsed else 0.0,
            snippet=highlighter.snippet((content, post["excerpt"]), terms)
            if terms
            else lead(post["excerpt"] or content),
            title_html=highlighter.mark(post["title"], terms),
        )

    def related(self, slug: str, limit: int, now: dt.datetime | None = None) -> RelatedPage:
        """The `limit` best related visible posts of a post, with reasons.

        Raises PostNotFound for an unknown or hidden slug, PostMoved for an alias.
        """
        loaded = self.current()
        now = now or dt.datetime.now(dt.UTC)
        return related_page(loaded, self._row(loaded, slug, now), limit, now)

    def post(self, slug: str, now: dt.datetime | None = None) -> dict[str, Any]:
        """The public record of a visible post. Raises PostNotFound or PostMoved."""
        loaded = self.current()
        row = self._row(loaded, slug, now or dt.datetime.now(dt.UTC))
        record = dict(loaded.posts[row])
        record.pop("path", None)
        record.pop("content_hash", None)
        return record

    def stats(self) -> dict[str, Any]:
        """Build id, post count and build time of the served build."""
        loaded = self.current()
        now = dt.datetime.now(dt.UTC)
        return {
            "build_id": loaded.build_id,
            "created_at": loaded.manifest["created_at"],
            "posts": len(loaded.posts) - len(loaded.scheduled_slugs(now)),
        }

    @staticmethod
    def _row(loaded: LoadedBuild, ref: str, now: dt.datetime) -> int:
        row = loaded.resolve(ref, now)
        if row is None or not loaded.is_visible(row, now):
            raise PostNotFound(ref)
        if loaded.posts[row]["slug"] != ref:
            raise PostMoved(ref, loaded.posts[row]["slug"])
        return row


def _walk(query: Query):
    """Every node of a query tree."""
    yield query
    for child in query.children():
        yield from _walk(child)


def _any_of(field: str, values: list[str]) -> Query | None:
    return Or([Term(field, v) for v in values]) if values else None


def _category_facet(
    counts: dict[str, int], loaded: LoadedBuild, chosen: list[str]
) -> list[FacetValue]:
    """The most frequent categories, plus every chosen one (with 0 if nothing matches)."""
    known = {key: count for key, count in counts.items() if key}
    ranked = sorted(known.items(), key=lambda item: (-item[1], item[0]))[:MAX_FACET_VALUES]
    shown = {key for key, _ in ranked}
    ranked += [(key, known.get(key, 0)) for key in dict.fromkeys(chosen) if key not in shown]
    return [
        FacetValue(name=loaded.category_names.get(key, key), value=key, count=count)
        for key, count in ranked
    ]
