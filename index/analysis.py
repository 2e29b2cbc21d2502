"""Words and search terms, the same at build time and at query time.

Text becomes *words* (lowercased, accents folded: what a reader types and what
suggestions and spelling corrections are made of), and words become *terms* (what the
ranking matrix is keyed by). English posts map a word to its Porter stem, without
stop words or one-letter words, exactly as the Whoosh schema's English
analyzer does; posts in other languages keep the word itself, under a `~` prefix so
a French "chat" never meets the stem of an English "chatting". A query is turned into
both kinds of term, so each post is matched in its own language.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from whoosh.support.charset import accent_map

from .blanking import ASCII_ALNUM, blank, blanking_table, pieces, resplit
from .schema import STOP_WORDS, TOKEN_PATTERN, cached_stem

TOKEN = re.compile(TOKEN_PATTERN)
FOREIGN_PREFIX = "~"
ENGLISH = "en"


def words(text: str) -> list[str]:
    """The words of a text: tokenised, lowercased and accent-folded."""
    lowered = text.lower()
    found = TOKEN.findall(lowered)
    if lowered.isascii():  # nothing to fold: skip a Python step per word
        return found
    return [w if w.isascii() else w.translate(accent_map) for w in found]


_WORD_BYTES = blanking_table(ASCII_ALNUM + ".")


def word_counts(text: str) -> Counter[str]:
    """How often each word of `text` occurs: `Counter(words(text))`, in less time.

    Counting every post's words is a large part of a full build. The text is split in C
    (see blanking.py); only the distinct pieces that are not one plain ASCII word (a
    word with an inner dot, a run of dots, a piece holding non-ASCII characters) go
    through `words`.
    """
    blanked = blank(text.lower(), _WORD_BYTES)
    # A dot next to a blank never joins two words: blanked here, in C, it leaves far
    # fewer pieces to re-tokenise (every sentence ends with one).
    blanked = blanked.replace(b". ", b"  ").replace(b" .", b"  ")
    counted = Counter(pieces(blanked))
    if blanked.isascii():  # most posts once quotes and dashes are blanked: test no piece
        unplain = [p for p in counted if "." in p] if b"." in blanked else []
    else:
        unplain = [p for p in counted if "." in p or not p.isascii()]
    return resplit(counted, unplain, words)


def english_term(word: str) -> str | None:
    """The stem an English post indexes a word under, or None for stop and 1-letter words."""
    if len(word) < 2 or word in STOP_WORDS:
        return None
    return cached_stem(word)


def foreign_term(word: str) -> str:
    """The term a post in another language indexes a word under (the word itself)."""
    return FOREIGN_PREFIX + word


def term_of(word: str, lang: str) -> str | None:
    """The term a post in `lang` indexes `word` under (None: not indexed)."""
    return english_term(word) if lang == ENGLISH else foreign_term(word)


def query_terms(word: str) -> list[str]:
    """Every term a query word can match: the English stem and the foreign word."""
    stem = english_term(word)
    return [t for t in (stem, foreign_term(word)) if t is not None]


def highlight_terms(query_words: Iterable[str], english: bool) -> set[str]:
    """What the snippet highlighter looks for: stems in English posts, words otherwise."""
    if english:
        return {t for t in map(english_term, query_words) if t}
    return set(query_words)
