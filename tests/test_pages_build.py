"""The pages and texts stores: post bodies rendered, sanitised and kept at build time,
unchanged posts carried over as bytes by incremental builds."""

from __future__ import annotations

import json
import os
from pathlib import Path

from index import build
from index.blobs import PAGES, TEXTS, BlobStore
from index.catalog import load_catalog
from index.manifest import read_manifest
from index.posts import parse_post
from index.store import current_build_dir
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
