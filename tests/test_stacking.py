"""Count tables counted in chunks and stacked equal counting the same posts at once."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from index.lexical import count_words, stack_word_counts
from index.posts import find_post_files, parse_post
from index.stacking import kept_row_pointers
from index.tfidf import TERMS_FILE, TermCounts, count_terms, english_stop_words, stack_counts
from tests.conftest import SAMPLE_POSTS


def _same(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    """Equal entry for entry and stored the same way (columns ascending in each row)."""
    return (
        a.shape == b.shape
        and a.has_sorted_indices
        and b.has_sorted_indices
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


def test_stacked_chunks_equal_counting_the_kept_posts_at_once() -> None:
    posts = [parse_post(path, SAMPLE_POSTS) for path in find_post_files(SAMPLE_POSTS)]
    rng = random.Random(5)
    chunks = [posts[i : i + 7] for i in range(0, len(posts), 7)]
    # Drop some rows (drafts) and a whole chunk's worth, so unused words must go.
    kept_rows = [sorted(rng.sample(range(len(c)), max(0, len(c) - 2))) for c in chunks]
    kept_rows[1] = []
    kept = [c[r] for c, rows in zip(chunks, kept_rows, strict=True) for r in rows]

    order = [(chunk, row) for chunk, rows in enumerate(kept_rows) for row in rows]
    words = stack_word_counts([count_words(c) for c in chunks], order)
    expected = count_words(kept)
    assert words.vocabulary == expected.vocabulary and words.langs == expected.langs
    assert _same(words.title, expected.title) and _same(words.text, expected.text)

    terms = stack_counts([count_terms(c) for c in chunks], order)
    expected_terms = count_terms(kept)
    assert terms.vocabulary == expected_terms.vocabulary
    assert _same(terms.counts, expected_terms.counts)


def test_term_counts_keep_their_stop_words_and_join_only_with_the_same() -> None:
    posts = [parse_post(path, SAMPLE_POSTS) for path in find_post_files(SAMPLE_POSTS)][:4]
    default = count_terms(posts[:2])
    assert default.stop_words == english_stop_words() and "the" not in default.vocabulary
    own = count_terms(posts[2:], frozenset({"and"}))
    assert "the" in own.vocabulary and "and" not in own.vocabulary
    with pytest.raises(ValueError, match="different stop words"):
        stack_counts([default, own], [(0, 0), (1, 0)])


def test_term_counts_saved_before_stop_words_were_saved_read_scikit_learns(
    tmp_path: Path,
) -> None:
    posts = [parse_post(path, SAMPLE_POSTS) for path in find_post_files(SAMPLE_POSTS)][:3]
    count_terms(posts, frozenset({"and"})).save(tmp_path)
    assert TermCounts.load(tmp_path).stop_words == {"and"}
    saved = json.loads((tmp_path / TERMS_FILE).read_text(encoding="utf-8"))
    del saved["stop_words"]  # as a build of the previous format wrote it
    (tmp_path / TERMS_FILE).write_text(json.dumps(saved), encoding="utf-8")
    assert TermCounts.load(tmp_path).stop_words == english_stop_words()


def test_rows_taken_in_any_order_equal_counting_the_posts_in_that_order() -> None:
    """An incremental build's order interleaves the old table's rows with new ones, in
    runs; shuffled pairs split into runs of every length."""
    posts = [parse_post(path, SAMPLE_POSTS) for path in find_post_files(SAMPLE_POSTS)]
    old, new = posts[:-6], posts[-6:]
    rng = random.Random(11)
    pairs = [(0, row) for row in range(len(old)) if row % 9] + [(1, row) for row in range(6)]
    for order in (sorted(pairs), rng.sample(pairs, len(pairs))):
        chosen = [(old, new)[table][row] for table, row in order]
        words = stack_word_counts([count_words(old), count_words(new)], order)
        expected = count_words(chosen)
        assert words.vocabulary == expected.vocabulary and words.langs == expected.langs
        assert _same(words.title, expected.title) and _same(words.text, expected.text)
        terms = stack_counts([count_terms(old), count_terms(new)], order)
        expected_terms = count_terms(chosen)
        assert terms.vocabulary == expected_terms.vocabulary
        assert _same(terms.counts, expected_terms.counts)


@given(
    lengths=st.lists(st.integers(min_value=0, max_value=6), max_size=30),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
@settings(max_examples=300, deadline=None)
def test_kept_row_pointers_equal_a_running_count_of_the_kept_entries(
    lengths: list[int], seed: int
) -> None:
    """Rows of any length, empty ones first, last and between, and any mask."""
    indptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    kept = np.random.default_rng(seed).random(int(indptr[-1])) < 0.6
    expected = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])[indptr]
    pointers = kept_row_pointers(kept, indptr.astype(np.int32))
    assert pointers.dtype == np.int64
    assert np.array_equal(pointers, expected)
