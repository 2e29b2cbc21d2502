"""Every real blog in ../shared/data/blogs indexes without crashing and reports honestly."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import build
from search import Searcher, SearchRequest
from tests.conftest import shared_dir

pytestmark = pytest.mark.corpus

BLOGS = {"18f": "agile", "auth0": "jwt", "digitalgov": "accessibility"}


@pytest.mark.parametrize(("blog", "query"), sorted(BLOGS.items()))
def test_real_blog_builds_and_answers(blog: str, query: str, tmp_path: Path) -> None:
    posts = shared_dir("data", "blogs", blog, "posts")
    files = sorted(p for p in posts.rglob("*") if p.suffix in (".md", ".markdown"))
    result = build(posts, tmp_path / "index")
    assert result.files == len(files)
    assert result.indexed + result.drafts + len(result.skipped) == result.files
    assert result.indexed >= 0.95 * result.files
    for error in result.skipped:  # the report names real files, with a reason
        assert (posts / error.path).is_file() and error.reason
    with Searcher(tmp_path / "index") as searcher:
        page = searcher.search(SearchRequest(q=query))
        assert page.total > 0 and all(hit.snippet for hit in page.hits)
        first = page.hits[0].slug
        related = searcher.related(first, 10).results
        assert len(related) == 10 and first not in {r.slug for r in related}
