# The README's contract: `make demo` and `make test` work on a fresh machine with only python3.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test lint bench bench-large fuzz manifest docs schemas clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo needs only the command line: a light install (the dev extra brings dask, pyarrow,
# matplotlib, mypy...). After `make test` it is already there (the dev extra includes [cli]),
# so nothing is installed again.
DEMO_STAMP := $(VENV)/.installed-demo

$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then :; \
	else $(PY) -m pip install --quiet -e '.[cli]'; fi
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(VENV)/bin/socialvalue-tom value examples/portfolio.csv --by theme

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m pytest benchmarks -q -m "not slow" --benchmark-columns=min,median,mean,rounds --benchmark-group-by=group

bench-large: $(STAMP)
	$(PY) -m pytest benchmarks -q -m slow --benchmark-columns=min,median,mean,rounds --benchmark-group-by=group

fuzz: $(STAMP)
	$(PY) -m pytest tests/fuzz -q -m slow -p no:randomly

manifest: $(STAMP)
	$(PY) -c "from socialvalue_tom.tables import write_manifest; print(write_manifest(allow_changes='$(ALLOW_CHANGES)'.lower() in ('1', 'true', 'yes')))"

# The generated reference pages: the measure catalogue and derivation pages' value tables
# (from the embedded tables), the API reference (from the docstrings), the JSON Schemas.
docs: $(STAMP)
	$(PY) docs/gen_measures.py
	$(PY) docs/gen_api.py
	$(PY) -m socialvalue_tom.schemas docs/schemas

schemas: $(STAMP)
	$(PY) -m socialvalue_tom.schemas docs/schemas

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks
