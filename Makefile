# Two commands on a fresh machine: `make demo` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PAYRISK := $(VENV)/bin/payrisk
DEMO_DIR := data/demo
DEMO_LEDGER := $(DEMO_DIR)/ledger
DEMO_ENV := PAYRISK_DATA_DIR=$(DEMO_DIR) PAYRISK_MODELS_DIR=models

.PHONY: install lock demo test lint format bench clean

# requirements.lock pins every package (made by `make lock` from the ranges in pyproject.toml); the project itself
# is installed editable on top of it, without resolving again.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.lock
	$(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	(echo "# Made by 'make lock' from pyproject.toml: every package pinned. Python 3.11, Linux x86_64."; \
	 .lock-venv/bin/pip freeze --exclude-editable | grep -v '^payrisk') > requirements.lock
	rm -rf .lock-venv

demo: install
	$(PAYRISK) simulate --out $(DEMO_LEDGER) --customers 1000 --months 24 --seed 7
	$(PAYRISK) validate $(DEMO_LEDGER)
	$(DEMO_ENV) $(PAYRISK) train --ledger $(DEMO_LEDGER) --as-of latest
	$(DEMO_ENV) $(PAYRISK) score --ledger $(DEMO_LEDGER) --as-of latest --out $(DEMO_DIR)/scores.csv
	$(DEMO_ENV) $(PAYRISK) forecast --ledger $(DEMO_LEDGER) --as-of latest --weeks 13 --out $(DEMO_DIR)/forecast.csv
	$(DEMO_ENV) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo_service.sh $(DEMO_DIR) $(DEMO_LEDGER)

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

LINT_PATHS := features training serving payrisk tests benchmarks alembic

lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)
	$(VENV)/bin/ruff format $(LINT_PATHS)

bench: install
	$(PY) benchmarks/bench_simulate.py
	$(PY) benchmarks/bench_validate.py
	$(PY) benchmarks/bench_features.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_score.py
	$(PY) benchmarks/bench_service.py
	$(PY) benchmarks/bench_api.py
	$(PY) benchmarks/bench_close.py

clean:
	rm -rf data mlruns .pytest_cache
