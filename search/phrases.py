"""Phrase matching: Whoosh positions for the short fields, the texts store for bodies.

A phrase matches when its words stand next to each other in one field, in the post's
own language: in English posts stop words and one-letter words are skipped on both
sides (as Whoosh's analyzer renumbers positions), so "state of the art" finds "state
of the art" and "state-of-the-art"; in other languages every word counts.

Titles and category and tag names are in Whoosh with positions. Bodies and excerpts
are not (analysing them took most of the time of writing the index), so they are
checked directly: the ranking matrix narrows the posts to those holding every word of
the phrase (its text field counts the excerpt and the body), and each of those bodies,
then the excerpt of each whose body lacks it (unless the excerpt repeats the body's
start), is scanned for the words' corpus forms
(the snippet highlighter's), then the gaps between consecutive words are checked.
(Builds made before kept excerpts in Whoosh too; those are still searched there.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
from whoosh.query import Or, Phrase, Query

from index.analysis import english_term, foreign_term, words
from index.schema import ENGLISH_TEXT_FIELDS, OTHER_TEXT_FIELDS

from .loaded import LoadedBuild

_CHECK_CLOCK_EVERY = 64  # bodies between two looks at the time limit


def phrase_query(phrase: tuple[str, ...]) -> Query | None:
    """Whoosh query for the words side by side in a short text field (title, excerpt,
    category or tag names). None when nothing is left to match."""
    stems = [t for t in map(english_term, phrase) if t]
    parts: list[Query] = []
    if stems:
        parts += [Phrase(field, stems) for field in ENGLISH_TEXT_FIELDS]
    parts += [Phrase(field, list(phrase)) for field in OTHER_TEXT_FIELDS]
    return Or(parts) if parts else None


def body_phrase_rows(
    loaded: LoadedBuild, phrase: tuple[str, ...], skip: np.ndarray, deadline: float
) -> tuple[np.ndarray, bool]:
    """Posts whose body or excerpt holds the phrase, and whether the time ran out before
    all were checked. Rows in `skip` (already matched elsewhere) are not read."""
    mask = np.zeros(len(loaded.posts), dtype=bool)
    checked = 0
    for english, sequence in _sequences(phrase):
        if not sequence:
            continue
        candidates = np.ones(len(loaded.posts), dtype=bool)
        for term in sequence:
            candidates &= loaded.ranking.rows_with_term(term if english else foreign_term(term))
        if len(sequence) == 1:  # one word: holding it anywhere is the phrase
            mask |= candidates
            continue
        highlighter = loaded.highlighters["en" if english else "other"]
        forms = loaded.ranking.forms(frozenset(sequence), english)
        for row in np.flatnonzero(candidates & ~skip):
            checked += 1
            if checked % _CHECK_CLOCK_EVERY == 0 and time.monotonic() > deadline:
                return mask, True
            for text in _texts_of(loaded, int(row)):
                found = highlighter.matches(text, set(sequence), forms)
                if _in_sequence(text, found, sequence, english):
                    mask[row] = True
                    break
    return mask, False


def _texts_of(loaded: LoadedBuild, row: int) -> Iterator[str]:
    """A post's body, then its excerpt: a phrase matches within one of them (the
    excerpt is only read when the body lacks the phrase, and never when it repeats the
    body's start: see index.schema.excerpt_in_body)."""
    yield loaded.texts.get(row)
    if not loaded.excerpt_in_body[row]:
        yield loaded.posts[row]["excerpt"]


def _sequences(phrase: tuple[str, ...]) -> list[tuple[bool, list[str]]]:
    """The terms to find in English posts (stems, stop words dropped) and in others."""
    stems = [t for t in map(english_term, phrase) if t]
    return [(True, stems), (False, list(phrase))]


def _in_sequence(text: str, found: list, sequence: list[str], english: bool) -> bool:
    """True when matches of the sequence's terms follow each other with nothing between
    them but separators (and, in English, stop words)."""
    last = len(sequence) - 1
    for start, match in enumerate(found):
        if match.term != sequence[0] or start + last >= len(found):
            continue
        previous = match
        for offset in range(1, last + 1):
            following = found[start + offset]
            gap = text[previous.end : following.start]
            if following.term != sequence[offset] or not _skippable(gap, english):
                break
            previous = following
        else:
            return True
    return False


def _skippable(gap: str, english: bool) -> bool:
    """Whether a stretch between two words holds no word the index would count."""
    between = words(gap)
    if english:
        return all(english_term(word) is None for word in between)
    return not between
