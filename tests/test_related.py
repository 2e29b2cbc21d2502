"""Related posts: precomputed lists, taxonomy weighting, hidden posts, explained reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from index import BuildOptions, build
from index.related import RelatedLists, RelatedSettings, sharpen
from search import PostMoved, PostNotFound, Searcher
from tests.conftest import seed_front, write_post

# The two mates share their body, so they are near-duplicates of each other: this
# fixture isolates taxonomy weighting, so the diversity filter is off here (it has its
# own tests in test_related_lists.py).
OPTIONS = BuildOptions(related=RelatedSettings(duplicate_threshold=1.01))
SHARED_TEXT = (
    "Field notes on animal behaviour: feeding, grooming, nesting and how the young "
    "learn from adults over the seasons."
)


@pytest.fixture(scope="module")
def related_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`target` shares a niche category with `niche-mate` and only a general one with
    `general-mate`; both mates have the same body, so text similarity is equal."""
    posts = tmp_path_factory.mktemp("related") / "posts"
    write_post(
        posts,
        "target.md",
        seed_front(
            "target", "Raccoon diaries", "Zoology", "Mammals", "Procyonids", "Raccoon Behaviour"
        ),
        SHARED_TEXT + " Raccoons.",
    )
    write_post(
        posts,
        "niche-mate.md",
        seed_front(
            "niche-mate", "Notes one", "Gardening", "Pests", "Visitors", "Raccoon Behaviour"
        ),
        SHARED_TEXT,
    )
    write_post(
        posts,
        "general-mate.md",
        seed_front("general-mate", "Notes two", "Zoology", "Insects", "Beetles", "Dung Beetles"),
        SHARED_TEXT,
    )
    write_post(
        posts,
        "loner.md",
        {"title": "Pure text", "date": "2024-02-01"},
        "Grooming and nesting seasons of raccoons, with notes on feeding.",
    )
    write_post(posts, "draft.md", {"title": "Draft twin", "status": "draft"}, SHARED_TEXT)
    write_post(posts, "future.md", {"title": "Future twin", "date": "2999-01-01"}, SHARED_TEXT)
    for i in range(6):  # unrelated filler so IDF is meaningful
        front = {"title": f"Filler {i}", "date": f"2020-01-0{i + 1}", "tags": ["misc"]}
        write_post(
            posts,
            f"filler{i}.md",
            front,
            f"Quarterly tax forms, invoices and spreadsheets number {i}.",
        )
    index_dir = posts.parent / "index"
    build(posts, index_dir, OPTIONS)
    return index_dir


@pytest.fixture(scope="module")
def searcher(related_index: Path):
    with Searcher(related_index) as searcher:
        yield searcher


def related_slugs(searcher: Searcher, slug: str, limit: int = 10, **kwargs) -> list[str]:
    return [r.slug for r in searcher.related(slug, limit, **kwargs).results]


def test_shared_niche_outranks_shared_general_at_equal_text_similarity(searcher: Searcher) -> None:
    results = searcher.related("target", 5).results
    by_slug = {r.slug: r for r in results}
    niche, general = by_slug["niche-mate"], by_slug["general-mate"]
    assert niche.score_parts["text"] == pytest.approx(general.score_parts["text"], abs=1e-4)
    assert niche.score > general.score
    slugs = [r.slug for r in results]
    assert slugs.index("niche-mate") < slugs.index("general-mate")


def test_self_drafts_and_scheduled_posts_never_appear(searcher: Searcher) -> None:
    for slug in ("target", "niche-mate", "general-mate", "loner", "filler0"):
        found = related_slugs(searcher, slug, 20)
        assert slug not in found
        assert "draft" not in found and "future" not in found
    later = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)
    assert "future" in related_slugs(searcher, "target", 20, now=later)


def test_limit_is_honoured_and_unrelated_posts_are_left_out(searcher: Searcher) -> None:
    assert len(related_slugs(searcher, "target", 2)) == 2
    # The fillers share no word, category or tag with the target: they are not related,
    # and only fill the list as labelled recent posts after the related ones.
    results = searcher.related("target", 20).results
    assert [r.slug for r in results[:3]] == ["niche-mate", "general-mate", "loner"]
    assert all(r.score > 0 for r in results[:3])
    assert {r.slug for r in results[3:]} == {f"filler{i}" for i in range(6)}
    assert all(r.reasons == [{"kind": "recent"}] and r.score == 0 for r in results[3:])
    assert all(r.score > 0 for r in searcher.related("filler0", 5).results)


