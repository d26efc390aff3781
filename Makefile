# Shortlist: `make run` serves the API on 127.0.0.1:8000; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SHORTLIST_DATABASE_URL ?= sqlite:///./var/shortlist.db
export SHORTLIST_STORAGE_URL ?= file://./var/blobs
PYTEST_ARGS ?=

.PHONY: run test test-pg test-faketime lint format bench demo install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e . --group dev
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@mkdir -p var
	$(BIN)/shortlist migrate
	$(BIN)/shortlist bootstrap
	@echo "Shortlist on http://127.0.0.1:8000  -  API docs: http://127.0.0.1:8000/docs"
	$(BIN)/shortlist serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-pg: $(STAMP)
	SHORTLIST_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test $(BIN)/pytest -n 2 $(PYTEST_ARGS)

# The suite with the system clock shifted by Debian's libfaketime (0.9.10), one pass per offset:
# no test may depend on the wall clock. The monotonic clock stays real, and
# FAKETIME_FORCE_MONOTONIC_FIX=0 keeps libfaketime from moving the deadlines of waits on it
# (else each wait for the GIL returns at once and the suite runs 5-10 times slower);
# tests/faketime/sitecustomize.py works around its shifting of time.sleep's deadline.
FAKETIME_OFFSETS ?= +5y -5y
test-faketime: $(STAMP)
	@command -v faketime >/dev/null || { echo "make test-faketime needs faketime: apt-get install -y faketime" >&2; exit 1; }
	@for offset in $(FAKETIME_OFFSETS); do \
	  echo "== the suite with the system clock at $$offset"; \
	  FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 \
	  PYTHONPATH="$(CURDIR)/tests/faketime$${PYTHONPATH:+:$$PYTHONPATH}" \
	  faketime -f "$$offset" $(BIN)/pytest -n 2 $(PYTEST_ARGS) || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict api cli identity infra models submissions reviewers notifications tests bench
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	@# wrk drives the read benchmark: installed here when missing (Debian), else a clear message.
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } \
	  || { echo "make bench needs wrk (the read benchmark's load generator): apt-get install -y wrk" >&2; exit 1; }
	$(BIN)/python -m bench

demo: $(STAMP)
	$(BIN)/shortlist demo

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
