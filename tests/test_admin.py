"""Admin reindex endpoint (token, jobs on disk), rate limiting, and `postsearch rollback`."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from api import create_app
from api.cli import main
from index import BuildOptions, build
from index.store import current_build_dir
from tests.conftest import SAMPLE_POSTS, write_post

TOKEN = "s3cret-token-for-tests"


@pytest.fixture()
def site(tmp_path: Path):
    posts = tmp_path / "posts"
    shutil.copytree(SAMPLE_POSTS, posts)
    build(posts, tmp_path / "index")
    app = create_app(
        {"POSTS_DIR": str(posts), "INDEX_DIR": str(tmp_path / "index"), "ADMIN_TOKEN": TOKEN}
    )
    yield app, posts, tmp_path / "index"
    app.extensions["postsearch.searcher"].close()


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_endpoints_do_not_exist_without_a_token(client) -> None:
    assert client.post("/api/reindex", headers=auth()).status_code == 404
    assert client.get("/api/reindex/" + "a" * 32, headers=auth()).status_code == 404


@pytest.mark.parametrize(
    "headers", [{}, auth("wrong"), {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}]
)
def test_a_missing_or_wrong_token_is_401(site, headers: dict[str, str]) -> None:
    app, _, _ = site
    response = app.test_client().post("/api/reindex", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_reindex_runs_in_the_background_and_reports_on_disk(site) -> None:
    app, posts, index_dir = site
    client = app.test_client()
    before = client.get("/healthz").get_json()["build_id"]
    write_post(posts, "kiwi.md", {"title": "Kiwi orchards", "date": "2024-02-02"}, "kiwi")
    started = client.post("/api/reindex", headers=auth(), json={"full": False})
    assert started.status_code == 202
    job_id = started.get_json()["id"]
    assert started.headers["Location"] == f"/api/reindex/{job_id}"
    deadline = time.monotonic() + 120
    status = {}
    while time.monotonic() < deadline:
        status = client.get(f"/api/reindex/{job_id}", headers=auth()).get_json()
        if status["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert status["status"] == "succeeded", status
    assert status["result"]["mode"] == "incremental"
    assert client.get("/healthz").get_json()["build_id"] == status["result"]["build_id"] != before
    assert client.get("/api/search?q=kiwi").get_json()["total"] == 1
    # Any worker answers: the status is read from the index folder, not from memory.
    other = create_app({"INDEX_DIR": str(index_dir), "ADMIN_TOKEN": TOKEN})
    assert (
        other.test_client().get(f"/api/reindex/{job_id}", headers=auth()).get_json()["status"]
        == "succeeded"
    )
    other.extensions["postsearch.searcher"].close()


@pytest.mark.parametrize("job_id", ["0" * 32, "../../etc/passwd", "x"])
def test_unknown_jobs_are_404(site, job_id: str) -> None:
    app, _, _ = site
    response = app.test_client().get(f"/api/reindex/{job_id}", headers=auth())
    assert response.status_code == 404


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, sample_build: Path) -> None:
    app = create_app({"INDEX_DIR": str(sample_build), "RATE_LIMIT": "3/minute"})
    client = app.test_client()
    try:
        codes = [client.get("/api/search?q=bread").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        # One budget per client across endpoints, not one per route.
        limited = client.get("/api/posts/sourdough-bread-for-beginners/related")
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.get_json()["error"] == {
            "status": 429,
            "code": "too_many_requests",
            "message": limited.get_json()["error"]["message"],
            "param": None,
        }
        assert client.get("/healthz").status_code == 200  # health checks are never limited
    finally:
        app.extensions["postsearch.searcher"].close()
    with pytest.raises(ValueError, match="RATE_LIMIT"):
        create_app({"RATE_LIMIT": "lots please"})


def test_rollback_serves_the_previous_build(tmp_path: Path) -> None:
    posts, index_dir = tmp_path / "posts", tmp_path / "index"
    write_post(posts, "a.md", {"title": "A"}, "alpha")
    first = build(posts, index_dir).build_dir
    write_post(posts, "b.md", {"title": "B"}, "beta")
    second = build(posts, index_dir, BuildOptions(full=True)).build_dir
    runner = CliRunner()
    result = runner.invoke(main, ["rollback", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert f"from {second.name} to {first.name}" in result.stdout
    assert current_build_dir(index_dir) == first
    again = runner.invoke(main, ["rollback", "--index", str(index_dir)])
    assert again.exit_code == 1 and "no complete build older" in again.stderr
