"""Read what a reader typed in the search box: words, phrases, exclusions and filters.

The language is for people, not for a query engine: `"quoted phrases"`, `-word` and
`-"phrase"` to exclude, `category:name` and `tag:name` (quotes for several words) to
filter. Everything else is plain words, so `*`, `body:x`, `[a TO z]`, `NOT NOT x` or a
stray quote can never run an expensive or failing query: they are read as the words
they contain. Input is capped at MAX_QUERY_CHARS characters and MAX_TERMS words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from index.analysis import words

MAX_QUERY_CHARS = 256
MAX_TERMS = 32
FILTER_FIELDS = {"category": "category", "categories": "category", "tag": "tag", "tags": "tag"}
# One piece of the query: an optional "-", an optional field name with ":", then a
# quoted string or a run of non-space characters.
_PIECE = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[A-Za-z]+):)?(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s"]+))'
)


@dataclass(frozen=True)
class ParsedQuery:
    """The parts of a query. Words are lowercased and accent-folded, as in the index."""

    text: str
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded_words: tuple[str, ...] = ()
    excluded_phrases: tuple[tuple[str, ...], ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    # The last word is still being typed: match it as a prefix (search as you type).
    prefix: str | None = None

    @property
    def positive_words(self) -> tuple[str, ...]:
        """Every word that adds to a post's score: plain words and the words of phrases."""
        found = [*self.words, *(w for phrase in self.phrases for w in phrase)]
        if self.prefix:
            found.append(self.prefix)
        return tuple(dict.fromkeys(found))

    @property
    def has_text(self) -> bool:
        """True when something is searched for, not just filtered or excluded."""
        return bool(self.words or self.phrases or self.prefix)

    def as_any_word(self) -> ParsedQuery:
        """The same query with phrases loosened into plain words (the last fallback)."""
        return replace(self, words=self.positive_words, phrases=(), prefix=None)

    def replacing(self, corrections: dict[str, str]) -> ParsedQuery:
        """The query with misspelled words replaced by their corrections."""

        def fix(items: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(corrections.get(w, w) for w in items)

        return replace(
            self,
            words=fix(self.words),
            phrases=tuple(fix(p) for p in self.phrases),
            prefix=corrections.get(self.prefix, self.prefix) if self.prefix else None,
        )


def clean_query(text: str) -> str:
    """Drop control characters, collapse spaces and cap the length without cutting a word."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
    return text


def parse_query(raw: str, prefix: bool = False) -> ParsedQuery:
    """Split reader text into words, phrases, exclusions and filters; never fails.

    With `prefix`, a last plain word not followed by a space is treated as unfinished.
    """
    text = clean_query(raw)
    plain: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[str] = []
    excluded_phrases: list[tuple[str, ...]] = []
    filters: dict[str, list[str]] = {"category": [], "tag": []}
    budget = MAX_TERMS
    last_plain_piece = False
    for match in _PIECE.finditer(text):
        negated = bool(match["neg"])
        name = (match["field"] or "").lower()
        value = match["quoted"] if match["quoted"] is not None else match["bare"]
        last_plain_piece = False
        if name in FILTER_FIELDS and not negated and value.strip():
            filters[FILTER_FIELDS[name]].append(" ".join(value.split()))
            continue
        if name and name not in FILTER_FIELDS:
            value = f"{name} {value}"  # an unknown field is just more words
        found = words(value)[:budget]
        budget -= len(found)
        if not found:
            continue
        if match["quoted"] is not None and len(found) > 1:
            (excluded_phrases if negated else phrases).append(tuple(found))
        elif negated:
            excluded.extend(found)
        else:
            plain.extend(found)
            last_plain_piece = match["quoted"] is None and match.end() == len(text)
        if budget <= 0:
            break
    unfinished = None
    if prefix and last_plain_piece and plain and not raw.endswith((" ", "\t")):
        unfinished = plain.pop()
    return ParsedQuery(
        text=text,
        words=tuple(dict.fromkeys(plain)),
        phrases=tuple(dict.fromkeys(phrases)),
        excluded_words=tuple(dict.fromkeys(excluded)),
        excluded_phrases=tuple(dict.fromkeys(excluded_phrases)),
        categories=tuple(dict.fromkeys(filters["category"])),
        tags=tuple(dict.fromkeys(filters["tag"])),
        prefix=unfinished,
    )
