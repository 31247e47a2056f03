# sketchdiffuse: `make run` starts the app, `make test` runs the tests; both set up .venv first.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sketchdiffuse-installed
COMFY_VENV ?= .comfy-venv
COMFY_STAMP := $(COMFY_VENV)/.installed

.PHONY: install run test test-quick comfy-env lint bench clean

# Reinstalls only when the project's dependencies change (pyproject.toml is newer than the stamp).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

# The ComfyUI test peer's environment for tests/comfy (a real server; see tests/comfy/conftest.py).
# Its source is found by tools/comfy_source.sh (only when these targets run).
COMFY_SOURCE = $(shell bash tools/comfy_source.sh)
$(COMFY_STAMP): tools/comfy_env.sh
	@test -n "$(COMFY_SOURCE)"
	PYTHON=$(PYTHON) bash tools/comfy_env.sh $(COMFY_VENV) "$(COMFY_SOURCE)"

comfy-env: $(COMFY_STAMP)

run: $(STAMP)
	$(PY) -m sketchdiffuse

test: $(STAMP) $(COMFY_STAMP)
	@test -n "$(COMFY_SOURCE)"
	SKETCHDIFFUSE_COMFY_SOURCE="$(COMFY_SOURCE)" QT_QPA_PLATFORM=offscreen $(PY) -m pytest

# Everything but the tests against a real ComfyUI server (no peer environment needed).
test-quick: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not comfy"

lint: $(STAMP)
	$(VENV)/bin/ruff check sketchdiffuse tests benchmarks
	$(VENV)/bin/ruff format --check sketchdiffuse
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/bench_document.py
	$(PY) benchmarks/bench_canvas.py
	$(PY) benchmarks/bench_save.py
	$(PY) benchmarks/bench_generation.py
	$(PY) benchmarks/bench_live.py
	$(PY) benchmarks/bench_ui_latency.py

clean:
	rm -rf $(VENV) $(COMFY_VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
