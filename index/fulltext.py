"""Write the Whoosh full-text index of a set of posts, and apply changes to a copy of one.

The index is written as about `SEGMENTS` segments of at least `MIN_SEGMENT_DOCS` posts.
Whoosh scores nothing here (ranking is the BM25F matrix of lexical.py); it answers
phrase queries over the short fields (bodies are checked in the `texts` store, see
search/phrases.py). So an incremental update only
marks changed posts deleted and appends them in a small new segment: its statistics no
longer matter, and rewriting a 2,500-post segment to drop one deleted document cost
20 s at 10k posts. Deleted documents are dropped when Whoosh merges small segments, and
all of them at the next full build (see FULL_REBUILD_SHARE in build.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec

from .posts import Post
from .schema import build_schema, post_to_document

SEGMENTS = 4
MIN_SEGMENT_DOCS = 200
# Posting blocks are stored uncompressed: zlib was a fifth of writing them, and these
# short fields' postings are small (a 57k build's full-text index grows from about
# 66 to 85 MB of its 2 GB). Blocks record their compression, so older builds still read.
CODEC = W3Codec(compression=0)


def fulltext_documents(posts: Sequence[Post]) -> list[dict[str, Any]]:
    """Each post's Whoosh document: short fields only, a few hundred bytes without the
    body, so a full build can hand them to the process that writes the index."""
    return [post_to_document(post) for post in posts]


def build_fulltext(
    documents: Sequence[dict[str, Any]], out_dir: Path, segment_docs: int | None = None
) -> float:
    """Index `documents` (see `fulltext_documents`) into a new Whoosh index in
    `out_dir` (non-compound segments); returns the seconds it took.

    Non-compound segments let every worker open a searcher in milliseconds without
    copying postings into memory (see notes/whoosh-facts.md). One process writes them:
    a full build runs this beside its other steps, which keep the second core busy
    (Whoosh's own two-process writer was 42 % faster when this step ran alone).
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    fulltext = whoosh_index.create_in(str(out_dir), build_schema())
    if segment_docs is None:
        segment_docs = max(MIN_SEGMENT_DOCS, -(-len(documents) // SEGMENTS))
    for start in range(0, len(documents), segment_docs):
        writer = fulltext.writer(limitmb=256, compound=False, codec=CODEC)
        try:
            for document in documents[start : start + segment_docs]:
                writer.add_document(**document)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(merge=False)  # one segment per batch
    fulltext.close()
    return time.perf_counter() - started


def update_fulltext(index_dir: Path, removed: Sequence[str], added: Sequence[Post]) -> None:
    """Delete posts by slug and add new ones in a new segment (small segments merge)."""
    fulltext = whoosh_index.open_dir(str(index_dir))
    writer = fulltext.writer(limitmb=256, compound=False, codec=CODEC)
    try:
        for slug in removed:
            writer.delete_by_term("slug", slug)
        for post in added:
            writer.add_document(**post_to_document(post))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    fulltext.close()
