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

import numpy as np
from whoosh.collectors import TimeLimit, TimeLimitCollector

from index.errors import BuildCorrupt, IndexNotBuilt
from index.schema import facet_key
from index.store import current_build_dir, current_link

from .cache import DEFAULT_ENTRIES
from .errors import InvalidParameter, PostMoved, PostNotFound
from .facets import FacetFilters
from .loaded import LoadedBuild
from .phrases import body_phrase_rows, phrase_query
from .query import ParsedQuery, parse_query
from .related import related_page
from .results import Hit, RelatedPage, SearchPage
from .snippets import lead
from .spelling import corrected_text, spelling_of
from .suggest import Suggestions, suggest

log = logging.getLogger(__name__)

SORTS = ("relevance", "newest")
# A replaced build stays open this long for requests still running on it (gunicorn's
# worker timeout is shorter).
RETIRE_AFTER_SECONDS = 120.0


@dataclass(frozen=True)
class SearchRequest:
    """One search: the reader's text, filters, order and the page wanted.

    Filter values are OR-ed within a facet and AND-ed across facets. `prefix` treats
    the last word as unfinished (search as you type); `correct=False` searches the
    words as typed even when a correction exists (the "search instead for" link).
    """

    q: str = ""
    page: int = 1
    per_page: int = 10
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    featured: bool | None = None
    trending: bool | None = None
    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    sort: str = "relevance"
    prefix: bool = False
    correct: bool = True


@dataclass(frozen=True)
class Boosts:
    """Optional score multipliers; all off by default (none measurably helped ranking).

    A featured post scores ×(1 + featured), a trending one ×(1 + trending), and a
    post's score gains ×(1 + freshness × 0.5^(age / half_life_days)).
    """

    featured: float = 0.0
    trending: float = 0.0
    freshness: float = 0.0
    half_life_days: float = 365.0


