# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv with the same two install steps as the README and the Dockerfile.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/flarecast demo

lint: setup
	$(BIN)/ruff check flarecast tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache
