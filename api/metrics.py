"""`/metrics` in Prometheus text format, and one log line per request.

Under gunicorn every worker is its own process, so request counts and latencies use
prometheus-client's multiprocess mode whenever PROMETHEUS_MULTIPROC_DIR is set
(gunicorn.conf.py sets it): any worker's scrape then reports all workers. The build
gauges (id, age, posts served) are read from the build at scrape time instead of being
stored, so they are never stale and need no cross-process bookkeeping.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from index.errors import ServiceError

REQUESTS = Counter(
    "postsearch_requests",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "postsearch_request_duration_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ZERO_RESULTS = Counter(
    "postsearch_zero_result_searches",
    "Searches that found nothing (first page, no filters, not a half-typed word).",
)

metrics_bp = Blueprint("metrics", __name__)
request_log = logging.getLogger("postsearch.requests")


class _CountedZeroResults:
    """The app's ZeroResultLog, also counting into ZERO_RESULTS (every worker's counts add up)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def record(self, query: str, today: dt.date | None = None) -> None:
        ZERO_RESULTS.inc()
        self._inner.record(query, today)

    def __getattr__(self, name: str) -> Any:  # counts, path: the wrapped log's own
        return getattr(self._inner, name)


class BuildCollector(Collector):
    """Reports the served build when scraped: its id, age and how many posts it serves."""

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher

    def collect(self) -> Iterator[Any]:
        try:
            stats = self.searcher.stats()
        except ServiceError:
            stats = None
        available = GaugeMetricFamily(
            "postsearch_build_available", "1 when a build is being served, 0 otherwise."
        )
        available.add_metric([], 1 if stats else 0)
        yield available
        if not stats:
            return
        info = InfoMetricFamily("postsearch_build", "The build being served.")
        info.add_metric([], {"build_id": stats["build_id"]})
        yield info
        created = dt.datetime.fromisoformat(stats["created_at"].replace("Z", "+00:00"))
        age = (dt.datetime.now(dt.UTC) - created).total_seconds()
        yield GaugeMetricFamily(
            "postsearch_build_age_seconds", "Seconds since the served build was made.", value=age
        )
        yield GaugeMetricFamily(
            "postsearch_posts_served", "Visible posts in the served build.", value=stats["posts"]
        )


def install_metrics(app: Flask) -> None:
    """Count and time every request, log it, and serve `/metrics`."""
    zero_results = app.extensions["postsearch.zero_results"]
    app.extensions["postsearch.zero_results"] = _CountedZeroResults(zero_results)
    app.extensions["postsearch.build_collector"] = BuildCollector(
        app.extensions["postsearch.searcher"]
    )
    _configure_request_log()

    def start_timer() -> None:
        g.postsearch_started = time.perf_counter()

    # First of all hooks, so answers made by one (429, preflight, 304) are counted too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.pop("postsearch_started", None)
        if started is None:
            return response
        seconds = time.perf_counter() - started
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        LATENCY.labels(endpoint).observe(seconds)
        _log_request(response, endpoint, seconds)
        return response

    app.register_blueprint(metrics_bp)


@metrics_bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics of every worker (multiprocess mode) plus the served build."""
    build = CollectorRegistry(auto_describe=True)
    build.register(current_app.extensions["postsearch.build_collector"])
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shared = CollectorRegistry()
        MultiProcessCollector(shared)
    else:
        shared = REGISTRY
    body = generate_latest(shared) + generate_latest(build)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _configure_request_log() -> None:
    """Send request lines to stderr (gunicorn's error log), once per process."""
    if not request_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        request_log.addHandler(handler)
        request_log.setLevel(logging.INFO)
        request_log.propagate = False


def _log_request(response: Response, endpoint: str, seconds: float) -> None:
    """One line per request: text by default, one JSON object when LOG_FORMAT is `json`."""
    log_format = current_app.config["LOG_FORMAT"]
    if log_format == "off":
        return
    fields = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode("latin-1")[:500],
        "endpoint": endpoint,
        "status": response.status_code,
        "ms": round(seconds * 1000, 2),
        "bytes": response.calculate_content_length(),
        "remote": request.remote_addr,
    }
    if log_format == "json":
        request_log.info(json.dumps(fields, ensure_ascii=False))
    else:
        query = f"?{fields['query']}" if fields["query"] else ""
        request_log.info(
            '%s %s "%s %s%s" %s %sms',
            fields["time"],
            fields["remote"],
            fields["method"],
            fields["path"],
            query,
            fields["status"],
            fields["ms"],
        )
