"""As-you-type suggestions: completions of the word being typed and matching titles.

Completions come from the corpus's own words, most frequent first; when earlier words
were typed, completions that occur in posts holding those words come first ("neural
net" offers "network" before "netflix"). Titles must hold every finished word and a
completion of the unfinished one. Everything is bounded: at most MAX_COMPLETIONS
candidate words are looked at, whatever the prefix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.analysis import english_term
from index.schema import STOP_WORDS, facet_key

from .facets import FacetFilters
from .loaded import LoadedBuild
from .query import parse_query
from .ranking import MAX_COMPLETIONS
from .results import shallow_dict


@dataclass
class Completion:
    """The query with its last word completed, and how many posts hold that word."""

    text: str
    word: str
    posts: int


@dataclass
class TitleMatch:
    """A post whose title matches what was typed; `title_html` is escaped, with <mark>."""

    slug: str
    title: str
    title_html: str
    date: str | None


@dataclass
class Suggestions:
    """Everything the suggestion list under a search box shows."""

    query: str
    completions: list[Completion] = field(default_factory=list)
    posts: list[TitleMatch] = field(default_factory=list)
    build_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (a fresh dict per completion and post: callers add URLs)."""
        return {
            "query": self.query,
            "completions": [shallow_dict(c) for c in self.completions],
            "posts": [shallow_dict(p) for p in self.posts],
            "build_id": self.build_id,
        }


def suggest(
    loaded: LoadedBuild, text: str, limit: int, titles: int, now: dt.datetime
) -> Suggestions:
    """Completions of the last word and up to `titles` posts whose titles match."""
    parsed = parse_query(text, prefix=True)
    out = Suggestions(query=parsed.text, build_id=loaded.build_id)
    ranking = loaded.ranking
    finished = parsed.words
    visible = loaded.visible_mask(now)
    # Typed filters and exclusions apply to suggestions as to results.
    typed = FacetFilters(
        categories=tuple(facet_key(c) for c in parsed.categories),
        tags=tuple(facet_key(t) for t in parsed.tags),
    )
    for mask in loaded.facets.filter_masks(typed).values():
        visible &= mask
    for word in parsed.excluded_words:
        visible &= ~ranking.containing(word)
    # Stop words and single letters are not indexed in English posts: typed in a
    # question ("how to pitch a te") they would leave no post to count or match.
    narrowing = [word for word in finished if english_term(word) is not None]
    context = visible.copy()
    for word in narrowing:
        context &= ranking.containing(word)
    if parsed.prefix:
        stem = parsed.text[: len(parsed.text) - len(parsed.text.split(" ")[-1])]
        candidates = [
            w
            for w in ranking.completions(parsed.prefix, MAX_COMPLETIONS)
            if (w not in STOP_WORDS or w == parsed.prefix) and w not in finished
        ]
        scored = []
        everywhere = bool(context.all())  # a first word, nothing hidden or filtered out
        anywhere = everywhere or bool(context.any())  # else no completion is in a post
        for word in candidates:
            if everywhere:
                together = ranking.posts_with(word)
            else:
                together = ranking.count_in(word, context) if anywhere else 0
            if together:
                scored.append((together, ranking.df(word), word))
        scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
        # One completion per stem: "network" and "networks" find the same posts.
        by_stem = {
            english_term(word) or word: (together, word) for together, _, word in scored[::-1]
        }
        chosen = sorted(set(by_stem.values()), key=lambda item: (-item[0], item[1]))
        out.completions = [
            Completion(text=f"{stem}{word}", word=word, posts=together)
            for together, word in chosen[:limit]
        ]
    if not (narrowing or parsed.prefix) or titles <= 0:
        return out
    in_title = visible.copy()
    for word in narrowing:
        in_title &= ranking.in_titles(word)
    if parsed.prefix:
        in_title &= ranking.in_titles(parsed.prefix, prefix=True)
    rows = np.flatnonzero(in_title)
    if rows.size:
        scores = ranking.title_scores(finished, parsed.prefix, rows)
        order = np.lexsort((loaded.slug_rank[rows], -loaded.recency[rows], -scores))
        words = finished + tuple(c.word for c in out.completions) + (parsed.prefix or "",)
        # Marked by the corpus forms of the terms, as search hits are (a word whose stem
        # starts differently, "ways" -> "wai", is found too).
        marks = ranking.marks(words)
        for row in rows[order][:titles]:
            post = loaded.posts[int(row)]
            english = post["lang"] == "en"
            highlighter = loaded.highlighters["en" if english else "other"]
            out.posts.append(
                TitleMatch(
                    slug=post["slug"],
                    title=post["title"],
                    title_html=highlighter.mark(post["title"], *marks[english]),
                    date=post["date"],
                )
            )
    return out
