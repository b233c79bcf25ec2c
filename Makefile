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

test: $(STAMP) data
	$(PY) -m pytest tests -q -n $(JOBS) $(PYTEST_OK)
	$(PY) -m pytest claims -m fast -q -n $(JOBS) $(PYTEST_OK)

report: $(STAMP) data
	$(PY) -m pytest claims -m "fast or slow or gpu" -q -n $(JOBS) --html=$(REPORT_DIR)/pytest.html --self-contained-html $(PYTEST_OK)
	@echo "report: $(abspath $(REPORT_DIR))/pytest.html"

bench: $(STAMP)
	$(PY) -m pytest benchmarks -p no:xdist --benchmark-only $(PYTEST_OK)

clean:
	rm -rf $(VENV) reports/latest .pytest_cache .hypothesis
