"""End to end: a real gunicorn with two workers, queried over loopback while reindexing."""

from __future__ import annotations

import threading

import pytest
import requests

from tests.conftest import LiveServer, write_post

pytestmark = pytest.mark.e2e


def test_search_and_related_over_http(live_server: LiveServer) -> None:
    body = requests.get(
        f"{live_server.url}/api/search", params={"q": "neural networks"}, timeout=10
    ).json()
    assert body["total"] >= 5
    slug = body["results"][0]["slug"]
    assert "<mark>" in body["results"][0]["snippet"]
    related = requests.get(f"{live_server.url}/api/posts/{slug}/related", timeout=10).json()
    assert len(related["results"]) == 5 and all(r["reason"] for r in related["results"])
    missing = requests.get(f"{live_server.url}/api/posts/nope", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "post_not_found"


def test_a_reindex_is_served_by_every_worker_without_restart(live_server: LiveServer) -> None:
    before = requests.get(f"{live_server.url}/healthz", timeout=10).json()["build_id"]
    errors: list[str] = []
    stop = threading.Event()

    def keep_searching() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                response = session.get(
                    f"{live_server.url}/api/search", params={"q": "sourdough"}, timeout=10
                )
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:200]}")

    readers = [threading.Thread(target=keep_searching) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        write_post(
            live_server.posts_dir,
            "zeppelin-flights.md",
            {
                "title": "Zeppelin flights over the Alps",
                "date": "2024-05-01",
                "categories": ["Travel"],
            },
            "Airships drift slowly above glaciers.",
        )
        result = live_server.reindex()
        assert result.returncode == 0, result.stderr
        assert "Built " in result.stdout
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert errors == []
    for _ in range(30):  # new connections, spread over both workers
        body = requests.get(
            f"{live_server.url}/api/search", params={"q": "zeppelin"}, timeout=10
        ).json()
        assert [r["slug"] for r in body["results"]] == ["zeppelin-flights"]
        assert body["build_id"] != before
    post = requests.get(f"{live_server.url}/api/posts/zeppelin-flights", timeout=10).json()
    assert post["title"] == "Zeppelin flights over the Alps"
