"""gunicorn settings used by `make run` (override any of them with GUNICORN_CMD_ARGS).

Reload code and settings without dropping requests with `kill -HUP <master pid>`:
gunicorn starts new workers and lets the old ones finish (up to graceful_timeout).
A reindex needs no reload at all: workers open the new build on their next request.
"""

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("POSTSEARCH_BIND", "127.0.0.1:8000")
# Search is CPU-bound Python (the GIL): one process per core, a few threads each for I/O.
workers = int(os.environ.get("POSTSEARCH_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = 4
# The app opens the index lazily in each worker, so preloading shares code only.
preload_app = True
timeout = 30
graceful_timeout = 20
keepalive = 5
# The app logs one line per request itself (POSTSEARCH_LOG_FORMAT=text|json|off), with
# the endpoint and timing; gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
wsgi_app = "api:create_app()"

# /metrics adds up every worker's counters: prometheus-client's multiprocess mode keeps
# them in files under this folder. It must be set before the app (and so
# prometheus_client) is imported, which preload_app does right after this file.
_own_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="postsearch-metrics-")


def child_exit(server, worker):
    """Drop a dead worker's live gauges (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this config created."""
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
