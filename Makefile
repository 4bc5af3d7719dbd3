# kubestead: the one front door for humans and CI.
#
# Every target bootstraps what it needs on first use (the .venv with pinned
# Python packages, tools under .tools/, Debian packages when run as root) and
# is fast when nothing changed: the venv and each tool hang off a stamp file.
# Each component adds its own targets in mk/<component>.mk and registers them
# in the LINT_TARGETS / TEST_PREREQS / TEST_PATHS / BENCH_TARGETS lists below.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --warn-undefined-variables

PYTHON ?= python3
VENV ?= .venv
TOOLS ?= .tools
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k notes -x"`.
PYTEST_ARGS ?=
# `make test` runs on this many pytest-xdist workers ("auto": one per core; 0: in-process).
TEST_WORKERS ?= auto

# Pinned Python packages: every requirements file is installed into the one venv,
# so a conflicting pin fails the install at once instead of at run time.
REQUIREMENTS := $(sort $(wildcard requirements/*.txt)) app/requirements.txt
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet

export PATH := $(abspath $(TOOLS)/bin):$(abspath $(BIN)):$(PATH)

LINT_TARGETS :=
TEST_PREREQS :=
TEST_PATHS :=
BENCH_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help venv system-deps lint test bench run clean

help: ## Show the targets and what each does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: $(REQUIREMENTS) pyproject.toml app/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install $(addprefix -r ,$(REQUIREMENTS))
	$(PIP) install --no-deps --no-build-isolation -e ./app -e .
	@touch $@

venv: $(VENV)/.installed ## Create or refresh the .venv from the pinned requirements

system-deps: ## Install the Debian packages the tests need (root; a no-op when present)
	@scripts/system-deps.sh $(sort $(wildcard requirements/apt/*.txt))

lint: venv $(LINT_TARGETS) ## Run every linter (ruff, mypy, hadolint, helm lint, ansible-lint, ...)
	@echo "lint: all clean"

test: venv system-deps $(TEST_PREREQS) ## Run all tests
	$(BIN)/pytest $(TEST_PATHS) -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

bench: venv system-deps $(BENCH_TARGETS) ## Run the benchmarks and print their figures

clean: ## Remove the venv, tools and caches (the next target bootstraps them again)
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache .hypothesis data
