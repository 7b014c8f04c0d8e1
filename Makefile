# Two commands on a fresh machine: `make demo` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PAYRISK := $(VENV)/bin/payrisk
DEMO_DIR := data/demo
DEMO_LEDGER := $(DEMO_DIR)/ledger

.PHONY: install demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(PAYRISK) simulate --out $(DEMO_LEDGER) --customers 1500 --months 24 --seed 7
	$(PAYRISK) validate $(DEMO_LEDGER)

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check features training serving payrisk tests benchmarks

bench: install
	$(PY) benchmarks/bench_simulate.py
	$(PY) benchmarks/bench_validate.py

clean:
	rm -rf data mlruns .pytest_cache
