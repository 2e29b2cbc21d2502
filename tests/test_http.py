"""HTTP conventions, post pages, /metrics, /openapi.json and the search/related CLI (issue 7)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from api import create_app
from api.cli import main
from index import build
from tests.conftest import seed_front, write_post

SLUG = "neural-network-basics-how-machines-learn"
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"


def make_client(build_dir: Path, **config):
    app = create_app({"TESTING": True, "INDEX_DIR": str(build_dir), **config})
    return app, app.test_client()


@pytest.fixture()
def cors_client(sample_build: Path) -> Iterator:
    app, client = make_client(sample_build, CORS_ORIGINS="https://blog.example, http://a.test")
    yield client
    app.extensions["postsearch.searcher"].close()


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    front = seed_front("hostile", HOSTILE_TITLE, "Web", "Security", "XSS", "XSS")
    front["tags"] = ["<b>tag</b>"]
    body = (
        "Hello <script>alert(2)</script> [x](javascript:alert(3)) <a href=javascript:alert(4)>y</a>"
    )
    write_post(root / "posts", "hostile.md", front, body)
    write_post(root / "posts", "calm.md", seed_front("calm", "Calm", "Web", "Security", "XSS", "X"))
    build(root / "posts", root / "build")
    return root / "build"


def test_no_cors_headers_by_default(client) -> None:
    response = client.get("/api/search?q=bread", headers={"Origin": "https://blog.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/search",
        headers={"Origin": "https://blog.example", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_allows_only_listed_origins(cors_client) -> None:
    allowed = cors_client.get("/api/search?q=bread", headers={"Origin": "https://blog.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://blog.example"
    assert "Origin" in allowed.headers["Vary"]
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = cors_client.get("/api/search?q=bread", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers["Vary"]  # a shared cache must not mix the two


def test_preflight_is_answered_before_routing(cors_client) -> None:
    response = cors_client.options(
        "/api/related",
        headers={
            "Origin": "http://a.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://a.test"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert response.data == b""


def test_any_origin_with_star(sample_build: Path) -> None:
    app, client = make_client(sample_build, CORS_ORIGINS="*")
    response = client.get("/api/suggest?q=bre", headers={"Origin": "http://x.test"})
    app.extensions["postsearch.searcher"].close()
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "url",
    [
        "/api/search?q=bread",
        "/api/suggest?q=bre",
        f"/api/posts/{SLUG}",
        f"/api/posts/{SLUG}/related",
        f"/posts/{SLUG}",
    ],
)
def test_etag_from_the_build_gives_304(client, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200
    build_id = client.get("/healthz").get_json()["build_id"]
    assert first.headers["ETag"].startswith(f'"{build_id}.')
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    stale = client.get(url, headers={"If-None-Match": '"20200101T000000.000000Z-aaaaaa.1"'})
    assert stale.status_code == 200


def test_cache_control_is_configurable_and_errors_are_not_tagged(sample_build: Path) -> None:
    app, client = make_client(sample_build, CACHE_CONTROL="public, max-age=300")
    ok = client.get("/api/search?q=bread")
    bad = client.get("/api/search?page=x")
    app.extensions["postsearch.searcher"].close()
    assert ok.headers["Cache-Control"] == "public, max-age=300"
    assert bad.status_code == 400 and "ETag" not in bad.headers


def test_post_page_renders_the_build(client) -> None:
    response = client.get(f"/posts/{SLUG}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Neural Network Basics: How Machines Learn From Examples</h1>" in html
    assert '<time datetime="2021-02-09T08:15:34.014000Z">9 February 2021</time>' in html
    assert f'data-postsearch-related="{SLUG}"' in html
    assert "<strong>" in html  # Markdown rendered
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_post_page_unknown_slug_is_an_html_404(client) -> None:
    response = client.get("/posts/no-such-post")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Post not found" in response.get_data(as_text=True)


def test_post_page_escapes_everything_but_the_sanitised_body(hostile_build: Path) -> None:
    app, client = make_client(hostile_build)
    html = client.get("/posts/hostile").get_data(as_text=True)
    app.extensions["postsearch.searcher"].close()
    assert "<h1>&lt;img src=x onerror=alert(1)&gt;</h1>" in html
    assert "&lt;b&gt;tag&lt;/b&gt;" in html
    assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "alert(2)" not in html and 'href="javascript' not in html
    assert len(re.findall(r"<script\b", html)) == 1  # only /widget.js


def test_widget_js_is_served_as_javascript(client) -> None:
    with client.get("/widget.js") as response:  # a streamed file: close it
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert b"data-postsearch-related" in response.data


def test_metrics_report_requests_build_and_zero_results(client) -> None:
    client.get("/api/search?q=bread")
    client.get("/api/search?q=zzqxqzzy")
    text = client.get("/metrics").get_data(as_text=True)
    build_id = client.get("/healthz").get_json()["build_id"]
    assert re.search(
        r'postsearch_requests_total\{endpoint="/api/search",method="GET",status="200"\} \d', text
    )
    assert 'postsearch_request_duration_seconds_bucket{endpoint="/api/search"' in text
    assert f'postsearch_build_info{{build_id="{build_id}"}} 1.0' in text
    assert re.search(r"^postsearch_posts_served 55\.0$", text, re.M)
    assert re.search(r"^postsearch_build_age_seconds \d", text, re.M)
    zero = re.search(r"^postsearch_zero_result_searches_total (\S+)$", text, re.M)
    assert zero and float(zero.group(1)) >= 1
    assert client.application.extensions["postsearch.zero_results"].counts["zzqxqzzy"] == 1


def test_one_json_log_line_per_request(sample_build: Path) -> None:
    app, client = make_client(sample_build, LOG_FORMAT="json")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    logging.getLogger("postsearch.requests").addHandler(handler)
    try:
        client.get("/api/search?q=bread")
        client.get("/nope")
    finally:
        logging.getLogger("postsearch.requests").removeHandler(handler)
        app.extensions["postsearch.searcher"].close()
    first, second = (json.loads(line) for line in lines)
    assert first["path"] == "/api/search" and first["query"] == "q=bread"
    assert first["status"] == 200 and first["endpoint"] == "/api/search" and first["ms"] >= 0
    assert second["status"] == 404 and second["endpoint"] == "unmatched"


def test_openapi_lists_every_route(client) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }
    for rule in client.application.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)


def test_cli_search_prints_a_table_and_json(sample_build: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["search", "nueral", "netwrok", "--index", str(sample_build)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.match(r"\d+ results for 'nueral netwrok', page 1 of \d+", lines[0])
    assert lines[1] == "Showing results for 'neural network'"
    assert lines[2].split() == ["#", "score", "date", "title", "slug"]
    assert lines[3].split()[0] == "1" and SLUG in result.output
    as_json = runner.invoke(main, ["search", "bread", "--json", "--index", str(sample_build)])
    assert json.loads(as_json.output)["results"][0]["title_html"]


def test_cli_related_prints_reasons_and_fails_on_unknown_slug(sample_build: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["related", SLUG, "--limit", "2", "--index", str(sample_build)])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["score", "title", "why"] and len(rows) == 2
    as_json = runner.invoke(main, ["related", SLUG, "--json", "--index", str(sample_build)])
    assert all(r["reason"] for r in json.loads(as_json.output)["results"])
    missing = runner.invoke(main, ["related", "nope", "--index", str(sample_build)])
    assert missing.exit_code == 1 and "nope" in missing.output


def test_every_command_help_has_a_real_example() -> None:
    import click

    def commands(group: click.Group, prefix: list[str]):
        yield prefix
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from commands(command, [*prefix, name])
            else:
                yield [*prefix, name]

    runner = CliRunner()
    for path in commands(main, []):
        output = runner.invoke(main, [*path, "--help"]).output
        assert re.search(rf"Example:\s+postsearch {' '.join(path)}", output), path
