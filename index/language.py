"""Guess whether a post is English, so English stemming is only applied to English text.

A front-matter `lang` wins; otherwise the share of common English function words
decides. It is a deliberately small test: a wrong "en" only costs a non-English
post its stemming, and a wrong "other" only costs an English post its stemming.
"""

from __future__ import annotations

import re

from .blanking import ASCII_LETTERS, blank, blanking_table, pieces

_ENGLISH_FUNCTION_WORDS = frozenset(
    "the and of to in is that it for with as was on are be this by you not or have "
    "from at but they an which can your we will has more their what all been would "
    "there how about when so if into than its only also these our".split()
)
_WORD = re.compile(r"[^\W\d_]+")
_LETTER_BYTES = blanking_table(ASCII_LETTERS)
_MIN_WORDS = 25
_ENGLISH_SHARE = 0.12
# A few hundred words decide as well as the whole post, at a fraction of the cost.
_SAMPLE_CHARS = 5_000


def detect_language(text: str, declared: str | None = None) -> str:
    """Return "en" or the declared/primary subtag, or "xx" for detected non-English text."""
    if declared:
        return declared.strip().lower().replace("_", "-").split("-")[0] or "en"
    words = list(map(str.lower, sample_words(text[:_SAMPLE_CHARS])))
    if len(words) < _MIN_WORDS:
        return "en"
    share = sum(map(_ENGLISH_FUNCTION_WORDS.__contains__, words)) / len(words)
    return "en" if share >= _ENGLISH_SHARE else "xx"


def sample_words(sample: str) -> list[str]:
    """`_WORD.findall(sample)` (runs of letters), split in C (see blanking.py): the
    regular expression was a seventh of parsing a post."""
    found = pieces(blank(sample, _LETTER_BYTES))
    if sample.isascii():  # every piece is a run of ASCII letters
        return found
    return [
        word
        for piece in found
        for word in (_WORD.findall(piece) if not piece.isascii() else (piece,))
    ]
