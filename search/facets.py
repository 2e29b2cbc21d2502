"""Facet counts and filters over the posts of a build, as numpy masks.

Four facets: categories (each with its level: exact, general, medium, specific, niche),
tags (tags and keywords), authors and year. Values chosen within one facet are OR-ed,
facets are AND-ed, and each facet's counts ignore that facet's own filter
("disjunctive" faceting): ticking a second category widens the results, so every box
shows what it would add. Counts cover the whole result set, never just a page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from index.schema import facet_key

from .results import FacetValue

FACETS = ("categories", "tags", "authors", "years")
MAX_FACET_VALUES = 100


@dataclass(frozen=True)
class FacetFilters:
    """Chosen values per facet (normalised keys), plus the yes/no and date filters."""

    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    featured: bool | None = None
    trending: bool | None = None
    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None

    def chosen(self, facet: str) -> tuple[str, ...]:
        """The chosen keys of one facet."""
        return getattr(self, facet)


class Facet:
    """One facet's values and which posts carry each (posts x values, 0/1)."""

    def __init__(self, labels: Sequence[Iterable[tuple[str, str]]], posts: int) -> None:
        spellings: Counter[tuple[str, str]] = Counter()  # (key, name) -> posts
        rows, cols = [], []
        column: dict[str, int] = {}
        for row, pairs in enumerate(labels):
            for key, name in dict(pairs).items():
                cols.append(column.setdefault(key, len(column)))
                rows.append(row)
                spellings[key, name] += 1
        self.keys = list(column)
        self.column = column
        self.names = _most_common_per_key(spellings)
        matrix = sp.csr_matrix(
            (np.ones(len(rows), np.float32), (rows, cols)), shape=(posts, max(1, len(column)))
        )
        self._by_value = matrix.T.tocsr()
        # Each value's place in key order: ties in counts are broken by key.
        in_key_order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        self._key_rank = np.empty(len(self.keys), dtype=np.int64)
        self._key_rank[in_key_order] = np.arange(len(self.keys))

    def mask(self, keys: Iterable[str], posts: int) -> np.ndarray:
        """Posts carrying any of the keys."""
        mask = np.zeros(posts, dtype=bool)
        for key in keys:
            col = self.column.get(key)
            if col is not None:
                start, end = self._by_value.indptr[col], self._by_value.indptr[col + 1]
                mask[self._by_value.indices[start:end]] = True
        return mask

    def ranked(
        self, totals: np.ndarray, top: int | None = None, newest_first: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """(columns, counts) of the values with a count in `totals` (see `totals`), most
        frequent first (ties by key), or by key descending with `newest_first`; at most
        `top` of them.

        Sorted in numpy: a tag facet has thousands of values, and building a dict of
        them per search cost more than the search's ranking.
        """
        found = np.flatnonzero(totals)
        counts = totals[found]
        if newest_first:
            order = np.argsort(-self._key_rank[found], kind="stable")
        else:
            order = np.lexsort((self._key_rank[found], -counts))
        if top is not None:
            order = order[:top]
        return found[order], counts[order].astype(np.int64)

    def totals(self, matched: np.ndarray) -> np.ndarray:
        """How many matched posts carry each value, in column order."""
        return (self._by_value @ matched.astype(np.float32))[: len(self.keys)]

    @property
    def by_value(self) -> sp.csr_matrix:
        """values x posts, one row per value (no placeholder row for an empty facet)."""
        return self._by_value[: len(self.keys)]

    def count_of(self, key: str, matched: np.ndarray) -> int:
        """How many matched posts carry one value (0 for an unknown value)."""
        col = self.column.get(key)
        if col is None:
            return 0
        start, end = self._by_value.indptr[col], self._by_value.indptr[col + 1]
        return int(np.count_nonzero(matched[self._by_value.indices[start:end]]))


class FacetTable:
    """Every facet of a build, plus the per-post flags and dates filters use."""

    def __init__(self, summary: Mapping[str, list[Any]], dates: Sequence[dt.datetime | None]):
        """From a build's summary columns (see index.catalog.summary_columns)."""
        self.size = len(dates)
        labels = zip(summary["tags"], summary["keywords"], strict=True)
        self.facets = {
            "categories": Facet(
                [[(facet_key(name), name) for name, _ in pairs] for pairs in summary["categories"]],
                self.size,
            ),
            "tags": Facet(
                [[(facet_key(t), t) for t in (*tags, *keywords)] for tags, keywords in labels],
                self.size,
            ),
            "authors": Facet(
                [[(facet_key(a), a) for a in names] for names in summary["authors"]], self.size
            ),
            "years": Facet([[(d.strftime("%Y"),) * 2] if d else [] for d in dates], self.size),
        }
        # Every facet's values stacked: a search without filters counts all four facets
        # over the same matches, in one product instead of four.
        self._stacked = sp.vstack([f.by_value for f in self.facets.values()], format="csr")
        self._offsets = np.cumsum([0] + [len(f.keys) for f in self.facets.values()]).tolist()
        self.levels = _dominant_levels(summary["categories"])
        # (name, key, level) of each facet's values by column, made once per build.
        self._labels = {
            name: [
                (facet.names[key], key, self.levels.get(key) if name == "categories" else None)
                for key in facet.keys
            ]
            for name, facet in self.facets.items()
        }
        self.featured = np.array(summary["featured"], dtype=bool)
        self.trending = np.array(summary["trending"], dtype=bool)
        self.timestamps = np.array(
            [d.timestamp() if d else np.nan for d in dates], dtype=np.float64
        )

    def filter_masks(self, filters: FacetFilters) -> dict[str, np.ndarray]:
        """One mask per active filter (facet names, plus 'flags' and 'dates')."""
        masks = {
            name: facet.mask(filters.chosen(name), self.size)
            for name, facet in self.facets.items()
            if filters.chosen(name)
        }
        flags = np.ones(self.size, dtype=bool)
        if filters.featured is not None:
            flags &= self.featured == filters.featured
        if filters.trending is not None:
            flags &= self.trending == filters.trending
        if filters.featured is not None or filters.trending is not None:
            masks["flags"] = flags
        if filters.date_from or filters.date_to:
            stamps = self.timestamps
            dates = ~np.isnan(stamps)
            if filters.date_from:
                dates &= stamps >= filters.date_from.timestamp()
            if filters.date_to:
                dates &= stamps <= filters.date_to.timestamp()
            masks["dates"] = dates
        return masks

    def counts(
        self, matched: np.ndarray, masks: Mapping[str, np.ndarray], filters: FacetFilters
    ) -> dict[str, list[FacetValue]]:
        """Each facet's counts over the matches that pass every *other* filter.

        Values are shown most frequent first (years newest first), at most
        MAX_FACET_VALUES of them, plus every chosen value (0 if nothing carries it).
        """
        out: dict[str, list[FacetValue]] = {}
        shared = None if masks else self._stacked @ matched.astype(np.float32)
        for number, (name, facet) in enumerate(self.facets.items()):
            scope = matched.copy() if masks else matched
            for other, mask in masks.items():
                if other != name:
                    scope &= mask
            years = name == "years"
            if shared is None:
                totals = facet.totals(scope)
            else:
                totals = shared[self._offsets[number] : self._offsets[number + 1]]
            columns, counts = facet.ranked(totals, None if years else MAX_FACET_VALUES, years)
            names, levels = facet.names, self.levels if name == "categories" else {}
            labels = self._labels[name]
            values = [
                FacetValue(label, key, count, level)
                for (label, key, level), count in zip(
                    map(labels.__getitem__, columns.tolist()), counts.tolist(), strict=True
                )
            ]
            chosen = filters.chosen(name)
            shown = {value.value for value in values} if chosen else set()
            for key in dict.fromkeys(chosen):
                if key not in shown:
                    count = facet.count_of(key, scope)
                    values.append(FacetValue(names.get(key, key), key, count, levels.get(key)))
            out[name] = values
        return out


def _dominant_levels(categories: Sequence[Sequence[Sequence[str]]]) -> dict[str, str]:
    """The level each category is most often given (a name can sit at several levels)."""
    levels: Counter[tuple[str, str]] = Counter(
        (facet_key(name), level) for pairs in categories for name, level in pairs
    )
    return _most_common_per_key(levels)


def _most_common_per_key(counts: Counter[tuple[str, str]]) -> dict[str, str]:
    """For each key, its most counted value; the first counted among equals (as
    `Counter.most_common` breaks ties). One counter of pairs, not one per key: at 57k
    posts a worker opening a build made 670k counters."""
    best: dict[str, tuple[int, str]] = {}
    for (key, value), count in counts.items():  # in the order first counted
        if key not in best or count > best[key][0]:
            best[key] = (count, value)
    return {key: value for key, (_, value) in best.items()}
