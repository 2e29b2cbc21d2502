"""The Whoosh index, written in segments in a process beside the build, holds every post
and updates cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from index import beside, build
from search import Searcher, SearchRequest
from tests.conftest import write_post


def test_segments_written_beside_index_every_post_and_survive_an_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beside, "PARALLEL_STEPS_FROM", 10)  # written in a forked process
    posts = tmp_path / "posts"
    for i in range(300):
        write_post(posts, f"p{i}.md", {"title": f"Post {i}"}, f"common words and token{i} here")
    build(posts, tmp_path / "index")
    with Searcher(tmp_path / "index") as searcher:
        loaded = searcher.current()
        segments = whoosh_index.open_dir(str(loaded.build_dir / "fulltext"))
        try:
            assert len(segments._segments()) >= 2 and segments.doc_count() == 300
        finally:
            segments.close()
        assert searcher.search(SearchRequest(q='"and token17"')).hits[0].slug == "p17"
        write_post(posts, "p17.md", {"title": "Post 17"}, "rewritten without that word")
        build(posts, tmp_path / "index")
        assert searcher.search(SearchRequest(q='"and token17"')).total == 0
        assert searcher.search(SearchRequest(q='"rewritten without"')).hits[0].slug == "p17"


@pytest.mark.parametrize(
    ("excerpt", "body", "own"),
    [
        ("The first words of it", "The  first\nwords of it, and more.", False),
        ("The first words of it…", "The first words of it and more.", False),
        ("A summary of its own", "The first words of it and more.", True),
        ("The first words of it", " \n" * 500 + "The first words of it.", False),  # blank head
        ("The first words of it", "The first words", True),  # a body shorter than it
        ("", "Anything at all.", False),
    ],
)
def test_an_excerpt_repeating_the_body_start_is_not_indexed_again(
    excerpt: str, body: str, own: bool
) -> None:
    from index.posts import Post
    from index.schema import own_excerpt

    post = Post("s", "T", "s.md", None, excerpt, body, "")
    assert own_excerpt(post) == (excerpt.rstrip("…").strip() if own else "")
