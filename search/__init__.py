"""Queries over a published build: full-text search, related posts, post look-up."""

from .errors import InvalidParameter, PostMoved, PostNotFound
from .results import Hit, RelatedPage, RelatedPost, SearchPage
from .searcher import Searcher, SearchRequest

__all__ = [
    "Hit",
    "InvalidParameter",
    "PostMoved",
    "PostNotFound",
    "RelatedPage",
    "RelatedPost",
    "SearchPage",
    "SearchRequest",
    "Searcher",
]
