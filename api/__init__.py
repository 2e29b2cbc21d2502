"""The HTTP edge: Flask app factory, JSON routes, error mapping, the `postsearch` CLI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from search import Searcher
from search.searcher import Boosts

from .admin import admin
from .config import check_settings, defaults, from_environment, zero_results_path
from .errors import register_error_handlers
from .http import install_http_conventions
from .jsonfast import FastJSONProvider
from .limits import install_rate_limits
from .metrics import install_metrics
from .openapi import openapi_bp
from .pages import pages
from .related_routes import related_bp
from .responses import install_response_cache
from .routes import bp
from .zero_results import ZeroResultLog


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then POSTSEARCH_* variables, then `test_config`.

    No index file is opened here; each worker opens the current build on its first
    request, after gunicorn has forked.
    """
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config.from_mapping(defaults())
    if test_config is None:
        app.config.from_mapping(from_environment())
    else:
        app.config.from_mapping(test_config)
    check_settings(app.config)
    app.json = FastJSONProvider(app)
    app.extensions["postsearch.searcher"] = Searcher(
        Path(app.config["INDEX_DIR"]),
        time_limit=float(app.config["SEARCH_TIME_LIMIT"]),
        max_results_window=int(app.config["MAX_RESULTS_WINDOW"]),
        cache_entries=int(app.config["ANSWER_CACHE_ENTRIES"]),
        boosts=Boosts(
            featured=float(app.config["BOOST_FEATURED"]),
            trending=float(app.config["BOOST_TRENDING"]),
            freshness=float(app.config["BOOST_FRESHNESS"]),
            half_life_days=float(app.config["FRESHNESS_HALF_LIFE_DAYS"]),
        ),
    )
    app.extensions["postsearch.zero_results"] = ZeroResultLog(zero_results_path(app.config))
    register_error_handlers(app)
    install_metrics(app)
    install_http_conventions(app)
    install_response_cache(app)
    install_rate_limits(app)
    app.register_blueprint(bp)
    app.register_blueprint(related_bp)
    app.register_blueprint(admin)
    app.register_blueprint(pages)
    app.register_blueprint(openapi_bp)
    return app
