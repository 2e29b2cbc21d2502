"""The Whoosh schema and how a `Post` becomes one Whoosh document.

English posts go into stemmed fields; posts in other languages into fields that only
lowercase and fold accents, so "randonnée" is found by "randonnee" and "randonnée"
and no English stemmer mangles French words. The query side searches both.

Bodies and excerpts are not in Whoosh: ranking reads the BM25F matrix (lexical.py),
snippets and body phrases read the `texts` store (pages.py), excerpt phrases the
catalog (search/phrases.py). Analysing every body word through Whoosh's pure-Python
pipeline was half of a full build, and an excerpt (some 30 words) half of what was
left; the short fields kept here (title, category and tag names) answer phrase
queries. The schema keeps its excerpt fields, empty in new builds, so one phrase query
reads builds made before and after.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.fields import ID, TEXT, Schema
from whoosh.lang.porter import stem
from whoosh.support.charset import accent_map

from .posts import Post

# Words joined by dots stay one token (node.js, 3.11); "*" and "_" never join words,
# so Markdown emphasis cannot glue itself to a term.
TOKEN_PATTERN = r"[^\W_]+(?:\.[^\W_]+)*"

ENGLISH_TEXT_FIELDS = ("title", "excerpt", "categories", "labels")

# English stop words: pronouns, auxiliaries, articles, prepositions and the pieces
# our tokenizer cuts contractions into ("don", "t"). Measured on BEIR SciFact train,
# this list ranks better than Whoosh's 34 words (nDCG@10 0.703 vs 0.702; test
# 0.687 vs 0.684) without dropping content words as scikit-learn's list does ("fire",
# "computer", "system").
STOP_WORDS = frozenset(
    """
    a about above after again against ain all am an and any are aren as at be because
    been before being below between both but by can couldn d did didn do does doesn
    doing don down during each few for from further had hadn has hasn have haven having
    he her here hers herself him himself his how i if in into is isn it its itself just
    ll m ma me mightn more most mustn my myself needn no nor not now o of off on once
    only or other our ours ourselves out over own re s same shan she should shouldn so
    some such t than that the their theirs them themselves then there these they this
    those through to too under until up ve very was wasn we were weren what when where
    which while who whom why will with won wouldn y you your yours yourself yourselves
    """.split()
)
OTHER_TEXT_FIELDS = ("title_intl", "excerpt_intl")


# functools.lru_cache is thread-safe; Whoosh's own stem cache (lfu_cache) is not, and
# gunicorn's gthread workers analyse queries and snippets on several threads at once.
_stem_cache = lru_cache(maxsize=200_000)(stem)


def cached_stem(word: str) -> str:
    """Porter stem of a word, cached (a plain function so Whoosh can pickle the schema)."""
    return _stem_cache(word)


def english_analyzer() -> Analyzer:
    """Tokenize, lowercase, fold accents, drop English stop words, stem (Porter)."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS)
        | StemFilter(stemfn=cached_stem, cachesize=None)
    )


def plain_analyzer() -> Analyzer:
    """Tokenize, lowercase and fold accents only: for text in languages other than English."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


def build_schema() -> Schema:
    """Return the schema of the full-text index: the short text fields phrases are
    matched in, and the slug that maps a document to its catalog row. Facets, flags
    and dates are numpy arrays over the catalog (search/facets.py), not Whoosh fields."""
    english, plain = english_analyzer(), plain_analyzer()
    return Schema(
        slug=ID(stored=True, unique=True),
        title=TEXT(analyzer=english),
        excerpt=TEXT(analyzer=english),
        categories=TEXT(analyzer=english),
        labels=TEXT(analyzer=english),
        title_intl=TEXT(analyzer=plain),
        excerpt_intl=TEXT(analyzer=plain),
    )


@lru_cache(maxsize=65_536)  # a blog has a few thousand labels, met on every post
def facet_key(name: str) -> str:
    """Normalise a category, tag or author name into the term stored in a facet field."""
    return " ".join(name.replace(",", " ").split()).lower()


def own_excerpt(post: Post) -> str:
    """The excerpt, unless it merely repeats the start of the body (the seed's excerpts
    and every derived one do): indexing it twice would double-count those words."""
    wanted, start = _lead_and_body_start(post)
    return "" if start.startswith(wanted) else post.excerpt.rstrip("…").strip()


def excerpt_in_body(post: Post) -> bool:
    """Whether every phrase of the excerpt is in the body too: it repeats the body's
    start (as for `own_excerpt`) and ends where a body word ends. Phrase queries then
    never read it (search/phrases.py)."""
    wanted, start = _lead_and_body_start(post)
    return not wanted or (
        start.startswith(wanted) and start[len(wanted) : len(wanted) + 1] in ("", " ")
    )


def _lead_and_body_start(post: Post) -> tuple[str, str]:
    """The excerpt (a trailing "…" dropped) and the start of the body, blanks collapsed
    in both. The body's start is enough (a prefix of the whole body's so collapsed);
    the whole body only when that start is mostly blanks."""
    wanted = " ".join(post.excerpt.rstrip("…").split())
    start = " ".join(post.body_text[: 2 * len(wanted) + 64].split())
    if len(start) <= len(wanted):
        start = " ".join(post.body_text.split())
    return wanted, start


def post_to_document(post: Post) -> dict[str, Any]:
    """Return the Whoosh document (field name -> value) of one post."""
    document: dict[str, Any] = {
        "slug": post.slug,
        "categories": " ".join(c.name for c in post.categories),
        "labels": " ".join(post.labels),
    }
    if post.lang == "en":
        document["title"] = post.title
    else:
        document["title_intl"] = post.title
    return document
