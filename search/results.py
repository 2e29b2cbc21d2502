"""Plain result records the searcher returns and the API turns into JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, NotRequired, TypedDict


def shallow_dict(record: Any) -> dict[str, Any]:
    """A dataclass as a dict without copying nested values (`dataclasses.asdict`
    deep-copies every list and dict: it was a third of a cached related answer's time).
    Callers must not mutate nested values: they may be shared with a cached answer."""
    return {name: getattr(record, name) for name in _field_names(type(record))}


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


@dataclass
class Hit:
    """One search result; `snippet` and `title_html` are safe HTML (escaped, with <mark>)."""

    slug: str
    title: str
    excerpt: str
    date: str | None
    categories: list[dict[str, str]]
    tags: list[str]
    authors: list[str]
    score: float
    snippet: str
    title_html: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (nested values shared, not copied)."""
        return shallow_dict(self)


class FacetValue(TypedDict):
    """How many matching posts carry one facet value (a category also has its level).

    A dict in its JSON form, not an object turned into one: a page lists up to a hundred
    values per facet, and making an object and then its dict for each took about a tenth
    of an uncached search's time in a profile at 10k posts.
    """

    name: str
    value: str
    count: int
    level: NotRequired[str]


@dataclass
class SearchPage:
    """One page of results plus counts over the whole result set."""

    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    build_id: str
    sort: str = "relevance"
    fallback: str | None = None
    corrected_query: str | None = None
    suggestion: str | None = None
    partial: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (hits under `results`). The facet lists are this page's own,
        which the build's answer cache may hold: callers must not change them."""
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "results": [hit.to_dict() for hit in self.hits],
            "facets": self.facets,  # already JSON-ready; shared, not copied
            "sort": self.sort,
            "fallback": self.fallback,
            "corrected_query": self.corrected_query,
            "suggestion": self.suggestion,
            "partial": self.partial,
            "build_id": self.build_id,
        }


@dataclass
class RelatedPost:
    """A related post, its score parts and the reasons it was picked."""

    slug: str
    title: str
    excerpt: str
    date: str | None
    score: float
    score_parts: dict[str, float]
    reasons: list[dict[str, Any]]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (nested values shared, not copied)."""
        return shallow_dict(self)


@dataclass
class RelatedPage:
    """The related posts of one post (`slug` None for a draft)."""

    slug: str | None
    results: list[RelatedPost] = field(default_factory=list)
    build_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "slug": self.slug,
            "results": [r.to_dict() for r in self.results],
            "build_id": self.build_id,
        }
