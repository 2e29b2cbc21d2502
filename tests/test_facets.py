"""Facet counting over a build's summary columns, checked against counting by hand."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import numpy as np

from search.facets import MAX_FACET_VALUES, FacetFilters, FacetTable


def _table(posts: int, seed: int = 3) -> tuple[FacetTable, list[list[str]], list[dt.datetime]]:
    """Posts with skewed tags (a few popular, a long tail of one-offs), one category each."""
    rng = random.Random(seed)

    def one_tag() -> str:
        return f"tag{min(int(rng.paretovariate(0.7)), 400):03d}"

    tags = [sorted({one_tag() for _ in range(rng.randint(1, 6))}) for _ in range(posts)]
    dates = [dt.datetime(2015 + rng.randint(0, 9), 1, 1, tzinfo=dt.UTC) for _ in range(posts)]
    summary = {
        "tags": tags,
        "keywords": [[] for _ in range(posts)],
        "categories": [[[f"Cat {i % 7}", "general"]] for i in range(posts)],
        "authors": [[f"author{i % 3}"] for i in range(posts)],
        "featured": [False] * posts,
        "trending": [False] * posts,
    }
    return FacetTable(summary, dates), tags, dates


def test_counts_equal_counting_the_matched_posts_most_frequent_first() -> None:
    table, tags, dates = _table(3000)
    matched = np.random.default_rng(1).random(3000) < 0.4
    facets = table.counts(matched, {}, FacetFilters())
    expected = Counter(t for row, post_tags in enumerate(tags) if matched[row] for t in post_tags)
    ranked = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    assert len(expected) > MAX_FACET_VALUES  # the cut is exercised
    assert [(v["value"], v["count"]) for v in facets["tags"]] == ranked[:MAX_FACET_VALUES]
    years = Counter(d.strftime("%Y") for row, d in enumerate(dates) if matched[row])
    assert [(v["value"], v["count"]) for v in facets["years"]] == sorted(
        years.items(), reverse=True
    )
    assert {v["level"] for v in facets["categories"]} == {"general"}
    assert all("level" not in v for v in facets["tags"])


def test_a_chosen_value_is_always_shown_with_its_count() -> None:
    table, tags, _ = _table(3000)
    matched = np.ones(3000, dtype=bool)
    rare = Counter(t for post_tags in tags for t in post_tags).most_common()[-1][0]
    filters = FacetFilters(tags=(rare, "no-such-tag"))
    masks = table.filter_masks(filters)
    shown = {v["value"]: v["count"] for v in table.counts(matched, masks, filters)["tags"]}
    assert shown[rare] == sum(rare in post_tags for post_tags in tags)  # own filter ignored
    assert shown["no-such-tag"] == 0
    assert len(shown) == MAX_FACET_VALUES + 2
