"""Shared fixtures: corpora written to tmp dirs, real builds, the Flask app, a gunicorn server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from api import create_app
from index import build
from search import Searcher

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_POSTS = ROOT / "data" / "posts"
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent


def write_post(folder: Path, name: str, front: dict[str, Any] | None, body: str = "") -> Path:
    """Write one post file with YAML front matter (or none when `front` is None)."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    head = "" if front is None else "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n"
    path.write_text(head + "\n" + body, encoding="utf-8")
    return path


def seed_front(
    slug: str,
    title: str,
    general: str,
    medium: str,
    specific: str,
    niche: str,
    date: str = "2024-01-10T10:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    """Front matter in the seed's format with a full category hierarchy."""
    return {
        "title": title,
        "date": date,
        "slug": slug,
        "excerpt": f"About {title.lower()}.",
        "category": niche,
        "categories": [
            {"type": "exact", "name": niche},
            {"type": "general", "name": general},
            {"type": "medium", "name": medium},
            {"type": "specific", "name": specific},
            {"type": "niche", "name": niche},
        ],
        "status": "published",
        "trending": False,
        "featured": False,
        "keywords": [],
        "readingTime": 3,
        **extra,
    }


def shared_dir(*parts: str) -> Path:
    """A path under ../shared; fails (never skips) when the shared data is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: tests need ../shared beside the repository")
    return path


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped sample corpus (data/posts), built once per session; returns the index dir."""
    index_dir = tmp_path_factory.mktemp("sample") / "build"
    build(SAMPLE_POSTS, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def sample_searcher(sample_build: Path) -> Iterator[Searcher]:
    with Searcher(sample_build) as searcher:
        yield searcher


@pytest.fixture()
def app(sample_build: Path):
    app = create_app(
        {"TESTING": True, "INDEX_DIR": str(sample_build), "POSTS_DIR": str(SAMPLE_POSTS)}
    )
    yield app
    app.extensions["postsearch.searcher"].close()


@pytest.fixture()
def client(app):
    return app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real gunicorn (2 workers) serving a copy of the sample corpus on loopback."""

    def __init__(self, root: Path) -> None:
        self.posts_dir = root / "posts"
        self.index_dir = root / "build"
        shutil.copytree(SAMPLE_POSTS, self.posts_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "POSTSEARCH_POSTS_DIR": str(self.posts_dir),
            "POSTSEARCH_INDEX_DIR": str(self.index_dir),
            "POSTSEARCH_BIND": f"127.0.0.1:{self.port}",
            "POSTSEARCH_WORKERS": "2",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def reindex(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "postsearch"), "reindex", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "--access-logfile",
                "/dev/null",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not become healthy in 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("live"))
    result = server.reindex()
    assert result.returncode == 0, result.stderr
    server.start()
    try:
        yield server
    finally:
        server.stop()
