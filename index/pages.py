"""`pages.json`: each indexed post's body as sanitised HTML, for the post pages.

The post page (`/posts/<slug>`) is served from the build alone, never from the posts
folder: the folder may be edited, half-synced or gone while a build is served. The
Markdown is rendered with the same parser the index reads (template code stripped
first) and then cleaned with nh3 (the Ammonia sanitiser): raw HTML in a post is
allowed through only as a safe subset, so a post can never run script on our pages.

One entry per post (`path`, `slug`, `html`) in catalog order: an incremental build
copies the entries of unchanged posts by file path and renders only changed ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import nh3
from markdown_it import MarkdownIt

from .posts import Post
from .text import strip_template_code

PAGES_FILE = "pages.json"

_markdown = (
    MarkdownIt("commonmark", {"html": True, "maxNesting": 100})
    .enable("table")
    .enable("strikethrough")
)
# Ammonia's defaults (no script, style, iframe, form, event handler or javascript: URL)
# minus what would let a post restyle or overlay our page; `class` only on code, where
# highlighters look for `language-*`.
_TAGS = set(nh3.ALLOWED_TAGS) - {"map", "area"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "code": {"class"},
    "img": {"src", "alt", "title", "width", "height"},
    "a": {"href", "title"},
}


def render_body(markdown: str) -> str:
    """Render a post's Markdown to HTML that is safe to insert into our pages."""
    html = _markdown.render(strip_template_code(markdown))
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def write_pages(
    out_dir: Path,
    records: Sequence[dict[str, Any]],
    fresh: Iterable[Post],
    previous_dir: Path | None = None,
) -> None:
    """Write `pages.json` for `records`: render the `fresh` posts, copy the rest.

    Posts not in `fresh` are copied from `previous_dir`'s pages. Raises KeyError when
    such a post has no page there (the caller then builds from scratch).
    """
    rendered = {post.path: render_body(post.body_markdown) for post in fresh}
    kept = _read_entries(previous_dir) if previous_dir is not None else {}
    entries = [
        {"path": r["path"], "slug": r["slug"], "html": rendered[r["path"]]}
        if r["path"] in rendered
        else {**kept[r["path"]], "slug": r["slug"]}
        for r in records
    ]
    (out_dir / PAGES_FILE).write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")


def load_pages(build_dir: Path) -> dict[str, str]:
    """Slug -> sanitised body HTML of every post in the build (empty for an older build)."""
    return {entry["slug"]: entry["html"] for entry in _read_entries(build_dir).values()}


def _read_entries(build_dir: Path) -> dict[str, dict[str, Any]]:
    """File path -> page entry."""
    path = build_dir / PAGES_FILE
    if not path.is_file():
        return {}
    return {entry["path"]: entry for entry in json.loads(path.read_text(encoding="utf-8"))}
