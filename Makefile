# hookwise: `make dev` runs the whole pipeline locally; `make test` runs the whole suite.
# Both install what they need first, on a fresh machine (Python 3.11, Node 20, npm).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The CDK CLI (synth, deploy) and GitHub's webhook examples (the e2e corpus test), as locked.
NODE_INSTALLED := node_modules/.installed
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: install dev test lint typecheck unit synth deploy bench layers clean chromium

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

dev: install
	$(BIN)/hookwise dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The console's browser tests drive Debian's Chromium (Playwright comes with `.[dev]`, and never
# downloads a browser here). As root (CI) it is installed; elsewhere, say how.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && apt-get install -y chromium; \
	else \
		echo "The console's browser tests need Chromium at $(CHROMIUM). Install it as root" >&2; \
		echo "(Debian/Ubuntu: sudo apt-get install -y chromium), then run make test again." >&2; \
		exit 1; \
	fi

test: install $(NODE_INSTALLED) lint typecheck chromium
	$(BIN)/pytest -n 2 --dist loadfile

synth: install $(NODE_INSTALLED)
	npx cdk synth --quiet

deploy: install $(NODE_INSTALLED)
	npx cdk deploy

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf cdk.out build .pytest_cache .mypy_cache .ruff_cache
