# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv with the same two install steps as the README and the Dockerfile.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint docs setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/flarecast demo

lint: setup
	$(BIN)/ruff check flarecast tests benchmarks scripts
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

test: lint docs
	$(BIN)/pytest -q

# The documentation site (docs/, mkdocs.yml) into build/site; --strict turns every broken link into a failure.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) runs build .pytest_cache
