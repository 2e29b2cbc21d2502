"""The BM25F matrix against its definition, computed post by post in plain Python.

`weigh` computes every weight with whole-matrix operations; this spells out the
formula of lexical.py's docstring for each post and term, so a change to how counts
become terms (stems, stop words, words of other languages) or to the saturation is
caught here, not only as a drift in the quality benchmark.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from index.analysis import ENGLISH, FOREIGN_PREFIX, term_of
from index.lexical import RankingSettings, WordCounts, weigh

# Words that share a stem, stop words (no term) and accented words, so posts in
# English and in French index some words differently.
WORDS = ["run", "running", "runs", "the", "and", "été", "ete", "river", "rivers", "café", "x"]


def _counts(posts: list[tuple[str, list[str], list[str]]]) -> WordCounts:
    """Count tables of (language, title words, text words) posts, as count_words makes them."""
    vocabulary = sorted({w for _, title, text in posts for w in title + text})
    column = {w: i for i, w in enumerate(vocabulary)}

    def table(field: int) -> sp.csr_matrix:
        rows, cols, data = [], [], []
        for row, post in enumerate(posts):
            for word, count in sorted(Counter(post[field]).items()):
                rows.append(row)
                cols.append(column[word])
                data.append(count)
        shape = (len(posts), len(vocabulary))
        return sp.csr_matrix((np.array(data, np.int32), (rows, cols)), shape=shape)

    return WordCounts(table(1), table(2), vocabulary, [lang for lang, _, _ in posts])


def _reference(posts: list[tuple[str, list[str], list[str]]], s: RankingSettings) -> dict:
    """{(term, post): weight} by the formula, one post and term at a time."""
    per_field = []  # per post: ({term: title tf}, {term: text tf})
    for lang, title, text in posts:
        fields = []
        for words in (title, text):
            terms = Counter(term_of(w, lang) for w in words)
            terms.pop(None, None)  # stop words have no term
            fields.append(terms)
        per_field.append(fields)
    n = len(posts)
    averages = []
    for f in (0, 1):
        mean = sum(sum(p[f].values()) for p in per_field) / n
        averages.append(mean if mean > 0 else 1.0)
    frequency: dict[tuple[str, int], float] = {}
    for row, fields in enumerate(per_field):
        for f, (weight, b) in enumerate(((s.title_weight, s.b_title), (1.0, s.b_text))):
            norm = 1 - b + b * sum(fields[f].values()) / averages[f]
            for term, tf in fields[f].items():
                frequency[(term, row)] = frequency.get((term, row), 0.0) + weight * tf / norm
    df = Counter(term for term, _ in frequency)
    word_df = Counter(w for _, title, text in posts for w in set(title + text))
    out = {}
    for (term, row), freq in frequency.items():
        docs = df[term]
        if term.startswith(FOREIGN_PREFIX):  # rarity over every post, whatever its language
            docs = max(docs, word_df[term[len(FOREIGN_PREFIX) :]])
        idf = math.log1p((n - docs + 0.5) / (docs + 0.5))
        out[(term, row)] = freq * (s.k1 + 1) / (freq + s.k1) * idf
    return out


def _weights(posts: list[tuple[str, list[str], list[str]]]) -> dict:
    index = weigh(_counts(posts), RankingSettings())
    matrix = index.weights.tocoo()
    return {
        (index.terms[t], int(p)): float(v)
        for t, p, v in zip(matrix.row, matrix.col, matrix.data, strict=True)
    }


def _assert_matches(posts: list[tuple[str, list[str], list[str]]]) -> None:
    got, expected = _weights(posts), _reference(posts, RankingSettings())
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert math.isclose(got[key], value, rel_tol=1e-5, abs_tol=1e-6), key


def test_mixed_languages_weigh_as_the_formula_says() -> None:
    _assert_matches(
        [
            (ENGLISH, ["running", "rivers"], ["the", "river", "runs", "run", "café"]),
            ("fr", ["été"], ["la", "rivière", "et", "le", "café", "café", "run"]),
            (ENGLISH, [], ["ete", "the", "running"]),
            ("de", ["fluss"], ["der", "fluss", "river"]),
        ]
    )


_post = st.tuples(
    st.sampled_from([ENGLISH, ENGLISH, "fr", "de"]),
    st.lists(st.sampled_from(WORDS), max_size=4),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=12),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_post, min_size=1, max_size=8))
def test_any_corpus_weighs_as_the_formula_says(posts) -> None:
    _assert_matches(posts)
