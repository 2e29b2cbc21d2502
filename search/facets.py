"""Facet counts and filters over the posts of a build, as numpy masks.

Four facets: categories (each with its level: exact, general, medium, specific, niche),
tags (tags and keywords), authors and year. Values chosen within one facet are OR-ed,
facets are AND-ed, and each facet's counts ignore that facet's own filter
("disjunctive" faceting): ticking a second category widens the results, so every box
shows what it would add. Counts cover the whole result set, never just a page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from index.facet_values import FACETS, BuildFacets, FacetValues, facets_of

from .results import FacetValue

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
    """One facet's values and which posts carry each (values x posts, 0/1)."""

    def __init__(self, values: FacetValues) -> None:
        self.keys = values.keys
        self.column = {key: number for number, key in enumerate(values.keys)}
        self.names = dict(zip(values.keys, values.names, strict=True))
        self._by_value = values.posts
        # Each value's place in key order: ties in counts are broken by key.
        in_key_order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        self.key_rank = np.empty(len(self.keys), dtype=np.int64)
        self.key_rank[in_key_order] = np.arange(len(self.keys))

    def mask(self, keys: Iterable[str], posts: int) -> np.ndarray:
        """Posts carrying any of the keys."""
        mask = np.zeros(posts, dtype=bool)
        for key in keys:
            col = self.column.get(key)
            if col is not None:
                start, end = self._by_value.indptr[col], self._by_value.indptr[col + 1]
                mask[self._by_value.indices[start:end]] = True
        return mask

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

    def __init__(
        self,
        values: BuildFacets,
        summary: Mapping[str, list[Any]],
        dates: Sequence[dt.datetime | None],
    ) -> None:
        """From a build's facet values (see index.facet_values) and its summary columns
        (see index.catalog.summary_columns)."""
        self.size = len(dates)
        self.facets = {name: Facet(values.facets[name]) for name in FACETS}
        # Every facet's values stacked: a search without filters counts all four facets
        # over the same matches, in one product instead of four.
        self._stacked = sp.vstack([f.by_value for f in self.facets.values()], format="csr")
        self.levels = values.levels
        # (name, key, level) of every value, facet after facet, made once per build.
        self._labels = [
            (facet.names[key], key, self.levels.get(key) if name == "categories" else None)
            for name, facet in self.facets.items()
            for key in facet.keys
        ]
        self._order = _ValueOrder(self.facets, self.size)
        self.featured = np.array(summary["featured"], dtype=bool)
        self.trending = np.array(summary["trending"], dtype=bool)
        self.timestamps = np.array(
            [d.timestamp() if d else np.nan for d in dates], dtype=np.float64
        )

    @classmethod
    def from_summary(
        cls, summary: Mapping[str, list[Any]], dates: Sequence[dt.datetime | None]
    ) -> FacetTable:
        """Numbering the values here (builds made before the build did it)."""
        return cls(facets_of(summary, dates), summary, dates)

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
        # Each facet is counted over the matches that pass the other filters.
        scopes = {name: _scope(matched, masks, name) for name in self.facets}
        if masks:
            totals = np.concatenate(
                [facet.totals(scopes[name]) for name, facet in self.facets.items()]
            )
        else:  # every facet over the same matches: one product instead of four
            totals = self._stacked @ matched.astype(np.float32)
        shown = self._order.shown(totals)
        labels = self._labels
        out: dict[str, list[FacetValue]] = {}
        for number, (name, facet) in enumerate(self.facets.items()):
            values, counts = shown[number]
            found = [  # _facet_value spelt out: a call per value took 15-25 % longer
                {"name": label, "value": key, "count": count}
                if level is None
                else {"name": label, "value": key, "count": count, "level": level}
                for (label, key, level), count in zip(
                    map(labels.__getitem__, values), counts, strict=True
                )
            ]
            chosen = filters.chosen(name)
            if chosen:
                names, levels = facet.names, self.levels if name == "categories" else {}
                listed = {value["value"] for value in found}
                for key in dict.fromkeys(chosen):
                    if key not in listed:
                        count = facet.count_of(key, scopes[name])
                        found.append(_facet_value(names.get(key, key), key, count, levels.get(key)))
            out[name] = found
        return out


def _facet_value(name: str, key: str, count: int, level: str | None) -> FacetValue:
    """One value's entry; `level` only when it has one (categories)."""
    if level is None:
        return {"name": name, "value": key, "count": count}
    return {"name": name, "value": key, "count": count, "level": level}


def _scope(matched: np.ndarray, masks: Mapping[str, np.ndarray], facet: str) -> np.ndarray:
    """The matches a facet is counted over: those passing every filter but its own."""
    scope = matched
    for other, mask in masks.items():
        if other != facet:
            scope = scope & mask
    return scope


class _ValueOrder:
    """Puts the counted values of every facet in display order with one sort.

    Values are shown most frequent first (ties by key), years newest first, at most
    MAX_FACET_VALUES per facet (every year). Each value gets an integer sort key (its
    facet, then its count and its key's rank) so one `argsort` orders all four facets:
    a search's facets cost one numpy sort, not four of each numpy step.
    """

    def __init__(self, facets: Mapping[str, Facet], posts: int) -> None:
        sizes = [len(f.keys) for f in facets.values()]
        step = max(1, *sizes)  # above any key rank
        span = (posts + 2) * step  # above the range of one facet's keys
        self._facet_of = np.repeat(np.arange(len(sizes)), sizes)
        ranks = np.concatenate([np.zeros(0, np.int64), *(f.key_rank for f in facets.values())])
        newest = np.repeat([name == "years" for name in facets], sizes)
        self._base = self._facet_of * span + np.where(newest, -ranks, ranks)
        self._count_step = np.where(newest, 0, step)
        self._limits = [None if name == "years" else MAX_FACET_VALUES for name in facets]

    def shown(self, totals: np.ndarray) -> list[tuple[list[int], list[int]]]:
        """(values, counts) per facet, in display order; values are indexes into the
        facets' values laid end to end, as `totals` is."""
        found = np.flatnonzero(totals)
        counts = totals[found].astype(np.int64)
        order = np.argsort(self._base[found] - counts * self._count_step[found])
        found, counts = found[order], counts[order]
        bounds = np.searchsorted(self._facet_of[found], np.arange(len(self._limits) + 1))
        out = []
        for number, limit in enumerate(self._limits):
            start, end = int(bounds[number]), int(bounds[number + 1])
            if limit is not None:
                end = min(end, start + limit)
            out.append((found[start:end].tolist(), counts[start:end].tolist()))
        return out
