# Front door: `make run` serves the sample corpus, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
NODE_DIR := tests/browser
AXE := $(NODE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: run test lint reindex install install-test browser screenshots clean

# Locally any origin may call the API, so the widget can be tried from any static page;
# a real deployment lists its blog's origin in POSTSEARCH_CORS_ORIGINS (default: none).
run: install  ## Install, index data/posts and serve on 127.0.0.1:8000
	$(BIN)/postsearch reindex
	POSTSEARCH_CORS_ORIGINS="$${POSTSEARCH_CORS_ORIGINS-*}" $(BIN)/gunicorn -c gunicorn.conf.py

test: install-test browser  ## Install with test extras and run lint plus the whole suite
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

reindex: install
	$(BIN)/postsearch reindex

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

# Browser tests drive Debian's Chromium through Playwright (no browser download) and
# inject axe-core from npm. As root (CI) only the missing pieces are installed with
# apt-get (a machine whose Node.js already brings npm conflicts with Debian's npm);
# otherwise the one command to run is printed.
browser:
	@missing="$$(test -x $(CHROMIUM) || echo chromium) $$(command -v npm >/dev/null || echo npm)"; \
	if [ -n "$$(echo $$missing)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's $$missing for the browser tests"; \
	    apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "The browser tests need Debian's chromium and npm. Run:"; \
	    echo "    sudo apt-get install -y $$missing"; \
	    exit 1; \
	  fi; \
	fi
	@test -f $(AXE) || npm ci --prefix $(NODE_DIR) --no-audit --no-fund

# Re-make the README's screenshots (docs/screenshots/) from the browser tests.
screenshots: install-test browser
	POSTSEARCH_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -m browser tests/test_browser.py

clean:
	rm -rf $(VENV) data/build .pytest_cache .ruff_cache $(NODE_DIR)/node_modules test-artifacts
