"""Editor pins and excludes (issue 4): resolved by slug, file name, stem or alias, shown
first in their order; unresolvable ones are reported by the reindex, never fatal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from index import build
from index.posts import parse_post
from search import Searcher
from tests.conftest import write_post

TOPIC = "Beekeeping in winter: insulate the hive, check honey stores and keep mice out. "


def write_corpus(posts: Path) -> None:
    write_post(
        posts,
        "2024-03-01-host.md",
        {
            "title": "Wintering bees",
            "related": [
                "2024-01-02-pinned-by-file.md",
                "pinned-by-slug",
                "https://blog.example/blog/old-alias/",
                "missing-post",
                "host",
                "2024-01-04-by-stem",
            ],
            "related_exclude": ["excluded-twin"],
        },
        TOPIC * 2,
    )
    write_post(posts, "2024-01-02-pinned-by-file.md", {"title": "Knitting"}, "Wool and needles.")
    write_post(posts, "pinned-by-slug.md", {"title": "Taxes", "date": "2023-05-01"}, "Forms.")
    write_post(
        posts,
        "aliased.md",
        {"title": "Cycling", "date": "2023-04-01", "aliases": ["/blog/old-alias/"]},
        "Chains and gears.",
    )
    write_post(posts, "2024-01-04-by-stem.md", {"title": "Pottery"}, "Clay and kilns.")
    write_post(posts, "excluded-twin.md", {"title": "Bees in winter"}, TOPIC + "Mice too.")
    write_post(posts, "neighbour.md", {"title": "Hive checks"}, "Check the hive and honey.")
    write_post(
        posts,
        "variants.md",
        {
            "title": "Variants",
            "related_posts": [{"slug": "neighbour"}, {"colour": "blue"}, ["nested"]],
            "relatedPosts": "aliased, 2024-03-01-host",
        },
        "Odd pin shapes.",
    )


def add_fillers(posts: Path) -> None:
    """Enough other posts that one change stays under the incremental-build share."""
    for word in "ant bat cod doe eel fox gnu hen ibis jay kiwi lark".split():
        write_post(posts, f"filler-{word}.md", {"title": word.title()}, f"All about the {word}.")


@pytest.fixture()
def pinned(tmp_path: Path) -> tuple[Path, Path]:
    posts = tmp_path / "posts"
    write_corpus(posts)
    return posts, tmp_path / "index"


def test_pins_come_first_in_order_and_excludes_never_appear(pinned) -> None:
    posts, index_dir = pinned
    build(posts, index_dir)
    with Searcher(index_dir) as searcher:
        results = searcher.related("host", 20).results
        slugs = [r.slug for r in results]
        assert slugs[:4] == ["pinned-by-file", "pinned-by-slug", "aliased", "by-stem"]
        assert all(r.reasons[0] == {"kind": "pinned"} for r in results[:4])
        assert results[0].reason.startswith("Picked by the editor")
        assert "excluded-twin" not in slugs and "host" not in slugs
        assert "neighbour" in slugs[4:]  # the computed list follows the pins
        variants = [r.slug for r in searcher.related("variants", 3).results]
        assert variants == ["neighbour", "aliased", "host"]


def test_unresolvable_pins_are_reported_not_fatal(pinned) -> None:
    posts, index_dir = pinned
    result = build(posts, index_dir)
    assert result.indexed == 8 and not result.skipped
    problems = {(p["slug"], p["pin"], p["reason"]) for p in result.unresolved_pins}
    assert problems == {
        ("host", "missing-post", "no indexed post has this slug or file name"),
        ("host", "host", "names the post itself"),
        (
            "variants",
            "<a mapping without slug, url or path>",
            "no indexed post has this slug or file name",
        ),
        ("variants", "<a list>", "no indexed post has this slug or file name"),
    }
    manifest = json.loads((result.build_dir / "manifest.json").read_text())
    assert manifest["unresolved_pins"] == result.unresolved_pins
    runner = CliRunner()
    out = runner.invoke(main, ["reindex", "--posts", str(posts), "--index", str(index_dir)])
    assert out.exit_code == 0
    assert "related 'missing-post' in 2024-03-01-host.md is ignored: no indexed post" in out.stderr


def test_a_pin_resolves_once_its_post_exists_incrementally(pinned) -> None:
    posts, index_dir = pinned
    add_fillers(posts)
    build(posts, index_dir)
    write_post(posts, "missing-post.md", {"title": "Late arrival"}, "Finally written.")
    result = build(posts, index_dir)
    assert result.mode == "incremental"
    assert "missing-post" not in {p["pin"] for p in result.unresolved_pins}
    with Searcher(index_dir) as searcher:
        slugs = [r.slug for r in searcher.related("host", 6).results]
    assert slugs[:5] == ["pinned-by-file", "pinned-by-slug", "aliased", "missing-post", "by-stem"]


def test_a_deleted_pinned_post_leaves_the_list(pinned) -> None:
    posts, index_dir = pinned
    add_fillers(posts)
    build(posts, index_dir)
    (posts / "pinned-by-slug.md").unlink()
    result = build(posts, index_dir)
    assert result.mode == "incremental"
    assert ("host", "pinned-by-slug") in {(p["slug"], p["pin"]) for p in result.unresolved_pins}
    with Searcher(index_dir) as searcher:
        slugs = [r.slug for r in searcher.related("host", 20).results]
    assert "pinned-by-slug" not in slugs and slugs[:3] == ["pinned-by-file", "aliased", "by-stem"]


def test_scheduled_pins_wait_for_their_date(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    write_post(posts, "a.md", {"title": "A", "related": ["future", "b"]}, "Alpha words.")
    write_post(posts, "b.md", {"title": "B"}, "Beta words.")
    write_post(posts, "future.md", {"title": "Soon", "date": "2999-01-01"}, "Later.")
    build(posts, tmp_path / "i")
    with Searcher(tmp_path / "i") as searcher:
        assert [r.slug for r in searcher.related("a", 5).results] == ["b"]


@pytest.mark.parametrize(
    "value",
    [None, 3, True, {"url": "/x"}, [None, {"path": "x.md"}], "a, b", [[1, 2]], {"a": [1] * 10}],
)
def test_any_pin_field_shape_parses(tmp_path: Path, value) -> None:
    path = write_post(tmp_path, "p.md", {"title": "T", "related": value}, "Body.")
    post = parse_post(path)
    assert all(isinstance(ref, str) and ref for ref in post.related)