def test_post_without_taxonomy_still_gets_text_similar_posts(searcher: Searcher) -> None:
    results = searcher.related("loner", 3).results
    assert {r.slug for r in results} == {"target", "niche-mate", "general-mate"}
    assert all(r.score_parts["taxonomy"] == 0 and r.score_parts["text"] > 0.1 for r in results)
    assert {"kind": "text", "similarity": results[0].score_parts["text"]} in results[0].reasons


def test_reasons_name_shared_categories_with_their_level(searcher: Searcher) -> None:
    niche = next(r for r in searcher.related("target", 5).results if r.slug == "niche-mate")
    assert {"kind": "category", "name": "Raccoon Behaviour", "level": "niche"} in niche.reasons
    assert "niche category “Raccoon Behaviour”" in niche.reason
    filler = next(r for r in searcher.related("filler0", 5).results if r.slug.startswith("fill"))
    assert {"kind": "tag", "name": "misc"} in filler.reasons


def test_unknown_hidden_and_aliased_slugs(searcher: Searcher, tmp_path: Path) -> None:
    with pytest.raises(PostNotFound):
        searcher.related("no-such-post", 5)
    with pytest.raises(PostNotFound):
        searcher.related("draft", 5)
    with pytest.raises(PostNotFound):
        searcher.related("future", 5)
    write_post(tmp_path / "p", "new.md", {"title": "New", "aliases": ["/old/path/"]}, "text")
    build(tmp_path / "p", tmp_path / "i")
    with Searcher(tmp_path / "i") as other, pytest.raises(PostMoved) as moved:
        other.related("old/path", 5)
    assert moved.value.slug == "new"


def test_lists_are_identical_across_rebuilds(related_index: Path, tmp_path: Path) -> None:
    posts = related_index.parent / "posts"
    again = build(posts, tmp_path / "again", BuildOptions(full=True, related=OPTIONS.related))
    first = RelatedLists.load(related_index / "current")
    second = RelatedLists.load(again.build_dir)
    assert np.array_equal(first.neighbours, second.neighbours)
    assert np.allclose(first.score, second.score)


def test_sample_corpus_related_lists_stay_on_topic(sample_searcher: Searcher) -> None:
    results = sample_searcher.related("convolutional-networks-for-image-recognition", 3).results
    assert len(results) == 3
    for result in results:
        post = sample_searcher.post(result.slug)
        assert any(c["name"] == "Artificial Intelligence" for c in post["categories"])
        assert result.reason


def test_a_label_on_half_the_posts_says_little(searcher: Searcher) -> None:
    """Six of twelve posts carry only the tag "misc": sharing it is weak evidence (a
    cosine over label vectors would call such posts identical, 1.0)."""
    filler = next(r for r in searcher.related("filler0", 5).results if r.slug.startswith("fill"))
    assert 0 < filler.score_parts["taxonomy"] < 0.2


@pytest.mark.parametrize("power", [1.0, 1.5, 2.0, 0.75])
def test_sharpen_raises_weights_to_the_power_and_normalises_rows(power: float) -> None:
    rng = np.random.default_rng(7)
    dense = rng.random((40, 60)) * (rng.random((40, 60)) < 0.2)
    dense[3] = 0.0  # an empty row stays empty
    dense[5, :2] = [1e-30, 0.5]  # 1e-30 squared underflows to zero in float32
    matrix = sp.csr_matrix(dense.astype(np.float32))
    before = matrix.copy()
    sharp = sharpen(matrix, power)
    expected = dense**power
    norms = np.linalg.norm(expected, axis=1, keepdims=True)
    expected = np.divide(expected, norms, out=np.zeros_like(expected), where=norms > 0)
    np.testing.assert_allclose(sharp.toarray(), expected, rtol=2e-6, atol=1e-7)
    assert sharp.dtype == np.float32
    assert (sharp.data != 0).all()  # nothing stored that is zero
    assert (matrix != before).nnz == 0  # the input is left as it was
