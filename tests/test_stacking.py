"""Count tables counted in chunks and stacked equal counting the same posts at once."""

from __future__ import annotations

import random

import numpy as np
import scipy.sparse as sp

from index.lexical import count_words, stack_word_counts
from index.posts import find_post_files, parse_post
from index.tfidf import count_terms, stack_counts
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

    words = stack_word_counts(
        [(count_words(c), rows) for c, rows in zip(chunks, kept_rows, strict=True)]
    )
    expected = count_words(kept)
    assert words.vocabulary == expected.vocabulary and words.langs == expected.langs
    assert _same(words.title, expected.title) and _same(words.text, expected.text)

    terms = stack_counts(
        [(count_terms(c), rows) for c, rows in zip(chunks, kept_rows, strict=True)]
    )
    expected_terms = count_terms(kept)
    assert terms.vocabulary == expected_terms.vocabulary
    assert _same(terms.counts, expected_terms.counts)
