# Two commands for a new user: `make demo` and `make test`. Each sets itself up on a
# fresh machine (a virtual environment, then pip) before doing its job.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.edgeq-installed

.PHONY: demo test test-fast test-slow setup bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

demo: $(STAMP)
	$(PY) -m edgeq.demo

bench: $(STAMP)
	$(PY) benchmarks/float_interp.py

clean:
	rm -rf $(VENV) build dist *.egg-info
