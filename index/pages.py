"""The post pages' bodies and the posts' plain texts, stored per catalog row.

The post page (`/posts/<slug>`) is served from the build alone, never from the posts
folder: the folder may be edited, half-synced or gone while a build is served. Each
post's body was rendered and sanitised when it was parsed (`Post.body_html`); the
build keeps it in the `pages` store. The `texts` store keeps each post's plain body
text, which snippets are cut from and phrases are checked against (Whoosh no longer
stores or indexes bodies: analysing them was half of a full build).

An incremental build shares the previous build's files and writes only changed
posts (see `blobs.write_layered`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .blobs import PAGES, TEXTS, BlobWriter, Carried, write_layered
from .posts import Post


class PostStores:
    """Writes the `pages` and `texts` stores of a build, one indexed post at a time.

    A full build adds posts as they are parsed, so no body is held for the whole
    corpus.
    """

    def __init__(self, out_dir: Path) -> None:
        self._pages = BlobWriter(out_dir, PAGES)
        self._texts = BlobWriter(out_dir, TEXTS)

    def add(self, post: Post) -> None:
        self._pages.add(post.body_html)
        self._texts.add(post.body_text)

    def close(self) -> None:
        self._pages.close()
        self._texts.close()


def write_post_stores(out_dir: Path, sources: Sequence[int | Post], previous_dir: Path) -> None:
    """Write the stores of a build's rows in catalog order: each row is a fresh post, or
    the row (an int) of `previous_dir`'s stores that holds it unchanged."""
    for name, field in ((PAGES, "body_html"), (TEXTS, "body_text")):
        items = (
            Carried(source) if isinstance(source, int) else getattr(source, field)
            for source in sources
        )
        write_layered(out_dir, name, previous_dir, items)
