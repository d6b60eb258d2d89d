# `make run`, `make report`, `make bench` and `make test` each create .venv and install the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run report bench test lint clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/python -m twolayer_jax.train

report: $(INSTALLED)
	$(BIN)/python -m twolayer_jax.report --out runs/report

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.throughput --json benchmarks/results.json --markdown benchmarks/RESULTS.md

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n auto

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) runs .pytest_cache
