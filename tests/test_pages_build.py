"""The pages and texts stores: post bodies rendered, sanitised and kept at build time,
unchanged posts shared with the previous build by incremental builds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from index import BuildOptions, build
from index.blobs import PAGES, TEXTS, BlobStore
from index.catalog import load_catalog
from index.errors import BuildCorrupt
from index.manifest import describe_artifacts, file_digest, read_manifest, verify_build
from index.posts import parse_post
from index.store import current_build_dir
from search import Searcher
from tests.conftest import seed_front, write_post

HOSTILE = """# Heading

Some **bold** text and a [link](https://example.org/x) and a [bad one](javascript:alert(1)).

<script>alert(1)</script>
<img src=x onerror=alert(1)>
<a href="/ok" onclick="alert(1)" style="position:fixed">styled</a>
<a href="javascript:alert(1)">raw bad link</a>
<iframe src="https://evil.example"></iframe>

```python
print("<b>not bold</b>")
```

{% include ad.html %}
"""


def test_a_parsed_body_keeps_markdown_and_drops_anything_that_runs(tmp_path: Path) -> None:
    html = parse_post(write_post(tmp_path, "hostile.md", {"title": "Hostile"}, HOSTILE)).body_html
    assert "<h1>Heading</h1>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.org/x"' in html
    assert "javascript:alert" not in html.replace("(javascript:alert(1))", "")  # text, not link
    assert 'href="javascript' not in html
    for dangerous in ("<script", "onerror", "onclick", "style=", "<iframe", "include ad.html"):
        assert dangerous not in html, dangerous
    assert '<img src="x"' in html  # the image stays, without its handler
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html  # code is shown, not run
    assert 'class="language-python"' in html


def _posts(folder: Path) -> None:
    topics = ["bread", "kettles", "rivers", "lanterns"] + [f"extra{n}" for n in range(30)]
    for n, topic in enumerate(topics):
        front = seed_front(f"post-{topic}", f"All about {topic}", "Life", "Home", topic, topic)
        write_post(folder, f"post-{topic}.md", front, f"# {topic}\n\nWords about {topic} {n}.")


def _stores(build_dir: Path) -> dict[str, tuple[bytes, bytes]]:
    """Slug -> (page HTML, body text) as stored, read through the stores by catalog row."""
    pages, texts = BlobStore(build_dir, PAGES), BlobStore(build_dir, TEXTS)
    try:
        records = load_catalog(build_dir)
        assert len(pages) == len(texts) == len(records)
        return {r["slug"]: (pages.raw(n), texts.raw(n)) for n, r in enumerate(records)}
    finally:
        pages.close()
        texts.close()


def test_full_build_writes_the_stores_listed_in_the_manifest(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    _posts(posts)
    build(posts, tmp_path / "build")
    current = current_build_dir(tmp_path / "build")
    assert current is not None
    artifacts = read_manifest(current)["artifacts"]
    assert {"pages.jsonl", "pages.npz", "texts.jsonl", "texts.npz"} <= set(artifacts)
    stored = _stores(current)
    assert len(stored) == 34 and "post-kettles" in stored
    assert b"<h1>bread</h1>" in stored["post-bread"][0]
    assert json.loads(stored["post-bread"][1]) == "bread\n\nWords about bread 0."


def test_incremental_build_writes_changed_posts_and_copies_the_rest(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    _posts(posts)
    build(posts, tmp_path / "build")
    before = _stores(current_build_dir(tmp_path / "build"))

    front = seed_front("post-rivers", "All about rivers", "Life", "Home", "rivers", "rivers")
    path = write_post(posts, "post-rivers.md", front, "# rivers\n\nNow with *deltas*.")
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    write_post(
        posts, "post-canals.md", seed_front("post-canals", "Canals", "Life", "Home", "c", "c")
    )
    (posts / "post-kettles.md").unlink()
    result = build(posts, tmp_path / "build")

    assert result.mode == "incremental" and result.added == 1 and result.modified == 1
    after = _stores(current_build_dir(tmp_path / "build"))
    assert set(after) == set(before) - {"post-kettles"} | {"post-canals"}
    assert after["post-bread"] == before["post-bread"]
    assert after["post-lanterns"] == before["post-lanterns"]
    assert b"<em>deltas</em>" in after["post-rivers"][0]
    assert json.loads(after["post-rivers"][1]) == "rivers\n\nNow with deltas."


def _edit(posts: Path, topic: str, body: str) -> None:
    front = seed_front(f"post-{topic}", f"All about {topic}", "Life", "Home", topic, topic)
    path = write_post(posts, f"post-{topic}.md", front, body)
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)  # a later mtime on any clock


def _builds_after_edits(tmp_path: Path, *edits: tuple[str, str]) -> tuple[Path, list[Path]]:
    """A full build of the test posts, then one incremental build per (topic, body)
    edit: the index folder and every build's directory, in order."""
    posts, index_dir = tmp_path / "posts", tmp_path / "build"
    _posts(posts)
    builds = [build(posts, index_dir).build_dir]
    for topic, body in edits:
        _edit(posts, topic, body)
        result = build(posts, index_dir)
        assert result.mode == "incremental"
        builds.append(result.build_dir)
    return index_dir, builds


def test_incremental_builds_share_the_base_files_and_write_only_changed_rows(
    tmp_path: Path,
) -> None:
    index_dir, (full, first, second) = _builds_after_edits(
        tmp_path,
        ("rivers", "# rivers\n\nFirst edit."),
        ("bread", "# bread\n\nAn edit of another post."),
    )
    assert len({full, first, second}) == 3

    for name in (PAGES, TEXTS, "posts"):
        # One base file, linked into every build; each delta holds the posts changed
        # since the full build (the first edit is carried from the first delta).
        base = [b / f"{name}.jsonl" for b in (full, first, second)]
        assert os.path.samefile(base[0], base[1]) and os.path.samefile(base[0], base[2])
        assert not (full / f"{name}.delta.jsonl").exists()
        assert len((first / f"{name}.delta.jsonl").read_bytes().splitlines()) == 1
        assert len((second / f"{name}.delta.jsonl").read_bytes().splitlines()) == 2
    stored = _stores(second)
    assert json.loads(stored["post-rivers"][1]) == "rivers\n\nFirst edit."
    assert json.loads(stored["post-bread"][1]) == "bread\n\nAn edit of another post."
    assert stored["post-lanterns"] == _stores(full)["post-lanterns"]
    assert [r["slug"] for r in load_catalog(second)] == [r["slug"] for r in load_catalog(full)]
    verify_build(second)  # digests carried over for the shared files are right

    posts = tmp_path / "posts"
    rebuilt = build(posts, index_dir, BuildOptions(full=True)).build_dir  # one file again
    assert not (rebuilt / "texts.delta.jsonl").exists()
    assert not os.path.samefile(rebuilt / "texts.jsonl", full / "texts.jsonl")
    assert _stores(rebuilt) == stored


def test_a_shared_file_altered_later_is_caught_in_every_build_sharing_it(tmp_path: Path) -> None:
    _, (full, edited) = _builds_after_edits(tmp_path, ("rivers", "# rivers\n\nAn edit."))
    shared = full / "texts.jsonl"
    data = bytearray(shared.read_bytes())
    data[5] = ord("X") if data[5] != ord("X") else ord("Y")
    with open(shared, "r+b") as handle:  # in place: the link stays shared
        handle.write(data)
    for build_dir in (full, edited):
        with pytest.raises(BuildCorrupt, match="texts.jsonl"):
            verify_build(build_dir)


def _record_hashed_names(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files hashed from now on (the real hashing still runs)."""
    import index.manifest as manifest

    hashed: list[str] = []
    hash_files = manifest.file_digests

    def recording(paths: list[Path]) -> list[str]:
        hashed.extend(path.name for path in paths)
        return hash_files(paths)

    monkeypatch.setattr(manifest, "file_digests", recording)
    return hashed


def test_a_worker_does_not_hash_again_the_stores_it_verified_in_the_build_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the next build, a worker reads again only what it has not verified: the
    page and text stores linked from the build it served are the same files, unchanged."""
    _, (full, edited) = _builds_after_edits(tmp_path, ("rivers", "# rivers\n\nAn edit."))
    verified: dict = {}
    verify_build(full, verified=verified)
    hashed = _record_hashed_names(monkeypatch)
    again: dict = {}
    verify_build(edited, known=verified, verified=again)
    assert {"pages.jsonl", "texts.jsonl", "posts.jsonl"}.isdisjoint(hashed)
    assert {"pages.delta.jsonl", "texts.delta.jsonl", "lexical.npz", "related.npz"} <= set(hashed)
    digests = {entry["sha256"] for entry in read_manifest(edited)["artifacts"].values()}
    assert set(again.values()) == digests  # known or hashed, every file is passed on


def test_a_verified_store_written_to_since_is_hashed_again_and_refused(tmp_path: Path) -> None:
    _, (full, edited) = _builds_after_edits(tmp_path, ("rivers", "# rivers\n\nAn edit."))
    verified: dict = {}
    verify_build(full, verified=verified)
    shared = edited / "texts.jsonl"
    data = bytearray(shared.read_bytes())
    data[5] = ord("X") if data[5] != ord("X") else ord("Y")
    written = shared.stat().st_mtime_ns
    with open(shared, "r+b") as handle:  # in place, same size: only its time moves
        handle.write(data)
    if shared.stat().st_mtime_ns == written:  # a coarse file system clock: still this tick
        os.utime(shared, ns=(written, written + 1_000_000_000))
    with pytest.raises(BuildCorrupt, match="texts.jsonl"):
        verify_build(edited, known=verified)


def test_a_file_written_to_while_it_is_hashed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a worker would open must be what it hashed: a file whose time moves while it
    is read fails the check, even when the bytes read matched."""
    import index.manifest as manifest

    _, (full,) = _builds_after_edits(tmp_path)
    hash_files = manifest.file_digests

    def hashing_then_touching(paths: list[Path]) -> list[str]:
        digests = hash_files(paths)
        for path in paths:
            if path.name == "texts.jsonl":
                moved = path.stat().st_mtime_ns + 1_000_000_000
                os.utime(path, ns=(moved, moved))
        return digests

    monkeypatch.setattr(manifest, "file_digests", hashing_then_touching)
    verified: dict = {}
    with pytest.raises(BuildCorrupt, match="texts.jsonl changed while it was checked"):
        verify_build(full, verified=verified)
    assert verified == {}


def test_a_searcher_opening_the_next_build_hashes_only_what_it_has_not_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts, index_dir = tmp_path / "posts", tmp_path / "build"
    _posts(posts)
    first = build(posts, index_dir).build_dir
    hashed = _record_hashed_names(monkeypatch)
    with Searcher(index_dir) as searcher:
        assert searcher.stats()["build_id"] == first.name
        assert {"pages.jsonl", "texts.jsonl", "posts.jsonl"} <= set(hashed)
        _edit(posts, "rivers", "# rivers\n\nAn edit.")
        second = build(posts, index_dir)
        assert second.mode == "incremental"
        hashed.clear()
        assert searcher.stats()["build_id"] == second.build_id
        assert {"pages.jsonl", "texts.jsonl", "posts.jsonl"}.isdisjoint(hashed)
        assert "texts.delta.jsonl" in hashed
        with Searcher(index_dir) as fresh:  # a process that served nothing hashes it all
            hashed.clear()
            assert fresh.stats()["build_id"] == second.build_id
            assert {"pages.jsonl", "texts.jsonl", "posts.jsonl"} <= set(hashed)


def test_only_the_same_file_keeps_another_builds_digest(tmp_path: Path) -> None:
    one, other = tmp_path / "one", tmp_path / "other"
    one.mkdir()
    other.mkdir()
    (one / "a.jsonl").write_bytes(b"1234\n")
    (other / "a.jsonl").write_bytes(b"abcd\n")  # same size, not the same file
    os.link(one / "a.jsonl", other / "b.jsonl")
    recorded = {
        "a.jsonl": {"bytes": 5, "sha256": "recorded-a"},
        "b.jsonl": {"bytes": 5, "sha256": "recorded-b"},
    }
    (one / "b.jsonl").write_bytes(b"1234\n")  # b.jsonl here is not other's b either
    os.link(other / "b.jsonl", one / "c.jsonl")
    described = describe_artifacts(one, shared_with=(other, recorded))
    assert described["a.jsonl"]["sha256"] == file_digest(one / "a.jsonl")
    assert described["b.jsonl"]["sha256"] == file_digest(one / "b.jsonl")
    assert described["c.jsonl"]["sha256"] == file_digest(one / "c.jsonl")  # not listed there
    os.remove(other / "b.jsonl")
    os.link(one / "b.jsonl", other / "b.jsonl")  # now the same file: the record is kept
    assert describe_artifacts(one, (other, recorded))["b.jsonl"]["sha256"] == "recorded-b"
