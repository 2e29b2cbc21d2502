"""Facet counting over a build's summary columns, checked against counting by hand."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from index import BuildOptions, build
from index.catalog import load_summary
from index.facet_values import (
    FACETS,
    FACETS_FILE,
    FACETS_VERSION,
    FACETS_VOCAB_FILE,
    facet_values,
    facets_of,
    load_facets,
    publication_times,
)
from index.manifest import describe_artifacts, verify_build
from index.schema import facet_key
from search import Searcher, SearchRequest
from search.facets import MAX_FACET_VALUES, FacetFilters, FacetTable
from tests.conftest import SAMPLE_POSTS, write_post


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
    return FacetTable.from_summary(summary, dates), tags, dates


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


def test_workers_map_the_facets_a_build_numbered_and_number_older_builds_alike(
    tmp_path: Path,
) -> None:
    """The build numbers every facet value once (facets.npz, facets.json); a build made
    before those files is numbered by the worker from the summary, to the same answers."""
    result = build(SAMPLE_POSTS, tmp_path / "index")
    summary = load_summary(result.build_dir)
    saved = load_facets(result.build_dir)
    computed = facets_of(summary, publication_times(summary["date"]))
    assert saved is not None and saved.levels == computed.levels
    for name in FACETS:
        mine, theirs = saved.facets[name], computed.facets[name]
        assert (mine.keys, mine.names) == (theirs.keys, theirs.names), name
        assert mine.posts.shape == theirs.posts.shape and (mine.posts != theirs.posts).nnz == 0
    assert len(saved.facets["years"].keys) > 1 and saved.levels  # every facet exercised

    def served() -> list[dict]:
        with Searcher(tmp_path / "index") as searcher:
            return [
                searcher.search(request).to_dict()["facets"]
                for request in (
                    SearchRequest(q=""),
                    SearchRequest(q="bread", years=("2023",)),
                )
            ]

    numbered = served()
    for name in (FACETS_FILE, FACETS_VOCAB_FILE):  # as built before the build numbered them
        (result.build_dir / name).unlink()
    manifest_path = result.build_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["artifacts"] = describe_artifacts(result.build_dir)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert load_facets(result.build_dir) is None
    assert served() == numbered


def test_an_edit_that_changes_no_label_shares_the_facets_and_a_new_tag_renumbers_them(
    tmp_path: Path,
) -> None:
    posts, index_dir = tmp_path / "posts", tmp_path / "index"
    shutil.copytree(SAMPLE_POSTS, posts)
    first = build(posts, index_dir).build_dir
    edited = posts / "accessible-forms-that-everyone-can-use.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", "utf-8")
    second = build(posts, index_dir)
    assert second.mode == "incremental"
    for name in (FACETS_FILE, FACETS_VOCAB_FILE):  # the same values: the previous files
        assert os.path.samefile(first / name, second.build_dir / name)
    write_post(posts, "tagged.md", {"title": "Tagged", "tags": ["brand new tag"]}, "Words.")
    third = build(posts, index_dir)
    assert third.mode == "incremental"
    assert not os.path.samefile(second.build_dir / FACETS_FILE, third.build_dir / FACETS_FILE)
    numbered = load_facets(third.build_dir)
    summary = load_summary(third.build_dir)
    computed = facets_of(summary, publication_times(summary["date"]))
    assert numbered is not None and "brand new tag" in numbered.facets["tags"].keys
    for name in FACETS:
        assert numbered.facets[name].keys == computed.facets[name].keys, name
        assert (numbered.facets[name].posts != computed.facets[name].posts).nnz == 0, name
    verify_build(third.build_dir)  # the shared files' digests were carried over right


def _numbered_one_post_at_a_time(
    labels: list[list[str]], posts: int
) -> tuple[list[str], list[str], sp.csr_matrix]:
    """The numbering `facet_values` replaced, step by step: each post's (key, name)
    pairs once per key, columns in order of first use, each key's most used spelling
    (the first counted among equals)."""
    spellings: Counter[tuple[str, str]] = Counter()
    rows, cols, column = [], [], {}
    for row, names in enumerate(labels):
        for key, name in dict((facet_key(n), n) for n in names).items():
            cols.append(column.setdefault(key, len(column)))
            rows.append(row)
            spellings[key, name] += 1
    best: dict[str, tuple[int, str]] = {}
    for (key, name), count in spellings.items():
        if key not in best or count > best[key][0]:
            best[key] = (count, name)
    matrix = sp.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(posts, max(1, len(column)))
    )
    return list(column), [best[key][1] for key in column], matrix.T.tocsr()


SPELLINGS = ["Cast Iron", "cast iron", "cast  iron", "Cast, Iron", "CAST IRON", "pans", "Pans"]


@given(st.lists(st.lists(st.sampled_from([*SPELLINGS, " pans ", "x", "Ünïcode"]), max_size=5)))
@settings(max_examples=200, deadline=None)
def test_numbering_in_bulk_equals_numbering_one_post_at_a_time(labels: list[list[str]]) -> None:
    numbered = facet_values(labels, len(labels))
    keys, names, matrix = _numbered_one_post_at_a_time(labels, len(labels))
    assert (numbered.keys, numbered.names) == (keys, names)
    assert numbered.posts.shape == matrix.shape and (numbered.posts != matrix).nnz == 0


def _front(date: str = "2021-03-04", level: str = "general", keyword: str = "skillet"):
    return {
        "title": "Seasoning a pan",
        "date": date,
        "categories": [{"type": level, "name": "Kitchen"}, {"type": "niche", "name": "Iron"}],
        "tags": ["cast iron"],
        "keywords": [keyword],
        "author": "Ada",
    }


@pytest.mark.parametrize(
    ("change", "shared"),
    [
        ({}, True),  # the text alone
        ({"date": "2024-03-04"}, False),  # another year
        ({"level": "medium"}, False),  # the category's level
        ({"keyword": "griddle"}, False),
    ],
)
def test_facet_files_are_shared_only_when_no_label_or_date_changed(
    tmp_path: Path, change: dict[str, str], shared: bool
) -> None:
    posts, index_dir = tmp_path / "posts", tmp_path / "index"
    for n in range(20):  # one change in 21 posts: an incremental build
        write_post(posts, f"other-{n}.md", {"title": f"Other {n}", "tags": ["misc"]}, "Text.")
    write_post(posts, "pan.md", _front(), "Oil, heat, wipe.")
    first = build(posts, index_dir).build_dir
    write_post(posts, "pan.md", _front(**change), "Oil, heat, wipe, and repeat.")
    second = build(posts, index_dir)
    assert second.mode == "incremental"
    assert os.path.samefile(first / FACETS_FILE, second.build_dir / FACETS_FILE) is shared
    summary = load_summary(second.build_dir)
    computed = facets_of(summary, publication_times(summary["date"]))
    numbered = load_facets(second.build_dir)
    assert numbered is not None and numbered.levels == computed.levels
    for name in FACETS:
        assert numbered.facets[name].keys == computed.facets[name].keys, name
        assert (numbered.facets[name].posts != computed.facets[name].posts).nnz == 0, name


def test_facets_numbered_another_way_are_neither_served_nor_shared(tmp_path: Path) -> None:
    posts, index_dir = tmp_path / "posts", tmp_path / "index"
    shutil.copytree(SAMPLE_POSTS, posts)
    first = build(posts, index_dir).build_dir
    with Searcher(index_dir) as searcher:
        served = searcher.search(SearchRequest(q="")).to_dict()["facets"]
    vocabulary = json.loads((first / FACETS_VOCAB_FILE).read_text(encoding="utf-8"))
    (first / FACETS_VOCAB_FILE).unlink()  # a new file: the next build links nothing of it
    vocabulary["version"] = FACETS_VERSION + 1
    (first / FACETS_VOCAB_FILE).write_text(json.dumps(vocabulary) + " ", encoding="utf-8")
    manifest_path = first / "manifest.json"  # as the other numbering would have written it
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["artifacts"] = describe_artifacts(first)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert load_facets(first) is None
    with Searcher(index_dir) as searcher:  # numbered by the worker from the summary instead
        assert searcher.search(SearchRequest(q="")).to_dict()["facets"] == served
    edited = posts / "accessible-forms-that-everyone-can-use.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", "utf-8")
    result = build(posts, index_dir, BuildOptions(full=False))
    assert result.mode == "incremental"
    second = result.build_dir
    assert not os.path.samefile(first / FACETS_FILE, second / FACETS_FILE)
    assert load_facets(second) is not None
