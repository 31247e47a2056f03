# sketchdiffuse: `make run` starts the app, `make test` runs the tests; both set up .venv first.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sketchdiffuse-installed

.PHONY: install run test lint bench clean

# Reinstalls only when the project's dependencies change (pyproject.toml is newer than the stamp).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m sketchdiffuse

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
