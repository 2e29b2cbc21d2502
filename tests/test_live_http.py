"""HTTP conventions through a real gunicorn with two workers (issue 7)."""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import LiveServer

pytestmark = pytest.mark.e2e
SEARCHES_OK = re.compile(
    r'^postsearch_requests_total\{endpoint="/api/search",method="GET",status="200"\} (\S+)$', re.M
)


def test_metrics_add_up_every_worker(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/search"
    for n in range(24):  # a new connection each: gunicorn spreads them over both workers
        assert requests.get(url, params={"q": f"bread {n}"}, timeout=10).status_code == 200
    counts = set()
    for _ in range(6):  # scrapes answered by either worker must agree on the total
        text = requests.get(f"{live_server.url}/metrics", timeout=10).text
        found = SEARCHES_OK.search(text)
        assert found, text[:500]
        counts.add(float(found.group(1)))
        assert re.search(r"^postsearch_posts_served 55\.0$", text, re.M)
    assert len(counts) == 1 and counts.pop() >= 24, counts


def test_etag_and_304_over_http(live_server: LiveServer) -> None:
    url = f"{live_server.url}/api/search?q=sourdough"
    first = requests.get(url, timeout=10)
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
