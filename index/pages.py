"""The post pages' bodies and the posts' plain texts, stored per catalog row.

The post page (`/posts/<slug>`) is served from the build alone, never from the posts
folder: the folder may be edited, half-synced or gone while a build is served. Each
post's body was rendered and sanitised when it was parsed (`Post.body_html`); the
build keeps it in the `pages` store. The `texts` store keeps each post's plain body
text, which snippets are cut from and phrases are checked against (Whoosh no longer
stores or indexes bodies: analysing them was half of a full build).

An incremental build copies the entries of unchanged posts as bytes and writes only
changed ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .blobs import PAGES, TEXTS, BlobStore, write_blobs
from .posts import Post
from .sanitise import sanitise_html
from .text import render_markdown


def render_body(markdown: str) -> str:
    """Render a post's Markdown to HTML that is safe to insert into our pages."""
    return sanitise_html(render_markdown(markdown, html=True).html)


def write_post_stores(
    out_dir: Path,
    records: Sequence[dict[str, Any]],
    fresh: Iterable[Post],
    previous_dir: Path | None = None,
    previous_rows: Mapping[str, int] | None = None,
) -> None:
    """Write the `pages` and `texts` stores for `records` (catalog order).

    Posts in `fresh` are written from the post; the others are copied from
    `previous_dir`'s stores, at their row there (`previous_rows`: file path -> row).
    """
    posts = {post.path: post for post in fresh}
    for name, value in ((PAGES, _html), (TEXTS, _text)):
        previous = BlobStore(previous_dir, name) if previous_dir is not None else None
        try:
            rows = (
                value(posts[r["path"]])
                if r["path"] in posts
                else _copied(previous, previous_rows, r["path"])
                for r in records
            )
            write_blobs(out_dir, name, rows)
        finally:
            if previous is not None:
                previous.close()


def _html(post: Post) -> str:
    return post.body_html


def _text(post: Post) -> str:
    return post.body_text


def _copied(previous: BlobStore | None, rows: Mapping[str, int] | None, path: str) -> bytes:
    if previous is None or rows is None:
        raise KeyError(path)
    return previous.raw(rows[path])
