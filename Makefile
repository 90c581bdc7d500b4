# Two commands for a new user: `make demo` and `make test`. Each sets itself up on a
# fresh machine (a virtual environment, then pip) before doing its job.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EDGEQ := $(VENV)/bin/edgeq
STAMP := $(VENV)/.edgeq-installed
# a zoo model (see `edgeq zoo list`)
DEMO_MODEL ?= mobilenet-v2

.PHONY: demo test test-fast test-slow test-all typecheck setup setup-export bench clean

setup: $(STAMP)

# tflite-runtime, the standalone TFLite interpreter, in an environment of its own (its
# wheels are built against numpy 1.x): the tests cross-check emitted files in it
# (plugins/edgeq_tflite/tests/test_tflite_runtime.py skips, saying why, without it).
TFLITE_RUNTIME_VENV ?= .venv-tflite-runtime
TFLITE_RUNTIME_STAMP := $(TFLITE_RUNTIME_VENV)/.installed
$(TFLITE_RUNTIME_STAMP):
	$(PYTHON) -m venv $(TFLITE_RUNTIME_VENV)
	$(TFLITE_RUNTIME_VENV)/bin/python -m pip install -q "tflite-runtime==2.14.0" "numpy<2" || \
		echo "warning: tflite-runtime could not be installed; its cross-check will be skipped"
	touch $(TFLITE_RUNTIME_STAMP)

# torch and the current transformers, in an environment of their own (edgeq never needs
# torch): the slow coverage suite exports a BERT with them as a user would
# (tests/integration/_transformers_exports.py; those models skip, saying why, without it).
EXPORT_VENV ?= .venv-export
EXPORT_STAMP := $(EXPORT_VENV)/.installed
EXPORT_REQUIREMENTS := tests/integration/exporters/requirements.txt
setup-export: $(EXPORT_STAMP)
$(EXPORT_STAMP): $(EXPORT_REQUIREMENTS)
	$(PYTHON) -m venv $(EXPORT_VENV)
	$(EXPORT_VENV)/bin/python -m pip install -q -r $(EXPORT_REQUIREMENTS) && touch $(EXPORT_STAMP) || \
		echo "warning: the export environment could not be installed; the transformers exports will be skipped"

# Re-install when the packaging changes (new dependencies, entry points or plugins).
$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# the default suite: unit, conformance and plugin tests, the type check (minutes);
# `make test-slow` adds the real-model integration tests, `make test-all` runs both
test: $(STAMP) $(TFLITE_RUNTIME_STAMP) typecheck
	$(PY) -m pytest -q -m "not slow"

# the public API's type hints (the module list is [tool.mypy] in pyproject.toml)
typecheck: $(STAMP)
	$(PY) -m mypy

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-slow: $(STAMP) $(TFLITE_RUNTIME_STAMP) $(EXPORT_STAMP)
	$(PY) -m pytest -q -m slow

test-all: test test-slow

# build a zoo model for tflite on the zoo's own calibration data, profile it on this
# machine against the FP32 model, print the report (edgeq/demo.py)
demo: $(STAMP)
	$(PY) -m edgeq.demo --model $(DEMO_MODEL)

bench: $(STAMP)
	$(PY) benchmarks/float_interp.py

clean:
	rm -rf $(VENV) $(TFLITE_RUNTIME_VENV) $(EXPORT_VENV) build dist *.egg-info
