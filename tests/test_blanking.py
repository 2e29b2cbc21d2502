"""The tokenisers' fast paths (split in C, see index/blanking.py) find exactly what the
regular expressions they replace find, on any text: ASCII and not, with the dots that
join words, underscores, ligatures, accents, unusual blanks and lone surrogates."""

from __future__ import annotations

import re
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from index.analysis import word_counts, words
from index.bodies import body_counts
from index.language import sample_words
from index.tfidf import TERM_TOKEN, _token_counts, fold_text

_PIECES = st.sampled_from(
    [
        "word", "Word", "node.js", "e.g.", "end.", ".net", "3.11", "x..y", "...", "a",
        "_id", "snake_case", "café", "CAFÉ", "naïve", "İstanbul", "ﬁle", "x²", "½",
        "don’t", "“quoted”", "—", "…", "٣", "日本語", "Ωμέγα", "ΟΔΟΣ", "e\u0301",
        "\u00a0", "\u2028", "\u3000", "\x1c", "\x85", "\t", "\n", " ", ".", "_", "-",
        "\ud800", "é.é", "a.é", "é.a",
    ]
)  # fmt: skip
_TEXTS = st.one_of(
    st.lists(_PIECES, max_size=30).map("".join),
    st.lists(_PIECES, max_size=30).map(" ".join),
    st.text(max_size=200),
)
_LETTERS = re.compile(r"[^\W\d_]+")


@given(_TEXTS)
@settings(max_examples=500, deadline=None)
def test_word_counts_are_the_counts_of_words(text: str) -> None:
    assert word_counts(text) == Counter(words(text))


@given(_TEXTS)
@settings(max_examples=500, deadline=None)
def test_term_token_counts_are_the_regular_expressions(text: str) -> None:
    folded = fold_text(text)
    assert _token_counts(folded) == Counter(TERM_TOKEN.findall(folded))


@given(_TEXTS)
@settings(max_examples=500, deadline=None)
def test_language_sample_words_are_the_regular_expressions(text: str) -> None:
    assert sample_words(text) == _LETTERS.findall(text)


_ASCII_PROSE = st.lists(
    st.sampled_from(
        ["word", "Word", "node.js", "e.g.", "end.", ".net", "3.11", "x..y", "...", "a", "_",
         "_id", "snake_case", "a_.b", "x._y", "__init__", "v1.2_beta", "Z", " ", "\n", "\t",
         "-", ",", "(", "’", "“", "”", "—", "…", "\u00a0", "\u212a", ".", "9"]
    ),
    max_size=40,
).map("".join)  # fmt: skip


@given(st.one_of(_TEXTS, _ASCII_PROSE))
@settings(max_examples=700, deadline=None)
def test_one_split_of_a_body_counts_both_its_words_and_its_terms(text: str) -> None:
    """Whenever the shared split applies, it counts exactly what each tokeniser counts
    alone; it applies to every text that is ASCII once lowercased and its quotes,
    dashes, ellipses and no-break spaces blanked (the Kelvin sign lowercases to k)."""
    counted = body_counts(text)
    lowered = text.lower()
    for mark in "’‘“”—–…\u00a0":
        lowered = lowered.replace(mark, " ")
    assert (counted is not None) == lowered.isascii()
    if counted is not None:
        assert counted.words == word_counts(text)
        assert counted.terms == Counter(TERM_TOKEN.findall(fold_text(text)))
