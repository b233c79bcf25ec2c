# Two commands matter: `make test` (unit tests + the fast claims) and `make report` (every claim this
# machine can run, then the HTML report). Both work on a fresh machine: they create .venv, install
# fgcore with its test extras and fetch the real data where the machine allows it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fgcore-installed
# pytest exits 5 when a selection collects nothing (e.g. no claim of a tier yet): not an error here.
PYTEST_OK := || test $$? -eq 5
JOBS ?= 2
REPORT_DIR ?= reports/latest

.PHONY: test report install data bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

data: $(STAMP)
	@$(PY) -m fgcore data prepare fashion_mnist || echo "(continuing: the slow tier will say what is missing)"

# Claims that share runs stay on one xdist worker (--dist loadgroup), so each run trains once.
CLAIMS := $(PY) -m pytest claims -q -n $(JOBS) --dist loadgroup

test: $(STAMP) data
	$(PY) -m pytest tests -q -n $(JOBS) $(PYTEST_OK)
	$(CLAIMS) -m fast --fg-report reports/fast $(PYTEST_OK)

report: $(STAMP) data
	$(CLAIMS) -m "fast or slow or gpu" -rs --fg-report $(REPORT_DIR) --html=$(REPORT_DIR)/pytest.html --self-contained-html $(PYTEST_OK)
	-@for tier in fast slow; do $(PY) -m fgcore compare reports/baseline/$$tier.json $(REPORT_DIR)/claims.json --tier $$tier | tail -1; done
	@echo "report: $(abspath $(REPORT_DIR))/index.html"

bench: $(STAMP)
	$(PY) -m pytest tests/benchmarks/bench_*.py -p no:xdist --benchmark-only $(PYTEST_OK)

clean:
	rm -rf $(VENV) reports/latest .pytest_cache .hypothesis
