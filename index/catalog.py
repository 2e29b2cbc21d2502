"""`posts.json`: what the searcher needs to show a post, in TF-IDF row order.

Search hits, related lists and the post endpoint read this instead of the posts
folder, so serving never touches the source files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .posts import Post

CATALOG_FILE = "posts.json"


def post_record(post: Post) -> dict[str, Any]:
    """Return the JSON-ready public fields of a post."""
    return {
        "slug": post.slug,
        "title": post.title,
        "excerpt": post.excerpt,
        "date": post.date.isoformat().replace("+00:00", "Z") if post.date else None,
        "category": list(post.category),
        "categories": [{"name": c.name, "level": c.level} for c in post.categories],
        "tags": list(post.tags),
        "keywords": list(post.keywords),
        "authors": list(post.authors),
        "aliases": list(post.aliases),
        "status": post.status,
        "trending": post.trending,
        "featured": post.featured,
        "image": post.image,
        "image_alt": post.image_alt,
        "image_credit": post.image_credit,
        "reading_time": post.reading_time,
        "meta_description": post.meta_description,
        "social_share": post.social_share,
        "generated_by": post.generated_by,
        "lang": post.lang,
        "related": list(post.related),
        "related_exclude": list(post.related_exclude),
        "path": post.path,
        "content_hash": post.content_hash,
    }


def alias_key(ref: str) -> str:
    """Normalise a slug, path or URL so "/Old/Post/", "old/post" and "https://x/old/post" agree."""
    if "://" in ref:
        ref = ref.split("://", 1)[1].partition("/")[2]
    ref = ref.split("?", 1)[0].split("#", 1)[0].strip().strip("/")
    return ref.removesuffix(".html").casefold()


def alias_conflicts(records: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Aliases that name another post's slug, or that two posts both claim."""
    owner: dict[str, str] = {alias_key(r["slug"]): r["slug"] for r in records}
    conflicts = []
    for record in sorted(records, key=lambda r: r["path"]):
        for alias in record["aliases"]:
            key = alias_key(alias)
            held = owner.setdefault(key, record["slug"])
            if held != record["slug"]:
                conflicts.append({"alias": alias, "slug": record["slug"], "kept_by": held})
    return conflicts


def save_catalog(records: Sequence[dict[str, Any]], out_dir: Path) -> None:
    """Write `posts.json` with one record per indexed post."""
    (out_dir / CATALOG_FILE).write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


def load_catalog(build_dir: Path) -> list[dict[str, Any]]:
    """Read `posts.json` back as a list of records."""
    return json.loads((build_dir / CATALOG_FILE).read_text(encoding="utf-8"))
