# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# Tests and the server must never reach a model hub.
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_DISABLE_TELEMETRY := 1

.PHONY: run test bench lint screenshot browser clean

run: $(VENV)/.installed
	$(BIN)/qa serve

test: $(VENV)/.installed browser node_modules/axe-core/axe.min.js
	$(BIN)/ruff check qa ui tests bench docs scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python bench/bench.py --build-corpus ../shared/datasets/medquad/medquad.jsonl
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/safety.py
	$(BIN)/python bench/load.py

lint: $(VENV)/.installed
	$(BIN)/ruff check qa ui tests bench docs scripts
	$(BIN)/mypy

screenshot: $(VENV)/.installed browser
	$(BIN)/python docs/screenshot.py

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the CPU build that lies on disk; a bare `torch` would pull CUDA.
$(VENV)/.torch: | $(BIN)/python
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e '.[dev]'
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

# axe-core for the browser tests' accessibility checks, pinned in package.json / package-lock.json.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q npm; }
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) index/builds index/CURRENT .pytest_cache .mypy_cache .ruff_cache
