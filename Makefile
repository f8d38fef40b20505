# `make run` starts the app, `make test` runs every test, `make lint` checks the code with ruff's linter and
# formatter; each creates and fills .venv first when needed.
VENV := .venv
PYTHON := $(VENV)/bin/python
# Tests and benchmarks read MNIST's test set from the shared data folder unless AE_DATA_DIR says otherwise.
AE_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: run test lint bench

$(VENV)/installed: requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/installed-test: $(VENV)/installed requirements-test.txt
	$(PYTHON) -m pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/installed
	$(PYTHON) -m streamlit run app.py

test: $(VENV)/installed-test
	AE_DATA_DIR=$(AE_DATA_DIR) $(PYTHON) -m pytest

lint: $(VENV)/installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/installed
	AE_DATA_DIR=$(AE_DATA_DIR) PYTHONPATH=. $(PYTHON) bench/training_speed.py
	AE_DATA_DIR=$(AE_DATA_DIR) PYTHONPATH=. $(PYTHON) bench/quality.py
