# Two commands for a new user: `make demo` and `make test`. Each sets itself up on a
# fresh machine (a virtual environment, then pip) before doing its job.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EDGEQ := $(VENV)/bin/edgeq
STAMP := $(VENV)/.edgeq-installed
# a zoo model (see `edgeq zoo list`)
DEMO_MODEL ?= mobilenet-v2

.PHONY: demo test test-fast test-slow setup bench clean

setup: $(STAMP)

# Re-install when the packaging changes (new dependencies, entry points or plugins).
$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# build a zoo model for tflite on the zoo's own calibration data, profile it on this
# machine against the FP32 model, print the report (edgeq/demo.py)
demo: $(STAMP)
	$(PY) -m edgeq.demo --model $(DEMO_MODEL)

bench: $(STAMP)
	$(PY) benchmarks/float_interp.py

clean:
	rm -rf $(VENV) build dist *.egg-info
