"""Phrase queries, the one thing left to Whoosh: it keeps word positions per field."""

from __future__ import annotations

from whoosh.query import Or, Phrase, Query

from index.analysis import english_term
from index.schema import ENGLISH_TEXT_FIELDS, OTHER_TEXT_FIELDS


def phrase_query(phrase: tuple[str, ...]) -> Query | None:
    """Match the words next to each other in any text field, in the post's language.

    English fields hold stems without stop words (the analyzer renumbers positions),
    so "state of the art" is the stems of "state" and "art" side by side; other
    languages' fields hold the words themselves. None when nothing is left to match.
    """
    stems = [t for t in map(english_term, phrase) if t]
    parts: list[Query] = []
    if stems:
        parts += [Phrase(field, stems) for field in ENGLISH_TEXT_FIELDS]
    parts += [Phrase(field, list(phrase)) for field in OTHER_TEXT_FIELDS]
    return Or(parts) if parts else None
