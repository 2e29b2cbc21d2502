"""Related posts of one post: the precomputed list, then a labelled fallback.

The build stores each post's pins and best neighbours (near-duplicates and excludes
already filtered). Serving only hides scheduled posts and, when fewer than `limit`
visible posts are left, fills the list with the newest posts sharing a category,
then a tag, then the newest posts at all, each labelled as such, so the widget is
full whenever enough visible posts exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from math import inf
from typing import Any

from index.catalog import load_summary
from index.pins import find_post, reference_lookup
from index.related import RelatedSettings, normalize_label
from index.tfidf import mapped_matrix

from .explain import explain_fallback, explain_related
from .loaded import LoadedBuild
from .results import RelatedPage, RelatedPost


class RelatedContext:
    """What serving related lists needs beyond the lists: built once per build."""

    def __init__(self, loaded: LoadedBuild) -> None:
        posts = loaded.posts
        saved = loaded.manifest.get("settings", {}).get("related", {})
        known = RelatedSettings.__dataclass_fields__
        self.settings = RelatedSettings(**{k: v for k, v in saved.items() if k in known})
        self.text = mapped_matrix(loaded.build_dir)
        # References by slug, alias or file name, from the build's summary: three passes
        # over the catalog records took seconds and ~100 MB per worker at 57k posts.
        summary = load_summary(loaded.build_dir, ("aliases", "path"))
        self.lookup = reference_lookup(loaded.slugs, summary["aliases"], summary["path"])
        del summary
        times, slugs = loaded.publish_times, loaded.slugs
        self.newest_first = sorted(
            range(len(posts)),
            key=lambda row: (-(times[row].timestamp() if times[row] else -inf), slugs[row]),
        )

    @classmethod
    def of(cls, loaded: LoadedBuild) -> RelatedContext:
        """The context of `loaded`, computed on first use."""
        return loaded.memo("related_context", cls)

    def excluded(self, record: dict[str, Any]) -> set[int]:
        """Rows the editor excluded from this post's list."""
        found = (find_post(ref, self.lookup) for ref in record.get("related_exclude", []))
        return {row for row in found if row is not None}

    def near_duplicate(self, row: int, listed: list[int]) -> bool:
        """Whether post `row` is a near-duplicate of any listed post."""
        if not listed or self.settings.duplicate_threshold > 1.0:
            return False
        sims = (self.text[row] @ self.text[listed].T).toarray().ravel()
        return bool((sims >= self.settings.duplicate_threshold).any())


def related_page(loaded: LoadedBuild, row: int, limit: int, now: dt.datetime) -> RelatedPage:
    """The `limit` best visible related posts of the post at `row`, with reasons."""
    source = loaded.posts[row]
    page = RelatedPage(slug=source["slug"], build_id=loaded.build_id)
    lists = loaded.related
    listed: list[int] = []
    pinned = int(lists.pinned[row])
    # Each array's row read once, as Python numbers (indexing a mapped array per entry
    # costs a microsecond or two a time).
    entries = zip(
        lists.neighbours[row].tolist(),
        lists.score[row].tolist(),
        lists.text[row].tolist(),
        lists.taxonomy[row].tolist(),
        lists.time[row].tolist(),
        strict=True,
    )
    for col, (other, score, text, taxonomy, time) in enumerate(entries):
        if len(listed) >= limit or other < 0:
            break
        if not loaded.is_visible(other, now):
            continue
        listed.append(other)
        page.results.append(
            explain_related(
                source,
                loaded.posts[other],
                score=score,
                text=text,
                taxonomy=taxonomy,
                time=time,
                pinned=col < pinned,
            )
        )
    if len(listed) < limit:
        context = RelatedContext.of(loaded)
        skip = context.excluded(source) | {row}
        page.results += fill_recent(loaded, context, source, listed, skip, limit, now)
    return page


def fill_recent(
    loaded: LoadedBuild,
    context: RelatedContext,
    source: dict[str, Any],
    listed: list[int],
    skip: set[int],
    limit: int,
    now: dt.datetime,
) -> list[RelatedPost]:
    """Newest visible posts sharing a category, then a tag, then any, up to `limit`.

    `listed` (rows already in the list) is extended in place; no near-duplicate of a
    listed post is added.
    """
    added: list[RelatedPost] = []
    for kind, name_of in _fallbacks(source):
        for other in _candidates(loaded, context, name_of, listed, skip, now):
            if len(listed) >= limit:
                return added
            listed.append(other)
            added.append(explain_fallback(loaded.posts[other], kind, name_of(other, loaded)))
    return added


NameOf = Callable[[int, LoadedBuild], "str | None"]


def _fallbacks(source: dict[str, Any]) -> list[tuple[str, NameOf]]:
    """(reason kind, the shared label name of a post or None) for each fallback, in order."""
    categories = {normalize_label(c["name"]): c["name"] for c in source["categories"]}
    tags = {normalize_label(t): t for t in (*source["tags"], *source["keywords"])}

    def shared_category(row: int, loaded: LoadedBuild) -> str | None:
        theirs = (normalize_label(c["name"]) for c in loaded.posts[row]["categories"])
        return next((categories[key] for key in theirs if key in categories), None)

    def shared_tag(row: int, loaded: LoadedBuild) -> str | None:
        post = loaded.posts[row]
        theirs = (normalize_label(t) for t in (*post["tags"], *post["keywords"]))
        return next((tags[key] for key in theirs if key in tags), None)

    def anything(row: int, loaded: LoadedBuild) -> str | None:
        return ""

    return [
        ("recent_in_category", shared_category),
        ("recent_with_tag", shared_tag),
        ("recent", anything),
    ]


def _candidates(
    loaded: LoadedBuild,
    context: RelatedContext,
    name_of: NameOf,
    listed: list[int],
    skip: set[int],
    now: dt.datetime,
) -> Iterator[int]:
    for other in context.newest_first:
        if other in skip or other in listed or not loaded.is_visible(other, now):
            continue
        if name_of(other, loaded) is None or context.near_duplicate(other, listed):
            continue
        yield other
