"""The HTTP API: status codes and exact JSON shapes (against the sample corpus build)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api import create_app
from index import build
from tests.conftest import ROOT, write_post

HIT_KEYS = {
    "slug",
    "url",
    "title",
    "excerpt",
    "date",
    "categories",
    "tags",
    "authors",
    "score",
    "snippet",
    "title_html",
}


def test_search_answers_the_documented_shape(client) -> None:
    response = client.get("/api/search?q=neural+networks")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == [
        "query",
        "total",
        "page",
        "per_page",
        "results",
        "facets",
        "sort",
        "fallback",
        "corrected_query",
        "suggestion",
        "partial",
        "build_id",
    ]
    assert body["query"] == "neural networks" and body["page"] == 1 and body["per_page"] == 10
    assert body["total"] >= 5 and len(body["results"]) == min(10, body["total"])
    first = body["results"][0]
    assert set(first) == HIT_KEYS
    assert first["url"] == f"/posts/{first['slug']}"
    assert all(set(c) == {"name", "level"} for c in first["categories"])
    assert {"name", "value", "count", "level"} == set(body["facets"]["categories"][0])
    assert list(body["facets"]) == ["categories", "tags", "authors", "years"]
    assert {"name", "value", "count"} == set(body["facets"]["tags"][0])


def test_empty_query_browses_newest_first(client) -> None:
    body = client.get("/api/search?q=&per_page=50").get_json()
    dates = [r["date"] for r in body["results"]]
    assert dates == sorted(dates, reverse=True)
    assert body["total"] == 55  # 59 files: 3 drafts and 1 scheduled post are hidden
    assert "letter-to-future-web-developers" not in {r["slug"] for r in body["results"]}


def test_category_filter_repeats_and_commas(client) -> None:
    one = client.get("/api/search?category=Cooking").get_json()
    both = client.get("/api/search?category=Cooking&category=Travel").get_json()
    commas = client.get("/api/search?category=Cooking,Travel").get_json()
    assert 0 < one["total"] < both["total"] == commas["total"]
    assert all(any(c["name"] == "Cooking" for c in r["categories"]) for r in one["results"])


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("per_page=x", "per_page"),
        ("per_page=0", "per_page"),
        ("page=9999999999", "page"),
        ("page=500&per_page=50", "page"),
        ("q=" + "x" * 1001, "q"),
        ("category=" + "&category=".join("abcdefghijklmnopqrstuvwxyz"), "category"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, query: str, param: str) -> None:
    response = client.get(f"/api/search?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid_parameter"
    assert error["param"] == param and error["message"]


def test_per_page_and_limit_are_capped(client) -> None:
    assert client.get("/api/search?per_page=500").get_json()["per_page"] == 50
    body = client.get("/api/posts/sourdough-bread-for-beginners/related?limit=999").get_json()
    assert len(body["results"]) == 20


def test_post_and_alias_redirect(client) -> None:
    body = client.get("/api/posts/flask-blueprints-for-larger-apps").get_json()
    assert body["slug"] == "flask-blueprints-for-larger-apps"
    assert body["url"] == "/posts/flask-blueprints-for-larger-apps"
    assert "path" not in body and "content_hash" not in body
    moved = client.get("/api/posts/old/flask-blueprints/")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith("/api/posts/flask-blueprints-for-larger-apps")
    for old in ("2020/05/api-error-handling", "blog/json-error-responses.html"):
        response = client.get(f"/api/posts/{old}")
        assert response.status_code == 301
        assert response.headers["Location"].endswith("/api/posts/consistent-json-error-responses")


def test_related_answers_the_documented_shape(client) -> None:
    response = client.get("/api/posts/neural-network-basics-how-machines-learn/related?limit=3")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["slug", "results", "build_id"]
    assert len(body["results"]) == 3
    for result in body["results"]:
        assert {
            "slug",
            "url",
            "title",
            "excerpt",
            "score",
            "reasons",
            "reason",
            "score_parts",
        } <= set(result)
        assert result["reasons"] and result["url"].startswith("/posts/")
    moved = client.get("/api/posts/old/flask-blueprints/related?limit=2")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(
        "/api/posts/flask-blueprints-for-larger-apps/related?limit=2"
    )


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/posts/no-such-post", 404, "post_not_found"),
        ("GET", "/api/posts/no-such-post/related", 404, "post_not_found"),
        ("GET", "/api/posts/kombucha-butterfly-pea-experiments", 404, "post_not_found"),  # draft
        ("GET", "/api/posts/letter-to-future-web-developers", 404, "post_not_found"),  # scheduled
        ("GET", "/api/nothing-here", 404, "not_found"),
        ("POST", "/api/search", 405, "method_not_allowed"),
        ("DELETE", "/api/posts/x", 405, "method_not_allowed"),
    ],
)
def test_errors_share_one_json_shape(
    client, method: str, path: str, status: int, code: str
) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.get_json() == {
        "error": {
            "status": status,
            "code": code,
            "message": response.get_json()["error"]["message"],
            "param": None,
        }
    }
    assert response.get_json()["error"]["message"]


def test_healthz_reports_the_build(client) -> None:
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["posts"] == 55 and body["build_id"]


def test_without_a_build_every_endpoint_is_503(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "none")})
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "unavailable"
    for path in ("/api/search?q=x", "/api/posts/a", "/api/posts/a/related"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "index_not_built"


def test_permalink_template_is_configurable(tmp_path: Path) -> None:
    write_post(tmp_path / "posts", "x.md", {"title": "Hello", "date": "2024-03-05"}, "words")
    build(tmp_path / "posts", tmp_path / "index")
    app = create_app(
        {
            "INDEX_DIR": str(tmp_path / "index"),
            "PERMALINK": "https://blog.example/{year}/{month}/{slug}/",
        }
    )
    body = app.test_client().get("/api/search?q=hello").get_json()
    assert body["results"][0]["url"] == "https://blog.example/2024/03/x/"
    app.extensions["postsearch.searcher"].close()
    with pytest.raises(ValueError, match="slug"):
        create_app({"PERMALINK": "/posts/"})


def test_a_new_build_is_served_without_restarting(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    write_post(posts, "a.md", {"title": "Apples"}, "apples")
    build(posts, tmp_path / "index")
    app = create_app({"INDEX_DIR": str(tmp_path / "index")})
    client = app.test_client()
    assert client.get("/api/search?q=pears").get_json()["total"] == 0
    write_post(posts, "b.md", {"title": "Pears"}, "pears")
    build(posts, tmp_path / "index")
    assert client.get("/api/search?q=pears").get_json()["total"] == 1
    app.extensions["postsearch.searcher"].close()


def test_the_search_page_is_served(client) -> None:
    with client.get("/") as response:
        assert response.status_code == 200 and b"postsearch" in response.data


def test_alias_redirect_keeps_the_query_string_and_ignores_host(client) -> None:
    """Query keys must never become url_for arguments (they gave 500s and Host-based
    absolute redirects)."""
    for query in ("ref=x", "endpoint=x", "_external=1", "_scheme=ftp", "limit=2"):
        response = client.get(
            f"/api/posts/old/flask-blueprints?{query}", headers={"Host": "evil.example"}
        )
        assert response.status_code == 301
        assert response.headers["Location"] == (
            f"/api/posts/flask-blueprints-for-larger-apps?{query}"
        )
        assert response.get_json()["error"]["code"] == "moved_permanently"


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A3", "1e3", "%2B5", "5x"])
def test_non_ascii_or_odd_digits_are_400(client, value: str) -> None:
    for path in (
        f"/api/search?page={value}",
        f"/api/search?per_page={value}",
        f"/api/posts/sourdough-bread-for-beginners/related?limit={value}",
    ):
        assert client.get(path).status_code == 400, path


def test_huge_per_page_is_capped_not_refused(client) -> None:
    assert client.get("/api/search?per_page=1000000000").get_json()["per_page"] == 50


@pytest.mark.parametrize("template", ["/{title}/{slug}", "/{slug}/{0}", "/{slug}{", "/x/"])
def test_bad_permalink_templates_fail_at_startup(template: str) -> None:
    with pytest.raises(ValueError, match="PERMALINK"):
        create_app({"PERMALINK": template})


def test_undated_posts_get_a_clean_dated_permalink(tmp_path: Path) -> None:
    write_post(tmp_path / "posts", "x.md", {"title": "No date"}, "words")
    build(tmp_path / "posts", tmp_path / "index")
    app = create_app(
        {"INDEX_DIR": str(tmp_path / "index"), "PERMALINK": "/{year}/{month}/{day}/{slug}/"}
    )
    body = app.test_client().get("/api/search?q=words").get_json()
    assert body["results"][0]["url"] == "/x/"
    app.extensions["postsearch.searcher"].close()


def test_default_limits_above_the_maximum_are_refused() -> None:
    with pytest.raises(ValueError, match="DEFAULT_PER_PAGE"):
        create_app({"DEFAULT_PER_PAGE": 80, "MAX_PER_PAGE": 50})


def test_nothing_from_a_post_reaches_the_html_fields_unescaped(tmp_path: Path) -> None:
    """`title_html` and `snippet` are the only HTML the API returns; hostile front matter
    and bodies come out escaped (issue #5, output)."""
    write_post(
        tmp_path / "posts",
        "evil.md",
        {
            "title": '"><img src=x onerror=alert(1)> evil',
            "excerpt": '" onmouseover="alert(1)',
            "image": "javascript:alert(1)",
            "date": "2024-01-01",
        },
        'The evil body says `<script>alert("x")</script>` and "onmouseover=alert(1)" evil.',
    )
    build(tmp_path / "posts", tmp_path / "index")
    app = create_app({"INDEX_DIR": str(tmp_path / "index")})
    try:
        for q in ("evil", ""):
            hit = app.test_client().get(f"/api/search?q={q}").get_json()["results"][0]
            for html in (hit["title_html"], hit["snippet"]):
                stripped = html.replace("<mark>", "").replace("</mark>", "")
                assert "<" not in stripped and ">" not in stripped and '"' not in stripped
    finally:
        app.extensions["postsearch.searcher"].close()


def test_a_worker_answers_without_importing_scikit_learn(tmp_path: Path) -> None:
    """Importing scikit-learn adds about 68 MB to a process. A fresh interpreter serves
    searches, suggestions, related posts and a draft's related posts without it."""
    posts = tmp_path / "posts"
    write_post(posts, "a.md", {"title": "Sourdough starters"}, "Flour, water and patience.")
    write_post(posts, "b.md", {"title": "Rye bread"}, "Rye flour and a sourdough starter.")
    build(posts, tmp_path / "index")
    script = f"""
import sys
from api import create_app
client = create_app({{"INDEX_DIR": {str(tmp_path / "index")!r}, "LOG_FORMAT": "off"}}).test_client()
for url in ("/api/search?q=sourdough", "/api/suggest?q=sour", "/api/posts/a/related"):
    assert client.get(url).status_code == 200, url
print(any(name.startswith("sklearn") for name in sys.modules))
draft = {{"title": "Bread", "body": "Sourdough bread with rye flour."}}
assert client.post("/api/related", json=draft).status_code == 200
print(any(name.startswith("sklearn") for name in sys.modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == ["False", "False"]
