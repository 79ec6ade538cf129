# signin-lab: `make run` serves the demo, `make test` runs the whole suite.
# Both bootstrap .venv from uv.lock first (exactly the locked set) and are quick the second time.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
EMULATOR_PORT ?= 8001
VENV := .venv
TOOLS := .tools
UV_VERSION := 0.13.8
UV := $(TOOLS)/bin/uv
PY := $(VENV)/bin/python
NPM ?= npm
# What the accessibility browser tests inject into each page (tests/e2e/test_accessibility.py).
AXE := tests/e2e/node_modules/axe-core/axe.min.js

export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.DEFAULT_GOAL := help
.PHONY: help install run test lint format lock

help:
	@echo "make run    serve the demo at http://$(HOST):$(PORT)/ (PORT=... to change)"
	@echo "            with GitHub/Google emulators on localhost:$(EMULATOR_PORT) unless credentials are set"
	@echo "make test   lint, then the whole test suite (browser tests included)"
	@echo "make format apply ruff's formatting and safe fixes"
	@echo "make lock   re-resolve uv.lock after editing pyproject.toml"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

# Exactly what tests/e2e/package-lock.json pins: axe-core for the accessibility tests, oauth4webapi
# for the interop test. Without npm those tests skip on a developer's machine (in CI they fail:
# .ci/run installs npm).
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v $(NPM) >/dev/null 2>&1; then \
	  $(NPM) ci --prefix tests/e2e --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "npm not found: the accessibility and interop tests will skip (apt-get install npm)"; \
	fi

install: $(VENV)/.synced $(AXE)

# Providers without credentials get the emulators (on localhost, so cookies never mix with
# the site's on 127.0.0.1); they stop with the server.
run: export EMULATOR_URL := http://localhost:$(EMULATOR_PORT)
# The issuer RFC 8414 clients discover: the URL the site is served at.
run: export JWT_ISSUER ?= http://$(HOST):$(PORT)
run: install
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py demo_setup --host $(HOST) --port $(PORT)
	@if [ -s var/emulator-clients.json ]; then \
	  $(PY) -m emulators --host localhost --port $(EMULATOR_PORT) --clients var/emulator-clients.json & \
	  trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	else \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	fi

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: | $(UV)
	$(UV) lock --python $(PYTHON)
