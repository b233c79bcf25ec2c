# Two commands matter: `make test` (unit tests + the fast claims) and `make report` (every claim this
# machine can run, then the HTML report). Both work on a fresh machine: they create .venv, install
# fgcore with its test extras and fetch the real data where the machine allows it.
#
# A GPU node whose python already has PyTorch (PYTHON=that python): .venv sees its torch and never
# downloads another. Without a package index: `make install WHEELS=folder` installs from a folder that
# `make wheelhouse` filled elsewhere; with neither, fgcore alone is installed and what is missing is listed
# (tools/make_venv.py).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fgcore-installed
WHEELS ?=
WHEELHOUSE ?= wheelhouse
WHEEL_PYTHON ?=
# pytest exits 5 when a selection collects nothing (e.g. no claim of a tier yet): not an error here.
PYTEST_OK := || test $$? -eq 5
JOBS ?= 2
REPORT_DIR ?= reports/latest

.PHONY: test report install wheelhouse data bench gpu-check clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) tools/make_venv.py --venv $(VENV) $(if $(WHEELS),--wheels $(WHEELS))
	@touch $(STAMP)

# Every wheel fgcore needs (torch aside: the node's own is used) for WHEEL_PYTHON (default: this python's),
# on a machine with internet; then, on the node: make install WHEELS=$(WHEELHOUSE)
wheelhouse:
	$(PYTHON) tools/wheelhouse.py --dest $(WHEELHOUSE) $(if $(WHEEL_PYTHON),--python-version $(WHEEL_PYTHON))

data: $(STAMP)
	@$(PY) -m fgcore data prepare fashion_mnist || echo "(continuing: the slow tier will say what is missing)"

# Claims that share runs stay on one xdist worker (--dist loadgroup), so each run trains once. The claims
# use no Hypothesis; its plugin would import it (2-3 s) only to print its statistics at the end.
CLAIMS := $(PY) -m pytest claims -q -n $(JOBS) --dist loadgroup -p no:hypothesispytest
# pytest-html's page beside the report, where pytest-html is installed (a node without an index may lack it)
HTML = $(shell $(PY) -c 'import pytest_html' 2>/dev/null && echo --html=$(REPORT_DIR)/pytest.html --self-contained-html)

test: $(STAMP) data
	$(PY) -m pytest tests -q -n $(JOBS) $(PYTEST_OK)
	$(CLAIMS) -m fast --fg-report reports/fast $(PYTEST_OK)

report: $(STAMP) data
	$(CLAIMS) -m "fast or slow or gpu" -rs --fg-report $(REPORT_DIR) $(HTML) $(PYTEST_OK)
	-@for tier in fast slow; do $(PY) -m fgcore compare reports/baseline/$$tier.json $(REPORT_DIR)/claims.json --tier $$tier | tail -1; done
	@echo "report: $(abspath $(REPORT_DIR))/index.html"

bench: $(STAMP)
	$(PY) -m pytest tests/benchmarks/bench_*.py -p no:xdist --benchmark-only $(PYTEST_OK)

# First thing on a GPU machine: is the GPU path right (finite results, streamed statistics equal to
# float64 ones, features equal to a float64 CPU forward, accuracy above chance, a float32 step equal to
# the CPU's) and how fast (s/epoch of ResNet-18, DenseNet-121, VGG-19; eager against CUDA graph; 1, 2, 4
# runs per GPU)? One table; exit 1 on a wrong result or a check that could not run. Without a GPU: a dry
# run on a tiny subset. GPU_CHECK_ARGS=--compile also times torch.compile.
gpu-check: $(STAMP)
	$(PY) -m fgcore.train.gpu_check $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) reports/latest .pytest_cache .hypothesis
