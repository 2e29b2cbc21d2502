"""Related posts of one post, read from the lists the build precomputed."""

from __future__ import annotations

import datetime as dt

from .explain import explain_related
from .loaded import LoadedBuild
from .results import RelatedPage


def related_page(loaded: LoadedBuild, row: int, limit: int, now: dt.datetime) -> RelatedPage:
    """The `limit` best visible related posts of the post at `row`, with reasons."""
    page = RelatedPage(slug=loaded.posts[row]["slug"], build_id=loaded.build_id)
    lists = loaded.related
    for col, other in enumerate(lists.neighbours[row]):
        if len(page.results) >= limit or other < 0:
            break
        if not loaded.is_visible(int(other), now):
            continue
        page.results.append(
            explain_related(
                loaded.posts[row],
                loaded.posts[int(other)],
                float(lists.score[row, col]),
                float(lists.text[row, col]),
                float(lists.taxonomy[row, col]),
            )
        )
    return page
