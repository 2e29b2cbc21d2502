"""Correct misspelled query words against the words of the corpus, in milliseconds.

Whoosh's fuzzy terms and `correct_query` walk the term dictionary in Python (seconds
at p95, ~150 ms on 10k posts). Here candidates are the corpus words of a compatible
length, compared by rapidfuzz's optimal-string-alignment distance in C, where a swap
of two neighbouring letters is one edit ("nueral" -> "neural"). Allowed edits grow with
the word: none below 5 letters (too many short words are one edit apart), 1 from 5,
2 from 9. Only words in at least `min_df` posts are candidates, so a typo that
occurs once in the corpus is not offered as a correction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from index.analysis import TOKEN, words

if TYPE_CHECKING:
    from .loaded import LoadedBuild
    from .query import ParsedQuery


# A word this much more frequent than what was typed is "clearly better".
CLEARLY_BETTER = 20
# Words in more posts than this are never second-guessed.
RARE_POSTS = 3


def allowed_edits(word: str) -> int:
    """How many edits a correction of `word` may make."""
    if len(word) >= 9:
        return 2
    return 1 if len(word) >= 5 else 0


@dataclass(frozen=True)
class Correction:
    """A better spelling of one word, how far it is and how common."""

    word: str
    replacement: str
    distance: int
    df: int


class Speller:
    """Corpus words bucketed by length, each with a mask of the letters it holds.

    An edit changes at most two bits of that mask (a substitution drops one letter and
    adds another; a transposition changes none), so a word more than 2 × edits bits
    away cannot be a correction: one vectorised XOR and popcount sets most of a bucket
    aside before rapidfuzz compares the rest (at 57k posts the typo queries spent
    2.4 ms here, half their time, comparing every word of three lengths).
    """

    def __init__(self, words: list[str], df: np.ndarray, min_df: int = 1) -> None:
        self._df = {w: int(d) for w, d in zip(words, df, strict=True) if d >= min_df}
        by_length: dict[int, list[str]] = {}
        for word in self._df:
            if word.isalpha():
                by_length.setdefault(len(word), []).append(word)
        self._by_length = {
            length: (bucket, np.array([_letter_mask(w) for w in bucket], dtype=np.uint64))
            for length, bucket in by_length.items()
        }

    def correct(self, word: str, seen_in: int) -> Correction | None:
        """The best correction of a word found in `seen_in` posts, or None.

        A word found nowhere gets the closest, then most frequent, candidate; a word
        found in a few posts only one that is CLEARLY_BETTER times more frequent.
        """
        edits = allowed_edits(word)
        if edits == 0 or not word.isalpha():
            return None
        best: Correction | None = None
        mask = np.uint64(_letter_mask(word))
        for length in range(len(word) - edits, len(word) + edits + 1):
            if length not in self._by_length:
                continue
            bucket, masks = self._by_length[length]
            near = np.flatnonzero(np.bitwise_count(masks ^ mask) <= 2 * edits)
            for candidate, distance, _ in process.extract(
                word, [bucket[i] for i in near], scorer=OSA.distance, score_cutoff=edits, limit=None
            ):
                if candidate == word:
                    continue
                found = Correction(word, candidate, int(distance), self._df[candidate])
                if best is None or _better(found, best):
                    best = found
        if best is None:
            return None
        if seen_in and best.df < max(CLEARLY_BETTER * seen_in, 3):
            return None
        return best


def _letter_mask(word: str) -> int:
    """One bit per letter the word holds (letters beyond a-z share bits: the bound on
    differing bits still holds, it only lets a few more words through)."""
    mask = 0
    for char in word:
        mask |= 1 << (ord(char) % 64)
    return mask


def _better(a: Correction, b: Correction) -> bool:
    return (a.distance, -a.df, a.replacement) < (b.distance, -b.df, b.replacement)


def spelling_of(loaded: LoadedBuild, parsed: ParsedQuery) -> tuple[dict[str, str], str | None]:
    """Corrections for the query's words found nowhere, and a "did you mean" text.

    Returns (word -> replacement for words in no post, suggested query text or None).
    The suggestion covers words found in a few posts when a far more common spelling
    exists; it is offered, not searched.
    """
    speller: Speller = loaded.memo("speller", _speller)
    ranking = loaded.ranking
    corrections: dict[str, str] = {}
    better: dict[str, str] = {}
    for word in parsed.positive_words:
        seen_in = ranking.df(word)
        if word == parsed.prefix and ranking.completions(word):
            continue  # still being typed and already the start of real words
        if seen_in > RARE_POSTS:
            continue  # common enough: no spelling could be "clearly better"
        found = speller.correct(word, seen_in)
        if found is not None:
            (better if seen_in else corrections)[word] = found.replacement
    suggestion = corrected_text(parsed.text, better) if better else None
    return corrections, suggestion


def corrected_text(text: str, corrections: dict[str, str]) -> str:
    """The reader's text with each corrected word replaced, the rest as typed."""

    def swap(match: re.Match[str]) -> str:
        found = words(match.group(0))
        return corrections.get(found[0], match.group(0)) if len(found) == 1 else match.group(0)

    return TOKEN.sub(swap, text)


def _speller(loaded: LoadedBuild) -> Speller:
    # In a large corpus, words in a single post are mostly typos and one-off names.
    min_df = 2 if len(loaded.posts) >= 500 else 1
    return Speller(loaded.ranking.words, loaded.ranking.word_df, min_df)
