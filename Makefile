# `make run`, `make report`, `make bench` and `make test` each create .venv and install the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

FLOOR_VENV := .venv-floor

.PHONY: run report bench test test-slow test-floor lint clean autograder.zip

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/python -m twolayer_jax.train

report: $(INSTALLED)
	$(BIN)/python -m twolayer_jax.report --out docs/report

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.throughput --json benchmarks/results.json --markdown benchmarks/RESULTS.md

# the fast set, the walkthrough notebook included; CI also runs test-slow
test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n auto -m "not slow" --nbmake tests notebooks/walkthrough.ipynb

# the tests marked slow: whole runs and whole reports that must stay long
test-slow: $(INSTALLED)
	$(BIN)/python -m pytest -n auto --dist loadfile -m slow

# every test on the lowest versions pyproject.toml allows (the floors it claims)
test-floor:
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(PYTHON) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	print("\n".join(d.split("#")[0].strip().replace(">=", "==") for d in p["dependencies"] + p["optional-dependencies"]["dev"]))' \
	> $(FLOOR_VENV)/floors.txt
	$(FLOOR_VENV)/bin/python -m pip install --quiet --editable '.[dev]' --constraint $(FLOOR_VENV)/floors.txt
	$(FLOOR_VENV)/bin/python -m pytest -n auto --nbmake tests notebooks/walkthrough.ipynb

# the Gradescope autograder: setup.sh, run_autograder and this project (autograder/README.md)
autograder.zip:
	rm -rf build/autograder && mkdir -p build/autograder/project
	git archive HEAD | tar -x -C build/autograder/project
	cp autograder/setup.sh autograder/run_autograder build/autograder/
	cd build/autograder && $(PYTHON) -m zipfile -c ../../autograder.zip setup.sh run_autograder project

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(FLOOR_VENV) runs .pytest_cache build autograder.zip
