"""gunicorn settings used by `make run` (override any of them with GUNICORN_CMD_ARGS)."""

import multiprocessing
import os

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
accesslog = "-"
errorlog = "-"
wsgi_app = "api:create_app()"
