"""One published build, opened for reading: catalog, related lists and the Whoosh index.

A `LoadedBuild` is immutable once opened (builds never change on disk), so all
threads of a worker share it; only Whoosh searchers are per thread, because a Whoosh
Searcher is not safe to share between threads.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.searching import Searcher as WhooshSearcher

from index.blobs import PAGES, TEXTS, BlobStore
from index.build import BUILDER_FILES, FULLTEXT_DIR
from index.catalog import SERVING_COLUMNS, CatalogRecords, alias_key, load_summary
from index.facet_values import load_facets, publication_times
from index.manifest import FileIdentity, verify_build
from index.related import RelatedLists
from index.schema import english_analyzer, plain_analyzer

from .cache import DEFAULT_ENTRIES, AnswerCache
from .facets import FacetTable
from .ranking import Ranking
from .snippets import Highlighter


class LoadedBuild:
    """Everything needed to answer requests from one build directory."""

    def __init__(
        self,
        build_dir: Path,
        answer_cache_entries: int = DEFAULT_ENTRIES,
        known_files: Mapping[FileIdentity, str] | None = None,
    ) -> None:
        """Open and check a build; `known_files` are files this process verified in the
        build it served before (see `verify_build`), not hashed again when shared."""
        self.build_dir = build_dir
        self.verified_files: dict[FileIdentity, str] = {}
        # The per-file table and artifact list are the builder's (tens of MB at 57k posts).
        manifest = verify_build(
            build_dir, unread=BUILDER_FILES, known=known_files, verified=self.verified_files
        )
        self.manifest = {k: v for k, v in manifest.items() if k not in ("files", "artifacts")}
        del manifest
        self.build_id: str = self.manifest["build_id"]
        self.posts = CatalogRecords(build_dir)  # decoded per access, not held
        # What every request needs from all posts, read column by column.
        summary = load_summary(build_dir, SERVING_COLUMNS)  # not the label columns
        self.slugs: list[str] = summary["slug"]
        self.row_of = {slug: row for row, slug in enumerate(self.slugs)}
        self.aliases = _alias_table(self.slugs, summary["aliases"])
        self.related = RelatedLists.load(build_dir)
        self.publish_times = publication_times(summary["date"])
        # Dated rows sorted by date, so each request finds the scheduled ones by bisection
        # instead of walking every post.
        self._by_date = sorted(
            (published, row) for row, published in enumerate(self.publish_times) if published
        )
        self._dates = [published for published, _ in self._by_date]
        self.fulltext = whoosh_index.open_dir(str(build_dir / FULLTEXT_DIR))
        self.ranking = Ranking(build_dir)
        numbered = load_facets(build_dir)  # None: made before facets.npz, or another way
        self.facets = (
            FacetTable.from_summary(load_summary(build_dir), self.publish_times)
            if numbered is None
            else FacetTable(numbered, summary, self.publish_times)
        )
        # Newest first; undated posts last. Used to sort and to break score ties.
        self.recency = np.nan_to_num(self.facets.timestamps, nan=-np.inf)
        self.slug_rank = np.argsort(np.argsort(self.slugs, kind="stable"))
        self.highlighters = {
            "en": Highlighter(english_analyzer()),
            "other": Highlighter(plain_analyzer()),
        }
        self.texts = BlobStore(build_dir, TEXTS)  # body texts: snippets, body phrases
        self.pages = BlobStore(build_dir, PAGES)  # sanitised body HTML: post pages
        self.excerpt_in_body = np.array(summary["excerpt_in_body"], dtype=bool)
        del summary
        self._local = threading.local()
        self._opened: list[WhooshSearcher] = []
        self._opened_lock = threading.Lock()
        self.answers = AnswerCache(answer_cache_entries)
        self._memo: dict[str, Any] = {}
        self._memo_lock = threading.RLock()  # one memo may build on another

    def memo(self, name: str, factory: Callable[[LoadedBuild], Any]) -> Any:
        """A value derived from this build, computed once on first use and shared.

        For data only some requests need (the draft endpoint's vectoriser, say): it is
        loaded lazily, and dropped with the build when a new one is published.
        """
        if name not in self._memo:
            with self._memo_lock:
                if name not in self._memo:
                    self._memo[name] = factory(self)
        return self._memo[name]

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
        self.ranking.close()
        self.texts.close()
        self.pages.close()
        self.posts.close()

    def is_visible(self, row: int, now: dt.datetime) -> bool:
        """False for a scheduled post whose date has not come yet."""
        published = self.publish_times[row]
        return published is None or published <= now

    def visible_epoch(self, now: dt.datetime) -> int:
        """How many dated posts are visible at `now`: changes exactly when a scheduled
        post goes live, so cached answers keyed by it never hide that post."""
        return bisect.bisect_right(self._dates, now)

    def visible_mask(self, now: dt.datetime) -> np.ndarray:
        """Posts that may be shown at `now` (scheduled posts are hidden until their date)."""
        mask = np.ones(len(self.posts), dtype=bool)
        first_future = bisect.bisect_right(self._dates, now)
        mask[[row for _, row in self._by_date[first_future:]]] = False
        return mask

    def docnum_rows(self) -> np.ndarray:
        """Catalog row of every Whoosh document number (-1 for deleted documents).

        Whoosh numbers documents in segment order, which incremental builds shuffle,
        so the map is read from the unique `slug` field once per build.
        """
        return self.memo("docnum_rows", _docnum_rows)

    def scheduled_count(self, now: dt.datetime) -> int:
        """How many indexed posts still wait for their publication date (every request
        asks, for the ETag: counted by bisection, no list built)."""
        return len(self._dates) - bisect.bisect_right(self._dates, now)

    def resolve(self, ref: str, now: dt.datetime) -> int | None:
        """Row of the visible post whose slug or alias is `ref` (case-insensitive), else None.

        A scheduled post's alias never hides a visible post's identical alias.
        """
        if ref in self.row_of:
            return self.row_of[ref]
        rows = self.aliases.get(alias_key(ref), [])
        return next((row for row in rows if self.is_visible(row, now)), None)


def _docnum_rows(loaded: LoadedBuild) -> np.ndarray:
    reader = loaded.searcher().reader()
    rows = np.full(reader.doc_count_all(), -1, dtype=np.int64)
    for text, info in reader.iter_field("slug"):
        row = loaded.row_of.get(text.decode("utf-8") if isinstance(text, bytes) else text)
        if row is None:
            continue
        ids = {info.min_id(), info.max_id()}
        if info.doc_frequency() > len(ids):  # more copies than the two ends: walk them
            ids = set(reader.postings("slug", text).all_ids())
        for docnum in ids:
            if not reader.is_deleted(docnum):
                rows[docnum] = row
    return rows


def _alias_table(slugs: list[str], aliases: list[list[str]]) -> dict[str, list[int]]:
    """Alias key -> rows claiming it: a post's own slug first, then aliases in path order."""
    table: dict[str, list[int]] = {}
    for row, slug in enumerate(slugs):
        table.setdefault(alias_key(slug), []).append(row)
    for row, names in enumerate(aliases):
        for alias in names:
            rows = table.setdefault(alias_key(alias), [])
            if row not in rows:
                rows.append(row)
    return table
