"""pages.json: post bodies rendered and sanitised at build time, carried over incrementally."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import index.pages
from index import build
from index.manifest import read_manifest
from index.pages import PAGES_FILE, load_pages, render_body
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


def test_render_body_keeps_markdown_and_drops_anything_that_runs() -> None:
    html = render_body(HOSTILE)
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


def _lines(build_dir: Path) -> dict[str, dict]:
    entries = json.loads((build_dir / PAGES_FILE).read_text(encoding="utf-8"))
    return {entry["slug"]: entry for entry in entries}


def test_full_build_writes_pages_listed_in_the_manifest(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    _posts(posts)
    build(posts, tmp_path / "build")
    current = current_build_dir(tmp_path / "build")
    assert current is not None
    assert PAGES_FILE in read_manifest(current)["artifacts"]
    pages = load_pages(current)
    assert len(pages) == 34 and "post-kettles" in pages
    assert "<h1>bread</h1>" in pages["post-bread"]


def test_incremental_build_renders_only_changed_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = tmp_path / "posts"
    _posts(posts)
    build(posts, tmp_path / "build")
    before = _lines(current_build_dir(tmp_path / "build"))

    rendered: list[str] = []
    real = index.pages.render_body
    monkeypatch.setattr(index.pages, "render_body", lambda md: rendered.append(md) or real(md))
    front = seed_front("post-rivers", "All about rivers", "Life", "Home", "rivers", "rivers")
    path = write_post(posts, "post-rivers.md", front, "# rivers\n\nNow with *deltas*.")
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    write_post(
        posts, "post-canals.md", seed_front("post-canals", "Canals", "Life", "Home", "c", "c")
    )
    (posts / "post-kettles.md").unlink()
    result = build(posts, tmp_path / "build")

    assert result.mode == "incremental"
    assert len(rendered) == 2  # the modified and the added post, nothing else
    after = _lines(current_build_dir(tmp_path / "build"))
    assert set(after) == set(before) - {"post-kettles"} | {"post-canals"}
    assert after["post-bread"] == before["post-bread"]
    assert after["post-lanterns"] == before["post-lanterns"]
    assert "<em>deltas</em>" in after["post-rivers"]["html"]