class Searcher:
    """Reads whatever build `index_dir/current` points to; safe to share between threads."""

    def __init__(
        self,
        index_dir: Path | str,
        time_limit: float = 2.0,
        max_results_window: int = 1000,
        boosts: Boosts | None = None,
        cache_entries: int = DEFAULT_ENTRIES,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.cache_entries = cache_entries
        self.boosts = boosts or Boosts()
        self.time_limit = time_limit
        self.max_results_window = max_results_window
        self._loaded: LoadedBuild | None = None
        self._failed: Path | None = None
        self._failure: BuildCorrupt | None = None
        self._checked_link: str | None = None  # `current` link text last answered for
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
            self._checked_link = None
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
            self._retired, self._checked_link = [], None
        link = current_link(self.index_dir)
        loaded = self._loaded
        if loaded is not None and link is not None and link == self._checked_link:
            return loaded  # the link has not moved since it was last checked
        served = self._current(current_build_dir(self.index_dir))
        self._checked_link = link
        return served

    def _current(self, target: Path | None) -> LoadedBuild:
        """The build to answer from when `current` points at `target` (see `current`)."""
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
                known = self._loaded.verified_files if self._loaded is not None else None
                fresh = LoadedBuild(target, self.cache_entries, known)
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
        """Run one search. Raises InvalidParameter when the page is beyond the result window.

        Words found nowhere are corrected (the page says what was searched instead);
        when nothing is found, phrases are loosened into any-word matching.
        """
        loaded = self.current()
        now = now or dt.datetime.now(dt.UTC)
        if request.page * request.per_page > self.max_results_window:
            raise InvalidParameter(
                "page", f"page × per_page must stay within {self.max_results_window} results"
            )
        if request.sort not in SORTS:
            raise InvalidParameter("sort", f"sort must be one of {', '.join(SORTS)}")
        key = ("search", request, loaded.visible_epoch(now))
        return loaded.answers.get_or_compute(key, lambda: self._search(loaded, request, now))

    def _search(self, loaded: LoadedBuild, request: SearchRequest, now: dt.datetime) -> SearchPage:
        parsed = parse_query(request.q, prefix=request.prefix)
        filters = _filters(request, parsed)
        corrections, suggestion = spelling_of(loaded, parsed)
        searched = parsed
        if corrections and request.correct:
            searched = parsed.replacing(corrections)
        page = self._run(loaded, searched, filters, request, now)
        if searched is not parsed:
            page.fallback = "corrected"
            page.corrected_query = corrected_text(parsed.text, corrections)
        elif corrections:
            suggestion = corrected_text(parsed.text, corrections)
        page.suggestion = suggestion
        if page.total == 0 and searched.phrases:
            retry = self._run(loaded, searched.as_any_word(), filters, request, now)
            if retry.total:
                retry.fallback, retry.corrected_query = "any_word", page.corrected_query
                retry.suggestion = page.suggestion
                page = retry
        return page

    def _run(
        self,
        loaded: LoadedBuild,
        parsed: ParsedQuery,
        filters: FacetFilters,
        request: SearchRequest,
        now: dt.datetime,
    ) -> SearchPage:
        page = SearchPage(
            query=parsed.text,
            total=0,
            page=request.page,
            per_page=request.per_page,
            hits=[],
            facets={},
            build_id=loaded.build_id,
            sort=request.sort,
        )
        matched = loaded.visible_mask(now)
        scores: np.ndarray | None = None
        if parsed.has_text:
            scores = loaded.ranking.score(parsed.positive_words, parsed.prefix)
            matched &= scores > 0
            for phrase in parsed.phrases:
                matched &= self._phrase_mask(loaded, phrase, page)
        for word in parsed.excluded_words:
            matched &= ~loaded.ranking.containing(word)
        for phrase in parsed.excluded_phrases:
            matched &= ~self._phrase_mask(loaded, phrase, page)
        masks = loaded.facets.filter_masks(filters)
        page.facets = loaded.facets.counts(matched, masks, filters)
        for mask in masks.values():
            matched &= mask
        rows = np.flatnonzero(matched)
        page.total = int(rows.size)
        if scores is not None:
            scores = self._boosted(loaded, scores, now)
        ranked = _top_rows(loaded, rows, scores, request.sort, request.page * request.per_page)
        start = (request.page - 1) * request.per_page
        words = parsed.positive_words
        if parsed.prefix:
            words += tuple(loaded.ranking.completions(parsed.prefix))
        # What to highlight, once per page for each kind of post (not once per hit).
        marks = loaded.ranking.marks(words)
        page.hits = [
            self._hit(loaded, int(row), marks, float(scores[row]) if scores is not None else 0.0)
            for row in ranked[start:]
        ]
        return page

    def _phrase_mask(self, loaded: LoadedBuild, phrase: tuple[str, ...], page: SearchPage):
        """Posts holding the words of `phrase` next to each other: in a short field
        (Whoosh positions) or in the body (the texts store, see phrases.py)."""
        deadline = time.monotonic() + self.time_limit
        mask = np.zeros(len(loaded.posts), dtype=bool)
        query = phrase_query(phrase)
        if query is not None:
            searcher = loaded.searcher()
            collector = TimeLimitCollector(
                searcher.collector(limit=None), timelimit=self.time_limit, use_alarm=False
            )
            try:
                searcher.search_with_collector(query, collector)
            except TimeLimit:
                page.partial = True
            rows = loaded.docnum_rows()[list(collector.results().docs())]
            mask[rows[rows >= 0]] = True
        in_bodies, timed_out = body_phrase_rows(loaded, phrase, mask, deadline)
        page.partial = page.partial or timed_out
        return mask | in_bodies

    def _boosted(self, loaded: LoadedBuild, scores: np.ndarray, now: dt.datetime) -> np.ndarray:
        boosts = self.boosts
        if not (boosts.featured or boosts.trending or boosts.freshness):
            return scores
        factor = 1.0 + boosts.featured * loaded.facets.featured
        factor = factor + boosts.trending * loaded.facets.trending
        if boosts.freshness:
            age_days = (now.timestamp() - loaded.facets.timestamps) / 86400
            fresh = np.nan_to_num(0.5 ** (np.maximum(age_days, 0) / boosts.half_life_days))
            factor = factor * (1.0 + boosts.freshness * fresh)
        return (scores * factor).astype(np.float32)

    def _hit(
        self,
        loaded: LoadedBuild,
        row: int,
        marks: dict[bool, tuple[set[str], frozenset[str]]],
        score: float,
    ) -> Hit:
        post = loaded.posts[row]
        english = post["lang"] == "en"
        highlighter = loaded.highlighters["en" if english else "other"]
        terms, forms = marks[english]
        content = loaded.texts.get(row)
        return Hit(
            slug=post["slug"],
            title=post["title"],
            excerpt=post["excerpt"],
            date=post["date"],
            categories=post["categories"],
            tags=post["tags"] + post["keywords"],
            authors=post["authors"],
            score=round(score, 4),
            snippet=highlighter.snippet((content, post["excerpt"]), terms, forms=forms)
            if terms
            else lead(post["excerpt"] or content),
            title_html=highlighter.mark(post["title"], terms, forms),
        )

    def suggest(
        self, text: str, limit: int = 8, titles: int = 5, now: dt.datetime | None = None
    ) -> Suggestions:
        """Completions of the word being typed and posts whose titles match."""
        loaded = self.current()
        now = now or dt.datetime.now(dt.UTC)
        key = ("suggest", text, limit, titles, loaded.visible_epoch(now))
        return loaded.answers.get_or_compute(key, lambda: suggest(loaded, text, limit, titles, now))

    def related(self, slug: str, limit: int, now: dt.datetime | None = None) -> RelatedPage:
        """The `limit` best related visible posts of a post, with reasons.

        Raises PostNotFound for an unknown or hidden slug, PostMoved for an alias.
        """
        loaded = self.current()
        now = now or dt.datetime.now(dt.UTC)
        row = self._row(loaded, slug, now)
        key = ("related", row, limit, loaded.visible_epoch(now))
        return loaded.answers.get_or_compute(key, lambda: related_page(loaded, row, limit, now))

    def post(self, slug: str, now: dt.datetime | None = None) -> dict[str, Any]:
        """The public record of a visible post. Raises PostNotFound or PostMoved."""
        loaded = self.current()
        row = self._row(loaded, slug, now or dt.datetime.now(dt.UTC))
        record = dict(loaded.posts[row])
        # Where the file lives and the editor's pin references are not public fields.
        for private in ("path", "content_hash", "related", "related_exclude", "excerpt_in_body"):
            record.pop(private, None)
        return record

    def stats(self) -> dict[str, Any]:
        """Build id, post count and build time of the served build."""
        loaded = self.current()
        now = dt.datetime.now(dt.UTC)
        return {
            "build_id": loaded.build_id,
            "created_at": loaded.manifest["created_at"],
            "posts": len(loaded.posts) - loaded.scheduled_count(now),
        }

    @staticmethod
    def _row(loaded: LoadedBuild, ref: str, now: dt.datetime) -> int:
        row = loaded.resolve(ref, now)
        if row is None or not loaded.is_visible(row, now):
            raise PostNotFound(ref)
        if loaded.slugs[row] != ref:
            raise PostMoved(ref, loaded.slugs[row])
        return row


def _filters(request: SearchRequest, parsed: ParsedQuery) -> FacetFilters:
    """Filters from the request's parameters and from `category:` / `tag:` in the query."""

    def keys(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(facet_key(v) for v in values if facet_key(v)))

    return FacetFilters(
        categories=keys(request.categories + parsed.categories),
        tags=keys(request.tags + parsed.tags),
        authors=keys(request.authors),
        years=keys(request.years),
        featured=request.featured,
        trending=request.trending,
        date_from=request.date_from,
        date_to=request.date_to,
    )


def _top_rows(
    loaded: LoadedBuild, rows: np.ndarray, scores: np.ndarray | None, sort: str, limit: int
) -> np.ndarray:
    """The first `limit` matching rows in the wanted order; ties go to newer, then slug."""
    if rows.size == 0 or limit <= 0:
        return rows[:0]
    recency = loaded.recency[rows]
    relevance = scores[rows] if scores is not None else np.zeros(rows.size, np.float32)
    if sort == "newest" or scores is None:
        primary, secondary = -recency, -relevance
    else:
        primary, secondary = -relevance, -recency
    if rows.size > limit * 4:  # only sort what can reach the page
        keep = np.argpartition(primary, limit - 1)[:limit]
        cutoff = primary[keep].max()
        keep = np.flatnonzero(primary <= cutoff)
        rows, primary, secondary = rows[keep], primary[keep], secondary[keep]
    order = np.lexsort((loaded.slug_rank[rows], secondary, primary))
    return rows[order][:limit]
