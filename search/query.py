"""Turn what a reader typed into a safe Whoosh query.

The search box is public: Whoosh's full syntax lets anyone run `*`, `body:*` or
`[a TO z]` (seconds per query) or crash the parser (`NOT NOT NOT x`). Here only
words, quoted phrases, parentheses and AND/OR/NOT survive; anything that still fails
is searched as plain words. Several words are OR-ed with a bonus for matching more of
them, so natural questions find the posts that contain most of their words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh import qparser
from whoosh.query import NullQuery, Or, Query, Term

from index.schema import ENGLISH_TEXT_FIELDS, OTHER_TEXT_FIELDS

MAX_QUERY_CHARS = 256
MAX_TERMS = 32
SEARCH_FIELDS = ENGLISH_TEXT_FIELDS + OTHER_TEXT_FIELDS
# Equal weights: measured on BEIR SciFact (bench/quality.py), a 3x title boost cost
# 0.02-0.04 nDCG@10, because one common word in a short title outranked posts about
# the question.
FIELD_BOOSTS = {field: 1.0 for field in ENGLISH_TEXT_FIELDS + OTHER_TEXT_FIELDS}
_WORD = re.compile(r"[^\W_]+(?:\.[^\W_]+)*")
_REMOVED_PLUGINS = (
    qparser.SingleQuotePlugin,
    qparser.FieldsPlugin,
    qparser.WildcardPlugin,
    qparser.RangePlugin,
    qparser.BoostPlugin,
    qparser.EveryPlugin,
)


@dataclass(frozen=True)
class ParsedQuery:
    """A query ready to run, the text it came from and whether it had to fall back."""

    text: str
    query: Query
    fallback: bool = False

    @property
    def is_empty(self) -> bool:
        """True when nothing searchable remains (only stop words or symbols)."""
        return self.query is NullQuery or not any(True for _ in self.query.leaves())

    def terms(self, fields: tuple[str, ...]) -> set[str]:
        """The analysed terms of the query in the given fields, for highlighting."""
        return {
            text.decode() if isinstance(text, bytes) else text
            for field, text in self.query.iter_all_terms()
            if field in fields
        }


def clean_query(text: str) -> str:
    """Trim, drop control characters and cap the length, without cutting a word in two."""
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
    return " ".join(text.split())


class QueryBuilder:
    """Parses reader queries against one schema; build once per schema, reuse per request."""

    def __init__(self, schema) -> None:
        self._schema = schema
        self._parser = self._make_parser(schema, restricted=True)
        self._plain = self._make_parser(schema, restricted=False)

    @staticmethod
    def _make_parser(schema, restricted: bool) -> qparser.QueryParser:
        # Words are OR-ed and their BM25F scores add up, so a post holding more of the
        # words ranks higher. Whoosh's coordination bonus (OrGroup.factory) is not used:
        # with seven fields per word it is ~0.001 and costs a term walk per document;
        # nor is DisjunctionMax, whose matcher mixes scores of different documents.
        parser = qparser.MultifieldParser(
            SEARCH_FIELDS, schema, fieldboosts=FIELD_BOOSTS, group=qparser.OrGroup
        )
        for plugin in _REMOVED_PLUGINS:
            parser.remove_plugin_class(plugin)
        if not restricted:  # plain words only: no phrases, groups or operators
            for plugin in (qparser.PhrasePlugin, qparser.GroupPlugin, qparser.OperatorsPlugin):
                parser.remove_plugin_class(plugin)
        return parser

    def parse(self, text: str) -> ParsedQuery:
        """Parse reader text; fall back to plain words when the syntax fails or is too big."""
        text = clean_query(text)
        if len(_WORD.findall(text)) <= MAX_TERMS:
            try:
                return ParsedQuery(text, self._parser.parse(text))
            except Exception:  # noqa: BLE001 - Whoosh raises IndexError, RecursionError, ...
                pass
        return ParsedQuery(text, self.plain_words(text), fallback=True)

    def plain_words(self, text: str) -> Query:
        """An OR of the first MAX_TERMS distinct words, ignoring every operator."""
        words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:MAX_TERMS]
        if not words:
            return NullQuery
        try:
            return self._plain.parse(" ".join(words))
        except Exception:  # noqa: BLE001 - last resort: one term per word in the body
            return Or([Term("body", w) for w in words])
